//! `biscol verify` and the check every command makes before it trusts an artifact.
//!
//! In: an artifact file and, optionally, source files a person read. Out: exit 0 when the
//! artifact is exactly what its embedded source compiles to with this biscol (and that source
//! is the files given); exit 2 with the first field that differs otherwise. `deploy`, `spend`
//! and the other session commands make the same check through [`CompilerVerifier`], and
//! `instantiate` through [`check`].

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};

use biscol_compiler::artifact::Artifact;
use biscol_runtime::session::ArtifactVerifier;
use bitcoin::hashes::{sha256, Hash};

use crate::output::{self, Format};

/// Arguments of `biscol verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The artifact to check (`build/<Contract>.json`).
    pub artifact: PathBuf,
    /// A source file you read: it must be byte-identical to the artifact's embedded copy of the
    /// same path (or file name). Give it once per file.
    #[arg(long = "source", value_name = "FILE")]
    pub sources: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// The session's verifier: recompiles each artifact's embedded source with this compiler. An
/// artifact that passed once is remembered (by the hash of its JSON) for the rest of the
/// process, so `deploy`, which checks it before it shows what the address commits to and again
/// when it funds, compiles it once.
#[derive(Debug, Default)]
pub struct CompilerVerifier {
    passed: Mutex<BTreeSet<sha256::Hash>>,
}

impl ArtifactVerifier for CompilerVerifier {
    fn verify(&self, artifact: &Artifact) -> Result<(), String> {
        let key = sha256::Hash::hash(artifact.to_json().as_bytes());
        let mut passed = self.passed.lock().unwrap_or_else(PoisonError::into_inner);
        if passed.contains(&key) {
            return Ok(());
        }
        biscol_compiler::verify::verify(artifact, &[]).map_err(|e| e.to_string())?;
        passed.insert(key);
        Ok(())
    }
}

/// Reads the artifact at `path`, refusing one that is unreadable or not what its source
/// compiles to; the error is the message to print.
pub fn read_verified(path: &std::path::Path) -> Result<Artifact, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let artifact = Artifact::from_json(&text).map_err(|e| format!("`{}`: {e}", path.display()))?;
    check(&artifact, &[]).map_err(|e| format!("`{}`: {e}", path.display()))?;
    Ok(artifact)
}

/// Verifies `artifact` against its source and the `given` files (name, text).
pub fn check(artifact: &Artifact, given: &[(String, String)]) -> Result<(), String> {
    biscol_compiler::verify::verify(artifact, given)
        .map_err(|e| format!("the artifact is refused: {e}"))
}

/// Runs the command.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.artifact) {
        Ok(text) => text,
        Err(e) => {
            return output::usage_error(&format!("cannot read `{}`: {e}", args.artifact.display()))
        }
    };
    let artifact = match Artifact::from_json(&text) {
        Ok(a) => a,
        Err(e) => return output::usage_error(&format!("`{}`: {e}", args.artifact.display())),
    };
    let mut given = Vec::new();
    for path in &args.sources {
        match std::fs::read_to_string(path) {
            Ok(text) => given.push((path.display().to_string(), text)),
            Err(e) => {
                return output::usage_error(&format!("cannot read `{}`: {e}", path.display()))
            }
        }
    }
    let result = biscol_compiler::verify::verify(&artifact, &given);
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "artifact": args.artifact.display().to_string(),
                "contract": artifact.contract,
                "verified": result.is_ok(),
                "error": result.as_ref().err().map(ToString::to_string),
                "sources": artifact.sources.iter().map(|s| &s.path).collect::<Vec<_>>(),
            })
        ),
        Format::Human => match &result {
            Ok(()) => println!(
                "ok: `{}` is what its source compiles to with biscol {} (contract {}, {} source file{}{})",
                args.artifact.display(),
                env!("CARGO_PKG_VERSION"),
                artifact.contract,
                artifact.sources.len(),
                if artifact.sources.len() == 1 { "" } else { "s" },
                if given.is_empty() {
                    String::new()
                } else {
                    format!(", {} checked against the files given", given.len())
                }
            ),
            Err(e) => eprintln!("error: `{}`: the artifact is refused: {e}", args.artifact.display()),
        },
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
