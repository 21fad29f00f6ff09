//! Expressions: the dispatch on their kind, names, arrays, `&&`/`||` and indexing.
//!
//! In: an AST expression, the frame of names visible, and the type expected where the context
//! gives one (literals take it). Out: the typed [`hir::Expr`]. Constant arrays fold to values;
//! an array parameter stands element by element, so that a constant index picks one.
//! Confidential values may only be read inside `prove`.

use crate::hir::{self, ExprKind as H, Value};
use crate::resolve::{suggest, ItemKind, ResolveError};
use crate::span::Span;
use crate::syntax::ast;
use crate::types::Ty;

use super::checker::{err, per_element, value, Checker, Frame, Local};
use super::error::TypeError;

impl Checker<'_, '_> {
    /// Checks `e`, expecting `expected` where the context says.
    pub(super) fn check(
        &mut self,
        e: &ast::Expr,
        frame: &Frame,
        expected: Option<&Ty>,
    ) -> hir::Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Int { digits, unit } => {
                self.check_int(digits, unit.as_ref(), span, expected)
            }
            ast::ExprKind::Hex(digits) => self.check_hex(digits, span, expected),
            ast::ExprKind::Str(s) => value(Value::Str(s.clone()), Ty::Str, span),
            ast::ExprKind::Bool(b) => value(Value::Bool(*b), Ty::Cond, span),
            ast::ExprKind::Name(id) => self.check_name(id, frame),
            ast::ExprKind::Call { callee, args } => self.check_call(e, callee, args, frame),
            ast::ExprKind::Index { base, index } => self.check_index(base, index, span, frame),
            ast::ExprKind::Array(items) => self.check_array(items, span, frame, expected),
            ast::ExprKind::And(items) | ast::ExprKind::Or(items) => {
                let out = items
                    .iter()
                    .map(|item| self.check_as(item, frame, &Ty::Cond))
                    .collect();
                let kind = if matches!(e.kind, ast::ExprKind::And(_)) {
                    H::And(out)
                } else {
                    H::Or(out)
                };
                hir::Expr {
                    kind,
                    ty: Ty::Cond,
                    span,
                }
            }
            ast::ExprKind::Binary { op, lhs, rhs } => self.check_binary(*op, lhs, rhs, span, frame),
            ast::ExprKind::Error => err(span),
        }
    }

    /// An array literal: its elements all of the first one's type (or the expected element
    /// type); a value when every element is one.
    fn check_array(
        &mut self,
        items: &[ast::Expr],
        span: Span,
        frame: &Frame,
        expected: Option<&Ty>,
    ) -> hir::Expr {
        let mut elem_ty: Option<Ty> = match expected {
            Some(Ty::Array(elem, _)) => Some((**elem).clone()),
            _ => None,
        };
        let mut out: Vec<hir::Expr> = Vec::new();
        for item in items {
            let checked = match &elem_ty {
                Some(t) => self.check_as(item, frame, t),
                None => {
                    let checked = self.check(item, frame, None);
                    elem_ty = Some(checked.ty.clone());
                    checked
                }
            };
            out.push(checked);
        }
        let ty = Ty::Array(Box::new(elem_ty.unwrap_or(Ty::Error)), out.len() as u32);
        if !out.is_empty() && out.iter().all(|x| matches!(x.kind, H::Value(_))) {
            let values = out.into_iter().filter_map(|x| match x.kind {
                H::Value(v) => Some(v),
                _ => None,
            });
            return value(Value::Array(values.collect()), ty, span);
        }
        hir::Expr {
            kind: H::Array(out),
            ty,
            span,
        }
    }

    /// The names a misspelled name may have meant.
    fn visible_names(&self, frame: &Frame) -> Vec<String> {
        let mut names: Vec<String> = frame.locals.keys().cloned().collect();
        if let Some(scope) = self.env.scopes.get(&frame.file) {
            names.extend(scope.items.keys().cloned());
        }
        names
    }

    /// A name used as a value: a local, or a constant item.
    fn check_name(&mut self, id: &ast::Ident, frame: &Frame) -> hir::Expr {
        let span = id.span;
        if let Some((local, _)) = frame.locals.get(&id.name) {
            return match local {
                Local::Param(ty) => {
                    self.used.insert(id.name.clone());
                    per_element(ty.clone(), span, |index| H::Param {
                        name: id.name.clone(),
                        index,
                    })
                }
                Local::Arg(ty) => {
                    self.used.insert(id.name.clone());
                    hir::Expr {
                        kind: H::Arg(id.name.clone()),
                        ty: ty.clone(),
                        span,
                    }
                }
                Local::Confidential => {
                    if !frame.in_prove {
                        self.report(TypeError::ConfidentialOutsideProve {
                            name: id.name.clone(),
                            span,
                        });
                        return err(span);
                    }
                    hir::Expr {
                        kind: H::Confidential(id.name.clone()),
                        ty: Ty::Commitment,
                        span,
                    }
                }
                Local::Bound(bound) => hir::Expr {
                    span: bound.span,
                    ..bound.clone()
                },
            };
        }
        let scope = self.env.scopes.get(&frame.file).copied();
        match scope.and_then(|s| s.get(&id.name)).copied() {
            Some(item) if item.kind == ItemKind::Const => {
                if self.const_stack.contains(&(item.file, item.index)) {
                    self.resolve_error(ResolveError::Cycle {
                        name: id.name.clone(),
                        span,
                        definition: item.name_span,
                    });
                    return err(span);
                }
                match self.const_value(item.file, item.index) {
                    Some((v, ty)) => value(v, ty, span),
                    None => err(span),
                }
            }
            Some(item) => {
                let what = if item.kind == ItemKind::Fn {
                    "function"
                } else {
                    "contract"
                };
                self.report(TypeError::NotAValue {
                    what,
                    name: id.name.clone(),
                    span,
                    definition: item.name_span,
                });
                err(span)
            }
            None => {
                let names = self.visible_names(frame);
                let suggestion = suggest(&id.name, names.iter().map(String::as_str));
                self.resolve_error(ResolveError::UnknownName {
                    name: id.name.clone(),
                    span,
                    suggestion,
                });
                err(span)
            }
        }
    }

    /// `base[index]`, with a constant index within the array's length.
    fn check_index(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        span: Span,
        frame: &Frame,
    ) -> hir::Expr {
        let b = self.check(base, frame, None);
        let i = self.check_as(index, frame, &Ty::Int);
        if b.ty == Ty::Error {
            return err(span);
        }
        let Ty::Array(elem, n) = &b.ty else {
            self.report(TypeError::NotIndexable {
                ty: b.ty.clone(),
                span: base.span,
            });
            return err(span);
        };
        let Some(k) = self.const_int(&i, "an index") else {
            return err(span);
        };
        if k >= u64::from(*n) {
            self.report(TypeError::IndexOutOfBounds {
                index: k,
                len: *n,
                span: index.span,
            });
            return err(span);
        }
        let k = k as usize;
        match b.kind {
            H::Array(mut items) => {
                let mut item = items.swap_remove(k);
                item.span = span;
                item
            }
            H::Value(Value::Array(mut values)) => {
                value(values.swap_remove(k), (**elem).clone(), span)
            }
            _ => err(span),
        }
    }
}
