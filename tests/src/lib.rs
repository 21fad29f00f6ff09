//! Cross-crate test helpers: compiling a fixture and rendering it as a golden snapshot.
//!
//! A snapshot has readable sections: `----- SOURCE` (the fixture), `----- DIAGNOSTICS` (as
//! `biscol check` prints them, without colour) and `----- IR` (the contract IR, when the file
//! has no error).

use std::path::{Path, PathBuf};

use biscol_compiler::db::{self, Database};
use biscol_compiler::diagnostic::render;
use biscol_compiler::ir::printer::{self, Style};
use biscol_compiler::Diagnostic;
use biscol_loader::DiskLoader;

/// The folder holding `fixtures/`.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The result of compiling one file.
pub struct Compiled {
    /// The database, with the file and its imports loaded.
    pub db: Database,
    /// The file.
    pub file: db::SourceFile,
    /// Its diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// Compiles `text` as the file `path` (imports resolved under `root`).
pub fn compile(path: &str, text: &str, root: &Path) -> Compiled {
    let mut db = Database::new();
    let file = db.set_file(path, text.to_string());
    db.load_imports(&DiskLoader::under(root));
    // The whole pipeline: front end, Taproot lowering and its safety analysis.
    let diagnostics = biscol_compiler::build::build(&db, file).diagnostics;
    Compiled {
        db,
        file,
        diagnostics,
    }
}

/// Renders diagnostics as `biscol check` does, without colour.
pub fn render_diagnostics(db: &Database, diagnostics: &[Diagnostic]) -> String {
    let mut buffer = render::NoColor::new(Vec::new());
    render::render_human(&mut buffer, &db.source_files(), diagnostics)
        .expect("rendering to memory");
    String::from_utf8_lossy(buffer.get_ref()).into_owned()
}

/// The snapshot text of a compiled file.
pub fn snapshot(compiled: &Compiled, source: &str) -> String {
    let mut out = String::new();
    out.push_str("----- SOURCE\n");
    out.push_str(source);
    if !source.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("----- DIAGNOSTICS\n");
    out.push_str(&render_diagnostics(&compiled.db, &compiled.diagnostics));
    if let Some(module) = db::lower(&compiled.db, compiled.file) {
        out.push_str("----- IR\n");
        out.push_str(&printer::print(module, Style::default()));
    }
    out
}

/// The codes a fixture says it expects, from `// expect: E0020, W0002` lines.
pub fn expected_codes(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// expect:"))
        .flat_map(|rest| rest.split(',').map(|c| c.trim().to_string()))
        .filter(|c| !c.is_empty())
        .collect()
}
