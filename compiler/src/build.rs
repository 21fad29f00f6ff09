//! The whole pipeline for one file: check, lower to IR, compile each contract to Taproot and
//! build its artifact.
//!
//! In: a database and a file. Out: every diagnostic (front end and back end, sorted) and, per
//! contract, its IR, its Taproot compilation and its artifact when it has no error. Every
//! step is a query of [`crate::db`], so a build after an edit recompiles only what changed.

use biscol_taproot::compile::Compiled;

use crate::artifact::{self, Artifact};
use crate::db::{self, Database, SourceFile};
use crate::diagnostic::Diagnostic;
use crate::ir;

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

/// Builds every contract of `file`. The diagnostics are [`db::all_diagnostics`]; the Taproot
/// compilation of each contract is [`db::taproot_item`], the query the language server shares.
pub fn build(db: &Database, file: SourceFile) -> BuildOutput {
    let diagnostics = db::all_diagnostics(db, file).clone();
    let mut contracts = Vec::new();
    if db::lower(db, file).is_some() {
        let files = db.source_files();
        let read: Vec<(String, String)> = db::import_closure(db, file)
            .values()
            .map(|f| (f.path(db).clone(), f.text(db).clone()))
            .collect();
        let sources = artifact::embedded_sources(file.path(db), &read);
        for index in db::contract_items(db, file) {
            let (Some(ir_contract), Some(hir_contract), Some(output)) = (
                db::lower_item(db, file, index),
                db::check_item(db, file, index).contract.as_ref(),
                db::taproot_item(db, file, index),
            ) else {
                continue;
            };
            let ok = !output.diagnostics.iter().any(Diagnostic::is_error);
            let artifact = match (&output.compiled, ok) {
                (Some(compiled), true) => Some(artifact::build(
                    hir_contract,
                    &ir_contract,
                    compiled,
                    &output.literals,
                    &files,
                    file.id(db),
                    sources.clone(),
                )),
                _ => None,
            };
            contracts.push(BuiltContract {
                ir: ir_contract,
                compiled: output.compiled,
                artifact,
            });
        }
    }
    BuildOutput {
        diagnostics,
        contracts,
    }
}
