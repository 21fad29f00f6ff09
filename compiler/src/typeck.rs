//! Type checking: resolved, typed contracts (the HIR) from the AST.
//!
//! In: one file's AST, the item scopes of that file and of every file it imports (from
//! [`crate::resolve`]), and those files' ASTs. Out: a [`hir::Contract`] per contract and the
//! diagnostics found. Checking goes on after an error: a broken expression becomes
//! `hir::ExprKind::Error` of type `Ty::Error`, which is compatible with everything, so one
//! mistake gives one diagnostic.
//!
//! What is checked here: local names (parameters, spend arguments, confidential values),
//! types of every expression, constant folding (`const`, defaults, units, arithmetic), `fn`
//! inlining, the BIP65/68/112 ranges of constant timelocks, threshold ranges, weights, the
//! shape of key declarations, and the ZK rules (`prove` only over confidential values, in a
//! path that also requires a signature).
//!
//! Recursion here follows the AST's expression depth, which the parser bounds
//! ([`crate::syntax::ast::MAX_EXPR_DEPTH`]), and `fn` inlining depth, bounded by
//! [`MAX_INLINE_DEPTH`].

use std::collections::{BTreeMap, BTreeSet};

use crate::builtins::{self, BuiltinKind};
use crate::diagnostic::Diagnostic;
use crate::hir::{self, ExprKind as H, Value};
use crate::resolve::{suggest, ItemKind, ItemScope, ResolveError};
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, BinOp};
use crate::types::Ty;

/// How deep `fn` calls may be inlined inside one another.
pub const MAX_INLINE_DEPTH: usize = 16;

/// The deepest condition a `require` may have after `fn` inlining (the IR and the back ends
/// recurse on it).
pub const MAX_COND_DEPTH: usize = 200;

/// Codes whose errors depend on the values a `fn` is called with: a `fn` body checked on its
/// own does not report them; each call that inlines it does.
const VALUE_DEPENDENT: &[&str] = &["E0036", "E0037", "E0038", "E0040", "E0041", "E0042"];

/// The largest `@weight`.
pub const MAX_WEIGHT: u64 = 1_000_000;

/// BIP68: the relative-lock time unit, in seconds.
pub const SEQUENCE_UNIT_SECONDS: u64 = 512;

/// BIP65: lock times below this are heights, at or above it unix times.
pub const LOCKTIME_THRESHOLD: u64 = 500_000_000;

/// The largest absolute lock time Miniscript accepts (`after` takes 1..2^31).
pub const MAX_ABSOLUTE_LOCK: u64 = 0x7fff_ffff;

/// Everything type checking needs about the files in play.
pub struct Env<'a> {
    /// The ASTs by file.
    pub asts: &'a BTreeMap<FileId, &'a ast::SourceFile>,
    /// The item scope of each file.
    pub scopes: &'a BTreeMap<FileId, &'a ItemScope>,
}

/// Checks every item of `file`. Returns its contracts and all diagnostics about it.
pub fn check_file(env: &Env<'_>, file: FileId) -> (Vec<hir::Contract>, Vec<Diagnostic>) {
    let mut checker = Checker::new(env);
    let mut contracts = Vec::new();
    let Some(source) = env.asts.get(&file) else {
        return (contracts, Vec::new());
    };
    for (index, item) in source.items.iter().enumerate() {
        contracts.extend(checker.check_item(file, index, item));
    }
    (contracts, checker.diagnostics_about(file))
}

/// Checks item `index` of `file` on its own, with a fresh checker: its contract, if it is one,
/// and the diagnostics about `file` found on the way. For item-level incrementality
/// ([`crate::db::check_item`]); [`check_file`] gives the same diagnostics up to duplicates
/// (a constant's errors are found again by each item that folds it) and, for constants defined
/// in terms of each other, up to which use E0024 is reported at.
pub fn check_item(
    env: &Env<'_>,
    file: FileId,
    index: usize,
) -> (Option<hir::Contract>, Vec<Diagnostic>) {
    let mut checker = Checker::new(env);
    let contract = match env.asts.get(&file).and_then(|f| f.items.get(index)) {
        Some(item) => checker.check_item(file, index, item),
        None => None,
    };
    (contract, checker.diagnostics_about(file))
}

/// What a local name stands for.
#[derive(Clone, Debug)]
enum Local {
    /// A contract parameter.
    Param(Ty),
    /// A spend argument.
    Arg(Ty),
    /// A confidential value.
    Confidential,
    /// A `fn` parameter, bound to the argument's checked expression.
    Bound(hir::Expr),
}

/// The names visible while checking one expression.
#[derive(Clone, Debug)]
struct Frame {
    /// Which file's items are visible.
    file: FileId,
    /// Local names.
    locals: BTreeMap<String, (Local, Span)>,
    /// Whether we are inside `prove` (confidential values and comparisons allowed).
    in_prove: bool,
    /// Whether we are inside a `key` declaration (`musig` allowed).
    in_key: bool,
}

struct Checker<'e, 'a> {
    env: &'e Env<'a>,
    diags: Vec<Diagnostic>,
    consts: BTreeMap<(FileId, usize), Option<(Value, Ty)>>,
    const_stack: Vec<(FileId, usize)>,
    fn_stack: Vec<(FileId, usize)>,
    /// Names of contract parameters and spend arguments that were read.
    used: BTreeSet<String>,
}

fn err(span: Span) -> hir::Expr {
    hir::Expr::error(span)
}

fn value(v: Value, ty: Ty, span: Span) -> hir::Expr {
    hir::Expr {
        kind: H::Value(v),
        ty,
        span,
    }
}

impl<'e, 'a> Checker<'e, 'a> {
    fn new(env: &'e Env<'a>) -> Self {
        Checker {
            env,
            diags: Vec::new(),
            consts: BTreeMap::new(),
            const_stack: Vec::new(),
            fn_stack: Vec::new(),
            used: BTreeSet::new(),
        }
    }

    /// Checks one item; returns its contract when it is one that checked.
    fn check_item(
        &mut self,
        file: FileId,
        index: usize,
        item: &ast::Item,
    ) -> Option<hir::Contract> {
        match item {
            ast::Item::Const(_) => {
                self.const_value(file, index);
                None
            }
            ast::Item::Fn(f) => {
                self.check_fn_standalone(file, f);
                None
            }
            ast::Item::Contract(c) => self.check_contract(file, c),
            ast::Item::Use(_) | ast::Item::Error(_) => None,
        }
    }

    /// The diagnostics about `file`: those at a span in it, or with a label in it.
    fn diagnostics_about(self, file: FileId) -> Vec<Diagnostic> {
        self.diags
            .into_iter()
            .filter(|d| {
                d.primary.span.file == file || d.secondary.iter().any(|l| l.span.file == file)
            })
            .collect()
    }

    /// How many errors have been reported so far.
    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn resolve_error(&mut self, e: ResolveError) {
        self.diags.push(e.to_diagnostic());
    }

    fn item(&self, file: FileId, index: usize) -> Option<&'a ast::Item> {
        self.env.asts.get(&file).and_then(|f| f.items.get(index))
    }

    // ---- types ---------------------------------------------------------------------------

    fn resolve_type(&mut self, file: FileId, ty: &ast::TypeExpr) -> Ty {
        match ty {
            ast::TypeExpr::Named { name, args, span } => {
                if name.name == "Commitment" {
                    let ok = matches!(args.as_slice(),
                        [ast::TypeExpr::Named { name, args, .. }] if name.name == "u64" && args.is_empty());
                    if !ok {
                        self.report(
                            Diagnostic::error(
                                "E0055",
                                "a commitment must be `Commitment<u64>`",
                                *span,
                            )
                            .with_label("unsupported commitment type"),
                        );
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
                    self.report(
                        Diagnostic::error(
                            "E0021",
                            format!("type `{found}` takes no generic arguments"),
                            *span,
                        )
                        .with_label("unexpected `<...>`"),
                    );
                }
                found
            }
            ast::TypeExpr::Array { elem, len, .. } => {
                let elem_ty = self.resolve_type(file, elem);
                let frame = Frame {
                    file,
                    locals: BTreeMap::new(),
                    in_prove: false,
                    in_key: false,
                };
                let len_expr = self.check(len, &frame, Some(&Ty::Int));
                let Some(n) = self.const_int(&len_expr, "an array length") else {
                    return Ty::Error;
                };
                if n == 0 || n > 1000 {
                    self.report(
                        Diagnostic::error(
                            "E0035",
                            format!("an array must have 1 to 1000 elements, not {n}"),
                            len.span,
                        )
                        .with_label("invalid length"),
                    );
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

    // ---- consts and fns ------------------------------------------------------------------

    /// The value of the const at `items[index]` of `file`, evaluated once.
    fn const_value(&mut self, file: FileId, index: usize) -> Option<(Value, Ty)> {
        if let Some(done) = self.consts.get(&(file, index)) {
            return done.clone();
        }
        let Some(ast::Item::Const(c)) = self.item(file, index) else {
            return None;
        };
        self.const_stack.push((file, index));
        let ty = self.resolve_type(file, &c.ty);
        let frame = Frame {
            file,
            locals: BTreeMap::new(),
            in_prove: false,
            in_key: false,
        };
        let expr = self.check(&c.value, &frame, Some(&ty));
        let expr = self.coerce(expr, &ty);
        self.const_stack.pop();
        let result = match expr.kind {
            H::Value(v) => Some((v, ty)),
            H::Error => None,
            _ => {
                self.report(not_constant(
                    c.value.span,
                    &format!("the value of `{}`", c.name.name),
                ));
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
        let mut at = diags_before;
        while at < self.diags.len() {
            if self.diags[at].code == "W0001" {
                self.diags.remove(at);
            } else {
                at += 1;
            }
        }
        // An out-of-range constant is reported here, once, not again at every use.
        let result = if self.error_count() > errors_before {
            None
        } else {
            result
        };
        self.consts.insert((file, index), result.clone());
        result
    }

    /// Checks a `fn` on its own, its parameters opaque, to report errors in its body once.
    fn check_fn_standalone(&mut self, file: FileId, f: &ast::FnDef) {
        let mut locals = BTreeMap::new();
        for p in &f.params {
            let ty = self.resolve_type(file, &p.ty);
            if let Some((_, first)) = locals.get(&p.name.name) {
                let first: &Span = first;
                self.resolve_error(ResolveError::Duplicate {
                    what: "parameter",
                    name: p.name.name.clone(),
                    span: p.name.span,
                    first: *first,
                });
                continue;
            }
            // An opaque stand-in of the declared type; an array stands in element by element,
            // so that `threshold(k, keys)` and indexing check as they will when inlined.
            let kind = match &ty {
                Ty::Array(elem, n) => H::Array(
                    (0..*n)
                        .map(|_| hir::Expr {
                            kind: H::Arg(p.name.name.clone()),
                            ty: (**elem).clone(),
                            span: p.name.span,
                        })
                        .collect(),
                ),
                _ => H::Arg(p.name.name.clone()),
            };
            let placeholder = hir::Expr {
                kind,
                ty,
                span: p.name.span,
            };
            locals.insert(
                p.name.name.clone(),
                (Local::Bound(placeholder), p.name.span),
            );
        }
        let ret = self.resolve_type(file, &f.ret);
        let frame = Frame {
            file,
            locals,
            in_prove: false,
            in_key: false,
        };
        let before = self.diags.len();
        let body = self.check(&f.body, &frame, Some(&ret));
        self.coerce(body, &ret);
        // Whether a value is constant or in range depends on the arguments of each call; those
        // errors are reported where the function is inlined, not here.
        let mut kept: Vec<Diagnostic> = self.diags.drain(before..).collect();
        kept.retain(|d| !VALUE_DEPENDENT.contains(&d.code));
        self.diags.extend(kept);
    }

    fn inline_call(
        &mut self,
        file: FileId,
        index: usize,
        call: &ast::Expr,
        args: &[ast::Expr],
        frame: &Frame,
    ) -> hir::Expr {
        let Some(ast::Item::Fn(f)) = self.item(file, index) else {
            return err(call.span);
        };
        if self.fn_stack.contains(&(file, index)) || self.fn_stack.len() >= MAX_INLINE_DEPTH {
            self.resolve_error(ResolveError::Cycle {
                name: f.name.name.clone(),
                span: call.span,
                definition: f.name.span,
            });
            return err(call.span);
        }
        if args.len() != f.params.len() {
            self.report(arity(&f.name.name, f.params.len(), args.len(), call.span));
            return err(call.span);
        }
        let mut locals = BTreeMap::new();
        for (param, arg) in f.params.iter().zip(args) {
            let ty = self.resolve_type(file, &param.ty);
            let checked = self.check(arg, frame, Some(&ty));
            let checked = self.coerce(checked, &ty);
            locals.insert(
                param.name.name.clone(),
                (Local::Bound(checked), param.name.span),
            );
        }
        let ret = self.resolve_type(file, &f.ret);
        // Errors inside the body were reported by the standalone check; keep only those the
        // arguments cause (they point outside the body).
        let before = self.diags.len();
        self.fn_stack.push((file, index));
        let inner = Frame {
            file,
            locals,
            in_prove: frame.in_prove,
            in_key: frame.in_key,
        };
        let body = self.check(&f.body, &inner, Some(&ret));
        let body = self.coerce(body, &ret);
        self.fn_stack.pop();
        let body_span = f.body.span;
        let mut kept = Vec::new();
        for d in self.diags.drain(before..) {
            let inside = d.primary.span.file == body_span.file
                && d.primary.span.start >= body_span.start
                && d.primary.span.end <= body_span.end;
            if !inside || d.code == "E0024" {
                kept.push(d);
            } else if VALUE_DEPENDENT.contains(&d.code) {
                kept.push(
                    d.with_secondary(call.span, format!("in this call of `{}`", f.name.name)),
                );
            }
        }
        self.diags.extend(kept);
        // A function that folds to a constant is, for every later check, that value at the call.
        let mut body = body;
        if matches!(body.kind, H::Value(_)) {
            body.span = call.span;
        }
        body
    }

    // ---- contracts -----------------------------------------------------------------------

    fn check_params(
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
                self.report(
                    Diagnostic::error(
                        "E0055",
                        "`Commitment<u64>` is only for `confidential` declarations",
                        p.ty.span(),
                    )
                    .with_label("not allowed here")
                    .with_help("declare it in the contract: `confidential NAME: Commitment<u64>;`"),
                );
            }
            if let Some(first) = seen.get(&p.name.name) {
                self.resolve_error(ResolveError::Duplicate {
                    what,
                    name: p.name.name.clone(),
                    span: p.name.span,
                    first: *first,
                });
                continue;
            }
            seen.insert(p.name.name.clone(), p.name.span);
            let default = match (&p.default, with_defaults) {
                (Some(d), true) => {
                    let frame = Frame {
                        file,
                        locals: BTreeMap::new(),
                        in_prove: false,
                        in_key: false,
                    };
                    let e = self.check(d, &frame, Some(&ty));
                    let e = self.coerce(e, &ty);
                    match e.kind {
                        H::Value(v) => {
                            self.check_value_range(&v, &ty, d.span);
                            Some(v)
                        }
                        H::Error => None,
                        _ => {
                            self.report(not_constant(
                                d.span,
                                &format!("the default of `{}`", p.name.name),
                            ));
                            None
                        }
                    }
                }
                (Some(d), false) => {
                    self.report(
                        Diagnostic::error(
                            "E0005",
                            "spend arguments cannot have default values",
                            d.span,
                        )
                        .with_label("default not allowed here")
                        .with_help("the spender provides every argument in the witness"),
                    );
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

    fn check_contract(&mut self, file: FileId, c: &ast::Contract) -> Option<hir::Contract> {
        self.used.clear();
        let errors_before = self.error_count();
        let params = self.check_params(file, &c.params, "parameter", true);
        let mut locals: BTreeMap<String, (Local, Span)> = params
            .iter()
            .map(|p| (p.name.clone(), (Local::Param(p.ty.clone()), p.span)))
            .collect();

        let mut confidentials = Vec::new();
        for m in &c.members {
            if let ast::Member::Confidential(conf) = m {
                let ty = self.resolve_type(file, &conf.ty);
                if ty != Ty::Commitment && ty != Ty::Error {
                    self.report(
                        Diagnostic::error(
                            "E0055",
                            format!("a confidential value must be a `Commitment<u64>`, not `{ty}`"),
                            conf.ty.span(),
                        )
                        .with_label("expected `Commitment<u64>`"),
                    );
                }
                if let Some((_, first)) = locals.get(&conf.name.name) {
                    self.resolve_error(ResolveError::Duplicate {
                        what: "name",
                        name: conf.name.name.clone(),
                        span: conf.name.span,
                        first: *first,
                    });
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

        let base = Frame {
            file,
            locals,
            in_prove: false,
            in_key: false,
        };
        let mut key = hir::KeyPath::None;
        let mut key_span: Option<Span> = None;
        let mut paths: Vec<hir::SpendPath> = Vec::new();
        let mut path_names: BTreeMap<String, Span> = BTreeMap::new();
        for m in &c.members {
            match m {
                ast::Member::Key(k) => {
                    if let Some(first) = key_span {
                        self.report(
                            Diagnostic::error("E0050", "a contract has at most one `key`", k.span)
                                .with_label("second `key` declaration")
                                .with_secondary(first, "first `key` declaration")
                                .with_help("to require several keys on the key path, aggregate them: `key musig(a, b);`"),
                        );
                        continue;
                    }
                    key_span = Some(k.span);
                    key = self.check_key(&k.expr, &base);
                }
                ast::Member::Spend(p) => {
                    if let Some(first) = path_names.get(&p.name.name) {
                        self.resolve_error(ResolveError::Duplicate {
                            what: "spend path",
                            name: p.name.name.clone(),
                            span: p.name.span,
                            first: *first,
                        });
                        continue;
                    }
                    path_names.insert(p.name.name.clone(), p.name.span);
                    paths.push(self.check_path(p, &base));
                }
                ast::Member::Confidential(_) | ast::Member::Error(_) => {}
            }
        }
        if paths.is_empty() && !c.members.iter().any(|m| matches!(m, ast::Member::Error(_))) {
            self.report(
                Diagnostic::error(
                    "E0051",
                    format!("contract `{}` has no spend path", c.name.name),
                    c.name.span,
                )
                .with_label("no `spend` in this contract")
                .with_help("add a path, e.g. `spend recover() { require sig(owner); }`"),
            );
        }
        // After an error (or a statement the parser had to skip) a parameter may look unused
        // only because its use was broken: warn about unused parameters in clean contracts only.
        let broken = self.error_count() > errors_before
            || c.members.iter().any(|m| match m {
                ast::Member::Error(_) => true,
                ast::Member::Spend(p) => p.body.iter().any(|s| matches!(s, ast::Stmt::Error(_))),
                _ => false,
            });
        for p in &params {
            if !broken && !self.used.contains(&p.name) && !p.name.starts_with('_') {
                self.report(
                    Diagnostic::warning(
                        "W0002",
                        format!("parameter `{}` is never used", p.name),
                        p.span,
                    )
                    .with_label("unused parameter")
                    .with_help(format!(
                        "remove it, or name it `_{}` if it is kept on purpose",
                        p.name
                    )),
                );
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

    fn check_key(&mut self, expr: &ast::Expr, frame: &Frame) -> hir::KeyPath {
        let key_frame = Frame {
            in_key: true,
            ..frame.clone()
        };
        if let ast::ExprKind::Call { callee, args } = &expr.kind {
            if builtins::lookup(&callee.name).map(|b| b.kind) == Some(BuiltinKind::MuSig) {
                if args.is_empty() {
                    self.report(arity("musig", 2, 0, expr.span));
                    return hir::KeyPath::None;
                }
                let mut keys = Vec::new();
                for a in args {
                    let e = self.check(a, &key_frame, Some(&Ty::PubKey));
                    match (&e.kind, &e.ty) {
                        (H::Array(items), Ty::Array(elem, _)) if **elem == Ty::PubKey => {
                            keys.extend(items.iter().cloned())
                        }
                        (_, Ty::PubKey) => keys.push(e),
                        (_, Ty::Error) => {}
                        (_, other) => self.report(
                            Diagnostic::error(
                                "E0052",
                                format!("`musig` takes public keys, found `{other}`"),
                                a.span,
                            )
                            .with_label("not a `PubKey`"),
                        ),
                    }
                }
                if keys.len() < 2 && !keys.is_empty() {
                    self.report(
                        Diagnostic::error("E0052", "`musig` needs at least two keys", expr.span)
                            .with_label("one key")
                            .with_help("for a single key write `key NAME;`"),
                    );
                }
                return hir::KeyPath::MuSig(keys, expr.span);
            }
        }
        let e = self.check(expr, &key_frame, Some(&Ty::PubKey));
        match e.ty {
            Ty::PubKey => hir::KeyPath::Single(e),
            Ty::Error => hir::KeyPath::None,
            ref other => {
                self.report(
                    Diagnostic::error(
                        "E0052",
                        format!("a key must be a `PubKey` or `musig(...)`, found `{other}`"),
                        expr.span,
                    )
                    .with_label("not a key")
                    .with_help(
                        "write `key NAME;` with a `PubKey` parameter, or `key musig(a, b);`",
                    ),
                );
                hir::KeyPath::None
            }
        }
    }

    fn check_path(&mut self, p: &ast::SpendPath, base: &Frame) -> hir::SpendPath {
        let file = base.file;
        let errors_before = self.error_count();
        let mut weight = 1u32;
        let mut weight_span: Option<Span> = None;
        for attr in &p.attrs {
            if attr.name.name != "weight" {
                let suggestion = suggest(&attr.name.name, ["weight"]);
                self.resolve_error(ResolveError::UnknownAttribute {
                    name: attr.name.name.clone(),
                    span: attr.span,
                    suggestion,
                });
                continue;
            }
            if let Some(first) = weight_span {
                self.report(
                    Diagnostic::error("E0043", "a spend path has at most one `@weight`", attr.span)
                        .with_label("second weight")
                        .with_secondary(first, "first weight"),
                );
                continue;
            }
            weight_span = Some(attr.span);
            let [arg] = attr.args.as_slice() else {
                self.report(
                    Diagnostic::error("E0043", "`@weight` takes one number", attr.span)
                        .with_label(format!("{} arguments given", attr.args.len()))
                        .with_help("write `@weight(N)` with N from 1 to 1000000"),
                );
                continue;
            };
            let frame = Frame {
                file,
                locals: base.locals.clone(),
                in_prove: false,
                in_key: false,
            };
            let e = self.check(arg, &frame, Some(&Ty::Int));
            let e = self.coerce(e, &Ty::Int);
            match self.const_int(&e, "a weight") {
                Some(n) if (1..=MAX_WEIGHT).contains(&n) => weight = n as u32,
                Some(n) => self.report(
                    Diagnostic::error("E0043", format!("weight {n} is out of range"), arg.span)
                        .with_label("must be from 1 to 1000000")
                        .with_note("weights are relative spending frequencies; a weight of 0 would mean the path is never used"),
                ),
                None => {}
            }
        }

        let args = self.check_params(file, &p.params, "spend argument", false);
        let mut locals = base.locals.clone();
        for a in &args {
            if let Some((Local::Param(_) | Local::Confidential, first)) = locals.get(&a.name) {
                self.resolve_error(ResolveError::Duplicate {
                    what: "name",
                    name: a.name.clone(),
                    span: a.span,
                    first: *first,
                });
                continue;
            }
            locals.insert(a.name.clone(), (Local::Arg(a.ty.clone()), a.span));
        }
        let frame = Frame {
            file,
            locals,
            in_prove: false,
            in_key: false,
        };

        let mut requires = Vec::new();
        let mut proves = Vec::new();
        for stmt in &p.body {
            match stmt {
                ast::Stmt::Require {
                    cond,
                    message,
                    span,
                } => {
                    let e = self.check(cond, &frame, Some(&Ty::Cond));
                    let mut e = self.coerce(e, &Ty::Cond);
                    if hir_depth(&e) > MAX_COND_DEPTH {
                        self.report(
                            Diagnostic::error(
                                "E0008",
                                "condition nests too deeply after inlining",
                                cond.span,
                            )
                            .with_label(format!(
                                "more than {MAX_COND_DEPTH} levels once `fn`s are inlined"
                            ))
                            .with_help("flatten it, or use fewer nested `fn` calls"),
                        );
                        e = err(cond.span);
                    }
                    requires.push(hir::Require {
                        cond: e,
                        message: message.as_ref().map(|m| m.0.clone()),
                        span: *span,
                    });
                }
                ast::Stmt::Prove { expr, span } => {
                    let prove_frame = Frame {
                        in_prove: true,
                        ..frame.clone()
                    };
                    let e = self.check(expr, &prove_frame, Some(&Ty::Cond));
                    let e = self.coerce(e, &Ty::Cond);
                    proves.push(hir::Prove {
                        expr: e,
                        span: *span,
                    });
                }
                ast::Stmt::Error(_) => {}
            }
        }
        let has_errors = p.body.iter().any(|s| matches!(s, ast::Stmt::Error(_)));
        if requires.is_empty() && !has_errors {
            self.report(
                Diagnostic::warning(
                    "W0004",
                    format!("spend path `{}` has no `require`", p.name.name),
                    p.name.span,
                )
                .with_label("anyone can spend through this path")
                .with_help("add a condition, e.g. `require sig(owner);`"),
            );
        }
        if !proves.is_empty() && !requires.iter().any(|r| contains_sig(&r.cond)) {
            self.report(
                Diagnostic::error(
                    "E0054",
                    format!(
                        "spend path `{}` proves a statement but requires no signature",
                        p.name.name
                    ),
                    proves[0].span,
                )
                .with_label("nobody who verifies this proof signs the spend")
                .with_note(
                    "Bitcoin Script cannot check a proof; the parties who verify it must co-sign",
                )
                .with_help("add `require sig(verifier);` for the party that checks the proof"),
            );
        }
        let broken = has_errors || self.error_count() > errors_before;
        for a in &args {
            if !broken && !self.used.contains(&a.name) && !a.name.starts_with('_') {
                self.report(
                    Diagnostic::warning(
                        "W0003",
                        format!("spend argument `{}` is never used", a.name),
                        a.span,
                    )
                    .with_label("unused argument")
                    .with_help(format!("remove it, or name it `_{}`", a.name)),
                );
            }
        }
        hir::SpendPath {
            name: p.name.name.clone(),
            docs: p.docs.clone(),
            weight,
            args,
            requires,
            proves,
            span: p.span,
            name_span: p.name.span,
        }
    }

    // ---- expressions ---------------------------------------------------------------------

    /// Converts `expr` to `ty` where a literal allows it, or reports a mismatch.
    fn coerce(&mut self, expr: hir::Expr, ty: &Ty) -> hir::Expr {
        if &expr.ty == ty || expr.ty == Ty::Error || *ty == Ty::Error {
            return expr;
        }
        let mut d = Diagnostic::error(
            "E0030",
            format!("expected `{ty}`, found `{}`", expr.ty),
            expr.span,
        )
        .with_label(format!("expected `{ty}`"));
        if expr.ty == Ty::Int {
            if let H::Value(Value::Int(n)) = expr.kind {
                match ty {
                    Ty::Blocks => d = d.with_help(format!("write the unit: `{n} blocks`")),
                    Ty::Duration => {
                        d = d.with_help(format!("write the unit: `{n} days`, `{n} hours`, ..."))
                    }
                    _ => {}
                }
            }
        }
        self.report(d);
        err(expr.span)
    }

    fn const_int(&mut self, e: &hir::Expr, what: &str) -> Option<u64> {
        match &e.kind {
            H::Value(Value::Int(n)) => Some(*n),
            H::Error => None,
            _ => {
                self.report(not_constant(e.span, what));
                None
            }
        }
    }

    fn check(&mut self, e: &ast::Expr, frame: &Frame, expected: Option<&Ty>) -> hir::Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Int { digits, unit } => {
                self.check_int(digits, unit.as_ref(), span, expected)
            }
            ast::ExprKind::Hex(digits) => self.check_hex(digits, span, expected),
            ast::ExprKind::Str(s) => value(Value::Str(s.clone()), Ty::Str, span),
            ast::ExprKind::Bool(b) => value(Value::Bool(*b), Ty::Cond, span),
            ast::ExprKind::Name(id) => self.check_name(id, frame),
            ast::ExprKind::Call { callee, args } => {
                self.check_call(e, callee, args, frame, expected)
            }
            ast::ExprKind::Index { base, index } => self.check_index(base, index, span, frame),
            ast::ExprKind::Array(items) => {
                let elem_expected = match expected {
                    Some(Ty::Array(elem, _)) => Some(&**elem),
                    _ => None,
                };
                let mut out: Vec<hir::Expr> = Vec::new();
                let mut elem_ty: Option<Ty> = elem_expected.cloned();
                for item in items {
                    let checked = self.check(item, frame, elem_ty.as_ref());
                    let checked = match &elem_ty {
                        Some(t) => self.coerce(checked, t),
                        None => {
                            elem_ty = Some(checked.ty.clone());
                            checked
                        }
                    };
                    out.push(checked);
                }
                let elem = elem_ty.unwrap_or(Ty::Error);
                let n = out.len() as u32;
                if out.iter().all(|x| matches!(x.kind, H::Value(_))) && !out.is_empty() {
                    let values = out.into_iter().map(|x| match x.kind {
                        H::Value(v) => v,
                        _ => Value::Bool(false),
                    });
                    return value(
                        Value::Array(values.collect()),
                        Ty::Array(Box::new(elem), n),
                        span,
                    );
                }
                hir::Expr {
                    kind: H::Array(out),
                    ty: Ty::Array(Box::new(elem), n),
                    span,
                }
            }
            ast::ExprKind::And(items) | ast::ExprKind::Or(items) => {
                let is_and = matches!(e.kind, ast::ExprKind::And(_));
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let checked = self.check(item, frame, Some(&Ty::Cond));
                    out.push(self.coerce(checked, &Ty::Cond));
                }
                let kind = if is_and { H::And(out) } else { H::Or(out) };
                hir::Expr {
                    kind,
                    ty: Ty::Cond,
                    span,
                }
            }
            ast::ExprKind::Binary { op, lhs, rhs } => self.check_binary(*op, lhs, rhs, span, frame),
            ast::ExprKind::Error => err(span),
        }
    }

    fn check_int(
        &mut self,
        digits: &str,
        unit: Option<&ast::Ident>,
        span: Span,
        expected: Option<&Ty>,
    ) -> hir::Expr {
        let Ok(n) = digits.parse::<u64>() else {
            self.report(
                Diagnostic::error("E0036", "integer literal is too large", span)
                    .with_label("does not fit in 64 bits"),
            );
            return err(span);
        };
        let Some(unit) = unit else {
            let ty = match expected {
                Some(t @ (Ty::Height | Ty::Time | Ty::Amount | Ty::Int)) => t.clone(),
                _ => Ty::Int,
            };
            return value(Value::Int(n), ty, span);
        };
        let (ty, factor) = match unit.name.as_str() {
            "block" | "blocks" => (Ty::Blocks, 1),
            "second" | "seconds" => (Ty::Duration, 1),
            "minute" | "minutes" => (Ty::Duration, 60),
            "hour" | "hours" => (Ty::Duration, 3600),
            "day" | "days" => (Ty::Duration, 86_400),
            "week" | "weeks" => (Ty::Duration, 604_800),
            "sat" | "sats" => (Ty::Amount, 1),
            "btc" => (Ty::Amount, 100_000_000),
            other => {
                const UNITS: &[&str] = &[
                    "block", "blocks", "second", "seconds", "minute", "minutes", "hour", "hours",
                    "day", "days", "week", "weeks", "sat", "sats", "btc",
                ];
                let mut d =
                    Diagnostic::error("E0034", format!("unknown unit `{other}`"), unit.span)
                        .with_label("not a unit")
                        .with_note(
                            "units: blocks; seconds, minutes, hours, days, weeks; sats, btc",
                        );
                if let Some(s) = suggest(other, UNITS.iter().copied()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.report(d);
                return err(span);
            }
        };
        match n.checked_mul(factor) {
            Some(v) => value(Value::Int(v), ty, span),
            None => {
                self.report(
                    Diagnostic::error("E0036", "value is too large", span)
                        .with_label("does not fit in 64 bits"),
                );
                err(span)
            }
        }
    }

    fn check_hex(&mut self, digits: &str, span: Span, expected: Option<&Ty>) -> hir::Expr {
        let clean: String = digits.chars().filter(|c| *c != '_').collect();
        if !clean.len().is_multiple_of(2) || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
            self.report(
                Diagnostic::error("E0035", "invalid hex literal", span)
                    .with_label("expected an even number of hex digits after `0x`"),
            );
            return err(span);
        }
        let bytes: Vec<u8> = (0..clean.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&clean[i..i + 2], 16).ok())
            .collect();
        let ty = match expected {
            Some(Ty::PubKey) => {
                if bytes.len() != 32 && !(bytes.len() == 33 && matches!(bytes[0], 2 | 3)) {
                    self.report(
                        Diagnostic::error("E0035", format!("a public key is 32 bytes (x-only) or 33 bytes (compressed), not {}", bytes.len()), span)
                            .with_label("invalid key literal"),
                    );
                    return err(span);
                }
                Ty::PubKey
            }
            Some(t) if t.byte_len().is_some() => {
                let want = t.byte_len().unwrap_or(0);
                if bytes.len() != want {
                    self.report(
                        Diagnostic::error(
                            "E0035",
                            format!("a `{t}` is {want} bytes, this literal has {}", bytes.len()),
                            span,
                        )
                        .with_label(format!("expected {want} bytes")),
                    );
                    return err(span);
                }
                t.clone()
            }
            _ => match bytes.len() {
                32 => Ty::Bytes32,
                20 => Ty::Hash160,
                33 => Ty::PubKey,
                n => {
                    self.report(
                        Diagnostic::error(
                            "E0035",
                            format!("cannot tell what a {n}-byte hex literal is"),
                            span,
                        )
                        .with_label("give it a typed context, e.g. a `const` with a type"),
                    );
                    return err(span);
                }
            },
        };
        value(Value::Bytes(bytes), ty, span)
    }

    fn visible_names(&self, frame: &Frame) -> Vec<String> {
        let mut names: Vec<String> = frame.locals.keys().cloned().collect();
        if let Some(scope) = self.env.scopes.get(&frame.file) {
            names.extend(scope.items.keys().cloned());
        }
        names
    }

    fn check_name(&mut self, id: &ast::Ident, frame: &Frame) -> hir::Expr {
        let span = id.span;
        if let Some((local, _)) = frame.locals.get(&id.name) {
            return match local {
                Local::Param(ty) => {
                    self.used.insert(id.name.clone());
                    let kind = match ty {
                        Ty::Array(_, n) => H::Array(
                            (0..*n)
                                .map(|i| hir::Expr {
                                    kind: H::Param {
                                        name: id.name.clone(),
                                        index: Some(i),
                                    },
                                    ty: match ty {
                                        Ty::Array(elem, _) => (**elem).clone(),
                                        _ => Ty::Error,
                                    },
                                    span,
                                })
                                .collect(),
                        ),
                        _ => H::Param {
                            name: id.name.clone(),
                            index: None,
                        },
                    };
                    hir::Expr {
                        kind,
                        ty: ty.clone(),
                        span,
                    }
                }
                Local::Arg(ty) => {
                    self.used.insert(id.name.clone());
                    hir::Expr {
                        kind: H::Arg(id.name.clone()),
                        ty: ty.clone(),
                        span,
                    }
                }
                Local::Confidential => {
                    if !frame.in_prove {
                        self.report(
                            Diagnostic::error(
                                "E0056",
                                format!("confidential value `{}` used outside `prove`", id.name),
                                span,
                            )
                            .with_label("Bitcoin Script cannot see a confidential value")
                            .with_help(format!(
                                "state the condition as a proof: `prove {} ...;`",
                                id.name
                            )),
                        );
                        return err(span);
                    }
                    hir::Expr {
                        kind: H::Confidential(id.name.clone()),
                        ty: Ty::Commitment,
                        span,
                    }
                }
                Local::Bound(bound) => hir::Expr {
                    span: bound.span,
                    ..bound.clone()
                },
            };
        }
        let scope = self.env.scopes.get(&frame.file).copied();
        match scope.and_then(|s| s.get(&id.name)).copied() {
            Some(item) if item.kind == ItemKind::Const => {
                if self.const_stack.contains(&(item.file, item.index)) {
                    self.resolve_error(ResolveError::Cycle {
                        name: id.name.clone(),
                        span,
                        definition: item.name_span,
                    });
                    return err(span);
                }
                match self.const_value(item.file, item.index) {
                    Some((v, ty)) => value(v, ty, span),
                    None => err(span),
                }
            }
            Some(item) => {
                let what = if item.kind == ItemKind::Fn {
                    "function"
                } else {
                    "contract"
                };
                self.report(
                    Diagnostic::error(
                        "E0030",
                        format!("expected a value, found {what} `{}`", id.name),
                        span,
                    )
                    .with_label(format!("this is a {what}"))
                    .with_secondary(item.name_span, "defined here"),
                );
                err(span)
            }
            None => {
                let names = self.visible_names(frame);
                let suggestion = suggest(&id.name, names.iter().map(String::as_str));
                self.resolve_error(ResolveError::UnknownName {
                    name: id.name.clone(),
                    span,
                    suggestion,
                });
                err(span)
            }
        }
    }

    fn check_index(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        span: Span,
        frame: &Frame,
    ) -> hir::Expr {
        let b = self.check(base, frame, None);
        let i = self.check(index, frame, Some(&Ty::Int));
        let i = self.coerce(i, &Ty::Int);
        if b.ty == Ty::Error {
            return err(span);
        }
        let Ty::Array(elem, n) = &b.ty else {
            self.report(
                Diagnostic::error(
                    "E0039",
                    format!("cannot index into a value of type `{}`", b.ty),
                    base.span,
                )
                .with_label("not an array"),
            );
            return err(span);
        };
        let Some(k) = self.const_int(&i, "an index") else {
            return err(span);
        };
        if k >= u64::from(*n) {
            self.report(
                Diagnostic::error(
                    "E0038",
                    format!("index {k} is out of bounds for an array of {n}"),
                    index.span,
                )
                .with_label(format!("valid indices are 0 to {}", n - 1)),
            );
            return err(span);
        }
        let k = k as usize;
        match b.kind {
            H::Array(mut items) => {
                let mut item = items.swap_remove(k);
                item.span = span;
                item
            }
            H::Value(Value::Array(mut values)) => {
                value(values.swap_remove(k), (**elem).clone(), span)
            }
            _ => err(span),
        }
    }

    fn check_binary(
        &mut self,
        op: BinOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
        frame: &Frame,
    ) -> hir::Expr {
        // Check the side that is not a bare literal first, so the literal gets its type.
        let lhs_is_literal = matches!(
            lhs.kind,
            ast::ExprKind::Int { unit: None, .. } | ast::ExprKind::Hex(_)
        );
        let (l, r) = if lhs_is_literal {
            let r = self.check(rhs, frame, None);
            let l = self.check(lhs, frame, Some(&r.ty));
            (l, r)
        } else {
            let l = self.check(lhs, frame, None);
            let r = self.check(rhs, frame, Some(&l.ty));
            (l, r)
        };
        if l.ty == Ty::Error || r.ty == Ty::Error {
            return err(span);
        }
        let commitment = l.ty == Ty::Commitment || r.ty == Ty::Commitment;
        if op.is_comparison() {
            // Hash locks: `H(preimage) == hash`, either way round.
            if op == BinOp::Eq {
                for (a, b) in [(&l, &r), (&r, &l)] {
                    if let H::Hash { func, preimage } = &a.kind {
                        if b.ty != func.output() {
                            self.report(compare_mismatch(&a.ty, &b.ty, a.span, b.span, span));
                            return err(span);
                        }
                        if matches!(b.kind, H::Hash { .. }) {
                            break;
                        }
                        return hir::Expr {
                            kind: H::HashEq {
                                func: *func,
                                preimage: preimage.clone(),
                                hash: Box::new(b.clone()),
                            },
                            ty: Ty::Cond,
                            span,
                        };
                    }
                }
            }
            if l.ty != r.ty && !(commitment && (l.ty.is_numeric() || r.ty.is_numeric())) {
                self.report(compare_mismatch(&l.ty, &r.ty, l.span, r.span, span));
                return err(span);
            }
            if commitment {
                if !frame.in_prove {
                    self.report(
                        Diagnostic::error(
                            "E0056",
                            "comparison of confidential values outside `prove`",
                            span,
                        )
                        .with_label("Bitcoin Script cannot evaluate this")
                        .with_help("write it as `prove ...;`"),
                    );
                    return err(span);
                }
                return hir::Expr {
                    kind: H::Binary {
                        op,
                        lhs: Box::new(l),
                        rhs: Box::new(r),
                    },
                    ty: Ty::Cond,
                    span,
                };
            }
            self.report(
                Diagnostic::error("E0039", format!("`{}` is not a spending condition on `{}` values", op.as_str(), l.ty), span)
                    .with_label("Script cannot compare these")
                    .with_note("conditions compare a hash of a spend argument with a hash (`sha256(x) == h`), or confidential values inside `prove`"),
            );
            return err(span);
        }
        // Arithmetic.
        if commitment {
            if !frame.in_prove {
                self.report(
                    Diagnostic::error(
                        "E0056",
                        "arithmetic on confidential values outside `prove`",
                        span,
                    )
                    .with_label("only a proof can use this"),
                );
                return err(span);
            }
            let ok = |t: &Ty| *t == Ty::Commitment || matches!(t, Ty::Int | Ty::Amount);
            if !ok(&l.ty)
                || !ok(&r.ty)
                || (op == BinOp::Mul && l.ty == Ty::Commitment && r.ty == Ty::Commitment)
            {
                self.report(
                    Diagnostic::error(
                        "E0039",
                        format!(
                            "cannot apply `{}` to `{}` and `{}`",
                            op.as_str(),
                            l.ty,
                            r.ty
                        ),
                        span,
                    )
                    .with_label("unsupported in a proof")
                    .with_note(
                        "proofs add commitments and numbers, and multiply a commitment by a number",
                    ),
                );
                return err(span);
            }
            return hir::Expr {
                kind: H::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                ty: Ty::Commitment,
                span,
            };
        }
        let Some(result_ty) = arithmetic_type(op, &l.ty, &r.ty) else {
            self.report(
                Diagnostic::error(
                    "E0039",
                    format!(
                        "cannot apply `{}` to `{}` and `{}`",
                        op.as_str(),
                        l.ty,
                        r.ty
                    ),
                    span,
                )
                .with_label("unsupported operand types"),
            );
            return err(span);
        };
        let (H::Value(Value::Int(a)), H::Value(Value::Int(b))) = (&l.kind, &r.kind) else {
            self.report(not_constant(span, "arithmetic"));
            return err(span);
        };
        let folded = match op {
            BinOp::Add => a.checked_add(*b),
            BinOp::Sub => a.checked_sub(*b),
            BinOp::Mul => a.checked_mul(*b),
            _ => None,
        };
        match folded {
            Some(v) => value(Value::Int(v), result_ty, span),
            None => {
                self.report(
                    Diagnostic::error("E0036", "constant arithmetic overflows", span)
                        .with_label("the result is below 0 or does not fit in 64 bits"),
                );
                err(span)
            }
        }
    }

    fn check_call(
        &mut self,
        call: &ast::Expr,
        callee: &ast::Ident,
        args: &[ast::Expr],
        frame: &Frame,
        expected: Option<&Ty>,
    ) -> hir::Expr {
        let span = call.span;
        let name = callee.name.as_str();
        let one_arg = |this: &mut Self| -> Option<&ast::Expr> {
            if args.len() == 1 {
                Some(&args[0])
            } else {
                this.report(arity(name, 1, args.len(), span));
                None
            }
        };
        match builtins::lookup(name).map(|b| b.kind) {
            Some(BuiltinKind::Sig) => {
                let Some(a) = one_arg(self) else {
                    return err(span);
                };
                let k = self.check(a, frame, Some(&Ty::PubKey));
                let k = self.coerce(k, &Ty::PubKey);
                if k.ty == Ty::Error {
                    return err(span);
                }
                hir::Expr {
                    kind: H::Sig(Box::new(k)),
                    ty: Ty::Cond,
                    span,
                }
            }
            Some(BuiltinKind::Older) => {
                let Some(a) = one_arg(self) else {
                    return err(span);
                };
                let d = self.check(a, frame, None);
                match d.ty {
                    Ty::Blocks | Ty::Duration => {
                        if let H::Value(v) = &d.kind {
                            self.check_value_range(v, &d.ty, d.span);
                        }
                        hir::Expr {
                            kind: H::Older(Box::new(d)),
                            ty: Ty::Cond,
                            span,
                        }
                    }
                    Ty::Error => err(span),
                    ref other => {
                        let mut diag = Diagnostic::error(
                            "E0030",
                            format!("`older` takes `Blocks` or `Duration`, found `{other}`"),
                            d.span,
                        )
                        .with_label("expected `Blocks` or `Duration`");
                        if let H::Value(Value::Int(n)) = d.kind {
                            diag = diag.with_help(format!(
                                "write the unit: `older({n} blocks)` or `older({n} days)`"
                            ));
                        }
                        self.report(diag);
                        err(span)
                    }
                }
            }
            Some(BuiltinKind::After) => {
                let Some(a) = one_arg(self) else {
                    return err(span);
                };
                let mut t = self.check(a, frame, None);
                if let (Ty::Int, H::Value(Value::Int(n))) = (&t.ty, &t.kind) {
                    // BIP65: an untyped number is a height below 500,000,000, a time at or above it.
                    t.ty = if *n < LOCKTIME_THRESHOLD {
                        Ty::Height
                    } else {
                        Ty::Time
                    };
                }
                match t.ty {
                    Ty::Height | Ty::Time => {
                        if let H::Value(v) = &t.kind {
                            self.check_value_range(v, &t.ty, t.span);
                        }
                        hir::Expr {
                            kind: H::After(Box::new(t)),
                            ty: Ty::Cond,
                            span,
                        }
                    }
                    Ty::Error => err(span),
                    ref other => {
                        self.report(
                            Diagnostic::error(
                                "E0030",
                                format!("`after` takes `Height` or `Time`, found `{other}`"),
                                t.span,
                            )
                            .with_label("expected `Height` or `Time`")
                            .with_note("relative delays (`Blocks`, `Duration`) go in `older(...)`"),
                        );
                        err(span)
                    }
                }
            }
            Some(BuiltinKind::Threshold) => self.check_threshold(args, span, frame),
            Some(BuiltinKind::MuSig) => {
                if !frame.in_key {
                    self.report(
                        Diagnostic::error("E0053", "`musig(...)` can only be used in a `key` declaration", span)
                            .with_label("MuSig2 aggregates are for the key path")
                            .with_help("in a spend path, require each signature: `sig(a) && sig(b)`, or `threshold(k, keys)`"),
                    );
                    return err(span);
                }
                self.report(
                    Diagnostic::error(
                        "E0052",
                        "`musig(...)` must be the whole key expression",
                        span,
                    )
                    .with_label("write `key musig(a, b);`"),
                );
                err(span)
            }
            Some(BuiltinKind::Hash(func)) => {
                let Some(a) = one_arg(self) else {
                    return err(span);
                };
                let x = self.check(a, frame, Some(&Ty::Bytes32));
                match &x.kind {
                    H::Arg(_) => {}
                    H::Error => return err(span),
                    _ => {
                        self.report(
                            Diagnostic::error("E0033", format!("`{name}` must hash a spend argument"), a.span)
                                .with_label("this is not provided by the spender")
                                .with_note("a hash lock checks a preimage the spender reveals in the witness; declare it as an argument of the spend path")
                                .with_help(format!("e.g. `spend claim(preimage: Bytes32) {{ require {name}(preimage) == hash; }}`")),
                        );
                        return err(span);
                    }
                }
                let x = self.coerce(x, &Ty::Bytes32);
                if x.ty == Ty::Error {
                    return err(span);
                }
                hir::Expr {
                    kind: H::Hash {
                        func,
                        preimage: Box::new(x),
                    },
                    ty: func.output(),
                    span,
                }
            }
            None => {
                let scope = self.env.scopes.get(&frame.file).copied();
                match scope.and_then(|s| s.get(name)).copied() {
                    Some(item) if item.kind == ItemKind::Fn => {
                        let _ = expected;
                        self.inline_call(item.file, item.index, call, args, frame)
                    }
                    Some(item) => {
                        self.report(
                            Diagnostic::error(
                                "E0026",
                                format!("`{name}` is not a function"),
                                callee.span,
                            )
                            .with_label("called here")
                            .with_secondary(item.name_span, "defined here"),
                        );
                        err(span)
                    }
                    None if frame.locals.contains_key(name) => {
                        let defined = frame.locals[name].1;
                        self.report(
                            Diagnostic::error(
                                "E0026",
                                format!("`{name}` is not a function"),
                                callee.span,
                            )
                            .with_label("called here")
                            .with_secondary(defined, "defined here"),
                        );
                        for a in args {
                            self.check(a, frame, None);
                        }
                        err(span)
                    }
                    None => {
                        let mut candidates: Vec<&str> = builtins::NAMES.to_vec();
                        if let Some(scope) = scope {
                            candidates.extend(
                                scope
                                    .items
                                    .iter()
                                    .filter(|(_, i)| i.kind == ItemKind::Fn)
                                    .map(|(n, _)| n.as_str()),
                            );
                        }
                        let suggestion = suggest(name, candidates);
                        self.resolve_error(ResolveError::UnknownFunction {
                            name: name.to_string(),
                            span: callee.span,
                            suggestion,
                        });
                        for a in args {
                            self.check(a, frame, None);
                        }
                        err(span)
                    }
                }
            }
        }
    }

    fn check_threshold(&mut self, args: &[ast::Expr], span: Span, frame: &Frame) -> hir::Expr {
        if args.len() < 2 {
            self.report(arity("threshold", 2, args.len(), span));
            return err(span);
        }
        let k_expr = self.check(&args[0], frame, Some(&Ty::Int));
        let k_expr = self.coerce(k_expr, &Ty::Int);
        let k = self.const_int(&k_expr, "a threshold");
        let mut items: Vec<hir::Expr> = Vec::new();
        let mut ok = true;
        let rest = &args[1..];
        let mut push_item = |this: &mut Self, e: hir::Expr, items: &mut Vec<hir::Expr>| match e.ty {
            Ty::PubKey => {
                let span = e.span;
                items.push(hir::Expr {
                    kind: H::Sig(Box::new(e)),
                    ty: Ty::Cond,
                    span,
                });
            }
            Ty::Cond => items.push(e),
            Ty::Error => ok = false,
            ref other => {
                this.report(
                    Diagnostic::error(
                        "E0030",
                        format!("`threshold` counts keys or conditions, found `{other}`"),
                        e.span,
                    )
                    .with_label("expected `PubKey` or `Cond`"),
                );
                ok = false;
            }
        };
        if rest.len() == 1 {
            let e = self.check(&rest[0], frame, None);
            match (e.kind, e.ty) {
                (H::Array(elems), Ty::Array(..)) => {
                    for x in elems {
                        push_item(self, x, &mut items);
                    }
                }
                (H::Value(Value::Array(values)), Ty::Array(elem, _)) => {
                    for v in values {
                        push_item(self, value(v, (*elem).clone(), e.span), &mut items);
                    }
                }
                (kind, ty) => {
                    if ty != Ty::Error {
                        self.report(
                            Diagnostic::error("E0030", format!("`threshold(k, ...)` needs several keys or conditions, found one `{ty}`"), rest[0].span)
                                .with_label("expected an array or a list")
                                .with_help("write `threshold(k, keys)` with an array, or `threshold(k, a, b, c)`"),
                        );
                    }
                    let _ = kind;
                    ok = false;
                }
            }
        } else {
            for a in rest {
                let e = self.check(a, frame, None);
                push_item(self, e, &mut items);
            }
        }
        let (Some(k), true) = (k, ok) else {
            return err(span);
        };
        let n = items.len() as u64;
        if k == 0 || k > n {
            self.report(
                Diagnostic::error(
                    "E0042",
                    format!("threshold {k} is out of range for {n} items"),
                    args[0].span,
                )
                .with_label(format!("must be from 1 to {n}"))
                .with_secondary(args[1].span, format!("{n} items here")),
            );
            return err(span);
        }
        hir::Expr {
            kind: H::Threshold { k: k as u32, items },
            ty: Ty::Cond,
            span,
        }
    }

    /// Range checks on constant timelock values (BIP65/68/112) and rounding warnings.
    fn check_value_range(&mut self, v: &Value, ty: &Ty, span: Span) {
        let Value::Int(n) = v else {
            if let (Value::Array(items), Ty::Array(elem, _)) = (v, ty) {
                for item in items {
                    self.check_value_range(item, elem, span);
                }
            }
            return;
        };
        let n = *n;
        match ty {
            Ty::Blocks if !(1..=65_535).contains(&n) => {
                self.report(
                    Diagnostic::error(
                        "E0040",
                        format!("a relative timelock of {n} blocks is out of range"),
                        span,
                    )
                    .with_label("must be from 1 to 65535 blocks")
                    .with_note("BIP68 encodes relative block counts in 16 bits"),
                );
            }
            Ty::Duration => {
                let units = n.div_ceil(SEQUENCE_UNIT_SECONDS);
                if !(1..=65_535).contains(&units) {
                    self.report(
                        Diagnostic::error(
                            "E0040",
                            format!("a relative timelock of {n} seconds is out of range"),
                            span,
                        )
                        .with_label(
                            "must be from 512 seconds to 65535 × 512 seconds (about 388 days)",
                        )
                        .with_note("BIP68 counts relative time in 16 bits of 512-second units"),
                    );
                } else if n % SEQUENCE_UNIT_SECONDS != 0 {
                    self.report(
                        Diagnostic::warning("W0001", format!("{n} seconds is not a multiple of 512; it is rounded up to {} seconds", units * SEQUENCE_UNIT_SECONDS), span)
                            .with_label(format!("becomes {units} units of 512 seconds"))
                            .with_note("BIP68 measures relative time in units of 512 seconds"),
                    );
                }
            }
            Ty::Height if !(1..LOCKTIME_THRESHOLD).contains(&n) => {
                self.report(
                    Diagnostic::error("E0041", format!("height {n} is out of range"), span)
                        .with_label("heights are from 1 to 499999999")
                        .with_note(
                            "BIP65: lock times of 500000000 and above are unix times, not heights",
                        ),
                );
            }
            Ty::Time if !(LOCKTIME_THRESHOLD..=MAX_ABSOLUTE_LOCK).contains(&n) => {
                self.report(
                    Diagnostic::error("E0041", format!("time {n} is out of range"), span)
                        .with_label("times are unix timestamps from 500000000 to 2147483647")
                        .with_note("BIP65: lock times below 500000000 are block heights"),
                );
            }
            _ => {}
        }
    }
}

/// The depth of a typed expression, computed without recursion.
fn hir_depth(e: &hir::Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        let children: Vec<&hir::Expr> = match &e.kind {
            H::Sig(x) | H::Older(x) | H::After(x) => vec![x],
            H::Hash { preimage, .. } => vec![preimage],
            H::HashEq { preimage, hash, .. } => vec![preimage, hash],
            H::Threshold { items, .. } | H::And(items) | H::Or(items) | H::Array(items) => {
                items.iter().collect()
            }
            H::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            H::Value(_) | H::Param { .. } | H::Arg(_) | H::Confidential(_) | H::Error => Vec::new(),
        };
        stack.extend(children.into_iter().map(|c| (c, d + 1)));
    }
    max
}

/// Whether a condition requires a signature somewhere (the rule behind E0054, also used by the
/// language server's "add `require sig`" action).
pub fn contains_sig(e: &hir::Expr) -> bool {
    match &e.kind {
        H::Sig(_) => true,
        H::And(items) | H::Or(items) | H::Threshold { items, .. } => items.iter().any(contains_sig),
        _ => false,
    }
}

fn arithmetic_type(op: BinOp, l: &Ty, r: &Ty) -> Option<Ty> {
    use Ty::*;
    match (op, l, r) {
        (BinOp::Add | BinOp::Sub, a, b)
            if a == b && matches!(a, Int | Blocks | Duration | Amount) =>
        {
            Some(a.clone())
        }
        (BinOp::Add, Height, Blocks) | (BinOp::Add, Blocks, Height) => Some(Height),
        (BinOp::Add, Time, Duration) | (BinOp::Add, Duration, Time) => Some(Time),
        (BinOp::Mul, Int, x) | (BinOp::Mul, x, Int)
            if matches!(x, Int | Blocks | Duration | Amount) =>
        {
            Some(x.clone())
        }
        _ => None,
    }
}

fn arity(name: &str, expected: usize, found: usize, span: Span) -> Diagnostic {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    Diagnostic::error(
        "E0032",
        format!(
            "`{name}` takes {expected} {}, {found} given",
            plural(expected)
        ),
        span,
    )
    .with_label(format!("expected {expected} {}", plural(expected)))
}

fn not_constant(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error("E0037", format!("{what} must be known at compile time"), span)
        .with_label("depends on a parameter or argument")
        .with_note("weights, thresholds, array lengths, indices, defaults and constants are fixed when the contract is compiled")
}

fn compare_mismatch(l: &Ty, r: &Ty, lspan: Span, rspan: Span, span: Span) -> Diagnostic {
    let mut d = Diagnostic::error("E0031", format!("cannot compare `{l}` with `{r}`"), span)
        .with_label("values of different types")
        .with_secondary(lspan, format!("this is `{l}`"))
        .with_secondary(rspan, format!("this is `{r}`"));
    if (l.is_hash() && *r == Ty::PubKey) || (*l == Ty::PubKey && r.is_hash()) {
        d = d.with_help("to require a key's signature write `sig(key)`; to check a preimage compare its hash with a hash parameter");
    }
    d
}
