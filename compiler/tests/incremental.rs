//! An edit re-runs only the queries that depend on what changed.

use std::sync::{Arc, Mutex};

use biscol_compiler::db::{self, Database};

fn logging_database() -> (Database, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let database = Database::with_events(Some(Box::new(move |event: salsa::Event| {
        if let salsa::EventKind::WillExecute { database_key } = event.kind {
            sink.lock()
                .expect("log lock")
                .push(format!("{database_key:?}"));
        }
    })));
    (database, log)
}

fn executed(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    std::mem::take(&mut *log.lock().expect("log lock"))
}

#[test]
fn editing_one_file_does_not_recheck_another() {
    let (mut database, log) = logging_database();
    let a = database.set_file(
        "a.bsc",
        "contract A(k: PubKey) { spend s() { require sig(k); } }".into(),
    );
    let b = database.set_file(
        "b.bsc",
        "contract B(k: PubKey) { spend s() { require sig(k); } }".into(),
    );
    assert!(db::diagnostics(&database, a).is_empty());
    assert!(db::diagnostics(&database, b).is_empty());
    assert!(!executed(&log).is_empty(), "the first queries run");

    // Edit `a` (a real change: a new error).
    database.set_file(
        "a.bsc",
        "contract A(k: PubKey) { spend s() { require sig(q); } }".into(),
    );
    assert_eq!(db::diagnostics(&database, a).len(), 1);
    let after_edit = executed(&log);
    assert!(
        after_edit.iter().any(|q| q.contains("parse")),
        "a is parsed again: {after_edit:?}"
    );

    // `b` did not change: asking for its diagnostics again runs nothing of b's.
    assert!(db::diagnostics(&database, b).is_empty());
    let for_b = executed(&log);
    assert!(
        for_b
            .iter()
            .all(|q| !q.contains("parse") && !q.contains("check")),
        "b was not parsed or checked again: {for_b:?}"
    );
}

#[test]
fn setting_the_same_text_re_runs_nothing() {
    let (mut database, log) = logging_database();
    let text = "contract A(k: PubKey) { spend s() { require sig(k); } }";
    let a = database.set_file("a.bsc", text.into());
    let _ = db::lower(&database, a);
    executed(&log);
    // Same text: nothing at all re-runs.
    database.set_file("a.bsc", text.into());
    let _ = db::lower(&database, a);
    assert!(
        executed(&log).is_empty(),
        "an unchanged input re-runs nothing"
    );
}

/// How many times each query named in `names` ran, in that order.
fn runs(log: &[String], names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|n| {
            log.iter()
                .filter(|q| q.starts_with(&format!("{n}(")))
                .count()
        })
        .collect()
}

const THREE_CONTRACTS: &str = "const DAY: Blocks = 144 blocks;\n\
contract A(k: PubKey) { spend s() { require sig(k) && older(DAY + 1 blocks); } }\n\
contract B(k: PubKey) { spend s() { require sig(k) && older(DAY + 2 blocks); } }\n\
contract C(k: PubKey) { spend s() { require sig(k) && older(DAY + 3 blocks); } }\n";

#[test]
fn an_edit_inside_one_contract_rechecks_and_recompiles_that_contract_only() {
    let (mut database, log) = logging_database();
    let file = database.set_file("three.bsc", THREE_CONTRACTS.into());
    assert!(db::all_diagnostics(&database, file).is_empty());
    assert_eq!(
        runs(&executed(&log), &["check_item", "compile_relative"]),
        [4, 4],
        "the first check runs every item, and the compilation query for each (the constant's finds no contract)"
    );
    database.set_file("three.bsc", THREE_CONTRACTS.replace("2 blocks", "9 blocks"));
    assert!(db::all_diagnostics(&database, file).is_empty());
    assert_eq!(
        runs(&executed(&log), &["check_item", "compile_relative"]),
        [1, 1],
        "only contract B is checked and compiled again"
    );
}

#[test]
fn an_edit_above_a_contract_does_not_recompile_it() {
    let (mut database, log) = logging_database();
    let file = database.set_file("three.bsc", THREE_CONTRACTS.into());
    let before = db::all_diagnostics(&database, file).clone();
    executed(&log);
    // Text inserted inside contract A moves B and C: their checks run again (their spans
    // moved), but their IR relative to their start is equal, so Taproot is not run again.
    let moved = THREE_CONTRACTS.replace("1 blocks", "1 blocks + 0 blocks");
    database.set_file("three.bsc", moved.clone());
    let after = db::all_diagnostics(&database, file).clone();
    assert_eq!(
        runs(&executed(&log), &["compile_relative"]),
        [1],
        "only the edited contract is compiled again"
    );
    assert_eq!(before, after, "still no diagnostic");
    // The relocated compilation is the one a fresh database computes.
    let mut fresh = Database::new();
    let fresh_file = fresh.set_file("three.bsc", moved);
    let reused = biscol_compiler::build::build(&database, file);
    let computed = biscol_compiler::build::build(&fresh, fresh_file);
    let artifacts = |b: &biscol_compiler::build::BuildOutput| -> Vec<String> {
        b.contracts
            .iter()
            .map(|c| format!("{:?} {:?}", c.ir, c.artifact))
            .collect()
    };
    assert_eq!(artifacts(&reused), artifacts(&computed));
}

#[test]
fn an_edit_inside_one_item_parses_that_item_only() {
    let (mut database, log) = logging_database();
    let file = database.set_file("three.bsc", THREE_CONTRACTS.into());
    assert!(db::all_diagnostics(&database, file).is_empty());
    assert_eq!(
        runs(&executed(&log), &["parse", "parse_item_text"]),
        [0, 4],
        "a clean file is parsed item by item, never as a whole"
    );
    database.set_file("three.bsc", THREE_CONTRACTS.replace("2 blocks", "9 blocks"));
    assert!(db::all_diagnostics(&database, file).is_empty());
    assert_eq!(
        runs(&executed(&log), &["parse", "parse_item_text"]),
        [0, 1],
        "only contract B is parsed again"
    );
    // A syntax error: the file is parsed as a whole, which reports it as a fresh database
    // does; fixed again, it is parsed item by item, reusing the items' earlier parses.
    let broken_text = THREE_CONTRACTS.replace("2 blocks);", "2 blocks)");
    database.set_file("three.bsc", broken_text.clone());
    let broken = db::all_diagnostics(&database, file).clone();
    assert_eq!(runs(&executed(&log), &["parse"]), [1]);
    let mut fresh = Database::new();
    let fresh_file = fresh.set_file("three.bsc", broken_text);
    assert_eq!(&broken, db::all_diagnostics(&fresh, fresh_file));
    assert!(
        broken.iter().any(|d| d.code == "E0005"),
        "the `}}` where `;` belongs is reported: {broken:?}"
    );
    database.set_file("three.bsc", THREE_CONTRACTS.into());
    assert!(db::all_diagnostics(&database, file).is_empty());
    assert_eq!(
        runs(&executed(&log), &["parse", "parse_item_text"]),
        [0, 0],
        "back to items: nothing is parsed again (every item's earlier parse is kept)"
    );
}
