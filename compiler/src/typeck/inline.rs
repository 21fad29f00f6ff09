//! `fn` items: checked once on their own, then inlined at every call.
//!
//! In: a `fn` definition, and at a call its checked arguments. Out: the diagnostics of its
//! body (once, from the standalone check, with its parameters opaque) and at each call the
//! body's typed expression with the arguments substituted. Errors that depend on the values
//! a `fn` is called with ([`VALUE_DEPENDENT`]) are reported at each call that causes them, with
//! a label on that call, never by the standalone check. A `fn` that calls itself, directly or
//! not, or nests deeper than [`MAX_INLINE_DEPTH`], is a cycle.

use crate::diagnostic::Diagnostic;
use crate::hir::{self, ExprKind as H};
use crate::resolve::ResolveError;
use crate::span::{FileId, Span};
use crate::syntax::ast;

use super::checker::{err, per_element, Checker, Frame, Local, Locals};
use super::error::TypeError;
use super::limits::MAX_INLINE_DEPTH;

/// Codes whose errors depend on the values a `fn` is called with: a `fn` body checked on its
/// own does not report them; each call that inlines it does.
const VALUE_DEPENDENT: &[&str] = &["E0036", "E0037", "E0038", "E0040", "E0041", "E0042"];

impl Checker<'_, '_> {
    /// Checks a `fn` on its own, its parameters opaque, to report errors in its body once.
    pub(super) fn check_fn_standalone(&mut self, file: FileId, f: &ast::FnDef) {
        let mut locals = Locals::new();
        for p in &f.params {
            let ty = self.resolve_type(file, &p.ty);
            let first = locals.get(&p.name.name).map(|(_, first)| *first);
            if self.duplicate("parameter", &p.name, first) {
                continue;
            }
            // An opaque stand-in of the declared type; an array stands in element by element,
            // so that `threshold(k, keys)` and indexing check as they will when inlined.
            let placeholder = per_element(ty, p.name.span, |_| H::Arg(p.name.name.clone()));
            locals.insert(
                p.name.name.clone(),
                (Local::Bound(placeholder), p.name.span),
            );
        }
        let ret = self.resolve_type(file, &f.ret);
        let before = self.diags.len();
        self.check_as(&f.body, &Frame::new(file, locals), &ret);
        // Whether a value is constant or in range depends on the arguments of each call; those
        // errors are reported where the function is inlined, not here.
        let found = self.diags.split_off(before);
        self.diags.extend(
            found
                .into_iter()
                .filter(|d| !VALUE_DEPENDENT.contains(&d.code)),
        );
    }

    /// The body of the `fn` at `items[index]` of `file`, inlined at the call at `call` with `args`.
    pub(super) fn inline_call(
        &mut self,
        file: FileId,
        index: usize,
        call: Span,
        args: &[ast::Expr],
        frame: &Frame,
    ) -> hir::Expr {
        let Some(ast::Item::Fn(f)) = self.item(file, index) else {
            return err(call);
        };
        if self.fn_stack.contains(&(file, index)) || self.fn_stack.len() >= MAX_INLINE_DEPTH {
            self.resolve_error(ResolveError::Cycle {
                name: f.name.name.clone(),
                span: call,
                definition: f.name.span,
            });
            return err(call);
        }
        if args.len() != f.params.len() {
            self.report(TypeError::Arity {
                name: f.name.name.clone(),
                expected: f.params.len(),
                found: args.len(),
                span: call,
            });
            return err(call);
        }
        let mut locals = Locals::new();
        for (param, arg) in f.params.iter().zip(args) {
            let ty = self.resolve_type(file, &param.ty);
            let checked = self.check_as(arg, frame, &ty);
            locals.insert(
                param.name.name.clone(),
                (Local::Bound(checked), param.name.span),
            );
        }
        let ret = self.resolve_type(file, &f.ret);
        // Errors inside the body were reported by the standalone check; keep only those the
        // arguments cause (they point outside the body).
        let before = self.diags.len();
        self.fn_stack.push((file, index));
        let inner = Frame {
            file,
            locals,
            in_prove: frame.in_prove,
            in_key: frame.in_key,
        };
        let mut body = self.check_as(&f.body, &inner, &ret);
        self.fn_stack.pop();
        let found = self.diags.split_off(before);
        for d in found {
            if let Some(d) = at_call(d, f, call) {
                self.diags.push(d);
            }
        }
        // A function that folds to a constant is, for every later check, that value at the call.
        if matches!(body.kind, H::Value(_)) {
            body.span = call;
        }
        body
    }
}

/// What becomes of a diagnostic found while inlining `f` at `call`: one outside the body (the
/// arguments caused it) or a cycle is kept; one inside that depends on the arguments' values
/// gets a label on the call; the others were reported by the standalone check.
fn at_call(d: Diagnostic, f: &ast::FnDef, call: Span) -> Option<Diagnostic> {
    let body = f.body.span;
    let inside = d.primary.span.file == body.file
        && d.primary.span.start >= body.start
        && d.primary.span.end <= body.end;
    if !inside || d.code == "E0024" {
        Some(d)
    } else if VALUE_DEPENDENT.contains(&d.code) {
        Some(d.with_secondary(call, format!("in this call of `{}`", f.name.name)))
    } else {
        None
    }
}
