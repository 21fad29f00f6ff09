//! Secrets and permissions through the real `biscol` binary. In: a throw-away project (and a
//! bare `--state-dir` outside one). Out: the state folder and everything in it are owner-only
//! (folders 0700, files 0600) after the commands that write it, and a folder an older version
//! left wider is tightened; a `keys/` folder others can access is refused, not tightened; an
//! error about an argument that holds a private key (`tprv`/`xprv`, WIF) names it "a private
//! extended key" and never repeats it.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{biscol_in, htlc_deploy, htlc_project, ok_in};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every folder and file under `root` with a mode other than 0700 / 0600.
fn not_owner_only(root: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode(&path) != want {
            wrong.push(format!("{} {:o}", path.display(), mode(&path)));
        }
        if meta.is_dir() {
            for e in std::fs::read_dir(&path).unwrap() {
                pending.push(e.unwrap().path());
            }
        }
    }
    wrong.sort();
    wrong
}

const HASH: &str = "hash=0000000000000000000000000000000000000000000000000000000000000000";

fn deploy(dir: &Path) {
    ok_in(dir, &htlc_deploy(HASH, "0.01btc"));
}

#[test]
fn the_state_folder_is_owner_only_inside_a_project_and_out() {
    let p = htlc_project();
    let dir = p.path();
    let state = dir.join(".biscol");
    ok_in(dir, &["key", "new", "alice"]);
    assert_eq!(mode(&state), 0o700, "made by `init`");
    ok_in(dir, &["key", "new", "bob"]);
    deploy(dir);
    ok_in(dir, &["checkpoint", "--label", "one"]);
    ok_in(dir, &["events"]);
    let wrong = not_owner_only(&state);
    assert!(wrong.is_empty(), "not owner-only: {wrong:#?}");
    assert!(state
        .join("store/checkpoints/1/chain/chain.sqlite")
        .is_file());

    // A folder left wider (by an older version) is tightened when a session opens it.
    for (path, m) in [
        ("", 0o755),
        ("chain", 0o755),
        ("chain/chain.sqlite", 0o644),
        ("store", 0o775),
        ("store/state.sqlite", 0o666),
        ("store/checkpoints", 0o755),
        ("store/checkpoints/1", 0o755),
        ("store/checkpoints/1/checkpoint.json", 0o644),
        ("store/checkpoints/1/state.sqlite", 0o644),
    ] {
        set_mode(&state.join(path), m);
    }
    ok_in(dir, &["state"]);
    let wrong = not_owner_only(&state);
    assert!(wrong.is_empty(), "not tightened: {wrong:#?}");

    // `--state-dir` outside a project, nested folders included.
    let outside = tempfile::tempdir().unwrap();
    let nested = outside.path().join("a/b/state");
    let nested_text = nested.to_str().unwrap();
    ok_in(
        outside.path(),
        &["--state-dir", nested_text, "--new", "key", "new", "carol"],
    );
    ok_in(outside.path(), &["--state-dir", nested_text, "mine", "2"]);
    for folder in ["a", "a/b"] {
        assert_eq!(mode(&outside.path().join(folder)), 0o700, "{folder}");
    }
    let wrong = not_owner_only(&nested);
    assert!(wrong.is_empty(), "not owner-only: {wrong:#?}");
}

#[test]
fn a_keys_folder_others_can_read_is_refused() {
    let p = htlc_project();
    let dir = p.path();
    ok_in(dir, &["key", "new", "alice"]);
    ok_in(dir, &["key", "new", "bob"]);
    let keys = dir.join(".biscol/keys");
    for wide in [0o755, 0o750, 0o701, 0o707] {
        set_mode(&keys, wide);
        for args in [
            &["key", "list"][..],
            &["key", "show", "alice"],
            &["key", "new", "carol"],
            &["state"],
            &["chain", "info"],
            &["mine"],
        ] {
            let out = biscol_in(dir, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{wide:o} {args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("has permissions {wide:o}")) && stderr.contains("(0700)"),
                "{args:?}: {stderr}"
            );
        }
        assert_eq!(mode(&keys), wide, "refused, not quietly tightened");
        assert!(!keys.join("carol.key").exists());
    }
    set_mode(&keys, 0o700);
    ok_in(dir, &["key", "list"]);
    // A key file others can read is still refused on its own.
    set_mode(&keys.join("alice.key"), 0o640);
    let out = biscol_in(dir, &["key", "show", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0600"));
}

#[test]
fn errors_about_arguments_never_repeat_a_private_key() {
    let p = htlc_project();
    let dir = p.path();
    ok_in(dir, &["key", "new", "alice"]);
    ok_in(dir, &["key", "new", "bob"]);
    deploy(dir);
    let export = ok_in(dir, &["key", "export", "alice"]);
    let tprv = String::from_utf8_lossy(&export.stdout).trim().to_string();
    assert!(tprv.starts_with("tprv"), "{tprv}");
    // Long enough to be the secret, short enough to catch a truncated echo.
    let tell = &tprv[4..28];
    let zero_txid = "00".repeat(32);
    let cases: Vec<Vec<String>> = [
        vec![
            "instantiate",
            "build/Htlc.json",
            "--arg",
            "sender=TPRV",
            "--arg",
            "receiver=@bob",
        ],
        vec!["instantiate", "build/Htlc.json", "--arg", "sender=TPRV/0/1"],
        vec!["instantiate", "build/Htlc.json", "--arg", "TPRV=1"],
        vec!["instantiate", "build/Htlc.json", "--arg", "TPRV"],
        vec![
            "deploy",
            "build/Htlc.json",
            "--arg",
            "sender=TPRV",
            "--arg",
            "receiver=@bob",
            "--arg",
            HASH,
            "--arg",
            "timeout=10",
            "--amount",
            "1btc",
        ],
        vec![
            "deploy",
            "build/Htlc.json",
            "--arg",
            "sender=@TPRV",
            "--arg",
            "receiver=@bob",
            "--arg",
            HASH,
            "--arg",
            "timeout=10",
            "--amount",
            "1btc",
        ],
        vec!["deploy", "build/Htlc.json", "--amount", "TPRV"],
        vec![
            "deploy",
            "build/Htlc.json",
            "--amount",
            "1btc",
            "--fee-rate",
            "TPRV",
        ],
        vec!["spend", "htlc-1", "claim", "--arg", "preimage=TPRV"],
        vec!["spend", "htlc-1", "claim", "--to", "TPRV"],
        vec!["spend", "htlc-1", "claim", "--to", "@TPRV"],
        vec![
            "spend", "htlc-1", "claim", "--arg", "TPRV=1", "--format", "json",
        ],
        vec!["spend", "TPRV", "claim"],
        vec!["key", "show", "TPRV"],
        vec!["key", "new", "TPRV"],
        vec!["bump", "TPRV", "--fee-rate", "3"],
        vec!["bump", &zero_txid, "--fee-rate", "TPRV"],
        vec!["mine", "TPRV"],
        vec!["mine", "1", "--advance", "TPRV"],
        vec!["restore", "TPRV"],
        vec!["explain", "TPRV"],
        vec!["state", "TPRV"],
        vec!["--state-dir", "/dev/null/TPRV", "state"],
    ]
    .iter()
    .map(|case| case.iter().map(|a| a.replace("TPRV", &tprv)).collect())
    .collect();
    for args in &cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = biscol_in(dir, &refs);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown: Vec<String> = args.iter().map(|a| a.replace(&tprv, "TPRV")).collect();
        assert_ne!(out.status.code(), Some(0), "{shown:?} succeeded");
        assert!(
            !stderr.contains(tell) && !stdout.contains(tell),
            "{shown:?} repeated the key: {stderr}{stdout}"
        );
        assert!(
            stderr.contains("a private extended key") || stdout.contains("a private extended key"),
            "{shown:?} does not say what it was given: {stderr}{stdout}"
        );
    }
    // Nothing was spent or deployed by those.
    let state = ok_in(dir, &["state", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&state.stdout).unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["status"], "deployed");
}
