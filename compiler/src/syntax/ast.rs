//! The abstract syntax tree: what the user wrote, with spans and unresolved names, no types.
//!
//! Produced by [`super::parser`], read by [`crate::resolve`] and [`crate::typeck`]. Parsing
//! never fails: a piece that could not be parsed is an `Error` node whose span covers it,
//! and later phases skip such nodes silently (their diagnostic was already given).
//!
//! Invariants:
//! - `&&` and `||` chains are flat (`And(vec![a, b, c])`), also through parentheses, so long
//!   chains do not make deep trees.
//! - After parsing, no expression is deeper than [`MAX_EXPR_DEPTH`]; deeper ones are replaced
//!   by `Error` with a diagnostic. Later phases may therefore recurse on expressions.
//! - Dropping an expression never recurses (see the `Drop` impl), whatever its depth.

use crate::span::Span;

/// The deepest expression nesting later phases accept.
pub const MAX_EXPR_DEPTH: usize = 128;

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The text of the name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A parsed source file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SourceFile {
    /// The items in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    /// `use stdlib::name;` or `use "file.bsc";`
    Use(Use),
    /// `const NAME: Type = value;`
    Const(Const),
    /// `fn name(params) -> Type { body }`
    Fn(FnDef),
    /// `contract Name(params) { members }`
    Contract(Contract),
    /// Text that could not be parsed as an item.
    Error(Span),
}

/// `use` of a standard library module or of another file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Use {
    /// What is imported.
    pub target: UseTarget,
    /// The whole item.
    pub span: Span,
}

/// The target of a `use`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UseTarget {
    /// `use stdlib::name;` (the first identifier must be `stdlib`).
    Module {
        /// The path segments, e.g. `stdlib`, `timelocks`.
        segments: Vec<Ident>,
    },
    /// `use "relative/path.bsc";`
    File {
        /// The path as written, relative to the importing file.
        path: String,
        /// Where the string is.
        span: Span,
    },
}

/// `///` comments before an item, one string per line with the `///` removed.
pub type Docs = Vec<String>;

/// A constant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Const {
    /// Doc comments.
    pub docs: Docs,
    /// The constant's name.
    pub name: Ident,
    /// Its declared type.
    pub ty: TypeExpr,
    /// Its value.
    pub value: Expr,
    /// The whole item.
    pub span: Span,
}

/// A pure function, inlined where it is called.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FnDef {
    /// Doc comments.
    pub docs: Docs,
    /// The function's name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// The declared return type.
    pub ret: TypeExpr,
    /// The body: one expression.
    pub body: Expr,
    /// The whole item.
    pub span: Span,
}

/// A parameter of a contract, function or spend path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// Doc comments.
    pub docs: Docs,
    /// Its name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
    /// A default value (contract parameters only).
    pub default: Option<Expr>,
    /// The whole parameter.
    pub span: Span,
}

/// A contract.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Contract {
    /// Doc comments.
    pub docs: Docs,
    /// The contract's name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Key, spend paths and confidential declarations in source order.
    pub members: Vec<Member>,
    /// The whole item.
    pub span: Span,
}

/// Something declared inside a contract.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Member {
    /// `key EXPR;`
    Key(KeyDecl),
    /// `spend name(args) { ... }`
    Spend(SpendPath),
    /// `confidential NAME: Type;`
    Confidential(Confidential),
    /// Text that could not be parsed as a member.
    Error(Span),
}

/// The key path declaration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyDecl {
    /// A key expression: a name, or a call to `musig(...)`.
    pub expr: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// A confidential value (the ZK part).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Confidential {
    /// Doc comments.
    pub docs: Docs,
    /// Its name.
    pub name: Ident,
    /// Its type, e.g. `Commitment<u64>`.
    pub ty: TypeExpr,
    /// The whole declaration.
    pub span: Span,
}

/// A spend path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpendPath {
    /// Doc comments.
    pub docs: Docs,
    /// Attributes such as `@weight(9)`.
    pub attrs: Vec<Attr>,
    /// The path's name.
    pub name: Ident,
    /// Its arguments (witness values the spender provides).
    pub params: Vec<Param>,
    /// Its statements.
    pub body: Vec<Stmt>,
    /// The whole path.
    pub span: Span,
}

/// An attribute: `@name(args)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attr {
    /// The attribute's name.
    pub name: Ident,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// The whole attribute.
    pub span: Span,
}

/// A statement in a spend path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// `require COND[, "message"];`
    Require {
        /// The condition.
        cond: Expr,
        /// The message shown when it fails.
        message: Option<(String, Span)>,
        /// The whole statement.
        span: Span,
    },
    /// `prove EXPR;`
    Prove {
        /// The statement to prove.
        expr: Expr,
        /// The whole statement.
        span: Span,
    },
    /// Text that could not be parsed as a statement.
    Error(Span),
}

/// A type as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeExpr {
    /// `Name` or `Name<Args>`.
    Named {
        /// The type's name.
        name: Ident,
        /// Generic arguments, e.g. `u64` in `Commitment<u64>`.
        args: Vec<TypeExpr>,
        /// The whole type.
        span: Span,
    },
    /// `[T; N]`
    Array {
        /// The element type.
        elem: Box<TypeExpr>,
        /// The length as written.
        len: Box<Expr>,
        /// The whole type.
        span: Span,
    },
    /// A type that could not be parsed.
    Error(Span),
}

impl TypeExpr {
    /// Where the type is written.
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named { span, .. } | TypeExpr::Array { span, .. } => *span,
            TypeExpr::Error(span) => *span,
        }
    }
}

impl Drop for TypeExpr {
    /// Drops nested array types with an explicit stack (see `Expr`'s `Drop`).
    fn drop(&mut self) {
        let mut stack: Vec<TypeExpr> = Vec::new();
        let take = |ty: &mut TypeExpr, stack: &mut Vec<TypeExpr>| match ty {
            TypeExpr::Array { elem, .. } => stack.push(std::mem::replace(
                &mut **elem,
                TypeExpr::Error(Span::default()),
            )),
            TypeExpr::Named { args, .. } => stack.append(args),
            TypeExpr::Error(_) => {}
        };
        if matches!(self, TypeExpr::Error(_)) {
            return;
        }
        take(self, &mut stack);
        while let Some(mut ty) = stack.pop() {
            take(&mut ty, &mut stack);
        }
    }
}

/// An expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Binary operators other than `&&` and `||` (which are n-ary, see [`ExprKind::And`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
        }
    }

    /// Whether this is a comparison (its result is a condition).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// An integer, optionally with a unit: `144`, `144 blocks`, `7 days`.
    Int {
        /// The digits as written (underscores removed).
        digits: String,
        /// The unit word, if any.
        unit: Option<Ident>,
    },
    /// `0x...` bytes, as written after `0x`.
    Hex(String),
    /// A string literal's value.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// A name.
    Name(Ident),
    /// `callee(args)`
    Call {
        /// The function's name.
        callee: Ident,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `base[index]`
    Index {
        /// The array.
        base: Box<Expr>,
        /// The index.
        index: Box<Expr>,
    },
    /// `[a, b, c]`
    Array(Vec<Expr>),
    /// `lhs op rhs`
    Binary {
        /// The operator.
        op: BinOp,
        /// The left operand.
        lhs: Box<Expr>,
        /// The right operand.
        rhs: Box<Expr>,
    },
    /// `a && b && c`
    And(Vec<Expr>),
    /// `a || b || c`
    Or(Vec<Expr>),
    /// An expression that could not be parsed.
    Error,
}

impl Expr {
    /// An error expression covering `span`.
    pub fn error(span: Span) -> Expr {
        Expr {
            kind: ExprKind::Error,
            span,
        }
    }

    /// The direct sub-expressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Call { args, .. } => args.iter().collect(),
            ExprKind::Index { base, index } => vec![base, index],
            ExprKind::Array(items) | ExprKind::And(items) | ExprKind::Or(items) => {
                items.iter().collect()
            }
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Int { .. }
            | ExprKind::Hex(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_)
            | ExprKind::Error => Vec::new(),
        }
    }

    /// How deep the expression nests (a leaf is 1), computed without recursion.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((expr, depth)) = stack.pop() {
            max = max.max(depth);
            for child in expr.children() {
                stack.push((child, depth + 1));
            }
        }
        max
    }

    fn take_children(&mut self, out: &mut Vec<Expr>) {
        match std::mem::replace(&mut self.kind, ExprKind::Error) {
            ExprKind::Call { args, .. } => out.extend(args),
            ExprKind::Index { base, index } => {
                out.push(take_box(base));
                out.push(take_box(index));
            }
            ExprKind::Array(items) | ExprKind::And(items) | ExprKind::Or(items) => {
                out.extend(items)
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                out.push(take_box(lhs));
                out.push(take_box(rhs));
            }
            _ => {}
        }
    }
}

fn take_box(boxed: Box<Expr>) -> Expr {
    let mut boxed = boxed;
    std::mem::replace(&mut *boxed, Expr::error(Span::default()))
}

impl Drop for Expr {
    /// Drops the tree with an explicit stack, so a deeply nested expression cannot overflow
    /// the call stack.
    fn drop(&mut self) {
        if self.children().is_empty() {
            return;
        }
        let mut stack = Vec::new();
        self.take_children(&mut stack);
        while let Some(mut expr) = stack.pop() {
            expr.take_children(&mut stack);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_very_deep_tree_drops_without_overflow() {
        let mut expr = Expr::error(Span::default());
        for _ in 0..200_000 {
            expr = Expr {
                kind: ExprKind::Index {
                    base: Box::new(expr),
                    index: Box::new(Expr::error(Span::default())),
                },
                span: Span::default(),
            };
        }
        assert_eq!(expr.depth(), 200_001);
        drop(expr);
    }
}
