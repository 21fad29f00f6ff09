//! Argument values: the one value type of contract parameters and spend arguments.
//!
//! In: a [`ValueType`] (read from the ABI's type text, `PubKey`, `[Blocks; 2]`) and the text a
//! person wrote. Out: a typed [`Value`] (rust-miniscript keys, rust-bitcoin hashes and
//! amounts, lock values in their consensus ranges), or a [`ValueError`] that says what the
//! type accepts.
//!
//! Argument syntax:
//! - keys: hex, 32-byte x-only or 33-byte compressed; or an extended public key with a
//!   derivation path and optional origin (`[d34db33f/48'/0'/0']xpub.../0/1`), not ranged;
//! - hashes: hex of the hash's length; `Bytes32`: 64 hex digits;
//! - `Blocks` (1..=65535) and `Height` (1..=499999999): integers;
//! - `Duration`: a number and a unit (`s`, `m`, `h`, `d`, `w`, or the words), e.g. `7d`,
//!   `10h`, `3600s`, `2 weeks`; rounded **up** to BIP68's 512-second units (W0101 when not
//!   exact), at most 65535 units (about 388 days);
//! - `Time`: a unix timestamp (>= 500000000) or an RFC 3339 date-time / date in UTC or with
//!   an offset (`2027-01-01T00:00:00Z`, `2027-01-01`);
//! - `Int`: a signed 64-bit integer; `Amount`: satoshis, or `0.1btc` / `1000sat`;
//!   `Bool`: `true`/`false`;
//! - arrays: the elements separated by commas.

use std::fmt;
use std::str::FromStr;

use bitcoin::hashes::{hash160, ripemd160, sha256, Hash};
use bitcoin::{Amount, Network, XOnlyPublicKey};
use miniscript::descriptor::{DescriptorPublicKey, SinglePub, SinglePubKey};
use miniscript::hash256;
use serde::{Deserialize, Serialize};

use crate::units::{
    parse_amount, parse_date_time, parse_digits, parse_duration_seconds, AmountSyntax,
    LOCK_TIME_THRESHOLD,
};

/// The type of a contract parameter, as far as instantiation cares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// A public key.
    PubKey,
    /// A SHA-256 hash.
    Sha256,
    /// A double SHA-256 hash.
    Hash256,
    /// A RIPEMD-160 hash.
    Ripemd160,
    /// A HASH160 (RIPEMD-160 of SHA-256).
    Hash160,
    /// 32 bytes.
    Bytes32,
    /// A relative lock in blocks.
    Blocks,
    /// A relative lock in time.
    Duration,
    /// An absolute block height.
    Height,
    /// An absolute time.
    Time,
    /// An integer.
    Int,
    /// An amount of bitcoin.
    Amount,
    /// A boolean.
    Bool,
    /// A fixed-length array.
    Array(Box<ValueType>, u32),
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Array(t, n) => write!(f, "[{t}; {n}]"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl ValueType {
    /// The value type of a BiSCOL type as the ABI writes it (`PubKey`, `[PubKey; 3]`, `Bool`
    /// or `Cond`); `None` for a type that has no argument form.
    pub fn from_abi(text: &str) -> Option<ValueType> {
        let t = text.trim();
        if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let (elem, n) = inner.rsplit_once(';')?;
            return Some(ValueType::Array(
                Box::new(ValueType::from_abi(elem)?),
                n.trim().parse().ok()?,
            ));
        }
        Some(match t {
            "PubKey" => ValueType::PubKey,
            "Sha256" => ValueType::Sha256,
            "Hash256" => ValueType::Hash256,
            "Ripemd160" => ValueType::Ripemd160,
            "Hash160" => ValueType::Hash160,
            "Bytes32" => ValueType::Bytes32,
            "Blocks" => ValueType::Blocks,
            "Duration" => ValueType::Duration,
            "Height" => ValueType::Height,
            "Time" => ValueType::Time,
            "Int" => ValueType::Int,
            "Amount" => ValueType::Amount,
            "Bool" | "Cond" => ValueType::Bool,
            _ => return None,
        })
    }
}

/// A contract parameter: name and type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: ValueType,
}

/// A parsed argument value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A key.
    Key(DescriptorPublicKey),
    /// A SHA-256 hash.
    Sha256(sha256::Hash),
    /// A double SHA-256 hash.
    Hash256(hash256::Hash),
    /// A RIPEMD-160 hash.
    Ripemd160(ripemd160::Hash),
    /// A HASH160.
    Hash160(hash160::Hash),
    /// 32 bytes.
    Bytes32([u8; 32]),
    /// Blocks (relative).
    Blocks(u16),
    /// A duration in BIP68 units of 512 seconds.
    Duration {
        /// The units (the value that goes into nSequence's low 16 bits).
        units: u16,
        /// The seconds that were asked for.
        seconds: u64,
    },
    /// An absolute height.
    Height(u32),
    /// An absolute unix time.
    Time(u32),
    /// An integer.
    Int(i64),
    /// An amount.
    Amount(Amount),
    /// A boolean.
    Bool(bool),
    /// An array.
    Array(Vec<Value>),
}

/// Why an argument string is not a value of its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// What the type accepts.
    pub expected: String,
    /// What was given, with any private key or long hex run in it replaced by a description
    /// ([`crate::redact::scrub_value`]): an error never carries a secret it was given.
    pub actual: String,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected {}, got {}",
            self.expected,
            crate::redact::quoted_scrubbed(&self.actual)
        )
    }
}

impl std::error::Error for ValueError {}

fn verr(expected: impl Into<String>, actual: &str) -> ValueError {
    ValueError {
        expected: expected.into(),
        actual: crate::redact::scrub_value(actual),
    }
}

fn hex_bytes<const N: usize>(s: &str, what: &str) -> Result<[u8; N], ValueError> {
    let expected = format!("{what} as {} hex digits", 2 * N);
    let bytes = hex::decode(s).map_err(|_| verr(expected.clone(), s))?;
    bytes.try_into().map_err(|_| verr(expected, s))
}

/// Parse a key argument.
pub fn parse_key(s: &str) -> Result<DescriptorPublicKey, ValueError> {
    const EXPECTED: &str = "a public key: 64 hex digits (x-only), 66 hex digits (compressed), \
                            or an xpub with a non-ranged derivation path";
    let s = s.trim();
    if s.chars().all(|c| c.is_ascii_hexdigit()) {
        let bytes = hex::decode(s).map_err(|_| verr(EXPECTED, s))?;
        let key = match bytes.len() {
            32 => SinglePubKey::XOnly(
                XOnlyPublicKey::from_slice(&bytes).map_err(|_| verr(EXPECTED, s))?,
            ),
            33 => SinglePubKey::FullKey(
                bitcoin::PublicKey::from_slice(&bytes).map_err(|_| verr(EXPECTED, s))?,
            ),
            _ => return Err(verr(EXPECTED, s)),
        };
        return Ok(DescriptorPublicKey::Single(SinglePub { origin: None, key }));
    }
    let key = DescriptorPublicKey::from_str(s).map_err(|_| verr(EXPECTED, s))?;
    if key.has_wildcard() || key.is_multipath() {
        return Err(verr(
            "a key with a fixed derivation path (no `*`, no `<a;b>`)",
            s,
        ));
    }
    if let DescriptorPublicKey::Single(SinglePub {
        key: SinglePubKey::FullKey(pk),
        ..
    }) = &key
    {
        if !pk.compressed {
            return Err(verr(EXPECTED, s));
        }
    }
    // Hardened steps after an xpub cannot be derived.
    if key.clone().at_derivation_index(0).is_err() {
        return Err(verr(EXPECTED, s));
    }
    Ok(key)
}

/// Parse one argument string as a value of `ty`.
pub fn parse_value(ty: &ValueType, s: &str) -> Result<Value, ValueError> {
    let t = s.trim();
    match ty {
        ValueType::PubKey => parse_key(t).map(Value::Key),
        ValueType::Sha256 => Ok(Value::Sha256(sha256::Hash::from_byte_array(
            hex_bytes::<32>(t, "a SHA-256 hash")?,
        ))),
        ValueType::Hash256 => Ok(Value::Hash256(hash256::Hash::from_byte_array(hex_bytes::<
            32,
        >(
            t,
            "a HASH256 hash",
        )?))),
        ValueType::Ripemd160 => Ok(Value::Ripemd160(ripemd160::Hash::from_byte_array(
            hex_bytes::<20>(t, "a RIPEMD-160 hash")?,
        ))),
        ValueType::Hash160 => Ok(Value::Hash160(hash160::Hash::from_byte_array(hex_bytes::<
            20,
        >(
            t,
            "a HASH160 hash",
        )?))),
        ValueType::Bytes32 => Ok(Value::Bytes32(hex_bytes::<32>(t, "32 bytes")?)),
        ValueType::Blocks => {
            const E: &str = "a number of blocks from 1 to 65535";
            let n = parse_digits(t.strip_suffix("blocks").unwrap_or(t).trim())
                .ok_or_else(|| verr(E, s))?;
            match u16::try_from(n) {
                Ok(n) if n >= 1 => Ok(Value::Blocks(n)),
                _ => Err(verr(E, s)),
            }
        }
        ValueType::Duration => {
            const E: &str = "a duration from 1 second to 65535 × 512 seconds (about 388 days)";
            let seconds = parse_duration_seconds(t).ok_or_else(|| {
                verr(
                    "a duration such as `7d`, `10h`, `30m`, `3600s` or `2 weeks`",
                    s,
                )
            })?;
            let units = seconds.div_ceil(512);
            match u16::try_from(units) {
                Ok(u) if u >= 1 => Ok(Value::Duration { units: u, seconds }),
                _ => Err(verr(E, s)),
            }
        }
        ValueType::Height => {
            const E: &str = "a block height from 1 to 499999999";
            match parse_digits(t) {
                Some(n) if (1..u64::from(LOCK_TIME_THRESHOLD)).contains(&n) => {
                    Ok(Value::Height(n as u32))
                }
                _ => Err(verr(E, s)),
            }
        }
        ValueType::Time => {
            const E: &str = "a unix time from 500000000 to 2147483647, or an RFC 3339 date \
                             such as 2027-01-01T00:00:00Z";
            let secs = match parse_digits(t) {
                Some(n) => i64::try_from(n).map_err(|_| verr(E, s))?,
                None => parse_date_time(t).ok_or_else(|| verr(E, s))?,
            };
            if (i64::from(LOCK_TIME_THRESHOLD)..=0x7fff_ffff).contains(&secs) {
                Ok(Value::Time(secs as u32))
            } else {
                Err(verr(E, s))
            }
        }
        ValueType::Int => t
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| verr("an integer", s)),
        ValueType::Amount => parse_amount(t, AmountSyntax::UnitOptional)
            .map(Value::Amount)
            .ok_or_else(|| {
                verr(
                    "an amount of at most 21000000 BTC: satoshis, or a number followed by `btc` \
                     or `sat`",
                    s,
                )
            }),
        ValueType::Bool => match t {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(verr("`true` or `false`", s)),
        },
        ValueType::Array(inner, n) => {
            let parts: Vec<&str> = if t.is_empty() {
                Vec::new()
            } else {
                t.split(',').collect()
            };
            if parts.len() != *n as usize {
                return Err(verr(
                    format!("{n} comma-separated values of type {inner}"),
                    s,
                ));
            }
            parts
                .iter()
                .map(|p| parse_value(inner, p))
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
    }
}

/// Parse a network name.
pub fn parse_network(s: &str) -> Result<Network, ValueError> {
    match s {
        "bitcoin" | "mainnet" | "main" => Ok(Network::Bitcoin),
        "testnet" | "testnet3" => Ok(Network::Testnet),
        "testnet4" => Ok(Network::Testnet4),
        "signet" => Ok(Network::Signet),
        "regtest" => Ok(Network::Regtest),
        _ => Err(verr("bitcoin, testnet, testnet4, signet or regtest", s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up() {
        assert_eq!(
            parse_value(&ValueType::Duration, "7d"),
            Ok(Value::Duration {
                units: 1182,
                seconds: 604_800
            })
        );
        assert_eq!(
            parse_value(&ValueType::Duration, "1024s"),
            Ok(Value::Duration {
                units: 2,
                seconds: 1024
            })
        );
        assert!(parse_value(&ValueType::Duration, "400d").is_err());
        assert!(parse_value(&ValueType::Duration, "0s").is_err());
        assert!(parse_value(&ValueType::Duration, "7 parsecs").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_date_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date_time("2000-03-01"), Some(951_868_800));
        assert_eq!(
            parse_date_time("2027-01-01T01:00:00+01:00"),
            parse_date_time("2027-01-01")
        );
        assert_eq!(
            parse_value(&ValueType::Time, "2027-01-01"),
            Ok(Value::Time(1_798_761_600))
        );
        assert!(parse_value(&ValueType::Time, "2027-02-30").is_err());
        assert!(parse_value(&ValueType::Time, "499999999").is_err());
        assert!(parse_value(&ValueType::Time, "2040-01-01").is_err());
    }

    #[test]
    fn numbers_and_arrays() {
        assert_eq!(
            parse_value(&ValueType::Blocks, "144"),
            Ok(Value::Blocks(144))
        );
        assert!(parse_value(&ValueType::Blocks, "0").is_err());
        assert!(parse_value(&ValueType::Blocks, "65536").is_err());
        assert!(parse_value(&ValueType::Height, "500000000").is_err());
        assert_eq!(
            parse_value(&ValueType::Amount, "0.1btc"),
            Ok(Value::Amount(Amount::from_sat(10_000_000)))
        );
        let arr = ValueType::Array(Box::new(ValueType::Blocks), 2);
        assert_eq!(
            parse_value(&arr, "1,2"),
            Ok(Value::Array(vec![Value::Blocks(1), Value::Blocks(2)]))
        );
        let e = parse_value(&arr, "1").unwrap_err();
        assert_eq!(e.actual, "1");
    }

    #[test]
    fn a_private_key_given_for_a_public_one_is_not_repeated() {
        let tprv = "tprv8ZgxMBicQKsPdAyEbJuqUpaTo5f9yc88jgymkH4M2An4bK8jdYJLqADKZnYkLrx2t4VNJy6vu6ZjcFzstwVh3u7p2NKQjbqunLGVvDHawYG";
        for text in [
            tprv.to_string(),
            format!("{tprv}/0/1"),
            format!("{tprv},{tprv}"),
        ] {
            let e = parse_value(&ValueType::PubKey, &text).unwrap_err();
            let message = e.to_string();
            assert!(!message.contains(&tprv[..20]), "{message}");
            assert!(!e.actual.contains(&tprv[..20]), "{e:?}");
            assert!(message.contains("a private extended key"), "{message}");
        }
        // A hex private key given for a public key, or a preimage of the wrong length, is
        // described by its length.
        let hex_secret = "ff".repeat(32);
        for (ty, text) in [
            (ValueType::PubKey, hex_secret.clone()),
            (ValueType::Bytes32, hex_secret[..62].to_string()),
            (ValueType::Sha256, format!("{hex_secret}00")),
        ] {
            let e = parse_value(&ty, &text).unwrap_err();
            let message = e.to_string();
            assert!(!message.contains(&hex_secret[..31]), "{message}");
            assert!(message.contains("hex digits (not shown)"), "{message}");
        }
        let e = parse_value(&ValueType::PubKey, tprv).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("got a private extended key (not shown)"),
            "{e}"
        );
    }

    #[test]
    fn amounts_above_21_million_btc_are_not_values() {
        for text in ["21000001btc", "18446744073709551615sat", "2100000000000001"] {
            let e = parse_value(&ValueType::Amount, text).unwrap_err();
            assert!(e.to_string().contains("at most 21000000 BTC"), "{e}");
        }
    }
}
