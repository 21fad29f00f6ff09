//! What the front end hands to this crate: a contract lowered to policies over placeholders.
//!
//! In: for each contract, a [`KeyPath`] and one or more [`SpendPath`]s, each a
//! rust-miniscript concrete policy over [`ParamKey`] placeholders with an `@weight`, plus
//! [`SourceAtom`]s that tie each policy atom (a key, hash or timelock) to a source span.
//! Timelock *parameters* (`older(timeout)`) cannot be written in a concrete policy, which
//! only holds numbers: the front end asks a [`Timelocks`] table for a placeholder policy
//! node, and passes the table along in [`Contract::timelocks`].
//!
//! Invariants checked by [`crate::compile`]: path names are distinct identifiers, weights are
//! at least 1, every timelock placeholder value is used by exactly one parameter and clashes
//! with no literal timelock of the contract.
//!
//! ```
//! use biscol_taproot::input::{Contract, KeyPath, SpendPath, Timelocks, TimelockKind};
//! use biscol_taproot::key::ParamKey;
//! use miniscript::policy::Concrete;
//! use std::sync::Arc;
//!
//! let mut timelocks = Timelocks::default();
//! let older = timelocks.param("timeout", TimelockKind::Blocks).unwrap();
//! let refund = Concrete::And(vec![
//!     Arc::new(Concrete::Key(ParamKey::new("sender"))),
//!     Arc::new(older),
//! ]);
//! let claim: Concrete<ParamKey> = "and(pk(receiver),sha256(hash))".parse().unwrap();
//! let contract = Contract {
//!     name: "Htlc".into(),
//!     key_path: KeyPath::MuSig(vec![ParamKey::new("sender"), ParamKey::new("receiver")]),
//!     paths: vec![
//!         SpendPath::new("claim", 9, claim),
//!         SpendPath::new("refund", 1, refund),
//!     ],
//!     timelocks,
//! };
//! assert_eq!(contract.paths.len(), 2);
//! ```

use std::fmt;
use std::sync::Arc;

use miniscript::policy::Concrete;
use miniscript::{AbsLockTime, RelLockTime};
use serde::{Deserialize, Serialize};

use crate::key::ParamKey;

/// A source location the front end can map back to its own span type: a file id and a
/// half-open byte range. This crate never looks inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SpanRef {
    /// The front end's file id.
    pub file: u32,
    /// Start byte offset.
    pub start: u32,
    /// End byte offset (exclusive).
    pub end: u32,
}

/// How the coins can be spent without revealing a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPath {
    /// `key k;`: a single key.
    Single(ParamKey),
    /// `key musig(k1, k2, ...);`: a BIP327 KeyAgg aggregate of the keys in the order written.
    MuSig(Vec<ParamKey>),
    /// No `key`: BIP341's provably unspendable point H.
    Nums,
}

/// An atom of a policy: the smallest piece a source span is attached to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Atom {
    /// `pk(k)`, also each key of a `multi_a`.
    Key(ParamKey),
    /// `sha256(h)`.
    Sha256(ParamKey),
    /// `hash256(h)`.
    Hash256(ParamKey),
    /// `ripemd160(h)`.
    Ripemd160(ParamKey),
    /// `hash160(h)`.
    Hash160(ParamKey),
    /// `older(n)` with its consensus value (a [`Timelocks`] placeholder for a parameter).
    Older(u32),
    /// `after(n)` with its consensus value (a [`Timelocks`] placeholder for a parameter).
    After(u32),
}

/// One atom of a path's policy and the source span that introduced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceAtom {
    /// The atom.
    pub atom: Atom,
    /// Where it is written.
    pub span: SpanRef,
}

/// A `spend` path of the contract.
#[derive(Clone, Debug, PartialEq)]
pub struct SpendPath {
    /// The path's name (`claim`).
    pub name: String,
    /// Its `@weight` (default 1): how often it is expected to be used, relative to the others.
    pub weight: u32,
    /// Its condition. `And`/`Or` may have any number of children; they are made binary here.
    pub policy: Concrete<ParamKey>,
    /// Spans of the policy's atoms. May be empty; atoms without a span get none in the map.
    pub source_map: Vec<SourceAtom>,
}

impl SpendPath {
    /// A path without a source map.
    pub fn new(name: impl Into<String>, weight: u32, policy: Concrete<ParamKey>) -> Self {
        SpendPath {
            name: name.into(),
            weight,
            policy,
            source_map: Vec::new(),
        }
    }
}

/// A contract, lowered: what [`crate::compile::compile`] takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Contract {
    /// The contract's name.
    pub name: String,
    /// The key path.
    pub key_path: KeyPath,
    /// The spend paths, in source order (source order breaks ties in the tree).
    pub paths: Vec<SpendPath>,
    /// The timelock parameters used by the paths' policies.
    pub timelocks: Timelocks,
}

/// The kind of a timelock parameter, from its BiSCOL type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelockKind {
    /// `older(d)` with `d: Blocks` (BIP68 height-based relative lock).
    Blocks,
    /// `older(d)` with `d: Duration` (BIP68 time-based relative lock, 512-second units).
    Duration,
    /// `after(t)` with `t: Height` (BIP65 absolute height).
    Height,
    /// `after(t)` with `t: Time` (BIP65 absolute unix time).
    Time,
}

impl TimelockKind {
    /// True for the relative kinds (`older`), false for the absolute ones (`after`).
    pub fn is_relative(self) -> bool {
        matches!(self, TimelockKind::Blocks | TimelockKind::Duration)
    }

    /// The largest consensus value of this kind; placeholders count down from it, so a
    /// template's script is never shorter than any instance of it.
    fn top(self) -> u32 {
        match self {
            TimelockKind::Blocks => 0xffff,
            TimelockKind::Duration => (1 << 22) | 0xffff,
            TimelockKind::Height => 499_999_999,
            TimelockKind::Time => 0x7fff_ffff,
        }
    }
}

/// A timelock parameter and the consensus value that stands for it in templates.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimelockParam {
    /// The parameter's name.
    pub name: String,
    /// Its kind.
    pub kind: TimelockKind,
    /// The placeholder consensus value used in the template.
    pub placeholder: u32,
}

/// The table of timelock parameters of one contract.
///
/// Placeholder values are the top values of each kind counting down (`65535`, `65534`, ... for
/// `Blocks`), which keeps template scripts at their largest size, so the witness sizes reported
/// for a template bound every instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timelocks {
    params: Vec<TimelockParam>,
}

/// Misuse of a [`Timelocks`] table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimelockParamError {
    /// The same name was declared with two kinds.
    KindMismatch {
        /// The parameter.
        name: String,
        /// The kind it was first declared with.
        expected: TimelockKind,
        /// The kind asked for now.
        actual: TimelockKind,
    },
    /// More than 4096 parameters of one kind.
    TooMany,
}

impl fmt::Display for TimelockParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimelockParamError::KindMismatch {
                name,
                expected,
                actual,
            } => write!(
                f,
                "timelock parameter `{name}` is used as {actual:?} but was declared {expected:?}"
            ),
            TimelockParamError::TooMany => f.write_str("more than 4096 timelock parameters"),
        }
    }
}

impl std::error::Error for TimelockParamError {}

impl Timelocks {
    /// The policy node `older(name)` or `after(name)` for a timelock parameter; the same name
    /// always gives the same node.
    pub fn param(
        &mut self,
        name: &str,
        kind: TimelockKind,
    ) -> Result<Concrete<ParamKey>, TimelockParamError> {
        let placeholder = match self.params.iter().find(|p| p.name == name) {
            Some(p) if p.kind != kind => {
                return Err(TimelockParamError::KindMismatch {
                    name: name.to_string(),
                    expected: p.kind,
                    actual: kind,
                })
            }
            Some(p) => p.placeholder,
            None => {
                let n = self.params.iter().filter(|p| p.kind == kind).count() as u32;
                if n >= 4096 {
                    return Err(TimelockParamError::TooMany);
                }
                let placeholder = kind.top() - n;
                self.params.push(TimelockParam {
                    name: name.to_string(),
                    kind,
                    placeholder,
                });
                placeholder
            }
        };
        Ok(placeholder_policy(kind, placeholder))
    }

    /// The declared parameters, in declaration order.
    pub fn params(&self) -> &[TimelockParam] {
        &self.params
    }

    /// Rebuild a table from its parameters (as stored in an artifact).
    pub fn from_params(params: Vec<TimelockParam>) -> Self {
        Timelocks { params }
    }

    /// The parameter a relative (`older`) consensus value stands for, if any.
    pub fn relative(&self, value: u32) -> Option<&TimelockParam> {
        self.params
            .iter()
            .find(|p| p.kind.is_relative() && p.placeholder == value)
    }

    /// The parameter an absolute (`after`) consensus value stands for, if any.
    pub fn absolute(&self, value: u32) -> Option<&TimelockParam> {
        self.params
            .iter()
            .find(|p| !p.kind.is_relative() && p.placeholder == value)
    }
}

fn placeholder_policy(kind: TimelockKind, value: u32) -> Concrete<ParamKey> {
    // The values come from `TimelockKind::top` minus at most 4096, which are all valid.
    if kind.is_relative() {
        match RelLockTime::from_consensus(value) {
            Ok(t) => Concrete::Older(t),
            Err(_) => Concrete::Unsatisfiable,
        }
    } else {
        match AbsLockTime::from_consensus(value) {
            Ok(t) => Concrete::After(t),
            Err(_) => Concrete::Unsatisfiable,
        }
    }
}

/// Make every `And` and `Or` binary (rust-miniscript's compiler needs that): `and(a,b,c)`
/// becomes `and(a,and(b,c))`, and `or(2@a,1@b,1@c)` becomes `or(2@a,2@or(1@b,1@c))`, which
/// keeps each branch's probability.
pub fn binarize(policy: &Concrete<ParamKey>) -> Concrete<ParamKey> {
    match policy {
        Concrete::And(subs) => {
            let subs: Vec<Arc<Concrete<ParamKey>>> =
                subs.iter().map(|s| Arc::new(binarize(s))).collect();
            fold_and(subs)
        }
        Concrete::Or(subs) => {
            let subs: Vec<(usize, Arc<Concrete<ParamKey>>)> = subs
                .iter()
                .map(|(w, s)| (*w, Arc::new(binarize(s))))
                .collect();
            fold_or(subs)
        }
        Concrete::Thresh(t) => {
            let inner: Vec<Arc<Concrete<ParamKey>>> =
                t.iter().map(|s| Arc::new(binarize(s))).collect();
            match miniscript::Threshold::new(t.k(), inner) {
                Ok(t) => Concrete::Thresh(t),
                Err(_) => Concrete::Unsatisfiable,
            }
        }
        other => other.clone(),
    }
}

fn fold_and(mut subs: Vec<Arc<Concrete<ParamKey>>>) -> Concrete<ParamKey> {
    match subs.len() {
        0 => Concrete::Trivial,
        1 => (*subs.remove(0)).clone(),
        2 => Concrete::And(subs),
        _ => {
            let first = subs.remove(0);
            Concrete::And(vec![first, Arc::new(fold_and(subs))])
        }
    }
}

fn fold_or(mut subs: Vec<(usize, Arc<Concrete<ParamKey>>)>) -> Concrete<ParamKey> {
    match subs.len() {
        0 => Concrete::Unsatisfiable,
        1 => (*subs.remove(0).1).clone(),
        2 => Concrete::Or(subs),
        _ => {
            let first = subs.remove(0);
            let rest_weight = subs.iter().map(|(w, _)| *w).sum();
            Concrete::Or(vec![first, (rest_weight, Arc::new(fold_or(subs)))])
        }
    }
}
