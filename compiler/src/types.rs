//! The types of BiSCOL values.
//!
//! `Bool` and `Cond` name the same type: a spending condition. `Commitment` is the type of a
//! confidential value (a Pedersen commitment to a `u64`), usable only in `prove`.

use std::fmt;

/// A type.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Ty {
    /// A public key (x-only in Taproot).
    PubKey,
    /// A SHA-256 hash.
    Sha256,
    /// A double SHA-256 hash.
    Hash256,
    /// A RIPEMD-160 hash.
    Ripemd160,
    /// A HASH160 (RIPEMD-160 of SHA-256).
    Hash160,
    /// 32 bytes (a preimage).
    Bytes32,
    /// A number of blocks (relative timelock).
    Blocks,
    /// A length of time (relative timelock, BIP68 512-second units).
    Duration,
    /// A block height (absolute timelock).
    Height,
    /// A unix time (absolute timelock).
    Time,
    /// An integer.
    Int,
    /// An amount of satoshis.
    Amount,
    /// A spending condition (`Bool` is the same type).
    Cond,
    /// A string (messages).
    Str,
    /// A commitment to a `u64` (confidential values).
    Commitment,
    /// `[T; N]`
    Array(Box<Ty>, u32),
    /// The type of an expression that already has an error; compatible with everything.
    Error,
}

impl Ty {
    /// The type named `name` (without generic arguments), if any.
    pub fn from_name(name: &str) -> Option<Ty> {
        Some(match name {
            "PubKey" => Ty::PubKey,
            "Sha256" => Ty::Sha256,
            "Hash256" => Ty::Hash256,
            "Ripemd160" => Ty::Ripemd160,
            "Hash160" => Ty::Hash160,
            "Bytes32" => Ty::Bytes32,
            "Blocks" => Ty::Blocks,
            "Duration" => Ty::Duration,
            "Height" => Ty::Height,
            "Time" => Ty::Time,
            "Int" => Ty::Int,
            "Amount" => Ty::Amount,
            "Bool" | "Cond" => Ty::Cond,
            _ => return None,
        })
    }

    /// Every type name a user can write, for suggestions.
    pub const NAMES: &'static [&'static str] = &[
        "PubKey",
        "Sha256",
        "Hash256",
        "Ripemd160",
        "Hash160",
        "Bytes32",
        "Blocks",
        "Duration",
        "Height",
        "Time",
        "Int",
        "Amount",
        "Bool",
        "Cond",
        "Commitment",
    ];

    /// Whether the type is one of the four hash types.
    pub fn is_hash(&self) -> bool {
        matches!(self, Ty::Sha256 | Ty::Hash256 | Ty::Ripemd160 | Ty::Hash160)
    }

    /// Whether the type is a number (with or without a unit).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Ty::Blocks | Ty::Duration | Ty::Height | Ty::Time | Ty::Int | Ty::Amount
        )
    }

    /// The length in bytes of a value of a fixed-size byte type.
    pub fn byte_len(&self) -> Option<usize> {
        match self {
            Ty::Sha256 | Ty::Hash256 | Ty::Bytes32 => Some(32),
            Ty::Ripemd160 | Ty::Hash160 => Some(20),
            _ => None,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::PubKey => f.write_str("PubKey"),
            Ty::Sha256 => f.write_str("Sha256"),
            Ty::Hash256 => f.write_str("Hash256"),
            Ty::Ripemd160 => f.write_str("Ripemd160"),
            Ty::Hash160 => f.write_str("Hash160"),
            Ty::Bytes32 => f.write_str("Bytes32"),
            Ty::Blocks => f.write_str("Blocks"),
            Ty::Duration => f.write_str("Duration"),
            Ty::Height => f.write_str("Height"),
            Ty::Time => f.write_str("Time"),
            Ty::Int => f.write_str("Int"),
            Ty::Amount => f.write_str("Amount"),
            Ty::Cond => f.write_str("Cond"),
            Ty::Str => f.write_str("String"),
            Ty::Commitment => f.write_str("Commitment<u64>"),
            Ty::Array(elem, n) => write!(f, "[{elem}; {n}]"),
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}
