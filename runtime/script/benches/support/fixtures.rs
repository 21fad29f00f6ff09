//! Signed spends used by the benchmarks: a P2TR key-path spend, a P2TR script-path spend of
//! one leaf of a 2-leaf tree, and a 3-of-5 P2WSH multisig spend. Each is checked valid when
//! built.
#![allow(dead_code)]

use biscol_script::sighash::{
    segwit_v0_sighash, tapbranch_hash, tapleaf_hash, taproot_sighash, taptweak_hash, PrecomputedTx,
    TapscriptSigData,
};
use biscol_script::{verify_input, VerifyFlags};
use bitcoin::absolute::LockTime;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use secp256k1::{Keypair, Message, Scalar, SecretKey, SECP256K1};

/// A spend ready to verify: the transaction, every spent output, the input index.
pub struct Fixture {
    pub tx: Transaction,
    pub prevouts: Vec<TxOut>,
    pub index: usize,
}

fn key(n: u8) -> Keypair {
    let mut b = [0u8; 32];
    b[31] = n;
    b[0] = 0x42;
    Keypair::from_secret_key(SECP256K1, &SecretKey::from_slice(&b).unwrap())
}

fn skeleton(spk: ScriptBuf, amount: u64) -> (Transaction, Vec<TxOut>) {
    let tx = Transaction {
        version: Version(2),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: "aa".repeat(32).parse().unwrap(),
                vout: 1,
            },
            script_sig: ScriptBuf::new(),
            sequence: Sequence(0xffff_fffd),
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(amount - 500),
            script_pubkey: ScriptBuf::from_bytes([&[0x00, 0x14][..], &[0x11; 20]].concat()),
        }],
    };
    (
        tx,
        vec![TxOut {
            value: Amount::from_sat(amount),
            script_pubkey: spk,
        }],
    )
}

fn p2tr(q: &secp256k1::XOnlyPublicKey) -> ScriptBuf {
    ScriptBuf::from_bytes([&[0x51, 0x20][..], &q.serialize()].concat())
}

fn check(f: Fixture) -> Fixture {
    assert_eq!(
        verify_input(&f.tx, f.index, &f.prevouts, VerifyFlags::ALL),
        Ok(())
    );
    f
}

/// P2TR key-path spend (64-byte signature, SIGHASH_DEFAULT).
pub fn p2tr_key_path() -> Fixture {
    let kp = key(1);
    let (p, _) = kp.x_only_public_key();
    let t = taptweak_hash(&p.serialize(), None);
    let tweaked = kp
        .add_xonly_tweak(SECP256K1, &Scalar::from_be_bytes(t).unwrap())
        .unwrap();
    let (q, _) = tweaked.x_only_public_key();
    let (mut tx, prevouts) = skeleton(p2tr(&q), 100_000);
    let txdata = PrecomputedTx::new(&tx, &prevouts);
    let h = taproot_sighash(&tx, 0, &txdata, 0, None, None).unwrap();
    let sig = SECP256K1.sign_schnorr_with_aux_rand(&Message::from_digest(h), &tweaked, &[0; 32]);
    tx.input[0].witness = Witness::from_slice(&[sig.as_ref().to_vec()]);
    check(Fixture {
        tx,
        prevouts,
        index: 0,
    })
}

/// P2TR script-path spend of leaf A (`<A> OP_CHECKSIG`) in the tree {A, B}.
pub fn p2tr_script_path_2_leaves() -> Fixture {
    let internal = key(2);
    let (a, b) = (key(3), key(4));
    let leaf = |k: &Keypair| [&[0x20][..], &k.x_only_public_key().0.serialize(), &[0xac]].concat();
    let (script_a, script_b) = (leaf(&a), leaf(&b));
    let (ha, hb) = (tapleaf_hash(0xc0, &script_a), tapleaf_hash(0xc0, &script_b));
    let root = tapbranch_hash(&ha, &hb);
    let (p, _) = internal.x_only_public_key();
    let t = taptweak_hash(&p.serialize(), Some(&root));
    let (q, parity) = p
        .add_tweak(SECP256K1, &Scalar::from_be_bytes(t).unwrap())
        .unwrap();
    let (mut tx, prevouts) = skeleton(p2tr(&q), 200_000);
    let txdata = PrecomputedTx::new(&tx, &prevouts);
    let sd = TapscriptSigData {
        tapleaf_hash: ha,
        codesep_pos: 0xffff_ffff,
    };
    let h = taproot_sighash(&tx, 0, &txdata, 0, None, Some(&sd)).unwrap();
    let sig = SECP256K1.sign_schnorr_with_aux_rand(&Message::from_digest(h), &a, &[0; 32]);
    let control = [&[0xc0 | parity.to_u8()][..], &p.serialize(), &hb].concat();
    tx.input[0].witness = Witness::from_slice(&[sig.as_ref().to_vec(), script_a, control]);
    check(Fixture {
        tx,
        prevouts,
        index: 0,
    })
}

/// 3-of-5 P2WSH CHECKMULTISIG spend (SIGHASH_ALL, keys 1, 3 and 5 sign).
pub fn p2wsh_3_of_5() -> Fixture {
    let keys: Vec<Keypair> = (10..15).map(key).collect();
    let mut script = vec![0x53];
    for k in &keys {
        script.push(33);
        script.extend_from_slice(&k.public_key().serialize());
    }
    script.extend_from_slice(&[0x55, 0xae]);
    let spk = ScriptBuf::from_bytes(
        [
            &[0x00, 0x20][..],
            sha256::Hash::hash(&script).as_byte_array(),
        ]
        .concat(),
    );
    let (mut tx, prevouts) = skeleton(spk, 300_000);
    let txdata = PrecomputedTx::new(&tx, &prevouts);
    let h = segwit_v0_sighash(&tx, 0, &script, 300_000, 1, &txdata);
    let mut items = vec![Vec::new()];
    for i in [0, 2, 4] {
        let sig = SECP256K1.sign_ecdsa(&Message::from_digest(h), &keys[i].secret_key());
        let mut der = sig.serialize_der().to_vec();
        der.push(1);
        items.push(der);
    }
    items.push(script);
    tx.input[0].witness = Witness::from_slice(&items);
    check(Fixture {
        tx,
        prevouts,
        index: 0,
    })
}
