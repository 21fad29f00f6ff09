//! End-to-end acceptance tests of the runtime on the embedded regtest chain.
//!
//! * The stdlib scenario (`common/e2e.rs`): every path (and key path) of every standard library
//!   contract is deployed and spent through the `Session`, timelocked paths are refused first
//!   (with their `require` and numbers, broadcasting nothing) and accepted exactly when the lock
//!   opens; afterwards the chain (rebuilt from its blocks) and the store must be consistent.
//! * The test API (`TestChain`) as a contract author uses it, on the htlc: the documented example.
//! * The state folder outlives the session: reopened, it shows the same instances, statuses and
//!   transactions, and the chain's tip.
//!
//! These are the tests that stop a wrong script or a wrong timelock from losing money: every
//! accepted spend here was also accepted by the embedded chain's consensus checks (and, in
//! `oracle-chain/tests/kernel_e2e.rs`, by Bitcoin Core's).

mod common;

use std::time::Instant;

use biscol_runtime::session::{SessionError, SpendOptions};
use biscol_runtime::spend::SpendError;
use biscol_runtime::state::InstanceStatus;
use biscol_runtime::testing::TestChain;
use bitcoin::Amount;
use common::e2e::{
    build_artifact, check_coverage, expected_paths, lock_message, stdlib_scenario,
    stdlib_scenario_with, Options, Report, STDLIB,
};

fn summary(report: &Report) -> String {
    format!(
        "{} contracts, {} instances, {} paths spent ({} refused first), {} refusals checked",
        report.artifacts.len(),
        report.instances.len(),
        report.spends.len(),
        report.spends.iter().filter(|s| s.refused_first).count(),
        report.refusals.len()
    )
}

#[test]
fn stdlib_scenario_on_the_embedded_chain() {
    let started = Instant::now();
    let mut t = TestChain::new().unwrap();
    let session = t.session();
    let report = stdlib_scenario(session).unwrap_or_else(|e| panic!("scenario: {e}"));
    check_coverage(&report, None).unwrap();

    // Every stdlib contract, every path: spent; every timelocked one: refused first.
    for (_, name, _) in STDLIB {
        let artifact = &report.artifacts[*name];
        for path in expected_paths(artifact) {
            let spends: Vec<_> = report
                .spends
                .iter()
                .filter(|s| s.contract == *name && s.path == path)
                .collect();
            assert!(!spends.is_empty(), "{name} {path} not covered");
            let locked = lock_message(artifact, &path).is_some();
            assert!(
                spends.iter().all(|s| s.refused_first == locked),
                "{name} {path}: refused first = {}, timelocked = {locked}",
                spends[0].refused_first
            );
        }
    }
    let timelocked = report.spends.iter().filter(|s| s.refused_first).count();
    assert_eq!(
        timelocked, 9,
        "seven stdlib timelocked paths and two of Timelocks"
    );

    // Every spend is in the chain at the height the report says, each in its own block.
    let chain = session.embedded().unwrap();
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
    let consistency = chain.check_consistency().unwrap();
    println!("chain consistency: {consistency:?}");
    assert!(
        chain.mempool_txids().is_empty(),
        "nothing left in the mempool"
    );

    // The store agrees with the report and with itself.
    let problems = session.store().integrity_check().unwrap();
    assert!(problems.is_empty(), "store integrity: {problems:?}");
    let instances = session.store().instances().unwrap();
    assert_eq!(instances.len(), report.instances.len());
    for i in &instances {
        let expected = if report.left_deployed.contains(&i.id) {
            InstanceStatus::Deployed
        } else {
            InstanceStatus::Spent
        };
        assert_eq!(i.status, expected, "{}", i.id);
    }
    println!(
        "embedded e2e: {}, tip {}, in {:.1?}",
        summary(&report),
        session.chain().tip().unwrap().height,
        started.elapsed()
    );
}

/// The test API as a contract author writes a test (this is the example to copy).
#[test]
fn htlc_with_the_test_api() {
    let mut t = TestChain::new().unwrap();
    let htlc = build_artifact("htlc.bsc", include_str!("../../stdlib/htlc.bsc"), "Htlc").unwrap();
    let (alice, bob) = (t.key("alice").unwrap(), t.key("bob").unwrap());
    let preimage = "42".repeat(32);
    let hash = TestChain::sha256_hex(&preimage);
    let args = [
        ("sender", alice.as_str()),
        ("receiver", bob.as_str()),
        ("hash", hash.as_str()),
        ("timeout", "10"),
    ];

    // Bob claims with the preimage; a wrong one is refused.
    let claim = t.deploy(&htlc, &args, Amount::from_sat(100_000)).unwrap();
    t.expect_refusal(
        &claim.instance,
        "claim",
        &[("preimage", &"00".repeat(32))],
        "wrong preimage",
    )
    .unwrap();
    let spent = t
        .spend(&claim.instance, "claim", &[("preimage", &preimage)])
        .unwrap();
    assert!(spent.broadcast && spent.height.is_some());

    // Alice's refund waits 10 blocks from the funding block: refused until the 9th block
    // after it, accepted in the 10th.
    let refund = t.deploy(&htlc, &args, Amount::from_sat(100_000)).unwrap();
    let funded = refund.height.unwrap();
    let refusals = t
        .expect_refusal(
            &refund.instance,
            "refund",
            &[],
            "refund only after the timeout",
        )
        .unwrap();
    assert!(
        refusals[0].reason.contains("9 more blocks must be mined"),
        "{}",
        refusals[0].reason
    );
    t.mine(8).unwrap();
    t.expect_refusal(
        &refund.instance,
        "refund",
        &[],
        "refund only after the timeout",
    )
    .unwrap();
    t.mine(1).unwrap();
    let spent = t.spend(&refund.instance, "refund", &[]).unwrap();
    assert_eq!(spent.height, Some(funded + 10));
    assert_eq!(
        spent.prepared.n_sequence,
        bitcoin::Sequence::from_height(10)
    );

    // A spent instance cannot be spent again, and says why.
    match t.spend(&refund.instance, "refund", &[]) {
        Err(SessionError::NotSpendable { detail, .. }) => {
            assert!(detail.contains(&spent.txid.to_string()), "{detail}")
        }
        other => panic!("a second spend: {other:?}"),
    }
    // An unknown path names the contract's paths.
    let fresh = t.deploy(&htlc, &args, Amount::from_sat(100_000)).unwrap();
    match t.spend(&fresh.instance, "steal", &[]) {
        Err(SessionError::Spend(SpendError::UnknownPath { available, .. })) => {
            for path in ["claim", "refund", "key"] {
                assert!(available.iter().any(|p| p == path), "{available:?}");
            }
        }
        other => panic!("an unknown path: {other:?}"),
    }
}

/// Everything the scenario recorded is still there after the session is dropped and the state
/// folder is opened again.
#[test]
fn state_persists_across_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, vault_source) = STDLIB.iter().find(|c| c.1 == "Vault").unwrap();
    let (report, tip, before, vault) = {
        let mut t = TestChain::in_dir(dir.path()).unwrap();
        let options = Options {
            only: Some(vec!["Htlc", "Vault"]),
            ..Options::default()
        };
        let report = stdlib_scenario_with(t.session(), options).unwrap();
        check_coverage(&report, Some(&["Htlc", "Vault"])).unwrap();
        // A vault whose delay has not passed when the session ends.
        let artifact = build_artifact("vault.bsc", vault_source, "Vault").unwrap();
        let args = [("hot", "@hot"), ("cold", "@cold"), ("delay", "3")];
        let vault = t
            .deploy(&artifact, &args, Amount::from_sat(50_000))
            .unwrap();
        t.expect_refusal(
            &vault.instance,
            "withdraw",
            &[],
            "the hot key must wait for the delay",
        )
        .unwrap();
        let s = t.session();
        let tip = s.chain().tip().unwrap();
        let before: Vec<_> = report
            .instances
            .iter()
            .map(|id| s.instance(id).unwrap())
            .collect();
        (report, tip, before, vault)
    };
    assert!(!report.left_deployed.is_empty());

    let mut t = TestChain::in_dir(dir.path()).unwrap();
    let s = t.session();
    assert_eq!(s.chain().tip().unwrap(), tip, "the chain's tip");
    s.embedded().unwrap().check_consistency().unwrap();
    assert!(s.store().integrity_check().unwrap().is_empty());
    for record in &before {
        let now = s.instance(&record.id).unwrap();
        assert_eq!(&now, record, "{} after reopening", record.id);
    }
    assert_eq!(
        s.instance(&vault.instance).unwrap().status,
        InstanceStatus::Deployed
    );
    let statuses: Vec<_> = before.iter().map(|r| r.status).collect();
    assert!(statuses.contains(&InstanceStatus::Spent));
    assert!(statuses.contains(&InstanceStatus::Deployed));

    // The reopened session still works on what it found: the instance left deployed refuses
    // a claim without its key, and the chain still mines.
    let id = &report.left_deployed[0];
    let dry_run = SpendOptions {
        dry_run: true,
        wait: false,
        ..SpendOptions::default()
    };
    match s.spend(
        id,
        "claim",
        &[("preimage".into(), "00".repeat(32))],
        &dry_run,
    ) {
        Err(SessionError::Spend(SpendError::Refused(r))) => assert!(!r.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.mine(1, None).unwrap().height, tip.height + 1);

    // The vault's delay runs on in the new session: one more block and the hot key withdraws.
    t.expect_refusal(
        &vault.instance,
        "withdraw",
        &[],
        "the hot key must wait for the delay",
    )
    .unwrap();
    t.mine(1).unwrap();
    let withdrawn = t.spend(&vault.instance, "withdraw", &[]).unwrap();
    assert_eq!(withdrawn.height, Some(vault.height.unwrap() + 3));
    assert!(t.session().store().integrity_check().unwrap().is_empty());
}
