//! `sighash.json` (legacy `SignatureHash`) plus the SIGHASH_SINGLE out-of-range case.

mod common;

use biscol_script::sighash::{legacy_sighash, SIGHASH_ONE};
use biscol_script::{verify_input, VerifyFlags};
use bitcoin::consensus::deserialize;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use secp256k1::{Message, SecretKey, SECP256K1};

#[test]
fn sighash_json() {
    let rows = common::json("sighash.json");
    let (mut total, mut passed) = (0, 0);
    for row in rows.as_array().unwrap() {
        let row = row.as_array().unwrap();
        if row.len() == 1 {
            continue; // header
        }
        total += 1;
        let tx: Transaction = deserialize(&hex::decode(row[0].as_str().unwrap()).unwrap()).unwrap();
        let script = hex::decode(row[1].as_str().unwrap()).unwrap();
        let n_in = row[2].as_u64().unwrap() as usize;
        let hash_type = row[3].as_i64().unwrap() as i32;
        let mut h = legacy_sighash(&tx, n_in, &script, hash_type);
        h.reverse();
        if hex::encode(h) == row[4].as_str().unwrap() {
            passed += 1;
        } else {
            println!("mismatch: {row:?}");
        }
    }
    println!("sighash.json: {passed}/{total} passed");
    assert_eq!((passed, total), (500, 500));
}

/// SIGHASH_SINGLE on an input without a matching output hashes to 1, and a signature over that
/// value is accepted by CHECKSIG (the consensus "SIGHASH_SINGLE bug").
#[test]
fn sighash_single_out_of_range() {
    let sk = SecretKey::from_slice(&[7u8; 32]).unwrap();
    let pk = sk.public_key(SECP256K1).serialize();
    let mut spk = vec![33u8];
    spk.extend_from_slice(&pk);
    spk.push(0xac); // <pk> OP_CHECKSIG
    let prev = TxOut {
        value: Amount::from_sat(1000),
        script_pubkey: ScriptBuf::from_bytes(spk),
    };
    let input = |n: u32| TxIn {
        previous_output: OutPoint {
            txid: "0101010101010101010101010101010101010101010101010101010101010101"
                .parse()
                .unwrap(),
            vout: n,
        },
        script_sig: ScriptBuf::new(),
        sequence: Sequence::MAX,
        witness: Witness::new(),
    };
    let mut tx = Transaction {
        version: bitcoin::transaction::Version(1),
        lock_time: bitcoin::absolute::LockTime::ZERO,
        input: vec![input(0), input(1)],
        output: vec![TxOut {
            value: Amount::from_sat(500),
            script_pubkey: ScriptBuf::new(),
        }],
    };
    assert_eq!(legacy_sighash(&tx, 1, &[0x51], 3), SIGHASH_ONE);
    assert_eq!(legacy_sighash(&tx, 1, &[0x51], 0x83), SIGHASH_ONE);
    assert_ne!(legacy_sighash(&tx, 0, &[0x51], 3), SIGHASH_ONE);
    assert_eq!(
        legacy_sighash(&tx, 5, &[0x51], 1),
        SIGHASH_ONE,
        "input index out of range"
    );

    let sig = SECP256K1.sign_ecdsa(&Message::from_digest(SIGHASH_ONE), &sk);
    let mut der = sig.serialize_der().to_vec();
    der.push(3);
    let mut script_sig = vec![der.len() as u8];
    script_sig.extend_from_slice(&der);
    tx.input[1].script_sig = ScriptBuf::from_bytes(script_sig);
    let prevouts = vec![prev.clone(), prev];
    assert_eq!(
        verify_input(&tx, 1, &prevouts, VerifyFlags::CONSENSUS),
        Ok(())
    );
    // With SIGHASH_ALL the same signature is wrong.
    let mut der_all = sig.serialize_der().to_vec();
    der_all.push(1);
    let mut script_sig = vec![der_all.len() as u8];
    script_sig.extend_from_slice(&der_all);
    tx.input[1].script_sig = ScriptBuf::from_bytes(script_sig);
    assert!(verify_input(&tx, 1, &prevouts, VerifyFlags::CONSENSUS).is_err());
    println!("sighash SIGHASH_SINGLE out-of-range: 1/1 passed");
}
