//! `biscol node` and `CoreRpcChain`: a real HTTP server on loopback over a temporary embedded
//! chain, driven through the `ChainBackend` trait and with raw JSON-RPC requests.

#[path = "common/backend.rs"]
mod backend;
mod common;

use std::net::SocketAddr;

use backend::{
    cookie_client, http, mature_coinbases, newest_coinbase, oldest_coin, payee, raw_status,
    rejected, signed_spend, start, user_pass, user_pass_client,
};
use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::rpc::{Auth, CoreRpcChain};
use biscol_runtime::chain::{ChainBackend, ChainError, ReplacementRule, TxReject, TxStatus};
use biscol_runtime::node::{self, Node, NodeConfig};
use biscol_runtime::wallet::DEFAULT_FEE_RATE;
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Amount, Network, ScriptBuf, Sequence};
use common::scenario::{one_in_one_out, sign_p2tr_key};
use serde_json::{json, Value};

/// `user:password` in base64, for the raw requests (user `u`, password `p`: `dTpw`).
const BASIC_UP: &str = "dTpw";

struct Raw {
    addr: SocketAddr,
}

impl Raw {
    /// A JSON-RPC 1.0 call; returns the HTTP status and the response object.
    fn call1(&self, method: &str, params: Value) -> (u16, Value) {
        let body = json!({"method": method, "params": params, "id": 7}).to_string();
        let (status, body) = http(self.addr, "POST", "/", Some(BASIC_UP), &body);
        (status, serde_json::from_str(&body).unwrap())
    }

    /// A JSON-RPC 2.0 call; the result, panicking on an error.
    fn ok(&self, method: &str, params: Value) -> Value {
        let body =
            json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).to_string();
        let (status, body) = http(self.addr, "POST", "/", Some(BASIC_UP), &body);
        assert_eq!(status, 200, "{method}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["jsonrpc"], "2.0");
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }

    /// A JSON-RPC 2.0 call that must fail; its error code and message.
    fn fails(&self, method: &str, params: Value) -> (i64, String) {
        let body =
            json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).to_string();
        let (status, body) = http(self.addr, "POST", "/", Some(BASIC_UP), &body);
        assert_eq!(status, 200, "{method}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let e = &v["error"];
        (
            e["code"].as_i64().unwrap(),
            e["message"].as_str().unwrap().to_string(),
        )
    }
}

#[test]
fn scenario_through_the_trait_with_the_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let (node, keys, wallet) = start(dir.path(), node::Auth::Cookie);
    let cookie = node.cookie_path().unwrap().to_path_buf();
    assert_eq!(cookie, dir.path().join("chain").join(".cookie"));
    let text = std::fs::read_to_string(&cookie).unwrap();
    assert!(text.starts_with("__cookie__:") && text.len() == 11 + 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cookie).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut chain = cookie_client(&node);
    let c: &mut dyn ChainBackend = &mut chain;

    let hashes = wallet.mine(c, 101).unwrap();
    assert_eq!(hashes.len(), 101);
    let tip = c.tip().unwrap();
    assert_eq!(tip.height, 101);
    assert_eq!(tip.hash, hashes[100]);
    assert!(tip.time >= tip.median_time_past);
    assert_eq!(c.median_time_past_at(101).unwrap(), tip.median_time_past);
    assert_eq!(
        c.median_time_past_at(0).unwrap(),
        1_296_688_602,
        "regtest genesis"
    );
    assert!(matches!(
        c.median_time_past_at(500),
        Err(ChainError::InvalidArgument { .. })
    ));
    let coins = c.utxos(wallet.script_pubkey()).unwrap();
    assert_eq!(coins.len(), 101);
    assert!(coins.iter().all(|u| u.is_coinbase && u.height.is_some()));

    // Pay another script; the payment is in the mempool, not yet in the UTXO set.
    let to = payee(&keys);
    let f = wallet
        .fund(c, &to, Amount::from_sat(1_000_000), DEFAULT_FEE_RATE)
        .unwrap();
    assert_eq!(c.tx_status(&f.txid).unwrap(), TxStatus::Mempool);
    assert_eq!(c.transaction(&f.txid).unwrap(), Some(f.tx.clone()));
    assert!(c.utxos(&to).unwrap().is_empty(), "scantxoutset: chain only");
    let spent = f.tx.input[0].previous_output;
    assert!(
        c.utxos(wallet.script_pubkey())
            .unwrap()
            .iter()
            .all(|u| u.outpoint != spent),
        "a coin the mempool spends is not listed"
    );

    // The same transaction again: Core answers with its id.
    assert_eq!(c.broadcast(&f.tx).unwrap(), f.txid);

    let mined = wallet.mine(c, 1).unwrap();
    match c.tx_status(&f.txid).unwrap() {
        TxStatus::Confirmed {
            height,
            block_hash,
            confirmations,
        } => {
            assert_eq!((height, confirmations), (102, 1));
            assert_eq!(block_hash, mined[0]);
        }
        other => panic!("{other:?}"),
    }
    let paid = c.utxos(&to).unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].outpoint, f.outpoint);
    assert_eq!(paid[0].txout.value, Amount::from_sat(1_000_000));
    assert_eq!(paid[0].height, Some(102));
    assert!(!paid[0].is_coinbase);
    wallet.mine(c, 2).unwrap();
    assert!(matches!(
        c.tx_status(&f.txid).unwrap(),
        TxStatus::Confirmed {
            confirmations: 3,
            ..
        }
    ));
    assert_eq!(
        c.tx_status(&bitcoin::Txid::from_raw_hash(
            bitcoin::hashes::Hash::all_zeros()
        ))
        .unwrap(),
        TxStatus::Unknown
    );

    // A double spend of the coin the payment spent, now in a block.
    let mut double = f.tx.clone();
    double.output[0].value = Amount::from_sat(900_000);
    assert_eq!(
        rejected(c.broadcast(&double)),
        TxReject::SpentInChain {
            input: 0,
            outpoint: spent
        }
    );

    // A conflict with a mempool transaction that does not pay more: replacement refused.
    let signer = keys.signing_key("miner").unwrap();
    let rbf = Sequence::ENABLE_RBF_NO_LOCKTIME;
    let coin = mature_coinbases(c, &wallet)
        .into_iter()
        .max_by_key(|u| u.height)
        .unwrap();
    let first = signed_spend(&coin, to.clone(), 1_000, rbf, &signer);
    c.broadcast(&first).unwrap();
    let mine = wallet.script_pubkey().to_owned();
    let second = signed_spend(&coin, mine, 1_000, rbf, &signer);
    // The same fee fails rules 3 and 4 (no fee for the new size), checked first as in Core 31.
    match rejected(c.broadcast(&second)) {
        TxReject::ReplacementRefused {
            conflict,
            rule: ReplacementRule::AbsoluteFee { new_fee: 1_000, .. },
        } => assert_eq!(conflict, first.compute_txid()),
        other => panic!("{other:?}"),
    }

    // Spending an immature coinbase: the input and the depth come back.
    let young = newest_coinbase(c, &wallet);
    let early = signed_spend(&young, to.clone(), 1_000, rbf, &signer);
    assert_eq!(
        rejected(c.broadcast(&early)),
        TxReject::CoinbaseMaturity {
            input: 0,
            needs: 100,
            has: 1
        }
    );

    // Dust: the standardness rule with its numbers.
    let other = mature_coinbases(c, &wallet)
        .into_iter()
        .min_by_key(|u| u.height)
        .unwrap();
    let all_but_100 = other.txout.value.to_sat() - 100;
    let dust = signed_spend(&other, to.clone(), all_but_100, rbf, &signer);
    assert!(matches!(
        rejected(c.broadcast(&dust)),
        TxReject::Dust {
            output: 0,
            value: 100,
            ..
        }
    ));

    // Mining with a time advance goes through biscol_generate.
    let before = c.tip().unwrap();
    wallet.mine(c, 0).unwrap();
    let h = c.mine(1, wallet.script_pubkey(), Some(3_600)).unwrap();
    let after = c.tip().unwrap();
    assert_eq!(after.hash, h[0]);
    assert!(after.time >= before.time + 3_600);

    let chain = node.shutdown().unwrap();
    assert!(!cookie.exists(), "the cookie is removed on shutdown");
    assert_eq!(chain.height(), 105);
    chain.check_consistency().unwrap();
}

#[test]
fn user_and_password_and_wrong_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let (node, _keys, wallet) = start(dir.path(), user_pass());
    assert!(node.cookie_path().is_none());
    let url = node.rpc_url();
    let mut chain = user_pass_client(&node);
    wallet.mine(&mut chain, 3).unwrap();
    assert_eq!(chain.tip().unwrap().height, 3);

    let wrong = CoreRpcChain::connect(
        &url,
        Auth::UserPass("u".into(), "x".into()),
        Network::Regtest,
    )
    .unwrap_err();
    match &wrong {
        ChainError::Io { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied)
        }
        other => panic!("{other:?}"),
    }
    assert!(wrong.to_string().contains("HTTP 401"), "{wrong}");

    let missing = CoreRpcChain::connect(
        &url,
        Auth::CookieFile(dir.path().join("no-such-cookie")),
        Network::Regtest,
    )
    .unwrap_err();
    assert!(missing.to_string().contains("cookie"), "{missing}");

    let network = CoreRpcChain::connect(
        &url,
        Auth::UserPass("u".into(), "p".into()),
        Network::Testnet,
    )
    .unwrap_err();
    assert!(
        network.to_string().contains("runs chain 'regtest'"),
        "{network}"
    );
    // No credentials at all: 401 with a challenge, like Core.
    let (status, _) = http(node.local_addr(), "POST", "/", None, "{}");
    assert_eq!(status, 401);
    // Only loopback addresses are served.
    let outside = NodeConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        auth: node::Auth::Cookie,
    };
    let chain2 = EmbeddedChain::open(dir.path().join("chain2")).unwrap();
    assert!(matches!(
        Node::start(chain2, outside),
        Err(node::NodeError::Bind { .. })
    ));
    node.shutdown().unwrap();
}

#[test]
fn malformed_requests_get_json_rpc_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (node, _keys, _wallet) = start(dir.path(), user_pass());
    let addr = node.local_addr();
    let (status, body) = http(addr, "POST", "/", Some(BASIC_UP), "{not json");
    assert_eq!(status, 500);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], -32700);
    let (status, body) = http(addr, "POST", "/", Some(BASIC_UP), "42");
    assert_eq!(status, 400);
    assert!(body.contains("-32600"));
    let raw = Raw { addr };
    let (status, v) = raw.call1("nosuchmethod", json!([]));
    assert_eq!(status, 404);
    assert_eq!(v["error"]["code"], -32601);
    assert_eq!(v["error"]["message"], "Method not found");
    assert_eq!(v["id"], 7);
    assert_eq!(raw.fails("getblockhash", json!([])).0, -1);
    assert_eq!(raw.fails("getblockhash", json!(["x"])).0, -3);
    assert_eq!(raw.fails("getblockhash", json!([99])).0, -8);
    assert_eq!(raw.fails("getblockheader", json!(["00"])).0, -8);
    assert_eq!(raw.fails("sendrawtransaction", json!(["zz"])).0, -22);
    assert_eq!(raw.fails("generatetoaddress", json!([1, "nope"])).0, -5);
    // A body claimed over 4 MiB is refused without being read (only the headers are sent: a
    // client still writing the body when the node answers and closes gets a broken pipe).
    let claim = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {BASIC_UP}\r\nContent-Length: {}\r\n\r\n",
        node::MAX_BODY + 1
    );
    assert_eq!(raw_status(addr, claim.as_bytes()), 413);
    // The node still answers.
    assert_eq!(raw.ok("getblockcount", json!([])), json!(0));
    // /wallet/<name> is tolerated; a batch answers each request.
    let (status, body) = http(
        addr,
        "POST",
        "/wallet/w",
        Some(BASIC_UP),
        r#"[{"jsonrpc":"2.0","method":"getblockcount","id":1},{"jsonrpc":"2.0","method":"nope","id":2}]"#,
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["result"], 0);
    assert_eq!(v[1]["error"]["code"], -32601);
    node.shutdown().unwrap();
}

#[test]
fn core_response_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let (node, keys, wallet) = start(dir.path(), user_pass());
    let raw = Raw {
        addr: node.local_addr(),
    };
    let addr = wallet.address(Network::Regtest).to_string();
    let mined = raw.ok("generatetoaddress", json!([101, addr]));
    assert_eq!(mined.as_array().unwrap().len(), 101);

    let info = raw.ok("getblockchaininfo", json!([]));
    assert_eq!(info["chain"], "regtest");
    assert_eq!(info["blocks"], 101);
    assert_eq!(info["headers"], 101);
    assert_eq!(info["bestblockhash"], mined[100]);
    for k in [
        "difficulty",
        "mediantime",
        "time",
        "chainwork",
        "verificationprogress",
    ] {
        assert!(info.get(k).is_some(), "{k}");
    }
    assert_eq!(raw.ok("getblockcount", json!([])), 101);
    assert_eq!(raw.ok("getbestblockhash", json!([])), mined[100]);
    assert_eq!(raw.ok("getblockhash", json!([1])), mined[0]);
    // Named parameters.
    assert_eq!(raw.ok("getblockhash", json!({"height": 1})), mined[0]);

    let h = raw.ok("getblockheader", json!([mined[99]]));
    assert_eq!(h["height"], 100);
    assert_eq!(h["confirmations"], 2);
    assert_eq!(h["nextblockhash"], mined[100]);
    assert_eq!(h["previousblockhash"], mined[98]);
    assert_eq!(h["bits"], "207fffff");
    assert!(h["time"].as_u64().unwrap() >= h["mediantime"].as_u64().unwrap());
    let hex = raw.ok("getblockheader", json!([mined[99], false]));
    assert_eq!(hex.as_str().unwrap().len(), 160);
    assert_eq!(raw.fails("getblockheader", json!(["00".repeat(32)])).0, -5);

    let block_hex = raw.ok("getblock", json!([mined[0], 0]));
    let block: bitcoin::Block =
        bitcoin::consensus::encode::deserialize_hex(block_hex.as_str().unwrap()).unwrap();
    assert_eq!(block.block_hash().to_string(), mined[0].as_str().unwrap());
    let b1 = raw.ok("getblock", json!([mined[0]]));
    let coinbase_txid = block.txdata[0].compute_txid().to_string();
    assert_eq!(b1["tx"][0], coinbase_txid.as_str());
    let b2 = raw.ok("getblock", json!([mined[0], 2]));
    assert_eq!(b2["tx"][0]["txid"], coinbase_txid.as_str());

    // A signed transaction, tested then sent.
    let signer = keys.signing_key("miner").unwrap();
    let coin = block.txdata[0].output[0].clone();
    let outpoint = bitcoin::OutPoint {
        txid: block.txdata[0].compute_txid(),
        vout: 0,
    };
    let to = payee(&keys);
    let mut tx = one_in_one_out(
        outpoint,
        coin.value,
        to.clone(),
        2_000,
        Sequence::ENABLE_RBF_NO_LOCKTIME,
    );
    sign_p2tr_key(&mut tx, std::slice::from_ref(&coin), &signer);
    let txid = tx.compute_txid().to_string();
    let hex = serialize_hex(&tx);
    let before = raw.ok("getrawmempool", json!([]));
    let accept = raw.ok("testmempoolaccept", json!([[hex]]));
    assert_eq!(accept[0]["txid"], txid.as_str());
    assert_eq!(accept[0]["allowed"], true);
    assert_eq!(accept[0]["fees"]["base"], json!(0.00002));
    assert!(accept[0]["vsize"].as_u64().unwrap() > 0);
    assert_eq!(
        raw.ok("getrawmempool", json!([])),
        before,
        "testmempoolaccept leaves the mempool alone"
    );
    let mut bad = tx.clone();
    bad.output[0].value = coin.value + Amount::from_sat(1);
    let refused = raw.ok("testmempoolaccept", json!([[serialize_hex(&bad)]]));
    assert_eq!(refused[0]["allowed"], false);
    assert_eq!(refused[0]["reject-reason"], "bad-txns-in-belowout");

    assert_eq!(raw.ok("sendrawtransaction", json!([hex])), txid.as_str());
    assert_eq!(raw.ok("getrawmempool", json!([])), json!([txid]));
    let verbose = raw.ok("getrawmempool", json!([true]));
    assert_eq!(verbose[&txid]["fees"]["base"], json!(0.00002));
    let entry = raw.ok("getmempoolentry", json!([txid]));
    assert!(entry["vsize"].as_u64().unwrap() > 0);
    let again = raw.ok("testmempoolaccept", json!([[hex]]));
    assert_eq!(again[0]["reject-reason"], "txn-already-in-mempool");
    assert_eq!(
        raw.ok("gettxout", json!([outpoint.txid.to_string(), 0])),
        Value::Null,
        "spent in the mempool"
    );
    let unconfirmed = raw.ok("gettxout", json!([txid, 0]));
    assert_eq!(unconfirmed["confirmations"], 0);
    let spending = raw.ok(
        "gettxspendingprevout",
        json!([[{"txid": outpoint.txid.to_string(), "vout": 0}]]),
    );
    assert_eq!(spending[0]["spendingtxid"], txid.as_str());

    // Rejections with Core's codes.
    let (code, message) = raw.fails("sendrawtransaction", json!([serialize_hex(&bad)]));
    assert_eq!(code, -26);
    assert!(
        message.starts_with("bad-txns-in-belowout, value in (50.00) < value out (50.00000001)"),
        "{message}"
    );

    let in_mempool = raw.ok("getrawtransaction", json!([txid, true]));
    assert_eq!(in_mempool["txid"], txid.as_str());
    assert!(in_mempool.get("confirmations").is_none());
    let hashes = raw.ok("generatetoaddress", json!([1, addr]));
    let conf = raw.ok("getrawtransaction", json!([txid, 1]));
    assert_eq!(conf["blockhash"], hashes[0]);
    assert_eq!(conf["confirmations"], 1);
    assert_eq!(conf["vout"][0]["value"], json!(49.99998));
    assert_eq!(
        conf["vout"][0]["scriptPubKey"]["type"],
        "witness_v1_taproot"
    );
    assert!(conf["vin"][0]["txinwitness"].is_array());
    assert_eq!(
        raw.ok("getrawtransaction", json!([txid, false])),
        json!(hex)
    );
    let in_block = raw.ok("getrawtransaction", json!([txid, true, hashes[0]]));
    assert_eq!(in_block["in_active_chain"], true);
    assert_eq!(
        raw.fails("getrawtransaction", json!([txid, true, mined[0]]))
            .0,
        -5
    );
    assert_eq!(
        raw.fails("getrawtransaction", json!(["11".repeat(32)])).0,
        -5
    );
    let (code, _) = raw.fails("sendrawtransaction", json!([hex]));
    assert_eq!(code, -27, "already in the chain");
    let mut double = tx.clone();
    double.output[0].value = Amount::from_sat(1_000);
    let (code, message) = raw.fails("sendrawtransaction", json!([serialize_hex(&double)]));
    assert_eq!(
        (code, message.as_str()),
        (-25, "bad-txns-inputs-missingorspent")
    );

    let out = raw.ok("gettxout", json!([txid, 0, false]));
    assert_eq!(out["confirmations"], 1);
    assert_eq!(out["coinbase"], false);
    assert_eq!(out["value"], json!(49.99998));
    assert_eq!(out["bestblock"], hashes[0]);

    // scantxoutset with raw() and addr() descriptors.
    let spk_hex = hex::encode(to.as_bytes());
    let payee_addr = bitcoin::Address::from_script(&to, Network::Regtest)
        .unwrap()
        .to_string();
    for desc in [format!("raw({spk_hex})"), format!("addr({payee_addr})")] {
        let scan = raw.ok("scantxoutset", json!(["start", [desc]]));
        assert_eq!(scan["success"], true);
        assert_eq!(scan["height"], 102);
        assert_eq!(scan["bestblock"], hashes[0]);
        assert_eq!(scan["total_amount"], json!(49.99998));
        let u = &scan["unspents"][0];
        assert_eq!(u["txid"], txid.as_str());
        assert_eq!(u["vout"], 0);
        assert_eq!(u["scriptPubKey"], spk_hex.as_str());
        assert_eq!(u["amount"], json!(49.99998));
        assert_eq!(u["coinbase"], false);
        assert_eq!(u["height"], 102);
        assert!(u["desc"].as_str().unwrap().contains('#'));
        assert!(scan["txouts"].as_u64().unwrap() > 100);
    }
    let (code, _) = raw.fails("scantxoutset", json!(["start", ["pkh(xyz)"]]));
    assert_eq!(code, -5);

    // biscol_generate moves the clock.
    let t0 = raw.ok("getblockchaininfo", json!([]))["time"]
        .as_u64()
        .unwrap();
    raw.ok("biscol_generate", json!([1, addr, 7_200]));
    let t1 = raw.ok("getblockchaininfo", json!([]))["time"]
        .as_u64()
        .unwrap();
    assert!(t1 >= t0 + 7_200);
    node.shutdown().unwrap();
}

#[test]
fn testmempoolaccept_through_core_rpc_client_keeps_the_mempool() {
    let dir = tempfile::tempdir().unwrap();
    let (node, keys, wallet) = start(dir.path(), node::Auth::Cookie);
    let mut chain = cookie_client(&node);
    wallet.mine(&mut chain, 101).unwrap();
    let coin = oldest_coin(&chain, &wallet);
    let signer = keys.signing_key("miner").unwrap();
    let rbf = Sequence::ENABLE_RBF_NO_LOCKTIME;
    let tx = signed_spend(&coin, payee(&keys), 500, rbf, &signer);
    let cookie = std::fs::read_to_string(node.cookie_path().unwrap()).unwrap();
    let basic = {
        // The test computes base64 by hand rather than depend on a crate for it.
        let b = cookie.as_bytes();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for ch in b.chunks(3) {
            let n = (u32::from(ch[0]) << 16)
                | (u32::from(*ch.get(1).unwrap_or(&0)) << 8)
                | u32::from(*ch.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= ch.len() {
                    s.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    };
    let body = json!({"method": "testmempoolaccept", "params": [[serialize_hex(&tx)]], "id": 1})
        .to_string();
    let (status, out) = http(node.local_addr(), "POST", "/", Some(&basic), &body);
    assert_eq!(status, 200, "{out}");
    assert!(out.contains("\"allowed\":true"), "{out}");
    assert_eq!(
        chain.tx_status(&tx.compute_txid()).unwrap(),
        TxStatus::Unknown
    );
    chain.broadcast(&tx).unwrap();
    assert_eq!(
        chain.tx_status(&tx.compute_txid()).unwrap(),
        TxStatus::Mempool
    );
    let embedded = node.shutdown().unwrap();
    assert_eq!(embedded.mempool_txids(), vec![tx.compute_txid()]);
}

#[test]
fn the_node_runs_in_the_foreground_until_told_to_stop() {
    let dir = tempfile::tempdir().unwrap();
    let chain = EmbeddedChain::open(dir.path().join("chain")).unwrap();
    let config = NodeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        auth: node::Auth::Cookie,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            Node::run_until(
                chain,
                config,
                |n| {
                    tx.send((n.rpc_url(), n.cookie_path().unwrap().to_path_buf()))
                        .unwrap()
                },
                || stop.load(std::sync::atomic::Ordering::SeqCst),
            )
        });
        let (url, cookie) = rx.recv().unwrap();
        let c = CoreRpcChain::connect(&url, Auth::CookieFile(cookie.clone()), Network::Regtest)
            .unwrap();
        assert_eq!(c.tip().unwrap().height, 0);
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let chain = h.join().unwrap().unwrap();
        assert_eq!(chain.height(), 0);
        assert!(!cookie.exists());
    });
    // The folder is free again once the node is gone.
    EmbeddedChain::open(dir.path().join("chain")).unwrap();
}

#[test]
fn rejections_come_back_with_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (node, keys, wallet) = start(dir.path(), user_pass());
    let mut chain = user_pass_client(&node);
    let c: &mut dyn ChainBackend = &mut chain;
    wallet.mine(c, 101).unwrap();
    let signer = keys.signing_key("miner").unwrap();
    let to = payee(&keys);
    let coin = oldest_coin(c, &wallet);
    let tip = c.tip().unwrap();
    let rbf = Sequence::ENABLE_RBF_NO_LOCKTIME;

    // No fee at all.
    let tx = signed_spend(&coin, to.clone(), 0, rbf, &signer);
    let vsize = tx.weight().to_wu().div_ceil(4);
    assert_eq!(
        rejected(c.broadcast(&tx)),
        TxReject::FeeTooLow { fee: 0, min: vsize }
    );

    // More out than in (amounts are checked before scripts, so no signature is needed).
    let mut tx = one_in_one_out(coin.outpoint, coin.txout.value, to.clone(), 0, rbf);
    tx.output[0].value = coin.txout.value + Amount::from_sat(1);
    assert_eq!(
        rejected(c.broadcast(&tx)),
        TxReject::ValueCreation {
            inputs: coin.txout.value.to_sat(),
            outputs: coin.txout.value.to_sat() + 1
        }
    );

    // nLockTime in the future.
    let mut tx = one_in_one_out(coin.outpoint, coin.txout.value, to.clone(), 1_000, rbf);
    tx.lock_time = bitcoin::absolute::LockTime::from_height(tip.height + 10).unwrap();
    assert_eq!(
        rejected(c.broadcast(&tx)),
        TxReject::NonFinal {
            lock_time: tip.height + 10,
            next_height: tip.height + 1,
            median_time_past: tip.median_time_past
        }
    );

    // A signature by the wrong key: the script engine's error for input 0.
    let wrong_key = keys.signing_key("payee").unwrap();
    let tx = signed_spend(&coin, to.clone(), 1_000, rbf, &wrong_key);
    assert!(matches!(
        rejected(c.broadcast(&tx)),
        TxReject::Script { input: 0, .. }
    ));

    // BIP68 locks, height and time, recomputed from the coins' confirmations.
    let blocks = Sequence::from_height(5);
    let time = Sequence::from_512_second_intervals(4);
    let by_height = common::scenario::csv_script(blocks, &signer);
    let by_time = common::scenario::csv_script(time, &signer);
    let amount = Amount::from_sat(100_000);
    let fh = wallet
        .fund(
            c,
            &ScriptBuf::new_p2wsh(&by_height.wscript_hash()),
            amount,
            DEFAULT_FEE_RATE,
        )
        .unwrap();
    wallet.mine(c, 1).unwrap();
    let ft = wallet
        .fund(
            c,
            &ScriptBuf::new_p2wsh(&by_time.wscript_hash()),
            amount,
            DEFAULT_FEE_RATE,
        )
        .unwrap();
    wallet.mine(c, 1).unwrap();
    let tx = one_in_one_out(fh.outpoint, amount, to.clone(), 1_000, blocks);
    assert_eq!(
        rejected(c.broadcast(&tx)),
        TxReject::RelativeHeightLock {
            input: 0,
            needs: 5,
            has: 2
        }
    );
    let tip = c.tip().unwrap();
    let base = c.median_time_past_at(tip.height - 1).unwrap();
    let tx = one_in_one_out(ft.outpoint, amount, to.clone(), 1_000, time);
    assert_eq!(
        rejected(c.broadcast(&tx)),
        TxReject::RelativeTimeLock {
            input: 0,
            needs_seconds: 4 * 512,
            has_seconds: tip.median_time_past - base
        }
    );
    node.shutdown().unwrap();
}
