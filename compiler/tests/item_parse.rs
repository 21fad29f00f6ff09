//! The per-item parse the incremental engine uses (`parser::item_ranges` and
//! `parser::parse_item_at`) against the whole-file parse, over every contract of the
//! repository: a clean file cuts into items that parse, alone, into exactly the whole parse's
//! items (spans included); a file with a syntax error never passes as clean item by item.

use std::path::{Path, PathBuf};

use biscol_compiler::db::STDLIB;
use biscol_compiler::span::FileId;
use biscol_compiler::syntax::parser;

fn bsc_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            bsc_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "bsc") {
            out.push(path);
        }
    }
}

/// The items of `text` parsed piece by piece, when every piece is one clean item.
fn by_items(file: FileId, text: &str) -> Option<Vec<biscol_compiler::syntax::ast::Item>> {
    parser::item_ranges(text)?
        .into_iter()
        .map(|range| parser::parse_item_at(file, range.start, &text[range]))
        .collect()
}

#[test]
fn items_parsed_alone_are_the_whole_files_items() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut paths = Vec::new();
    for dir in ["stdlib", "examples", "tests/fixtures"] {
        bsc_files(&root.join(dir), &mut paths);
    }
    paths.sort();
    let mut texts: Vec<(String, String)> = STDLIB
        .iter()
        .map(|(name, text)| (format!("<stdlib>/{name}"), (*text).to_string()))
        .collect();
    for path in &paths {
        let text = std::fs::read(path).expect("readable fixture");
        texts.push((
            path.display().to_string(),
            String::from_utf8_lossy(&text).into_owned(),
        ));
    }
    let (mut clean, mut broken) = (0, 0);
    for (name, text) in &texts {
        let file = FileId(7);
        let (whole, errors) = parser::parse(file, text);
        match by_items(file, text) {
            Some(items) => {
                assert!(errors.is_empty(), "{name}: clean by items, not as a whole");
                assert_eq!(items, whole.items, "{name}: items differ");
                clean += 1;
            }
            None => {
                assert!(
                    !errors.is_empty(),
                    "{name}: a clean file that does not cut into items"
                );
                broken += 1;
            }
        }
    }
    println!("{clean} clean files parsed item by item, {broken} with syntax errors");
    assert!(clean > 50 && broken > 10, "{clean} clean, {broken} broken");
}
