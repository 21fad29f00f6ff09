//! A state folder's parts belong together (`biscol_runtime::state_folder`), through the
//! session API. In: state folders made by a session, then taken apart, downgraded or swapped.
//! Out: a session opens only a whole folder whose store, chain and wallet key record each
//! other; a folder from before identities (store schema 1) is adopted once, keeping what it
//! held.

use biscol_runtime::project::StateLayout;
use biscol_runtime::session::{Session, SessionError, SessionOptions};
use biscol_runtime::state::Store;
use biscol_runtime::state_folder::{FolderError, Part};

fn options(create_state: bool) -> SessionOptions {
    SessionOptions {
        create_state,
        ..SessionOptions::default()
    }
}

fn open(dir: &std::path::Path, create: bool) -> Result<Session, SessionError> {
    Session::open(StateLayout::new(dir), options(create))
}

#[test]
fn nothing_is_created_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    match open(&state, false) {
        Err(SessionError::Folder(FolderError::NoState { root })) => assert_eq!(root, state),
        other => panic!("{other:?}"),
    }
    assert!(!state.exists());
    let mut session = open(&state, true).unwrap();
    session.mine(3, None).unwrap();
    drop(session);
    // Whole now: it opens without asking to create, and holds its blocks.
    let session = open(&state, false).unwrap();
    assert_eq!(session.chain_info().unwrap().height, 3);
}

#[test]
fn a_missing_part_is_named() {
    for (file, part) in [
        ("store/state.sqlite", Part::Store),
        ("chain/chain.sqlite", Part::Chain),
        ("keys/wallet.key", Part::Wallet),
    ] {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path(), true).unwrap());
        std::fs::remove_file(dir.path().join(file)).unwrap();
        // Asking to create does not make a missing part either.
        for create in [false, true] {
            match open(dir.path(), create) {
                Err(SessionError::Folder(FolderError::Missing { part: p, .. })) => {
                    assert_eq!(p, part)
                }
                other => panic!("{file}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_store_from_before_identities_is_adopted_with_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    let mut session = open(dir.path(), true).unwrap();
    session.mine(101, None).unwrap();
    let before = session.chain_info().unwrap();
    drop(session);
    // Back to schema 1: no identity or watches table, a chain with no owner.
    let db = rusqlite::Connection::open(dir.path().join("store/state.sqlite")).unwrap();
    db.execute_batch("DROP TABLE identity; DROP TABLE watches; PRAGMA user_version = 1;")
        .unwrap();
    drop(db);
    let db = rusqlite::Connection::open(dir.path().join("chain/chain.sqlite")).unwrap();
    db.execute("DELETE FROM owner", []).unwrap();
    drop(db);

    let session = open(dir.path(), false).unwrap();
    assert_eq!(session.chain_info().unwrap().tip, before.tip);
    assert!(
        session.store().watches().unwrap().is_empty(),
        "migrated to schema 3"
    );
    assert!(session.store().integrity_check().unwrap().is_empty());
    let identity = session.store().identity().unwrap().expect("adopted");
    let bound = identity.bound.expect("bound to the chain and wallet");
    assert_eq!(
        bound.wallet,
        session.keystore().show("wallet").unwrap().x_only()
    );
    assert_eq!(
        session.embedded().unwrap().owner().unwrap(),
        Some(identity.store_id.clone())
    );
    drop(session);
    // Adopted once: the same identity every time after.
    let again = open(dir.path(), false).unwrap();
    assert_eq!(again.store().identity().unwrap(), Some(identity));
}

#[test]
fn a_store_of_another_folder_is_refused() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    drop(open(a.path(), true).unwrap());
    drop(open(b.path(), true).unwrap());
    std::fs::copy(
        a.path().join("store/state.sqlite"),
        b.path().join("store/state.sqlite"),
    )
    .unwrap();
    match open(b.path(), false) {
        Err(SessionError::Folder(FolderError::Foreign { detail, .. })) => {
            assert!(detail.contains("wallet key"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    // The store is unchanged by the refusal: still a's.
    let store = Store::open(b.path().join("store")).unwrap();
    let a_store = Store::open(a.path().join("store")).unwrap();
    assert_eq!(store.identity().unwrap(), a_store.identity().unwrap());
}

#[test]
fn a_creation_cut_short_before_the_identity_is_completed() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path(), true).unwrap());
    // As if the process died after the parts were made, before the identity was written.
    let db = rusqlite::Connection::open(dir.path().join("store/state.sqlite")).unwrap();
    db.execute("DELETE FROM identity", []).unwrap();
    drop(db);
    let db = rusqlite::Connection::open(dir.path().join("chain/chain.sqlite")).unwrap();
    db.execute("DELETE FROM owner", []).unwrap();
    drop(db);
    let db = rusqlite::Connection::open(dir.path().join("store/state.sqlite")).unwrap();
    let counts: (i64, i64) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM instances), (SELECT COUNT(*) FROM events)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(counts, (0, 0), "a new store holds nothing");
    drop(db);
    // The store holds nothing to lose: it opens, and is bound from then on.
    let mut session = open(dir.path(), false).unwrap();
    session.mine(1, None).unwrap();
    assert!(session.store().identity().unwrap().is_some());
    drop(session);
    // With something in it, a store without identity is refused.
    let db = rusqlite::Connection::open(dir.path().join("store/state.sqlite")).unwrap();
    db.execute("DELETE FROM identity", []).unwrap();
    drop(db);
    match open(dir.path(), false) {
        Err(SessionError::Folder(FolderError::Foreign { detail, .. })) => {
            assert!(detail.contains("records no identity"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_read_only_session_reads_beside_the_writer_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let reader_options = || SessionOptions {
        read_only: true,
        ..options(true)
    };
    // Nothing to read: a reader creates nothing, even asked to.
    match Session::open(StateLayout::new(dir.path()), reader_options()) {
        Err(SessionError::Folder(FolderError::NoState { .. })) => {}
        other => panic!("{other:?}"),
    }
    assert!(!dir.path().join("store").exists());
    let mut writer = open(dir.path(), true).unwrap();
    writer.mine(2, None).unwrap();
    // A second writer is refused while the first holds the folder; a reader is not.
    assert!(open(dir.path(), false).unwrap_err().is_in_use());
    let mut reader = Session::open(StateLayout::new(dir.path()), reader_options()).unwrap();
    assert_eq!(reader.chain_info().unwrap().height, 2);
    let events = reader.store().last_event_seq().unwrap();
    // The reader keeps its snapshot while the writer goes on.
    writer.mine(1, None).unwrap();
    assert_eq!(reader.chain_info().unwrap().height, 2);
    // Every operation that writes is refused, and changes nothing.
    for refused in [
        reader.mine(1, None).map(drop),
        reader.reconcile(),
        reader.checkpoint(None).map(drop),
    ] {
        assert!(
            matches!(refused, Err(SessionError::ReadOnly { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(reader.store().last_event_seq().unwrap(), events);
    drop(reader);
    assert_eq!(writer.chain_info().unwrap().height, 3);
    // A new reader sees the writer's last commit.
    let reader = Session::open(StateLayout::new(dir.path()), reader_options()).unwrap();
    assert_eq!(reader.chain_info().unwrap().height, 3);
}
