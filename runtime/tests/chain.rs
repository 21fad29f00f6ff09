//! The embedded chain: persistence, consensus refusals with their numbers, block structure.

#[path = "common/backend.rs"]
mod backend;
mod common;

use backend::{mature_coinbases, rejected, signed_spend};
use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::{ChainBackend, ChainError, TxReject, TxStatus};
use biscol_runtime::keystore::{Keystore, SigningKey};
use biscol_runtime::wallet::{Wallet, DEFAULT_FEE_RATE};
use bitcoin::{absolute, Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxOut};
use common::scenario::{csv_script, one_in_one_out, sign_p2tr_key, sign_p2wsh};
use tempfile::TempDir;

fn setup(dir: &std::path::Path) -> (Keystore, Wallet, EmbeddedChain) {
    let keys = Keystore::open(dir.join("keys")).unwrap();
    if keys.show("miner").is_err() {
        keys.create("miner").unwrap();
    }
    let wallet = Wallet::new(&keys, "miner").unwrap();
    let chain = EmbeddedChain::open(dir.join("chain")).unwrap();
    (keys, wallet, chain)
}

/// A chain in a new temporary folder with `blocks` blocks mined to the miner's wallet: the
/// folder (keep it alive), the keystore, the wallet, the chain and the miner's key.
fn mined(blocks: u32) -> (TempDir, Keystore, Wallet, EmbeddedChain, SigningKey) {
    let dir = tempfile::tempdir().unwrap();
    let (keys, wallet, mut chain) = setup(dir.path());
    wallet.mine(&mut chain, blocks).unwrap();
    let key = keys.signing_key("miner").unwrap();
    (dir, keys, wallet, chain, key)
}

/// An unsigned transaction that spends the oldest mature coinbase back to the wallet, paying
/// `fee` sats, with the coin it spends.
fn spend_coinbase(
    chain: &EmbeddedChain,
    wallet: &Wallet,
    fee: u64,
    sequence: Sequence,
) -> (Transaction, TxOut) {
    let (op, out) = coinbase_coin(chain, wallet);
    let tx = one_in_one_out(
        op,
        out.value,
        wallet.script_pubkey().to_owned(),
        fee,
        sequence,
    );
    (tx, out)
}

/// The oldest mature coinbase of the wallet.
fn coinbase_coin(chain: &EmbeddedChain, wallet: &Wallet) -> (OutPoint, TxOut) {
    let u = mature_coinbases(chain, wallet)
        .into_iter()
        .min_by_key(|u| u.height)
        .expect("a mature coinbase");
    (u.outpoint, u.txout)
}

#[test]
fn genesis_and_tip() {
    let dir = tempfile::tempdir().unwrap();
    let chain = EmbeddedChain::open(dir.path()).unwrap();
    let tip = chain.tip().unwrap();
    assert_eq!(tip.height, 0);
    assert_eq!(
        tip.hash.to_string(),
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
    );
}

#[test]
fn restart_keeps_tip_utxos_and_mempool() {
    let dir = tempfile::tempdir().unwrap();
    let (tip, utxos, mempool) = {
        let (_k, wallet, mut chain) = setup(dir.path());
        wallet.mine(&mut chain, 105).unwrap();
        wallet
            .fund(
                &mut chain,
                &ScriptBuf::new_op_return([1u8; 4]),
                Amount::ZERO,
                DEFAULT_FEE_RATE,
            )
            .unwrap();
        (
            chain.tip().unwrap(),
            chain.utxo_set(),
            chain.mempool_txids(),
        )
    };
    let (_k, wallet, chain) = setup(dir.path());
    assert_eq!(chain.tip().unwrap(), tip);
    assert_eq!(chain.utxo_set(), utxos);
    assert_eq!(chain.mempool_txids(), mempool);
    assert_eq!(mempool.len(), 1);
    chain.check_consistency().unwrap();
    assert!(wallet.balance(&chain).unwrap().confirmed > Amount::ZERO);
}

#[test]
fn second_opener_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _a = EmbeddedChain::open(dir.path()).unwrap();
    match EmbeddedChain::open(dir.path()) {
        Err(ChainError::InUse { .. }) => {}
        other => panic!("expected InUse, got {other:?}"),
    }
}

#[test]
fn double_spend_refused_in_mempool_and_chain() {
    let (_dir, _keys, wallet, mut chain, key) = mined(101);
    let (op, out) = coinbase_coin(&chain, &wallet);
    let spend = |fee: u64, to: u8| {
        let mut tx = one_in_one_out(
            op,
            out.value,
            ScriptBuf::new_p2wsh(&bitcoin::WScriptHash::from_raw_hash(
                bitcoin::hashes::Hash::from_byte_array([to; 32]),
            )),
            fee,
            Sequence::ENABLE_RBF_NO_LOCKTIME,
        );
        sign_p2tr_key(&mut tx, std::slice::from_ref(&out), &key);
        tx
    };
    let a = spend(1_000, 1);
    chain.broadcast(&a).unwrap();
    // Same fee rate: the replacement rules refuse it.
    let b = spend(1_000, 2);
    match rejected(chain.broadcast(&b)) {
        TxReject::ReplacementRefused { conflict, .. } => assert_eq!(conflict, a.compute_txid()),
        other => panic!("{other:?}"),
    }
    wallet.mine(&mut chain, 1).unwrap();
    assert!(matches!(
        chain.tx_status(&a.compute_txid()).unwrap(),
        TxStatus::Confirmed { .. }
    ));
    let c = spend(5_000, 3);
    match rejected(chain.broadcast(&c)) {
        TxReject::SpentInChain { input: 0, outpoint } => assert_eq!(outpoint, op),
        other => panic!("{other:?}"),
    }
    // Broadcasting the mined one again.
    assert_eq!(rejected(chain.broadcast(&a)), TxReject::AlreadyKnown);
}

#[test]
fn value_creation_refused() {
    let (_dir, _keys, wallet, mut chain, key) = mined(101);
    let (mut tx, out) = spend_coinbase(&chain, &wallet, 0, Sequence::MAX);
    tx.output[0].value = out.value + Amount::from_sat(1);
    sign_p2tr_key(&mut tx, std::slice::from_ref(&out), &key);
    let r = rejected(chain.broadcast(&tx));
    assert_eq!(
        r,
        TxReject::ValueCreation {
            inputs: 5_000_000_000,
            outputs: 5_000_000_001
        }
    );
    assert!(r.to_string().contains("5000000001"));
}

#[test]
fn coinbase_maturity_refused_with_numbers() {
    let (_dir, _keys, wallet, mut chain, key) = mined(60);
    let u = chain
        .utxos(wallet.script_pubkey())
        .unwrap()
        .into_iter()
        .find(|u| u.height == Some(1))
        .unwrap();
    let tx = signed_spend(
        &u,
        wallet.script_pubkey().to_owned(),
        1_000,
        Sequence::MAX,
        &key,
    );
    let r = rejected(chain.broadcast(&tx));
    assert_eq!(
        r,
        TxReject::CoinbaseMaturity {
            input: 0,
            needs: 100,
            has: 60
        }
    );
    assert_eq!(
        r.to_string(),
        "input 0: a coinbase output needs 100 confirmations; the coin has 60"
    );
    wallet.mine(&mut chain, 40).unwrap();
    chain.broadcast(&tx).unwrap();
}

#[test]
fn bip68_height_and_time_refusals_with_numbers() {
    let (_dir, _keys, wallet, mut chain, key) = mined(101);
    // Funds a CSV script locked by `lock`, confirms it with `blocks` blocks and returns a
    // signed spend of it back to the wallet.
    let csv_spend = |chain: &mut EmbeddedChain, lock: Sequence, blocks: u32| {
        let ws = csv_script(lock, &key);
        let spk = ScriptBuf::new_p2wsh(&ws.wscript_hash());
        let value = Amount::from_sat(1_000_000);
        let f = wallet.fund(chain, &spk, value, DEFAULT_FEE_RATE).unwrap();
        wallet.mine(chain, blocks).unwrap();
        let mut tx = one_in_one_out(
            f.outpoint,
            value,
            wallet.script_pubkey().to_owned(),
            1_000,
            lock,
        );
        sign_p2wsh(&mut tx, &ws, value, &key);
        tx
    };
    let tx = csv_spend(&mut chain, Sequence::from_height(144), 3);
    let r = rejected(chain.broadcast(&tx));
    assert_eq!(
        r,
        TxReject::RelativeHeightLock {
            input: 0,
            needs: 144,
            has: 3
        }
    );
    assert_eq!(
        r.to_string(),
        "input 0: relative lock needs 144 blocks since confirmation; the coin has 3"
    );
    wallet.mine(&mut chain, 141).unwrap();
    chain.broadcast(&tx).unwrap();

    // Time-based: 2 × 512 s.
    let tx = csv_spend(&mut chain, Sequence::from_512_second_intervals(2), 1);
    match rejected(chain.broadcast(&tx)) {
        TxReject::RelativeTimeLock {
            input: 0,
            needs_seconds: 1024,
            has_seconds,
        } => {
            assert!(has_seconds < 1024)
        }
        other => panic!("{other:?}"),
    }
    chain.mine(1, wallet.script_pubkey(), Some(2_000)).unwrap();
    chain.mine(11, wallet.script_pubkey(), None).unwrap();
    chain.broadcast(&tx).unwrap();
}

#[test]
fn bip113_nonfinal_refused_with_numbers() {
    let (_dir, _keys, wallet, mut chain, key) = mined(101);

    // Height lock 110: the next block is 102.
    let (mut tx, out) = spend_coinbase(&chain, &wallet, 1_000, Sequence::ENABLE_LOCKTIME_NO_RBF);
    tx.lock_time = absolute::LockTime::from_height(110).unwrap();
    sign_p2tr_key(&mut tx, std::slice::from_ref(&out), &key);
    let r = rejected(chain.broadcast(&tx));
    assert_eq!(
        r,
        TxReject::NonFinal {
            lock_time: 110,
            next_height: 102,
            median_time_past: chain.tip().unwrap().median_time_past
        }
    );
    assert!(r
        .to_string()
        .contains("nLockTime 110 is a height; the next block is 102"));

    // Time lock one hour past the median time past.
    let mtp = chain.tip().unwrap().median_time_past;
    let mut tx2 = tx.clone();
    tx2.lock_time = absolute::LockTime::from_time(mtp + 3_600).unwrap();
    sign_p2tr_key(&mut tx2, std::slice::from_ref(&out), &key);
    match rejected(chain.broadcast(&tx2)) {
        TxReject::NonFinal {
            lock_time,
            median_time_past,
            ..
        } => {
            assert_eq!(lock_time, mtp + 3_600);
            assert_eq!(median_time_past, mtp);
        }
        other => panic!("{other:?}"),
    }
    chain.mine(1, wallet.script_pubkey(), Some(4_000)).unwrap();
    chain.mine(11, wallet.script_pubkey(), None).unwrap();
    chain.broadcast(&tx2).unwrap();
}

#[test]
fn script_failure_is_named() {
    let (_dir, keys, wallet, mut chain, _key) = mined(101);
    keys.create("other").unwrap();
    let other = keys.signing_key("other").unwrap();
    let (mut tx, out) = spend_coinbase(&chain, &wallet, 1_000, Sequence::MAX);
    sign_p2tr_key(&mut tx, std::slice::from_ref(&out), &other);
    let r = rejected(chain.broadcast(&tx));
    assert!(matches!(r, TxReject::Script { input: 0, .. }), "{r:?}");
    assert!(r.to_string().contains("SCHNORR_SIG"), "{r}");
}

#[test]
fn dust_and_fee_policy() {
    let (_dir, _keys, wallet, mut chain, key) = mined(101);
    let (mut tx, out) = spend_coinbase(&chain, &wallet, 1_000, Sequence::MAX);
    tx.output.push(TxOut {
        value: Amount::from_sat(100),
        script_pubkey: wallet.script_pubkey().to_owned(),
    });
    tx.output[0].value -= Amount::from_sat(100);
    sign_p2tr_key(&mut tx, std::slice::from_ref(&out), &key);
    assert_eq!(
        rejected(chain.broadcast(&tx)),
        TxReject::Dust {
            output: 1,
            value: 100,
            threshold: 330
        }
    );
    let (mut tx, out) = spend_coinbase(&chain, &wallet, 10, Sequence::MAX);
    sign_p2tr_key(&mut tx, std::slice::from_ref(&out), &key);
    assert!(matches!(
        rejected(chain.broadcast(&tx)),
        TxReject::FeeTooLow { fee: 10, .. }
    ));
}

#[test]
fn blocks_carry_bip34_height_and_witness_commitment() {
    let (_dir, _keys, wallet, mut chain, _key) = mined(101);
    // Heights 1 to 16 are OP_1..OP_16 (Core's `CScript() << height`), later ones a push.
    let b = chain.block(5).unwrap().unwrap();
    assert_eq!(b.txdata[0].input[0].script_sig.as_bytes()[0], 0x55);
    let b = chain.block(20).unwrap().unwrap();
    assert_eq!(b.bip34_block_height().unwrap(), 20);
    assert!(b.check_merkle_root());
    let f = wallet
        .fund(
            &mut chain,
            &ScriptBuf::new_op_return([7u8; 3]),
            Amount::ZERO,
            DEFAULT_FEE_RATE,
        )
        .unwrap();
    let before = chain.block(101).unwrap().unwrap();
    assert!(
        !before.txdata[0]
            .output
            .iter()
            .any(|o| o.script_pubkey.is_op_return()),
        "no commitment without witness transactions"
    );
    wallet.mine(&mut chain, 1).unwrap();
    let b = chain.block(102).unwrap().unwrap();
    assert_eq!(b.txdata.len(), 2);
    assert!(b.check_witness_commitment());
    assert!(b.txdata[0].output.iter().any(|o| o
        .script_pubkey
        .as_bytes()
        .starts_with(&[0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed])));
    assert_eq!(
        b.txdata[0].output[0].value.to_sat(),
        5_000_000_000 + f.fee.to_sat()
    );
    // Timestamps stay above the median time past.
    for h in 1..=102 {
        let hd = chain.block(h).unwrap().unwrap().header;
        assert!(hd.time > chain.median_time_past(h - 1));
    }
}

#[test]
fn subsidy_halves_every_150_blocks() {
    let (_dir, _keys, _wallet, chain, _key) = mined(151);
    let v = |h| {
        chain.block(h).unwrap().unwrap().txdata[0].output[0]
            .value
            .to_sat()
    };
    assert_eq!(v(149), 5_000_000_000);
    assert_eq!(v(150), 2_500_000_000);
}

#[test]
fn nonstandard_version_refused() {
    let (_dir, _keys, wallet, mut chain, key) = mined(101);
    let (mut tx, out) = spend_coinbase(&chain, &wallet, 1_000, Sequence::MAX);
    tx.version = bitcoin::transaction::Version(4);
    sign_p2tr_key(&mut tx, std::slice::from_ref(&out), &key);
    assert_eq!(
        rejected(chain.broadcast(&tx)),
        TxReject::Version { version: 4 }
    );
}

#[test]
fn consistency_check_detects_a_tampered_utxo_set() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (_k, wallet, mut chain) = setup(dir.path());
        wallet.mine(&mut chain, 5).unwrap();
        chain.check_consistency().unwrap();
    }
    let db = rusqlite::Connection::open(dir.path().join("chain").join("chain.sqlite")).unwrap();
    db.execute("DELETE FROM utxos WHERE height = 3", [])
        .unwrap();
    drop(db);
    // Opening finds it (the running commitment) ...
    assert!(matches!(
        EmbeddedChain::open(dir.path().join("chain")),
        Err(ChainError::Corrupt { .. })
    ));
    // ... and with the commitment removed too (as in a chain written before commitments,
    // which opening adopts), the full check against the blocks still does.
    let db = rusqlite::Connection::open(dir.path().join("chain").join("chain.sqlite")).unwrap();
    db.execute("DELETE FROM commitments", []).unwrap();
    drop(db);
    let chain = EmbeddedChain::open(dir.path().join("chain")).unwrap();
    match chain.check_consistency() {
        Err(ChainError::Corrupt { detail }) => assert!(detail.contains("differs"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn test_accept_is_a_dry_run_on_top_of_the_mempool() {
    let (_dir, _keys, wallet, chain, key) = mined(101);
    let (mut parent, out) = spend_coinbase(&chain, &wallet, 1_000, Sequence::MAX);
    sign_p2tr_key(&mut parent, std::slice::from_ref(&out), &key);
    let mut child = one_in_one_out(
        OutPoint {
            txid: parent.compute_txid(),
            vout: 0,
        },
        parent.output[0].value,
        wallet.script_pubkey().to_owned(),
        2_000,
        Sequence::MAX,
    );
    sign_p2tr_key(&mut child, std::slice::from_ref(&parent.output[0]), &key);

    // The child is checked on top of its parent, and nothing changes.
    let results = chain.test_accept(&[parent.clone(), child.clone()]);
    let accepted: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(accepted[0].txid, parent.compute_txid());
    assert_eq!(accepted[0].fee, Amount::from_sat(1_000));
    assert_eq!(accepted[1].txid, child.compute_txid());
    assert_eq!(accepted[1].fee, Amount::from_sat(2_000));
    assert_eq!(accepted[1].vsize, child.weight().to_wu().div_ceil(4));
    assert!(chain.mempool_txids().is_empty());

    // Alone, the child misses its input; the same transaction twice is already known.
    assert_eq!(
        chain.test_accept(std::slice::from_ref(&child)),
        vec![Err(TxReject::MissingInput {
            input: 0,
            outpoint: child.input[0].previous_output,
        })]
    );
    let twice = chain.test_accept(&[parent.clone(), parent.clone()]);
    assert!(twice[0].is_ok());
    assert_eq!(twice[1], Err(TxReject::AlreadyKnown));
    assert!(chain.mempool_txids().is_empty());
    chain.check_consistency().unwrap();
}

/// Runs `edit` on the chain's database file with the chain closed.
fn edit_chain_file(dir: &std::path::Path, edit: &str) {
    let conn = rusqlite::Connection::open(
        dir.join("chain")
            .join(biscol_runtime::chain::embedded::CHAIN_FILE),
    )
    .unwrap();
    let changed = conn.execute(edit, []).unwrap();
    assert!(changed > 0, "{edit} changed nothing");
}

#[test]
fn a_utxo_set_edited_by_hand_is_refused_on_open() {
    let edits = [
        // A coin made larger, one deleted, one added, one moved to another height.
        "UPDATE utxos SET value = value + 1 WHERE rowid = (SELECT min(rowid) FROM utxos)",
        "DELETE FROM utxos WHERE rowid = (SELECT max(rowid) FROM utxos)",
        "INSERT INTO utxos (txid, vout, value, script, height, coinbase)
             SELECT txid, vout + 1000, value, script, height, coinbase FROM utxos LIMIT 1",
        "UPDATE utxos SET height = height + 1 WHERE rowid = (SELECT min(rowid) FROM utxos)",
    ];
    for edit in edits {
        let (dir, _keys, wallet, mut chain, key) = mined(110);
        // A spend confirmed too, so the set holds more than coinbases.
        let (mut tx, coin) = spend_coinbase(&chain, &wallet, 500, Sequence::MAX);
        sign_p2tr_key(&mut tx, std::slice::from_ref(&coin), &key);
        chain.broadcast(&tx).unwrap();
        wallet.mine(&mut chain, 1).unwrap();
        drop(chain);
        // Unedited, it opens.
        drop(EmbeddedChain::open(dir.path().join("chain")).unwrap());
        edit_chain_file(dir.path(), edit);
        match EmbeddedChain::open(dir.path().join("chain")) {
            Err(ChainError::Corrupt { detail }) => {
                assert!(detail.contains("does not match its commitment"), "{detail}")
            }
            other => panic!("{edit}: opened anyway: {other:?}"),
        }
    }
}

#[test]
fn time_advances_never_pin_block_time_at_its_maximum() {
    let (_dir, _keys, wallet, mut chain, _key) = mined(1);
    let spk = wallet.script_pubkey().to_owned();
    // More than ten years in one call: refused, nothing mined.
    let before = chain.height();
    assert!(matches!(
        chain.mine(1, &spk, Some(u32::MAX)),
        Err(ChainError::InvalidArgument { .. })
    ));
    assert_eq!(chain.height(), before);
    // Thirty days works, and so do ten-year jumps, until the next would pass the bound.
    chain.mine(1, &spk, Some(30 * 86_400)).unwrap();
    let ten_years = biscol_runtime::chain::embedded::MAX_TIME_ADVANCE;
    while chain.mine(1, &spk, Some(ten_years)).is_ok() {}
    let last = chain.tip().unwrap().time;
    assert!(last <= biscol_runtime::chain::embedded::MAX_BLOCK_TIME);
    assert!(last > biscol_runtime::chain::embedded::MAX_BLOCK_TIME - ten_years);
    // Plain blocks still mine after it, and time still moves.
    chain.mine(2, &spk, None).unwrap();
    assert!(chain.tip().unwrap().time >= last);
}
