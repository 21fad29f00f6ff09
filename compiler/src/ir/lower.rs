//! Lowering: HIR contracts to contract IR.
//!
//! In: checked contracts (no errors in them). Out: IR contracts. Typed expressions of type
//! `Cond` become condition trees; values become key, hash and lock references; durations
//! become BIP68 512-second units (rounded up, as the type checker warned); `&&` inside a `prove`
//! splits into one proof per conjunct. A node that still holds an error (only possible when
//! the caller lowers despite errors) becomes `false`, which no one can satisfy.

use super::{
    AbsLock, Arith, Cond, CondKind, Contract, KeyPath, KeyRef, Literal, Param, Prove, RelLock,
    Require, SpendPath,
};
use crate::hir::{self, ExprKind as H, Value};
use crate::typeck::SEQUENCE_UNIT_SECONDS;
use crate::types::Ty;

/// Lowers one checked contract.
pub fn lower_contract(c: &hir::Contract) -> Contract {
    Contract {
        name: c.name.clone(),
        params: c.params.iter().map(lower_param).collect(),
        key: match &c.key {
            hir::KeyPath::None => KeyPath::Nums,
            hir::KeyPath::Single(e) => match key_ref(e) {
                Some(k) => KeyPath::Single(k, e.span),
                None => KeyPath::Nums,
            },
            hir::KeyPath::MuSig(keys, span) => {
                KeyPath::MuSig(keys.iter().filter_map(key_ref).collect(), *span)
            }
        },
        confidentials: c.confidentials.iter().map(|x| x.name.clone()).collect(),
        paths: c.paths.iter().map(lower_path).collect(),
        span: c.span,
    }
}

fn lower_param(p: &hir::Param) -> Param {
    Param {
        name: p.name.clone(),
        ty: p.ty.clone(),
        default: p.default.as_ref().and_then(literal),
    }
}

fn literal(v: &Value) -> Option<Literal> {
    match v {
        Value::Int(n) => Some(Literal::Int(*n)),
        Value::Bytes(b) => Some(Literal::Bytes(to_hex(b))),
        Value::Array(items) => items
            .iter()
            .map(literal)
            .collect::<Option<Vec<_>>>()
            .map(Literal::Array),
        Value::Bool(_) | Value::Str(_) => None,
    }
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn lower_path(p: &hir::SpendPath) -> SpendPath {
    let mut proves = Vec::new();
    for prove in &p.proves {
        split_prove(&prove.expr, &mut proves);
    }
    SpendPath {
        name: p.name.clone(),
        weight: p.weight,
        args: p.args.iter().map(lower_param).collect(),
        requires: p
            .requires
            .iter()
            .map(|r| Require {
                cond: lower_cond(&r.cond),
                message: r.message.clone(),
                span: r.span,
            })
            .collect(),
        proves,
        span: p.span,
    }
}

fn split_prove(e: &hir::Expr, out: &mut Vec<Prove>) {
    match &e.kind {
        H::And(items) => items.iter().for_each(|i| split_prove(i, out)),
        H::Binary { op, lhs, rhs } if op.is_comparison() => {
            if let (Some(lhs), Some(rhs)) = (arith(lhs), arith(rhs)) {
                out.push(Prove {
                    op: *op,
                    lhs,
                    rhs,
                    span: e.span,
                });
            }
        }
        _ => {}
    }
}

fn arith(e: &hir::Expr) -> Option<Arith> {
    Some(match &e.kind {
        H::Confidential(name) => Arith::Confidential(name.clone()),
        H::Param { name, index: None } => Arith::Param(name.clone()),
        H::Value(Value::Int(n)) => Arith::Const(*n),
        H::Binary { op, lhs, rhs } => {
            Arith::Binary(*op, Box::new(arith(lhs)?), Box::new(arith(rhs)?))
        }
        _ => return None,
    })
}

fn key_ref(e: &hir::Expr) -> Option<KeyRef> {
    match &e.kind {
        H::Param { name, index } => Some(KeyRef::Param {
            name: name.clone(),
            index: *index,
        }),
        H::Value(Value::Bytes(b)) => Some(KeyRef::Literal(to_hex(b))),
        _ => None,
    }
}

/// Lowers a `Cond`-typed expression. Recursion follows the expression's depth, which the
/// parser bounds.
fn lower_cond(e: &hir::Expr) -> Cond {
    let kind = match &e.kind {
        H::Value(Value::Bool(true)) => CondKind::True,
        H::Sig(k) => key_ref(k).map_or(CondKind::False, CondKind::Sig),
        H::Older(d) => match (&d.kind, &d.ty) {
            (H::Value(Value::Int(n)), Ty::Blocks) => CondKind::Older(RelLock::Blocks(*n as u32)),
            (H::Value(Value::Int(n)), Ty::Duration) => {
                CondKind::Older(RelLock::Time512(n.div_ceil(SEQUENCE_UNIT_SECONDS) as u32))
            }
            (H::Param { name, index }, ty) => CondKind::Older(RelLock::Param {
                name: name.clone(),
                index: *index,
                ty: ty.clone(),
            }),
            _ => CondKind::False,
        },
        H::After(t) => match (&t.kind, &t.ty) {
            (H::Value(Value::Int(n)), Ty::Height) => CondKind::After(AbsLock::Height(*n as u32)),
            (H::Value(Value::Int(n)), Ty::Time) => CondKind::After(AbsLock::Time(*n as u32)),
            (H::Param { name, index }, ty) => CondKind::After(AbsLock::Param {
                name: name.clone(),
                index: *index,
                ty: ty.clone(),
            }),
            _ => CondKind::False,
        },
        H::HashEq {
            func,
            preimage,
            hash,
        } => match (&preimage.kind, key_ref(hash)) {
            (H::Arg(arg), Some(hash)) => CondKind::Hash {
                func: *func,
                preimage: arg.clone(),
                hash,
            },
            _ => CondKind::False,
        },
        H::Threshold { k, items } => CondKind::Thresh(*k, items.iter().map(lower_cond).collect()),
        H::And(items) => CondKind::And(items.iter().map(lower_cond).collect()),
        H::Or(items) => CondKind::Or(items.iter().map(lower_cond).collect()),
        _ => CondKind::False,
    };
    Cond { kind, span: e.span }
}
