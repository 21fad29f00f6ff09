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
