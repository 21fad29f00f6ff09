//! Verifying an artifact against its source: compile the source it embeds again, with this
//! compiler, and require the very artifact it claims to be.
//!
//! In: an [`Artifact`] (read from outside, so trusted in nothing) and, optionally, source texts
//! a person read themselves (`biscol verify --source FILE`). Out: `Ok` when the embedded sources
//! are the given ones, the source hash matches, every standard library module it embeds is this
//! compiler's, and compiling them gives an artifact equal to the one given in every field but
//! the writer's version; otherwise a [`VerifyError`] that names the first field that differs.
//! Pure: no file system (the sources come from the artifact), deterministic.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::artifact::{sha256_hex, Artifact};
use crate::build;
use crate::db::{self, Database, FileLoader};

/// Why an artifact is not what its source compiles to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// The artifact embeds no source.
    NoSource,
    /// `source.sha256` is not the hash of the embedded text of the contract's file.
    SourceHash {
        /// The hash the artifact states.
        stated: String,
        /// The hash of the embedded text.
        actual: String,
    },
    /// An embedded standard library module is not this compiler's.
    StdlibDiffers {
        /// Its path (`<stdlib>/NAME.bsc`).
        path: String,
    },
    /// A source file given to check against is not one the artifact was compiled from.
    NotASource {
        /// The file as given.
        given: String,
    },
    /// A source file given to check against differs from the artifact's copy.
    SourceDiffers {
        /// The file as given.
        given: String,
        /// The artifact's path for it.
        path: String,
    },
    /// The embedded source does not compile (or has no contract of the artifact's name).
    DoesNotCompile {
        /// The first error, or what is missing.
        reason: String,
    },
    /// The source compiles to a different artifact.
    Differs {
        /// The JSON path of the first field that differs (`taproot.leaves[0].template`).
        field: String,
        /// The version that wrote the artifact, when it is not this compiler's.
        other_version: Option<String>,
    },
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::NoSource => write!(f, "the artifact embeds no source to check it against"),
            VerifyError::SourceHash { stated, actual } => write!(
                f,
                "`source.sha256` is {stated}, but the embedded source hashes to {actual}"
            ),
            VerifyError::StdlibDiffers { path } => write!(
                f,
                "the artifact's copy of `{path}` is not this biscol's standard library module"
            ),
            VerifyError::NotASource { given } => {
                write!(f, "`{given}` is not a file this artifact was compiled from")
            }
            VerifyError::SourceDiffers { given, path } => write!(
                f,
                "`{given}` differs from the artifact's copy of `{path}`: the artifact was not compiled from this file"
            ),
            VerifyError::DoesNotCompile { reason } => {
                write!(f, "the artifact's embedded source does not compile: {reason}")
            }
            VerifyError::Differs {
                field,
                other_version: None,
            } => write!(
                f,
                "field `{field}` is not what the artifact's source compiles to: the artifact was changed after it was built"
            ),
            VerifyError::Differs {
                field,
                other_version: Some(version),
            } => write!(
                f,
                "field `{field}` is not what the artifact's source compiles to with this biscol {}; the artifact says biscol {version} wrote it (build it again with this version, or verify it with that one)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

impl std::error::Error for VerifyError {}

/// The embedded sources, by path, as a loader for `use "..."`.
struct Embedded<'a>(&'a BTreeMap<String, String>);

impl FileLoader for Embedded<'_> {
    fn load(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| format!("`{path}` is not embedded in the artifact"))
    }
}

/// Checks `artifact` against its embedded source, and that source against `given` (file name
/// as given, text), each of which must be byte-identical to the embedded file of the same path
/// or, failing that, of the same file name.
pub fn verify(artifact: &Artifact, given: &[(String, String)]) -> Result<(), VerifyError> {
    let own = artifact.sources.first().ok_or(VerifyError::NoSource)?;
    let actual = sha256_hex(&own.text);
    if actual != artifact.source.sha256 {
        return Err(VerifyError::SourceHash {
            stated: artifact.source.sha256.clone(),
            actual,
        });
    }
    for (name, text) in given {
        let embedded = artifact
            .sources
            .iter()
            .find(|s| s.path == *name || name.ends_with(&format!("/{}", s.path)))
            .or_else(|| {
                artifact
                    .sources
                    .iter()
                    .find(|s| file_name(&s.path) == file_name(name))
            })
            .ok_or_else(|| VerifyError::NotASource {
                given: name.clone(),
            })?;
        if embedded.text != *text {
            return Err(VerifyError::SourceDiffers {
                given: name.clone(),
                path: embedded.path.clone(),
            });
        }
    }
    let mut database = Database::new();
    for source in &artifact.sources {
        if let Some(name) = source.path.strip_prefix("<stdlib>/") {
            let ours = db::STDLIB
                .iter()
                .find(|(module, _)| format!("{module}.bsc") == name)
                .map(|(_, text)| *text);
            if ours != Some(source.text.as_str()) {
                return Err(VerifyError::StdlibDiffers {
                    path: source.path.clone(),
                });
            }
        }
    }
    let texts: BTreeMap<String, String> = artifact
        .sources
        .iter()
        .filter(|s| !s.path.starts_with("<stdlib>/"))
        .map(|s| (s.path.clone(), s.text.clone()))
        .collect();
    let file = database.set_file(&own.path, own.text.clone());
    database.load_imports(&Embedded(&texts));
    let output = build::build(&database, file);
    if let Some(error) = output.diagnostics.iter().find(|d| d.is_error()) {
        return Err(VerifyError::DoesNotCompile {
            reason: format!("{}: {}", error.code, error.message),
        });
    }
    let rebuilt = output
        .contracts
        .iter()
        .filter_map(|c| c.artifact.as_ref())
        .find(|a| a.contract == artifact.contract)
        .ok_or_else(|| VerifyError::DoesNotCompile {
            reason: format!("it has no contract `{}`", artifact.contract),
        })?;
    let stated = comparable(artifact);
    let expected = comparable(rebuilt);
    match first_difference(&expected, &stated, String::new()) {
        None => Ok(()),
        Some(field) => Err(VerifyError::Differs {
            field,
            other_version: (artifact.compiler.version != rebuilt.compiler.version)
                .then(|| artifact.compiler.version.clone()),
        }),
    }
}

/// The artifact as JSON without the writer's version (the one field a rebuild may change).
fn comparable(artifact: &Artifact) -> Value {
    let mut value = serde_json::to_value(artifact).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.remove("compiler");
    }
    value
}

/// The JSON path of the first place where `found` is not `expected`, in field order.
fn first_difference(expected: &Value, found: &Value, at: String) -> Option<String> {
    let here = || {
        if at.is_empty() {
            "(the whole artifact)".to_string()
        } else {
            at.clone()
        }
    };
    match (expected, found) {
        (Value::Object(e), Value::Object(f)) => {
            for (key, value) in e {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match f.get(key) {
                    Some(other) => {
                        if let Some(diff) = first_difference(value, other, path) {
                            return Some(diff);
                        }
                    }
                    None => return Some(path),
                }
            }
            f.keys().find(|key| !e.contains_key(*key)).map(|key| {
                if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                }
            })
        }
        (Value::Array(e), Value::Array(f)) => {
            for (i, (a, b)) in e.iter().zip(f).enumerate() {
                if let Some(diff) = first_difference(a, b, format!("{at}[{i}]")) {
                    return Some(diff);
                }
            }
            (e.len() != f.len()).then(|| format!("{at}[{}]", e.len().min(f.len())))
        }
        (e, f) => (e != f).then(here),
    }
}

/// The last component of a path.
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn htlc_artifact() -> Artifact {
        let mut database = Database::new();
        let text = db::STDLIB
            .iter()
            .find(|(name, _)| *name == "htlc")
            .map(|(_, text)| text.to_string())
            .expect("the stdlib has an htlc");
        let file = database.set_file("contracts/htlc.bsc", text);
        let output = build::build(&database, file);
        output.contracts[0].artifact.clone().expect("it builds")
    }

    #[test]
    fn another_compilers_artifact_is_checked_the_same_way_and_both_versions_are_named() {
        let mut artifact = htlc_artifact();
        assert_eq!(verify(&artifact, &[]), Ok(()));
        artifact.compiler.version = "0.0.9".to_string();
        assert_eq!(
            verify(&artifact, &[]),
            Ok(()),
            "the same result from another version"
        );
        artifact.taproot.leaves[0].template = "pk(receiver)".to_string();
        let error = verify(&artifact, &[]).expect_err("edited");
        let message = error.to_string();
        assert!(
            message.contains("0.0.9") && message.contains(env!("CARGO_PKG_VERSION")),
            "{message}"
        );
        assert!(message.contains("taproot.leaves[0].template"), "{message}");
    }

    #[test]
    fn an_edited_standard_library_module_is_refused() {
        let mut artifact = htlc_artifact();
        artifact.sources.push(crate::artifact::SourceText {
            path: "<stdlib>/vault.bsc".to_string(),
            text: "contract Vault() {}".to_string(),
        });
        assert_eq!(
            verify(&artifact, &[]),
            Err(VerifyError::StdlibDiffers {
                path: "<stdlib>/vault.bsc".to_string()
            })
        );
    }

    #[test]
    fn the_first_difference_is_named_by_its_json_path() {
        let a = serde_json::json!({"x": 1, "t": {"leaves": [{"template": "pk(a)"}]}});
        let b = serde_json::json!({"x": 1, "t": {"leaves": [{"template": "pk(b)"}]}});
        assert_eq!(
            first_difference(&a, &b, String::new()).as_deref(),
            Some("t.leaves[0].template")
        );
        let c = serde_json::json!({"x": 1, "t": {"leaves": []}});
        assert_eq!(
            first_difference(&a, &c, String::new()).as_deref(),
            Some("t.leaves[0]")
        );
        assert_eq!(first_difference(&a, &a, String::new()), None);
    }
}
