//! Parameter placeholders: the key type of Miniscript *templates*.
//!
//! In: nothing but names. Out: [`ParamKey`], a [`MiniscriptKey`] that stands for a contract
//! parameter (a key, or a hash when used as one of the key's hash types), and
//! [`Binder`], a miniscript [`Translator`] that replaces placeholders by bound values.
//!
//! A template such as `and_v(v:pk(receiver),sha256(hash))` is a
//! `Miniscript<ParamKey, Tap>`: `receiver` is a `ParamKey` used as a key, `hash` is a
//! `ParamKey` used as a SHA-256 hash. An array element is written `heirs[1]`.
//!
//! Invariants: a placeholder's name is an identifier (`[A-Za-z_][A-Za-z0-9_]*`); names that
//! start with `__` are reserved for this crate. Display and [`FromStr`] round-trip.
//!
//! ```
//! use biscol_artifact::key::ParamKey;
//! let k: ParamKey = "heirs[1]".parse().unwrap();
//! assert_eq!(k, ParamKey::element("heirs", 1));
//! assert_eq!(k.to_string(), "heirs[1]");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use miniscript::bitcoin::hashes::{hash160, ripemd160, sha256};
use miniscript::{hash256, DescriptorPublicKey, MiniscriptKey, Translator};

/// A placeholder for a contract parameter, or for one element of an array parameter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParamKey {
    /// The parameter's name as written in the source.
    pub name: String,
    /// The element index for an array parameter (`heirs[1]`), `None` for a scalar.
    pub index: Option<u32>,
}

impl ParamKey {
    /// A scalar parameter `name`.
    pub fn new(name: impl Into<String>) -> Self {
        ParamKey {
            name: name.into(),
            index: None,
        }
    }

    /// The element `name[index]` of an array parameter.
    pub fn element(name: impl Into<String>, index: u32) -> Self {
        ParamKey {
            name: name.into(),
            index: Some(index),
        }
    }
}

impl fmt::Display for ParamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            None => f.write_str(&self.name),
            Some(i) => write!(f, "{}[{}]", self.name, i),
        }
    }
}

/// Why a string is not a parameter placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamKeyError {
    /// The rejected text.
    pub actual: String,
    /// What was expected instead.
    pub expected: &'static str,
}

impl fmt::Display for ParamKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a parameter placeholder: expected {}",
            self.actual, self.expected
        )
    }
}

impl std::error::Error for ParamKeyError {}

/// True when `s` is an identifier: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl FromStr for ParamKey {
    type Err = ParamKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParamKeyError {
            actual: s.to_string(),
            expected: "an identifier, optionally followed by [index]",
        };
        match s.split_once('[') {
            None if is_identifier(s) => Ok(ParamKey::new(s)),
            None => Err(err()),
            Some((name, rest)) => {
                let digits = rest.strip_suffix(']').ok_or_else(err)?;
                if !is_identifier(name)
                    || digits.is_empty()
                    || !digits.chars().all(|c| c.is_ascii_digit())
                    || (digits.len() > 1 && digits.starts_with('0'))
                {
                    return Err(err());
                }
                let index = digits.parse::<u32>().map_err(|_| err())?;
                Ok(ParamKey::element(name, index))
            }
        }
    }
}

impl MiniscriptKey for ParamKey {
    type Sha256 = ParamKey;
    type Hash256 = ParamKey;
    type Ripemd160 = ParamKey;
    type Hash160 = ParamKey;
}

/// Bound values for the placeholders of a template: keys and the four hash kinds.
///
/// Built by [`crate::instantiate`]; public so that callers with already-typed values can
/// translate templates themselves.
#[derive(Clone, Debug, Default)]
pub struct Bindings {
    /// Keys by placeholder.
    pub keys: BTreeMap<ParamKey, DescriptorPublicKey>,
    /// SHA-256 hashes by placeholder.
    pub sha256: BTreeMap<ParamKey, sha256::Hash>,
    /// Double SHA-256 hashes by placeholder.
    pub hash256: BTreeMap<ParamKey, hash256::Hash>,
    /// RIPEMD-160 hashes by placeholder.
    pub ripemd160: BTreeMap<ParamKey, ripemd160::Hash>,
    /// HASH160 hashes by placeholder.
    pub hash160: BTreeMap<ParamKey, hash160::Hash>,
}

/// A placeholder that has no bound value of the needed kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnboundPlaceholder {
    /// The placeholder.
    pub placeholder: ParamKey,
    /// The kind of value that was needed (`key`, `sha256`, ...).
    pub expected: &'static str,
}

impl fmt::Display for UnboundPlaceholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no {} value is bound to `{}`",
            self.expected, self.placeholder
        )
    }
}

impl std::error::Error for UnboundPlaceholder {}

/// A miniscript [`Translator`] from templates to concrete keys and hashes.
pub struct Binder<'a> {
    /// The values to substitute.
    pub bindings: &'a Bindings,
}

fn lookup<T: Clone>(
    map: &BTreeMap<ParamKey, T>,
    key: &ParamKey,
    expected: &'static str,
) -> Result<T, UnboundPlaceholder> {
    map.get(key).cloned().ok_or_else(|| UnboundPlaceholder {
        placeholder: key.clone(),
        expected,
    })
}

impl Translator<ParamKey> for Binder<'_> {
    type TargetPk = DescriptorPublicKey;
    type Error = UnboundPlaceholder;

    fn pk(&mut self, pk: &ParamKey) -> Result<DescriptorPublicKey, Self::Error> {
        lookup(&self.bindings.keys, pk, "key")
    }

    fn sha256(&mut self, h: &ParamKey) -> Result<sha256::Hash, Self::Error> {
        lookup(&self.bindings.sha256, h, "sha256")
    }

    fn hash256(&mut self, h: &ParamKey) -> Result<hash256::Hash, Self::Error> {
        lookup(&self.bindings.hash256, h, "hash256")
    }

    fn ripemd160(&mut self, h: &ParamKey) -> Result<ripemd160::Hash, Self::Error> {
        lookup(&self.bindings.ripemd160, h, "ripemd160")
    }

    fn hash160(&mut self, h: &ParamKey) -> Result<hash160::Hash, Self::Error> {
        lookup(&self.bindings.hash160, h, "hash160")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for s in ["a", "heirs[0]", "heirs[12]", "_x1"] {
            let k: ParamKey = s.parse().unwrap();
            assert_eq!(k.to_string(), s);
        }
        for s in ["", "1a", "a[", "a[]", "a[01]", "a[x]", "a b", "a[1]x"] {
            assert!(s.parse::<ParamKey>().is_err(), "{s}");
        }
    }
}
