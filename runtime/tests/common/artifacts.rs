//! The artifacts the runtime's tests deploy. The runtime does not depend on the compiler, so
//! they are built by it ahead of time and kept in `tests/data/artifacts/NAME.json`;
//! `biscol-tests`'s `runtime_artifacts` test rebuilds every one from its source and requires
//! the same bytes (`BISCOL_BLESS=1 cargo test -p biscol-tests --test runtime_artifacts`
//! rewrites them after a compiler change).
//!
//! Each artifact records its source file's name and SHA-256; [`artifact_json`] checks both
//! against the source the test names, so a test never deploys an artifact of another text.

#![allow(dead_code)]

use bitcoin::hashes::{sha256, Hash};

use biscol_artifact::format::Artifact;

/// The stored artifacts by name (included, so that the tests of `oracle-chain`, which include
/// this module from another package, find them too).
const STORED: &[(&str, &str)] = &[
    ("htlc", include_str!("../data/artifacts/htlc.json")),
    ("vault", include_str!("../data/artifacts/vault.json")),
    ("escrow", include_str!("../data/artifacts/escrow.json")),
    (
        "inheritance",
        include_str!("../data/artifacts/inheritance.json"),
    ),
    (
        "atomic_swap",
        include_str!("../data/artifacts/atomic_swap.json"),
    ),
    (
        "multisig_recovery",
        include_str!("../data/artifacts/multisig_recovery.json"),
    ),
    (
        "timelocks",
        include_str!("../data/artifacts/timelocks.json"),
    ),
    (
        "timed_vault",
        include_str!("../data/artifacts/timed_vault.json"),
    ),
    ("split", include_str!("../data/artifacts/split.json")),
    (
        "example_htlc",
        include_str!("../data/artifacts/example_htlc.json"),
    ),
    ("budget", include_str!("../data/artifacts/budget.json")),
];

/// The stored artifact `name` of `source` (named `file`), checked to be built from exactly that
/// text.
pub fn artifact_json(name: &str, file: &str, source: &str) -> Result<String, String> {
    let path = format!("tests/data/artifacts/{name}.json");
    let json = STORED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, json)| json.to_string())
        .ok_or_else(|| format!("{path} is not stored"))?;
    let artifact = Artifact::from_json(&json).map_err(|e| format!("{path}: {e}"))?;
    let sha256 = sha256::Hash::hash(source.as_bytes()).to_string();
    if artifact.source.file != file || artifact.source.sha256 != sha256 {
        return Err(format!(
            "{path} was built from {} (SHA-256 {}), not from this {file} (SHA-256 {sha256}); \
             rebuild it: BISCOL_BLESS=1 cargo test -p biscol-tests --test runtime_artifacts",
            artifact.source.file, artifact.source.sha256
        ));
    }
    Ok(json)
}

/// The stored artifact of `source` (named `file`, whose stem names the artifact), parsed.
pub fn artifact_of(file: &str, source: &str) -> Artifact {
    let name = file.strip_suffix(".bsc").unwrap_or(file);
    let json = artifact_json(name, file, source).unwrap_or_else(|e| panic!("{e}"));
    Artifact::from_json(&json).unwrap_or_else(|e| panic!("{file}: {e}"))
}
