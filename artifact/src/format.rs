//! The artifact format: everything a funder, a wallet or the runtime needs about a compiled
//! contract, as deterministic JSON; reading it, writing it, and instantiating it.
//!
//! In: an [`Artifact`] (the compiler builds one with `biscol_compiler::artifact::build`), or
//! its JSON text. Out: the same JSON bytes for the same artifact ([`Artifact::to_json`]), an
//! artifact read back with newer formats refused ([`Artifact::from_json`]), and a typed
//! [`Instance`] for arguments ([`Artifact::instantiate`]). Serde is used only here, at the
//! JSON edge.
//!
//! The artifact never contains an absolute path, a time, or an id that depends on how files
//! were loaded: spans name their file by its index in [`Artifact::files`] (the contract's own
//! file first, then the others in name order), so the same source gives byte-identical
//! artifacts on every machine.
//!
//! Format: [`FORMAT`]. A reader refuses artifacts of a newer major format with
//! [`ArtifactError::NewerFormat`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::instance::Instance;
use crate::instantiate::{self as tinst};
use crate::taproot::TaprootArtifact;
use crate::value::{Param, ValueType};

/// The artifact format written by this compiler: `biscol-artifact/MAJOR`. Format 2 added
/// [`Artifact::sources`], the full text of every file the contract was compiled from, so that
/// anyone can compile it again and check the artifact against it; format 1 had none, so an
/// artifact of format 1 cannot be verified and is refused ([`ArtifactError::OlderFormat`]).
pub const FORMAT: &str = "biscol-artifact/2";

/// The major format version this compiler reads and writes.
pub const FORMAT_MAJOR: u32 = 2;

/// A compiled contract, ready to instantiate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// [`FORMAT`].
    pub format: String,
    /// The compiler that wrote it.
    pub compiler: CompilerInfo,
    /// The contract's name.
    pub contract: String,
    /// Its doc comment.
    pub docs: Vec<String>,
    /// The source file it came from.
    pub source: SourceInfo,
    /// Files spans point into: index 0 is the contract's own file.
    pub files: Vec<String>,
    /// Every file the contract was compiled from, with its full text: the contract's own file
    /// first, then the files it imports (transitively) by path. Paths are relative to the
    /// folder that holds them all (never absolute), so `use "..."` resolves among them as it
    /// did; standard library modules keep their `<stdlib>/NAME.bsc` path.
    pub sources: Vec<SourceText>,
    /// Parameters and spend paths.
    pub abi: Abi,
    /// The contract IR as text (no spans).
    pub ir: String,
    /// The Taproot compilation: key path, leaves, tree, witness sizes, needs, BIP388 policy.
    pub taproot: TaprootArtifact,
}

/// The compiler's name and version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompilerInfo {
    /// `biscol`.
    pub name: String,
    /// The crate version.
    pub version: String,
}

/// The source a contract came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// The file's name (last path component only).
    pub file: String,
    /// SHA-256 of the file's text, hex.
    pub sha256: String,
}

/// One file a contract was compiled from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceText {
    /// Its path (see [`Artifact::sources`]).
    pub path: String,
    /// Its text.
    pub text: String,
}

/// The contract's interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abi {
    /// Contract parameters, in order.
    pub params: Vec<AbiParam>,
    /// Spend paths, in source order.
    pub paths: Vec<AbiPath>,
    /// Keys and hashes written as literals in conditions: placeholders named `_<hex>`, bound to
    /// their `default` (the literal) at instantiation; they cannot be overridden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constants: Vec<AbiParam>,
}

/// A parameter or spend argument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbiParam {
    /// Its name.
    pub name: String,
    /// Its type as written in BiSCOL (`PubKey`, `[PubKey; 3]`).
    #[serde(rename = "type")]
    pub ty: String,
    /// Its default, as an `instantiate` argument string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A spend path's interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbiPath {
    /// Its name.
    pub name: String,
    /// Its weight.
    pub weight: u32,
    /// Its arguments (witness values the spender gives).
    pub args: Vec<AbiParam>,
    /// Its `require` statements, for explaining failures.
    pub requires: Vec<AbiRequire>,
    /// How many `prove` statements it has.
    pub proves: usize,
    /// Where the path is written.
    pub location: Location,
}

/// A `require` statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbiRequire {
    /// Its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Its condition in IR text.
    pub condition: String,
    /// Where it is written.
    pub location: Location,
}

/// A position in a source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Index into [`Artifact::files`].
    pub file: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Byte offset of the start.
    pub start: u32,
    /// Byte offset of the end.
    pub end: u32,
}

/// What goes wrong reading or instantiating an artifact.
#[derive(Debug)]
pub enum ArtifactError {
    /// Not JSON of the artifact's shape.
    Json(serde_json::Error),
    /// Written by a newer compiler, in a format this one cannot read.
    NewerFormat {
        /// The format in the file.
        actual: String,
        /// What this compiler reads.
        expected: &'static str,
    },
    /// Written in a format older than this compiler reads (format 1 carries no source, so it
    /// cannot be checked against one).
    OlderFormat {
        /// The format in the file.
        actual: String,
    },
    /// Not an artifact at all (no `biscol-artifact/` format).
    NotAnArtifact {
        /// The format field found.
        actual: String,
    },
    /// A parameter's type in the ABI is not a BiSCOL type.
    BadType {
        /// The parameter.
        param: String,
        /// The type text.
        actual: String,
    },
    /// An argument was given twice.
    DuplicateArgument {
        /// The argument.
        name: String,
    },
    /// An argument names a literal of the contract, which is fixed.
    ConstantArgument {
        /// The argument.
        name: String,
    },
    /// Binding arguments or deriving the output failed.
    Instantiate(tinst::InstantiateError),
    /// The artifact's parts do not fit together (a hand-edited or damaged file): a name given
    /// twice, a path or leaf that refers to nothing, a leaf no path uses, a path with no leaf.
    Inconsistent {
        /// What does not fit, in words.
        detail: String,
    },
}

impl std::fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArtifactError::Json(e) => write!(f, "not a valid artifact: {e}"),
            ArtifactError::NewerFormat { actual, expected } => write!(
                f,
                "the artifact's format is `{actual}`, newer than `{expected}` which this biscol reads; rebuild it with this biscol or upgrade biscol"
            ),
            ArtifactError::OlderFormat { actual } => write!(
                f,
                "the artifact's format is `{actual}`, which carries no source to check it against; build it again with this biscol (`biscol build`)"
            ),
            ArtifactError::NotAnArtifact { actual } => write!(f, "not a BiSCOL artifact (format `{actual}`)"),
            ArtifactError::BadType { param, actual } => write!(f, "parameter `{param}` has an unknown type `{actual}`"),
            ArtifactError::DuplicateArgument { name } => write!(f, "argument `{name}` is given more than once"),
            ArtifactError::ConstantArgument { name } => {
                write!(f, "`{name}` is a literal of the contract, not a parameter")
            }
            ArtifactError::Instantiate(e) => write!(f, "{e}"),
            ArtifactError::Inconsistent { detail } => {
                write!(f, "the artifact does not fit together: {detail}")
            }
        }
    }
}

impl std::error::Error for ArtifactError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ArtifactError::Json(e) => Some(e),
            ArtifactError::Instantiate(e) => Some(e),
            _ => None,
        }
    }
}

impl Artifact {
    /// Pretty JSON with a final newline; the same artifact always gives the same bytes.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads an artifact, refusing newer formats with a clear error.
    pub fn from_json(text: &str) -> Result<Artifact, ArtifactError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(ArtifactError::Json)?;
        let format = value
            .get("format")
            .and_then(|f| f.as_str())
            .unwrap_or("")
            .to_string();
        let Some(major) = format.strip_prefix("biscol-artifact/") else {
            return Err(ArtifactError::NotAnArtifact { actual: format });
        };
        match major.split('.').next().and_then(|m| m.parse::<u32>().ok()) {
            Some(m) if m == FORMAT_MAJOR => {}
            Some(m) if m > FORMAT_MAJOR => {
                return Err(ArtifactError::NewerFormat {
                    actual: format,
                    expected: FORMAT,
                })
            }
            Some(_) => return Err(ArtifactError::OlderFormat { actual: format }),
            _ => return Err(ArtifactError::NotAnArtifact { actual: format }),
        }
        let artifact: Artifact = serde_json::from_value(value).map_err(ArtifactError::Json)?;
        artifact.check_structure()?;
        Ok(artifact)
    }

    /// Checks that the parts refer to each other as a compiler writes them: parameter,
    /// constant, path and argument names unique; the ABI's paths and the Taproot section's
    /// paths the same names in the same order; every path with at least one leaf, each leaf
    /// index in range, and every leaf used by the path it names.
    pub fn check_structure(&self) -> Result<(), ArtifactError> {
        let fail = |detail: String| Err(ArtifactError::Inconsistent { detail });
        let mut names = std::collections::BTreeSet::new();
        for p in self.abi.params.iter().chain(&self.abi.constants) {
            if !names.insert(p.name.as_str()) {
                return fail(format!("parameter `{}` is declared twice", p.name));
            }
        }
        let mut paths = std::collections::BTreeSet::new();
        for path in &self.abi.paths {
            if !paths.insert(path.name.as_str()) {
                return fail(format!("spend path `{}` is declared twice", path.name));
            }
            let mut args = std::collections::BTreeSet::new();
            for a in &path.args {
                if !args.insert(a.name.as_str()) {
                    return fail(format!(
                        "argument `{}` of path `{}` is declared twice",
                        a.name, path.name
                    ));
                }
            }
        }
        let abi: Vec<&str> = self.abi.paths.iter().map(|p| p.name.as_str()).collect();
        let tree: Vec<&str> = self.taproot.paths.iter().map(|p| p.name.as_str()).collect();
        if let Some(unknown) = tree.iter().find(|n| !abi.contains(n)) {
            return fail(format!(
                "the Taproot section has a path `{unknown}` the ABI does not declare"
            ));
        }
        if abi != tree {
            return fail(format!(
                "the ABI declares the paths {abi:?}, the Taproot section has {tree:?}"
            ));
        }
        let leaves = &self.taproot.leaves;
        let mut used = vec![false; leaves.len()];
        for path in &self.taproot.paths {
            if path.leaves.is_empty() {
                return fail(format!("spend path `{}` has no leaf", path.name));
            }
            for &index in &path.leaves {
                let Some(leaf) = leaves.get(index) else {
                    return fail(format!(
                        "spend path `{}` names leaf {index}, and there are {}",
                        path.name,
                        leaves.len()
                    ));
                };
                if leaf.path != path.name {
                    return fail(format!(
                        "spend path `{}` names leaf {index}, which belongs to path `{}`",
                        path.name, leaf.path
                    ));
                }
                used[index] = true;
            }
        }
        if let Some(index) = used.iter().position(|u| !u) {
            return fail(format!(
                "leaf {index} (path `{}`) is used by no spend path",
                leaves[index].path
            ));
        }
        Ok(())
    }

    /// The ABI of spend path `name`, if the contract has one.
    pub fn path(&self, name: &str) -> Option<&AbiPath> {
        self.abi.paths.iter().find(|p| p.name == name)
    }

    /// Binds `args` (name, value text) and derives the descriptor, address, keys and leaves.
    /// Parameters not given take their defaults.
    pub fn instantiate(
        &self,
        args: &[(String, String)],
        network: bitcoin::Network,
    ) -> Result<Instance, ArtifactError> {
        let mut given: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in args {
            if given.insert(name.clone(), value.clone()).is_some() {
                return Err(ArtifactError::DuplicateArgument { name: name.clone() });
            }
        }
        let mut params = Vec::new();
        for p in &self.abi.params {
            let ty = ValueType::from_abi(&p.ty).ok_or_else(|| ArtifactError::BadType {
                param: p.name.clone(),
                actual: p.ty.clone(),
            })?;
            if let (false, Some(default)) = (given.contains_key(&p.name), &p.default) {
                given.insert(p.name.clone(), default.clone());
            }
            params.push(Param {
                name: p.name.clone(),
                ty,
            });
        }
        for c in &self.abi.constants {
            let ty = ValueType::from_abi(&c.ty).ok_or_else(|| ArtifactError::BadType {
                param: c.name.clone(),
                actual: c.ty.clone(),
            })?;
            if given.contains_key(&c.name) {
                return Err(ArtifactError::ConstantArgument {
                    name: c.name.clone(),
                });
            }
            given.insert(c.name.clone(), c.default.clone().unwrap_or_default());
            params.push(Param {
                name: c.name.clone(),
                ty,
            });
        }
        tinst::instantiate(&self.taproot, &params, &given, network)
            .map_err(ArtifactError::Instantiate)
    }
}
