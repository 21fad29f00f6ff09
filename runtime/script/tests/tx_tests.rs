//! `tx_valid.json` and `tx_invalid.json` with upstream's flag semantics
//! (`transaction_tests.cpp`): tx_valid's flags are EXCLUDED from the full flag set and every
//! input must pass; tx_invalid's flags are APPLIED and some input must fail, or, for `BADTX`,
//! `CheckTransaction` must fail. As upstream, tx_valid also checks that removing any further
//! flag keeps the transaction valid and that re-adding any excluded flag makes it invalid;
//! tx_invalid checks that adding any flag keeps it invalid and that removing any applied flag
//! makes it valid (flag sets Core cannot run, e.g. WITNESS without P2SH, are skipped as
//! upstream's TrimFlags/FillFlags do).

mod common;

use std::collections::HashMap;

use biscol_script::{check_transaction, verify::verify_spend, PrecomputedTx, VerifyFlags};
use bitcoin::consensus::deserialize;
use bitcoin::{Amount, OutPoint, ScriptBuf, Transaction, TxOut};

struct Case {
    tx: Transaction,
    prevouts: HashMap<OutPoint, (Vec<u8>, u64)>,
    flags: String,
}

fn load(name: &str) -> Vec<Case> {
    let rows = common::json(name);
    let mut out = Vec::new();
    for row in rows.as_array().unwrap() {
        let row = row.as_array().unwrap();
        if row.len() == 1 || !row[0].is_array() {
            continue; // comment
        }
        let mut prevouts = HashMap::new();
        for p in row[0].as_array().unwrap() {
            let p = p.as_array().unwrap();
            let txid = common::txid_from_display(p[0].as_str().unwrap());
            let vout = p[1].as_i64().unwrap() as u32;
            let spk = biscol_script::asm::parse_asm(p[2].as_str().unwrap()).unwrap();
            let amount = p.get(3).and_then(|a| a.as_i64()).unwrap_or(0) as u64;
            prevouts.insert(OutPoint { txid, vout }, (spk, amount));
        }
        let tx: Transaction = deserialize(&hex::decode(row[1].as_str().unwrap()).unwrap()).unwrap();
        out.push(Case {
            tx,
            prevouts,
            flags: row[2].as_str().unwrap().to_string(),
        });
    }
    out
}

/// Upstream's `CheckTxScripts`: true when every input verifies.
fn tx_scripts_valid(c: &Case, flags: VerifyFlags) -> bool {
    let mut spent = Vec::new();
    for txin in &c.tx.input {
        let Some((spk, amount)) = c.prevouts.get(&txin.previous_output) else {
            panic!("bad test: missing prevout");
        };
        spent.push(TxOut {
            value: Amount::from_sat(*amount),
            script_pubkey: ScriptBuf::from_bytes(spk.clone()),
        });
    }
    let txdata = PrecomputedTx::new(&c.tx, &spent);
    (0..c.tx.input.len()).all(|i| {
        let p = &spent[i];
        verify_spend(
            &c.tx,
            i,
            p.script_pubkey.as_bytes(),
            p.value.to_sat(),
            &txdata,
            flags,
            None,
        )
        .is_ok()
    })
}

fn single_flags() -> impl Iterator<Item = VerifyFlags> {
    VerifyFlags::NAMED.iter().map(|(_, f)| *f)
}

fn runnable(f: VerifyFlags) -> bool {
    common::fill_flags(f) == f
}

#[test]
fn tx_valid_json() {
    let cases = load("tx_valid.json");
    let mut passed = 0;
    let mut problems = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        let excluded = VerifyFlags::parse(&c.flags).unwrap();
        let flags = !excluded;
        let mut ok =
            check_transaction(&c.tx).is_ok() && runnable(flags) && tx_scripts_valid(c, flags);
        if !ok {
            problems.push(format!("#{n} invalid with flags {flags}"));
        }
        for f in single_flags() {
            let fewer = common::trim_flags(flags.without(f));
            if !tx_scripts_valid(c, fewer) {
                ok = false;
                problems.push(format!("#{n} invalid after removing {f}"));
            }
            if excluded.contains(f) {
                let more = flags | f;
                if runnable(more) && tx_scripts_valid(c, more) {
                    ok = false;
                    problems.push(format!("#{n} still valid with excluded flag {f} re-added"));
                }
            }
        }
        passed += ok as usize;
    }
    println!("tx_valid.json: {passed}/{} passed", cases.len());
    for p in &problems {
        println!("  {p}");
    }
    assert_eq!((passed, cases.len()), (121, 121));
}

#[test]
fn tx_invalid_json() {
    let cases = load("tx_invalid.json");
    let (mut passed, mut badtx) = (0, 0);
    let mut problems = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        if c.flags == "BADTX" {
            badtx += 1;
            if check_transaction(&c.tx).is_err() {
                passed += 1;
            } else {
                problems.push(format!("#{n} BADTX passed CheckTransaction"));
            }
            continue;
        }
        let flags = VerifyFlags::parse(&c.flags).unwrap();
        let mut ok =
            check_transaction(&c.tx).is_ok() && runnable(flags) && !tx_scripts_valid(c, flags);
        if !ok {
            problems.push(format!("#{n} not invalid with flags {flags}"));
        }
        for f in single_flags() {
            let more = common::fill_flags(flags | f);
            if tx_scripts_valid(c, more) {
                ok = false;
                problems.push(format!("#{n} valid after adding {f}"));
            }
            if flags.contains(f) {
                let fewer = flags.without(f);
                if runnable(fewer) && !tx_scripts_valid(c, fewer) {
                    ok = false;
                    problems.push(format!(
                        "#{n} still invalid without {f} (flags not minimal)"
                    ));
                }
            }
        }
        passed += ok as usize;
    }
    println!(
        "tx_invalid.json: {passed}/{} passed ({badtx} BADTX via CheckTransaction)",
        cases.len()
    );
    for p in &problems {
        println!("  {p}");
    }
    assert_eq!((passed, cases.len(), badtx), (93, 93, 9));
}
