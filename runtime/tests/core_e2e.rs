//! The stdlib end-to-end scenario (`common/e2e.rs`) through the JSON-RPC backend
//! (`CoreRpcChain`) against a real regtest Bitcoin Core node (`common/bitcoind.rs`).
//!
//! Every stdlib contract and `Timelocks`, every path spent once, every timelocked path refused
//! before its time (by the spend engine, from the numbers Core reports) and accepted after.
//! Funding: the session asks Core to mine 101 blocks to the biscol wallet's address
//! (`generatetoaddress`; the node has no wallet). Time advances: Core has no `biscol_generate`,
//! so `CoreRpcChain::mine` moves Core's clock with `setmocktime` and mines.
//!
//! How Core's reject reasons map to `TxReject`s is checked in `core_agreement.rs`.
//!
//! Skipped (printing why) when no `bitcoind` is found; CI sets `BISCOL_REQUIRE_BITCOIND=1`.

// The node harness is not in `common/mod.rs`: the oracle crate includes that file and has no
// `corepc-node`.
#[path = "common/bitcoind.rs"]
mod bitcoind;
mod common;

use std::time::{Duration, Instant};

use biscol_runtime::chain::rpc::{Auth, CoreRpcChain};
use biscol_runtime::chain::TxStatus;
use biscol_runtime::project::StateLayout;
use biscol_runtime::session::{Session, SessionOptions};
use bitcoin::Network;
use bitcoind::CoreNode;
use common::e2e::{check_coverage, stdlib_scenario_with, Options};
use serde_json::json;

fn rpc(core: &CoreNode) -> CoreRpcChain {
    CoreRpcChain::connect(
        &core.rpc_url(),
        Auth::CookieFile(core.cookie_file().to_path_buf()),
        Network::Regtest,
    )
    .unwrap()
}

fn options() -> SessionOptions {
    SessionOptions {
        poll_interval: Duration::from_millis(50),
        confirmation_timeout: Duration::from_secs(60),
        ..Default::default()
    }
}

#[test]
fn stdlib_scenario_against_bitcoin_core() {
    let Some(core) = CoreNode::start("stdlib_scenario_against_bitcoin_core") else {
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut session = Session::open_remote(
        StateLayout::new(dir.path().join("state")),
        options(),
        Box::new(rpc(&core)),
    )
    .unwrap();
    let report = stdlib_scenario_with(&mut session, Options::default())
        .unwrap_or_else(|e| panic!("scenario against Bitcoin Core: {e}"));
    check_coverage(&report, None).unwrap();
    assert!(session.store().integrity_check().unwrap().is_empty());

    // Core agrees on every spend: confirmed in the block the store recorded.
    for s in &report.spends {
        match session.chain().tx_status(&s.txid).unwrap() {
            TxStatus::Confirmed { height, .. } => assert_eq!(height, s.height, "{s:?}"),
            other => panic!("{} {}: Core says {other:?}", s.contract, s.path),
        }
    }
    let tip = session.chain().tip().unwrap();
    let info = core.must("getblockchaininfo", &[]);
    assert_eq!(info["bestblockhash"], json!(tip.hash.to_string()));
    assert_eq!(core.must("getrawmempool", &[]), json!([]));
    // The scenario's time advances moved Core's clock past the wall clock.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        u64::from(tip.median_time_past) > now + 86_400,
        "the scenario's lock horizon (two days) shows in Core's median time past"
    );
    println!(
        "Bitcoin Core e2e ({}): {} contracts, {} paths spent ({} refused first), {} refusals, tip {}, in {:.1?}",
        core.version(),
        report.artifacts.len(),
        report.spends.len(),
        report.spends.iter().filter(|s| s.refused_first).count(),
        report.refusals.len(),
        tip.height,
        started.elapsed()
    );
}
