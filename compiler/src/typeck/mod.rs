//! Type checking: resolved, typed contracts (the HIR) from the AST.
//!
//! In: one file's AST, the item scopes of that file and of every file it imports (from
//! [`crate::resolve`]), and those files' ASTs. Out: a [`hir::Contract`] per contract and the
//! diagnostics found. Checking goes on after an error: a broken expression becomes
//! `hir::ExprKind::Error` of type `Ty::Error`, which is compatible with everything, so one
//! mistake gives one diagnostic.
//!
//! What is checked here: local names (parameters, spend arguments, confidential values),
//! types of every expression, constant folding (`const`, defaults, units, arithmetic), `fn`
//! inlining, the BIP65/68/112 ranges of constant timelocks, threshold ranges, weights, the
//! shape of key declarations, and the ZK rules (`prove` only over confidential values, in a
//! path that also requires a signature).
//!
//! One module per concern, each adding methods to the one `Checker` (in `checker`):
//!
//! | module | checks |
//! | --- | --- |
//! | `checker` | state, frames of local names, coercion, reporting |
//! | `error` | [`TypeError`]: every message of the type checker, in one `to_diagnostic` |
//! | `limits` | the numeric bounds (timelocks, weights, depths) |
//! | `type_expr` | type expressions (`PubKey`, `[PubKey; 3]`, `Commitment<u64>`) |
//! | `consts` | `const` items, evaluated once |
//! | `inline` | `fn` bodies on their own, and inlining at each call |
//! | `contract` | contracts: parameters, confidential values, unused parameters |
//! | `keys` | the `key` declaration: one key or a MuSig2 aggregate |
//! | `path` | spend paths: `@weight`, arguments, `require`, `prove` and the ZK rule |
//! | `exprs` | expressions, names and indexing |
//! | `literals` | integer (with units) and hex literals |
//! | `operators` | comparisons, hash locks, constant arithmetic, arithmetic in proofs |
//! | `calls` | calls: built-ins (dispatched on [`crate::builtins::BuiltinKind`]) and `fn`s |
//! | `ranges` | the BIP65/68 ranges of constant timelocks |
//!
//! Recursion here follows the AST's expression depth, which the parser bounds
//! ([`crate::syntax::ast::MAX_EXPR_DEPTH`]), and `fn` inlining depth, bounded by
//! [`MAX_INLINE_DEPTH`].

mod calls;
mod checker;
mod consts;
mod contract;
mod error;
mod exprs;
mod inline;
mod keys;
mod limits;
mod literals;
mod operators;
mod path;
mod ranges;
mod type_expr;

use crate::diagnostic::Diagnostic;
use crate::hir;
use crate::span::FileId;
use crate::syntax::ast;

use checker::Checker;
pub use checker::Env;
pub use error::TypeError;
pub use limits::{
    LOCKTIME_THRESHOLD, MAX_ABSOLUTE_LOCK, MAX_COND_DEPTH, MAX_INLINE_DEPTH, MAX_WEIGHT,
    SEQUENCE_UNIT_SECONDS,
};
pub use path::contains_sig;

/// Checks every item of `file`. Returns its contracts and all diagnostics about it.
pub fn check_file(env: &Env<'_>, file: FileId) -> (Vec<hir::Contract>, Vec<Diagnostic>) {
    let mut checker = Checker::new(env);
    let mut contracts = Vec::new();
    let Some(source) = env.asts.get(&file) else {
        return (contracts, Vec::new());
    };
    for (index, item) in source.items.iter().enumerate() {
        contracts.extend(check_one(&mut checker, file, index, item));
    }
    (contracts, diagnostics_about(checker, file))
}

/// Checks item `index` of `file` on its own, with a fresh checker: its contract, if it is one,
/// and the diagnostics about `file` found on the way. For item-level incrementality
/// ([`crate::db::check_item`]); [`check_file`] gives the same diagnostics up to duplicates
/// (a constant's errors are found again by each item that folds it) and, for constants defined
/// in terms of each other, up to which use E0024 is reported at.
pub fn check_item(
    env: &Env<'_>,
    file: FileId,
    index: usize,
) -> (Option<hir::Contract>, Vec<Diagnostic>) {
    let mut checker = Checker::new(env);
    let contract = match env.asts.get(&file).and_then(|f| f.items.get(index)) {
        Some(item) => check_one(&mut checker, file, index, item),
        None => None,
    };
    (contract, diagnostics_about(checker, file))
}

/// Checks one item; returns its contract when it is one that checked.
fn check_one(
    checker: &mut Checker<'_, '_>,
    file: FileId,
    index: usize,
    item: &ast::Item,
) -> Option<hir::Contract> {
    match item {
        ast::Item::Const(_) => {
            checker.const_value(file, index);
            None
        }
        ast::Item::Fn(f) => {
            checker.check_fn_standalone(file, f);
            None
        }
        ast::Item::Contract(c) => checker.check_contract(file, c),
        ast::Item::Use(_) | ast::Item::Error(_) => None,
    }
}

/// The diagnostics about `file`: those at a span in it, or with a label in it.
fn diagnostics_about(checker: Checker<'_, '_>, file: FileId) -> Vec<Diagnostic> {
    checker
        .diags
        .into_iter()
        .filter(|d| d.primary.span.file == file || d.secondary.iter().any(|l| l.span.file == file))
        .collect()
}
