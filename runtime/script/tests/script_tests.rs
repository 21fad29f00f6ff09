//! `script_tests.json` (Bitcoin Core) run the way upstream's `script_tests.cpp` runs it.
//!
//! Each row builds Core's crediting and spending transactions, verifies with the row's flags
//! (CLEANSTACK adds P2SH and WITNESS) and compares the exact error name. Like upstream, it also
//! checks that removing any one flag from a passing row, or adding any one flag to a failing
//! row, keeps the outcome (upstream draws random flag sets; here every single flag is tried).

mod common;

use biscol_script::sighash::{tapleaf_hash, taptweak_hash};
use biscol_script::{
    asm::parse_asm, verify_script, PrecomputedTx, ScriptError, TxChecker, VerifyFlags,
};
use bitcoin::Witness;
use secp256k1::{Scalar, SecretKey, SECP256K1};

/// Control block and output key for a single tapscript leaf under internal key G (secret 1).
fn single_leaf_tree(script: &[u8]) -> (Vec<u8>, [u8; 32]) {
    let sk = SecretKey::from_slice(&{
        let mut b = [0u8; 32];
        b[31] = 1;
        b
    })
    .unwrap();
    let (internal, _) = sk.x_only_public_key(SECP256K1);
    let leaf = tapleaf_hash(0xc0, script);
    let tweak = taptweak_hash(&internal.serialize(), Some(&leaf));
    let (output, parity) = internal
        .add_tweak(SECP256K1, &Scalar::from_be_bytes(tweak).unwrap())
        .unwrap();
    let mut cb = vec![0xc0 | parity.to_u8()];
    cb.extend_from_slice(&internal.serialize());
    (cb, output.serialize())
}

fn run(
    script_sig: &[u8],
    spk: &[u8],
    witness: &Witness,
    amount: u64,
    flags: VerifyFlags,
) -> Result<(), ScriptError> {
    let credit = common::crediting_tx(spk, amount);
    let spend = common::spending_tx(script_sig, witness.clone(), &credit);
    let txdata = PrecomputedTx::new(&spend, &credit.output);
    let checker = TxChecker {
        tx: &spend,
        index: 0,
        amount,
        txdata: &txdata,
    };
    verify_script(script_sig, spk, witness, flags, &checker, None)
}

#[test]
fn script_tests_json() {
    let rows = common::json("script_tests.json");
    let rows = rows.as_array().unwrap();
    let (mut total, mut passed, mut robust) = (0, 0, 0);
    let mut failures = Vec::new();
    for row in rows {
        let row = row.as_array().unwrap();
        if row.len() == 1 {
            continue; // comment row
        }
        total += 1;
        let mut pos = 0;
        let mut witness_items = Vec::new();
        let mut amount = 0u64;
        let mut output_key = None;
        if let Some(w) = row[0].as_array() {
            pos = 1;
            let (items, amt) = w.split_at(w.len() - 1);
            amount = (amt[0].as_f64().unwrap() * 1e8).round() as u64;
            for item in items {
                let s = item.as_str().unwrap();
                if let Some(asm) = s.strip_prefix("#SCRIPT# ") {
                    witness_items.push(parse_asm(asm).unwrap());
                } else if s == "#CONTROLBLOCK#" {
                    let (cb, q) = single_leaf_tree(witness_items.last().unwrap());
                    output_key = Some(q);
                    witness_items.push(cb);
                } else {
                    witness_items.push(hex::decode(s).unwrap());
                }
            }
        }
        let sig_asm = row[pos].as_str().unwrap();
        let spk_asm = row[pos + 1].as_str().unwrap();
        let flags_s = row[pos + 2].as_str().unwrap();
        let expected = row[pos + 3].as_str().unwrap();
        let script_sig = parse_asm(sig_asm).unwrap();
        let spk = if spk_asm.contains("#TAPROOTOUTPUT#") {
            let mut v = parse_asm(&spk_asm.replace("#TAPROOTOUTPUT#", "")).unwrap();
            v.extend_from_slice(&output_key.expect("#TAPROOTOUTPUT# needs #CONTROLBLOCK#"));
            v
        } else {
            parse_asm(spk_asm).unwrap()
        };
        let mut flags = VerifyFlags::parse(flags_s).unwrap();
        if flags.contains(VerifyFlags::CLEANSTACK) {
            flags |= VerifyFlags::P2SH | VerifyFlags::WITNESS;
        }
        let witness = Witness::from_slice(&witness_items);
        let got = run(&script_sig, &spk, &witness, amount, flags);
        let got_name = match got {
            Ok(()) => "OK",
            Err(e) => e.name(),
        };
        if got_name == expected {
            passed += 1;
        } else {
            failures.push(format!("expected {expected}, got {got_name}: {row:?}"));
            continue;
        }
        // Robustness, as upstream: fewer flags keep a pass, more flags keep a failure.
        let mut ok = true;
        for (_, f) in VerifyFlags::NAMED.iter().take(16) {
            let combined = if expected == "OK" {
                flags.without(*f)
            } else {
                flags | *f
            };
            if combined.contains(VerifyFlags::CLEANSTACK)
                && !combined.contains(VerifyFlags::P2SH | VerifyFlags::WITNESS)
            {
                continue;
            }
            if combined.contains(VerifyFlags::WITNESS) && !combined.contains(VerifyFlags::P2SH) {
                continue;
            }
            let r = run(&script_sig, &spk, &witness, amount, combined);
            if r.is_ok() != (expected == "OK") {
                ok = false;
                failures.push(format!(
                    "flag robustness ({combined}) changed outcome: {row:?}"
                ));
            }
        }
        robust += ok as usize;
    }
    println!(
        "script_tests.json: {passed}/{total} passed ({robust} also robust to single-flag changes)"
    );
    for f in failures.iter().take(40) {
        println!("  {f}");
    }
    assert_eq!(total, 1222);
    assert_eq!(passed, 1222);
    assert_eq!(robust, 1222);
}
