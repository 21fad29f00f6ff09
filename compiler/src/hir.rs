//! The HIR: contracts after name resolution and type checking.
//!
//! Produced by [`crate::typeck`], read by [`crate::ir::lower`]. Every name is resolved (to a
//! contract parameter, a spend argument or a confidential value), every expression has its
//! type, constants are folded to values and `fn` calls are inlined, so nothing here refers
//! back to the AST. Spans still point at the source (for an inlined `fn`, into its body).

use crate::span::Span;
use crate::types::Ty;

/// A checked contract.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Contract {
    /// Its name.
    pub name: String,
    /// Doc comments.
    pub docs: Vec<String>,
    /// Parameters, in order.
    pub params: Vec<Param>,
    /// The key path.
    pub key: KeyPath,
    /// Confidential values.
    pub confidentials: Vec<Confidential>,
    /// Spend paths, in source order.
    pub paths: Vec<SpendPath>,
    /// The whole contract.
    pub span: Span,
    /// The contract's name.
    pub name_span: Span,
}

/// A parameter (of a contract or a spend path).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Its default value, folded.
    pub default: Option<Value>,
    /// Doc comments.
    pub docs: Vec<String>,
    /// Where it is declared.
    pub span: Span,
}

/// A confidential value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Confidential {
    /// Its name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
}

/// The key path of a contract.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyPath {
    /// No `key`: the BIP341 NUMS point, unspendable.
    None,
    /// One key.
    Single(Expr),
    /// A MuSig2 aggregate of these keys, in this order.
    MuSig(Vec<Expr>, Span),
}

/// A spend path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpendPath {
    /// Its name.
    pub name: String,
    /// Doc comments.
    pub docs: Vec<String>,
    /// `@weight`, default 1.
    pub weight: u32,
    /// Its arguments (witness values).
    pub args: Vec<Param>,
    /// `require` statements in order.
    pub requires: Vec<Require>,
    /// `prove` statements in order.
    pub proves: Vec<Prove>,
    /// The whole path.
    pub span: Span,
    /// The path's name.
    pub name_span: Span,
}

/// `require COND[, "message"];`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Require {
    /// The condition (type `Cond`).
    pub cond: Expr,
    /// The message shown when it fails.
    pub message: Option<String>,
    /// The whole statement.
    pub span: Span,
}

/// `prove EXPR;`
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Prove {
    /// The statement (type `Cond`, over confidential values).
    pub expr: Expr,
    /// The whole statement.
    pub span: Span,
}

/// A compile-time value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// A number; its meaning depends on the type (a `Duration` is in seconds).
    Int(u64),
    /// Bytes (keys, hashes, preimages).
    Bytes(Vec<u8>),
    /// A constant condition.
    Bool(bool),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Value>),
}

/// The hash functions of hash-lock conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum HashFn {
    /// SHA-256.
    Sha256,
    /// Double SHA-256.
    Hash256,
    /// RIPEMD-160.
    Ripemd160,
    /// RIPEMD-160 of SHA-256.
    Hash160,
}

impl HashFn {
    /// The function's name in source.
    pub fn name(self) -> &'static str {
        match self {
            HashFn::Sha256 => "sha256",
            HashFn::Hash256 => "hash256",
            HashFn::Ripemd160 => "ripemd160",
            HashFn::Hash160 => "hash160",
        }
    }

    /// The function named `name`.
    pub fn from_name(name: &str) -> Option<HashFn> {
        Some(match name {
            "sha256" => HashFn::Sha256,
            "hash256" => HashFn::Hash256,
            "ripemd160" => HashFn::Ripemd160,
            "hash160" => HashFn::Hash160,
            _ => return None,
        })
    }

    /// The type of its output.
    pub fn output(self) -> Ty {
        match self {
            HashFn::Sha256 => Ty::Sha256,
            HashFn::Hash256 => Ty::Hash256,
            HashFn::Ripemd160 => Ty::Ripemd160,
            HashFn::Hash160 => Ty::Hash160,
        }
    }
}

/// Arithmetic and comparison operators that survive into the HIR (in `prove`).
pub use crate::syntax::ast::BinOp;

/// A typed expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Ty,
    /// Where it is.
    pub span: Span,
}

/// The kinds of typed expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// A folded constant.
    Value(Value),
    /// A contract parameter, or one element of an array parameter.
    Param {
        /// The parameter's name.
        name: String,
        /// The element, for an array parameter indexed by a constant.
        index: Option<u32>,
    },
    /// A spend argument.
    Arg(String),
    /// A confidential value.
    Confidential(String),
    /// An array of expressions (a literal, or an array parameter expanded).
    Array(Vec<Expr>),
    /// `sig(k)`
    Sig(Box<Expr>),
    /// `older(d)`
    Older(Box<Expr>),
    /// `after(t)`
    After(Box<Expr>),
    /// `H(preimage)` on its own (valid only as one side of `==`).
    Hash {
        /// The hash function.
        func: HashFn,
        /// The preimage (a spend argument).
        preimage: Box<Expr>,
    },
    /// `H(preimage) == hash`
    HashEq {
        /// The hash function.
        func: HashFn,
        /// The preimage (a spend argument).
        preimage: Box<Expr>,
        /// The expected hash.
        hash: Box<Expr>,
    },
    /// `threshold(k, items)`, items already conditions.
    Threshold {
        /// How many must hold.
        k: u32,
        /// The conditions.
        items: Vec<Expr>,
    },
    /// `a && b && ...`
    And(Vec<Expr>),
    /// `a || b || ...`
    Or(Vec<Expr>),
    /// Arithmetic or a comparison over confidential values (in `prove` only).
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// An expression with an error already reported.
    Error,
}

impl Expr {
    /// An expression of type `ty` that already failed to check.
    pub fn error(span: Span) -> Expr {
        Expr {
            kind: ExprKind::Error,
            ty: Ty::Error,
            span,
        }
    }
}
