//! Type expressions: the [`Ty`] a written type names.
//!
//! In: an [`ast::TypeExpr`] and the file it is written in (array lengths may name that file's
//! constants). Out: its [`Ty`], or `Ty::Error` after reporting an unknown type, generic
//! arguments where none are taken, a commitment other than `Commitment<u64>`, or an array
//! length outside 1..=[`MAX_ARRAY_LEN`].

use crate::resolve::{suggest, ResolveError};
use crate::span::FileId;
use crate::syntax::ast;
use crate::types::Ty;

use super::checker::{Checker, Frame};
use super::error::TypeError;
use super::limits::MAX_ARRAY_LEN;

impl Checker<'_, '_> {
    /// The type `ty` written in `file` names.
    pub(super) fn resolve_type(&mut self, file: FileId, ty: &ast::TypeExpr) -> Ty {
        match ty {
            ast::TypeExpr::Named { name, args, span } => {
                if name.name == "Commitment" {
                    let ok = matches!(args.as_slice(),
                        [ast::TypeExpr::Named { name, args, .. }] if name.name == "u64" && args.is_empty());
                    if !ok {
                        self.report(TypeError::CommitmentArgument { span: *span });
                        return Ty::Error;
                    }
                    return Ty::Commitment;
                }
                let Some(found) = Ty::from_name(&name.name) else {
                    let suggestion = suggest(&name.name, Ty::NAMES.iter().copied());
                    self.resolve_error(ResolveError::UnknownType {
                        name: name.name.clone(),
                        span: name.span,
                        suggestion,
                    });
                    return Ty::Error;
                };
                if !args.is_empty() {
                    self.report(TypeError::UnexpectedGenericArguments {
                        ty: found.clone(),
                        span: *span,
                    });
                }
                found
            }
            ast::TypeExpr::Array { elem, len, .. } => {
                let elem_ty = self.resolve_type(file, elem);
                let len_expr = self.check(len, &Frame::items(file), Some(&Ty::Int));
                let Some(n) = self.const_int(&len_expr, "an array length") else {
                    return Ty::Error;
                };
                if n == 0 || n > MAX_ARRAY_LEN {
                    self.report(TypeError::ArrayLength {
                        len: n,
                        span: len.span,
                    });
                    return Ty::Error;
                }
                if elem_ty == Ty::Error {
                    return Ty::Error;
                }
                Ty::Array(Box::new(elem_ty), n as u32)
            }
            ast::TypeExpr::Error(_) => Ty::Error,
        }
    }
}
