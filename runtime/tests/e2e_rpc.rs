//! End-to-end acceptance tests of a remote session: the stdlib scenario (`common/e2e.rs`) over
//! real HTTP on loopback, with `biscol node` serving an embedded chain in a temporary folder.
//!
//! * Over Bitcoin Core's JSON-RPC (`CoreRpcChain`, cookie authentication): every path of every
//!   stdlib contract, as on the embedded chain. On regtest the remote session asks the node to
//!   mine each confirmation it waits for (`generatetoaddress`; `biscol_generate` for the time
//!   advances). Afterwards the node hands the chain back, which must be consistent and contain
//!   every spend.
//! * Waiting by polling, with a backend that cannot mine (Esplora): a deploy that waits times
//!   out (and is recovered by the next session) when nothing mines, and confirms when another
//!   client mines meanwhile.
//! * Over Esplora (`EsploraChain`): the htlc and the two extra timelock kinds, with blocks mined
//!   through a second, JSON-RPC handle on the same node (Esplora cannot mine). This checks the
//!   Esplora backend's UTXO, status and median-time-past answers, which the timelock checks use.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::esplora::EsploraChain;
use biscol_runtime::chain::rpc::{Auth, CoreRpcChain};
use biscol_runtime::chain::{ChainBackend, TxStatus};
use biscol_runtime::node::{self, Node, NodeConfig};
use biscol_runtime::project::StateLayout;
use biscol_runtime::session::{Session, SessionError, SessionOptions, SpendOptions};
use biscol_runtime::state::InstanceStatus;
use bitcoin::{Amount, Network};
use common::e2e::{build_artifact, check_coverage, stdlib_scenario_with, Options, Report, STDLIB};

fn start_node(dir: &Path) -> Node {
    let chain = EmbeddedChain::open(dir.join("chain")).unwrap();
    let config = NodeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        auth: node::Auth::Cookie,
    };
    Node::start(chain, config).unwrap()
}

fn rpc(node: &Node) -> CoreRpcChain {
    let cookie = node.cookie_path().unwrap().to_path_buf();
    CoreRpcChain::connect(&node.rpc_url(), Auth::CookieFile(cookie), Network::Regtest).unwrap()
}

fn options(confirmation_timeout: Duration) -> SessionOptions {
    SessionOptions {
        poll_interval: Duration::from_millis(50),
        confirmation_timeout,
        ..Default::default()
    }
}

/// The chain, handed back by the node, is consistent and holds every spend of the report.
fn check_chain(chain: &EmbeddedChain, report: &Report) {
    chain.check_consistency().unwrap();
    assert!(chain.mempool_txids().is_empty());
    for s in &report.spends {
        let block = chain.block(s.height).unwrap().unwrap();
        assert!(
            block.txdata.iter().any(|tx| tx.compute_txid() == s.txid),
            "{} {}: {} is not in block {}",
            s.contract,
            s.path,
            s.txid,
            s.height
        );
    }
}

#[test]
fn stdlib_scenario_over_json_rpc() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path());
    let mut session = Session::open_remote(
        StateLayout::new(dir.path().join("state")),
        options(Duration::from_secs(60)),
        Box::new(rpc(&node)),
    )
    .unwrap();
    assert!(session.embedded().is_none());
    let report = stdlib_scenario_with(&mut session, Options::default())
        .unwrap_or_else(|e| panic!("scenario over JSON-RPC: {e}"));
    check_coverage(&report, None).unwrap();
    assert!(session.store().integrity_check().unwrap().is_empty());
    let tip = session.chain().tip().unwrap();
    drop(session);

    let chain = node.shutdown().unwrap();
    assert_eq!(chain.height(), tip.height);
    check_chain(&chain, &report);
    println!(
        "JSON-RPC e2e: {} contracts, {} paths spent ({} refused first), {} refusals, tip {}, in {:.1?}",
        report.artifacts.len(),
        report.spends.len(),
        report.spends.iter().filter(|s| s.refused_first).count(),
        report.refusals.len(),
        tip.height,
        started.elapsed()
    );
}

/// A session over a backend that cannot mine (Esplora) waits by polling: it gives up after its
/// timeout when nothing mines (the instance stays `funding`, and the next session picks it up),
/// and returns as soon as another client mines the transaction.
#[test]
fn a_session_that_cannot_mine_waits_by_polling() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path());
    let layout = || StateLayout::new(dir.path().join("state"));
    let esplora = || {
        Box::new(
            EsploraChain::connect_with_cookie(
                &node.esplora_url(),
                Network::Regtest,
                node.cookie_path().expect("cookie auth"),
            )
            .unwrap(),
        )
    };
    let (file, contract, source) = STDLIB[0];
    let htlc = build_artifact(file, source, contract).unwrap();
    let preimage = "42".repeat(32);
    let hash = {
        use bitcoin::hashes::{sha256, Hash};
        sha256::Hash::hash(&[0x42; 32]).to_string()
    };
    let args: Vec<(String, String)> = [
        ("sender", "@alice"),
        ("receiver", "@bob"),
        ("hash", hash.as_str()),
        ("timeout", "5"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();

    // Nothing mines: the wait times out, and the instance is recorded as funding.
    let pending = {
        let mut s =
            Session::open_remote(layout(), options(Duration::from_millis(300)), esplora()).unwrap();
        s.keystore().create("alice").unwrap();
        s.keystore().create("bob").unwrap();
        rpc(&node)
            .mine(101, &s.wallet_address().script_pubkey(), None)
            .unwrap();
        let t = Instant::now();
        match s.deploy(&htlc, &args, Amount::from_sat(100_000), None, true) {
            Err(SessionError::Timeout { txid }) => {
                assert!(t.elapsed() >= Duration::from_millis(300));
                assert!(t.elapsed() < Duration::from_secs(10));
                assert_eq!(s.chain().tx_status(&txid).unwrap(), TxStatus::Mempool);
            }
            other => panic!("a wait with nothing mining: {other:?}"),
        }
        let instances = s.store().instances().unwrap();
        assert_eq!(instances.len(), 1);
        assert_eq!(instances[0].status, InstanceStatus::Funding);
        instances[0].id.clone()
    };

    // A second client mines every 200 ms while the next session waits.
    let stop = Arc::new(AtomicBool::new(false));
    let miner = {
        let stop = Arc::clone(&stop);
        let mut chain = rpc(&node);
        // Any regtest output will do: a P2WSH nobody can spend.
        let spk = {
            use bitcoin::hashes::Hash;
            bitcoin::ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::from_byte_array([7; 32]))
        };
        std::thread::spawn(move || {
            let mut mined = 0;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                chain.mine(1, &spk, None).unwrap();
                mined += 1;
            }
            mined
        })
    };
    let mut s =
        Session::open_remote(layout(), options(Duration::from_secs(60)), esplora()).unwrap();
    let t = Instant::now();
    while s.instance(&pending).unwrap().status == InstanceStatus::Funding {
        assert!(t.elapsed() < Duration::from_secs(30), "never confirmed");
        std::thread::sleep(Duration::from_millis(100));
        s.reconcile().unwrap();
    }
    assert_eq!(
        s.instance(&pending).unwrap().status,
        InstanceStatus::Deployed
    );
    let d = s
        .deploy(&htlc, &args, Amount::from_sat(100_000), None, true)
        .unwrap();
    let funded = d.height.expect("a confirmation height");
    let claim = s
        .spend(
            &d.instance,
            "claim",
            &[("preimage".into(), preimage.clone())],
            &SpendOptions::default(),
        )
        .unwrap();
    assert!(claim.height.expect("a confirmation height") > funded);
    let spent = s
        .spend(&pending, "key", &[], &SpendOptions::default())
        .unwrap();
    assert!(spent.height.is_some());
    stop.store(true, Ordering::Relaxed);
    let mined = miner.join().unwrap();
    assert!(mined >= 2, "the other client mined {mined} blocks");
    for id in [&pending, &d.instance] {
        assert_eq!(
            s.instance(id).unwrap().status,
            InstanceStatus::Spent,
            "{id}"
        );
    }
    assert!(s.store().integrity_check().unwrap().is_empty());
}

/// Esplora cannot mine: blocks come from a second, JSON-RPC handle on the same node. The htlc
/// covers block locks, preimages and MuSig2; `Timelocks` covers `older(Duration)` (which needs
/// the median time past of the block before the coin's, from Esplora) and `after(Height)`.
#[test]
fn htlc_and_timelocks_over_esplora() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path());
    let esplora = EsploraChain::connect_with_cookie(
        &node.esplora_url(),
        Network::Regtest,
        node.cookie_path().expect("cookie auth"),
    )
    .unwrap();
    let mut session = Session::open_remote(
        StateLayout::new(dir.path().join("state")),
        options(Duration::from_secs(60)),
        Box::new(esplora),
    )
    .unwrap();
    match session.mine(1, None) {
        Err(SessionError::Chain(e)) => println!("Esplora does not mine, as expected: {e}"),
        other => panic!("mining through Esplora: {other:?}"),
    }
    let wallet = session.wallet_address().script_pubkey();
    let mut miner = rpc(&node);
    let only = ["Htlc", "Timelocks"];
    let options = Options {
        only: Some(only.to_vec()),
        miner: Some(Box::new(move |count, advance| {
            miner
                .mine(count, &wallet, advance)
                .map(|_| ())
                .map_err(|e| format!("mining through JSON-RPC: {e}"))
        })),
        ..Options::default()
    };
    let report = stdlib_scenario_with(&mut session, options)
        .unwrap_or_else(|e| panic!("scenario over Esplora: {e}"));
    check_coverage(&report, Some(&only)).unwrap();
    assert!(session.store().integrity_check().unwrap().is_empty());
    drop(session);
    let chain = node.shutdown().unwrap();
    check_chain(&chain, &report);
    println!(
        "Esplora e2e: {} paths spent, {} refusals, in {:.1?}",
        report.spends.len(),
        report.refusals.len(),
        started.elapsed()
    );
}
