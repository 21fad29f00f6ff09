//! The checker's state and the helpers every check uses.
//!
//! In: the [`Env`] of the files in play. Out: the [`Checker`], which the other modules of
//! [`crate::typeck`] extend with one `impl` block each, and collects diagnostics as it goes.
//! Invariant: a check that fails reports one problem and returns an expression of type
//! `Ty::Error` ([`err`]), which every later check accepts silently.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Diagnostic;
use crate::hir::{self, ExprKind as H, Value};
use crate::resolve::{ItemScope, ResolveError};
use crate::span::{FileId, Span};
use crate::syntax::ast;
use crate::types::Ty;

use super::error::TypeError;

/// Everything type checking needs about the files in play.
pub struct Env<'a> {
    /// The ASTs by file.
    pub asts: &'a BTreeMap<FileId, &'a ast::SourceFile>,
    /// The item scope of each file.
    pub scopes: &'a BTreeMap<FileId, &'a ItemScope>,
}

/// What a local name stands for.
#[derive(Clone, Debug)]
pub(super) enum Local {
    /// A contract parameter.
    Param(Ty),
    /// A spend argument.
    Arg(Ty),
    /// A confidential value.
    Confidential,
    /// A `fn` parameter, bound to the argument's checked expression.
    Bound(hir::Expr),
}

/// The local names of a frame, each with where it is declared.
pub(super) type Locals = BTreeMap<String, (Local, Span)>;

/// The names visible while checking one expression.
#[derive(Clone, Debug)]
pub(super) struct Frame {
    /// Which file's items are visible.
    pub(super) file: FileId,
    /// Local names.
    pub(super) locals: Locals,
    /// Whether we are inside `prove` (confidential values and comparisons allowed).
    pub(super) in_prove: bool,
    /// Whether we are inside a `key` declaration (`musig` allowed).
    pub(super) in_key: bool,
}

impl Frame {
    /// A frame that sees `locals` and the items of `file`, outside `prove` and `key`.
    pub(super) fn new(file: FileId, locals: Locals) -> Frame {
        Frame {
            file,
            locals,
            in_prove: false,
            in_key: false,
        }
    }

    /// A frame that sees only the items of `file`: where constants are evaluated.
    pub(super) fn items(file: FileId) -> Frame {
        Frame::new(file, Locals::new())
    }
}

/// The type checker of one file (and of the items it uses from other files).
pub(super) struct Checker<'e, 'a> {
    pub(super) env: &'e Env<'a>,
    pub(super) diags: Vec<Diagnostic>,
    /// Constants evaluated so far, by file and item index (`None`: it has an error).
    pub(super) consts: BTreeMap<(FileId, usize), Option<(Value, Ty)>>,
    /// The constants being evaluated, innermost last (to find cycles).
    pub(super) const_stack: Vec<(FileId, usize)>,
    /// The `fn`s being inlined, innermost last (to find cycles and bound the depth).
    pub(super) fn_stack: Vec<(FileId, usize)>,
    /// Names of contract parameters and spend arguments that were read.
    pub(super) used: BTreeSet<String>,
}

/// The expression standing for a failed check.
pub(super) fn err(span: Span) -> hir::Expr {
    hir::Expr::error(span)
}

/// A constant value of type `ty`.
pub(super) fn value(v: Value, ty: Ty, span: Span) -> hir::Expr {
    hir::Expr {
        kind: H::Value(v),
        ty,
        span,
    }
}

/// A condition (an expression of type `Cond`).
pub(super) fn cond(kind: H, span: Span) -> hir::Expr {
    hir::Expr {
        kind,
        ty: Ty::Cond,
        span,
    }
}

/// An expression of type `ty` made of `kind`: for an array type, an array of its elements,
/// each of kind `kind(Some(index))`; for any other type, of kind `kind(None)`.
pub(super) fn per_element(ty: Ty, span: Span, kind: impl Fn(Option<u32>) -> H) -> hir::Expr {
    let kind = match &ty {
        Ty::Array(elem, n) => H::Array(
            (0..*n)
                .map(|i| hir::Expr {
                    kind: kind(Some(i)),
                    ty: (**elem).clone(),
                    span,
                })
                .collect(),
        ),
        _ => kind(None),
    };
    hir::Expr { kind, ty, span }
}

impl<'e, 'a> Checker<'e, 'a> {
    pub(super) fn new(env: &'e Env<'a>) -> Self {
        Checker {
            env,
            diags: Vec::new(),
            consts: BTreeMap::new(),
            const_stack: Vec::new(),
            fn_stack: Vec::new(),
            used: BTreeSet::new(),
        }
    }

    /// How many errors have been reported so far.
    pub(super) fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// Reports a type error.
    pub(super) fn report(&mut self, e: TypeError) {
        self.diags.push(e.to_diagnostic());
    }

    /// Reports a name-resolution error found while checking.
    pub(super) fn resolve_error(&mut self, e: ResolveError) {
        self.diags.push(e.to_diagnostic());
    }

    /// The item at `items[index]` of `file`.
    pub(super) fn item(&self, file: FileId, index: usize) -> Option<&'a ast::Item> {
        self.env.asts.get(&file).and_then(|f| f.items.get(index))
    }

    /// Reports a duplicate definition of `name` when `first` says where it was defined
    /// before; returns whether it was a duplicate.
    pub(super) fn duplicate(
        &mut self,
        what: &'static str,
        name: &ast::Ident,
        first: Option<Span>,
    ) -> bool {
        let Some(first) = first else {
            return false;
        };
        self.resolve_error(ResolveError::Duplicate {
            what,
            name: name.name.clone(),
            span: name.span,
            first,
        });
        true
    }

    /// Records `span` as the place of something allowed once, whose first place `first`
    /// holds; when there was one already, reports `second(span, first)` and returns false.
    pub(super) fn once(
        &mut self,
        first: &mut Option<Span>,
        span: Span,
        second: fn(Span, Span) -> TypeError,
    ) -> bool {
        if let Some(first) = *first {
            self.report(second(span, first));
            return false;
        }
        *first = Some(span);
        true
    }

    /// Converts `expr` to `ty` where a literal allows it, or reports a mismatch.
    pub(super) fn coerce(&mut self, expr: hir::Expr, ty: &Ty) -> hir::Expr {
        if &expr.ty == ty || expr.ty == Ty::Error || *ty == Ty::Error {
            return expr;
        }
        let literal = match (&expr.ty, &expr.kind) {
            (Ty::Int, H::Value(Value::Int(n))) => Some(*n),
            _ => None,
        };
        self.report(TypeError::Mismatch {
            expected: ty.clone(),
            found: expr.ty.clone(),
            literal,
            span: expr.span,
        });
        err(expr.span)
    }

    /// Checks `e` expecting `ty` and converts it to `ty`.
    pub(super) fn check_as(&mut self, e: &ast::Expr, frame: &Frame, ty: &Ty) -> hir::Expr {
        let checked = self.check(e, frame, Some(ty));
        self.coerce(checked, ty)
    }

    /// The integer `e` folded to, or `None` after reporting that `what` must be constant.
    pub(super) fn const_int(&mut self, e: &hir::Expr, what: &str) -> Option<u64> {
        match &e.kind {
            H::Value(Value::Int(n)) => Some(*n),
            H::Error => None,
            _ => {
                self.report(TypeError::NotConstant {
                    what: what.to_string(),
                    span: e.span,
                });
                None
            }
        }
    }
}
