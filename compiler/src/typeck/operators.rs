//! Binary operators: hash locks, comparisons in proofs, and constant arithmetic.
//!
//! In: the two operands of a binary expression. Out: a `HashEq` condition for
//! `H(preimage) == hash` (either way round); a comparison or arithmetic over confidential
//! values, allowed only inside `prove`; or, outside proofs, the folded value of constant
//! arithmetic on numbers (`Height + Blocks`, `Int * Duration`, ...). Any other comparison is
//! not a spending condition Script can check.

use crate::hir::{self, ExprKind as H, Value};
use crate::span::Span;
use crate::syntax::ast::{self, BinOp};
use crate::types::Ty;

use super::checker::{cond, err, value, Checker, Frame};
use super::error::TypeError;

impl Checker<'_, '_> {
    /// Checks `lhs op rhs`.
    pub(super) fn check_binary(
        &mut self,
        op: BinOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
        frame: &Frame,
    ) -> hir::Expr {
        // Check the side that is not a bare literal first, so the literal gets its type.
        let lhs_is_literal = matches!(
            lhs.kind,
            ast::ExprKind::Int { unit: None, .. } | ast::ExprKind::Hex(_)
        );
        let (l, r) = if lhs_is_literal {
            let r = self.check(rhs, frame, None);
            let l = self.check(lhs, frame, Some(&r.ty));
            (l, r)
        } else {
            let l = self.check(lhs, frame, None);
            let r = self.check(rhs, frame, Some(&l.ty));
            (l, r)
        };
        if l.ty == Ty::Error || r.ty == Ty::Error {
            return err(span);
        }
        let operation = Operation { op, l, r, span };
        if op.is_comparison() {
            self.check_comparison(operation, frame)
        } else {
            self.check_arithmetic(operation, frame)
        }
    }

    /// A comparison: a hash lock, or a comparison of confidential values in a proof.
    fn check_comparison(&mut self, operation: Operation, frame: &Frame) -> hir::Expr {
        let Operation { op, l, r, span } = operation;
        // Hash locks: `H(preimage) == hash`, either way round.
        if op == BinOp::Eq {
            for (a, b) in [(&l, &r), (&r, &l)] {
                if let H::Hash { func, preimage } = &a.kind {
                    if b.ty != func.output() {
                        self.report(compare_mismatch(a, b, span));
                        return err(span);
                    }
                    if matches!(b.kind, H::Hash { .. }) {
                        break;
                    }
                    let kind = H::HashEq {
                        func: *func,
                        preimage: preimage.clone(),
                        hash: Box::new(b.clone()),
                    };
                    return cond(kind, span);
                }
            }
        }
        let commitment = l.ty == Ty::Commitment || r.ty == Ty::Commitment;
        if l.ty != r.ty && !(commitment && (l.ty.is_numeric() || r.ty.is_numeric())) {
            self.report(compare_mismatch(&l, &r, span));
            return err(span);
        }
        if !commitment {
            self.report(TypeError::NotACondition { op, ty: l.ty, span });
            return err(span);
        }
        if !frame.in_prove {
            self.report(TypeError::ConfidentialComparison { span });
            return err(span);
        }
        cond(binary(op, l, r), span)
    }

    /// Arithmetic: on confidential values in a proof, or constant arithmetic on numbers.
    fn check_arithmetic(&mut self, operation: Operation, frame: &Frame) -> hir::Expr {
        let Operation { op, l, r, span } = operation;
        if l.ty == Ty::Commitment || r.ty == Ty::Commitment {
            if !frame.in_prove {
                self.report(TypeError::ConfidentialArithmetic { span });
                return err(span);
            }
            let ok = |t: &Ty| *t == Ty::Commitment || matches!(t, Ty::Int | Ty::Amount);
            if !ok(&l.ty)
                || !ok(&r.ty)
                || (op == BinOp::Mul && l.ty == Ty::Commitment && r.ty == Ty::Commitment)
            {
                self.report(unsupported(true, op, &l, &r, span));
                return err(span);
            }
            return hir::Expr {
                kind: binary(op, l, r),
                ty: Ty::Commitment,
                span,
            };
        }
        let Some(result_ty) = arithmetic_type(op, &l.ty, &r.ty) else {
            self.report(unsupported(false, op, &l, &r, span));
            return err(span);
        };
        let (H::Value(Value::Int(a)), H::Value(Value::Int(b))) = (&l.kind, &r.kind) else {
            self.report(TypeError::NotConstant {
                what: "arithmetic".to_string(),
                span,
            });
            return err(span);
        };
        let folded = match op {
            BinOp::Add => a.checked_add(*b),
            BinOp::Sub => a.checked_sub(*b),
            BinOp::Mul => a.checked_mul(*b),
            _ => None,
        };
        match folded {
            Some(v) => value(Value::Int(v), result_ty, span),
            None => {
                self.report(TypeError::ArithmeticOverflow { span });
                err(span)
            }
        }
    }
}

/// A binary operation whose operands are checked and of known types.
struct Operation {
    op: BinOp,
    l: hir::Expr,
    r: hir::Expr,
    span: Span,
}

/// `l op r`, kept for a proof.
fn binary(op: BinOp, l: hir::Expr, r: hir::Expr) -> H {
    H::Binary {
        op,
        lhs: Box::new(l),
        rhs: Box::new(r),
    }
}

/// The error for arithmetic `l op r` on operand types it does not apply to, in a proof or not.
fn unsupported(in_proof: bool, op: BinOp, l: &hir::Expr, r: &hir::Expr, span: Span) -> TypeError {
    let (lhs, rhs) = (l.ty.clone(), r.ty.clone());
    if in_proof {
        TypeError::ProofOperands { op, lhs, rhs, span }
    } else {
        TypeError::Operands { op, lhs, rhs, span }
    }
}

/// The error for comparing `l` with `r`, of different types.
fn compare_mismatch(l: &hir::Expr, r: &hir::Expr, span: Span) -> TypeError {
    TypeError::CompareMismatch {
        lhs: l.ty.clone(),
        rhs: r.ty.clone(),
        lhs_span: l.span,
        rhs_span: r.span,
        span,
    }
}

/// The type of constant arithmetic `l op r` on numbers, if it applies to them.
fn arithmetic_type(op: BinOp, l: &Ty, r: &Ty) -> Option<Ty> {
    use Ty::*;
    match (op, l, r) {
        (BinOp::Add | BinOp::Sub, a, b)
            if a == b && matches!(a, Int | Blocks | Duration | Amount) =>
        {
            Some(a.clone())
        }
        (BinOp::Add, Height, Blocks) | (BinOp::Add, Blocks, Height) => Some(Height),
        (BinOp::Add, Time, Duration) | (BinOp::Add, Duration, Time) => Some(Time),
        (BinOp::Mul, Int, x) | (BinOp::Mul, x, Int)
            if matches!(x, Int | Blocks | Duration | Amount) =>
        {
            Some(x.clone())
        }
        _ => None,
    }
}
