//! Helpers shared by the conformance harnesses: data loading and Core's test conventions.
#![allow(dead_code)]

use biscol_script::VerifyFlags;
use bitcoin::absolute::LockTime;
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness};

/// Reads a file from `tests/data` (never from outside the crate).
pub fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{}", env!("CARGO_MANIFEST_DIR"), name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&data(name)).expect("valid JSON")
}

/// Core's crediting transaction for script_tests.
pub fn crediting_tx(spk: &[u8], amount: u64) -> Transaction {
    Transaction {
        version: Version(1),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: ScriptBuf::from_bytes(vec![0x00, 0x00]),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(amount),
            script_pubkey: ScriptBuf::from_bytes(spk.to_vec()),
        }],
    }
}

/// Core's spending transaction for script_tests.
pub fn spending_tx(script_sig: &[u8], witness: Witness, credit: &Transaction) -> Transaction {
    Transaction {
        version: Version(1),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: credit.compute_txid(),
                vout: 0,
            },
            script_sig: ScriptBuf::from_bytes(script_sig.to_vec()),
            sequence: Sequence::MAX,
            witness,
        }],
        output: vec![TxOut {
            value: credit.output[0].value,
            script_pubkey: ScriptBuf::new(),
        }],
    }
}

pub fn txid_from_display(s: &str) -> Txid {
    s.parse().expect("txid hex")
}

/// Core's `FillFlags`: CLEANSTACK implies WITNESS, WITNESS implies P2SH.
pub fn fill_flags(mut f: VerifyFlags) -> VerifyFlags {
    if f.contains(VerifyFlags::CLEANSTACK) {
        f |= VerifyFlags::WITNESS;
    }
    if f.contains(VerifyFlags::WITNESS) {
        f |= VerifyFlags::P2SH;
    }
    f
}

/// Core's `TrimFlags`: without P2SH no WITNESS, without WITNESS no CLEANSTACK.
pub fn trim_flags(mut f: VerifyFlags) -> VerifyFlags {
    if !f.contains(VerifyFlags::P2SH) {
        f = f.without(VerifyFlags::WITNESS);
    }
    if !f.contains(VerifyFlags::WITNESS) {
        f = f.without(VerifyFlags::CLEANSTACK);
    }
    f
}

/// Every valid combination of the seven consensus flags.
pub fn consensus_combinations() -> Vec<VerifyFlags> {
    let bits: Vec<VerifyFlags> = VerifyFlags::NAMED
        .iter()
        .map(|(_, f)| *f)
        .filter(|f| VerifyFlags::CONSENSUS.contains(*f))
        .collect();
    assert_eq!(bits.len(), 7);
    (0u32..128)
        .map(|m| {
            let mut f = VerifyFlags::NONE;
            for (i, b) in bits.iter().enumerate() {
                if m & (1 << i) != 0 {
                    f |= *b;
                }
            }
            f
        })
        .filter(|f| f.is_valid_combination())
        .collect()
}
