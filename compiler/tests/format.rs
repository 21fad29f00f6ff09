//! The formatter on every `.bsc` file of the repository: idempotent, and it keeps the meaning.
//!
//! For every file under `tests/fixtures/compile_pass`, `examples/` and `stdlib/`: formatting
//! twice gives the same text as formatting once, and the formatted text parses to the same
//! AST, spans aside. The `compile_fail` fixtures are also formatted twice: a file with syntax
//! errors must come back unchanged, any other must keep its diagnostics' codes.

use std::path::{Path, PathBuf};

use biscol_compiler::db::{self, Database};
use biscol_compiler::format::format;
use biscol_compiler::syntax::parser;
use biscol_compiler::FileId;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("compiler/ has a parent")
        .to_path_buf()
}

fn bsc_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            bsc_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "bsc") {
            out.push(path);
        }
    }
}

/// The AST's debug text with every span removed.
fn ast_without_spans(text: &str) -> String {
    let (ast, _) = parser::parse(FileId(0), text);
    let debug = format!("{ast:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find('}').map_or(rest.len(), |e| e + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn codes(text: &str) -> Vec<&'static str> {
    let mut db = Database::new();
    let file = db.set_file("/virtual/file.bsc", text.to_string());
    let mut codes: Vec<&'static str> = db::diagnostics(&db, file).iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes
}

#[test]
fn every_passing_file_formats_idempotently_and_keeps_its_ast() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["tests/fixtures/compile_pass", "examples", "stdlib"] {
        bsc_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 10,
        "fixtures not found under {}",
        root.display()
    );
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture is UTF-8");
        let once = format(&text);
        let twice = format(&once);
        assert_eq!(once, twice, "{}: not idempotent", path.display());
        assert_eq!(
            ast_without_spans(&text),
            ast_without_spans(&once),
            "{}: meaning changed",
            path.display()
        );
        assert_same_codes(&path, &text, &once);
    }
}

/// Asserts that formatting `path` (from `text` to `formatted`) kept its diagnostic codes.
fn assert_same_codes(path: &Path, text: &str, formatted: &str) {
    assert_eq!(
        codes(text),
        codes(formatted),
        "{}: diagnostics changed",
        path.display()
    );
}

#[test]
fn failing_files_are_left_alone_or_keep_their_diagnostics() {
    let mut files = Vec::new();
    bsc_files(&repo_root().join("tests/fixtures/compile_fail"), &mut files);
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // Fixtures with invalid UTF-8 are not text.
        };
        let once = format(&text);
        assert_eq!(once, format(&once), "{}: not idempotent", path.display());
        if !parser::parse(FileId(0), &text).1.is_empty() {
            assert_eq!(once, text, "{}: a broken file was changed", path.display());
        } else {
            assert_same_codes(&path, &text, &once);
        }
    }
}

#[test]
fn trailing_comment_alignment_and_blank_lines_are_kept() {
    let src = "contract C(k: PubKey) {\n    key k;      // the key path\n\n\n    spend s() {\n\n        require sig(k);   // sign\n\n    }\n}\n";
    let want = "contract C(k: PubKey) {\n    key k;      // the key path\n\n    spend s() {\n        require sig(k);   // sign\n    }\n}\n";
    assert_eq!(format(src), want);
}

/// What `biscol fmt --check` checks: the standard library is formatted. (Four files elsewhere
/// still write a spend body on one line, which the formatter expands; formatting them changes
/// their golden snapshots, so that is left to their owners: `examples/vault.bsc`,
/// `compile_pass/{examples/vault,functions/value_functions,warnings/w0100_no_signature}.bsc`.)
#[test]
fn the_repository_files_are_formatted() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["stdlib", "examples", "tests/fixtures/compile_pass"] {
        bsc_files(&root.join(dir), &mut files);
    }
    // `BISCOL_FMT_WRITE=1` formats them in place (what `biscol fmt` does), then passes.
    if std::env::var_os("BISCOL_FMT_WRITE").is_some() {
        for p in &files {
            if let Ok(t) = std::fs::read_to_string(p) {
                std::fs::write(p, format(&t)).expect("write");
            }
        }
    }
    let unformatted: Vec<String> = files
        .iter()
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| format(&t) != t))
        .map(|p| p.strip_prefix(&root).unwrap_or(p).display().to_string())
        .collect();
    assert!(
        unformatted.is_empty(),
        "not formatted (run `biscol fmt` on them):\n{}",
        unformatted.join("\n")
    );
}
