//! Spends this store did not make are recorded like its own, on every chain backend.
//!
//! A session deploys two htlc instances and signs, without recording or broadcasting (a dry
//! run), a `claim` of the first and a key-path (MuSig2) spend of the second. Someone else then
//! hands both transactions to the chain: the claim is mined, the key-path spend stays in the
//! mempool. The session's next reconciliation must record the claim as `spent` through `claim`
//! at its height, with its fee, its size and the preimage it revealed, and the key-path spend as `spending` through `key`;
//! one more block makes that one `spent` too. Nothing is recorded twice.
//!
//! The chains: the embedded chain, served by `biscol node` while the session is closed (a
//! broadcast through the node); a session over the node's JSON-RPC and one over its Esplora
//! API while another client broadcasts; and a real Bitcoin Core node (`common/bitcoind.rs`,
//! skipped when no `bitcoind` is found; CI sets `BISCOL_REQUIRE_BITCOIND=1`).

#[path = "common/bitcoind.rs"]
mod bitcoind;
mod common;

use std::path::Path;
use std::time::Duration;

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::esplora::EsploraChain;
use biscol_runtime::chain::rpc::{Auth, CoreRpcChain};
use biscol_runtime::chain::ChainBackend;
use biscol_runtime::node::{self, Node, NodeConfig};
use biscol_runtime::project::StateLayout;
use biscol_runtime::session::{Session, SessionOptions, SpendOptions};
use biscol_runtime::state::{event_kind, InstanceStatus};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Amount, Network, Transaction};
use common::e2e::{build_artifact, STDLIB};

/// Two deployed instances and their signed, unrecorded spends.
struct Signed {
    claimed: String,
    claim: Transaction,
    claim_fee: Amount,
    keyed: String,
    key_spend: Transaction,
}

fn options() -> SessionOptions {
    SessionOptions {
        poll_interval: Duration::from_millis(50),
        confirmation_timeout: Duration::from_secs(60),
        ..Default::default()
    }
}

fn mine_through_session(session: &mut Session) {
    session.mine(1, None).unwrap();
}

fn start_node(chain_dir: &Path) -> Node {
    let config = NodeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        auth: node::Auth::Cookie,
    };
    Node::start(EmbeddedChain::open(chain_dir).unwrap(), config).unwrap()
}

fn node_rpc(node: &Node) -> CoreRpcChain {
    let cookie = node.cookie_path().unwrap().to_path_buf();
    CoreRpcChain::connect(&node.rpc_url(), Auth::CookieFile(cookie), Network::Regtest).unwrap()
}

/// Deploys two htlc instances (`mine_one` mines a block, through the session or beside it) and
/// signs a claim of one and a key-path spend of the other.
fn deploy_and_sign(session: &mut Session, mine_one: &mut dyn FnMut(&mut Session)) -> Signed {
    let (file, contract, source) = STDLIB[0];
    let htlc = build_artifact(file, source, contract).unwrap();
    session.keystore().create("alice").unwrap();
    session.keystore().create("bob").unwrap();
    let hash = sha256::Hash::hash(&[0x42; 32]).to_string();
    let args: Vec<(String, String)> = [
        ("sender", "@alice"),
        ("receiver", "@bob"),
        ("hash", hash.as_str()),
        ("timeout", "50"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let d = session
            .deploy(&htlc, &args, Amount::from_sat(100_000), None, false)
            .unwrap();
        mine_one(session);
        session.reconcile().unwrap();
        assert_eq!(
            session.instance(&d.instance).unwrap().status,
            InstanceStatus::Deployed
        );
        ids.push(d.instance);
    }
    let dry_run = SpendOptions {
        dry_run: true,
        ..SpendOptions::default()
    };
    let claim = session
        .spend(
            &ids[0],
            "claim",
            &[("preimage".into(), "42".repeat(32))],
            &dry_run,
        )
        .unwrap();
    let key = session.spend(&ids[1], "key", &[], &dry_run).unwrap();
    assert!(!claim.broadcast && !key.broadcast);
    Signed {
        claimed: ids[0].clone(),
        claim: claim.prepared.tx.clone(),
        claim_fee: claim.prepared.fee,
        keyed: ids[1].clone(),
        key_spend: key.prepared.tx,
    }
}

/// Someone else broadcasts the claim, mines it (returning the block's height) and broadcasts
/// the key-path spend.
fn broadcast_elsewhere(other: &mut dyn ChainBackend, signed: &Signed) -> u32 {
    other.broadcast(&signed.claim).unwrap();
    // Any regtest output will do for the coinbase: a P2WSH nobody can spend.
    let burn = bitcoin::ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::from_byte_array([7; 32]));
    other.mine(1, &burn, None).unwrap();
    other.broadcast(&signed.key_spend).unwrap();
    other.tip().unwrap().height
}

/// After the session reconciled: the claim is `spent` at `height`, the key-path spend
/// `spending`, both with their path, fee and size; reconciling again changes nothing.
fn check_recorded(session: &mut Session, signed: &Signed, height: u32) {
    let claimed = session.instance(&signed.claimed).unwrap();
    assert_eq!(claimed.status, InstanceStatus::Spent, "{claimed:?}");
    assert_eq!(claimed.spend_txid, Some(signed.claim.compute_txid()));
    assert_eq!(claimed.spent_height, Some(height));
    assert_eq!(claimed.executions.len(), 1);
    let execution = &claimed.executions[0];
    assert_eq!(execution.path, "claim");
    assert_eq!(execution.txid, signed.claim.compute_txid());
    assert_eq!(execution.fee, signed.claim_fee);
    assert_eq!(execution.vsize, signed.claim.vsize() as u64);
    assert_eq!(execution.height, Some(height));
    // The claim revealed the preimage, under the path's own argument name.
    let preimage = ("preimage".to_string(), "42".repeat(32));
    assert_eq!(execution.args, std::slice::from_ref(&preimage));
    let events = session.store().instance_events(&signed.claimed).unwrap();
    let spend_event = events
        .iter()
        .find(|e| e.kind == event_kind::SPEND_BROADCAST)
        .unwrap();
    assert_eq!(
        spend_event.payload["args"],
        serde_json::json!([[preimage.0, preimage.1]])
    );
    let kinds: Vec<String> = events.into_iter().map(|e| e.kind).collect();
    let tail = &kinds[kinds.len() - 3..];
    assert_eq!(
        tail,
        [
            event_kind::SPEND_BROADCAST,
            event_kind::BROADCAST,
            event_kind::SPENT
        ]
    );

    let keyed = session.instance(&signed.keyed).unwrap();
    assert_eq!(keyed.status, InstanceStatus::Spending, "{keyed:?}");
    assert_eq!(keyed.spend_txid, Some(signed.key_spend.compute_txid()));
    assert_eq!(keyed.executions.len(), 1);
    assert_eq!(keyed.executions[0].path, "key");
    assert!(keyed.executions[0].args.is_empty());

    let events = session.store().last_event_seq().unwrap();
    session.reconcile().unwrap();
    assert_eq!(session.store().last_event_seq().unwrap(), events);
    assert!(session.store().integrity_check().unwrap().is_empty());
}

/// After one more block: the key-path spend is `spent` at its height.
fn check_key_spend_confirmed(session: &Session, signed: &Signed) {
    let keyed = session.instance(&signed.keyed).unwrap();
    assert_eq!(keyed.status, InstanceStatus::Spent, "{keyed:?}");
    let tip = session.chain().tip().unwrap().height;
    assert_eq!(keyed.spent_height, Some(tip));
    assert_eq!(keyed.executions[0].height, Some(tip));
    assert!(session.store().integrity_check().unwrap().is_empty());
}

#[test]
fn a_broadcast_through_the_node_is_recorded_when_the_session_opens() {
    let dir = tempfile::tempdir().unwrap();
    let layout = || StateLayout::new(dir.path().join("state"));
    let signed = {
        let mut session = Session::open(layout(), options()).unwrap();
        deploy_and_sign(&mut session, &mut mine_through_session)
    };
    let node = start_node(&layout().chain());
    let height = broadcast_elsewhere(&mut node_rpc(&node), &signed);
    drop(node.shutdown().unwrap());

    let mut session = Session::open(layout(), options()).unwrap();
    check_recorded(&mut session, &signed, height);
    session.mine(1, None).unwrap();
    check_key_spend_confirmed(&session, &signed);
}

#[test]
fn a_session_over_json_rpc_records_what_another_client_broadcast() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(&dir.path().join("chain"));
    let mut session = Session::open_remote(
        StateLayout::new(dir.path().join("state")),
        options(),
        Box::new(node_rpc(&node)),
    )
    .unwrap();
    session.mine(101, None).unwrap();
    let signed = deploy_and_sign(&mut session, &mut mine_through_session);
    let height = broadcast_elsewhere(&mut node_rpc(&node), &signed);
    session.reconcile().unwrap();
    check_recorded(&mut session, &signed, height);
    session.mine(1, None).unwrap();
    check_key_spend_confirmed(&session, &signed);
}

#[test]
fn a_session_over_esplora_records_what_another_client_broadcast() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(&dir.path().join("chain"));
    let esplora = EsploraChain::connect_with_cookie(
        &node.esplora_url(),
        Network::Regtest,
        node.cookie_path().expect("cookie auth"),
    )
    .unwrap();
    let mut session = Session::open_remote(
        StateLayout::new(dir.path().join("state")),
        options(),
        Box::new(esplora),
    )
    .unwrap();
    // Esplora cannot mine: a JSON-RPC handle on the same node does.
    let mut miner = node_rpc(&node);
    let wallet = session.wallet_address().script_pubkey();
    miner.mine(101, &wallet, None).unwrap();
    let signed = deploy_and_sign(&mut session, &mut |_: &mut Session| {
        miner.mine(1, &wallet, None).unwrap();
    });
    let height = broadcast_elsewhere(&mut node_rpc(&node), &signed);
    session.reconcile().unwrap();
    check_recorded(&mut session, &signed, height);
    node_rpc(&node).mine(1, &wallet, None).unwrap();
    session.reconcile().unwrap();
    check_key_spend_confirmed(&session, &signed);
}

#[test]
fn a_session_over_bitcoin_core_records_what_another_client_broadcast() {
    let Some(core) = bitcoind::CoreNode::start("outside_spends_over_bitcoin_core") else {
        return;
    };
    let rpc = || {
        CoreRpcChain::connect(
            &core.rpc_url(),
            Auth::CookieFile(core.cookie_file().to_path_buf()),
            Network::Regtest,
        )
        .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut session = Session::open_remote(
        StateLayout::new(dir.path().join("state")),
        options(),
        Box::new(rpc()),
    )
    .unwrap();
    session.mine(101, None).unwrap();
    let signed = deploy_and_sign(&mut session, &mut mine_through_session);
    let height = broadcast_elsewhere(&mut rpc(), &signed);
    session.reconcile().unwrap();
    check_recorded(&mut session, &signed, height);
    session.mine(1, None).unwrap();
    check_key_spend_confirmed(&session, &signed);
}
