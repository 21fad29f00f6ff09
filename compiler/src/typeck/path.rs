//! Spend paths: attributes, arguments, `require` and `prove` statements.
//!
//! In: a spend path's AST and the contract's frame (its parameters and confidential values).
//! Out: its [`hir::SpendPath`]. Reported here: attributes other than one `@weight(N)` with
//! a constant N in 1..=[`MAX_WEIGHT`], arguments that reuse a contract name, conditions deeper
//! than [`MAX_COND_DEPTH`] after inlining, paths without a `require`, arguments nothing reads,
//! and the ZK rule: a path that proves a statement must also require a signature (Script
//! cannot check a proof, so the verifier co-signs).

use crate::hir::{self, ExprKind as H};
use crate::resolve::{suggest, ResolveError};
use crate::span::Span;
use crate::syntax::ast;
use crate::types::Ty;

use super::checker::{err, Checker, Frame, Local};
use super::error::TypeError;
use super::limits::{MAX_COND_DEPTH, MAX_WEIGHT};

impl Checker<'_, '_> {
    /// Checks one spend path of a contract whose names `base` holds.
    pub(super) fn check_path(&mut self, p: &ast::SpendPath, base: &Frame) -> hir::SpendPath {
        let file = base.file;
        let errors_before = self.error_count();
        let weight = self.check_weight(p, base);

        let args = self.check_params(file, &p.params, "spend argument", false);
        let mut locals = base.locals.clone();
        for a in &args {
            if let Some((Local::Param(_) | Local::Confidential, first)) = locals.get(&a.name) {
                self.resolve_error(ResolveError::Duplicate {
                    what: "name",
                    name: a.name.clone(),
                    span: a.span,
                    first: *first,
                });
                continue;
            }
            locals.insert(a.name.clone(), (Local::Arg(a.ty.clone()), a.span));
        }
        let frame = Frame::new(file, locals);

        let mut requires = Vec::new();
        let mut proves = Vec::new();
        for stmt in &p.body {
            match stmt {
                ast::Stmt::Require {
                    cond,
                    message,
                    span,
                } => {
                    let mut e = self.check_as(cond, &frame, &Ty::Cond);
                    if hir_depth(&e) > MAX_COND_DEPTH {
                        self.report(TypeError::ConditionTooDeep { span: cond.span });
                        e = err(cond.span);
                    }
                    requires.push(hir::Require {
                        cond: e,
                        message: message.as_ref().map(|m| m.0.clone()),
                        span: *span,
                    });
                }
                ast::Stmt::Prove { expr, span } => {
                    let prove_frame = Frame {
                        in_prove: true,
                        ..frame.clone()
                    };
                    proves.push(hir::Prove {
                        expr: self.check_as(expr, &prove_frame, &Ty::Cond),
                        span: *span,
                    });
                }
                ast::Stmt::Error(_) => {}
            }
        }
        let has_errors = p.body.iter().any(|s| matches!(s, ast::Stmt::Error(_)));
        if requires.is_empty() && !has_errors {
            self.report(TypeError::NoRequire {
                path: p.name.name.clone(),
                span: p.name.span,
            });
        }
        if !proves.is_empty() && !requires.iter().any(|r| contains_sig(&r.cond)) {
            self.report(TypeError::ProveWithoutSignature {
                path: p.name.name.clone(),
                span: proves[0].span,
            });
        }
        let broken = has_errors || self.error_count() > errors_before;
        if !broken {
            for a in self.unused(&args) {
                self.report(TypeError::UnusedArgument {
                    name: a.name.clone(),
                    span: a.span,
                });
            }
        }
        hir::SpendPath {
            name: p.name.name.clone(),
            docs: p.docs.clone(),
            weight,
            args,
            requires,
            proves,
            span: p.span,
            name_span: p.name.span,
        }
    }

    /// The weight of a spend path from its attributes (1 without `@weight`).
    fn check_weight(&mut self, p: &ast::SpendPath, base: &Frame) -> u32 {
        let mut weight = 1u32;
        let mut weight_span: Option<Span> = None;
        for attr in &p.attrs {
            if attr.name.name != "weight" {
                let suggestion = suggest(&attr.name.name, ["weight"]);
                self.resolve_error(ResolveError::UnknownAttribute {
                    name: attr.name.name.clone(),
                    span: attr.span,
                    suggestion,
                });
                continue;
            }
            let second = |span, first| TypeError::SecondWeight { span, first };
            if !self.once(&mut weight_span, attr.span, second) {
                continue;
            }
            let [arg] = attr.args.as_slice() else {
                self.report(TypeError::WeightArguments {
                    count: attr.args.len(),
                    span: attr.span,
                });
                continue;
            };
            let frame = Frame::new(base.file, base.locals.clone());
            let e = self.check_as(arg, &frame, &Ty::Int);
            match self.const_int(&e, "a weight") {
                Some(n) if (1..=MAX_WEIGHT).contains(&n) => weight = n as u32,
                Some(n) => self.report(TypeError::WeightRange {
                    weight: n,
                    span: arg.span,
                }),
                None => {}
            }
        }
        weight
    }
}

/// The depth of a typed expression, computed without recursion.
fn hir_depth(e: &hir::Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        let children: Vec<&hir::Expr> = match &e.kind {
            H::Sig(x) | H::Older(x) | H::After(x) => vec![x],
            H::Hash { preimage, .. } => vec![preimage],
            H::HashEq { preimage, hash, .. } => vec![preimage, hash],
            H::Threshold { items, .. } | H::And(items) | H::Or(items) | H::Array(items) => {
                items.iter().collect()
            }
            H::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            H::Value(_) | H::Param { .. } | H::Arg(_) | H::Confidential(_) | H::Error => Vec::new(),
        };
        stack.extend(children.into_iter().map(|c| (c, d + 1)));
    }
    max
}

/// Whether a condition requires a signature somewhere (the rule behind E0054, also used by the
/// language server's "add `require sig`" action).
pub fn contains_sig(e: &hir::Expr) -> bool {
    match &e.kind {
        H::Sig(_) => true,
        H::And(items) | H::Or(items) | H::Threshold { items, .. } => items.iter().any(contains_sig),
        _ => false,
    }
}
