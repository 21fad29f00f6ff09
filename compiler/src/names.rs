//! Definitions and uses of names, for editors: what each name in a file refers to.
//!
//! In: one top-level item ([`crate::db::ItemSyntax`]: its syntax and text) and the item
//! scope of its file ([`crate::resolve`]). Out: an [`ItemNames`]: the definitions written in
//! the item (with one-line signatures and docs) and every resolved use of a name, as pairs of
//! spans. [`crate::db::item_names`] computes it per item and [`crate::db::names`] per file, as
//! queries, so an editor asks the compiler instead of resolving names itself.
//!
//! The rules are the type checker's ([`crate::typeck`]): inside a spend path its arguments,
//! then the contract's parameters and confidential values, then the file's items (its own and
//! those of the files it `use`s); inside a `fn` its parameters, then items; elsewhere items
//! only. A call's callee is always an item.

use crate::resolve::ItemScope;
use crate::span::Span;
use crate::syntax::ast;

/// What a definition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefKind {
    /// A `contract`.
    Contract,
    /// A `const`.
    Const,
    /// A `fn`.
    Fn,
    /// A contract parameter.
    ContractParam,
    /// A spend path argument.
    SpendArg,
    /// A `fn` parameter.
    FnParam,
    /// A `confidential` value.
    Confidential,
    /// A spend path.
    SpendPath,
}

impl DefKind {
    /// How hover names it.
    pub fn describe(self) -> &'static str {
        match self {
            DefKind::Contract => "contract",
            DefKind::Const => "constant",
            DefKind::Fn => "function",
            DefKind::ContractParam => "contract parameter",
            DefKind::SpendArg => "spend argument",
            DefKind::FnParam => "function parameter",
            DefKind::Confidential => "confidential value",
            DefKind::SpendPath => "spend path",
        }
    }
}

/// A name's definition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Def {
    /// What it is.
    pub kind: DefKind,
    /// Its name.
    pub name: String,
    /// Where the name is written at its definition.
    pub name_span: Span,
    /// The whole definition.
    pub span: Span,
    /// A one-line signature, e.g. `hot: PubKey` or `fn delayed(k: PubKey, d: Blocks) -> Cond`.
    pub signature: String,
    /// Its doc comment lines.
    pub docs: Vec<String>,
    /// The enclosing contract's or function's name, if any.
    pub container: Option<String>,
}

/// The definitions and name uses of one item, or of a whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ItemNames {
    /// Definitions written in it.
    pub defs: Vec<Def>,
    /// Each resolved use: the span of the name, the span of its definition's name.
    pub refs: Vec<(Span, Span)>,
}

/// The text of one item, with the file offset it starts at.
struct ItemText<'a> {
    text: &'a str,
    start: u32,
}

impl ItemText<'_> {
    /// The text of `span`, or `""` when outside the item.
    fn slice(&self, span: Span) -> &str {
        let (Some(start), Some(end)) = (
            span.start.checked_sub(self.start),
            span.end.checked_sub(self.start),
        ) else {
            return "";
        };
        self.text.get(start as usize..end as usize).unwrap_or("")
    }

    /// The text of `span` with whitespace runs collapsed to one space.
    fn one_line(&self, span: Span) -> String {
        self.slice(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn params(&self, params: &[ast::Param]) -> String {
        params
            .iter()
            .map(|p| self.param(p))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A parameter as written: `name: Type` or `name: Type = default`.
    fn param(&self, p: &ast::Param) -> String {
        let mut s = format!("{}: {}", p.name.name, self.one_line(p.ty.span()));
        if let Some(d) = &p.default {
            s.push_str(" = ");
            s.push_str(&self.one_line(d.span));
        }
        s
    }
}

/// A parameter as written (`name: Type = default`), given the text of the item it is in and
/// the offset that text starts at.
pub fn param_text(item_text: &str, item_start: u32, p: &ast::Param) -> String {
    ItemText {
        text: item_text,
        start: item_start,
    }
    .param(p)
}

/// The names of one item. `text` is the item's text and `start` its offset in the file;
/// `scope` is the item scope of the file.
pub fn item_names(item: &ast::Item, text: &str, start: u32, scope: &ItemScope) -> ItemNames {
    let text = ItemText { text, start };
    let mut out = ItemNames::default();
    let items = |name: &str| scope.get(name).map(|r| r.name_span);
    match item {
        ast::Item::Const(c) => {
            out.defs.push(Def {
                kind: DefKind::Const,
                name: c.name.name.clone(),
                name_span: c.name.span,
                span: c.span,
                signature: format!("const {}: {}", c.name.name, text.one_line(c.ty.span())),
                docs: c.docs.clone(),
                container: None,
            });
            walk_type(&c.ty, &[], &items, &mut out.refs);
            walk_expr(&c.value, &[], &items, &mut out.refs);
        }
        ast::Item::Fn(f) => {
            out.defs.push(Def {
                kind: DefKind::Fn,
                name: f.name.name.clone(),
                name_span: f.name.span,
                span: f.span,
                signature: format!(
                    "fn {}({}) -> {}",
                    f.name.name,
                    text.params(&f.params),
                    text.one_line(f.ret.span())
                ),
                docs: f.docs.clone(),
                container: None,
            });
            let locals = params_defs(&text, &f.params, DefKind::FnParam, &f.name.name);
            for p in &f.params {
                walk_type(&p.ty, &[], &items, &mut out.refs);
            }
            walk_type(&f.ret, &[], &items, &mut out.refs);
            walk_expr(&f.body, &locals, &items, &mut out.refs);
            out.defs.extend(locals);
        }
        ast::Item::Contract(c) => contract_names(&text, c, &items, &mut out),
        ast::Item::Use(_) | ast::Item::Error(_) => {}
    }
    out
}

fn params_defs(
    text: &ItemText<'_>,
    params: &[ast::Param],
    kind: DefKind,
    container: &str,
) -> Vec<Def> {
    params
        .iter()
        .map(|p| Def {
            kind,
            name: p.name.name.clone(),
            name_span: p.name.span,
            span: p.span,
            signature: text.param(p),
            docs: p.docs.clone(),
            container: Some(container.to_string()),
        })
        .collect()
}

fn contract_names(
    text: &ItemText<'_>,
    c: &ast::Contract,
    items: &dyn Fn(&str) -> Option<Span>,
    out: &mut ItemNames,
) {
    out.defs.push(Def {
        kind: DefKind::Contract,
        name: c.name.name.clone(),
        name_span: c.name.span,
        span: c.span,
        signature: format!("contract {}({})", c.name.name, text.params(&c.params)),
        docs: c.docs.clone(),
        container: None,
    });
    let mut locals = params_defs(text, &c.params, DefKind::ContractParam, &c.name.name);
    for p in &c.params {
        walk_type(&p.ty, &[], items, &mut out.refs);
        if let Some(d) = &p.default {
            walk_expr(d, &[], items, &mut out.refs);
        }
    }
    for m in &c.members {
        if let ast::Member::Confidential(conf) = m {
            locals.push(Def {
                kind: DefKind::Confidential,
                name: conf.name.name.clone(),
                name_span: conf.name.span,
                span: conf.span,
                signature: format!(
                    "confidential {}: {}",
                    conf.name.name,
                    text.one_line(conf.ty.span())
                ),
                docs: conf.docs.clone(),
                container: Some(c.name.name.clone()),
            });
        }
    }
    for m in &c.members {
        match m {
            ast::Member::Key(k) => walk_expr(&k.expr, &locals, items, &mut out.refs),
            ast::Member::Spend(p) => {
                out.defs.push(Def {
                    kind: DefKind::SpendPath,
                    name: p.name.name.clone(),
                    name_span: p.name.span,
                    span: p.span,
                    signature: format!("spend {}({})", p.name.name, text.params(&p.params)),
                    docs: p.docs.clone(),
                    container: Some(c.name.name.clone()),
                });
                for a in &p.attrs {
                    for e in &a.args {
                        walk_expr(e, &[], items, &mut out.refs);
                    }
                }
                let args = params_defs(text, &p.params, DefKind::SpendArg, &p.name.name);
                for a in &p.params {
                    walk_type(&a.ty, &[], items, &mut out.refs);
                }
                let mut visible = args.clone();
                visible.extend(locals.iter().cloned());
                for s in &p.body {
                    match s {
                        ast::Stmt::Require { cond, .. } => {
                            walk_expr(cond, &visible, items, &mut out.refs)
                        }
                        ast::Stmt::Prove { expr, .. } => {
                            walk_expr(expr, &visible, items, &mut out.refs)
                        }
                        ast::Stmt::Error(_) => {}
                    }
                }
                out.defs.extend(args);
            }
            ast::Member::Confidential(conf) => walk_type(&conf.ty, &[], items, &mut out.refs),
            ast::Member::Error(_) => {}
        }
    }
    out.defs.extend(locals);
}

fn walk_type(
    ty: &ast::TypeExpr,
    locals: &[Def],
    items: &dyn Fn(&str) -> Option<Span>,
    refs: &mut Vec<(Span, Span)>,
) {
    let mut stack = vec![ty];
    while let Some(ty) = stack.pop() {
        match ty {
            ast::TypeExpr::Named { args, .. } => stack.extend(args.iter()),
            ast::TypeExpr::Array { elem, len, .. } => {
                stack.push(elem);
                walk_expr(len, locals, items, refs);
            }
            ast::TypeExpr::Error(_) => {}
        }
    }
}

fn walk_expr(
    expr: &ast::Expr,
    locals: &[Def],
    items: &dyn Fn(&str) -> Option<Span>,
    refs: &mut Vec<(Span, Span)>,
) {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ast::ExprKind::Name(id) => {
                let target = locals
                    .iter()
                    .find(|d| d.name == id.name)
                    .map(|d| d.name_span)
                    .or_else(|| items(&id.name));
                if let Some(t) = target {
                    refs.push((id.span, t));
                }
            }
            ast::ExprKind::Call { callee, .. } => {
                if let Some(t) = items(&callee.name) {
                    refs.push((callee.span, t));
                }
            }
            _ => {}
        }
        stack.extend(e.children());
    }
}
