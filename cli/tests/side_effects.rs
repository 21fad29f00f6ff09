//! A refused command leaves no side effects, through the real `biscol` binary. In: a
//! throw-away project. Out: after each refused `deploy` (an amount above 21,000,000 BTC, one the
//! wallet can never hold, one it cannot hold within the blocks a deploy mines, dust, a missing
//! artifact or argument, an unknown key) the chain height and tip, the wallet's balance, the
//! store's instances and its event log are what they were, also when the command line itself
//! is refused. A deploy mines only the blocks it needs.
//! (`runtime/README.md`, "What a failed command changes", is the list these rows come from.)

mod common;

use std::path::Path;

use common::{biscol_in, htlc_deploy, htlc_project, ok_in};

use serde_json::Value;

fn ok_json(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_slice(&ok_in(dir, args).stdout).expect("JSON")
}

/// What a refused command must not change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    height: Value,
    tip: Value,
    wallet_balance: Value,
    instances: Value,
    events: String,
}

fn snapshot(dir: &Path) -> Snapshot {
    let info = ok_json(dir, &["chain", "info", "--format", "json"]);
    let events = biscol_in(dir, &["events", "--format", "json"]);
    assert_eq!(events.status.code(), Some(0));
    Snapshot {
        height: info["height"].clone(),
        tip: info["tip"].clone(),
        wallet_balance: info["wallet_balance"].clone(),
        instances: ok_json(dir, &["state", "--format", "json"]),
        events: String::from_utf8_lossy(&events.stdout).into_owned(),
    }
}

const HASH: &str = "hash=0000000000000000000000000000000000000000000000000000000000000000";

fn deploy_args<'a>(amount: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = htlc_deploy(HASH, amount);
    args.extend(extra);
    args
}

fn project() -> tempfile::TempDir {
    let dir = htlc_project();
    ok_in(dir.path(), &["key", "new", "alice"]);
    ok_in(dir.path(), &["key", "new", "bob"]);
    dir
}

/// Runs a deploy that must be refused with exit 2 and `needle` in its message.
fn refused(dir: &Path, args: &[&str], needle: &str) {
    let out = biscol_in(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(
        !stderr.contains("block(s) to the wallet"),
        "{args:?} mined before refusing: {stderr}"
    );
}

#[test]
fn refused_deploys_change_nothing() {
    let p = project();
    let dir = p.path();

    // A fresh chain (`init` made the state folder): every refusal leaves height 0 and an
    // empty store, those of the command line itself first.
    let fresh = snapshot(dir);
    assert_eq!(fresh.height, 0);
    for amount in [
        "21000001btc",
        "18446744073709551615sat",
        "184467440737.09551615btc",
    ] {
        refused(dir, &deploy_args(amount, &[]), "at most 21000000 BTC");
    }
    assert_eq!(
        snapshot(dir),
        fresh,
        "a refused command line changed the state"
    );
    let refusals: [(Vec<&str>, &str); 6] = [
        (deploy_args("20999999btc", &[]), "never pays out that much"),
        (deploy_args("12000btc", &[]), "`biscol mine "),
        (deploy_args("329sat", &[]), "dust"),
        (
            vec!["deploy", "build/Missing.json", "--amount", "1btc"],
            "cannot read",
        ),
        (
            vec![
                "deploy",
                "build/Htlc.json",
                "--arg",
                "sender=@alice",
                "--amount",
                "1btc",
            ],
            "missing argument",
        ),
        (
            vec![
                "deploy",
                "build/Htlc.json",
                "--arg",
                "sender=@carol",
                "--arg",
                "receiver=@bob",
                "--arg",
                HASH,
                "--arg",
                "timeout=10",
                "--amount",
                "1btc",
            ],
            "carol",
        ),
    ];
    for (args, needle) in &refusals {
        refused(dir, args, needle);
        assert_eq!(snapshot(dir), fresh, "after {args:?}");
    }

    // A deploy mines only what it needs: the first coinbase matures after 100 blocks, and one
    // more block confirms the deployment.
    let deployed = ok_json(dir, &deploy_args("0.01btc", &["--format", "json"]));
    assert_eq!(deployed["height"], 101, "{deployed}");
    // Then the wallet holds 49.99 BTC of change and the coinbase of block 2: 150 BTC needs two
    // more mature coinbases, so two blocks, then the confirmation.
    let bigger = ok_json(dir, &deploy_args("150btc", &["--format", "json"]));
    assert_eq!(bigger["height"], 104, "{bigger}");

    // With coins and instances, refusals still change nothing.
    let before = snapshot(dir);
    assert_eq!(before.height, 104);
    for (args, needle) in &refusals {
        refused(dir, args, needle);
        assert_eq!(snapshot(dir), before, "after {args:?}");
    }
    for amount in ["21000001btc", "18446744073709551615sat"] {
        refused(dir, &deploy_args(amount, &[]), "at most 21000000 BTC");
        assert_eq!(snapshot(dir), before, "after {amount}");
    }
}
