//! Editor features over the compiler's queries, in the compiler's own terms (byte spans).
//!
//! In: a [`Database`] and a file in it, a byte offset. Out: plain Rust values (spans,
//! Markdown strings, edits) that [`crate::server`] converts to LSP types; nothing here knows
//! LSP. Every function is total: on broken code it returns what it can, never panics on user
//! input.
//!
//! Nothing here resolves names or compiles: definitions and uses come from the compiler's
//! [`db::names`] query, types and diagnostics from [`db::check`] and [`db::all_diagnostics`],
//! Taproot facts from [`db::taproot_item`] (the compilation `build` uses too). What is left
//! is presentation: finding what is under the cursor, and wording hovers, completions and
//! edits.

use std::collections::BTreeMap;

use biscol_compiler::builtins;
use biscol_compiler::db::{self, SourceFile};
use biscol_compiler::diagnostic::codes;
use biscol_compiler::hir;
use biscol_compiler::ir;
use biscol_compiler::resolve::ItemKind;
use biscol_compiler::syntax::ast;
use biscol_compiler::syntax::token::RawToken;
use biscol_compiler::typeck;
use biscol_compiler::types::Ty;
use biscol_compiler::{Database, Diagnostic, FileId, Span};
use logos::Logos;

pub use biscol_compiler::names::{Def, DefKind, ItemNames};

/// The text of `span` in `text`, or `""` when out of range.
fn slice(text: &str, span: Span) -> &str {
    text.get(span.start as usize..span.end as usize)
        .unwrap_or("")
}

/// Whitespace runs collapsed to one space (for one-line labels).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The definitions and name uses of a file: the compiler's [`db::names`] query.
pub fn index(db: &Database, file: SourceFile) -> &ItemNames {
    db::names(db, file)
}

/// The definition whose name starts at `name_span`, in whichever file it is.
pub fn def_at(db: &Database, name_span: Span) -> Option<Def> {
    let file = db.file_by_id(name_span.file)?;
    index(db, file)
        .defs
        .iter()
        .find(|d| d.name_span == name_span)
        .cloned()
}

/// What is under the cursor: a use of a name (with its definition's name span) or a
/// definition.
pub fn target_at(db: &Database, file: SourceFile, offset: usize) -> Option<(Span, Span)> {
    let idx = index(db, file);
    let offset = offset as u32;
    let hit = |s: &Span| s.start <= offset && offset <= s.end;
    if let Some((use_span, def)) = idx.refs.iter().find(|(u, _)| hit(u)) {
        return Some((*use_span, *def));
    }
    idx.defs
        .iter()
        .find(|d| hit(&d.name_span))
        .map(|d| (d.name_span, d.name_span))
}

/// The definition of the name at `offset`: its name span.
pub fn definition(db: &Database, file: SourceFile, offset: usize) -> Option<Span> {
    target_at(db, file, offset).map(|(_, def)| def)
}

/// Every use of the name at `offset`, across the workspace's files, with the definition
/// first when `include_declaration`.
pub fn references(
    db: &Database,
    file: SourceFile,
    offset: usize,
    include_declaration: bool,
) -> Vec<Span> {
    let Some((_, def)) = target_at(db, file, offset) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if include_declaration {
        out.push(def);
    }
    for f in db.workspace_files() {
        let mut uses: Vec<Span> = index(db, f)
            .refs
            .iter()
            .filter(|(_, d)| *d == def)
            .map(|(u, _)| *u)
            .collect();
        uses.sort();
        out.extend(uses);
    }
    out
}

/// Whether `name` may be used as a new name.
pub fn is_valid_name(name: &str) -> bool {
    let mut lexer = RawToken::lexer(name);
    matches!(lexer.next(), Some(Ok(RawToken::Ident)))
        && lexer.span() == (0..name.len())
        && lexer.next().is_none()
        && !builtins::is_builtin(name)
}

/// The edits that rename the name at `offset` to `new_name`: spans to replace, or an error
/// message.
pub fn rename(
    db: &Database,
    file: SourceFile,
    offset: usize,
    new_name: &str,
) -> Result<Vec<Span>, String> {
    if !is_valid_name(new_name) {
        return Err(format!("`{new_name}` is not a valid name"));
    }
    let Some((_, def)) = target_at(db, file, offset) else {
        return Err("no name to rename here".to_string());
    };
    if db.file_by_id(def.file).is_some_and(|f| is_stdlib(db, f)) {
        return Err("names of the standard library cannot be renamed".to_string());
    }
    Ok(references(db, file, offset, true))
}

fn is_stdlib(db: &Database, file: SourceFile) -> bool {
    file.path(db).starts_with("<stdlib>/")
}

/// The types, with a word on each.
pub const TYPES: &[(&str, &str)] = &[
    (
        "PubKey",
        "a public key: 32 bytes x-only, or 33 bytes compressed",
    ),
    ("Sha256", "a SHA-256 hash, 32 bytes"),
    ("Hash256", "a double SHA-256 hash, 32 bytes"),
    ("Ripemd160", "a RIPEMD-160 hash, 20 bytes"),
    ("Hash160", "RIPEMD-160 of SHA-256, 20 bytes"),
    ("Bytes32", "32 bytes: the type of hash preimages"),
    ("Blocks", "a relative lock in blocks: `144 blocks`"),
    (
        "Duration",
        "a relative lock in time: `7 days`, counted in 512-second units",
    ),
    ("Height", "an absolute block height, below 500000000"),
    ("Time", "an absolute Unix time, from 500000000"),
    ("Int", "a 64-bit integer"),
    ("Amount", "an amount in satoshis: `1000 sats`, `1 btc`"),
    ("Bool", "a condition (the same type as `Cond`)"),
    ("Cond", "a spending condition"),
    (
        "Commitment",
        "`Commitment<u64>`: a committed value, for `confidential` only",
    ),
];

/// The keywords.
pub const KEYWORDS: &[&str] = &[
    "confidential",
    "const",
    "contract",
    "false",
    "fn",
    "key",
    "prove",
    "require",
    "spend",
    "true",
    "use",
];

/// What the Taproot back end says about a spend path: its leaves' Miniscript, their depth in
/// the script tree, and the worst-case witness. Empty when the file does not compile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathCost {
    /// The Miniscript of the path's leaves (a split path has several), `|` between them.
    pub miniscript: Option<String>,
    /// The depth of its deepest leaf in the script tree.
    pub leaf_depth: Option<u32>,
    /// Worst-case witness size in vbytes (control block and script included).
    pub witness_vbytes: Option<u64>,
}

/// The Taproot facts of every spend path of the file's contracts, by (contract, path) name,
/// from the compiler's per-contract Taproot query ([`db::taproot_item`], shared with `build`).
pub fn taproot_costs(db: &Database, file: SourceFile) -> BTreeMap<(String, String), PathCost> {
    let mut out = BTreeMap::new();
    for index in db::contract_items(db, file) {
        let Some(output) = db::taproot_item(db, file, index) else {
            continue;
        };
        let Some(compiled) = output.compiled else {
            continue;
        };
        for path in &compiled.paths {
            let leaves: Vec<_> = path
                .leaves
                .iter()
                .filter_map(|i| compiled.leaves.get(*i))
                .collect();
            let cost = PathCost {
                miniscript: (!leaves.is_empty()).then(|| {
                    leaves
                        .iter()
                        .map(|l| {
                            biscol_taproot::compile::template_text(&l.template, &compiled.timelocks)
                        })
                        .collect::<Vec<_>>()
                        .join(" | ")
                }),
                leaf_depth: leaves.iter().map(|l| u32::from(l.depth)).max(),
                witness_vbytes: Some(path.worst.vbytes),
            };
            out.insert((compiled.name.clone(), path.name.clone()), cost);
        }
    }
    out
}

/// The Taproot facts of path `path` of contract `contract`.
pub fn path_cost(db: &Database, file: SourceFile, contract: &str, path: &str) -> PathCost {
    taproot_costs(db, file)
        .remove(&(contract.to_string(), path.to_string()))
        .unwrap_or_default()
}

fn markdown_docs(out: &mut String, docs: &[String]) {
    if !docs.is_empty() {
        out.push_str("\n\n");
        out.push_str(&docs.join("\n"));
    }
}

/// Hover text (Markdown) at `offset` and the span it is about.
pub fn hover(db: &Database, file: SourceFile, offset: usize) -> Option<(String, Span)> {
    let mut result = hover_name(db, file, offset);
    // Diagnostics under the cursor: their code's explanation.
    let off = offset as u32;
    let mut explained = Vec::new();
    for d in db::diagnostics(db, file) {
        let s = d.primary.span;
        if s.file == file.id(db) && s.start <= off && off <= s.end && !explained.contains(&d.code) {
            explained.push(d.code);
            let text = code_hover(d.code);
            match &mut result {
                Some((md, _)) => {
                    md.push_str("\n\n---\n\n");
                    md.push_str(&text);
                }
                None => result = Some((text, s)),
            }
        }
    }
    result
}

/// The Markdown for an error code: its title and its explanation.
pub fn code_hover(code: &str) -> String {
    let title = codes::lookup(code).map_or("", |c| c.title);
    match codes::explain(code) {
        Some(text) => text.to_string(),
        None => format!("**{code}**: {title}"),
    }
}

fn hover_name(db: &Database, file: SourceFile, offset: usize) -> Option<(String, Span)> {
    let text = file.text(db);
    let (span, def) = match target_at(db, file, offset) {
        Some(t) => t,
        None => {
            // A built-in, a type name, or an error code written in a comment.
            let (word, span) = word_at(text, offset, file.id(db))?;
            if let Some(b) = builtins::lookup(&word) {
                let (sig, doc) = (b.signature(), b.doc);
                return Some((format!("```biscol\n{sig}\n```\n\nbuilt-in: {doc}"), span));
            }
            if let Some((_, doc)) = TYPES.iter().find(|(n, _)| *n == word) {
                return Some((format!("```biscol\n{word}\n```\n\ntype: {doc}"), span));
            }
            if codes::lookup(&word).is_some() {
                return Some((code_hover(&word), span));
            }
            return None;
        }
    };
    let def = def_at(db, def)?;
    let mut md = format!(
        "```biscol\n{}\n```\n\n{}",
        def.signature,
        def.kind.describe()
    );
    if let Some(c) = &def.container {
        md.push_str(&format!(" of `{c}`"));
    }
    markdown_docs(&mut md, &def.docs);
    if def.kind == DefKind::SpendPath {
        if let Some(c) = &def.container {
            md.push_str(&path_details(db, file, c, &def.name));
        }
    }
    Some((md, span))
}

/// The compiled form of a spend path, for hover: weight, IR conditions, Taproot facts.
fn path_details(db: &Database, file: SourceFile, contract: &str, path: &str) -> String {
    let mut md = String::new();
    let module = db::lower(db, file);
    let found = module.as_ref().and_then(|m| {
        m.contracts
            .iter()
            .find(|c| c.name == contract)
            .and_then(|c| c.paths.iter().find(|p| p.name == path))
    });
    match found {
        Some(p) => {
            md.push_str(&format!("\n\n**weight** {}\n\n```text\n", p.weight));
            for r in &p.requires {
                md.push_str("require ");
                ir::printer::cond(&mut md, &r.cond, ir::printer::Style::default());
                md.push('\n');
            }
            md.push_str("```");
        }
        None => md.push_str("\n\n*Not compiled: the file has errors.*"),
    }
    let cost = path_cost(db, file, contract, path);
    let mut facts = Vec::new();
    if let Some(ms) = cost.miniscript {
        facts.push(format!("Miniscript: `{ms}`"));
    }
    if let Some(d) = cost.leaf_depth {
        facts.push(format!("leaf depth: {d}"));
    }
    if let Some(v) = cost.witness_vbytes {
        facts.push(format!("worst-case witness: {v} vbytes"));
    }
    if !facts.is_empty() {
        md.push_str("\n\n");
        md.push_str(&facts.join("  \n"));
    }
    md
}

/// The identifier-like word around `offset`, with its span.
pub fn word_at(text: &str, offset: usize, file: FileId) -> Option<(String, Span)> {
    let bytes = text.as_bytes();
    let offset = offset.min(text.len());
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut start = offset;
    while start > 0 && is_word(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = offset;
    while end < bytes.len() && is_word(bytes[end]) {
        end += 1;
    }
    (start < end).then(|| (text[start..end].to_string(), Span::new(file, start, end)))
}

/// A completion candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The name inserted.
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// Its signature or type.
    pub detail: String,
    /// Its documentation.
    pub docs: String,
}

/// Kinds of completion candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// A keyword.
    Keyword,
    /// A built-in function.
    Builtin,
    /// A type name.
    Type,
    /// A user definition.
    Def(DefKind),
}

/// Completion candidates at `offset`: after `:` or `->` the types, otherwise keywords,
/// built-ins, and the names in scope there.
pub fn completion(db: &Database, file: SourceFile, offset: usize) -> Vec<Completion> {
    let text = file.text(db);
    let offset = offset.min(text.len());
    let before = text[..offset]
        .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
        .trim_end();
    let mut out = Vec::new();
    if before.ends_with(':') && !before.ends_with("::") || before.ends_with("->") {
        for (name, doc) in TYPES {
            out.push(Completion {
                label: (*name).to_string(),
                kind: CompletionKind::Type,
                detail: "type".to_string(),
                docs: (*doc).to_string(),
            });
        }
        return out;
    }
    for kw in KEYWORDS {
        out.push(Completion {
            label: (*kw).to_string(),
            kind: CompletionKind::Keyword,
            detail: "keyword".to_string(),
            docs: String::new(),
        });
    }
    for b in builtins::BUILTINS {
        out.push(Completion {
            label: b.name.to_string(),
            kind: CompletionKind::Builtin,
            detail: b.signature(),
            docs: b.doc.to_string(),
        });
    }
    let mut seen: Vec<String> = Vec::new();
    let off = offset as u32;
    let idx = index(db, file);
    // Locals whose container encloses the cursor.
    let enclosing: Vec<&Def> = idx
        .defs
        .iter()
        .filter(|d| {
            matches!(d.kind, DefKind::Contract | DefKind::Fn | DefKind::SpendPath)
                && d.span.start <= off
                && off <= d.span.end
        })
        .collect();
    for d in &idx.defs {
        let local = matches!(
            d.kind,
            DefKind::ContractParam | DefKind::SpendArg | DefKind::FnParam | DefKind::Confidential
        );
        if local
            && enclosing
                .iter()
                .any(|e| Some(&e.name) == d.container.as_ref() && e.span.start <= d.span.start)
            && !seen.contains(&d.name)
        {
            seen.push(d.name.clone());
            out.push(def_completion(d));
        }
    }
    for (name, item) in &db::scope(db, file).scope.items {
        if seen.contains(name) {
            continue;
        }
        seen.push(name.clone());
        match def_at(db, item.name_span) {
            Some(d) => out.push(def_completion(&d)),
            None => out.push(Completion {
                label: name.clone(),
                kind: CompletionKind::Def(match item.kind {
                    ItemKind::Const => DefKind::Const,
                    ItemKind::Fn => DefKind::Fn,
                    ItemKind::Contract => DefKind::Contract,
                }),
                detail: String::new(),
                docs: String::new(),
            }),
        }
    }
    out
}

fn def_completion(d: &Def) -> Completion {
    Completion {
        label: d.name.clone(),
        kind: CompletionKind::Def(d.kind),
        detail: d.signature.clone(),
        docs: d.docs.join("\n"),
    }
}

/// Signature help: the signature of the call around `offset`, its parameter labels and the
/// index of the argument under the cursor.
pub fn signature_help(
    db: &Database,
    file: SourceFile,
    offset: usize,
) -> Option<(String, Vec<String>, usize, String)> {
    let text = file.text(db);
    let offset = offset.min(text.len());
    // Scan tokens up to the cursor; keep a stack of open parentheses with the name before each
    // and the number of commas seen at its level.
    let mut stack: Vec<(Option<String>, usize)> = Vec::new();
    let mut prev_ident: Option<String> = None;
    let mut lexer = RawToken::lexer(&text[..offset]);
    while let Some(tok) = lexer.next() {
        match tok {
            Ok(RawToken::LParen) => stack.push((prev_ident.take(), 0)),
            Ok(RawToken::LBracket) => stack.push((None, 0)),
            Ok(RawToken::RParen | RawToken::RBracket) => {
                stack.pop();
            }
            Ok(RawToken::Comma) => {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
            }
            Ok(RawToken::LBrace | RawToken::RBrace | RawToken::Semi) => stack.clear(),
            _ => {}
        }
        prev_ident = match tok {
            Ok(RawToken::Ident) => Some(lexer.slice().to_string()),
            _ => None,
        };
    }
    let (name, active) = stack.pop().and_then(|(n, a)| n.map(|n| (n, a)))?;
    if let Some(b) = builtins::lookup(&name) {
        let params = b.params.iter().map(|p| (*p).to_string()).collect();
        return Some((b.signature(), params, active, b.doc.to_string()));
    }
    let item = db::scope(db, file).scope.get(&name).copied()?;
    let d = def_at(db, item.name_span)?;
    let file_of = db.file_by_id(item.name_span.file)?;
    let ast = &db::parse(db, file_of).ast;
    let params = match ast.items.get(item.index)? {
        ast::Item::Fn(f) => f
            .params
            .iter()
            .map(|p| biscol_compiler::names::param_text(file_of.text(db), 0, p))
            .collect(),
        ast::Item::Contract(c) => c
            .params
            .iter()
            .map(|p| biscol_compiler::names::param_text(file_of.text(db), 0, p))
            .collect(),
        _ => return None,
    };
    Some((d.signature, params, active, d.docs.join("\n")))
}

/// A symbol of the document outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: DefKind,
    /// Its signature.
    pub detail: String,
    /// The whole definition.
    pub span: Span,
    /// Its name.
    pub name_span: Span,
    /// Nested symbols (parameters and paths of a contract).
    pub children: Vec<Symbol>,
}

/// The outline of a file: items, with contracts' parameters, values and paths inside.
pub fn document_symbols(db: &Database, file: SourceFile) -> Vec<Symbol> {
    let idx = index(db, file);
    let sym = |d: &Def| Symbol {
        name: d.name.clone(),
        kind: d.kind,
        detail: d.signature.clone(),
        span: d.span,
        name_span: d.name_span,
        children: Vec::new(),
    };
    let mut out: Vec<Symbol> = Vec::new();
    for d in &idx.defs {
        if matches!(d.kind, DefKind::Contract | DefKind::Const | DefKind::Fn) {
            let mut s = sym(d);
            if d.kind == DefKind::Contract {
                s.children = idx
                    .defs
                    .iter()
                    .filter(|c| {
                        c.container.as_deref() == Some(&d.name)
                            && c.span.start >= d.span.start
                            && c.span.end <= d.span.end
                    })
                    .map(sym)
                    .collect();
                s.children.sort_by_key(|c| c.span.start);
            }
            out.push(s);
        }
    }
    out.sort_by_key(|s| s.span.start);
    out
}

/// Semantic token kinds, in the order of the legend the server announces.
pub const TOKEN_TYPES: &[&str] = &[
    "keyword",
    "comment",
    "string",
    "number",
    "operator",
    "type",
    "function",
    "parameter",
    "variable",
    "class",
    "method",
    "property",
    "decorator",
];

/// Semantic token modifiers, in the order of the legend.
pub const TOKEN_MODIFIERS: &[&str] =
    &["declaration", "readonly", "defaultLibrary", "documentation"];

/// One classified token: byte range, index into [`TOKEN_TYPES`], modifier bits.
pub type SemanticToken = (usize, usize, u32, u32);

/// Classifies every token of a file.
pub fn semantic_tokens(db: &Database, file: SourceFile) -> Vec<SemanticToken> {
    let text = file.text(db);
    let idx = index(db, file);
    let def_kinds: BTreeMap<u32, DefKind> = idx
        .defs
        .iter()
        .map(|d| (d.name_span.start, d.kind))
        .collect();
    let all_defs: BTreeMap<Span, DefKind> = {
        let mut m = BTreeMap::new();
        for f in [file]
            .into_iter()
            .chain(db::imports(db, file).files.iter().map(|(_, f)| *f))
        {
            for d in &index(db, f).defs {
                m.insert(d.name_span, d.kind);
            }
        }
        m
    };
    let uses: BTreeMap<u32, DefKind> = idx
        .refs
        .iter()
        .filter_map(|(u, d)| all_defs.get(d).map(|k| (u.start, *k)))
        .collect();
    let ty_of = |k: DefKind| -> u32 {
        match k {
            DefKind::Contract => 9,
            DefKind::Const => 8,
            DefKind::Fn => 6,
            DefKind::ContractParam | DefKind::SpendArg | DefKind::FnParam => 7,
            DefKind::Confidential => 11,
            DefKind::SpendPath => 10,
        }
    };
    let mut out = Vec::new();
    let mut lexer = RawToken::lexer(text);
    let mut prev: Option<RawToken> = None;
    while let Some(tok) = lexer.next() {
        let r = lexer.span();
        let Ok(tok) = tok else { continue };
        let class = match tok {
            RawToken::LineComment | RawToken::BlockComment => Some((1, 0)),
            RawToken::DocComment => Some((1, 8)),
            RawToken::Str => Some((2, 0)),
            RawToken::Int | RawToken::Hex => Some((3, 0)),
            RawToken::Contract
            | RawToken::Spend
            | RawToken::Require
            | RawToken::Key
            | RawToken::Const
            | RawToken::Fn
            | RawToken::Use
            | RawToken::Confidential
            | RawToken::Prove
            | RawToken::True
            | RawToken::False => Some((0, 0)),
            RawToken::At => Some((12, 0)),
            RawToken::Ident => {
                let start = r.start as u32;
                if let Some(k) = def_kinds.get(&start) {
                    Some((ty_of(*k), 1))
                } else if let Some(k) = uses.get(&start) {
                    Some((ty_of(*k), if *k == DefKind::Const { 2 } else { 0 }))
                } else {
                    let word = &text[r.clone()];
                    if prev == Some(RawToken::At) {
                        Some((12, 0))
                    } else if prev == Some(RawToken::Int) {
                        Some((0, 0))
                    } else if builtins::is_builtin(word) {
                        Some((6, 4))
                    } else if TYPES.iter().any(|(n, _)| *n == word) || word == "u64" {
                        Some((5, 4))
                    } else {
                        None
                    }
                }
            }
            RawToken::EqEq
            | RawToken::NotEq
            | RawToken::Lt
            | RawToken::Le
            | RawToken::Gt
            | RawToken::Ge
            | RawToken::Plus
            | RawToken::Minus
            | RawToken::Star
            | RawToken::AndAnd
            | RawToken::OrOr
            | RawToken::Arrow => Some((4, 0)),
            _ => None,
        };
        if let Some((ty, mods)) = class {
            out.push((r.start, r.end, ty, mods));
        }
        prev = Some(tok);
    }
    out
}

/// An inlay hint: where, and the text.
pub type InlayHint = (usize, String);

/// Inlay hints: the resolved value of every timelock that is not written as a plain literal
/// (constants, arithmetic), durations in 512-second units, and the Taproot cost of each path
/// when the back end provides it.
pub fn inlay_hints(db: &Database, file: SourceFile) -> Vec<InlayHint> {
    let text = file.text(db);
    let id = file.id(db);
    let mut out = Vec::new();
    let costs = taproot_costs(db, file);
    for c in &db::check(db, file).contracts {
        for p in &c.paths {
            let mut stack: Vec<&hir::Expr> = p.requires.iter().map(|r| &r.cond).collect();
            while let Some(e) = stack.pop() {
                match &e.kind {
                    hir::ExprKind::Older(arg) | hir::ExprKind::After(arg) => {
                        if let Some(h) = lock_hint(text, id, arg) {
                            out.push(h);
                        }
                    }
                    hir::ExprKind::Sig(a) => stack.push(a),
                    hir::ExprKind::Hash { preimage, .. } => stack.push(preimage),
                    hir::ExprKind::HashEq { preimage, hash, .. } => {
                        stack.push(preimage);
                        stack.push(hash);
                    }
                    hir::ExprKind::Array(items)
                    | hir::ExprKind::And(items)
                    | hir::ExprKind::Or(items)
                    | hir::ExprKind::Threshold { items, .. } => stack.extend(items.iter()),
                    hir::ExprKind::Binary { lhs, rhs, .. } => {
                        stack.push(lhs);
                        stack.push(rhs);
                    }
                    _ => {}
                }
            }
            let cost = costs
                .get(&(c.name.clone(), p.name.clone()))
                .cloned()
                .unwrap_or_default();
            if let Some(v) = cost.witness_vbytes {
                if p.name_span.file == id {
                    // After the path's `)`: its worst-case witness.
                    let text_after = &text[p.name_span.end as usize..];
                    let close = text_after.find(')').map_or(0, |i| i + 1);
                    out.push((
                        p.name_span.end as usize + close,
                        format!(" ≤ {v} vB witness"),
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn lock_hint(text: &str, file: FileId, arg: &hir::Expr) -> Option<InlayHint> {
    if arg.span.file != file {
        return None;
    }
    let hir::ExprKind::Value(hir::Value::Int(n)) = &arg.kind else {
        return None;
    };
    let written = one_line(slice(text, arg.span));
    let label = match arg.ty {
        Ty::Blocks => {
            let plain = format!("{n} blocks");
            if written.replace('_', "") == plain || written == format!("{n} block") {
                return None;
            }
            plain
        }
        Ty::Duration => {
            let units = n.div_ceil(512);
            format!("{} s = {units} × 512 s", n)
        }
        Ty::Height => {
            if written.replace('_', "") == n.to_string() {
                return None;
            }
            format!("height {n}")
        }
        Ty::Time => {
            if written.replace('_', "") == n.to_string() {
                return None;
            }
            format!("time {n}")
        }
        _ => return None,
    };
    Some((arg.span.end as usize, format!(": {label}")))
}

/// A code action: a title and the edits (span, new text) it makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// What the user sees.
    pub title: String,
    /// The edits.
    pub edits: Vec<(Span, String)>,
    /// The diagnostic it fixes, if any.
    pub fixes: Option<Diagnostic>,
}

/// Code actions for the byte range `start..end`: "did you mean" replacements for misspelled
/// names, and adding `require sig(k);` to a spend path that nobody signs.
pub fn code_actions(db: &Database, file: SourceFile, start: usize, end: usize) -> Vec<Action> {
    let (start, end) = (start as u32, end as u32);
    let id = file.id(db);
    let mut out = Vec::new();
    for d in db::diagnostics(db, file) {
        let s = d.primary.span;
        if s.file != id || s.end < start || s.start > end {
            continue;
        }
        if !matches!(d.code, "E0020" | "E0021" | "E0025" | "E0026") {
            continue;
        }
        let Some(help) = &d.help else { continue };
        if !(help.starts_with("a name with a similar spelling exists")
            || help.starts_with("did you mean"))
        {
            continue;
        }
        let Some(name) = help.split('`').nth(1) else {
            continue;
        };
        out.push(Action {
            title: format!("Replace with `{name}`"),
            edits: vec![(s, name.to_string())],
            fixes: Some(d.clone()),
        });
    }
    let text = file.text(db);
    for c in &db::check(db, file).contracts {
        for p in &c.paths {
            if p.span.file != id || p.span.end < start || p.span.start > end {
                continue;
            }
            let signed = p.requires.iter().any(|r| typeck::contains_sig(&r.cond));
            // A path with errors of its own is fixed first; E0054 is the one this action fixes.
            let broken = db::diagnostics(db, file).iter().any(|d| {
                d.is_error()
                    && d.code != "E0054"
                    && d.primary.span.start >= p.span.start
                    && d.primary.span.end <= p.span.end
            });
            if signed || broken {
                continue;
            }
            // Insert before the path's closing `}`, on its own line.
            let close = (p.span.end as usize).saturating_sub(1);
            if text.as_bytes().get(close) != Some(&b'}') {
                continue;
            }
            let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
            let closing_indent = &text[line_start..close];
            let (at, insert_prefix, insert_suffix, indent) =
                if closing_indent.chars().all(char::is_whitespace) {
                    (line_start, "", "\n", format!("{closing_indent}    "))
                } else {
                    (close, " ", " ", String::new())
                };
            for param in c.params.iter().filter(|p| p.ty == Ty::PubKey) {
                out.push(Action {
                    title: format!("Add `require sig({});`", param.name),
                    edits: vec![(
                        Span::new(id, at, at),
                        format!(
                            "{insert_prefix}{indent}require sig({});{insert_suffix}",
                            param.name
                        ),
                    )],
                    fixes: db::diagnostics(db, file)
                        .iter()
                        .find(|d| {
                            matches!(d.code, "W0004" | "E0054" | "W0100")
                                && d.primary.span.start >= p.span.start
                                && d.primary.span.end <= p.span.end
                        })
                        .cloned(),
                });
            }
        }
    }
    out
}

/// Extension methods on the database used here.
pub trait WorkspaceFiles {
    /// Every file of the workspace.
    fn workspace_files(&self) -> Vec<SourceFile>;
}

impl WorkspaceFiles for Database {
    fn workspace_files(&self) -> Vec<SourceFile> {
        use biscol_compiler::db::Db;
        self.workspace().files(self).values().copied().collect()
    }
}
