//! `key` declarations: the contract's key path.
//!
//! In: the expression of a `key` declaration. Out: a [`hir::KeyPath`]: one `PubKey`, or a
//! MuSig2 aggregate of two or more keys (arrays of keys are spread). `musig(...)` must be the
//! whole expression; anywhere else in it, or outside a `key`, it is an error (reported by
//! [`super::calls`]).

use crate::builtins::{self, BuiltinKind};
use crate::hir::{self, ExprKind as H};
use crate::syntax::ast;
use crate::types::Ty;

use super::checker::{Checker, Frame};
use super::error::TypeError;

impl Checker<'_, '_> {
    /// Checks the expression of a `key` declaration.
    pub(super) fn check_key(&mut self, expr: &ast::Expr, frame: &Frame) -> hir::KeyPath {
        let key_frame = Frame {
            in_key: true,
            ..frame.clone()
        };
        if let ast::ExprKind::Call { callee, args } = &expr.kind {
            if builtins::lookup(&callee.name).map(|b| b.kind) == Some(BuiltinKind::MuSig) {
                return self.check_musig(&callee.name, args, expr, &key_frame);
            }
        }
        let e = self.check(expr, &key_frame, Some(&Ty::PubKey));
        match e.ty {
            Ty::PubKey => hir::KeyPath::Single(e),
            Ty::Error => hir::KeyPath::None,
            other => {
                self.report(TypeError::NotAKey {
                    ty: other,
                    span: expr.span,
                });
                hir::KeyPath::None
            }
        }
    }

    /// Checks `musig(args)`, the whole of a key expression.
    fn check_musig(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        expr: &ast::Expr,
        key_frame: &Frame,
    ) -> hir::KeyPath {
        if args.is_empty() {
            self.report(TypeError::Arity {
                name: name.to_string(),
                expected: 2,
                found: 0,
                span: expr.span,
            });
            return hir::KeyPath::None;
        }
        let mut keys = Vec::new();
        for a in args {
            let e = self.check(a, key_frame, Some(&Ty::PubKey));
            match (&e.kind, &e.ty) {
                (H::Array(items), Ty::Array(elem, _)) if **elem == Ty::PubKey => {
                    keys.extend(items.iter().cloned())
                }
                (_, Ty::PubKey) => keys.push(e),
                (_, Ty::Error) => {}
                (_, other) => self.report(TypeError::MusigArgument {
                    ty: other.clone(),
                    span: a.span,
                }),
            }
        }
        if keys.len() < 2 && !keys.is_empty() {
            self.report(TypeError::MusigOneKey { span: expr.span });
        }
        hir::KeyPath::MuSig(keys, expr.span)
    }
}
