//! The internal key: a single key, a MuSig2 aggregate, or BIP341's NUMS point H.
//!
//! In: concrete public keys. Out: the x-only internal key that goes into the Taproot output
//! (before the BIP341 tweak, which [`crate::tree`] applies).
//!
//! - `musig(k1, k2, ...)` is BIP327 KeyAgg of the keys **in the order written** (no sorting),
//!   which is what BIP390's `musig()` descriptor does; the result's x coordinate is the
//!   internal key. The KeyAgg itself is the `musig2` crate's.
//! - With no `key`, the internal key is BIP341's H =
//!   `50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0`, whose discrete
//!   logarithm nobody knows.
//!
//! `musig2` 0.1.2 panics on an empty key list and on a zero tweak: both are rejected here
//! before the crate is called.

use std::fmt;

use bitcoin::secp256k1::{PublicKey, XOnlyPublicKey};
use musig2::KeyAggContext;

/// BIP341's NUMS point H (x coordinate), as hex.
pub const NUMS_H_HEX: &str = "50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0";

const NUMS_H: [u8; 32] = [
    0x50, 0x92, 0x9b, 0x74, 0xc1, 0xa0, 0x49, 0x54, 0xb7, 0x8b, 0x4b, 0x60, 0x35, 0xe9, 0x7a, 0x5e,
    0x07, 0x8a, 0x5a, 0x0f, 0x28, 0xec, 0x96, 0xd5, 0x47, 0xbf, 0xee, 0x9a, 0xce, 0x80, 0x3a, 0xc0,
];

/// BIP341's NUMS point H as an x-only key.
pub fn nums_point() -> XOnlyPublicKey {
    // A constant that BIP341 gives and the unit test below checks; never user input.
    #[allow(clippy::expect_used)] // Reason: a fixed constant, checked by `nums_is_h`.
    XOnlyPublicKey::from_slice(&NUMS_H).expect("BIP341's H is a valid x coordinate")
}

/// Why a key aggregation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyAggError {
    /// `musig()` with no keys.
    Empty,
    /// A key that is not a valid 33-byte compressed point.
    InvalidKey {
        /// Its position in the `musig(...)` list, from 0.
        index: usize,
        /// What was given, as hex.
        actual: String,
    },
    /// A tweak that is zero or not below the curve order.
    InvalidTweak {
        /// Its position in the tweak list, from 0.
        index: usize,
    },
    /// The keys (or a tweak) sum to the point at infinity.
    Infinity,
}

impl fmt::Display for KeyAggError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAggError::Empty => f.write_str("musig() needs at least one key"),
            KeyAggError::InvalidKey { index, actual } => write!(
                f,
                "key {index} of musig() is not a compressed public key: expected 33 bytes \
                 starting with 02 or 03 on the curve, got `{actual}`"
            ),
            KeyAggError::InvalidTweak { index } => write!(
                f,
                "tweak {index} is out of range: expected a non-zero value below the curve order"
            ),
            KeyAggError::Infinity => f.write_str("the aggregate key is the point at infinity"),
        }
    }
}

impl std::error::Error for KeyAggError {}

/// BIP327 KeyAgg of compressed keys in the given order; returns the aggregate point.
pub fn musig_key_agg(keys: &[PublicKey]) -> Result<PublicKey, KeyAggError> {
    if keys.is_empty() {
        return Err(KeyAggError::Empty);
    }
    let ctx = KeyAggContext::new(keys.iter().copied()).map_err(|_| KeyAggError::Infinity)?;
    Ok(ctx.aggregated_pubkey::<PublicKey>())
}

/// BIP327 KeyAgg of serialised keys (33 bytes each), reporting the first bad one.
pub fn musig_key_agg_bytes(keys: &[&[u8]]) -> Result<PublicKey, KeyAggError> {
    let parsed = parse_keys(keys)?;
    musig_key_agg(&parsed)
}

fn parse_keys(keys: &[&[u8]]) -> Result<Vec<PublicKey>, KeyAggError> {
    keys.iter()
        .enumerate()
        .map(|(index, bytes)| {
            if bytes.len() != 33 {
                return Err(KeyAggError::InvalidKey {
                    index,
                    actual: hex::encode(bytes),
                });
            }
            PublicKey::from_slice(bytes).map_err(|_| KeyAggError::InvalidKey {
                index,
                actual: hex::encode(bytes),
            })
        })
        .collect()
}

/// BIP327 KeyAgg followed by BIP327 tweaks (`(tweak, is_xonly)`), as in BIP327's
/// `key_agg_vectors.json`; returns the tweaked aggregate's x coordinate.
///
/// Tweaks go through `musig2`'s own scalar type; zero and out-of-range tweaks are rejected
/// here, because `musig2` 0.1.2 would panic on a zero tweak.
pub fn musig_key_agg_tweaked(
    keys: &[&[u8]],
    tweaks: &[([u8; 32], bool)],
) -> Result<XOnlyPublicKey, KeyAggError> {
    let parsed = parse_keys(keys)?;
    if parsed.is_empty() {
        return Err(KeyAggError::Empty);
    }
    let mut ctx = KeyAggContext::new(parsed).map_err(|_| KeyAggError::Infinity)?;
    for (index, (tweak, is_xonly)) in tweaks.iter().enumerate() {
        let scalar = musig2::secp::Scalar::from_slice(tweak)
            .map_err(|_| KeyAggError::InvalidTweak { index })?;
        ctx = ctx
            .with_tweak(scalar, *is_xonly)
            .map_err(|_| KeyAggError::Infinity)?;
    }
    let agg: PublicKey = ctx.aggregated_pubkey();
    Ok(agg.x_only_public_key().0)
}

/// The x-only internal key for a `musig(...)` key path.
pub fn musig_internal_key(keys: &[PublicKey]) -> Result<XOnlyPublicKey, KeyAggError> {
    Ok(musig_key_agg(keys)?.x_only_public_key().0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nums_is_h() {
        assert_eq!(nums_point().to_string(), NUMS_H_HEX);
    }

    #[test]
    fn empty_musig_is_an_error() {
        assert_eq!(musig_key_agg(&[]), Err(KeyAggError::Empty));
        assert_eq!(musig_key_agg_tweaked(&[], &[]), Err(KeyAggError::Empty));
    }

    #[test]
    fn zero_tweak_is_rejected() {
        let g = hex::decode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
            .unwrap();
        let r = musig_key_agg_tweaked(&[&g], &[([0u8; 32], true)]);
        assert_eq!(r, Err(KeyAggError::InvalidTweak { index: 0 }));
    }
}
