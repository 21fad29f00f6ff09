//! Leaf templates: Tap Miniscript over parameter placeholders, their atoms, and the table of
//! timelock parameters.
//!
//! In: templates (`Miniscript<ParamKey, Tap>`, see [`Template`]) and the contract's
//! [`Timelocks`]. Out: the atoms of a template in pre-order ([`atoms`]), how each is printed
//! ([`atom_fragment`]), the template as text with timelock parameters by name
//! ([`template_text`]), and the types the artifact stores about leaves ([`SourceMapEntry`],
//! [`WitnessSize`], [`SpanRef`]).
//!
//! Timelock *parameters* (`older(timeout)`) cannot be written in Miniscript, which only holds
//! numbers: a [`Timelocks`] table gives each one a placeholder consensus value, the top values
//! of its kind counting down, and the templates carry those values. Invariant: a template's
//! script is never shorter than any instance of it.

use std::fmt;

use miniscript::iter::TreeLike;
use miniscript::policy::Concrete;
use miniscript::{AbsLockTime, Miniscript, RelLockTime, Tap, Terminal};
use serde::{Deserialize, Serialize};

use crate::key::ParamKey;

/// A leaf template.
pub type Template = Miniscript<ParamKey, Tap>;

/// A source location the front end can map back to its own span type: a file id and a
/// half-open byte range. This crate never looks inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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

/// Worst-case witness size of spending through one leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessSize {
    /// Bytes of the witness (= its weight in weight units), control block and script included.
    pub weight: u64,
    /// The same in virtual bytes, rounded up.
    pub vbytes: u64,
}

impl WitnessSize {
    /// The size of `weight` bytes (= weight units), with vbytes rounded up.
    pub fn from_weight(weight: u64) -> Self {
        WitnessSize {
            weight,
            vbytes: weight.div_ceil(4),
        }
    }
}

/// One entry of a leaf's source map: a fragment of the template and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceMapEntry {
    /// The fragment as printed in the template (`pk(receiver)`, `older(timeout)`).
    pub fragment: String,
    /// The span the front end attached to that atom.
    pub span: SpanRef,
}

/// Atoms of a template, in pre-order, each once.
pub fn atoms(ms: &Template) -> Vec<Atom> {
    let mut out: Vec<Atom> = Vec::new();
    let mut push = |a: Atom| {
        if !out.contains(&a) {
            out.push(a);
        }
    };
    for node in ms.pre_order_iter() {
        match &node.node {
            Terminal::PkK(k) | Terminal::PkH(k) => push(Atom::Key(k.clone())),
            Terminal::MultiA(t) => t.iter().for_each(|k| push(Atom::Key(k.clone()))),
            Terminal::Multi(t) => t.iter().for_each(|k| push(Atom::Key(k.clone()))),
            Terminal::Sha256(h) => push(Atom::Sha256(h.clone())),
            Terminal::Hash256(h) => push(Atom::Hash256(h.clone())),
            Terminal::Ripemd160(h) => push(Atom::Ripemd160(h.clone())),
            Terminal::Hash160(h) => push(Atom::Hash160(h.clone())),
            Terminal::After(t) => push(Atom::After(t.to_consensus_u32())),
            Terminal::Older(t) => push(Atom::Older(t.to_consensus_u32())),
            _ => {}
        }
    }
    out
}

/// How an atom is printed in templates.
pub fn atom_fragment(atom: &Atom, timelocks: &Timelocks) -> String {
    match atom {
        Atom::Key(k) => format!("pk({k})"),
        Atom::Sha256(h) => format!("sha256({h})"),
        Atom::Hash256(h) => format!("hash256({h})"),
        Atom::Ripemd160(h) => format!("ripemd160({h})"),
        Atom::Hash160(h) => format!("hash160({h})"),
        Atom::Older(v) => match timelocks.relative(*v) {
            Some(p) => format!("older({})", p.name),
            None => format!("older({v})"),
        },
        Atom::After(v) => match timelocks.absolute(*v) {
            Some(p) => format!("after({})", p.name),
            None => format!("after({v})"),
        },
    }
}

/// The template as text, with timelock placeholders printed as their parameter names
/// (`older(timeout)`).
pub fn template_text(ms: &Template, timelocks: &Timelocks) -> String {
    template_text_str(ms.to_string(), timelocks)
}

/// Replace timelock placeholders in a printed template by their parameter names.
pub fn template_text_str(mut s: String, timelocks: &Timelocks) -> String {
    for p in timelocks.params() {
        let name = if p.kind.is_relative() {
            "older"
        } else {
            "after"
        };
        s = s.replace(
            &format!("{name}({})", p.placeholder),
            &format!("{name}({})", p.name),
        );
    }
    s
}
