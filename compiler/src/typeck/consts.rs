//! `const` items: each evaluated once, to a value of its declared type.
//!
//! In: a file and the index of a `const` item in it. Out: its folded value and type, or `None`
//! when it has an error (reported once, here, not again at each use). A constant must fold to
//! a value; one that depends on itself is a cycle ([`ResolveError::Cycle`], reported where it is
//! named). Whether a duration is a whole number of 512-second units is reported where `older`
//! uses it, not where a constant names it.
//!
//! [`ResolveError::Cycle`]: crate::resolve::ResolveError::Cycle

use crate::hir::{ExprKind as H, Value};
use crate::span::FileId;
use crate::syntax::ast;
use crate::types::Ty;

use super::checker::{Checker, Frame};
use super::error::TypeError;

impl Checker<'_, '_> {
    /// The value of the const at `items[index]` of `file`, evaluated once.
    pub(super) fn const_value(&mut self, file: FileId, index: usize) -> Option<(Value, Ty)> {
        if let Some(done) = self.consts.get(&(file, index)) {
            return done.clone();
        }
        let Some(ast::Item::Const(c)) = self.item(file, index) else {
            return None;
        };
        self.const_stack.push((file, index));
        let ty = self.resolve_type(file, &c.ty);
        let expr = self.check_as(&c.value, &Frame::items(file), &ty);
        self.const_stack.pop();
        let result = match expr.kind {
            H::Value(v) => Some((v, ty)),
            H::Error => None,
            _ => {
                self.report(TypeError::NotConstant {
                    what: format!("the value of `{}`", c.name.name),
                    span: c.value.span,
                });
                None
            }
        };
        let errors_before = self.error_count();
        let diags_before = self.diags.len();
        if let Some((v, ty)) = &result {
            self.check_value_range(v, ty, c.value.span);
        }
        // A duration is rounded where `older` uses it (W0001 there), not where a constant
        // names it: `2 * HALF` may well be a whole number of 512-second units.
        let found = self.diags.split_off(diags_before);
        self.diags
            .extend(found.into_iter().filter(|d| d.code != "W0001"));
        // An out-of-range constant is reported here, once, not again at every use.
        let result = if self.error_count() > errors_before {
            None
        } else {
            result
        };
        self.consts.insert((file, index), result.clone());
        result
    }
}
