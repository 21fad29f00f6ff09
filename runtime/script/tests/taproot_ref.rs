//! The 2,760 BIP341/342 cases of `script_assets_test.taproot-ref.json` (Bitcoin Core's
//! `feature_taproot.py --dumptests` output, via btcd), run as upstream's
//! `script_assets_tests.cpp` runs them: `success` must verify for every consensus flag
//! combination that is a subset of the case's flags (every combination when `final`), and
//! `failure` must fail for every combination that is a superset.

mod common;

use biscol_script::{verify_input_with, PrecomputedTx, VerifyFlags};
use bitcoin::consensus::deserialize;
use bitcoin::{ScriptBuf, Transaction, TxOut, Witness};

struct Spend {
    script_sig: Vec<u8>,
    witness: Vec<Vec<u8>>,
}

fn spend(v: &serde_json::Value) -> Spend {
    Spend {
        script_sig: hex::decode(v["scriptSig"].as_str().unwrap()).unwrap(),
        witness: v["witness"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| hex::decode(w.as_str().unwrap()).unwrap())
            .collect(),
    }
}

fn with_spend(tx: &Transaction, index: usize, s: &Spend) -> Transaction {
    let mut tx = tx.clone();
    tx.input[index].script_sig = ScriptBuf::from_bytes(s.script_sig.clone());
    tx.input[index].witness = Witness::from_slice(&s.witness);
    tx
}

#[test]
fn taproot_ref_cases() {
    let cases = common::json("script_assets_test.taproot-ref.json");
    let cases = cases.as_array().unwrap();
    let combos = common::consensus_combinations();
    assert_eq!(combos.len(), 64);
    let (mut passed, mut success_checks, mut failure_checks, mut with_failure, mut finals) =
        (0, 0, 0, 0, 0);
    let mut problems = Vec::new();
    for case in cases {
        let tx: Transaction =
            deserialize(&hex::decode(case["tx"].as_str().unwrap()).unwrap()).unwrap();
        let prevouts: Vec<TxOut> = case["prevouts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| deserialize(&hex::decode(p.as_str().unwrap()).unwrap()).unwrap())
            .collect();
        let index = case["index"].as_u64().unwrap() as usize;
        let flags = VerifyFlags::parse(case["flags"].as_str().unwrap()).unwrap();
        let fin = case.get("final").and_then(|f| f.as_bool()).unwrap_or(false);
        finals += fin as usize;
        let comment = case["comment"].as_str().unwrap_or("");
        let mut ok = true;

        let tx_ok = with_spend(&tx, index, &spend(&case["success"]));
        let txdata = PrecomputedTx::new(&tx_ok, &prevouts);
        for &f in &combos {
            if fin || flags.contains(f) {
                success_checks += 1;
                if let Err(e) = verify_input_with(&tx_ok, index, &txdata, f, None) {
                    ok = false;
                    problems.push(format!("{comment}: success failed with {f}: {e}"));
                }
            }
        }
        if let Some(fail) = case.get("failure") {
            with_failure += 1;
            let tx_bad = with_spend(&tx, index, &spend(fail));
            let txdata = PrecomputedTx::new(&tx_bad, &prevouts);
            for &f in &combos {
                if f.contains(flags) {
                    failure_checks += 1;
                    if verify_input_with(&tx_bad, index, &txdata, f, None).is_ok() {
                        ok = false;
                        problems.push(format!("{comment}: failure passed with {f}"));
                    }
                }
            }
        }
        passed += ok as usize;
    }
    println!(
        "taproot-ref: {passed}/{} cases passed ({with_failure} with a failure spend, {finals} final; {success_checks} success and {failure_checks} failure verifications)",
        cases.len()
    );
    for p in problems.iter().take(40) {
        println!("  {p}");
    }
    assert_eq!((passed, cases.len()), (2760, 2760));
    assert_eq!((with_failure, finals), (2483, 708));
}
