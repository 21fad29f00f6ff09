//! The IR's text form.
//!
//! One line per declaration, conditions in prefix form (`and(a, b)`), spans as `@FILE:START..END`
//! after the node they belong to when [`Style::with_spans`] is set. [`super::parser`] reads the
//! same text back. Example:
//!
//! ```text
//! contract Vault {
//!   param hot: PubKey
//!   param delay: Blocks = 144
//!   key cold
//!   path withdraw weight 1 {
//!     require and(sig(hot), older(delay: Blocks))
//!   }
//! }
//! ```

use std::fmt::Write;

use super::{AbsLock, Arith, Cond, CondKind, Contract, KeyPath, KeyRef, Literal, Module, RelLock};
use crate::span::Span;

/// Printing options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Print every node's span.
    pub with_spans: bool,
}

/// Prints a module.
pub fn print(module: &Module, style: Style) -> String {
    let mut out = String::new();
    for (i, c) in module.contracts.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        print_contract(&mut out, c, style);
    }
    out
}

fn span(out: &mut String, span: Span, style: Style) {
    if style.with_spans {
        let _ = write!(out, " @{}:{}..{}", span.file.0, span.start, span.end);
    }
}

/// Prints one contract.
pub fn print_contract(out: &mut String, c: &Contract, style: Style) {
    out.push_str("contract ");
    out.push_str(&c.name);
    span(out, c.span, style);
    out.push_str(" {\n");
    for p in &c.params {
        let _ = write!(out, "  param {}: {}", p.name, p.ty);
        if let Some(d) = &p.default {
            out.push_str(" = ");
            literal(out, d);
        }
        out.push('\n');
    }
    for name in &c.confidentials {
        let _ = writeln!(out, "  confidential {name}");
    }
    match &c.key {
        KeyPath::Nums => out.push_str("  key nums\n"),
        KeyPath::Single(k, s) => {
            out.push_str("  key ");
            key(out, k);
            span(out, *s, style);
            out.push('\n');
        }
        KeyPath::MuSig(keys, s) => {
            out.push_str("  key musig(");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                key(out, k);
            }
            out.push(')');
            span(out, *s, style);
            out.push('\n');
        }
    }
    for p in &c.paths {
        let _ = write!(out, "  path {} weight {}", p.name, p.weight);
        span(out, p.span, style);
        out.push_str(" {\n");
        for a in &p.args {
            let _ = writeln!(out, "    arg {}: {}", a.name, a.ty);
        }
        for r in &p.requires {
            out.push_str("    require");
            span(out, r.span, style);
            if let Some(m) = &r.message {
                let _ = write!(out, " {m:?}");
            }
            out.push(' ');
            cond(out, &r.cond, style);
            out.push('\n');
        }
        for pr in &p.proves {
            out.push_str("    prove");
            span(out, pr.span, style);
            out.push(' ');
            arith(out, &pr.lhs);
            let _ = write!(out, " {} ", pr.op.as_str());
            arith(out, &pr.rhs);
            out.push('\n');
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
}

fn literal(out: &mut String, l: &Literal) {
    match l {
        Literal::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Literal::Bytes(hex) => {
            let _ = write!(out, "0x{hex}");
        }
        Literal::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                literal(out, item);
            }
            out.push(']');
        }
    }
}

/// Prints a key or hash reference.
pub fn key(out: &mut String, k: &KeyRef) {
    match k {
        KeyRef::Param { name, index: None } => out.push_str(name),
        KeyRef::Param {
            name,
            index: Some(i),
        } => {
            let _ = write!(out, "{name}[{i}]");
        }
        KeyRef::Literal(hex) => {
            let _ = write!(out, "0x{hex}");
        }
    }
}

fn param_ref(out: &mut String, name: &str, index: Option<u32>) {
    key(
        out,
        &KeyRef::Param {
            name: name.to_string(),
            index,
        },
    );
}

/// Prints a condition. Recursion follows the tree's depth, which the parser of either form
/// bounds.
pub fn cond(out: &mut String, c: &Cond, style: Style) {
    match &c.kind {
        CondKind::True => out.push_str("true"),
        CondKind::False => out.push_str("false"),
        CondKind::Sig(k) => {
            out.push_str("sig(");
            key(out, k);
            out.push(')');
        }
        CondKind::Older(lock) => {
            out.push_str("older(");
            match lock {
                RelLock::Blocks(n) => {
                    let _ = write!(out, "{n} blocks");
                }
                RelLock::Time512(n) => {
                    let _ = write!(out, "{n} x512s");
                }
                RelLock::Param { name, index, ty } => {
                    param_ref(out, name, *index);
                    let _ = write!(out, ": {ty}");
                }
            }
            out.push(')');
        }
        CondKind::After(lock) => {
            out.push_str("after(");
            match lock {
                AbsLock::Height(n) => {
                    let _ = write!(out, "height {n}");
                }
                AbsLock::Time(n) => {
                    let _ = write!(out, "time {n}");
                }
                AbsLock::Param { name, index, ty } => {
                    param_ref(out, name, *index);
                    let _ = write!(out, ": {ty}");
                }
            }
            out.push(')');
        }
        CondKind::Hash {
            func,
            preimage,
            hash,
        } => {
            let _ = write!(out, "{}({preimage}) == ", func.name());
            key(out, hash);
        }
        CondKind::And(items) | CondKind::Or(items) => {
            out.push_str(if matches!(c.kind, CondKind::And(_)) {
                "and("
            } else {
                "or("
            });
            list(out, items, style);
            out.push(')');
        }
        CondKind::Thresh(k, items) => {
            let _ = write!(out, "thresh({k}, ");
            list(out, items, style);
            out.push(')');
        }
    }
    span(out, c.span, style);
}

fn list(out: &mut String, items: &[Cond], style: Style) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        cond(out, item, style);
    }
}

fn arith(out: &mut String, a: &Arith) {
    match a {
        Arith::Confidential(name) | Arith::Param(name) => out.push_str(name),
        Arith::Const(n) => {
            let _ = write!(out, "{n}");
        }
        Arith::Binary(op, l, r) => {
            out.push('(');
            arith(out, l);
            let _ = write!(out, " {} ", op.as_str());
            arith(out, r);
            out.push(')');
        }
    }
}
