//! Regression tests for differences between the embedded chain and Bitcoin Core found by
//! `core_agreement.rs` (against a real `bitcoind`); these run on the embedded chain alone.
//!
//! * Check order: Core refuses a transaction for its fee (`min relay fee not met`) or as a
//!   replacement (`insufficient fee`) before it runs the scripts (`PolicyScriptChecks` comes
//!   after `PreChecks` and `ReplacementChecks`). The embedded chain ran the scripts first, so a
//!   transaction with a bad signature and a low fee was refused as a script failure.
//! * Replacement rule order: Core 31 (cluster mempool) checks the absolute fee (BIP125 rules
//!   3 and 4) before the feerate (rule 6); the embedded chain checked the feerate first, so a
//!   replacement failing both was refused under another rule than Core's.

mod common;

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::{ChainBackend, ChainError, ReplacementRule, TxReject};
use biscol_runtime::keystore::{Keystore, SigningKey};
use biscol_runtime::wallet::Wallet;
use bitcoin::{Sequence, Transaction, TxOut};
use common::scenario::{one_in_one_out, sign_p2tr_key};

/// A chain with 101 blocks mined to a wallet: folder, wallet, chain, the wallet's key and the
/// signing key of someone else.
fn chain() -> (
    tempfile::TempDir,
    Wallet,
    EmbeddedChain,
    SigningKey,
    SigningKey,
) {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keystore::open(dir.path().join("keys")).unwrap();
    keys.create("miner").unwrap();
    keys.create("other").unwrap();
    let wallet = Wallet::new(&keys, "miner").unwrap();
    let mut chain = EmbeddedChain::open(dir.path().join("chain")).unwrap();
    wallet.mine(&mut chain, 101).unwrap();
    let (mine, other) = (
        keys.signing_key("miner").unwrap(),
        keys.signing_key("other").unwrap(),
    );
    (dir, wallet, chain, mine, other)
}

/// The first block's coinbase: outpoint and output.
fn first_coinbase(chain: &EmbeddedChain, wallet: &Wallet) -> (bitcoin::OutPoint, TxOut) {
    let coin = chain
        .utxos(wallet.script_pubkey())
        .unwrap()
        .into_iter()
        .find(|u| u.is_coinbase && u.height == Some(1))
        .expect("the first coinbase");
    (coin.outpoint, coin.txout)
}

/// The first block's coinbase spent back to the wallet, paying `fee`, signed by `key`.
fn spend(
    coin: &(bitcoin::OutPoint, TxOut),
    wallet: &Wallet,
    fee: u64,
    key: &SigningKey,
) -> Transaction {
    let mut tx = one_in_one_out(
        coin.0,
        coin.1.value,
        wallet.script_pubkey().to_owned(),
        fee,
        Sequence::ENABLE_RBF_NO_LOCKTIME,
    );
    sign_p2tr_key(&mut tx, std::slice::from_ref(&coin.1), key);
    tx
}

fn rejected(r: Result<bitcoin::Txid, ChainError>) -> TxReject {
    match r {
        Err(ChainError::Rejected { reason, .. }) => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_low_fee_is_refused_before_the_scripts_run() {
    let (_dir, wallet, mut chain, _mine, other) = chain();
    // Signed by the wrong key and paying 10 sat for about 111 vB.
    let coin = first_coinbase(&chain, &wallet);
    let tx = spend(&coin, &wallet, 10, &other);
    match rejected(chain.broadcast(&tx)) {
        TxReject::FeeTooLow { fee: 10, min } => assert_eq!(min, tx.vsize() as u64),
        other => panic!("Core says `min relay fee not met`; the embedded chain says {other:?}"),
    }
    // With the fee right, the signature is what is wrong.
    let tx = spend(&coin, &wallet, 1_000, &other);
    assert!(matches!(
        rejected(chain.broadcast(&tx)),
        TxReject::Script { input: 0, .. }
    ));
}

#[test]
fn a_replacement_paying_less_is_refused_before_the_scripts_run() {
    let (_dir, wallet, mut chain, mine, other) = chain();
    let coin = first_coinbase(&chain, &wallet);
    let first = spend(&coin, &wallet, 1_000, &mine);
    let first_txid = chain.broadcast(&first).unwrap();
    // A conflicting spend paying less, signed by the wrong key.
    // It fails the absolute fee (BIP125 rules 3 and 4) and the feerate (rule 6); the embedded
    // chain names rules 3 and 4, which Bitcoin Core 31 checks first.
    let second = spend(&coin, &wallet, 999, &other);
    match rejected(chain.broadcast(&second)) {
        TxReject::ReplacementRefused {
            conflict,
            rule: ReplacementRule::AbsoluteFee { new_fee, needs },
        } => {
            assert_eq!(conflict, first_txid);
            assert_eq!(new_fee, 999);
            assert_eq!(needs, 1_000 + second.vsize() as u64);
        }
        other => panic!("Core says `insufficient fee`; the embedded chain says {other:?}"),
    }
    // The dry run agrees, and the first transaction stays.
    let dry = chain.test_accept(std::slice::from_ref(&second)).remove(0);
    assert!(
        matches!(dry, Err(TxReject::ReplacementRefused { .. })),
        "{dry:?}"
    );
    assert_eq!(chain.mempool_txids(), vec![first_txid]);
    assert_eq!(chain.mempool_fee(&first_txid), Some(1_000));
}

#[test]
fn a_replacement_paying_more_at_a_lower_feerate_is_refused_by_the_feerate_rule() {
    let (_dir, wallet, mut chain, mine, _) = chain();
    let coin = first_coinbase(&chain, &wallet);
    let first = spend(&coin, &wallet, 1_000, &mine);
    let first_txid = chain.broadcast(&first).unwrap();
    // Twenty more outputs make it about ten times larger: 3,000 sat pays for rules 3 and 4
    // (more than the 1,000 replaced, plus the relay fee of the new size) but not rule 6.
    let extra = TxOut {
        value: bitcoin::Amount::from_sat(1_000),
        script_pubkey: wallet.script_pubkey().to_owned(),
    };
    let mut second = one_in_one_out(
        coin.0,
        coin.1.value,
        wallet.script_pubkey().to_owned(),
        3_000 + 20 * 1_000,
        Sequence::ENABLE_RBF_NO_LOCKTIME,
    );
    second.output.extend(std::iter::repeat_n(extra, 20));
    sign_p2tr_key(&mut second, std::slice::from_ref(&coin.1), &mine);
    assert!(3_000 > 1_000 + second.vsize() as u64, "rules 3 and 4 hold");
    match rejected(chain.broadcast(&second)) {
        TxReject::ReplacementRefused {
            conflict,
            rule:
                ReplacementRule::FeeRate {
                    new_sat_per_kvb,
                    old_sat_per_kvb,
                },
        } => {
            assert_eq!(conflict, first_txid);
            assert!(new_sat_per_kvb < old_sat_per_kvb);
        }
        other => {
            panic!("Core refuses it as `replacement-failed`; the embedded chain says {other:?}")
        }
    }
    assert_eq!(chain.mempool_txids(), vec![first_txid]);
}
