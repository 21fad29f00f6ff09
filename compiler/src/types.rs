//! The types of BiSCOL values.
//!
//! `Bool` and `Cond` name the same type: a spending condition. `Commitment` is the type of a
//! confidential value (a Pedersen commitment to a `u64`), usable only in `prove`.
//!
//! One notion of type, one spelling: the names a user writes, the way a type is shown in
//! messages and the text an artifact's ABI records for a parameter all come from the one table
//! here, and [`Ty::parse`] reads back what `Display` writes (an ABI type string).

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

/// The types written by a plain name, each with that name, in the order suggestions list
/// them. `Bool` and `Cond` name the same type; `Cond` is the name it is shown by.
const NAMED: &[(&str, Ty)] = &[
    ("PubKey", Ty::PubKey),
    ("Sha256", Ty::Sha256),
    ("Hash256", Ty::Hash256),
    ("Ripemd160", Ty::Ripemd160),
    ("Hash160", Ty::Hash160),
    ("Bytes32", Ty::Bytes32),
    ("Blocks", Ty::Blocks),
    ("Duration", Ty::Duration),
    ("Height", Ty::Height),
    ("Time", Ty::Time),
    ("Int", Ty::Int),
    ("Amount", Ty::Amount),
    ("Bool", Ty::Cond),
    ("Cond", Ty::Cond),
];

/// The name of the generic commitment type, written `Commitment<u64>`.
const COMMITMENT: &str = "Commitment";

const fn type_names() -> [&'static str; NAMED.len() + 1] {
    let mut out = [COMMITMENT; NAMED.len() + 1];
    let mut i = 0;
    while i < NAMED.len() {
        out[i] = NAMED[i].0;
        i += 1;
    }
    out
}

impl Ty {
    /// The type named `name` (without generic arguments), if any.
    pub fn from_name(name: &str) -> Option<Ty> {
        NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, ty)| ty.clone())
    }

    /// Every type name a user can write, for suggestions.
    pub const NAMES: &'static [&'static str] = &type_names();

    /// The type a text names in the form [`Ty`]'s `Display` writes it (`PubKey`,
    /// `[PubKey; 3]`, `Commitment<u64>`, `String`; `Bool` too): the parameter types of an
    /// artifact's ABI are written so. `None` for anything else, and for `{unknown}`.
    pub fn parse(text: &str) -> Option<Ty> {
        let t = text.trim();
        if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let (elem, n) = inner.rsplit_once(';')?;
            return Some(Ty::Array(
                Box::new(Ty::parse(elem)?),
                n.trim().parse().ok()?,
            ));
        }
        match t {
            "Commitment<u64>" => Some(Ty::Commitment),
            "String" => Some(Ty::Str),
            _ => Ty::from_name(t),
        }
    }

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
            Ty::Str => f.write_str("String"),
            Ty::Commitment => write!(f, "{COMMITMENT}<u64>"),
            Ty::Array(elem, n) => write!(f, "[{elem}; {n}]"),
            Ty::Error => f.write_str("{unknown}"),
            named => {
                // The last name of a type is the one it is shown by (`Cond`, not `Bool`).
                let name = NAMED.iter().rev().find(|(_, ty)| ty == named);
                f.write_str(name.map_or("{unknown}", |(n, _)| n))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ty;

    #[test]
    fn every_type_reads_back_from_how_it_is_shown() {
        let mut types: Vec<Ty> = Ty::NAMES.iter().filter_map(|n| Ty::from_name(n)).collect();
        types.extend([Ty::Str, Ty::Commitment]);
        types.push(Ty::Array(Box::new(Ty::PubKey), 3));
        types.push(Ty::Array(Box::new(Ty::Array(Box::new(Ty::Blocks), 2)), 4));
        for ty in types {
            assert_eq!(Ty::parse(&ty.to_string()), Some(ty.clone()), "{ty}");
        }
        assert_eq!(Ty::Cond.to_string(), "Cond");
        assert_eq!(Ty::from_name("Bool"), Some(Ty::Cond));
        assert_eq!(Ty::parse("Bool"), Some(Ty::Cond));
        assert_eq!(Ty::parse("{unknown}"), None);
        assert_eq!(Ty::parse("[PubKey; x]"), None);
    }

    #[test]
    fn names_are_the_named_types_and_commitment() {
        assert_eq!(Ty::NAMES.len(), 15);
        assert_eq!(Ty::NAMES.first(), Some(&"PubKey"));
        assert_eq!(Ty::NAMES.last(), Some(&"Commitment"));
        assert!(Ty::NAMES
            .iter()
            .all(|n| *n == "Commitment" || Ty::from_name(n).is_some()));
    }
}
