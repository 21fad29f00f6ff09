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

use std::sync::Arc;

use miniscript::policy::Concrete;

use crate::key::ParamKey;
pub use biscol_artifact::template::{
    Atom, KeyPath, SpanRef, TimelockKind, TimelockParam, TimelockParamError, Timelocks,
};

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
