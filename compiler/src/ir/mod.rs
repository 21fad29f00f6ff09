//! The contract IR: what each contract commits to, as condition trees.
//!
//! Produced from the HIR by [`lower`], read by the back ends (Taproot, circuits). Per contract:
//! its parameters, key path, and spend paths; per path its weight, arguments, `require`s
//! (condition trees of and, or, threshold, sig, older, after and hash equalities) and `prove`s.
//! Every node carries the span of the source it came from, so a failing leaf can be explained
//! in the user's words. The IR has a text form ([`printer`]) and a parser for it ([`parser`]):
//! `parse(print(ir)) == ir`, spans included when printed with them.
//!
//! Values that are contract parameters stay symbolic (`Param`): the IR is a template that
//! `instantiate` binds.

pub mod lower;
pub mod parser;
pub mod printer;

use crate::hir::HashFn;
use crate::span::Span;
use crate::syntax::ast::BinOp;
use crate::types::Ty;

/// The contracts of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Module {
    /// In source order.
    pub contracts: Vec<Contract>,
}

/// One contract.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Contract {
    /// Its name.
    pub name: String,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Its key path.
    pub key: KeyPath,
    /// Names of its confidential values.
    pub confidentials: Vec<String>,
    /// Its spend paths, in source order.
    pub paths: Vec<SpendPath>,
    /// The whole contract.
    pub span: Span,
}

/// A parameter or spend argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Its default, as a literal in IR text form.
    pub default: Option<Literal>,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Literal {
    /// A number (a `Duration` in seconds).
    Int(u64),
    /// Bytes, as lower-case hex.
    Bytes(String),
    /// An array.
    Array(Vec<Literal>),
}

/// The key path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyPath {
    /// No key: the BIP341 NUMS point.
    Nums,
    /// One key.
    Single(KeyRef, Span),
    /// A MuSig2 aggregate, keys in the order written.
    MuSig(Vec<KeyRef>, Span),
}

/// A reference to a public key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyRef {
    /// A parameter, or an element of an array parameter.
    Param {
        /// The parameter.
        name: String,
        /// The element.
        index: Option<u32>,
    },
    /// A literal key, lower-case hex (32 or 33 bytes).
    Literal(String),
}

/// A reference to a hash value (the right side of a hash lock).
pub type HashRef = KeyRef;

/// A spend path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpendPath {
    /// Its name.
    pub name: String,
    /// `@weight`.
    pub weight: u32,
    /// Its arguments.
    pub args: Vec<Param>,
    /// Its `require`s.
    pub requires: Vec<Require>,
    /// Its `prove`s.
    pub proves: Vec<Prove>,
    /// The whole path.
    pub span: Span,
}

/// A `require`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Require {
    /// The condition.
    pub cond: Cond,
    /// Its failure message.
    pub message: Option<String>,
    /// The statement.
    pub span: Span,
}

/// A condition tree node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cond {
    /// What it is.
    pub kind: CondKind,
    /// Where it came from.
    pub span: Span,
}

/// Condition kinds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CondKind {
    /// Always true.
    True,
    /// Never true.
    False,
    /// A signature by this key.
    Sig(KeyRef),
    /// A relative timelock.
    Older(RelLock),
    /// An absolute timelock.
    After(AbsLock),
    /// A hash lock: the spend argument `preimage` hashes to `hash`.
    Hash {
        /// The function.
        func: HashFn,
        /// The spend argument holding the preimage.
        preimage: String,
        /// The expected hash.
        hash: HashRef,
    },
    /// All of these.
    And(Vec<Cond>),
    /// Any of these.
    Or(Vec<Cond>),
    /// At least `k` of these.
    Thresh(u32, Vec<Cond>),
}

/// A relative timelock value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RelLock {
    /// A number of blocks.
    Blocks(u32),
    /// A number of 512-second units.
    Time512(u32),
    /// A `Blocks` or `Duration` parameter, bound at instantiation.
    Param {
        /// The parameter.
        name: String,
        /// The element of an array parameter.
        index: Option<u32>,
        /// `Blocks` or `Duration`.
        ty: Ty,
    },
}

/// An absolute timelock value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AbsLock {
    /// A block height.
    Height(u32),
    /// A unix time.
    Time(u32),
    /// A `Height` or `Time` parameter.
    Param {
        /// The parameter.
        name: String,
        /// The element of an array parameter.
        index: Option<u32>,
        /// `Height` or `Time`.
        ty: Ty,
    },
}

/// A `prove` statement: a comparison of arithmetic over confidential values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Prove {
    /// The comparison.
    pub op: BinOp,
    /// Left side.
    pub lhs: Arith,
    /// Right side.
    pub rhs: Arith,
    /// The statement.
    pub span: Span,
}

/// Arithmetic in a proof.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Arith {
    /// A confidential value.
    Confidential(String),
    /// A contract parameter (`Int` or `Amount`).
    Param(String),
    /// A number.
    Const(u64),
    /// `lhs op rhs` with `+`, `-` or `*`.
    Binary(BinOp, Box<Arith>, Box<Arith>),
}
