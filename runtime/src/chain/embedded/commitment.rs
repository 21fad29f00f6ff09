//! A running commitment to the embedded chain's UTXO set, so that a UTXO set changed outside
//! the chain (a row edited, added or deleted by hand, a torn copy) is found when the chain
//! opens, without replaying every block.
//!
//! In: coins added to and removed from the set. Out: a 32-byte value, stored beside the set
//! and updated in the same SQLite transaction as the set itself.
//!
//! The commitment is the sum, modulo 2^256, of the SHA-256 of every coin's canonical bytes
//! (outpoint, output, height, coinbase flag, consensus-encoded). A sum is order-free and can be
//! updated per block: adding a coin adds its hash, spending it subtracts it. Invariant: the
//! stored value equals [`UtxoCommitment::of`] the stored set after every committed block.
//!
//! This detects edits and corruption, not forgery: whoever can write the state folder can also
//! write a matching commitment. The state folder is owner-only for that reason.

use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::OutPoint;

use super::store::Coin;

/// See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct UtxoCommitment([u64; 4]);

impl UtxoCommitment {
    /// The commitment to `coins`.
    pub(crate) fn of<'a>(coins: impl IntoIterator<Item = (&'a OutPoint, &'a Coin)>) -> Self {
        let mut sum = UtxoCommitment::default();
        for (op, coin) in coins {
            sum.add(op, coin);
        }
        sum
    }

    /// Adds a coin to the committed set.
    pub(crate) fn add(&mut self, op: &OutPoint, coin: &Coin) {
        let term = coin_hash(op, coin);
        let mut carry = 0u64;
        for (limb, t) in self.0.iter_mut().zip(term) {
            let (s1, c1) = limb.overflowing_add(t);
            let (s2, c2) = s1.overflowing_add(carry);
            *limb = s2;
            carry = u64::from(c1) + u64::from(c2);
        }
    }

    /// Removes a coin from the committed set.
    pub(crate) fn remove(&mut self, op: &OutPoint, coin: &Coin) {
        let term = coin_hash(op, coin);
        let mut borrow = 0u64;
        for (limb, t) in self.0.iter_mut().zip(term) {
            let (d1, b1) = limb.overflowing_sub(t);
            let (d2, b2) = d1.overflowing_sub(borrow);
            *limb = d2;
            borrow = u64::from(b1) + u64::from(b2);
        }
    }

    /// The 32 bytes stored (little-endian limbs).
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, limb) in out.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// Reads stored bytes; `None` unless exactly 32.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 32 {
            return None;
        }
        let mut limbs = [0u64; 4];
        for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
            *limb = u64::from_le_bytes(chunk.try_into().ok()?);
        }
        Some(UtxoCommitment(limbs))
    }
}

/// SHA-256 of a coin's canonical bytes, as four little-endian limbs.
fn coin_hash(op: &OutPoint, coin: &Coin) -> [u64; 4] {
    let mut engine = sha256::Hash::engine();
    engine.input(b"biscol/utxo/1");
    engine.input(&serialize(op));
    engine.input(&serialize(&coin.txout));
    engine.input(&coin.height.to_le_bytes());
    engine.input(&[u8::from(coin.coinbase)]);
    let bytes = sha256::Hash::from_engine(engine).to_byte_array();
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(b);
    }
    limbs
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::{Amount, ScriptBuf, TxOut, Txid};

    fn coin(value: u64, height: u32) -> Coin {
        Coin {
            txout: TxOut {
                value: Amount::from_sat(value),
                script_pubkey: ScriptBuf::new(),
            },
            height,
            coinbase: false,
        }
    }

    fn op(n: u8) -> OutPoint {
        OutPoint::new(Txid::from_byte_array([n; 32]), u32::from(n))
    }

    #[test]
    fn adding_then_removing_returns_to_the_start_in_any_order() {
        let coins: Vec<(OutPoint, Coin)> =
            (1..=20).map(|n| (op(n), coin(u64::from(n), 5))).collect();
        let all = UtxoCommitment::of(coins.iter().map(|(o, c)| (o, c)));
        let reversed = UtxoCommitment::of(coins.iter().rev().map(|(o, c)| (o, c)));
        assert_eq!(all, reversed);
        let mut running = all;
        for (o, c) in &coins[10..] {
            running.remove(o, c);
        }
        assert_eq!(
            running,
            UtxoCommitment::of(coins[..10].iter().map(|(o, c)| (o, c)))
        );
        for (o, c) in &coins[..10] {
            running.remove(o, c);
        }
        assert_eq!(running, UtxoCommitment::default());
        assert_eq!(UtxoCommitment::from_bytes(&all.to_bytes()), Some(all));
        assert_eq!(UtxoCommitment::from_bytes(&[0; 31]), None);
    }

    #[test]
    fn every_field_of_a_coin_counts() {
        let base = UtxoCommitment::of([(&op(1), &coin(1_000, 7))]);
        let mut flagged = coin(1_000, 7);
        flagged.coinbase = true;
        for other in [
            UtxoCommitment::of([(&op(2), &coin(1_000, 7))]),
            UtxoCommitment::of([(&op(1), &coin(1_001, 7))]),
            UtxoCommitment::of([(&op(1), &coin(1_000, 8))]),
            UtxoCommitment::of([(&op(1), &flagged)]),
        ] {
            assert_ne!(base, other);
        }
    }
}
