//! The whole pipeline for one file: check, lower to IR, compile each contract to Taproot and
//! build its artifact.
//!
//! In: a database and a file. Out: every diagnostic (front end and back end, sorted) and, per
//! contract, its IR, its Taproot compilation and its artifact when it has no error.

use biscol_taproot::compile::Compiled;

use crate::artifact::{self, Artifact};
use crate::db::{self, Database, SourceFile};
use crate::diagnostic::{self, Diagnostic};
use crate::ir;
use crate::taproot;

/// The result of building a file.
#[derive(Clone, Debug)]
pub struct BuildOutput {
    /// All diagnostics, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// One entry per contract that passed the front end.
    pub contracts: Vec<BuiltContract>,
}

/// One built contract.
#[derive(Clone, Debug)]
pub struct BuiltContract {
    /// Its IR.
    pub ir: ir::Contract,
    /// Its Taproot compilation, when the back end accepted it.
    pub compiled: Option<Compiled>,
    /// Its artifact, when it has no error at all.
    pub artifact: Option<Artifact>,
}

impl BuildOutput {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Builds every contract of `file`.
pub fn build(db: &Database, file: SourceFile) -> BuildOutput {
    let mut diagnostics = db::diagnostics(db, file).clone();
    let mut contracts = Vec::new();
    if let Some(module) = db::lower(db, file) {
        let files = db.source_files();
        let checked = db::check(db, file);
        for (ir_contract, hir_contract) in module.contracts.iter().zip(&checked.contracts) {
            let output = taproot::compile_contract(ir_contract);
            let ok = !output.diagnostics.iter().any(Diagnostic::is_error);
            let text = file.text(db);
            diagnostics.extend(
                output
                    .diagnostics
                    .iter()
                    .cloned()
                    .map(|d| to_header(d, text)),
            );
            let artifact = match (&output.compiled, ok) {
                (Some(compiled), true) => Some(artifact::build(
                    hir_contract,
                    ir_contract,
                    compiled,
                    &output.literals,
                    &files,
                    file.id(db),
                    file.text(db),
                )),
                _ => None,
            };
            contracts.push(BuiltContract {
                ir: ir_contract.clone(),
                compiled: output.compiled,
                artifact,
            });
        }
    }
    diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();
    BuildOutput {
        diagnostics,
        contracts,
    }
}

/// The back end reports findings at a whole spend path or contract; pointing at its header
/// (`spend claim(preimage: Bytes32)`, `contract Htlc(...)`) reads better than underlining the
/// whole body.
fn to_header(mut d: Diagnostic, text: &str) -> Diagnostic {
    let span = d.primary.span;
    let Some(body) = text.get(span.range()) else {
        return d;
    };
    let Some(brace) = body.find('{') else {
        return d;
    };
    let head = &body[..brace];
    let start = ["spend ", "contract "]
        .iter()
        .filter_map(|k| head.rfind(k))
        .max()
        .unwrap_or(0);
    let trimmed = head[start..].trim_end();
    if !trimmed.is_empty() {
        d.primary.span.start = span.start + start as u32;
        d.primary.span.end = d.primary.span.start + trimmed.len() as u32;
    }
    d
}
