//! Regression tests for differences between the embedded chain and Bitcoin Core found by
//! `core_agreement.rs` (against a real `bitcoind`); these run on the embedded chain alone.
//!
//! * Check order: Core refuses a transaction for its fee (`min relay fee not met`) or as a
//!   replacement (`insufficient fee`) before it runs the scripts (`PolicyScriptChecks` comes
//!   after `PreChecks` and `ReplacementChecks`). The embedded chain ran the scripts first, so a
//!   transaction with a bad signature and a low fee was refused as a script failure.

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
    // (The embedded chain names BIP125 rule 6, the feerate, first, as Core did up to 30.)
    let second = spend(&coin, &wallet, 999, &other);
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
