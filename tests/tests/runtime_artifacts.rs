//! The artifacts the runtime's tests deploy (`runtime/tests/data/artifacts/`) are exactly what
//! the compiler builds from their sources today. The runtime does not depend on the compiler,
//! so its tests read these stored copies; this test keeps them honest.
//!
//! `BISCOL_BLESS=1 cargo test -p biscol-tests --test runtime_artifacts` rewrites them.

use std::path::{Path, PathBuf};

use biscol_compiler::build;
use biscol_compiler::db::Database;

/// Every stored artifact: its name, the file name it is built under, and its source (from the
/// repository root).
const STORED: &[(&str, &str, &str)] = &[
    ("htlc", "htlc.bsc", "stdlib/htlc.bsc"),
    ("vault", "vault.bsc", "stdlib/vault.bsc"),
    ("escrow", "escrow.bsc", "stdlib/escrow.bsc"),
    ("inheritance", "inheritance.bsc", "stdlib/inheritance.bsc"),
    ("atomic_swap", "atomic_swap.bsc", "stdlib/atomic_swap.bsc"),
    (
        "multisig_recovery",
        "multisig_recovery.bsc",
        "stdlib/multisig_recovery.bsc",
    ),
    (
        "timelocks",
        "timelocks.bsc",
        "runtime/tests/data/timelocks.bsc",
    ),
    (
        "timed_vault",
        "timed_vault.bsc",
        "runtime/tests/data/spend/timed_vault.bsc",
    ),
    ("split", "split.bsc", "runtime/tests/data/spend/split.bsc"),
    ("example_htlc", "htlc.bsc", "examples/htlc.bsc"),
    ("budget", "budget.bsc", "runtime/tests/data/budget.bsc"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The artifact JSON of the one contract in `source`, built under the name `file`.
fn build_one(file: &str, source: &str) -> String {
    let mut db = Database::new();
    let id = db.set_file(file, source.to_string());
    let out = build::build(&db, id);
    assert!(!out.has_errors(), "{file}: {:#?}", out.diagnostics);
    let artifacts: Vec<_> = out
        .contracts
        .iter()
        .filter_map(|c| c.artifact.as_ref())
        .collect();
    assert_eq!(artifacts.len(), 1, "{file}: one contract");
    artifacts[0].to_json()
}

#[test]
fn stored_runtime_artifacts_are_what_the_compiler_builds() {
    let dir = root().join("runtime/tests/data/artifacts");
    let bless = std::env::var_os("BISCOL_BLESS").is_some();
    for (name, file, source_path) in STORED {
        let source = std::fs::read_to_string(root().join(source_path)).unwrap();
        let built = build_one(file, &source);
        let path = dir.join(format!("{name}.json"));
        if bless {
            std::fs::write(&path, &built).unwrap();
        }
        let stored =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            stored == built,
            "{} differs from the artifact of {source_path}; rebuild with \
             BISCOL_BLESS=1 cargo test -p biscol-tests --test runtime_artifacts",
            path.display()
        );
    }
    // Nothing stored that this list does not check.
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = STORED.iter().map(|(n, _, _)| format!("{n}.json")).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}
