//! Literals: integers (with or without a unit) and hex bytes.
//!
//! In: a literal's text and the type the context expects. Out: a constant value. An integer
//! without a unit takes the expected numeric type (`Height`, `Time`, `Amount`, `Int`); a unit
//! gives `Blocks`, `Duration` (in seconds) or `Amount` (in satoshis). A hex literal takes the
//! expected byte type and must have its length; without a context its length names the type
//! (32 bytes `Bytes32`, 20 `Hash160`, 33 `PubKey`).

use crate::hir::{self, Value};
use crate::resolve::suggest;
use crate::span::Span;
use crate::syntax::ast;
use crate::types::Ty;

use super::checker::{err, value, Checker};
use super::error::TypeError;

/// The units a number may carry: the name, its type, and how many base units one is.
const UNITS: &[(&str, Ty, u64)] = &[
    ("block", Ty::Blocks, 1),
    ("blocks", Ty::Blocks, 1),
    ("second", Ty::Duration, 1),
    ("seconds", Ty::Duration, 1),
    ("minute", Ty::Duration, 60),
    ("minutes", Ty::Duration, 60),
    ("hour", Ty::Duration, 3600),
    ("hours", Ty::Duration, 3600),
    ("day", Ty::Duration, 86_400),
    ("days", Ty::Duration, 86_400),
    ("week", Ty::Duration, 604_800),
    ("weeks", Ty::Duration, 604_800),
    ("sat", Ty::Amount, 1),
    ("sats", Ty::Amount, 1),
    ("btc", Ty::Amount, 100_000_000),
];

impl Checker<'_, '_> {
    /// An integer literal, `digits` with an optional `unit`.
    pub(super) fn check_int(
        &mut self,
        digits: &str,
        unit: Option<&ast::Ident>,
        span: Span,
        expected: Option<&Ty>,
    ) -> hir::Expr {
        let Ok(n) = digits.parse::<u64>() else {
            self.report(TypeError::LiteralTooLarge { span });
            return err(span);
        };
        let Some(unit) = unit else {
            let ty = match expected {
                Some(t @ (Ty::Height | Ty::Time | Ty::Amount | Ty::Int)) => t.clone(),
                _ => Ty::Int,
            };
            return value(Value::Int(n), ty, span);
        };
        let Some((_, ty, factor)) = UNITS.iter().find(|(name, _, _)| *name == unit.name) else {
            self.report(TypeError::UnknownUnit {
                unit: unit.name.clone(),
                suggestion: suggest(&unit.name, UNITS.iter().map(|(name, _, _)| *name)),
                span: unit.span,
            });
            return err(span);
        };
        match n.checked_mul(*factor) {
            Some(v) => value(Value::Int(v), ty.clone(), span),
            None => {
                self.report(TypeError::UnitValueTooLarge { span });
                err(span)
            }
        }
    }

    /// A hex literal (`0x...`, `_` allowed between digits).
    pub(super) fn check_hex(
        &mut self,
        digits: &str,
        span: Span,
        expected: Option<&Ty>,
    ) -> hir::Expr {
        let clean: String = digits.chars().filter(|c| *c != '_').collect();
        if !clean.len().is_multiple_of(2) || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
            self.report(TypeError::InvalidHex { span });
            return err(span);
        }
        let bytes: Vec<u8> = (0..clean.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&clean[i..i + 2], 16).ok())
            .collect();
        let len = bytes.len();
        let ty = match expected {
            Some(Ty::PubKey) => {
                if len != 32 && !(len == 33 && matches!(bytes[0], 2 | 3)) {
                    self.report(TypeError::KeyLiteralLength { len, span });
                    return err(span);
                }
                Ty::PubKey
            }
            Some(t) if t.byte_len().is_some() => {
                let want = t.byte_len().unwrap_or(0);
                if len != want {
                    self.report(TypeError::ByteLiteralLength {
                        ty: t.clone(),
                        want,
                        len,
                        span,
                    });
                    return err(span);
                }
                t.clone()
            }
            _ => match len {
                32 => Ty::Bytes32,
                20 => Ty::Hash160,
                33 => Ty::PubKey,
                _ => {
                    self.report(TypeError::UntypedHex { len, span });
                    return err(span);
                }
            },
        };
        value(Value::Bytes(bytes), ty, span)
    }
}
