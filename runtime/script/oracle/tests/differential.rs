//! Differential tests: our engine and Bitcoin Core (libbitcoinkernel) must make the same
//! accept/reject decision on every taproot-ref case under every consensus flag combination,
//! on every script_tests.json row whose flags are all consensus flags, and on every input of
//! tx_valid.json / tx_invalid.json under the consensus part of their flags.

use biscol_script::{check_transaction, VerifyFlags};
use biscol_script_oracle::{consensus_combinations, load_taproot_ref, with_spend, Prepared};
use bitcoin::absolute::LockTime;
use bitcoin::consensus::deserialize;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use secp256k1::{Scalar, SecretKey, SECP256K1};

#[test]
fn taproot_ref_matches_kernel() {
    let cases = load_taproot_ref();
    let combos = consensus_combinations();
    let (mut compared, mut disagreements) = (0usize, Vec::new());
    for case in &cases {
        let mut spends = vec![("success", &case.success)];
        if let Some(f) = &case.failure {
            spends.push(("failure", f));
        }
        for (which, s) in spends {
            let tx = with_spend(&case.tx, case.index, s);
            let p = Prepared::new(&tx, &case.prevouts).expect("prepare");
            for &f in &combos {
                compared += 1;
                let (ours, core) = (p.ours(case.index, f), p.kernel(case.index, f));
                if ours != core {
                    disagreements.push(format!(
                        "{} {which} flags {f}: ours {ours} ({:?}), core {core}",
                        case.comment,
                        p.ours_error(case.index, f)
                    ));
                }
            }
        }
    }
    println!("taproot-ref vs libbitcoinkernel: {} cases, {compared} verifications compared, {} disagreements", cases.len(), disagreements.len());
    for d in disagreements.iter().take(30) {
        println!("  {d}");
    }
    assert_eq!(cases.len(), 2760);
    assert!(disagreements.is_empty());
}

fn json(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(biscol_script_oracle::data_path(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn script_tests_consensus_rows_match_kernel() {
    let rows = json("script_tests.json");
    let (mut compared, mut skipped_policy, mut disagreements) = (0, 0, Vec::new());
    for row in rows.as_array().unwrap() {
        let row = row.as_array().unwrap();
        if row.len() == 1 {
            continue;
        }
        let pos = row[0].is_array() as usize;
        let spk_asm = row[pos + 1].as_str().unwrap();
        let listed = VerifyFlags::parse(row[pos + 2].as_str().unwrap()).unwrap();
        // The kernel accepts only consensus flags: rows that use policy flags are compared
        // under the consensus part of their flags (the expected error then need not apply).
        let mut flags = listed & VerifyFlags::CONSENSUS;
        if !flags.is_valid_combination() {
            flags = flags.without(VerifyFlags::WITNESS | VerifyFlags::TAPROOT);
        }
        if flags != listed {
            skipped_policy += 1;
        }
        let mut witness = Vec::new();
        let mut amount = 0u64;
        let mut output_key = None;
        if let Some(w) = row[0].as_array() {
            let (items, amt) = w.split_at(w.len() - 1);
            amount = (amt[0].as_f64().unwrap() * 1e8).round() as u64;
            for item in items {
                let s = item.as_str().unwrap();
                if let Some(a) = s.strip_prefix("#SCRIPT# ") {
                    witness.push(biscol_script::asm::parse_asm(a).unwrap());
                } else if s == "#CONTROLBLOCK#" {
                    let mut k = [0u8; 32];
                    k[31] = 1;
                    let (p, _) = SecretKey::from_slice(&k)
                        .unwrap()
                        .x_only_public_key(SECP256K1);
                    let leaf = biscol_script::sighash::tapleaf_hash(0xc0, witness.last().unwrap());
                    let t = biscol_script::sighash::taptweak_hash(&p.serialize(), Some(&leaf));
                    let (q, parity) = p
                        .add_tweak(SECP256K1, &Scalar::from_be_bytes(t).unwrap())
                        .unwrap();
                    output_key = Some(q.serialize());
                    let mut cb = vec![0xc0 | parity.to_u8()];
                    cb.extend_from_slice(&p.serialize());
                    witness.push(cb);
                } else {
                    witness.push(hex::decode(s).unwrap());
                }
            }
        }
        let script_sig = biscol_script::asm::parse_asm(row[pos].as_str().unwrap()).unwrap();
        let spk = if spk_asm.contains("#TAPROOTOUTPUT#") {
            let mut v =
                biscol_script::asm::parse_asm(&spk_asm.replace("#TAPROOTOUTPUT#", "")).unwrap();
            v.extend_from_slice(&output_key.unwrap());
            v
        } else {
            biscol_script::asm::parse_asm(spk_asm).unwrap()
        };
        let credit_out = TxOut {
            value: Amount::from_sat(amount),
            script_pubkey: ScriptBuf::from_bytes(spk),
        };
        let credit = Transaction {
            version: Version(1),
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig: ScriptBuf::from_bytes(vec![0, 0]),
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![credit_out.clone()],
        };
        let spend = Transaction {
            version: Version(1),
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint {
                    txid: credit.compute_txid(),
                    vout: 0,
                },
                script_sig: ScriptBuf::from_bytes(script_sig),
                sequence: Sequence::MAX,
                witness: Witness::from_slice(&witness),
            }],
            output: vec![TxOut {
                value: Amount::from_sat(amount),
                script_pubkey: ScriptBuf::new(),
            }],
        };
        let p = Prepared::new(&spend, &[credit_out]).unwrap();
        compared += 1;
        let (ours, core) = (p.ours(0, flags), p.kernel(0, flags));
        if ours != core {
            disagreements.push(format!("{row:?}: ours {ours}, core {core}"));
        }
    }
    println!("script_tests.json vs libbitcoinkernel: {compared} rows compared ({skipped_policy} of them under the consensus part of their flags), {} disagreements", disagreements.len());
    for d in &disagreements {
        println!("  {d}");
    }
    assert_eq!(compared, 1222);
    assert!(disagreements.is_empty());
}

#[test]
fn tx_tests_match_kernel() {
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for (name, excluded) in [("tx_valid.json", true), ("tx_invalid.json", false)] {
        for row in json(name).as_array().unwrap() {
            let row = row.as_array().unwrap();
            if row.len() == 1 || !row[0].is_array() || row[2].as_str() == Some("BADTX") {
                continue;
            }
            let mut map = std::collections::HashMap::new();
            for p in row[0].as_array().unwrap() {
                let p = p.as_array().unwrap();
                let op = OutPoint {
                    txid: p[0].as_str().unwrap().parse().unwrap(),
                    vout: p[1].as_i64().unwrap() as u32,
                };
                let spk = biscol_script::asm::parse_asm(p[2].as_str().unwrap()).unwrap();
                let amount = p.get(3).and_then(|a| a.as_i64()).unwrap_or(0) as u64;
                map.insert(
                    op,
                    TxOut {
                        value: Amount::from_sat(amount),
                        script_pubkey: ScriptBuf::from_bytes(spk),
                    },
                );
            }
            let tx: Transaction =
                deserialize(&hex::decode(row[1].as_str().unwrap()).unwrap()).unwrap();
            if check_transaction(&tx).is_err() {
                continue;
            }
            let prevouts: Vec<TxOut> = tx
                .input
                .iter()
                .map(|i| map[&i.previous_output].clone())
                .collect();
            let listed = VerifyFlags::parse(row[2].as_str().unwrap()).unwrap();
            let flags = if excluded {
                VerifyFlags::CONSENSUS.without(listed)
            } else {
                listed & VerifyFlags::CONSENSUS
            };
            let flags = if flags.is_valid_combination() {
                flags
            } else {
                continue;
            };
            let p = Prepared::new(&tx, &prevouts).unwrap();
            for i in 0..tx.input.len() {
                compared += 1;
                let (ours, core) = (p.ours(i, flags), p.kernel(i, flags));
                if ours != core {
                    disagreements.push(format!(
                        "{name} {} input {i} flags {flags}: ours {ours}, core {core}",
                        row[1].as_str().unwrap()
                    ));
                }
            }
        }
    }
    println!(
        "tx_valid/tx_invalid vs libbitcoinkernel: {compared} inputs compared, {} disagreements",
        disagreements.len()
    );
    for d in &disagreements {
        println!("  {d}");
    }
    assert!(compared > 200);
    assert!(disagreements.is_empty());
}
