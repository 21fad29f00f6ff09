//! Context-free transaction checks (Core's `CheckTransaction`).
//!
//! In: a parsed transaction. Out: `Ok(())` or Core's reject reason (`bad-txns-vin-empty`,
//! `bad-txns-vout-empty`, `bad-txns-oversize`, `bad-txns-vout-negative`,
//! `bad-txns-vout-toolarge`, `bad-txns-txouttotal-toolarge`, `bad-txns-inputs-duplicate`,
//! `bad-cb-length`, `bad-txns-prevout-null`), checked in Core's order. No chain context.

use std::collections::HashSet;

use bitcoin::Transaction;

/// 21 million BTC in satoshis.
pub const MAX_MONEY: i64 = 21_000_000 * 100_000_000;
/// Maximum block weight.
pub const MAX_BLOCK_WEIGHT: usize = 4_000_000;
/// Witness scale factor.
pub const WITNESS_SCALE_FACTOR: usize = 4;

/// Core's `CheckTransaction`.
pub fn check_transaction(tx: &Transaction) -> Result<(), &'static str> {
    if tx.input.is_empty() {
        return Err("bad-txns-vin-empty");
    }
    if tx.output.is_empty() {
        return Err("bad-txns-vout-empty");
    }
    if tx.base_size().saturating_mul(WITNESS_SCALE_FACTOR) > MAX_BLOCK_WEIGHT {
        return Err("bad-txns-oversize");
    }
    let mut total: i64 = 0;
    for out in &tx.output {
        // Amounts are serialized as signed 64-bit values.
        let v = out.value.to_sat() as i64;
        if v < 0 {
            return Err("bad-txns-vout-negative");
        }
        if v > MAX_MONEY {
            return Err("bad-txns-vout-toolarge");
        }
        total += v;
        if !(0..=MAX_MONEY).contains(&total) {
            return Err("bad-txns-txouttotal-toolarge");
        }
    }
    let mut seen = HashSet::with_capacity(tx.input.len());
    for txin in &tx.input {
        if !seen.insert(txin.previous_output) {
            return Err("bad-txns-inputs-duplicate");
        }
    }
    let is_null = |i: &bitcoin::TxIn| i.previous_output.is_null();
    if tx.input.len() == 1 && is_null(&tx.input[0]) {
        let n = tx.input[0].script_sig.len();
        if !(2..=100).contains(&n) {
            return Err("bad-cb-length");
        }
    } else if tx.input.iter().any(is_null) {
        return Err("bad-txns-prevout-null");
    }
    Ok(())
}
