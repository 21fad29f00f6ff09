//! The Taproot section of the artifact: the serde structure the artifact embeds.
//!
//! In: what `biscol-taproot` compiled (it builds a [`TaprootArtifact`] with its
//! `artifact::from_compiled`), or the JSON of a stored artifact. Out: the key path, the leaves
//! in tree order (path name, Miniscript template over parameter placeholders, depth,
//! probability, witness sizes, what a spend needs, source map), a report per path, timelock
//! parameters, the BIP388 wallet policy and the warnings; and, read back from the text, the
//! typed templates ([`TaprootArtifact::leaf_templates`]) and key path
//! ([`TaprootArtifact::key_path`]) that instantiation binds.
//!
//! Invariants: only `Vec`s and fixed-order structs (no maps iterated in hash order); floats
//! are rounded to fixed decimals; no paths, times or machine data. The same compilation gives
//! byte-identical JSON.

use std::fmt;
use std::str::FromStr;

use miniscript::{ExtParams, Miniscript, Terminal};
use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::key::ParamKey;
use crate::template::{
    atom_fragment, atoms, Atom, KeyPath, SourceMapEntry, Template, TimelockKind, TimelockParam,
    Timelocks, WitnessSize,
};
use crate::units::LOCK_TIME_THRESHOLD;

/// The artifact section's format version. Bumped on any change of meaning.
pub const FORMAT: &str = "biscol-taproot/1";

/// The kind of key path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPathKind {
    /// One key.
    Single,
    /// A MuSig2 (BIP327) aggregate, keys in the order written.
    Musig,
    /// BIP341's unspendable point H.
    Nums,
}

/// The key path in the artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPathArtifact {
    /// Its kind.
    pub kind: KeyPathKind,
    /// The key parameters, in order (empty for `nums`).
    pub keys: Vec<String>,
    /// As written: `owner`, `musig(a,b)`, or `nums`.
    pub template: String,
}

/// A hash preimage a spend must reveal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreimageNeed {
    /// `sha256`, `hash256`, `ripemd160` or `hash160`.
    pub kind: String,
    /// The hash parameter.
    pub hash: String,
}

/// A timelock a spend must satisfy, and the transaction field it sets.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelockNeed {
    /// `older` (BIP68/112: the input's nSequence) or `after` (BIP65: the nLockTime).
    pub op: String,
    /// The parameter, when the value is one.
    pub param: Option<String>,
    /// The parameter's kind, or the literal's.
    pub kind: TimelockKind,
    /// The consensus value, when known (a literal, or after instantiation).
    pub value: Option<u32>,
    /// The nSequence the spending input needs (at least this, same type), for `older`.
    pub n_sequence: Option<u32>,
    /// The nLockTime the spending transaction needs (at least this, same type), for `after`.
    pub n_lock_time: Option<u32>,
}

/// What spending through a leaf needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Needs {
    /// Keys that may have to sign (all keys of the leaf, in order of appearance).
    pub signatures: Vec<String>,
    /// Preimages that may have to be revealed.
    pub preimages: Vec<PreimageNeed>,
    /// Timelocks.
    pub timelocks: Vec<TimelockNeed>,
}

/// One leaf in the artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafArtifact {
    /// The spend path's name.
    pub path: String,
    /// The branch of the path's top-level `or`, when the path was split.
    pub branch: Option<usize>,
    /// The Miniscript template over parameter placeholders.
    pub template: String,
    /// Depth in the tree.
    pub depth: u8,
    /// Probability of this leaf among script-path spends (6 decimals).
    pub probability: f64,
    /// Script size of the template, in bytes (an upper bound for every instance).
    pub script_size: usize,
    /// Worst-case witness size, control block and script included.
    pub witness: WitnessSize,
    /// What a spend needs.
    pub needs: Needs,
    /// Fragments of the template and their source spans.
    pub source_map: Vec<SourceMapEntry>,
}

/// One spend path in the artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathArtifact {
    /// Its name.
    pub name: String,
    /// Its weight.
    pub weight: u32,
    /// How it was split into leaves.
    pub split: String,
    /// Indices of its leaves in [`TaprootArtifact::leaves`].
    pub leaves: Vec<usize>,
    /// Their depths, in the same order.
    pub depths: Vec<u8>,
    /// Expected witness size of a spend through this path, vbytes (3 decimals).
    pub expected_vbytes: f64,
    /// Worst-case witness size.
    pub worst: WitnessSize,
}

/// One entry of the key vector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum WalletKey {
    /// A key parameter of the contract.
    Param {
        /// Its name (`heirs[1]` for an array element).
        name: String,
    },
    /// The unspendable NUMS internal key.
    Nums,
}

/// A BIP388 wallet policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletPolicy {
    /// The descriptor template.
    pub template: String,
    /// The key vector: entry `i` is the key behind `@i`.
    pub keys: Vec<WalletKey>,
}

/// The Taproot section of the artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaprootArtifact {
    /// [`FORMAT`].
    pub format: String,
    /// The contract's name.
    pub contract: String,
    /// The key path.
    pub key_path: KeyPathArtifact,
    /// The script tree as a descriptor tree of templates (`{A,{B,C}}`); `None` without paths.
    pub tree: Option<String>,
    /// The leaves, in depth-first tree order.
    pub leaves: Vec<LeafArtifact>,
    /// The spend paths, in source order.
    pub paths: Vec<PathArtifact>,
    /// Timelock parameters and their template placeholders.
    pub timelock_params: Vec<TimelockParam>,
    /// Expected script-path witness size over all spends, vbytes (3 decimals).
    pub expected_vbytes: f64,
    /// BIP388 wallet policy.
    pub wallet_policy: WalletPolicy,
    /// Warnings from the analysis.
    pub findings: Vec<Finding>,
}

/// Why an artifact's templates could not be read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtifactError {
    /// The format is not [`FORMAT`].
    Format {
        /// [`FORMAT`].
        expected: String,
        /// What the artifact says.
        actual: String,
    },
    /// A template does not parse as Tap Miniscript.
    Template {
        /// Index of the leaf.
        leaf: usize,
        /// The parser's message.
        message: String,
    },
    /// A key path entry is not a placeholder.
    KeyPath {
        /// The entry.
        actual: String,
    },
}

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtifactError::Format { expected, actual } => {
                write!(f, "artifact format: expected `{expected}`, got `{actual}`")
            }
            ArtifactError::Template { leaf, message } => {
                write!(f, "leaf {leaf}: template does not parse: {message}")
            }
            ArtifactError::KeyPath { actual } => {
                write!(
                    f,
                    "key path entry `{actual}` is not a parameter placeholder"
                )
            }
        }
    }
}

impl std::error::Error for ArtifactError {}

/// What a template needs, with timelock parameters named.
pub fn needs_of(ms: &Template, timelocks: &Timelocks) -> Needs {
    let mut needs = Needs::default();
    for atom in atoms(ms) {
        match &atom {
            Atom::Key(k) => needs.signatures.push(k.to_string()),
            Atom::Sha256(h) | Atom::Hash256(h) | Atom::Ripemd160(h) | Atom::Hash160(h) => {
                let frag = atom_fragment(&atom, timelocks);
                let kind = frag.split('(').next().unwrap_or_default().to_string();
                needs.preimages.push(PreimageNeed {
                    kind,
                    hash: h.to_string(),
                });
            }
            Atom::Older(v) => needs.timelocks.push(match timelocks.relative(*v) {
                Some(p) => TimelockNeed {
                    op: "older".into(),
                    param: Some(p.name.clone()),
                    kind: p.kind,
                    value: None,
                    n_sequence: None,
                    n_lock_time: None,
                },
                None => TimelockNeed {
                    op: "older".into(),
                    param: None,
                    kind: if v & (1 << 22) != 0 {
                        TimelockKind::Duration
                    } else {
                        TimelockKind::Blocks
                    },
                    value: Some(*v),
                    n_sequence: Some(*v),
                    n_lock_time: None,
                },
            }),
            Atom::After(v) => needs.timelocks.push(match timelocks.absolute(*v) {
                Some(p) => TimelockNeed {
                    op: "after".into(),
                    param: Some(p.name.clone()),
                    kind: p.kind,
                    value: None,
                    n_sequence: None,
                    n_lock_time: None,
                },
                None => TimelockNeed {
                    op: "after".into(),
                    param: None,
                    kind: if *v >= LOCK_TIME_THRESHOLD {
                        TimelockKind::Time
                    } else {
                        TimelockKind::Height
                    },
                    value: Some(*v),
                    n_sequence: None,
                    n_lock_time: Some(*v),
                },
            }),
        }
    }
    needs
}

impl TaprootArtifact {
    /// JSON text of this section (pretty-printed, stable).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The key path as placeholders.
    pub fn key_path(&self) -> Result<KeyPath, ArtifactError> {
        let parse = |s: &String| {
            ParamKey::from_str(s).map_err(|_| ArtifactError::KeyPath { actual: s.clone() })
        };
        Ok(match self.key_path.kind {
            KeyPathKind::Nums => KeyPath::Nums,
            KeyPathKind::Single => match self.key_path.keys.as_slice() {
                [k] => KeyPath::Single(parse(k)?),
                _ => {
                    return Err(ArtifactError::KeyPath {
                        actual: self.key_path.template.clone(),
                    })
                }
            },
            KeyPathKind::Musig => KeyPath::MuSig(
                self.key_path
                    .keys
                    .iter()
                    .map(parse)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// The leaf templates and depths, read back from their text (timelock parameter names
    /// replaced by their placeholders again).
    pub fn leaf_templates(&self) -> Result<Vec<(Template, u8)>, ArtifactError> {
        if self.format != FORMAT {
            return Err(ArtifactError::Format {
                expected: FORMAT.into(),
                actual: self.format.clone(),
            });
        }
        let mut out = Vec::with_capacity(self.leaves.len());
        for (i, leaf) in self.leaves.iter().enumerate() {
            let mut text = leaf.template.clone();
            for p in &self.timelock_params {
                let op = if p.kind.is_relative() {
                    "older"
                } else {
                    "after"
                };
                text = text.replace(
                    &format!("{op}({})", p.name),
                    &format!("{op}({})", p.placeholder),
                );
            }
            let ms = Miniscript::<ParamKey, miniscript::Tap>::from_str_ext(
                &text,
                &ExtParams::allow_all(),
            )
            .map_err(|e| ArtifactError::Template {
                leaf: i,
                message: e.to_string(),
            })?;
            out.push((ms, leaf.depth));
        }
        Ok(out)
    }

    /// The timelock table.
    pub fn timelocks(&self) -> Timelocks {
        Timelocks::from_params(self.timelock_params.clone())
    }
}

/// True when `ms` contains a raw `multi` (not allowed in tapscript); used as a sanity check.
pub fn has_legacy_multi(ms: &Template) -> bool {
    use miniscript::iter::TreeLike;
    ms.pre_order_iter()
        .any(|n| matches!(n.node, Terminal::Multi(_)))
}
