//! The shared end-to-end scenario on the embedded chain alone (the oracle crate runs the same
//! scenario and feeds its blocks into Bitcoin Core's libbitcoinkernel).

mod common;

#[test]
fn scenario_runs_and_store_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::scenario::run(dir.path()).unwrap();
    let report = out.chain.check_consistency().unwrap();
    assert_eq!(report.height as usize, out.blocks.len());
    println!(
        "scenario: {} blocks, {} coins",
        out.blocks.len(),
        report.utxos
    );
}
