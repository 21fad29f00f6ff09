//! Consensus and policy rules around script verification, as Bitcoin Core applies them on
//! regtest: sigop cost, standardness, BIP113 finality, BIP68 sequence locks, subsidy.
//!
//! In: a transaction plus the coins it spends (value, script, height) and the chain context
//! (next block height, median times past). Out: `Ok` or the [`TxReject`] with numbers.
//! Pure functions: no state, no I/O.

use bitcoin::opcodes::all::OP_PUSHNUM_16;
use bitcoin::script::Instruction;
use bitcoin::{Script, ScriptBuf, Transaction, TxOut};

use crate::chain::TxReject;

/// Coinbase outputs need this many confirmations (`next height - coin height`).
pub const COINBASE_MATURITY: u32 = 100;
/// Consensus limit on block weight.
pub const MAX_BLOCK_WEIGHT: u64 = 4_000_000;
/// Consensus limit on a block's sigop cost.
pub const MAX_BLOCK_SIGOPS_COST: u64 = 80_000;
/// Policy limit on a transaction's weight.
pub const MAX_STANDARD_TX_WEIGHT: u64 = 400_000;
/// Policy limit on a transaction's sigop cost.
pub const MAX_STANDARD_TX_SIGOPS_COST: u64 = MAX_BLOCK_SIGOPS_COST / 5;
/// Policy: smallest non-witness size.
pub const MIN_STANDARD_TX_NONWITNESS_SIZE: u64 = 65;
/// Policy: largest scriptSig.
pub const MAX_STANDARD_SCRIPTSIG_SIZE: usize = 1650;
/// Policy: minimum relay fee and incremental relay fee, sat per 1000 vB.
pub const MIN_RELAY_FEE_SAT_PER_KVB: u64 = 1000;
/// Regtest halving interval.
pub const SUBSIDY_HALVING_INTERVAL: u32 = 150;
/// nLockTime values below this are heights.
pub const LOCKTIME_THRESHOLD: u32 = biscol_artifact::units::LOCK_TIME_THRESHOLD;

/// BIP68 bits.
const SEQUENCE_DISABLE_FLAG: u32 = 1 << 31;
const SEQUENCE_TYPE_FLAG: u32 = 1 << 22;
const SEQUENCE_MASK: u32 = 0x0000_ffff;
const SEQUENCE_GRANULARITY: u32 = 9;

/// The block subsidy at `height` on regtest.
pub fn subsidy(height: u32) -> u64 {
    let halvings = height / SUBSIDY_HALVING_INTERVAL;
    if halvings >= 64 {
        0
    } else {
        (50 * 100_000_000u64) >> halvings
    }
}

/// The median of `times` (the last up to 11 block timestamps).
pub fn median(times: &[u32]) -> u32 {
    let mut v = times.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Core's `IsFinalTx` for the next block.
pub fn check_final(tx: &Transaction, next_height: u32, mtp: u32) -> Result<(), TxReject> {
    let lock = tx.lock_time.to_consensus_u32();
    if lock == 0 {
        return Ok(());
    }
    let limit = if lock < LOCKTIME_THRESHOLD {
        next_height
    } else {
        mtp
    };
    if lock < limit {
        return Ok(());
    }
    if tx.input.iter().all(|i| i.sequence.0 == u32::MAX) {
        return Ok(());
    }
    Err(TxReject::NonFinal {
        lock_time: lock,
        next_height,
        median_time_past: mtp,
    })
}

/// One spent coin's context for BIP68.
pub struct SpentCoin<'a> {
    /// The output.
    pub txout: &'a TxOut,
    /// Its block height; the next block's height for mempool coins.
    pub height: u32,
    /// Whether it is a coinbase output.
    pub coinbase: bool,
}

/// Coinbase maturity and BIP68 sequence locks for the next block.
///
/// `mtp_at(h)` is the median time past of the block at height `h`; `next_height` is the
/// height of the block the transaction would go in.
pub fn check_inputs_context(
    tx: &Transaction,
    coins: &[SpentCoin<'_>],
    next_height: u32,
    mtp_at: &dyn Fn(u32) -> u32,
) -> Result<(), TxReject> {
    for (i, coin) in coins.iter().enumerate() {
        let has = next_height.saturating_sub(coin.height);
        if coin.coinbase && has < COINBASE_MATURITY {
            return Err(TxReject::CoinbaseMaturity {
                input: i,
                needs: COINBASE_MATURITY,
                has,
            });
        }
    }
    if tx.version.0 < 2 {
        return Ok(());
    }
    let tip_mtp = mtp_at(next_height.saturating_sub(1));
    for (i, (txin, coin)) in tx.input.iter().zip(coins).enumerate() {
        let seq = txin.sequence.0;
        if seq & SEQUENCE_DISABLE_FLAG != 0 {
            continue;
        }
        let value = seq & SEQUENCE_MASK;
        if seq & SEQUENCE_TYPE_FLAG != 0 {
            // Time since the median time past of the block before the coin's block.
            let base = mtp_at(coin.height.saturating_sub(1));
            let needs = value << SEQUENCE_GRANULARITY;
            let has = tip_mtp.saturating_sub(base);
            // Core: min_time = base + needs - 1; valid when tip_mtp > min_time.
            if (tip_mtp as u64) < base as u64 + needs as u64 {
                return Err(TxReject::RelativeTimeLock {
                    input: i,
                    needs_seconds: needs,
                    has_seconds: has,
                });
            }
        } else {
            let has = next_height.saturating_sub(coin.height);
            if has < value {
                return Err(TxReject::RelativeHeightLock {
                    input: i,
                    needs: value,
                    has,
                });
            }
        }
    }
    Ok(())
}

fn p2sh_redeem_script(script_sig: &Script) -> Option<ScriptBuf> {
    let mut last: Vec<u8> = Vec::new();
    for ins in script_sig.instructions() {
        match ins {
            Ok(Instruction::PushBytes(b)) => last = b.as_bytes().to_vec(),
            Ok(Instruction::Op(op)) if op.to_u8() <= OP_PUSHNUM_16.to_u8() => last.clear(),
            _ => return None,
        }
    }
    Some(ScriptBuf::from_bytes(last))
}

fn witness_sigops(program_script: &Script, witness: &bitcoin::Witness) -> u64 {
    if program_script.is_p2wpkh() {
        return 1;
    }
    if program_script.is_p2wsh() {
        if let Some(ws) = witness.last() {
            return Script::from_bytes(ws).count_sigops() as u64;
        }
    }
    0
}

/// Core's `GetTransactionSigOpCost` with P2SH and WITNESS on; `prevouts` in input order.
pub fn sigop_cost(tx: &Transaction, prevouts: &[TxOut]) -> u64 {
    let mut legacy: u64 = 0;
    for i in &tx.input {
        legacy += i.script_sig.count_sigops_legacy() as u64;
    }
    for o in &tx.output {
        legacy += o.script_pubkey.count_sigops_legacy() as u64;
    }
    let mut cost = legacy * 4;
    if tx.is_coinbase() {
        return cost;
    }
    for (txin, prev) in tx.input.iter().zip(prevouts) {
        let spk = &prev.script_pubkey;
        if spk.is_p2sh() {
            if let Some(redeem) = p2sh_redeem_script(&txin.script_sig) {
                cost += redeem.count_sigops() as u64 * 4;
                if redeem.witness_version().is_some() {
                    cost += witness_sigops(&redeem, &txin.witness);
                }
            }
        } else if spk.witness_version().is_some() {
            cost += witness_sigops(spk, &txin.witness);
        }
    }
    cost
}

fn is_standard_output(spk: &Script) -> bool {
    spk.is_p2pkh()
        || spk.is_p2sh()
        || spk.witness_version().is_some()
        || spk.is_p2pk()
        || spk.is_multisig()
        || spk.is_op_return()
}

/// Mempool policy that needs no coins: version, weight, size, scriptSigs, outputs, dust.
pub fn check_standard(tx: &Transaction) -> Result<(), TxReject> {
    if !(1..=3).contains(&tx.version.0) {
        return Err(TxReject::Version {
            version: tx.version.0,
        });
    }
    let weight = tx.weight().to_wu();
    if weight > MAX_STANDARD_TX_WEIGHT {
        return Err(TxReject::Weight {
            weight,
            max: MAX_STANDARD_TX_WEIGHT,
        });
    }
    let base = tx.base_size() as u64;
    if base < MIN_STANDARD_TX_NONWITNESS_SIZE {
        return Err(TxReject::TooSmall { size: base });
    }
    for (i, txin) in tx.input.iter().enumerate() {
        if txin.script_sig.len() > MAX_STANDARD_SCRIPTSIG_SIZE {
            return Err(TxReject::ScriptSig {
                input: i,
                detail: "is larger than 1650 bytes",
            });
        }
        if !txin.script_sig.is_push_only() {
            return Err(TxReject::ScriptSig {
                input: i,
                detail: "is not push-only",
            });
        }
    }
    for (i, out) in tx.output.iter().enumerate() {
        if !is_standard_output(&out.script_pubkey) {
            return Err(TxReject::NonstandardOutput { output: i });
        }
        if out.script_pubkey.is_op_return() {
            continue;
        }
        let threshold = out.script_pubkey.minimal_non_dust().to_sat();
        if out.value.to_sat() < threshold {
            return Err(TxReject::Dust {
                output: i,
                value: out.value.to_sat(),
                threshold,
            });
        }
    }
    Ok(())
}

/// Whether an output never enters the UTXO set (Core's `IsUnspendable`).
pub fn is_unspendable(spk: &Script) -> bool {
    spk.is_op_return() || spk.len() > 10_000
}

/// Virtual size in vbytes (weight / 4, rounded up).
pub fn vsize(tx: &Transaction) -> u64 {
    tx.weight().to_wu().div_ceil(4)
}
