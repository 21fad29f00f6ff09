//! Set-up and steps shared by the chain-backend tests (`chain.rs`, `rpc.rs`, `esplora.rs`):
//! a `biscol node` over a temporary embedded chain with its keystore and wallet, clients for
//! it, raw HTTP requests, the rejection a broadcast came back with, and signed one-input
//! spends of the wallet's coinbases.
//!
//! Included with `#[path]` by the files that use it, next to their `mod common;` (whose
//! `scenario` builds and signs the transactions).

#![allow(dead_code)] // Reason: each includer uses a different part.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::rpc::{Auth, CoreRpcChain};
use biscol_runtime::chain::{ChainBackend, ChainError, TxReject, Utxo};
use biscol_runtime::keystore::{Keystore, SigningKey};
use biscol_runtime::node::{self, Node, NodeConfig};
use biscol_runtime::wallet::Wallet;
use bitcoin::{Network, ScriptBuf, Sequence, Transaction};

use crate::common::scenario::{one_in_one_out, sign_p2tr_key};

/// Starts a node on a loopback port over a new embedded chain in `dir/chain`, with a keystore
/// in `dir/keys` holding `miner` (the wallet's key) and `payee`.
pub fn start(dir: &Path, auth: node::Auth) -> (Node, Keystore, Wallet) {
    let keys = Keystore::open(dir.join("keys")).unwrap();
    keys.create("miner").unwrap();
    keys.create("payee").unwrap();
    let wallet = Wallet::new(&keys, "miner").unwrap();
    let chain = EmbeddedChain::open(dir.join("chain")).unwrap();
    let config = NodeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        auth,
    };
    (Node::start(chain, config).unwrap(), keys, wallet)
}

/// The node's user-and-password credentials, user `u` and password `p`.
pub fn user_pass() -> node::Auth {
    node::Auth::UserPass {
        user: "u".into(),
        password: "p".into(),
    }
}

/// The BIP86 output of the keystore's `payee` key.
pub fn payee(keys: &Keystore) -> ScriptBuf {
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    ScriptBuf::new_p2tr(&secp, keys.show("payee").unwrap().x_only(), None)
}

/// A regtest RPC client of `node` that authenticates with its cookie file.
pub fn cookie_client(node: &Node) -> CoreRpcChain {
    let cookie = node.cookie_path().unwrap().to_path_buf();
    CoreRpcChain::connect(&node.rpc_url(), Auth::CookieFile(cookie), Network::Regtest).unwrap()
}

/// A regtest RPC client of `node` that authenticates as [`user_pass`].
pub fn user_pass_client(node: &Node) -> CoreRpcChain {
    CoreRpcChain::connect(
        &node.rpc_url(),
        Auth::UserPass("u".into(), "p".into()),
        Network::Regtest,
    )
    .unwrap()
}

/// A hand-written HTTP/1.1 request; returns the status and the body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: Basic {a}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Sends `request` as raw bytes and returns the status of the answer (0 when the node closed
/// the connection without one, or did not close it within 20 s).
pub fn raw_status(addr: SocketAddr, request: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The node may answer and close before taking all of it; that is its right.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    // The node must also close the connection: a refusal that leaves the body unread must not
    // keep the client waiting for a next answer. A read timeout counts as no answer.
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(_) => return 0,
    }
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The reason a broadcast was rejected; panics when it was not.
pub fn rejected(r: Result<bitcoin::Txid, ChainError>) -> TxReject {
    match r {
        Err(ChainError::Rejected { reason, .. }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// The wallet's coins on `chain` (without those the mempool spends).
pub fn wallet_coins(chain: &dyn ChainBackend, wallet: &Wallet) -> Vec<Utxo> {
    chain.utxos(wallet.script_pubkey()).unwrap()
}

/// The wallet's oldest coin.
pub fn oldest_coin(chain: &dyn ChainBackend, wallet: &Wallet) -> Utxo {
    let coins = wallet_coins(chain, wallet).into_iter();
    coins.min_by_key(|u| u.height).unwrap()
}

/// The wallet's coinbase outputs that the next block may spend (100 confirmations).
pub fn mature_coinbases(chain: &dyn ChainBackend, wallet: &Wallet) -> Vec<Utxo> {
    let next = chain.tip().unwrap().height + 1;
    let coins = wallet_coins(chain, wallet).into_iter();
    coins
        .filter(|u| u.is_coinbase && next - u.height.unwrap() >= 100)
        .collect()
}

/// The wallet's most recent coinbase output, mature or not.
pub fn newest_coinbase(chain: &dyn ChainBackend, wallet: &Wallet) -> Utxo {
    let coins = wallet_coins(chain, wallet).into_iter();
    coins
        .filter(|u| u.is_coinbase)
        .max_by_key(|u| u.height)
        .unwrap()
}

/// A spend of `coin` (a BIP86 output of `key`) to `to` paying `fee` sats, signed on the key
/// path.
pub fn signed_spend(
    coin: &Utxo,
    to: ScriptBuf,
    fee: u64,
    sequence: Sequence,
    key: &SigningKey,
) -> Transaction {
    let mut tx = one_in_one_out(coin.outpoint, coin.txout.value, to, fee, sequence);
    sign_p2tr_key(&mut tx, std::slice::from_ref(&coin.txout), key);
    tx
}
