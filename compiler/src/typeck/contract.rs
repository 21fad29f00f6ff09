//! Contracts: parameters, confidential values and the members that use them.
//!
//! In: a contract's AST. Out: its [`hir::Contract`], with parameter defaults folded, the key
//! path from [`super::keys`] and each spend path from [`super::path`]. Reported here: default
//! values that are not constant, spend arguments with defaults, `Commitment<u64>` outside a
//! `confidential` declaration (and a `confidential` of another type), a second `key`, a
//! contract without a spend path, and parameters nothing reads (in contracts without errors
//! only, since a broken use may be what hides the use).

use std::collections::BTreeMap;

use crate::hir::{self, ExprKind as H};
use crate::span::{FileId, Span};
use crate::syntax::ast;
use crate::types::Ty;

use super::checker::{Checker, Frame, Local, Locals};
use super::error::TypeError;

impl Checker<'_, '_> {
    /// Checks the parameters of a contract (`what` = `parameter`, with defaults) or of a spend
    /// path (`spend argument`, without).
    pub(super) fn check_params(
        &mut self,
        file: FileId,
        params: &[ast::Param],
        what: &'static str,
        with_defaults: bool,
    ) -> Vec<hir::Param> {
        let mut out: Vec<hir::Param> = Vec::new();
        let mut seen: BTreeMap<String, Span> = BTreeMap::new();
        for p in params {
            let ty = self.resolve_type(file, &p.ty);
            if ty == Ty::Commitment {
                self.report(TypeError::CommitmentOutsideConfidential { span: p.ty.span() });
            }
            if self.duplicate(what, &p.name, seen.get(&p.name.name).copied()) {
                continue;
            }
            seen.insert(p.name.name.clone(), p.name.span);
            let default = match (&p.default, with_defaults) {
                (Some(d), true) => {
                    let e = self.check_as(d, &Frame::items(file), &ty);
                    match e.kind {
                        H::Value(v) => {
                            self.check_value_range(&v, &ty, d.span);
                            Some(v)
                        }
                        H::Error => None,
                        _ => {
                            self.report(TypeError::NotConstant {
                                what: format!("the default of `{}`", p.name.name),
                                span: d.span,
                            });
                            None
                        }
                    }
                }
                (Some(d), false) => {
                    self.report(TypeError::SpendArgumentDefault { span: d.span });
                    None
                }
                (None, _) => None,
            };
            out.push(hir::Param {
                name: p.name.name.clone(),
                ty,
                default,
                docs: p.docs.clone(),
                span: p.name.span,
            });
        }
        out
    }

    /// Checks a contract and everything in it.
    pub(super) fn check_contract(
        &mut self,
        file: FileId,
        c: &ast::Contract,
    ) -> Option<hir::Contract> {
        self.used.clear();
        let errors_before = self.error_count();
        let params = self.check_params(file, &c.params, "parameter", true);
        let mut locals: Locals = params
            .iter()
            .map(|p| (p.name.clone(), (Local::Param(p.ty.clone()), p.span)))
            .collect();

        let mut confidentials = Vec::new();
        for m in &c.members {
            if let ast::Member::Confidential(conf) = m {
                let ty = self.resolve_type(file, &conf.ty);
                if ty != Ty::Commitment && ty != Ty::Error {
                    self.report(TypeError::ConfidentialType {
                        ty,
                        span: conf.ty.span(),
                    });
                }
                let first = locals.get(&conf.name.name).map(|(_, first)| *first);
                if self.duplicate("name", &conf.name, first) {
                    continue;
                }
                locals.insert(
                    conf.name.name.clone(),
                    (Local::Confidential, conf.name.span),
                );
                confidentials.push(hir::Confidential {
                    name: conf.name.name.clone(),
                    span: conf.name.span,
                });
            }
        }

        let base = Frame::new(file, locals);
        let mut key = hir::KeyPath::None;
        let mut key_span: Option<Span> = None;
        let mut paths: Vec<hir::SpendPath> = Vec::new();
        let mut path_names: BTreeMap<String, Span> = BTreeMap::new();
        for m in &c.members {
            match m {
                ast::Member::Key(k) => {
                    let second = |span, first| TypeError::SecondKey { span, first };
                    if !self.once(&mut key_span, k.span, second) {
                        continue;
                    }
                    key = self.check_key(&k.expr, &base);
                }
                ast::Member::Spend(p) => {
                    let first = path_names.get(&p.name.name).copied();
                    if self.duplicate("spend path", &p.name, first) {
                        continue;
                    }
                    path_names.insert(p.name.name.clone(), p.name.span);
                    paths.push(self.check_path(p, &base));
                }
                ast::Member::Confidential(_) | ast::Member::Error(_) => {}
            }
        }
        if paths.is_empty() && !c.members.iter().any(|m| matches!(m, ast::Member::Error(_))) {
            self.report(TypeError::NoSpendPath {
                contract: c.name.name.clone(),
                span: c.name.span,
            });
        }
        // After an error (or a statement the parser had to skip) a parameter may look unused
        // only because its use was broken: warn about unused parameters in clean contracts only.
        let broken = self.error_count() > errors_before
            || c.members.iter().any(|m| match m {
                ast::Member::Error(_) => true,
                ast::Member::Spend(p) => p.body.iter().any(|s| matches!(s, ast::Stmt::Error(_))),
                _ => false,
            });
        if !broken {
            for p in self.unused(&params) {
                self.report(TypeError::UnusedParameter {
                    name: p.name.clone(),
                    span: p.span,
                });
            }
        }
        Some(hir::Contract {
            name: c.name.name.clone(),
            docs: c.docs.clone(),
            params,
            key,
            confidentials,
            paths,
            span: c.span,
            name_span: c.name.span,
        })
    }

    /// The parameters among `params` that nothing read and whose names do not start with `_`.
    pub(super) fn unused<'p>(&self, params: &'p [hir::Param]) -> Vec<&'p hir::Param> {
        params
            .iter()
            .filter(|p| !self.used.contains(&p.name) && !p.name.starts_with('_'))
            .collect()
    }
}
