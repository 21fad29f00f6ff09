//! Artifacts are verified, not trusted (issue 18, point 1): an artifact edited in any of the
//! ways that would move funds or mislead a funder is refused by `deploy` (exit 2, nothing
//! funded: the chain and the store are as before), by `instantiate` and by `biscol verify`,
//! each naming what differs; the unedited artifact verifies, instantiates and deploys, and
//! `verify --source` tells the source that was compiled from one that was not.

mod common;

use std::path::Path;
use std::process::Output;

use common::{biscol_in, htlc_deploy, htlc_project, ok_in};

use bitcoin::hashes::{sha256, Hash};
use serde_json::Value;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    assert!(!stderr(out).contains("panicked"), "{what}: {}", stderr(out));
}

/// The chain's height and the number of recorded instances: what a refused deploy must leave.
fn footprint(dir: &Path) -> (u64, usize) {
    let info = biscol_in(dir, &["chain", "info", "--format", "json"]);
    assert_code(&info, 0, "chain info");
    let info: Value = serde_json::from_slice(&info.stdout).expect("JSON");
    let state = biscol_in(dir, &["state", "--format", "json"]);
    assert_code(&state, 0, "state");
    let state: Value = serde_json::from_slice(&state.stdout).expect("JSON");
    (
        info["height"].as_u64().expect("height"),
        state.as_array().map_or(0, Vec::len),
    )
}

const HASH: &str = "hash=66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";

/// A change made to an artifact's JSON.
type Edit = Box<dyn Fn(&mut Value)>;

/// Each edit: what it does, and the JSON change.
fn edits() -> Vec<(&'static str, Edit)> {
    vec![
        (
            "leaf template",
            Box::new(|a: &mut Value| {
                a["taproot"]["leaves"][0]["template"] = "pk(receiver)".into();
            }),
        ),
        (
            "key path pointed at an added constant",
            Box::new(|a: &mut Value| {
                a["abi"]["constants"] = serde_json::json!([{
                    "name": "thief",
                    "type": "PubKey",
                    "default": "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
                }]);
                a["taproot"]["key_path"] = serde_json::json!({
                    "kind": "single", "keys": ["thief"], "template": "thief"
                });
            }),
        ),
        (
            "source hash",
            Box::new(|a: &mut Value| {
                a["source"]["sha256"] = "00".repeat(32).into();
            }),
        ),
        (
            "embedded source",
            Box::new(|a: &mut Value| {
                let text = a["sources"][0]["text"].as_str().expect("text").to_string();
                a["sources"][0]["text"] = text.replace("\"wrong preimage\"", "\"ok\"").into();
            }),
        ),
        (
            "embedded source and its hash",
            Box::new(|a: &mut Value| {
                let text = a["sources"][0]["text"].as_str().expect("text");
                let text = text.replace("\"wrong preimage\"", "\"ok\"");
                a["source"]["sha256"] = sha256::Hash::hash(text.as_bytes()).to_string().into();
                a["sources"][0]["text"] = text.into();
            }),
        ),
        (
            "a leaf dropped",
            Box::new(|a: &mut Value| {
                a["taproot"]["leaves"].as_array_mut().expect("leaves").pop();
            }),
        ),
        (
            "a path renamed",
            Box::new(|a: &mut Value| {
                a["abi"]["paths"][0]["name"] = "steal".into();
                a["taproot"]["paths"][0]["name"] = "steal".into();
            }),
        ),
        (
            "an unknown field",
            Box::new(|a: &mut Value| {
                a["taproot"]["extra"] = "x".into();
            }),
        ),
    ]
}

#[test]
fn edited_artifacts_are_refused_and_the_original_deploys() {
    let project = htlc_project();
    let dir = project.path();
    ok_in(dir, &["key", "new", "alice"]);
    ok_in(dir, &["key", "new", "bob"]);
    let original: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("build/Htlc.json")).expect("artifact"),
    )
    .expect("JSON");
    // The HTLC's deploy command line, of `artifact` in place of `build/Htlc.json`.
    let deploy_args = |artifact: &'static str| -> Vec<&'static str> {
        let mut args = htlc_deploy(HASH, "0.01btc");
        args[1] = artifact;
        args
    };
    // The wallet's coins first, so that a refused deploy has nothing to mine either way.
    assert_code(&biscol_in(dir, &["mine", "101"]), 0, "mine");
    for (what, edit) in edits() {
        let mut edited = original.clone();
        edit(&mut edited);
        let path = dir.join("build/Edited.json");
        std::fs::write(&path, serde_json::to_string_pretty(&edited).expect("JSON")).expect("write");
        let before = footprint(dir);
        let deploy = biscol_in(dir, &deploy_args("build/Edited.json"));
        assert_code(&deploy, 2, what);
        assert!(
            stderr(&deploy).contains("artifact"),
            "{what}: {}",
            stderr(&deploy)
        );
        assert_eq!(
            footprint(dir),
            before,
            "{what}: a refused deploy changed the state"
        );
        let verify = biscol_in(dir, &["verify", "build/Edited.json"]);
        assert_code(&verify, 2, what);
        let instantiate = biscol_in(
            dir,
            &[
                "instantiate",
                "build/Edited.json",
                "--arg",
                "sender=02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5",
            ],
        );
        assert_code(&instantiate, 2, what);
        println!("{what}: refused: {}", stderr(&verify).trim());
    }
    // The field that differs is named.
    let mut edited = original.clone();
    edited["taproot"]["leaves"][0]["template"] = "pk(receiver)".into();
    std::fs::write(dir.join("build/Edited.json"), edited.to_string()).expect("write");
    let verify = biscol_in(dir, &["verify", "build/Edited.json"]);
    assert!(
        stderr(&verify).contains("`taproot.leaves[0].template`"),
        "{}",
        stderr(&verify)
    );

    // The original: verified (also against the file it came from), and it deploys.
    let verify = biscol_in(
        dir,
        &[
            "verify",
            "build/Htlc.json",
            "--source",
            "contracts/htlc.bsc",
        ],
    );
    assert_code(&verify, 0, "verify");
    std::fs::write(
        dir.join("other.bsc"),
        std::fs::read_to_string(dir.join("contracts/htlc.bsc"))
            .expect("source")
            .replace("wrong preimage", "bad preimage"),
    )
    .expect("write");
    std::fs::rename(dir.join("other.bsc"), dir.join("htlc.bsc")).expect("rename");
    let against_other = biscol_in(dir, &["verify", "build/Htlc.json", "--source", "htlc.bsc"]);
    assert_code(&against_other, 2, "verify against a different source");
    assert!(
        stderr(&against_other).contains("differs"),
        "{}",
        stderr(&against_other)
    );
    let before = footprint(dir);
    let deployed = biscol_in(dir, &deploy_args("build/Htlc.json"));
    assert_code(&deployed, 0, "deploy of the original");
    assert_eq!(footprint(dir).1, before.1 + 1, "the original is deployed");
    // Before funding, deploy says what the address commits to, with the actual keys.
    let stdout = String::from_utf8_lossy(&deployed.stdout);
    let commits = stdout
        .find("this address commits to:")
        .expect("commitments printed");
    assert!(
        commits < stdout.find("deployed ").expect("deployed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("older(timeout): 10 blocks after the coin confirms"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("sha256(preimage) == hash = {}", &HASH[5..])),
        "{stdout}"
    );
    let mut args = deploy_args("build/Htlc.json");
    args.extend(["--format", "json"]);
    let deployed = biscol_in(dir, &args);
    assert_code(&deployed, 0, "deploy --format json");
    let json: Value = serde_json::from_slice(&deployed.stdout).expect("JSON");
    let commits = &json["commits_to"];
    assert_eq!(commits["key_path"]["kind"], "musig");
    let alice = biscol_in(dir, &["key", "show", "alice", "--format", "json"]);
    let alice: Value = serde_json::from_slice(&alice.stdout).expect("key JSON");
    let sender = &commits["paths"][0]["keys"][0];
    assert_eq!(sender["param"], "sender", "{commits}");
    assert!(
        alice.to_string().contains(
            sender["key"].as_str().expect("key")[2..]
                .to_string()
                .as_str()
        ),
        "the refund key is alice's: {alice} {commits}"
    );
    assert_eq!(commits["paths"][0]["timelocks"][0]["value"], 10);
    assert_eq!(commits["paths"][1]["hash_locks"][0]["hash"], HASH[5..]);
}
