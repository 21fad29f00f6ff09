//! No silent resets, through the real `biscol` binary. In: a project with a deployed contract.
//! Out: deleting or emptying the contract store, the chain folder or the wallet key, putting
//! in another state folder's store or chain, and editing the chain's UTXO set by hand are each
//! refused with a message that says what is missing or wrong, and nothing is replaced by a new
//! empty part; only `biscol init` and `--new` create state, and only where none exists.

mod common;

use std::path::Path;

use common::{biscol_in, htlc_deploy, htlc_project, ok_in};

const HASH: &str = "hash=0000000000000000000000000000000000000000000000000000000000000000";

/// A project with alice, bob and one deployed HTLC.
fn deployed() -> tempfile::TempDir {
    let dir = htlc_project();
    ok_in(dir.path(), &["key", "new", "alice"]);
    ok_in(dir.path(), &["key", "new", "bob"]);
    ok_in(dir.path(), &htlc_deploy(HASH, "0.01btc"));
    dir
}

/// Every file below `dir`, with its bytes, sorted by path.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_default();
                out.push((path.display().to_string(), bytes));
            }
        }
    }
    out.sort();
    out
}

/// Runs commands that open the state in `dir`, each refused (exit 2) with `needle` in its
/// message, and checks that none of them changed a file of the state folder. `readers`: also
/// the commands that read one part alone (`events` the store, `key list` the keystore), which
/// refuse a folder with a part missing but do not open the others to compare identities.
fn refused(dir: &Path, needle: &str, readers: bool) {
    let state = dir.join(".biscol");
    let before = files(&state);
    let mut commands = vec![
        &["state"][..],
        &["chain", "info"],
        &["mine", "1"],
        &["deploy", "build/Htlc.json", "--amount", "0.01btc"],
        // `--new` creates state only where none exists.
        &["--new", "state"],
    ];
    if readers {
        commands.extend([&["events"][..], &["key", "list"]]);
    }
    for args in commands {
        let out = biscol_in(dir, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert_eq!(
        files(&state),
        before,
        "a refused command changed the state folder"
    );
}

#[test]
fn a_deleted_or_emptied_part_is_refused_never_replaced() {
    let cases: [(&str, bool, &str); 6] = [
        (
            "store/state.sqlite",
            false,
            "store/state.sqlite is missing or empty",
        ),
        (
            "store/state.sqlite",
            true,
            "store/state.sqlite is missing or empty",
        ),
        (
            "chain/chain.sqlite",
            false,
            "chain/chain.sqlite is missing or empty",
        ),
        (
            "chain/chain.sqlite",
            true,
            "chain/chain.sqlite is missing or empty",
        ),
        (
            "keys/wallet.key",
            false,
            "keys/wallet.key is missing or empty",
        ),
        (
            "keys/wallet.key",
            true,
            "keys/wallet.key is missing or empty",
        ),
    ];
    for (part, empty, needle) in cases {
        let p = deployed();
        let file = p.path().join(".biscol").join(part);
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        if empty {
            std::fs::write(&file, b"").unwrap();
        } else {
            std::fs::remove_file(&file).unwrap();
        }
        refused(p.path(), needle, true);
    }
}

#[test]
fn a_deleted_chain_folder_is_refused() {
    let p = deployed();
    std::fs::remove_dir_all(p.path().join(".biscol/chain")).unwrap();
    refused(p.path(), "chain/chain.sqlite is missing or empty", true);
}

#[test]
fn parts_of_another_state_folder_are_refused() {
    // Another project's store, chain or wallet key put in place of this one's.
    for part in [
        "store/state.sqlite",
        "chain/chain.sqlite",
        "keys/wallet.key",
    ] {
        let (a, b) = (deployed(), deployed());
        let (from, to) = (a.path().join(".biscol"), b.path().join(".biscol"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", to.join(part).display()));
        }
        // The source is closed: its write-ahead log, if any, was folded in on close.
        std::fs::copy(from.join(part), to.join(part)).unwrap();
        refused(b.path(), "do not belong together", false);
    }
}

#[test]
fn a_hand_edited_utxo_set_is_refused() {
    let p = deployed();
    let chain = p.path().join(".biscol/chain/chain.sqlite");
    let db = rusqlite::Connection::open(&chain).unwrap();
    let changed = db
        .execute(
            "UPDATE utxos SET value = value * 2 WHERE rowid = (SELECT max(rowid) FROM utxos)",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);
    refused(p.path(), "does not match its commitment", false);
}

#[test]
fn only_init_and_new_create_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_s = state.to_str().unwrap();
    let out = biscol_in(dir.path(), &["--state-dir", state_s, "key", "new", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no state folder at"));
    assert!(!state.exists(), "a refused command made the state folder");
    ok_in(
        dir.path(),
        &["--state-dir", state_s, "--new", "key", "new", "alice"],
    );
    for part in [
        "store/state.sqlite",
        "chain/chain.sqlite",
        "keys/wallet.key",
    ] {
        assert!(state.join(part).is_file(), "{part} made by --new");
    }
    // The folder exists now: `--new` again changes nothing and is not needed.
    ok_in(dir.path(), &["--state-dir", state_s, "--new", "mine", "1"]);
    ok_in(dir.path(), &["--state-dir", state_s, "mine", "1"]);
}
