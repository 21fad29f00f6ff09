//! Calls: the built-ins, dispatched on their [`BuiltinKind`] from [`crate::builtins`], and
//! `fn`s, inlined by [`super::inline`].
//!
//! In: a call expression. Out: the condition or value it stands for. `sig` takes a key;
//! `older` a relative lock (`Blocks`, `Duration`); `after` an absolute one (`Height`, `Time`;
//! a plain number is a height below 500000000 and a time from it, as BIP65 says); a hash
//! function a spend argument (a hash lock checks a preimage the spender reveals); `threshold`
//! a constant k and keys or conditions (an array, or several); `musig` is only the whole of a
//! `key` declaration ([`super::keys`]).

use crate::builtins::{self, BuiltinKind};
use crate::hir::{self, ExprKind as H, HashFn, Value};
use crate::resolve::{suggest, ItemKind, ResolveError};
use crate::span::Span;
use crate::syntax::ast;
use crate::types::Ty;

use super::checker::{cond, err, value, Checker, Frame};
use super::error::TypeError;
use super::limits::LOCKTIME_THRESHOLD;

impl Checker<'_, '_> {
    /// Checks the call `call` of `callee` with `args`.
    pub(super) fn check_call(
        &mut self,
        call: &ast::Expr,
        callee: &ast::Ident,
        args: &[ast::Expr],
        frame: &Frame,
    ) -> hir::Expr {
        let span = call.span;
        let Some(builtin) = builtins::lookup(&callee.name) else {
            return self.check_fn_call(callee, args, span, frame);
        };
        match builtin.kind {
            BuiltinKind::Sig => {
                let Some(arg) = self.one_arg(builtin.name, args, span) else {
                    return err(span);
                };
                let k = self.check_as(arg, frame, &Ty::PubKey);
                if k.ty == Ty::Error {
                    return err(span);
                }
                cond(H::Sig(Box::new(k)), span)
            }
            BuiltinKind::Older => {
                let Some(arg) = self.one_arg(builtin.name, args, span) else {
                    return err(span);
                };
                let d = self.check(arg, frame, None);
                match d.ty {
                    Ty::Blocks | Ty::Duration => self.timelock(H::Older, d, span),
                    Ty::Error => err(span),
                    ref other => {
                        let literal = match d.kind {
                            H::Value(Value::Int(n)) => Some(n),
                            _ => None,
                        };
                        self.report(TypeError::OlderArgument {
                            ty: other.clone(),
                            literal,
                            span: d.span,
                        });
                        err(span)
                    }
                }
            }
            BuiltinKind::After => {
                let Some(arg) = self.one_arg(builtin.name, args, span) else {
                    return err(span);
                };
                let mut t = self.check(arg, frame, None);
                if let (Ty::Int, H::Value(Value::Int(n))) = (&t.ty, &t.kind) {
                    // BIP65: an untyped number is a height below 500,000,000, a time at or above it.
                    t.ty = if *n < LOCKTIME_THRESHOLD {
                        Ty::Height
                    } else {
                        Ty::Time
                    };
                }
                match t.ty {
                    Ty::Height | Ty::Time => self.timelock(H::After, t, span),
                    Ty::Error => err(span),
                    ref other => {
                        self.report(TypeError::AfterArgument {
                            ty: other.clone(),
                            span: t.span,
                        });
                        err(span)
                    }
                }
            }
            BuiltinKind::Hash(func) => {
                let Some(arg) = self.one_arg(builtin.name, args, span) else {
                    return err(span);
                };
                self.check_hash(func, builtin.name, arg, span, frame)
            }
            BuiltinKind::Threshold => self.check_threshold(args, span, frame),
            BuiltinKind::MuSig => {
                // A `musig` that is the whole key expression is checked by `check_key`.
                let e = if frame.in_key {
                    TypeError::MusigNotWhole { span }
                } else {
                    TypeError::MusigOutsideKey { span }
                };
                self.report(e);
                err(span)
            }
        }
    }

    /// The one argument of a call of `name`, or `None` after reporting how many there are.
    fn one_arg<'x>(
        &mut self,
        name: &str,
        args: &'x [ast::Expr],
        span: Span,
    ) -> Option<&'x ast::Expr> {
        if let [arg] = args {
            return Some(arg);
        }
        self.report(TypeError::Arity {
            name: name.to_string(),
            expected: 1,
            found: args.len(),
            span,
        });
        None
    }

    /// `older(lock)` or `after(lock)`, `lock` of a timelock type: a constant is range checked.
    fn timelock(
        &mut self,
        kind: fn(Box<hir::Expr>) -> H,
        lock: hir::Expr,
        span: Span,
    ) -> hir::Expr {
        if let H::Value(v) = &lock.kind {
            self.check_value_range(v, &lock.ty, lock.span);
        }
        cond(kind(Box::new(lock)), span)
    }

    /// `func(arg)`: the hash of a spend argument.
    fn check_hash(
        &mut self,
        func: HashFn,
        name: &'static str,
        arg: &ast::Expr,
        span: Span,
        frame: &Frame,
    ) -> hir::Expr {
        let x = self.check(arg, frame, Some(&Ty::Bytes32));
        match &x.kind {
            H::Arg(_) => {}
            H::Error => return err(span),
            _ => {
                self.report(TypeError::HashOfNonArgument {
                    func: name,
                    span: arg.span,
                });
                return err(span);
            }
        }
        let x = self.coerce(x, &Ty::Bytes32);
        if x.ty == Ty::Error {
            return err(span);
        }
        hir::Expr {
            kind: H::Hash {
                func,
                preimage: Box::new(x),
            },
            ty: func.output(),
            span,
        }
    }

    /// A call of something that is not a built-in: a `fn` in scope, inlined.
    fn check_fn_call(
        &mut self,
        callee: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        frame: &Frame,
    ) -> hir::Expr {
        let name = callee.name.as_str();
        let scope = self.env.scopes.get(&frame.file).copied();
        let defined = match scope.and_then(|s| s.get(name)).copied() {
            Some(item) if item.kind == ItemKind::Fn => {
                return self.inline_call(item.file, item.index, span, args, frame);
            }
            Some(item) => Some((item.name_span, false)),
            None => frame.locals.get(name).map(|(_, at)| (*at, true)),
        };
        let check_args = match defined {
            Some((definition, check_args)) => {
                self.report(TypeError::NotAFunction {
                    name: name.to_string(),
                    span: callee.span,
                    definition,
                });
                check_args
            }
            None => {
                let mut candidates: Vec<&str> = builtins::NAMES.to_vec();
                if let Some(scope) = scope {
                    candidates.extend(
                        scope
                            .items
                            .iter()
                            .filter(|(_, i)| i.kind == ItemKind::Fn)
                            .map(|(n, _)| n.as_str()),
                    );
                }
                let suggestion = suggest(name, candidates);
                self.resolve_error(ResolveError::UnknownFunction {
                    name: name.to_string(),
                    span: callee.span,
                    suggestion,
                });
                true
            }
        };
        // The arguments of a call of a local or of nothing still get their own diagnostics.
        if check_args {
            for a in args {
                self.check(a, frame, None);
            }
        }
        err(span)
    }

    /// `threshold(k, items)` or `threshold(k, a, b, ...)`.
    fn check_threshold(&mut self, args: &[ast::Expr], span: Span, frame: &Frame) -> hir::Expr {
        if args.len() < 2 {
            self.report(TypeError::Arity {
                name: "threshold".to_string(),
                expected: 2,
                found: args.len(),
                span,
            });
            return err(span);
        }
        let k_expr = self.check_as(&args[0], frame, &Ty::Int);
        let k = self.const_int(&k_expr, "a threshold");
        let mut items: Vec<hir::Expr> = Vec::new();
        let mut ok = true;
        let rest = &args[1..];
        if let [one] = rest {
            let e = self.check(one, frame, None);
            match (e.kind, e.ty) {
                (H::Array(elems), Ty::Array(..)) => {
                    for x in elems {
                        ok &= self.threshold_item(x, &mut items);
                    }
                }
                (H::Value(Value::Array(values)), Ty::Array(elem, _)) => {
                    for v in values {
                        ok &= self.threshold_item(value(v, (*elem).clone(), e.span), &mut items);
                    }
                }
                (_, ty) => {
                    if ty != Ty::Error {
                        self.report(TypeError::ThresholdSingleItem { ty, span: one.span });
                    }
                    ok = false;
                }
            }
        } else {
            for a in rest {
                let e = self.check(a, frame, None);
                ok &= self.threshold_item(e, &mut items);
            }
        }
        let (Some(k), true) = (k, ok) else {
            return err(span);
        };
        let n = items.len() as u64;
        if k == 0 || k > n {
            self.report(TypeError::ThresholdRange {
                k,
                n,
                span: args[0].span,
                items: args[1].span,
            });
            return err(span);
        }
        cond(H::Threshold { k: k as u32, items }, span)
    }

    /// Adds one item of a `threshold` (a key becomes its signature); returns whether it is a
    /// key or a condition.
    fn threshold_item(&mut self, e: hir::Expr, items: &mut Vec<hir::Expr>) -> bool {
        match e.ty {
            Ty::PubKey => {
                let span = e.span;
                items.push(cond(H::Sig(Box::new(e)), span));
                true
            }
            Ty::Cond => {
                items.push(e);
                true
            }
            Ty::Error => false,
            ref other => {
                self.report(TypeError::ThresholdItem {
                    ty: other.clone(),
                    span: e.span,
                });
                false
            }
        }
    }
}
