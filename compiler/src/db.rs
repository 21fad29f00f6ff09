//! The incremental engine: salsa inputs and the tracked queries over them.
//!
//! Inputs: each [`SourceFile`] (path, id, text) and the [`Workspace`] (the set of files by
//! path, including the embedded standard library). Queries per file: [`item_texts`] (the
//! file cut into interned item pieces, each parsed alone) or, when it does not cut cleanly,
//! [`parse`]; [`imports`], [`scope`], [`check`], [`diagnostics`] (front end), [`lower`],
//! [`all_diagnostics`] (front and back end) and [`names`]; per item (a file and an item
//! index): [`item_syntax`],
//! [`check_item`], [`item_names`], and the contract's IR and Taproot compilation relative to
//! the item's place ([`lower_item`], [`taproot_item`] read them). An edit sets one file's
//! text; salsa then re-runs only the queries that read it, and an item's queries only when
//! that item (or one it uses) changed. Invariant: every result equals what a fresh database
//! computes for the same texts.
//!
//! The compiler never touches the file system: a driver (the CLI, the LSP) adds files with
//! [`Database::set_file`] and, to follow `use "file.bsc";`, calls
//! [`Database::load_imports`] with a [`FileLoader`] of its own.
// salsa's macros generate constructors and setters without doc comments.
#![allow(missing_docs)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use logos::Logos;
use salsa::Setter;

use crate::diagnostic::{self, Diagnostic};
use crate::hir;
use crate::ir;

use crate::relocate;
use crate::resolve::{self, ItemScope, ResolveError};
use crate::span::{FileId, Span};
use crate::syntax::token::RawToken;
use crate::syntax::{ast, parser};
use crate::taproot;
use crate::typeck;

/// The embedded standard library: `(module name, source)`.
pub const STDLIB: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));

/// The path under which stdlib module `name` is known in the workspace.
pub fn stdlib_path(name: &str) -> String {
    format!("<stdlib>/{name}.bsc")
}

/// A source file.
#[salsa::input(debug)]
pub struct SourceFile {
    /// Its id in spans.
    #[returns(copy)]
    pub id: FileId,
    /// Its path as the driver names it (relative paths resolve `use` against it).
    #[returns(ref)]
    pub path: String,
    /// Its text.
    #[returns(ref)]
    pub text: String,
}

/// The files of a compilation.
#[salsa::input(debug)]
pub struct Workspace {
    /// Every file by path.
    #[returns(ref)]
    pub files: BTreeMap<String, SourceFile>,
}

/// The database trait queries are written against.
#[salsa::db]
pub trait Db: salsa::Database {
    /// The workspace input.
    fn workspace(&self) -> Workspace;
}

/// Where a driver's files come from (the compiler itself does no IO).
pub trait FileLoader {
    /// The text of the file at `path`, or a message saying why it cannot be read.
    fn load(&self, path: &str) -> Result<String, String>;
}

/// The concrete database.
#[salsa::db]
#[derive(Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
    workspace: Option<Workspace>,
    next_id: u32,
}

#[salsa::db]
impl salsa::Database for Database {}

#[salsa::db]
impl Db for Database {
    fn workspace(&self) -> Workspace {
        self.workspace.expect("Database::new creates the workspace")
    }
}

impl Default for Database {
    fn default() -> Self {
        Database::new()
    }
}

impl Database {
    /// A database holding the standard library.
    pub fn new() -> Database {
        Database::with_events(None)
    }

    /// A database that reports salsa's events (which queries run) to `callback`; for tests
    /// of incrementality and for profiling.
    pub fn with_events(
        callback: Option<Box<dyn Fn(salsa::Event) + Send + Sync + 'static>>,
    ) -> Database {
        let mut db = Database {
            storage: salsa::Storage::new(callback),
            workspace: None,
            next_id: 0,
        };
        db.workspace = Some(Workspace::new(&db, BTreeMap::new()));
        for (name, text) in STDLIB {
            db.set_file(&stdlib_path(name), (*text).to_string());
        }
        db
    }

    /// Adds a file, or replaces the text of the file at `path`. Returns its handle.
    pub fn set_file(&mut self, path: &str, text: String) -> SourceFile {
        let workspace = self.workspace();
        if let Some(file) = workspace.files(self).get(path).copied() {
            if file.text(self) != &text {
                file.set_text(self).to(text);
            }
            return file;
        }
        let file = SourceFile::new(self, FileId(self.next_id), path.to_string(), text);
        self.next_id += 1;
        let mut files = workspace.files(self).clone();
        files.insert(path.to_string(), file);
        workspace.set_files(self).to(files);
        file
    }

    /// The file at `path`, if added.
    pub fn file(&self, path: &str) -> Option<SourceFile> {
        self.workspace().files(self).get(path).copied()
    }

    /// The file with id `id`.
    pub fn file_by_id(&self, id: FileId) -> Option<SourceFile> {
        self.workspace()
            .files(self)
            .values()
            .copied()
            .find(|f| f.id(self) == id)
    }

    /// Follows `use "file.bsc";` from every file, loading what is missing with `loader`,
    /// until nothing new is found. Files that cannot be loaded stay missing; [`imports`]
    /// reports them at the `use`.
    pub fn load_imports(&mut self, loader: &dyn FileLoader) {
        let mut tried: BTreeSet<String> = BTreeSet::new();
        loop {
            let mut wanted = Vec::new();
            for file in self.workspace().files(self).values() {
                for target in import_paths(self, *file) {
                    if self.file(&target).is_none() && tried.insert(target.clone()) {
                        wanted.push(target);
                    }
                }
            }
            if wanted.is_empty() {
                return;
            }
            for path in wanted {
                if let Ok(text) = loader.load(&path) {
                    self.set_file(&path, text);
                }
            }
        }
    }

    /// A [`diagnostic::render::SourceFiles`] with every file's name and text, for rendering.
    pub fn source_files(&self) -> diagnostic::render::SourceFiles {
        let mut files = diagnostic::render::SourceFiles::new();
        for (path, file) in self.workspace().files(self) {
            files.insert(file.id(self), path.clone(), file.text(self).clone());
        }
        files
    }
}

/// The paths the relative `use`s of `file` point at.
fn import_paths(db: &dyn Db, file: SourceFile) -> Vec<String> {
    let path = file.path(db);
    file_items(db, file)
        .iter()
        .filter_map(|syntax| match &syntax.item {
            ast::Item::Use(ast::Use {
                target: ast::UseTarget::File { path: target, .. },
                ..
            }) => resolve::join_use_path(path, target),
            _ => None,
        })
        .collect()
}

/// A parsed file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Parsed {
    /// The tree.
    pub ast: ast::SourceFile,
    /// Syntax errors.
    pub errors: Vec<parser::SyntaxError>,
}

/// Parses a whole file at once: what [`item_syntax`] falls back to when the file does not cut
/// cleanly into items ([`item_texts`]), and what the syntax errors come from.
#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn Db, file: SourceFile) -> Parsed {
    let (ast, errors) = parser::parse(file.id(db), file.text(db));
    Parsed { ast, errors }
}

/// The text of one top-level item and where it starts in its file. Interned, so the parse of
/// an item ([`parse_item_text`]) is remembered by its text and place, and an edit elsewhere in
/// the file parses nothing but the item it touched.
#[salsa::interned(debug)]
pub struct ItemText<'db> {
    #[returns(copy)]
    pub file: FileId,
    #[returns(copy)]
    pub start: u32,
    #[returns(ref)]
    pub text: String,
}

/// The file's text cut into its items, when every piece parses alone as exactly one item
/// without an error ([`parser::item_ranges`], [`parser::parse_item_at`]); `None` when the
/// file has a syntax error or does not cut cleanly: then the whole file is parsed at once.
#[salsa::tracked(returns(ref))]
pub fn item_texts<'db>(db: &'db dyn Db, file: SourceFile) -> Option<Vec<ItemText<'db>>> {
    let text = file.text(db);
    let pieces: Vec<ItemText<'db>> = parser::item_ranges(text)?
        .into_iter()
        .map(|range| {
            let start = u32::try_from(range.start).ok()?;
            Some(ItemText::new(
                db,
                file.id(db),
                start,
                text[range].to_string(),
            ))
        })
        .collect::<Option<_>>()?;
    pieces
        .iter()
        .all(|piece| parse_item_text(db, *piece).is_some())
        .then_some(pieces)
}

/// The syntax of the one item `piece` holds, or `None` when it is not exactly one clean item.
#[salsa::tracked(returns(ref))]
fn parse_item_text<'db>(db: &'db dyn Db, piece: ItemText<'db>) -> Option<Arc<ItemSyntax>> {
    let text = piece.text(db);
    let item = parser::parse_item_at(piece.file(db), piece.start(db) as usize, text)?;
    Some(Arc::new(ItemSyntax::new(item, text)))
}

/// The file's syntax errors: none when it cuts cleanly into items (then it is not parsed as a
/// whole), else the whole-file parse's.
fn syntax_errors(db: &dyn Db, file: SourceFile) -> &[parser::SyntaxError] {
    match item_texts(db, file) {
        Some(_) => &[],
        None => &parse(db, file).errors,
    }
}

/// Every item of a file, in order.
fn file_items(db: &dyn Db, file: SourceFile) -> Vec<Arc<ItemSyntax>> {
    (0..item_count(db, file))
        .filter_map(|index| item_syntax(db, file, index))
        .collect()
}

/// The files a file imports, with the span of each `use`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Imports {
    /// Found targets.
    pub files: Vec<(Span, SourceFile)>,
    /// Targets not found.
    pub errors: Vec<ResolveError>,
}

/// Resolves a file's `use` items to files.
#[salsa::tracked(returns(ref))]
pub fn imports(db: &dyn Db, file: SourceFile) -> Imports {
    let workspace = db.workspace();
    let files = workspace.files(db);
    let mut out = Imports {
        files: Vec::new(),
        errors: Vec::new(),
    };
    for syntax in file_items(db, file) {
        let ast::Item::Use(u) = &syntax.item else {
            continue;
        };
        let (target, key, span) = match &u.target {
            ast::UseTarget::Module { segments } => {
                let text = segments
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join("::");
                let key = match segments.as_slice() {
                    [root, name] if root.name == "stdlib" => Some(stdlib_path(&name.name)),
                    _ => None,
                };
                (text, key, u.span)
            }
            ast::UseTarget::File { path, span } => (
                format!("\"{path}\""),
                resolve::join_use_path(file.path(db), path),
                *span,
            ),
        };
        match key.as_ref().and_then(|k| files.get(k)) {
            Some(target_file) if *target_file != file => out.files.push((u.span, *target_file)),
            Some(_) => {}
            None => {
                let suggestion = match &u.target {
                    ast::UseTarget::Module { segments } => segments.last().and_then(|last| {
                        resolve::suggest(&last.name, STDLIB.iter().map(|(n, _)| *n))
                            .map(|s| format!("stdlib::{s}"))
                    }),
                    ast::UseTarget::File { .. } => None,
                };
                out.errors.push(ResolveError::UnresolvedUse {
                    target,
                    span,
                    suggestion,
                });
            }
        }
    }
    out
}

/// The item scope of a file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    /// Visible items.
    pub scope: ItemScope,
    /// Problems found building it.
    pub errors: Vec<ResolveError>,
}

/// Builds the item scope of a file.
#[salsa::tracked(returns(ref))]
pub fn scope(db: &dyn Db, file: SourceFile) -> Scope {
    let imported: Vec<(Span, FileId, Vec<Arc<ItemSyntax>>)> = imports(db, file)
        .files
        .iter()
        .map(|(span, f)| (*span, f.id(db), file_items(db, *f)))
        .collect();
    let imported: Vec<(Span, FileId, Vec<&ast::Item>)> = imported
        .iter()
        .map(|(span, id, items)| (*span, *id, items.iter().map(|s| &s.item).collect()))
        .collect();
    let own = file_items(db, file);
    let own: Vec<&ast::Item> = own.iter().map(|s| &s.item).collect();
    let (scope, errors) = resolve::item_scope(file.id(db), &own, &imported);
    Scope { scope, errors }
}

/// A type-checked file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Checked {
    /// Its contracts.
    pub contracts: Vec<hir::Contract>,
    /// Type errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// The files `file` reads when it is checked: itself and what it imports, transitively.
pub fn import_closure(db: &dyn Db, file: SourceFile) -> BTreeMap<FileId, SourceFile> {
    let mut closure: BTreeMap<FileId, SourceFile> = BTreeMap::new();
    let mut stack = vec![file];
    while let Some(f) = stack.pop() {
        if closure.insert(f.id(db), f).is_none() {
            stack.extend(imports(db, f).files.iter().map(|(_, g)| *g));
        }
    }
    closure
}

/// The span of a top-level item.
pub fn item_span(item: &ast::Item) -> Span {
    match item {
        ast::Item::Use(u) => u.span,
        ast::Item::Const(c) => c.span,
        ast::Item::Fn(f) => f.span,
        ast::Item::Contract(c) => c.span,
        ast::Item::Error(span) => *span,
    }
}

/// One top-level item: its syntax and every identifier written in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ItemSyntax {
    /// The item.
    pub item: ast::Item,
    /// Its text.
    pub text: String,
    /// Every identifier token in its text: a superset of the names it can refer to, so the
    /// items it depends on can be found without checking it.
    pub idents: BTreeSet<String>,
}

impl ItemSyntax {
    /// An item and its text.
    fn new(item: ast::Item, text: &str) -> ItemSyntax {
        let mut lexer = RawToken::lexer(text);
        let mut idents = BTreeSet::new();
        while let Some(token) = lexer.next() {
            if token == Ok(RawToken::Ident) {
                idents.insert(lexer.slice().to_string());
            }
        }
        ItemSyntax {
            item,
            text: text.to_string(),
            idents,
        }
    }
}

/// Item `index` of `file`, or `None` past the last item. Re-runs on every edit of the file,
/// but its result is the same shared value, and so backdated, for every item the edit did
/// not touch: that is what keeps [`check_item`] of those items from re-running. When the file
/// cuts cleanly into items, each is parsed on its own and only the edited one again;
/// otherwise the item comes from the whole-file [`parse`].
#[salsa::tracked(returns(clone))]
pub fn item_syntax(db: &dyn Db, file: SourceFile, index: usize) -> Option<Arc<ItemSyntax>> {
    if let Some(pieces) = item_texts(db, file) {
        return parse_item_text(db, *pieces.get(index)?).clone();
    }
    let item = parse(db, file).ast.items.get(index)?.clone();
    let text = file.text(db).get(item_span(&item).range()).unwrap_or("");
    Some(Arc::new(ItemSyntax::new(item, text)))
}

/// The definitions and name uses of item `index` of `file` (see [`names`](crate::names)).
#[salsa::tracked(returns(ref))]
pub fn item_names(db: &dyn Db, file: SourceFile, index: usize) -> crate::names::ItemNames {
    let Some(syntax) = item_syntax(db, file, index) else {
        return crate::names::ItemNames::default();
    };
    let start = item_span(&syntax.item).start;
    crate::names::item_names(&syntax.item, &syntax.text, start, &scope(db, file).scope)
}

/// The definitions and name uses of a whole file, in item order.
#[salsa::tracked(returns(ref))]
pub fn names(db: &dyn Db, file: SourceFile) -> crate::names::ItemNames {
    let mut out = crate::names::ItemNames::default();
    for index in 0..item_count(db, file) {
        let item = item_names(db, file, index);
        out.defs.extend(item.defs.iter().cloned());
        out.refs.extend(item.refs.iter().copied());
    }
    out
}

/// How many top-level items a file has (equal, so backdated, across most edits).
#[salsa::tracked(returns(copy))]
pub fn item_count(db: &dyn Db, file: SourceFile) -> usize {
    match item_texts(db, file) {
        Some(pieces) => pieces.len(),
        None => parse(db, file).ast.items.len(),
    }
}

/// One type-checked item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CheckedItem {
    /// Its HIR, when it is a contract that checked.
    pub contract: Option<hir::Contract>,
    /// The diagnostics found checking it (some may be about the items it uses).
    pub diagnostics: Vec<Diagnostic>,
}

/// Type checks item `index` of `file` on its own: the unit of incrementality. It reads the
/// syntax of this item and of the items of `file` it can reach by name (found through
/// [`ItemSyntax::idents`] and the scopes, transitively, also through imported files), the
/// scopes, and the whole of the imported files; nothing else of `file`. The other items of
/// `file` are replaced by error placeholders, which the checker never reaches.
#[salsa::tracked(returns(ref))]
pub fn check_item(db: &dyn Db, file: SourceFile, index: usize) -> CheckedItem {
    let closure = import_closure(db, file);
    let mut needed: BTreeSet<usize> = BTreeSet::new();
    let mut seen: BTreeSet<(FileId, usize)> = BTreeSet::new();
    let mut stack = vec![(file, index)];
    while let Some((f, i)) = stack.pop() {
        if !seen.insert((f.id(db), i)) {
            continue;
        }
        if f == file {
            needed.insert(i);
        }
        let Some(syntax) = item_syntax(db, f, i) else {
            continue;
        };
        let visible = &scope(db, f).scope;
        for name in &syntax.idents {
            if let Some(target) = visible.get(name) {
                if let Some(g) = closure.get(&target.file) {
                    stack.push((*g, target.index));
                }
            }
        }
    }
    let placeholder = ast::Item::Error(Span::new(file.id(db), 0, 0));
    let last = needed.last().copied().unwrap_or(0);
    let own = ast::SourceFile {
        items: (0..=last)
            .map(|i| {
                // Only the needed items are read: reading the others would make this check
                // depend on them.
                needed
                    .contains(&i)
                    .then(|| item_syntax(db, file, i))
                    .flatten()
                    .map_or_else(|| placeholder.clone(), |syntax| syntax.item.clone())
            })
            .collect(),
    };
    let (contract, diagnostics) = with_env(db, file, Some(&own), |env| {
        typeck::check_item(env, file.id(db), index)
    });
    CheckedItem {
        contract,
        diagnostics,
    }
}

/// The code of "defined in terms of itself": which use of a cycle of constants it is reported
/// at depends on the item checking starts from, so a file with one is checked as a whole.
const CYCLE: &str = "E0024";

/// The type checker's diagnostics of a file, item by item ([`check_item`]), in source order.
/// A diagnostic found again by a later item (a constant's error, found by every item that
/// folds it) is kept once, where it was first found: the result is the whole-file check's. A
/// file with a cycle (E0024) is checked as a whole, for the same reason. Kept apart from the
/// checked contracts ([`check`]) so that an edit, which re-runs this, copies no HIR.
#[salsa::tracked(returns(ref))]
fn check_diagnostics(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut seen: HashSet<&Diagnostic> = HashSet::new();
    for index in 0..item_count(db, file) {
        for d in &check_item(db, file, index).diagnostics {
            if d.code == CYCLE {
                return check_whole_file(db, file).diagnostics;
            }
            if seen.insert(d) {
                diagnostics.push(d.clone());
            }
        }
    }
    diagnostics
}

/// Type checks a file: its contracts that checked, from [`check_item`], and the diagnostics of
/// [`check_diagnostics`]; a file with a cycle (E0024) is checked as a whole.
#[salsa::tracked(returns(ref))]
pub fn check(db: &dyn Db, file: SourceFile) -> Checked {
    let diagnostics = check_diagnostics(db, file);
    if diagnostics.iter().any(|d| d.code == CYCLE) {
        return check_whole_file(db, file);
    }
    Checked {
        contracts: (0..item_count(db, file))
            .filter_map(|index| check_item(db, file, index).contract.clone())
            .collect(),
        diagnostics: diagnostics.clone(),
    }
}

/// Type checks a file with one checker over all its items.
fn check_whole_file(db: &dyn Db, file: SourceFile) -> Checked {
    let (contracts, diagnostics) =
        with_env(db, file, None, |env| typeck::check_file(env, file.id(db)));
    Checked {
        contracts,
        diagnostics,
    }
}

/// Runs `check` with the type checker's view of `file` and the files it imports: their ASTs
/// (`own` in place of `file`'s when given) and their scopes.
fn with_env<R>(
    db: &dyn Db,
    file: SourceFile,
    own: Option<&ast::SourceFile>,
    check: impl FnOnce(&typeck::Env<'_>) -> R,
) -> R {
    let closure = import_closure(db, file);
    let asts: BTreeMap<FileId, &ast::SourceFile> = closure
        .iter()
        .map(|(id, f)| match own {
            Some(own) if *f == file => (*id, own),
            _ => (*id, &parse(db, *f).ast),
        })
        .collect();
    let scopes: BTreeMap<FileId, &ItemScope> = closure
        .iter()
        .map(|(id, f)| (*id, &scope(db, *f).scope))
        .collect();
    check(&typeck::Env {
        asts: &asts,
        scopes: &scopes,
    })
}

/// Every diagnostic of a file's front end (syntax, resolution, types), sorted by position.
#[salsa::tracked(returns(ref))]
pub fn diagnostics(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = syntax_errors(db, file)
        .iter()
        .map(parser::SyntaxError::to_diagnostic)
        .collect();
    out.extend(
        imports(db, file)
            .errors
            .iter()
            .map(ResolveError::to_diagnostic),
    );
    out.extend(
        scope(db, file)
            .errors
            .iter()
            .map(ResolveError::to_diagnostic),
    );
    out.extend(check_diagnostics(db, file).iter().cloned());
    diagnostic::sort(&mut out);
    out.dedup();
    out
}

/// Whether the front end found an error in `file` (then nothing of it is lowered).
fn has_errors(db: &dyn Db, file: SourceFile) -> bool {
    diagnostics(db, file).iter().any(Diagnostic::is_error)
}

/// The IR of contract item `index`, moved to be independent of where the item is in the
/// file (see [`relocate::Shift::base_of`]), with the shift that puts it back. `None` when
/// the item is not a contract or did not check.
#[salsa::tracked(returns(ref))]
fn lower_item_relative(
    db: &dyn Db,
    file: SourceFile,
    index: usize,
) -> Option<(ir::Contract, relocate::Shift)> {
    let contract = check_item(db, file, index).contract.as_ref()?;
    let lowered = ir::lower::lower_contract(contract);
    let to_relative = relocate::Shift::base_of(&lowered, file.id(db));
    Some((to_relative.contract(&lowered), to_relative.inverse()))
}

/// The relative IR alone: equal after an edit above the item, so the Taproot compilation
/// that reads it is reused.
#[salsa::tracked(returns(ref))]
fn relative_ir(db: &dyn Db, file: SourceFile, index: usize) -> Option<ir::Contract> {
    lower_item_relative(db, file, index)
        .as_ref()
        .map(|(contract, _)| contract.clone())
}

/// The IR of contract item `index` of `file`, at its place in the file.
pub fn lower_item(db: &dyn Db, file: SourceFile, index: usize) -> Option<ir::Contract> {
    let (relative, back) = lower_item_relative(db, file, index).as_ref()?;
    Some(back.contract(relative))
}

/// The item indices of a file's contracts that checked, in source order.
pub fn contract_items(db: &dyn Db, file: SourceFile) -> Vec<usize> {
    (0..item_count(db, file))
        .filter(|i| check_item(db, file, *i).contract.is_some())
        .collect()
}

/// The IR of a file's contracts, if the file has no errors.
#[salsa::tracked(returns(ref))]
pub fn lower(db: &dyn Db, file: SourceFile) -> Option<ir::Module> {
    if has_errors(db, file) {
        return None;
    }
    Some(ir::Module {
        contracts: contract_items(db, file)
            .into_iter()
            .filter_map(|i| lower_item(db, file, i))
            .collect(),
    })
}

/// A value compared by identity: for query results that have no equality of their own (a
/// Taproot compilation holds floating-point probabilities).
#[derive(Clone, Debug)]
pub struct Shared<T>(pub Arc<T>);

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Eq for Shared<T> {}

/// The Taproot compilation of contract item `index`, in relative spans. It reads only
/// [`relative_ir`], so it re-runs only when the contract's IR really changed.
#[salsa::tracked(returns(ref))]
fn compile_relative(
    db: &dyn Db,
    file: SourceFile,
    index: usize,
) -> Option<Shared<taproot::TaprootOutput>> {
    relative_ir(db, file, index)
        .as_ref()
        .map(|contract| Shared(Arc::new(taproot::compile_contract(contract))))
}

/// The Taproot compilation of contract item `index` of `file` (the one query `build`, hover
/// and inlay hints share), or `None` when the file has front-end errors or the item is not a
/// contract that checked.
pub fn taproot_item(db: &dyn Db, file: SourceFile, index: usize) -> Option<taproot::TaprootOutput> {
    if has_errors(db, file) {
        return None;
    }
    let relative = compile_relative(db, file, index).as_ref()?;
    let (_, back) = lower_item_relative(db, file, index).as_ref()?;
    let output = &relative.0;
    Some(taproot::TaprootOutput {
        compiled: output.compiled.as_ref().map(|c| back.compiled(c)),
        diagnostics: output
            .diagnostics
            .iter()
            .map(|d| back.diagnostic(d))
            .collect(),
        literals: output.literals.clone(),
    })
}

/// Every diagnostic of a file, front end and (when the front end found no error) Taproot
/// back end (E01xx, W0100, ...), sorted by position: what `biscol build` reports and the
/// language server publishes.
#[salsa::tracked(returns(ref))]
pub fn all_diagnostics(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let mut out = diagnostics(db, file).clone();
    if has_errors(db, file) {
        return out;
    }
    for index in 0..item_count(db, file) {
        out.extend(backend_diagnostics(db, file, index).iter().cloned());
    }
    diagnostic::sort(&mut out);
    out.dedup();
    out
}

/// The Taproot back end's diagnostics about contract item `index`, at their place in the
/// file (empty for other items). Call only when the file has no front-end error.
#[salsa::tracked(returns(ref))]
fn backend_diagnostics(db: &dyn Db, file: SourceFile, index: usize) -> Vec<Diagnostic> {
    let (Some(relative), Some((_, back))) = (
        compile_relative(db, file, index).as_ref(),
        lower_item_relative(db, file, index).as_ref(),
    ) else {
        return Vec::new();
    };
    let syntax = item_syntax(db, file, index);
    let text = syntax.as_ref().map_or("", |syntax| syntax.text.as_str());
    let start = syntax
        .as_ref()
        .map_or(0, |syntax| item_span(&syntax.item).start);
    relative
        .0
        .diagnostics
        .iter()
        .map(|d| at_header(back.diagnostic(d), text, start))
        .collect()
}

/// The back end reports findings at a whole spend path or contract; pointing at its header
/// (`spend claim(preimage: Bytes32)`, `contract Htlc(...)`) reads better than underlining the
/// whole body.
/// `text` is the text of the contract, which starts at offset `start` of the file.
fn at_header(mut d: Diagnostic, text: &str, start: u32) -> Diagnostic {
    let span = d.primary.span;
    let (Some(from), Some(to)) = (span.start.checked_sub(start), span.end.checked_sub(start))
    else {
        return d;
    };
    let Some(body) = text.get(from as usize..to as usize) else {
        return d;
    };
    let Some(brace) = body.find('{') else {
        return d;
    };
    let head = &body[..brace];
    let start = ["spend ", "contract "]
        .iter()
        .filter_map(|k| head.rfind(k))
        .max()
        .unwrap_or(0);
    let trimmed = head[start..].trim_end();
    if !trimmed.is_empty() {
        d.primary.span.start = span.start + start as u32;
        d.primary.span.end = d.primary.span.start + trimmed.len() as u32;
    }
    d
}
