//! Instantiation: bind argument values to a compiled contract and derive what a funder needs.
//!
//! In: a [`TaprootArtifact`] (or a [`Compiled`] contract), the contract's parameters with
//! their [`ValueType`]s, the arguments as user strings, and a network. Out: an [`Instance`]:
//! the `tr(...)#checksum` descriptor (BIP380/386, printed by rust-miniscript), internal key,
//! merkle root, tweak, output key, scriptPubKey, BIP350 address, and per leaf its script,
//! depth, leaf hash, control block and the nSequence/nLockTime it needs.
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
//!
//! A MuSig2 key path is aggregated here (BIP327, keys in the order written) and the
//! descriptor carries the aggregate as a plain x-only key, since rust-miniscript 13 has no
//! `musig()`; the instance lists the keys that went into it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use bitcoin::hashes::{hash160, ripemd160, sha256, Hash};
use bitcoin::{Network, XOnlyPublicKey};
use miniscript::descriptor::{DescriptorPublicKey, SinglePub, SinglePubKey, TapTree};
use miniscript::iter::TreeLike;
use miniscript::{
    hash256, AbsLockTime, Descriptor, Miniscript, MiniscriptKey, RelLockTime, Tap, Terminal,
    Threshold,
};
use secp256k1::SECP256K1;
use serde::{Deserialize, Serialize};

use crate::analysis::{Code, Finding};
use crate::artifact::{needs_of, ArtifactError, Needs, TaprootArtifact};
use crate::compile::Compiled;
use crate::input::{KeyPath, TimelockKind};
use crate::key::{Binder, Bindings, ParamKey, UnboundPlaceholder};
use crate::keypath::{musig_internal_key, nums_point, KeyAggError};
use crate::tree::{build_output, TreeError};

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
    /// Satoshis.
    Amount(u64),
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
    /// What was given.
    pub actual: String,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, got `{}`", self.expected, self.actual)
    }
}

impl std::error::Error for ValueError {}

fn verr(expected: impl Into<String>, actual: &str) -> ValueError {
    ValueError {
        expected: expected.into(),
        actual: actual.to_string(),
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

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse a duration into seconds.
pub fn parse_duration_seconds(s: &str) -> Result<u64, ValueError> {
    const EXPECTED: &str = "a duration such as `7d`, `10h`, `30m`, `3600s` or `2 weeks`";
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n = parse_u64(num).ok_or_else(|| verr(EXPECTED, s))?;
    let mult = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return Err(verr(EXPECTED, s)),
    };
    n.checked_mul(mult).ok_or_else(|| verr(EXPECTED, s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parse an RFC 3339 date-time (or a plain date, meaning midnight UTC) to a unix time.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.chars().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let mut t = days_from_civil(y, mo, d) * 86_400;
    if b.len() == 10 {
        return Some(t);
    }
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    t += h * 3600 + mi * 60 + sec.min(59);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    match rest {
        "Z" | "z" => Some(t),
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            Some(if rb[0] == b'+' { t - off } else { t + off })
        }
    }
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
            let n = parse_u64(t.strip_suffix("blocks").unwrap_or(t).trim())
                .ok_or_else(|| verr(E, s))?;
            match u16::try_from(n) {
                Ok(n) if n >= 1 => Ok(Value::Blocks(n)),
                _ => Err(verr(E, s)),
            }
        }
        ValueType::Duration => {
            const E: &str = "a duration from 1 second to 65535 × 512 seconds (about 388 days)";
            let seconds = parse_duration_seconds(t)?;
            let units = seconds.div_ceil(512);
            match u16::try_from(units) {
                Ok(u) if u >= 1 => Ok(Value::Duration { units: u, seconds }),
                _ => Err(verr(E, s)),
            }
        }
        ValueType::Height => {
            const E: &str = "a block height from 1 to 499999999";
            match parse_u64(t) {
                Some(n) if (1..500_000_000).contains(&n) => Ok(Value::Height(n as u32)),
                _ => Err(verr(E, s)),
            }
        }
        ValueType::Time => {
            const E: &str = "a unix time from 500000000 to 2147483647, or an RFC 3339 date \
                             such as 2027-01-01T00:00:00Z";
            let secs = match parse_u64(t) {
                Some(n) => n as i64,
                None => parse_rfc3339(t).ok_or_else(|| verr(E, s))?,
            };
            if (500_000_000..=0x7fff_ffff).contains(&secs) {
                Ok(Value::Time(secs as u32))
            } else {
                Err(verr(E, s))
            }
        }
        ValueType::Int => t
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| verr("an integer", s)),
        ValueType::Amount => parse_amount(t).map(Value::Amount).ok_or_else(|| {
            verr(
                "an amount: satoshis, or a number followed by `btc` or `sat`",
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

fn parse_amount(t: &str) -> Option<u64> {
    if let Some(btc) = t.strip_suffix("btc").map(str::trim) {
        bitcoin::Amount::from_str_in(btc, bitcoin::Denomination::Bitcoin)
            .ok()
            .map(|a| a.to_sat())
    } else {
        parse_u64(t.strip_suffix("sat").map(str::trim).unwrap_or(t))
    }
}

/// Why instantiation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum InstantiateError {
    /// A parameter has no argument.
    Missing {
        /// The parameter.
        argument: String,
    },
    /// An argument names no parameter.
    Unknown {
        /// The argument's name.
        argument: String,
    },
    /// An argument's value does not parse.
    Value {
        /// The argument.
        argument: String,
        /// Its type.
        ty: ValueType,
        /// What went wrong.
        error: ValueError,
    },
    /// The artifact cannot be read.
    Artifact(ArtifactError),
    /// A template placeholder has no value (the parameter list does not match the artifact).
    Unbound(UnboundPlaceholder),
    /// A timelock parameter has no value of its kind.
    UnboundTimelock {
        /// The parameter.
        argument: String,
        /// The kind it needs.
        expected: TimelockKind,
    },
    /// The MuSig2 aggregation failed.
    KeyAgg(KeyAggError),
    /// The bound leaves are not sane (for example two parameters bound to the same key).
    InsaneLeaf {
        /// The finding.
        finding: Finding,
    },
    /// The tree could not be built.
    Tree(TreeError),
    /// rust-miniscript refused the descriptor.
    Descriptor {
        /// Its message.
        message: String,
    },
}

impl fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantiateError::Missing { argument } => write!(f, "missing argument `{argument}`"),
            InstantiateError::Unknown { argument } => {
                write!(
                    f,
                    "unknown argument `{argument}`: the contract has no such parameter"
                )
            }
            InstantiateError::Value {
                argument,
                ty,
                error,
            } => {
                write!(f, "argument `{argument}` of type {ty}: {error}")
            }
            InstantiateError::Artifact(e) => e.fmt(f),
            InstantiateError::Unbound(e) => e.fmt(f),
            InstantiateError::UnboundTimelock { argument, expected } => {
                write!(
                    f,
                    "timelock parameter `{argument}` needs a value of kind {expected:?}"
                )
            }
            InstantiateError::KeyAgg(e) => e.fmt(f),
            InstantiateError::InsaneLeaf { finding } => finding.fmt(f),
            InstantiateError::Tree(e) => e.fmt(f),
            InstantiateError::Descriptor { message } => write!(f, "descriptor: {message}"),
        }
    }
}

impl std::error::Error for InstantiateError {}

/// The key path of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceKeyPath {
    /// `single`, `musig` or `nums`.
    pub kind: String,
    /// The keys bound to the key path, as compressed hex (in the order written).
    pub keys: Vec<String>,
}

/// One leaf of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceLeaf {
    /// The spend path.
    pub path: String,
    /// The branch of the path, when split.
    pub branch: Option<usize>,
    /// The leaf's Miniscript with values.
    pub miniscript: String,
    /// The tapscript, hex.
    pub script: String,
    /// Depth in the tree.
    pub depth: u8,
    /// BIP341 leaf hash, hex.
    pub leaf_hash: String,
    /// Control block, hex.
    pub control_block: String,
    /// What a spend needs, with nSequence/nLockTime values.
    pub needs: Needs,
}

/// Everything a funder needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// `tr(...)#checksum`.
    pub descriptor: String,
    /// The network name (`bitcoin`, `testnet`, `testnet4`, `signet`, `regtest`).
    pub network: String,
    /// The BIP350 address.
    pub address: String,
    /// scriptPubKey, hex.
    pub script_pubkey: String,
    /// Internal key (x-only), hex.
    pub internal_key: String,
    /// How the internal key was made.
    pub key_path: InstanceKeyPath,
    /// Merkle root, hex; `None` without leaves.
    pub merkle_root: Option<String>,
    /// BIP341 tweak, hex.
    pub tweak: String,
    /// Output key (x-only), hex.
    pub output_key: String,
    /// Output key parity (0 even, 1 odd).
    pub output_key_parity: u8,
    /// The leaves in tree order.
    pub leaves: Vec<InstanceLeaf>,
    /// Warnings (W0101 for rounded durations).
    pub warnings: Vec<Finding>,
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

/// Instantiate a compiled contract (see [`instantiate`]).
pub fn instantiate_compiled(
    compiled: &Compiled,
    params: &[Param],
    args: &BTreeMap<String, String>,
    network: Network,
) -> Result<Instance, InstantiateError> {
    instantiate(
        &TaprootArtifact::from_compiled(compiled),
        params,
        args,
        network,
    )
}

fn bind_value(
    name: &str,
    index: Option<u32>,
    value: &Value,
    b: &mut Bindings,
    timelock_values: &mut BTreeMap<String, Value>,
) {
    let key = ParamKey {
        name: name.to_string(),
        index,
    };
    match value {
        Value::Key(k) => {
            b.keys.insert(key, k.clone());
        }
        Value::Sha256(h) => {
            b.sha256.insert(key, *h);
        }
        Value::Hash256(h) => {
            b.hash256.insert(key, *h);
        }
        Value::Ripemd160(h) => {
            b.ripemd160.insert(key, *h);
        }
        Value::Hash160(h) => {
            b.hash160.insert(key, *h);
        }
        Value::Bytes32(bytes) => {
            // A `Bytes32` parameter may be used as a SHA-256 or HASH256 hash.
            b.sha256
                .insert(key.clone(), sha256::Hash::from_byte_array(*bytes));
            b.hash256
                .insert(key, hash256::Hash::from_byte_array(*bytes));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                bind_value(name, Some(i as u32), item, b, timelock_values);
            }
        }
        Value::Blocks(_) | Value::Duration { .. } | Value::Height(_) | Value::Time(_) => {
            if index.is_none() {
                timelock_values.insert(name.to_string(), value.clone());
            }
        }
        Value::Int(_) | Value::Amount(_) | Value::Bool(_) => {}
    }
}

fn timelock_consensus(kind: TimelockKind, value: &Value) -> Option<u32> {
    match (kind, value) {
        (TimelockKind::Blocks, Value::Blocks(n)) => Some(*n as u32),
        (TimelockKind::Duration, Value::Duration { units, .. }) => Some((1 << 22) | *units as u32),
        (TimelockKind::Height, Value::Height(n)) => Some(*n),
        (TimelockKind::Time, Value::Time(n)) => Some(*n),
        _ => None,
    }
}

/// Replace timelock placeholders in a Miniscript by their values.
pub fn substitute_timelocks<Pk: MiniscriptKey>(
    ms: &Miniscript<Pk, Tap>,
    relative: &BTreeMap<u32, u32>,
    absolute: &BTreeMap<u32, u32>,
) -> Result<Miniscript<Pk, Tap>, String> {
    let mut done: Vec<Arc<Miniscript<Pk, Tap>>> = Vec::new();
    let pop = |done: &mut Vec<Arc<Miniscript<Pk, Tap>>>, n: usize| {
        let at = done
            .len()
            .checked_sub(n)
            .ok_or_else(|| "malformed tree".to_string())?;
        Ok::<_, String>(done.split_off(at))
    };
    for item in ms.post_order_iter() {
        let term = match &item.node.node {
            Terminal::Older(t) => {
                let v = t.to_consensus_u32();
                match relative.get(&v) {
                    Some(n) => {
                        Terminal::Older(RelLockTime::from_consensus(*n).map_err(|e| e.to_string())?)
                    }
                    None => Terminal::Older(*t),
                }
            }
            Terminal::After(t) => {
                let v = t.to_consensus_u32();
                match absolute.get(&v) {
                    Some(n) => {
                        Terminal::After(AbsLockTime::from_consensus(*n).map_err(|e| e.to_string())?)
                    }
                    None => Terminal::After(*t),
                }
            }
            Terminal::True => Terminal::True,
            Terminal::False => Terminal::False,
            Terminal::PkK(k) => Terminal::PkK(k.clone()),
            Terminal::PkH(k) => Terminal::PkH(k.clone()),
            Terminal::RawPkH(h) => Terminal::RawPkH(*h),
            Terminal::Sha256(h) => Terminal::Sha256(h.clone()),
            Terminal::Hash256(h) => Terminal::Hash256(h.clone()),
            Terminal::Ripemd160(h) => Terminal::Ripemd160(h.clone()),
            Terminal::Hash160(h) => Terminal::Hash160(h.clone()),
            Terminal::Multi(t) => Terminal::Multi(t.clone()),
            Terminal::MultiA(t) => Terminal::MultiA(t.clone()),
            Terminal::Alt(_)
            | Terminal::Swap(_)
            | Terminal::Check(_)
            | Terminal::DupIf(_)
            | Terminal::Verify(_)
            | Terminal::NonZero(_)
            | Terminal::ZeroNotEqual(_) => {
                let mut c = pop(&mut done, 1)?;
                let x = c.pop().ok_or("malformed tree")?;
                match &item.node.node {
                    Terminal::Alt(_) => Terminal::Alt(x),
                    Terminal::Swap(_) => Terminal::Swap(x),
                    Terminal::Check(_) => Terminal::Check(x),
                    Terminal::DupIf(_) => Terminal::DupIf(x),
                    Terminal::Verify(_) => Terminal::Verify(x),
                    Terminal::NonZero(_) => Terminal::NonZero(x),
                    _ => Terminal::ZeroNotEqual(x),
                }
            }
            Terminal::AndV(..)
            | Terminal::AndB(..)
            | Terminal::OrB(..)
            | Terminal::OrD(..)
            | Terminal::OrC(..)
            | Terminal::OrI(..) => {
                let mut c = pop(&mut done, 2)?.into_iter();
                let (x, y) = match (c.next(), c.next()) {
                    (Some(x), Some(y)) => (x, y),
                    _ => return Err("malformed tree".into()),
                };
                match &item.node.node {
                    Terminal::AndV(..) => Terminal::AndV(x, y),
                    Terminal::AndB(..) => Terminal::AndB(x, y),
                    Terminal::OrB(..) => Terminal::OrB(x, y),
                    Terminal::OrD(..) => Terminal::OrD(x, y),
                    Terminal::OrC(..) => Terminal::OrC(x, y),
                    _ => Terminal::OrI(x, y),
                }
            }
            Terminal::AndOr(..) => {
                let mut c = pop(&mut done, 3)?.into_iter();
                match (c.next(), c.next(), c.next()) {
                    (Some(x), Some(y), Some(z)) => Terminal::AndOr(x, y, z),
                    _ => return Err("malformed tree".into()),
                }
            }
            Terminal::Thresh(t) => {
                let subs = pop(&mut done, t.n())?;
                Terminal::Thresh(Threshold::new(t.k(), subs).map_err(|e| e.to_string())?)
            }
        };
        done.push(Arc::new(
            Miniscript::from_ast(term).map_err(|e| e.to_string())?,
        ));
    }
    let top = done.pop().ok_or("empty tree")?;
    Ok((*top).clone())
}

fn tap_tree_from_depths(
    leaves: Vec<(Miniscript<DescriptorPublicKey, Tap>, u8)>,
) -> Result<Option<TapTree<DescriptorPublicKey>>, TreeError> {
    let mut stack: Vec<(u8, TapTree<DescriptorPublicKey>)> = Vec::new();
    let n = leaves.len();
    for (i, (ms, depth)) in leaves.into_iter().enumerate() {
        stack.push((depth, TapTree::leaf(ms)));
        while stack.len() >= 2 && stack[stack.len() - 1].0 == stack[stack.len() - 2].0 {
            let (d, right) = stack.pop().ok_or(TreeError::InvalidDepths { leaf: i })?;
            let (_, left) = stack.pop().ok_or(TreeError::InvalidDepths { leaf: i })?;
            if d == 0 {
                return Err(TreeError::InvalidDepths { leaf: i });
            }
            let t =
                TapTree::combine(left, right).map_err(|_| TreeError::InvalidDepths { leaf: i })?;
            stack.push((d - 1, t));
        }
    }
    match stack.len() {
        0 => Ok(None),
        1 if stack[0].0 == 0 => Ok(stack.pop().map(|(_, t)| t)),
        _ => Err(TreeError::InvalidDepths { leaf: n }),
    }
}

fn xonly_of(
    k: &DescriptorPublicKey,
) -> Result<(XOnlyPublicKey, bitcoin::PublicKey), InstantiateError> {
    let definite = k
        .clone()
        .at_derivation_index(0)
        .map_err(|e| InstantiateError::Descriptor {
            message: e.to_string(),
        })?;
    let pk = definite.derive_public_key(SECP256K1);
    Ok((pk.inner.x_only_public_key().0, pk))
}

/// Bind `args` to the artifact's templates and derive the output on `network`.
///
/// Every parameter in `params` needs an argument; arguments for unknown names are refused.
pub fn instantiate(
    artifact: &TaprootArtifact,
    params: &[Param],
    args: &BTreeMap<String, String>,
    network: Network,
) -> Result<Instance, InstantiateError> {
    for name in args.keys() {
        if !params.iter().any(|p| &p.name == name) {
            return Err(InstantiateError::Unknown {
                argument: name.clone(),
            });
        }
    }
    let mut bindings = Bindings::default();
    let mut timelock_values = BTreeMap::new();
    let mut warnings = Vec::new();
    for p in params {
        let raw = args.get(&p.name).ok_or_else(|| InstantiateError::Missing {
            argument: p.name.clone(),
        })?;
        let value = parse_value(&p.ty, raw).map_err(|error| InstantiateError::Value {
            argument: p.name.clone(),
            ty: p.ty.clone(),
            error,
        })?;
        if let Value::Duration { units, seconds } = value {
            if seconds % 512 != 0 {
                warnings.push(Finding::new(
                    Code::W0101,
                    None,
                    format!(
                        "argument `{}`: {seconds} s is not a multiple of 512 s; the lock is \
                         {units} × 512 s = {} s",
                        p.name,
                        units as u64 * 512
                    ),
                ));
            }
        }
        bind_value(&p.name, None, &value, &mut bindings, &mut timelock_values);
    }

    let timelocks = artifact.timelocks();
    let mut relative = BTreeMap::new();
    let mut absolute = BTreeMap::new();
    for tp in timelocks.params() {
        let v = timelock_values
            .get(&tp.name)
            .and_then(|v| timelock_consensus(tp.kind, v))
            .ok_or_else(|| InstantiateError::UnboundTimelock {
                argument: tp.name.clone(),
                expected: tp.kind,
            })?;
        if tp.kind.is_relative() {
            relative.insert(tp.placeholder, v);
        } else {
            absolute.insert(tp.placeholder, v);
        }
    }

    // Internal key.
    let key_path = artifact.key_path().map_err(InstantiateError::Artifact)?;
    let mut binder = Binder {
        bindings: &bindings,
    };
    let (internal, kp) = match &key_path {
        KeyPath::Single(k) => {
            let dpk =
                miniscript::Translator::pk(&mut binder, k).map_err(InstantiateError::Unbound)?;
            let (_, full) = xonly_of(&dpk)?;
            (
                dpk,
                InstanceKeyPath {
                    kind: "single".into(),
                    keys: vec![full.to_string()],
                },
            )
        }
        KeyPath::MuSig(ks) => {
            let mut full = Vec::with_capacity(ks.len());
            for k in ks {
                let dpk = miniscript::Translator::pk(&mut binder, k)
                    .map_err(InstantiateError::Unbound)?;
                full.push(xonly_of(&dpk)?.1.inner);
            }
            let agg = musig_internal_key(&full).map_err(InstantiateError::KeyAgg)?;
            (
                DescriptorPublicKey::Single(SinglePub {
                    origin: None,
                    key: SinglePubKey::XOnly(agg),
                }),
                InstanceKeyPath {
                    kind: "musig".into(),
                    keys: full.iter().map(|k| k.to_string()).collect(),
                },
            )
        }
        KeyPath::Nums => (
            DescriptorPublicKey::Single(SinglePub {
                origin: None,
                key: SinglePubKey::XOnly(nums_point()),
            }),
            InstanceKeyPath {
                kind: "nums".into(),
                keys: vec![],
            },
        ),
    };
    let internal_xonly = xonly_of(&internal)?.0;

    // Leaves.
    let templates = artifact
        .leaf_templates()
        .map_err(InstantiateError::Artifact)?;
    let mut bound = Vec::with_capacity(templates.len());
    for (i, (template, depth)) in templates.iter().enumerate() {
        let with_values = substitute_timelocks(template, &relative, &absolute)
            .map_err(|message| InstantiateError::Descriptor { message })?;
        let ms = with_values.translate_pk(&mut binder).map_err(|e| match e {
            miniscript::TranslateErr::TranslatorErr(u) => InstantiateError::Unbound(u),
            miniscript::TranslateErr::OuterError(e) => InstantiateError::Descriptor {
                message: e.to_string(),
            },
        })?;
        // Two parameters bound to the same key make a leaf insane (E0102).
        let mut seen = std::collections::BTreeSet::new();
        for k in ms.iter_pk() {
            if !seen.insert(xonly_of(&k)?.0) {
                let path = artifact.leaves.get(i).map(|l| l.path.as_str());
                return Err(InstantiateError::InsaneLeaf {
                    finding: Finding::new(
                        Code::E0102,
                        path,
                        format!("key {k} is bound to two parameters of one leaf"),
                    )
                    .with_leaf(ms.to_string()),
                });
            }
        }
        bound.push((ms, *depth));
    }
    let tree = tap_tree_from_depths(bound.clone()).map_err(InstantiateError::Tree)?;
    let descriptor =
        Descriptor::new_tr(internal, tree).map_err(|e| InstantiateError::Descriptor {
            message: e.to_string(),
        })?;
    let derived =
        descriptor
            .derived_descriptor(SECP256K1, 0)
            .map_err(|e| InstantiateError::Descriptor {
                message: e.to_string(),
            })?;

    // Our own builder computes the output; it must agree with rust-miniscript's descriptor.
    let mut leaf_scripts = Vec::with_capacity(bound.len());
    let mut derived_leaves = Vec::with_capacity(bound.len());
    if let Descriptor::Tr(tr) = &derived {
        for item in tr.leaves() {
            leaf_scripts.push((item.depth(), item.compute_script(), item.leaf_version()));
            derived_leaves.push(item.miniscript().to_string());
        }
    }
    let output = build_output(internal_xonly, &leaf_scripts).map_err(InstantiateError::Tree)?;
    if output.script_pubkey != derived.script_pubkey() {
        return Err(InstantiateError::Descriptor {
            message: "internal error: the Taproot builder and the descriptor disagree".into(),
        });
    }
    let address = output.address(network).map_err(InstantiateError::Tree)?;

    let mut leaves = Vec::with_capacity(output.leaves.len());
    for (i, leaf) in output.leaves.iter().enumerate() {
        let art = artifact.leaves.get(i);
        let mut needs = match templates.get(i) {
            Some((t, _)) => needs_of(t, &timelocks),
            None => Needs::default(),
        };
        for need in &mut needs.timelocks {
            if let Some(param) = &need.param {
                let v = timelocks
                    .params()
                    .iter()
                    .find(|p| &p.name == param)
                    .and_then(|p| {
                        timelock_values
                            .get(&p.name)
                            .and_then(|v| timelock_consensus(p.kind, v))
                    });
                need.value = v;
                if need.op == "older" {
                    need.n_sequence = v;
                } else {
                    need.n_lock_time = v;
                }
            }
        }
        leaves.push(InstanceLeaf {
            path: art.map(|l| l.path.clone()).unwrap_or_default(),
            branch: art.and_then(|l| l.branch),
            miniscript: derived_leaves.get(i).cloned().unwrap_or_default(),
            script: hex::encode(leaf.script.as_bytes()),
            depth: leaf.depth,
            leaf_hash: leaf.leaf_hash.to_string(),
            control_block: hex::encode(&leaf.control_block),
            needs,
        });
    }
    Ok(Instance {
        descriptor: descriptor.to_string(),
        network: network.to_core_arg().to_string(),
        address: address.to_string(),
        script_pubkey: hex::encode(output.script_pubkey.as_bytes()),
        internal_key: internal_xonly.to_string(),
        key_path: kp,
        merkle_root: output.merkle_root.map(|r| r.to_string()),
        tweak: hex::encode(output.tweak),
        output_key: output.output_key.to_string(),
        output_key_parity: output.output_key_odd as u8,
        leaves,
        warnings,
    })
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
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2000-03-01"), Some(951_868_800));
        assert_eq!(
            parse_rfc3339("2027-01-01T01:00:00+01:00"),
            parse_rfc3339("2027-01-01")
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
            Ok(Value::Amount(10_000_000))
        );
        let arr = ValueType::Array(Box::new(ValueType::Blocks), 2);
        assert_eq!(
            parse_value(&arr, "1,2"),
            Ok(Value::Array(vec![Value::Blocks(1), Value::Blocks(2)]))
        );
        let e = parse_value(&arr, "1").unwrap_err();
        assert_eq!(e.actual, "1");
    }
}
