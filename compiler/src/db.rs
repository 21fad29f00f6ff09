//! The incremental engine: salsa inputs and the tracked queries over them.
//!
//! Inputs: each [`SourceFile`] (path, id, text) and the [`Workspace`] (the set of files by
//! path, including the embedded standard library). Queries: [`parse`], [`imports`],
//! [`scope`], [`check`], [`lower`] and [`diagnostics`]. An edit sets one file's text; salsa
//! then re-runs only the queries that read it (and those whose inputs actually changed).
//!
//! The compiler never touches the file system: a driver (the CLI, the LSP) adds files with
//! [`Database::set_file`] and, to follow `use "file.bsc";`, calls
//! [`Database::load_imports`] with a [`FileLoader`] of its own.
// salsa's macros generate constructors and setters without doc comments.
#![allow(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

use salsa::Setter;

use crate::diagnostic::{self, Diagnostic};
use crate::hir;
use crate::ir;
use crate::resolve::{self, ItemScope, ResolveError};
use crate::span::{FileId, Span};
use crate::syntax::{ast, parser};
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
    parse(db, file)
        .ast
        .items
        .iter()
        .filter_map(|item| match item {
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

/// Parses a file.
#[salsa::tracked(returns(ref))]
pub fn parse(db: &dyn Db, file: SourceFile) -> Parsed {
    let (ast, errors) = parser::parse(file.id(db), file.text(db));
    Parsed { ast, errors }
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
    for item in &parse(db, file).ast.items {
        let ast::Item::Use(u) = item else { continue };
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
    let imported: Vec<(Span, FileId, &ast::SourceFile)> = imports(db, file)
        .files
        .iter()
        .map(|(span, f)| (*span, f.id(db), &parse(db, *f).ast))
        .collect();
    let (scope, errors) = resolve::item_scope(file.id(db), &parse(db, file).ast, &imported);
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

/// Type checks a file (and reads the files it imports, transitively).
#[salsa::tracked(returns(ref))]
pub fn check(db: &dyn Db, file: SourceFile) -> Checked {
    let mut closure: BTreeMap<FileId, SourceFile> = BTreeMap::new();
    let mut stack = vec![file];
    while let Some(f) = stack.pop() {
        if closure.insert(f.id(db), f).is_none() {
            stack.extend(imports(db, f).files.iter().map(|(_, g)| *g));
        }
    }
    let asts: BTreeMap<FileId, &ast::SourceFile> = closure
        .iter()
        .map(|(id, f)| (*id, &parse(db, *f).ast))
        .collect();
    let scopes: BTreeMap<FileId, &ItemScope> = closure
        .iter()
        .map(|(id, f)| (*id, &scope(db, *f).scope))
        .collect();
    let env = typeck::Env {
        asts: &asts,
        scopes: &scopes,
    };
    let (contracts, diagnostics) = typeck::check_file(&env, file.id(db));
    Checked {
        contracts,
        diagnostics,
    }
}

/// Every diagnostic of a file, sorted by position.
#[salsa::tracked(returns(ref))]
pub fn diagnostics(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = parse(db, file)
        .errors
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
    out.extend(check(db, file).diagnostics.iter().cloned());
    diagnostic::sort(&mut out);
    out.dedup();
    out
}

/// The IR of a file's contracts, if the file has no errors.
#[salsa::tracked(returns(ref))]
pub fn lower(db: &dyn Db, file: SourceFile) -> Option<ir::Module> {
    if diagnostics(db, file).iter().any(Diagnostic::is_error) {
        return None;
    }
    Some(ir::Module {
        contracts: check(db, file)
            .contracts
            .iter()
            .map(ir::lower::lower_contract)
            .collect(),
    })
}
