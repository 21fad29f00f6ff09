//! `EsploraChain` against `biscol node`'s `/esplora` endpoint: a real HTTP server on loopback
//! over a temporary embedded chain. Blocks are mined through a `CoreRpcChain` to the same node.

#[path = "common/backend.rs"]
mod backend;
mod common;

use std::net::SocketAddr;

use backend::{
    cookie_client, http, mature_coinbases, newest_coinbase, payee, rejected, signed_spend, start,
    user_pass, user_pass_client,
};
use biscol_runtime::chain::esplora::EsploraChain;
use biscol_runtime::chain::{ChainBackend, ChainError, ReplacementRule, TxReject, TxStatus};
use biscol_runtime::node;
use biscol_runtime::wallet::DEFAULT_FEE_RATE;
use bitcoin::{Amount, Network, Sequence};

/// A GET request to the node; its status and body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(addr, "GET", path, None, "")
}

#[test]
fn scenario_through_esplora() {
    let dir = tempfile::tempdir().unwrap();
    let (node, keys, wallet) = start(dir.path(), node::Auth::Cookie);
    let to = payee(&keys);
    let mut miner = cookie_client(&node);
    let mut esplora = EsploraChain::connect_with_cookie(
        &node.esplora_url(),
        Network::Regtest,
        node.cookie_path().expect("cookie auth"),
    )
    .unwrap();
    let e: &mut dyn ChainBackend = &mut esplora;

    let hashes = wallet.mine(&mut miner, 101).unwrap();
    let tip = e.tip().unwrap();
    assert_eq!(tip, miner.tip().unwrap());
    assert_eq!((tip.height, tip.hash), (101, hashes[100]));
    assert_eq!(e.median_time_past_at(101).unwrap(), tip.median_time_past);
    assert_eq!(e.median_time_past_at(0).unwrap(), 1_296_688_602);
    assert_eq!(
        e.median_time_past_at(50).unwrap(),
        miner.median_time_past_at(50).unwrap()
    );
    assert!(matches!(
        e.median_time_past_at(500),
        Err(ChainError::InvalidArgument { .. })
    ));
    let coins = e.utxos(wallet.script_pubkey()).unwrap();
    assert_eq!(coins.len(), 101);
    assert!(coins.iter().all(|u| u.is_coinbase && u.height.is_some()));
    assert!(matches!(
        e.mine(1, wallet.script_pubkey(), None),
        Err(ChainError::Unsupported { .. })
    ));

    // Pay through Esplora: the payment and the change are listed while unconfirmed.
    let f = wallet
        .fund(e, &to, Amount::from_sat(1_000_000), DEFAULT_FEE_RATE)
        .unwrap();
    assert_eq!(e.tx_status(&f.txid).unwrap(), TxStatus::Mempool);
    assert_eq!(e.transaction(&f.txid).unwrap(), Some(f.tx.clone()));
    let pending = e.utxos(&to).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].height, None);
    let spent = f.tx.input[0].previous_output;
    assert!(e
        .utxos(wallet.script_pubkey())
        .unwrap()
        .iter()
        .all(|u| u.outpoint != spent));

    let mined = wallet.mine(&mut miner, 1).unwrap();
    let e: &mut dyn ChainBackend = &mut esplora;
    assert_eq!(
        e.tx_status(&f.txid).unwrap(),
        TxStatus::Confirmed {
            height: 102,
            block_hash: mined[0],
            confirmations: 1
        }
    );
    let paid = e.utxos(&to).unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].outpoint, f.outpoint);
    assert_eq!(paid[0].height, Some(102));
    assert!(!paid[0].is_coinbase);
    assert_eq!(
        e.tx_status(&bitcoin::Txid::from_raw_hash(
            bitcoin::hashes::Hash::all_zeros()
        ))
        .unwrap(),
        TxStatus::Unknown
    );
    assert_eq!(
        e.transaction(&bitcoin::Txid::from_raw_hash(
            bitcoin::hashes::Hash::all_zeros()
        ))
        .unwrap(),
        None
    );

    // Double spend of a coin spent in a block.
    let mut double = f.tx.clone();
    double.output[0].value = Amount::from_sat(900_000);
    assert_eq!(
        rejected(e.broadcast(&double)),
        TxReject::SpentInChain {
            input: 0,
            outpoint: spent
        }
    );

    // A mempool conflict that does not pay more.
    let signer = keys.signing_key("miner").unwrap();
    let rbf = Sequence::ENABLE_RBF_NO_LOCKTIME;
    let coin = mature_coinbases(e, &wallet)
        .into_iter()
        .max_by_key(|u| u.height)
        .unwrap();
    let first = signed_spend(&coin, to.clone(), 1_000, rbf, &signer);
    assert_eq!(e.broadcast(&first).unwrap(), first.compute_txid());
    let mine = wallet.script_pubkey().to_owned();
    let second = signed_spend(&coin, mine.clone(), 1_000, rbf, &signer);
    // The same fee fails rules 3 and 4 (no fee for the new size), checked first as in Core 31.
    match rejected(e.broadcast(&second)) {
        TxReject::ReplacementRefused {
            conflict,
            rule: ReplacementRule::AbsoluteFee { new_fee, needs },
        } => {
            assert_eq!(conflict, first.compute_txid());
            assert_eq!(new_fee, 1_000);
            assert_eq!(needs, 1_000 + second.vsize() as u64);
        }
        other => panic!("{other:?}"),
    }
    // Paying more replaces it.
    let third = signed_spend(&coin, mine, 5_000, rbf, &signer);
    e.broadcast(&third).unwrap();
    assert_eq!(
        e.tx_status(&first.compute_txid()).unwrap(),
        TxStatus::Unknown
    );

    // An immature coinbase.
    let young = newest_coinbase(e, &wallet);
    let early = signed_spend(&young, to.clone(), 1_000, rbf, &signer);
    assert_eq!(
        rejected(e.broadcast(&early)),
        TxReject::CoinbaseMaturity {
            input: 0,
            needs: 100,
            has: 1
        }
    );

    // Mining with a time advance, through the RPC client; Esplora sees the new times.
    let before = e.tip().unwrap();
    miner.mine(1, wallet.script_pubkey(), Some(4_000)).unwrap();
    let after = esplora.tip().unwrap();
    assert_eq!(after.height, before.height + 1);
    assert!(after.time >= before.time + 4_000);

    node.shutdown().unwrap();
}

#[test]
fn esplora_client_shapes_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (node, _keys, wallet) = start(dir.path(), user_pass());
    let mut miner = user_pass_client(&node);
    let hashes = wallet.mine(&mut miner, 101).unwrap();

    let wrong = EsploraChain::connect(&node.esplora_url(), Network::Testnet).unwrap_err();
    assert!(
        matches!(wrong, ChainError::InvalidArgument { .. }),
        "{wrong}"
    );
    let nowhere = EsploraChain::connect("http://127.0.0.1:1", Network::Regtest).unwrap_err();
    assert!(matches!(nowhere, ChainError::Io { .. }), "{nowhere}");

    // The client's own calls, parsed by the client (with the node's credentials, which its
    // broadcast needs; `node_auth.rs` tests the refusal without them).
    let basic = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("u:p")
        )
    };
    let client = esplora_client::Builder::new(&node.esplora_url())
        .header("Authorization", &basic)
        .build_blocking();
    assert_eq!(client.get_height().unwrap(), 101);
    assert_eq!(client.get_tip_hash().unwrap(), hashes[100]);
    assert_eq!(client.get_block_hash(1).unwrap(), hashes[0]);
    let header = client.get_header_by_hash(&hashes[0]).unwrap();
    assert_eq!(header.block_hash(), hashes[0]);
    let status = client.get_block_status(&hashes[0]).unwrap();
    assert!(status.in_best_chain);
    assert_eq!(status.height, Some(1));
    assert_eq!(status.next_best, Some(hashes[1]));
    let block = client.get_block_by_hash(&hashes[0]).unwrap().unwrap();
    assert_eq!(block.block_hash(), hashes[0]);
    let info = client.get_block_info(&hashes[100]).unwrap();
    assert_eq!(info.height, 101);
    assert_eq!(info.previousblockhash, Some(hashes[99]));
    let cb = block.txdata[0].compute_txid();
    assert_eq!(
        client.get_txid_at_block_index(&hashes[0], 0).unwrap(),
        Some(cb)
    );
    assert_eq!(client.get_block_txids(&hashes[0]).unwrap(), vec![cb]);
    let tx = client.get_tx_info(&cb).unwrap().unwrap();
    assert!(tx.vin[0].is_coinbase);
    assert_eq!(tx.fee, 0);
    assert_eq!(tx.status.block_height, Some(1));
    assert_eq!(tx.to_tx(), block.txdata[0]);
    let st = client.get_tx_status(&cb).unwrap();
    assert!(st.confirmed);
    assert_eq!(st.block_hash, Some(hashes[0]));
    let unknown = bitcoin::Txid::from_raw_hash(bitcoin::hashes::Hash::all_zeros());
    assert!(!client.get_tx_status(&unknown).unwrap().confirmed);
    assert_eq!(client.get_tx(&unknown).unwrap(), None);
    let by_address = client
        .get_address_utxos(&wallet.address(Network::Regtest))
        .unwrap();
    assert_eq!(by_address.len(), 101);
    let by_script = client.get_scripthash_utxos(wallet.script_pubkey()).unwrap();
    assert_eq!(by_script, by_address);
    let out = client.get_output_status(&cb, 0).unwrap().unwrap();
    assert!(!out.spent);
    assert!(client.get_mempool_txids().unwrap().is_empty());

    // Raw paths: text answers, 404s and 400s, never a crash.
    let addr = node.local_addr();
    let (status, body) = get(addr, &format!("/esplora/tx/{cb}/hex"));
    assert_eq!(status, 200);
    assert_eq!(
        body,
        bitcoin::consensus::encode::serialize_hex(&block.txdata[0])
    );
    assert_eq!(get(addr, "/esplora/tx/zz").0, 400);
    assert_eq!(get(addr, &format!("/esplora/tx/{unknown}")).0, 404);
    assert_eq!(get(addr, "/esplora/block-height/999").0, 404);
    assert_eq!(get(addr, "/esplora/address/notanaddress/utxo").0, 400);
    assert_eq!(get(addr, "/esplora/nothing/here").0, 404);

    // A rejected broadcast: electrs's error text with Core's code and message (sent by hand:
    // esplora-client 0.12's blocking client does not put its headers on POST requests).
    let mut bad = block.txdata[0].clone();
    bad.input[0].previous_output.vout = 0;
    let token = basic.trim_start_matches("Basic ");
    let hex = bitcoin::consensus::encode::serialize_hex(&bad);
    let (status, message) = http(addr, "POST", "/esplora/tx", Some(token), &hex);
    assert_eq!(status, 400, "{message}");
    assert!(
        message.contains("sendrawtransaction RPC error: {"),
        "{message}"
    );
    // The same through the chain backend: a refusal, not an HTTP error.
    let mut chain =
        EsploraChain::connect_with_auth(&node.esplora_url(), Network::Regtest, Some(("u", "p")))
            .unwrap();
    assert!(matches!(
        chain.broadcast(&bad),
        Err(ChainError::Rejected { .. })
    ));
    node.shutdown().unwrap();
}
