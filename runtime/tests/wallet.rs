//! Wallet: fees, change, coin selection, RBF and bumping.

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::{ChainBackend, ChainError, TxStatus};
use biscol_runtime::keystore::Keystore;
use biscol_runtime::wallet::{Wallet, WalletError, DEFAULT_FEE_RATE, RBF_SEQUENCE};
use bitcoin::{Amount, FeeRate, ScriptBuf};

fn setup(dir: &std::path::Path) -> (Keystore, Wallet, EmbeddedChain) {
    let keys = Keystore::open(dir.join("keys")).unwrap();
    keys.create("w").unwrap();
    keys.create("payee").unwrap();
    let wallet = Wallet::new(&keys, "w").unwrap();
    let mut chain = EmbeddedChain::open(dir.join("chain")).unwrap();
    wallet.mine(&mut chain, 102).unwrap();
    (keys, wallet, chain)
}

fn payee(keys: &Keystore) -> ScriptBuf {
    let secp = bitcoin::secp256k1::Secp256k1::verification_only();
    ScriptBuf::new_p2tr(&secp, keys.show("payee").unwrap().x_only(), None)
}

#[test]
fn fee_and_change_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, wallet, mut chain) = setup(dir.path());
    let bal = wallet.balance(&chain).unwrap();
    assert_eq!(
        bal.confirmed,
        Amount::from_sat(3 * 5_000_000_000),
        "tip 102: coinbases 1 to 3 are mature"
    );
    assert_eq!(bal.immature, Amount::from_sat(99 * 5_000_000_000));
    let to = payee(&keys);
    let f = wallet
        .fund(
            &mut chain,
            &to,
            Amount::from_sat(1_234_567),
            DEFAULT_FEE_RATE,
        )
        .unwrap();
    let tx = &f.tx;
    let vsize = tx.weight().to_wu().div_ceil(4);
    assert_eq!(f.fee.to_sat(), vsize * 2, "2 sat/vB on the signed size");
    assert_eq!(tx.input.len(), 1);
    assert!(tx.input.iter().all(|i| i.sequence == RBF_SEQUENCE));
    assert_eq!(tx.output[0].value.to_sat(), 1_234_567);
    assert_eq!(tx.output[0].script_pubkey, to);
    let change = f.change.unwrap();
    assert_eq!(tx.output[1].script_pubkey, *wallet.script_pubkey());
    assert_eq!(
        tx.output[1].value.to_sat(),
        5_000_000_000 - 1_234_567 - f.fee.to_sat()
    );
    assert_eq!(chain.mempool_fee(&f.txid), Some(f.fee.to_sat()));
    assert_eq!(change.vout, 1);
    // The change is spendable unconfirmed, the balance accounts for it.
    let bal = wallet.balance(&chain).unwrap();
    assert_eq!(bal.unconfirmed, tx.output[1].value);
    wallet.mine(&mut chain, 1).unwrap();
    assert!(matches!(
        chain.tx_status(&f.txid).unwrap(),
        TxStatus::Confirmed {
            confirmations: 1,
            ..
        }
    ));
}

#[test]
fn selection_adds_inputs_and_drops_dust_change() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, wallet, mut chain) = setup(dir.path());
    let to = payee(&keys);
    // More than one coinbase: needs two inputs.
    let f = wallet
        .fund(
            &mut chain,
            &to,
            Amount::from_sat(6_000_000_000),
            DEFAULT_FEE_RATE,
        )
        .unwrap();
    assert_eq!(f.tx.input.len(), 2);
    assert_eq!(f.fee.to_sat(), f.tx.weight().to_wu().div_ceil(4) * 2);
    wallet.mine(&mut chain, 1).unwrap();
    // Pay everything but 100 sat from one coin: the change would be dust, so it goes to the fee.
    let coins = wallet.utxos(&chain).unwrap();
    let coin = coins
        .iter()
        .filter(|u| !u.is_coinbase)
        .max_by_key(|u| u.txout.value)
        .unwrap()
        .clone();
    let _ = coin;
    let total = wallet.balance(&chain).unwrap().confirmed.to_sat();
    match wallet.fund(&mut chain, &to, Amount::from_sat(total), DEFAULT_FEE_RATE) {
        Err(WalletError::InsufficientFunds { needed, available }) => {
            assert_eq!(available, total);
            assert!(needed > total);
        }
        other => panic!("{other:?}"),
    }
    let f = wallet
        .fund(
            &mut chain,
            &to,
            Amount::from_sat(total - 700),
            DEFAULT_FEE_RATE,
        )
        .unwrap();
    assert!(f.change.is_none(), "change below dust is dropped");
    assert_eq!(f.fee.to_sat(), 700);
    assert!(f.fee.to_sat() >= f.tx.weight().to_wu().div_ceil(4) * 2);
    assert!(matches!(
        wallet.fund(&mut chain, &to, Amount::from_sat(100), DEFAULT_FEE_RATE),
        Err(WalletError::AmountBelowDust {
            amount: 100,
            threshold: 330
        })
    ));
}

#[test]
fn bump_replaces_with_higher_fee() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, wallet, mut chain) = setup(dir.path());
    let to = payee(&keys);
    let f = wallet
        .fund(&mut chain, &to, Amount::from_sat(500_000), DEFAULT_FEE_RATE)
        .unwrap();
    // Not higher: refused by the wallet.
    assert!(matches!(
        wallet.bump(&mut chain, f.txid, DEFAULT_FEE_RATE),
        Err(WalletError::FeeRateNotHigher {
            old_sat_per_vb: 2,
            new_sat_per_vb: 2
        })
    ));
    let b = wallet
        .bump(&mut chain, f.txid, FeeRate::from_sat_per_vb_u32(20))
        .unwrap();
    assert_ne!(b.txid, f.txid);
    assert_eq!(chain.tx_status(&f.txid).unwrap(), TxStatus::Unknown);
    assert_eq!(chain.tx_status(&b.txid).unwrap(), TxStatus::Mempool);
    assert_eq!(b.tx.output[0], f.tx.output[0], "the payment is kept");
    assert_eq!(b.tx.input[0].previous_output, f.tx.input[0].previous_output);
    let vsize = b.tx.weight().to_wu().div_ceil(4);
    assert_eq!(b.fee.to_sat(), vsize * 20);
    assert!(b.fee > f.fee);
    // A replacement through the chain directly with a lower fee is refused.
    match chain.broadcast(&f.tx) {
        Err(ChainError::Rejected { .. }) => {}
        other => panic!("{other:?}"),
    }
    wallet.mine(&mut chain, 1).unwrap();
    assert!(matches!(
        chain.tx_status(&b.txid).unwrap(),
        TxStatus::Confirmed { .. }
    ));
    assert!(matches!(
        wallet.bump(&mut chain, b.txid, FeeRate::from_sat_per_vb_u32(50)),
        Err(WalletError::NotReplaceable { .. })
    ));
}

#[test]
fn funding_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let txid = {
        let (keys, wallet, mut chain) = setup(dir.path());
        wallet
            .fund(
                &mut chain,
                &payee(&keys),
                Amount::from_sat(10_000),
                DEFAULT_FEE_RATE,
            )
            .unwrap()
            .txid
    };
    let keys = Keystore::open(dir.path().join("keys")).unwrap();
    let wallet = Wallet::new(&keys, "w").unwrap();
    let mut chain = EmbeddedChain::open(dir.path().join("chain")).unwrap();
    assert_eq!(chain.tx_status(&txid).unwrap(), TxStatus::Mempool);
    let b = wallet
        .bump(&mut chain, txid, FeeRate::from_sat_per_vb_u32(5))
        .unwrap();
    wallet.mine(&mut chain, 1).unwrap();
    assert!(matches!(
        chain.tx_status(&b.txid).unwrap(),
        TxStatus::Confirmed { .. }
    ));
}
