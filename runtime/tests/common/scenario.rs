//! The end-to-end scenario shared by `tests/scenario.rs` (embedded chain only) and the Bitcoin
//! Core oracle (`oracle-chain/`, which feeds every block into libbitcoinkernel).
//!
//! Mines 101 blocks to a wallet key, pays a coinbase to a P2TR key-path output and to two P2WSH
//! outputs (a 3-block CSV lock and a 1×512 s CSV time lock), spends them all (each CSV spend is
//! refused before its time with the expected numbers and accepted after mining), and mines
//! blocks with time advances along the way.

#![allow(dead_code)]

use std::path::Path;

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::{ChainBackend, ChainError, TxReject, TxStatus};
use biscol_runtime::keystore::{Keystore, SigningKey};
use biscol_runtime::wallet::{Wallet, DEFAULT_FEE_RATE};
use bitcoin::hashes::Hash;
use bitcoin::opcodes::all::{OP_CHECKSIG, OP_CSV, OP_DROP};
use bitcoin::script::Builder;
use bitcoin::secp256k1::Message;
use bitcoin::sighash::{EcdsaSighashType, Prevouts, SighashCache};
use bitcoin::{
    absolute, transaction, Amount, Block, OutPoint, ScriptBuf, Sequence, TapSighashType,
    Transaction, TxIn, TxOut, Witness,
};

/// What the scenario leaves behind.
pub struct Outcome {
    /// The chain (still open).
    pub chain: EmbeddedChain,
    /// Every block from height 1 to the tip, in order.
    pub blocks: Vec<Block>,
}

type R<T> = Result<T, Box<dyn std::error::Error>>;

/// A transaction spending one output to `to`, paying `fee`.
pub fn one_in_one_out(
    prev: OutPoint,
    value: Amount,
    to: ScriptBuf,
    fee: u64,
    sequence: Sequence,
) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: prev,
            script_sig: ScriptBuf::new(),
            sequence,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: value - Amount::from_sat(fee),
            script_pubkey: to,
        }],
    }
}

/// Signs input 0 of `tx` on the key path of `key`'s BIP86 output.
pub fn sign_p2tr_key(tx: &mut Transaction, prevouts: &[TxOut], key: &SigningKey) {
    let tweaked = key.tap_tweaked(None).to_keypair();
    let secp = bitcoin::secp256k1::Secp256k1::new();
    for i in 0..tx.input.len() {
        let sighash = SighashCache::new(&*tx)
            .taproot_key_spend_signature_hash(i, &Prevouts::All(prevouts), TapSighashType::Default)
            .expect("sighash");
        let msg = Message::from_digest(sighash.to_byte_array());
        let sig = secp.sign_schnorr(&msg, &tweaked);
        tx.input[i].witness = Witness::from_slice(&[sig.serialize()]);
    }
}

/// Signs input 0 of `tx`, spending a P2WSH output with `witness_script` and `value`.
pub fn sign_p2wsh(
    tx: &mut Transaction,
    witness_script: &ScriptBuf,
    value: Amount,
    key: &SigningKey,
) {
    let sighash = SighashCache::new(&*tx)
        .p2wsh_signature_hash(0, witness_script, value, EcdsaSighashType::All)
        .expect("sighash");
    let msg = Message::from_digest(sighash.to_byte_array());
    let sig = key.sign_ecdsa(&msg);
    let mut der = sig.serialize_der().to_vec();
    der.push(EcdsaSighashType::All as u8);
    tx.input[0].witness = Witness::from_slice(&[der, witness_script.to_bytes()]);
}

/// `<lock> OP_CSV OP_DROP <key> OP_CHECKSIG`.
pub fn csv_script(lock: Sequence, key: &SigningKey) -> ScriptBuf {
    Builder::new()
        .push_int(lock.0 as i64)
        .push_opcode(OP_CSV)
        .push_opcode(OP_DROP)
        .push_key(&bitcoin::PublicKey::new(key.public_key()))
        .push_opcode(OP_CHECKSIG)
        .into_script()
}

/// Runs the scenario in `dir` (a fresh folder).
pub fn run(dir: &Path) -> R<Outcome> {
    let keys = Keystore::open(dir.join("keys"))?;
    keys.create("miner")?;
    keys.create("alice")?;
    let wallet = Wallet::new(&keys, "miner")?;
    let alice = keys.signing_key("alice")?;
    let mut chain = EmbeddedChain::open(dir.join("chain"))?;

    wallet.mine(&mut chain, 101)?;
    assert_eq!(chain.tip()?.height, 101);

    // Coinbase → P2TR key path (alice) and two P2WSH outputs.
    let alice_spk = ScriptBuf::new_p2tr(
        &bitcoin::secp256k1::Secp256k1::verification_only(),
        alice.x_only_public_key(),
        None,
    );
    let csv_blocks = Sequence::from_height(3);
    let csv_time = Sequence::from_512_second_intervals(1);
    let ws_blocks = csv_script(csv_blocks, &alice);
    let ws_time = csv_script(csv_time, &alice);
    let p2tr = wallet.fund(
        &mut chain,
        &alice_spk,
        Amount::from_sat(100_000_000),
        DEFAULT_FEE_RATE,
    )?;
    let w1 = wallet.fund(
        &mut chain,
        &ScriptBuf::new_p2wsh(&ws_blocks.wscript_hash()),
        Amount::from_sat(50_000_000),
        DEFAULT_FEE_RATE,
    )?;
    let w2 = wallet.fund(
        &mut chain,
        &ScriptBuf::new_p2wsh(&ws_time.wscript_hash()),
        Amount::from_sat(40_000_000),
        DEFAULT_FEE_RATE,
    )?;
    wallet.mine(&mut chain, 1)?;
    for f in [&p2tr, &w1, &w2] {
        assert!(matches!(
            chain.tx_status(&f.txid)?,
            TxStatus::Confirmed {
                confirmations: 1,
                ..
            }
        ));
    }

    // Spend the P2TR output on its key path.
    let value = Amount::from_sat(100_000_000);
    let mut tx = one_in_one_out(
        p2tr.outpoint,
        value,
        wallet.script_pubkey().to_owned(),
        500,
        Sequence::ENABLE_RBF_NO_LOCKTIME,
    );
    sign_p2tr_key(
        &mut tx,
        &[TxOut {
            value,
            script_pubkey: alice_spk.clone(),
        }],
        &alice,
    );
    chain.broadcast(&tx)?;

    // CSV (3 blocks): refused with 1 confirmation, accepted after 2 more blocks.
    let value = Amount::from_sat(50_000_000);
    let mut tx = one_in_one_out(
        w1.outpoint,
        value,
        wallet.script_pubkey().to_owned(),
        1_000,
        csv_blocks,
    );
    sign_p2wsh(&mut tx, &ws_blocks, value, &alice);
    match chain.broadcast(&tx) {
        Err(ChainError::Rejected {
            reason:
                TxReject::RelativeHeightLock {
                    input: 0,
                    needs: 3,
                    has: 1,
                },
            ..
        }) => {}
        other => panic!("expected a relative height lock refusal, got {other:?}"),
    }
    chain.mine(2, wallet.script_pubkey(), Some(600))?;
    chain.broadcast(&tx)?;

    // CSV (512 s): refused until the median time past moved 512 s past the coin's.
    let value = Amount::from_sat(40_000_000);
    let mut tx = one_in_one_out(
        w2.outpoint,
        value,
        wallet.script_pubkey().to_owned(),
        1_000,
        csv_time,
    );
    sign_p2wsh(&mut tx, &ws_time, value, &alice);
    match chain.broadcast(&tx) {
        Err(ChainError::Rejected {
            reason:
                TxReject::RelativeTimeLock {
                    input: 0,
                    needs_seconds: 512,
                    ..
                },
            ..
        }) => {}
        other => panic!("expected a relative time lock refusal, got {other:?}"),
    }
    chain.mine(1, wallet.script_pubkey(), Some(1_200))?;
    chain.mine(10, wallet.script_pubkey(), None)?;
    chain.broadcast(&tx)?;
    let txid = tx.compute_txid();
    chain.mine(1, wallet.script_pubkey(), Some(30))?;
    assert!(matches!(
        chain.tx_status(&txid)?,
        TxStatus::Confirmed { .. }
    ));
    assert!(chain.mempool_txids().is_empty());

    // A funded transaction, bumped, then mined.
    let f = wallet.fund(
        &mut chain,
        &alice_spk,
        Amount::from_sat(10_000),
        DEFAULT_FEE_RATE,
    )?;
    let b = wallet.bump(
        &mut chain,
        f.txid,
        bitcoin::FeeRate::from_sat_per_vb_u32(10),
    )?;
    assert_eq!(chain.tx_status(&f.txid)?, TxStatus::Unknown);
    wallet.mine(&mut chain, 1)?;
    assert!(matches!(
        chain.tx_status(&b.txid)?,
        TxStatus::Confirmed { .. }
    ));

    let tip = chain.tip()?.height;
    let mut blocks = Vec::new();
    for h in 1..=tip {
        blocks.push(chain.block(h)?.ok_or("missing block")?);
    }
    Ok(Outcome { chain, blocks })
}
