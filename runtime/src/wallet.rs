//! The wallet: one keystore key, a P2TR key-path output script, and the coins paying it.
//!
//! In: a [`Keystore`] key name and a [`ChainBackend`]. Out: funding transactions
//! ([`Wallet::fund`]), fee bumps ([`Wallet::bump`]), balances, and on chains that mine, coins
//! mined to itself ([`Wallet::mine`]).
//!
//! The wallet's script is `tr(KEY)` with no script tree (BIP86 tweak of the key's public key).
//! It keeps no state of its own: its UTXOs are what the chain reports for that script.
//!
//! Transactions: version 2, nLockTime = tip height (anti fee sniping, always final in the next
//! block), nSequence 0xfffffffd on every input (BIP125 replaceable), the payment at output 0 and
//! the change (to the wallet's own script) last. Every input is signed on the key path (BIP341
//! sighash `SIGHASH_DEFAULT`, BIP340 signature, 64-byte witness), so the weight used for the fee
//! is the exact weight of the signed transaction.
//!
//! Coin selection with `bdk_coin_select` (the BDK project's selector): spendable coins
//! (confirmed non-coinbase, mature coinbase with ≥ 100 confirmations, then unconfirmed
//! non-coinbase) are offered confirmed first, then by value descending, then by outpoint, and
//! the selector takes them in that order until they pay the outputs and the fee at the rate (and,
//! for a bump, BIP125's rule 4 over the replaced fee). The library computes with floating-point
//! rates, so the exact fee of the signed weight then decides: a change output is added when what
//! is left after the fee with change is at least the change script's dust threshold (330 sat for
//! P2TR), otherwise the remainder goes to the fee, and in the rare case rounding left the
//! selection short, the next coin is added. Largest-first order keeps the number of inputs and
//! the fee low and is deterministic.
//!
//! Fee: `ceil(weight / 4) × fee_rate` satoshis. A bump keeps the original inputs and payments,
//! may add inputs, recomputes the change, and pays at least the replaced fee plus 1 sat/vB of
//! its own size (BIP125 rules 3 and 4) at a strictly higher fee rate (rule 6).

use std::fmt;

use bitcoin::hashes::Hash;
use bitcoin::key::TweakedPublicKey;
use bitcoin::secp256k1::Message;
use bitcoin::sighash::{Prevouts, SighashCache};
use bitcoin::{
    absolute, transaction, Address, Amount, BlockHash, FeeRate, Network, OutPoint, Script,
    ScriptBuf, Sequence, TapSighashType, Transaction, TxIn, TxOut, Txid, Witness,
};

use crate::chain::{ChainBackend, ChainError, TxStatus, Utxo};
use crate::keystore::{Keystore, KeystoreError, SigningKey};

/// The default fee rate on regtest: 2 sat/vB.
pub const DEFAULT_FEE_RATE: FeeRate = FeeRate::from_sat_per_kwu(500);
/// nSequence of every wallet input: BIP125 replaceable, no relative lock.
pub const RBF_SEQUENCE: Sequence = Sequence(0xffff_fffd);
/// Coinbase outputs need this many confirmations.
const COINBASE_MATURITY: u32 = 100;

/// Why a wallet operation failed.
#[derive(Debug)]
pub enum WalletError {
    /// The keystore failed (unknown key, permissions, ...).
    Keystore(KeystoreError),
    /// The chain failed or refused the transaction.
    Chain(ChainError),
    /// The spendable coins do not cover the outputs and the fee.
    InsufficientFunds {
        /// Satoshis needed (outputs plus the fee at the last try).
        needed: u64,
        /// Satoshis spendable.
        available: u64,
    },
    /// The amount to pay is below the dust threshold of its script.
    AmountBelowDust {
        /// The amount.
        amount: u64,
        /// The smallest standard amount for that script.
        threshold: u64,
    },
    /// The fee rate is zero or overflows.
    BadFeeRate {
        /// The rate in sat per 1000 weight units.
        sat_per_kwu: u64,
    },
    /// Only an unconfirmed transaction can be bumped.
    NotReplaceable {
        /// The transaction.
        txid: Txid,
        /// Where it is.
        status: TxStatus,
    },
    /// The transaction to bump spends an output that is not the wallet's.
    ForeignInput {
        /// The transaction.
        txid: Txid,
        /// The input index.
        input: usize,
    },
    /// The BIP341 sighash of an input could not be computed.
    Signing {
        /// The input index.
        input: usize,
        /// What failed.
        detail: String,
    },
    /// A bump must pay a strictly higher fee rate.
    FeeRateNotHigher {
        /// The replaced transaction's rate, sat/vB (rounded up).
        old_sat_per_vb: u64,
        /// The requested rate, sat/vB (rounded up).
        new_sat_per_vb: u64,
    },
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalletError::Keystore(e) => write!(f, "keystore: {e}"),
            WalletError::Chain(e) => write!(f, "chain: {e}"),
            WalletError::InsufficientFunds { needed, available } => write!(
                f,
                "insufficient funds: needs {needed} sat, the wallet can spend {available} sat"
            ),
            WalletError::AmountBelowDust { amount, threshold } => write!(
                f,
                "{amount} sat is dust for that script (at least {threshold} sat)"
            ),
            WalletError::BadFeeRate { sat_per_kwu } => {
                write!(f, "fee rate {sat_per_kwu} sat/kwu is not usable")
            }
            WalletError::NotReplaceable { txid, status } => {
                write!(f, "{txid} cannot be bumped: it is not in the mempool ({status:?})")
            }
            WalletError::ForeignInput { txid, input } => write!(
                f,
                "{txid} input {input} does not spend a wallet coin; only wallet transactions can be bumped"
            ),
            WalletError::Signing { input, detail } => {
                write!(f, "signing input {input}: {detail}")
            }
            WalletError::FeeRateNotHigher {
                old_sat_per_vb,
                new_sat_per_vb,
            } => write!(
                f,
                "a bump needs a fee rate above {old_sat_per_vb} sat/vB, got {new_sat_per_vb} sat/vB"
            ),
        }
    }
}

impl std::error::Error for WalletError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WalletError::Keystore(e) => Some(e),
            WalletError::Chain(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KeystoreError> for WalletError {
    fn from(e: KeystoreError) -> Self {
        WalletError::Keystore(e)
    }
}

impl From<ChainError> for WalletError {
    fn from(e: ChainError) -> Self {
        WalletError::Chain(e)
    }
}

/// A transaction the wallet built and broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funding {
    /// Its id.
    pub txid: Txid,
    /// The payment output (output 0).
    pub outpoint: OutPoint,
    /// The fee paid.
    pub fee: Amount,
    /// The change output, when there is one.
    pub change: Option<OutPoint>,
    /// The signed transaction.
    pub tx: Transaction,
}

/// What the wallet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balance {
    /// Confirmed and spendable now.
    pub confirmed: Amount,
    /// Coinbase outputs that are not mature yet.
    pub immature: Amount,
    /// In mempool transactions.
    pub unconfirmed: Amount,
}

/// A single-key P2TR wallet.
#[derive(Debug)]
pub struct Wallet {
    key: SigningKey,
    output_key: TweakedPublicKey,
    script_pubkey: ScriptBuf,
}

fn fee_for(weight: u64, rate: FeeRate) -> Option<u64> {
    let vsize = weight.div_ceil(4);
    let per_vb = rate.to_sat_per_kwu().checked_mul(4)?;
    vsize
        .checked_mul(per_vb)?
        .checked_add(999)
        .map(|x| x / 1000)
}

impl Wallet {
    /// A wallet for keystore key `name`.
    pub fn new(keystore: &Keystore, name: &str) -> Result<Wallet, WalletError> {
        let key = keystore.signing_key(name)?;
        let output_key = key.tap_tweaked(None).to_keypair().x_only_public_key().0;
        let output_key = TweakedPublicKey::dangerous_assume_tweaked(output_key);
        let script_pubkey = ScriptBuf::new_p2tr_tweaked(output_key);
        Ok(Wallet {
            key,
            output_key,
            script_pubkey,
        })
    }

    /// The wallet's output script (`OP_1 <output key>`).
    pub fn script_pubkey(&self) -> &Script {
        &self.script_pubkey
    }

    /// The wallet's address on `network`.
    pub fn address(&self, network: Network) -> Address {
        Address::p2tr_tweaked(self.output_key, network)
    }

    /// Mines `blocks` blocks paying the wallet (only chains that mine).
    pub fn mine(
        &self,
        chain: &mut dyn ChainBackend,
        blocks: u32,
    ) -> Result<Vec<BlockHash>, WalletError> {
        Ok(chain.mine(blocks, &self.script_pubkey, None)?)
    }

    /// The wallet's unspent outputs, as the chain reports them.
    pub fn utxos(&self, chain: &dyn ChainBackend) -> Result<Vec<Utxo>, WalletError> {
        Ok(chain.utxos(&self.script_pubkey)?)
    }

    /// Confirmed, immature and unconfirmed amounts.
    pub fn balance(&self, chain: &dyn ChainBackend) -> Result<Balance, WalletError> {
        let next = chain.tip()?.height + 1;
        let mut b = Balance::default();
        for u in self.utxos(chain)? {
            match u.height {
                None => b.unconfirmed += u.txout.value,
                Some(h) if u.is_coinbase && next - h < COINBASE_MATURITY => {
                    b.immature += u.txout.value
                }
                Some(_) => b.confirmed += u.txout.value,
            }
        }
        Ok(b)
    }

    fn spendable(
        &self,
        chain: &dyn ChainBackend,
        exclude: &[Txid],
    ) -> Result<Vec<Utxo>, WalletError> {
        let next = chain.tip()?.height + 1;
        let mut v: Vec<Utxo> = self
            .utxos(chain)?
            .into_iter()
            .filter(|u| !exclude.contains(&u.outpoint.txid))
            .filter(|u| match u.height {
                None => !u.is_coinbase,
                Some(h) => !u.is_coinbase || next.saturating_sub(h) >= COINBASE_MATURITY,
            })
            .collect();
        v.sort_by(|a, b| {
            a.height
                .is_none()
                .cmp(&b.height.is_none())
                .then(b.txout.value.cmp(&a.txout.value))
                .then(a.outpoint.cmp(&b.outpoint))
        });
        Ok(v)
    }

    /// Pays `amount` to `script_pubkey` at `fee_rate`, with change back to the wallet, and
    /// broadcasts the transaction. The payment is output 0.
    pub fn fund(
        &self,
        chain: &mut dyn ChainBackend,
        script_pubkey: &Script,
        amount: Amount,
        fee_rate: FeeRate,
    ) -> Result<Funding, WalletError> {
        let funding = self.prepare_fund(&*chain, script_pubkey, amount, fee_rate)?;
        chain.broadcast(&funding.tx)?;
        Ok(funding)
    }

    /// Builds and signs the transaction [`Wallet::fund`] would broadcast, without broadcasting
    /// it, so that a caller can record it first.
    pub fn prepare_fund(
        &self,
        chain: &dyn ChainBackend,
        script_pubkey: &Script,
        amount: Amount,
        fee_rate: FeeRate,
    ) -> Result<Funding, WalletError> {
        let threshold = script_pubkey.minimal_non_dust().to_sat();
        if !script_pubkey.is_op_return() && amount.to_sat() < threshold {
            return Err(WalletError::AmountBelowDust {
                amount: amount.to_sat(),
                threshold,
            });
        }
        let payments = vec![TxOut {
            value: amount,
            script_pubkey: script_pubkey.to_owned(),
        }];
        let candidates = self.spendable(chain, &[])?;
        let lock_height = chain.tip()?.height;
        let tx = self.build(
            Vec::new(),
            candidates,
            payments,
            lock_height,
            &|w| fee_for(w, fee_rate),
            fee_rate,
            None,
        )?;
        self.sign(tx)
    }

    /// Replaces mempool transaction `txid` (built by this wallet) with one paying `fee_rate`.
    pub fn bump(
        &self,
        chain: &mut dyn ChainBackend,
        txid: Txid,
        fee_rate: FeeRate,
    ) -> Result<Funding, WalletError> {
        let replacement = self.prepare_bump(&*chain, txid, fee_rate)?;
        chain.broadcast(&replacement.tx)?;
        Ok(replacement)
    }

    /// Builds and signs the replacement [`Wallet::bump`] would broadcast, without broadcasting
    /// it.
    pub fn prepare_bump(
        &self,
        chain: &dyn ChainBackend,
        txid: Txid,
        fee_rate: FeeRate,
    ) -> Result<Funding, WalletError> {
        let status = chain.tx_status(&txid)?;
        if status != TxStatus::Mempool {
            return Err(WalletError::NotReplaceable { txid, status });
        }
        let Some(old) = chain.transaction(&txid)? else {
            return Err(WalletError::NotReplaceable { txid, status });
        };
        // The original inputs, all the wallet's.
        let mut required = Vec::new();
        let mut in_value = 0u64;
        for (i, txin) in old.input.iter().enumerate() {
            let op = txin.previous_output;
            let prev = chain
                .transaction(&op.txid)?
                .and_then(|t| t.output.get(op.vout as usize).cloned());
            match prev {
                Some(o) if o.script_pubkey == self.script_pubkey => {
                    in_value += o.value.to_sat();
                    required.push((op, o));
                }
                _ => return Err(WalletError::ForeignInput { txid, input: i }),
            }
        }
        let out_value: u64 = old.output.iter().map(|o| o.value.to_sat()).sum();
        let old_fee = in_value.saturating_sub(out_value);
        let old_vsize = old.weight().to_wu().div_ceil(4);
        let old_rate = old_fee.div_ceil(old_vsize.max(1));
        let new_rate = fee_rate.to_sat_per_vb_ceil();
        if fee_rate.to_sat_per_kwu() * 4 <= old_fee * 1000 / old_vsize.max(1) {
            return Err(WalletError::FeeRateNotHigher {
                old_sat_per_vb: old_rate,
                new_sat_per_vb: new_rate,
            });
        }
        // Payments: every output except the change (the last output paying the wallet).
        let mut payments = old.output.clone();
        if payments.len() > 1
            && payments.last().map(|o| &o.script_pubkey) == Some(&self.script_pubkey)
        {
            payments.pop();
        }
        let candidates = self.spendable(chain, &[txid])?;
        let lock_height = chain.tip()?.height;
        let tx = self.build(
            required,
            candidates,
            payments,
            lock_height,
            &|w| {
                let at_rate = fee_for(w, fee_rate)?;
                let rule4 = old_fee.checked_add(w.div_ceil(4))?;
                Some(at_rate.max(rule4))
            },
            fee_rate,
            Some(old_fee),
        )?;
        self.sign(tx)
    }

    /// Builds the unsigned transaction (with its prevouts) by the selection described in the
    /// module documentation. `replaced_fee` is the fee of the transaction a bump replaces.
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        required: Vec<(OutPoint, TxOut)>,
        candidates: Vec<Utxo>,
        payments: Vec<TxOut>,
        lock_height: u32,
        fee: &dyn Fn(u64) -> Option<u64>,
        fee_rate: FeeRate,
        replaced_fee: Option<u64>,
    ) -> Result<(Transaction, Vec<TxOut>), WalletError> {
        if fee_rate.to_sat_per_kwu() == 0 {
            return Err(WalletError::BadFeeRate { sat_per_kwu: 0 });
        }
        let bad_rate = || WalletError::BadFeeRate {
            sat_per_kwu: fee_rate.to_sat_per_kwu(),
        };
        let target: u64 = payments.iter().map(|o| o.value.to_sat()).sum();
        let n_required = required.len();
        let coins: Vec<(OutPoint, TxOut)> = required
            .into_iter()
            .chain(candidates.into_iter().map(|u| (u.outpoint, u.txout)))
            .collect();
        let available: u64 = coins.iter().map(|(_, o)| o.value.to_sat()).sum();
        let change_dust = self.script_pubkey.minimal_non_dust().to_sat();
        let chosen = select_coins(&coins, n_required, &payments, fee_rate, replaced_fee);
        // The library's selection works with floating-point fee rates; the exact fee of the
        // signed weight decides. When the selection falls short of it (a rounding case), the
        // next coins in candidate order are added one by one.
        let mut inputs: Vec<(OutPoint, TxOut)> = Vec::new();
        let mut rest = Vec::new();
        for (i, coin) in coins.into_iter().enumerate() {
            if chosen.contains(&i) {
                inputs.push(coin);
            } else {
                rest.push(coin);
            }
        }
        let mut rest = rest.into_iter();
        let mut needed = target;
        loop {
            let sum: u64 = inputs.iter().map(|(_, o)| o.value.to_sat()).sum();
            if !inputs.is_empty() {
                let mut with_change = payments.clone();
                with_change.push(TxOut {
                    value: Amount::ZERO,
                    script_pubkey: self.script_pubkey.clone(),
                });
                let tx_c = self.unsigned(&inputs, with_change, lock_height, true);
                let fee_c = fee(tx_c.0.weight().to_wu()).ok_or_else(bad_rate)?;
                if sum >= target + fee_c + change_dust {
                    let (mut tx, prevouts) = tx_c;
                    if let Some(last) = tx.output.last_mut() {
                        last.value = Amount::from_sat(sum - target - fee_c);
                    }
                    strip_witness(&mut tx);
                    return Ok((tx, prevouts));
                }
                let tx_n = self.unsigned(&inputs, payments.clone(), lock_height, true);
                let fee_n = fee(tx_n.0.weight().to_wu()).ok_or_else(bad_rate)?;
                if sum >= target + fee_n {
                    let (mut tx, prevouts) = tx_n;
                    strip_witness(&mut tx);
                    return Ok((tx, prevouts));
                }
                needed = target + fee_n;
            }
            match rest.next() {
                Some(coin) => inputs.push(coin),
                None => {
                    return Err(WalletError::InsufficientFunds {
                        needed: needed.max(target),
                        available,
                    })
                }
            }
        }
    }

    /// The transaction over `inputs` and `outputs`, with 64-byte placeholder witnesses when
    /// `dummy_witness` (for exact weight).
    fn unsigned(
        &self,
        inputs: &[(OutPoint, TxOut)],
        outputs: Vec<TxOut>,
        lock_height: u32,
        dummy_witness: bool,
    ) -> (Transaction, Vec<TxOut>) {
        let tx = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::from_height(lock_height)
                .unwrap_or(absolute::LockTime::ZERO),
            input: inputs
                .iter()
                .map(|(op, _)| TxIn {
                    previous_output: *op,
                    script_sig: ScriptBuf::new(),
                    sequence: RBF_SEQUENCE,
                    witness: if dummy_witness {
                        Witness::from_slice(&[[0u8; 64]])
                    } else {
                        Witness::new()
                    },
                })
                .collect(),
            output: outputs,
        };
        (tx, inputs.iter().map(|(_, o)| o.clone()).collect())
    }

    fn sign(&self, (mut tx, prevouts): (Transaction, Vec<TxOut>)) -> Result<Funding, WalletError> {
        let secp = bitcoin::secp256k1::SECP256K1;
        let tweaked = self.key.tap_tweaked(None).to_keypair();
        let mut sigs = Vec::with_capacity(tx.input.len());
        {
            let mut cache = SighashCache::new(&tx);
            for i in 0..prevouts.len() {
                let sighash = cache
                    .taproot_key_spend_signature_hash(
                        i,
                        &Prevouts::All(&prevouts),
                        TapSighashType::Default,
                    )
                    .map_err(|e| WalletError::Signing {
                        input: i,
                        detail: e.to_string(),
                    })?;
                let msg = Message::from_digest(sighash.to_byte_array());
                sigs.push(secp.sign_schnorr(&msg, &tweaked));
            }
        }
        for (txin, sig) in tx.input.iter_mut().zip(sigs) {
            txin.witness = Witness::from_slice(&[sig.serialize()]);
        }
        let in_value: u64 = prevouts.iter().map(|o| o.value.to_sat()).sum();
        let out_value: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        let txid = tx.compute_txid();
        let has_change = tx.output.len() > 1
            && tx.output.last().map(|o| &o.script_pubkey) == Some(&self.script_pubkey);
        Ok(Funding {
            txid,
            outpoint: OutPoint { txid, vout: 0 },
            fee: Amount::from_sat(in_value.saturating_sub(out_value)),
            change: has_change.then(|| OutPoint {
                txid,
                vout: tx.output.len() as u32 - 1,
            }),
            tx,
        })
    }
}

/// The indices of the coins to spend, chosen by `bdk_coin_select`: the first `n_required` coins
/// always, then coins in the given order until the payments, the fee at `fee_rate` (and, for a
/// replacement, BIP125's absolute-fee rule over `replaced_fee`) are met. When the coins cannot
/// meet the target, every coin is returned and the exact check in [`Wallet::build`] reports the
/// shortfall.
fn select_coins(
    coins: &[(OutPoint, TxOut)],
    n_required: usize,
    payments: &[TxOut],
    fee_rate: FeeRate,
    replaced_fee: Option<u64>,
) -> std::collections::BTreeSet<usize> {
    use bdk_coin_select::{Candidate, CoinSelector, Replace, Target, TargetFee, TargetOutputs};
    let candidates: Vec<Candidate> = coins
        .iter()
        .map(|(_, o)| Candidate::new_tr_keyspend(o.value.to_sat()))
        .collect();
    let mut selector = CoinSelector::new(&candidates);
    for i in 0..n_required {
        selector.select(i);
    }
    // 1 sat/kwu is 1/1000 sat per weight unit.
    let rate = bdk_coin_select::FeeRate::from_sat_per_wu(fee_rate.to_sat_per_kwu() as f32 / 1000.0);
    let target = Target {
        fee: TargetFee {
            rate,
            replace: replaced_fee.map(|fee| Replace {
                fee,
                incremental_relay_feerate: bdk_coin_select::FeeRate::from_sat_per_vb(1.0),
            }),
        },
        outputs: TargetOutputs::fund_outputs(
            payments
                .iter()
                .map(|o| (o.weight().to_wu(), o.value.to_sat())),
        ),
    };
    if selector.select_until_target_met(target).is_err() {
        selector.select_all();
    }
    selector.selected_indices().clone()
}

fn strip_witness(tx: &mut Transaction) {
    for i in &mut tx.input {
        i.witness = Witness::new();
    }
}
