//! The runtime commands end to end, through the real `biscol` binary: `init`, `build`, `key`,
//! `deploy`, `spend`, `bump`, `state`, `events`, `checkpoint`, `restore`, `mine`, `chain info`
//! and `node`, each test in its own temporary folder.
//!
//! What is checked, and why: the walkthrough a new user types (with exit codes and the JSON
//! shapes programs rely on); that the state lives in the state folder, not in a process; that
//! every kind of bad input ends with a message and exit code 2, never a panic (exit 101); that
//! a refused spend exits 1, points at the `require` and broadcasts nothing; dry runs, time
//! travel, checkpoints, fee bumps, the event log, the keystore's secrecy; and the RPC backend
//! against `biscol node`, driven from a second project folder.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use bitcoin::hashes::{sha256, Hash};
use common::{htlc_args, NodeProcess};
use serde_json::Value;

/// The preimage the tests claim with, and its hash.
const PREIMAGE: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn hash_of(preimage_hex: &str) -> String {
    sha256::Hash::hash(&hex_decode(preimage_hex)).to_string()
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// One command's result.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts exit code 0 and returns the run.
    fn ok(self, what: &str) -> Run {
        assert_eq!(self.code, Some(0), "{what}: {self:#?}");
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// Asserts a clean failure: exit code `code`, no panic, and `needle` in stderr.
    fn fails(&self, code: i32, needle: &str) {
        assert!(
            !self.stderr.contains("panicked") && self.code != Some(101),
            "panic: {self:#?}"
        );
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {self:#?}"
        );
    }
}

/// A project made by `biscol init` in a temporary folder, with the example built to `build/`
/// and keys `alice` and `bob`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let project = Project::bare();
        project
            .run(&["build", "contracts/htlc.bsc", "-o", "build"])
            .ok("build");
        project.run(&["key", "new", "alice"]).ok("key new alice");
        project.run(&["key", "new", "bob"]).ok("key new bob");
        project
    }

    /// `biscol init` only.
    fn bare() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = Project { dir };
        let init = project.run(&["init", "."]).ok("init");
        assert!(
            init.stdout.contains("created a BiSCOL project"),
            "{init:#?}"
        );
        assert!(project.path().join("Biscol.toml").is_file());
        assert!(project.path().join("contracts/htlc.bsc").is_file());
        project
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        biscol_in(self.path(), args)
    }

    fn htlc_args(timeout: &str) -> Vec<String> {
        vec![
            "--arg".into(),
            "sender=@alice".into(),
            "--arg".into(),
            "receiver=@bob".into(),
            "--arg".into(),
            format!("hash={}", hash_of(PREIMAGE)),
            "--arg".into(),
            format!("timeout={timeout}"),
        ]
    }

    /// `deploy build/Htlc.json ... --format json` plus `extra`; returns the JSON.
    fn deploy(&self, extra: &[&str]) -> Value {
        let mut argv: Vec<String> = vec!["deploy".into(), "build/Htlc.json".into()];
        argv.extend(Project::htlc_args("10"));
        argv.extend(["--amount", "0.01btc", "--format", "json"].map(String::from));
        argv.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.run(&refs).ok("deploy").json()
    }

    fn claim(&self, instance: &str, extra: &[&str]) -> Run {
        let preimage = format!("preimage={PREIMAGE}");
        let mut argv = vec!["spend", instance, "claim", "--arg", &preimage];
        argv.extend(extra);
        self.run(&argv)
    }

    fn state(&self, instance: &str) -> Value {
        self.run(&["state", instance, "--format", "json"])
            .ok("state")
            .json()
    }

    fn status(&self, instance: &str) -> String {
        self.state(instance)["status"]
            .as_str()
            .expect("status")
            .to_string()
    }

    fn info(&self) -> Value {
        self.run(&["chain", "info", "--format", "json"])
            .ok("chain info")
            .json()
    }

    fn events(&self) -> Vec<Value> {
        let run = self.run(&["events", "--format", "json"]).ok("events");
        run.stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
            .collect()
    }
}

fn biscol_in(dir: &Path, args: &[&str]) -> Run {
    Run::from(
        Command::new(env!("CARGO_BIN_EXE_biscol"))
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .output()
            .expect("the binary runs"),
    )
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

#[test]
fn walkthrough() {
    let p = Project::new();
    assert!(p.path().join("build/Htlc.json").is_file());

    // Human output of deploy.
    let mut argv: Vec<String> = vec!["deploy".into(), "build/Htlc.json".into()];
    argv.extend(Project::htlc_args("10"));
    argv.extend(["--amount".into(), "0.01btc".into()]);
    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let deploy = p.run(&refs).ok("deploy");
    assert!(deploy.stdout.contains("deployed htlc-1"), "{deploy:#?}");
    assert!(deploy.stdout.contains("address  bcrt1p"), "{deploy:#?}");
    assert!(deploy.stdout.contains("confirmed in block"), "{deploy:#?}");

    // Too early for the refund: refused, exit 1, the require's place and message.
    let refund = p.run(&["spend", "htlc-1", "refund"]);
    refund.fails(1, "htlc.bsc:13:9");
    assert!(refund.stderr.contains("refund only after the timeout"));
    assert!(refund.stderr.contains("nothing was broadcast"));

    let claim = p.claim("htlc-1", &[]).ok("claim");
    assert!(
        claim.stdout.contains("spent htlc-1 through `claim`"),
        "{claim:#?}"
    );
    assert!(claim.stdout.contains("confirmed in block"), "{claim:#?}");

    let state = p.run(&["state", "htlc-1"]).ok("state");
    assert!(state.stdout.contains("status   spent"), "{state:#?}");
    assert!(state.stdout.contains("through `claim`"), "{state:#?}");
    assert!(state.stdout.contains(&hash_of(PREIMAGE)), "{state:#?}");

    let events = p.run(&["events"]).ok("events");
    for kind in ["funding", "deployed", "refused", "spend_broadcast", "spent"] {
        assert!(events.stdout.contains(kind), "{kind}: {events:#?}");
    }

    // Listing every instance.
    let list = p.run(&["state"]).ok("state list");
    assert!(list.stdout.contains("htlc-1") && list.stdout.contains("spent"));
}

#[test]
fn json_shapes() {
    let p = Project::new();
    let d = p.deploy(&[]);
    assert_eq!(s(&d["instance"]), "htlc-1");
    assert_eq!(s(&d["txid"]).len(), 64);
    assert!(d["vout"].is_u64());
    assert!(s(&d["address"]).starts_with("bcrt1p"));
    assert_eq!(d["amount"], 1_000_000);
    let funded_at = d["height"].as_u64().expect("confirmed");

    let refusal = p.run(&["spend", "htlc-1", "refund", "--format", "json"]);
    assert_eq!(refusal.code, Some(1), "{refusal:#?}");
    let r = refusal.json();
    assert_eq!(s(&r["status"]), "refused");
    let refusals = r["refusals"].as_array().expect("refusals[]");
    assert_eq!(refusals.len(), 1, "{r}");
    let first = &refusals[0];
    assert_eq!(s(&first["file"]), "htlc.bsc");
    assert_eq!(first["line"], 13);
    assert_eq!(first["column"], 9);
    assert_eq!(s(&first["message"]), "refund only after the timeout");
    assert!(s(&first["reason"]).contains("blocks"), "{first}");

    let spend = p.claim("htlc-1", &["--format", "json"]).ok("claim").json();
    assert_eq!(s(&spend["status"]), "broadcast");
    assert_eq!(s(&spend["path"]), "claim");
    assert_eq!(spend["height"].as_u64(), Some(funded_at + 1));

    let st = p.state("htlc-1");
    assert_eq!(s(&st["status"]), "spent");
    assert_eq!(st["funding_txid"], d["txid"]);
    assert_eq!(st["spend_txid"], spend["txid"]);
    assert_eq!(st["executions"].as_array().map(Vec::len), Some(1));

    let info = p.info();
    assert_eq!(s(&info["network"]), "regtest");
    assert_eq!(info["height"].as_u64(), Some(funded_at + 1));
    assert!(info["median_time_past"].as_u64().expect("mtp") > 1_296_688_602);
    assert_eq!(s(&info["tip"]).len(), 64);
    assert_eq!(info["mempool"], 0);

    let list = p.run(&["state", "--format", "json"]).ok("list").json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[test]
fn state_persists_across_processes_with_state_dir() {
    // No project: a bare state folder given with --state-dir, commands run from elsewhere.
    let work = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("state");
    let state_s = state.to_str().unwrap();
    let artifact = work.path().join("Htlc.json");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/htlc.bsc");
    biscol_in(
        work.path(),
        &[
            "build",
            examples.to_str().unwrap(),
            "-o",
            work.path().to_str().unwrap(),
        ],
    )
    .ok("build");
    let run = |args: &[&str]| {
        let mut argv = vec!["--state-dir", state_s];
        argv.extend(args);
        biscol_in(elsewhere.path(), &argv)
    };
    run(&["--new", "key", "new", "alice"]).ok("alice");
    run(&["key", "new", "bob"]).ok("bob");
    let hash = format!("hash={}", hash_of(PREIMAGE));
    let mut argv = vec!["deploy", artifact.to_str().unwrap()];
    argv.extend(htlc_args(&hash, "timeout=10"));
    argv.extend(["--amount", "1000000sat", "--format", "json"]);
    let d = run(&argv).ok("deploy").json();
    assert!(state.join("store").is_dir() && state.join("chain").is_dir());
    assert!(!elsewhere.path().join(".biscol").exists());

    let st = run(&["state", "htlc-1", "--format", "json"])
        .ok("state")
        .json();
    assert_eq!(s(&st["status"]), "deployed");
    assert_eq!(st["funding_txid"], d["txid"]);
    let preimage = format!("preimage={PREIMAGE}");
    run(&["spend", "htlc-1", "claim", "--arg", &preimage]).ok("spend");
    let st = run(&["state", "htlc-1", "--format", "json"])
        .ok("state")
        .json();
    assert_eq!(s(&st["status"]), "spent");

    // Outside a project and without --state-dir the state folder is ./.biscol: there is none
    // here, and `state` does not make one.
    biscol_in(elsewhere.path(), &["state"]).fails(2, "no state folder at");
    assert!(!elsewhere.path().join(".biscol").exists());
    let local = biscol_in(elsewhere.path(), &["--new", "state"]).ok("state with --new");
    assert!(local.stdout.contains("nothing deployed yet"), "{local:#?}");
}

#[test]
fn bad_input_is_exit_2_with_a_message() {
    let p = Project::new();
    p.deploy(&[]);
    let preimage = format!("preimage={PREIMAGE}");
    let hash = format!("hash={}", hash_of(PREIMAGE));

    p.run(&["spend", "htlc-9", "claim"])
        .fails(2, "no instance `htlc-9`; recent instances: htlc-1");
    let unknown_path = p.run(&["spend", "htlc-1", "steal"]);
    unknown_path.fails(2, "no spend path `steal`");
    assert!(unknown_path.stderr.contains("claim, refund, key"));
    p.run(&["spend", "htlc-1"]).fails(2, "<PATH>");
    p.run(&["spend", "htlc-1", "claim", "--arg", "preimage=zz"])
        .fails(2, "64 hex digits");
    p.run(&["spend", "htlc-1", "claim", "--arg", "preimage"])
        .fails(2, "expected NAME=VALUE");
    // Mainnet address on regtest.
    p.run(&[
        "spend",
        "htlc-1",
        "claim",
        "--arg",
        &preimage,
        "--to",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    ])
    .fails(2, "is not an address for regtest");
    p.run(&[
        "spend", "htlc-1", "claim", "--arg", &preimage, "--to", "@carol",
    ])
    .fails(2, "carol");
    assert_eq!(p.status("htlc-1"), "deployed", "nothing was spent");

    // Artifacts.
    p.run(&["deploy", "build/Missing.json", "--amount", "0.01btc"])
        .fails(2, "cannot read `build/Missing.json`");
    let mut newer: Value =
        serde_json::from_str(&std::fs::read_to_string(p.path().join("build/Htlc.json")).unwrap())
            .unwrap();
    newer["format"] = Value::from("biscol-artifact/99");
    std::fs::write(p.path().join("build/Newer.json"), newer.to_string()).unwrap();
    let args = htlc_args(&hash, "timeout=10");
    let with = |artifact: &str, amount: &str, extra: &[&str]| {
        let mut argv = vec!["deploy", artifact];
        argv.extend(args);
        argv.extend(["--amount", amount]);
        argv.extend(extra);
        p.run(&argv)
    };
    with("build/Newer.json", "0.01btc", &[]).fails(2, "biscol-artifact/99");
    with("build/Htlc.json", "12", &[]).fails(2, "is not an amount");
    with("build/Htlc.json", "0.000000001btc", &[]).fails(2, "is not an amount");
    with("build/Htlc.json", "0.01btc", &["--fee-rate", "fast"]).fails(2, "fee rate");
    let carol = p.run(&[
        "deploy",
        "build/Htlc.json",
        "--arg",
        "sender=@carol",
        "--arg",
        "receiver=@bob",
        "--arg",
        &hash,
        "--arg",
        "timeout=10",
        "--amount",
        "0.01btc",
    ]);
    carol.fails(2, "carol");
    p.run(&[
        "deploy",
        "build/Htlc.json",
        "--arg",
        "sender",
        "--amount",
        "0.01btc",
    ])
    .fails(2, "expected NAME=VALUE");
    // A missing parameter.
    p.run(&[
        "deploy",
        "build/Htlc.json",
        "--arg",
        "sender=@alice",
        "--amount",
        "0.01btc",
    ])
    .fails(2, "missing argument `receiver`");
    assert_eq!(
        p.run(&["state", "--format", "json"])
            .ok("list")
            .json()
            .as_array()
            .map(Vec::len),
        Some(1),
        "no instance came from the bad deploys"
    );

    // Spent already.
    p.claim("htlc-1", &[]).ok("claim");
    p.claim("htlc-1", &[])
        .fails(2, "htlc-1 cannot be spent: it was spent by");

    // Unknown instance on the other commands.
    p.run(&["state", "htlc-7"]).fails(2, "no instance `htlc-7`");
    p.run(&["restore", "42"]).fails(2, "no checkpoint 42");
    p.run(&[
        "bump",
        "00000000000000000000000000000000000000000000000000000000000000aa",
        "--fee-rate",
        "10",
    ])
    .fails(2, "no recorded transaction");
}

#[test]
fn malformed_biscol_toml_names_the_key() {
    let p = Project::bare();
    std::fs::write(
        p.path().join("Biscol.toml"),
        "[biscol]\nnetwrk = \"regtest\"\n",
    )
    .unwrap();
    for args in [
        &["state"][..],
        &["key", "list"],
        &["chain", "info"],
        &["events"],
    ] {
        let run = p.run(args);
        run.fails(2, "netwrk");
        assert!(run.stderr.contains("Biscol.toml"), "{run:#?}");
    }
    std::fs::write(
        p.path().join("Biscol.toml"),
        "[biscol]\nnetwork = \"moonnet\"\n",
    )
    .unwrap();
    p.run(&["chain", "info"]).fails(2, "moonnet");
    std::fs::write(p.path().join("Biscol.toml"), "[biscol\n").unwrap();
    p.run(&["state"]).fails(2, "Biscol.toml");
}

#[test]
fn refused_spend_broadcasts_nothing() {
    let p = Project::new();
    let d = p.deploy(&[]);
    let before = p.info();
    let refund = p.run(&["spend", "htlc-1", "refund"]);
    refund.fails(1, "--> htlc.bsc:13:9");
    assert!(refund.stderr.contains("\"refund only after the timeout\""));
    let after = p.info();
    assert_eq!(after["mempool"], 0);
    assert_eq!(after["height"], before["height"]);
    assert_eq!(after["tip"], before["tip"]);
    let st = p.state("htlc-1");
    assert_eq!(s(&st["status"]), "deployed");
    assert_eq!(st["funding_txid"], d["txid"]);
    assert_eq!(st["executions"].as_array().map(Vec::len), Some(0));
    // The refusal is in the log (audit_logging defaults to true), with the reason.
    let refused: Vec<Value> = p
        .events()
        .into_iter()
        .filter(|e| e["kind"] == "refused")
        .collect();
    assert_eq!(refused.len(), 1);
    assert!(refused[0]
        .to_string()
        .contains("refund only after the timeout"));

    // Once the timeout has passed the refund works.
    p.run(&["mine", "9"]).ok("mine");
    let spend = p
        .run(&["spend", "htlc-1", "refund", "--format", "json"])
        .ok("refund")
        .json();
    assert_eq!(s(&spend["path"]), "refund");
    assert_eq!(p.status("htlc-1"), "spent");
}

#[test]
fn dry_run_broadcasts_nothing() {
    let p = Project::new();
    p.deploy(&[]);
    let before = p.info();
    let events_before = p.events().len();
    let dry = p
        .claim("htlc-1", &["--dry-run", "--format", "json"])
        .ok("dry run")
        .json();
    assert_eq!(s(&dry["status"]), "planned");
    assert!(s(&dry["tx"]).starts_with("02000000"), "{dry}");
    let human = p.claim("htlc-1", &["--dry-run"]).ok("dry run");
    assert!(human.stdout.contains("would spend htlc-1"), "{human:#?}");
    assert!(human.stdout.contains("nothing broadcast"), "{human:#?}");
    let after = p.info();
    assert_eq!(after["mempool"], 0);
    assert_eq!(after["tip"], before["tip"]);
    assert_eq!(p.status("htlc-1"), "deployed");
    assert_eq!(p.events().len(), events_before, "a dry run logs nothing");
    // The real spend still works and has the same plan.
    let real = p.claim("htlc-1", &["--format", "json"]).ok("claim").json();
    assert_eq!(real["vsize"], dry["vsize"]);
}

#[test]
fn mine_advance_moves_median_time_past() {
    let p = Project::new();
    // Eleven blocks at wall-clock time first, so that the median time past is today's and not
    // the genesis block's.
    p.run(&["mine", "11"]).ok("mine 11");
    let before = p.info();
    let mtp0 = before["median_time_past"].as_u64().unwrap();
    const THIRTY_DAYS: u64 = 30 * 86_400;
    // One block: its time jumps, the median of the last 11 does not yet.
    let one = p
        .run(&["mine", "--advance", "30d", "--format", "json"])
        .ok("mine --advance")
        .json();
    assert!(one["time"].as_u64().unwrap() >= mtp0 + THIRTY_DAYS, "{one}");
    assert!(
        one["median_time_past"].as_u64().unwrap() < mtp0 + THIRTY_DAYS,
        "{one}"
    );
    assert_eq!(one["height"], before["height"].as_u64().unwrap() + 1);
    // Once 6 blocks are past the jump (more than half of the last 11), the median time past
    // is too, as `biscol mine --help` says.
    let more = p
        .run(&["mine", "6", "--advance", "30d", "--format", "json"])
        .ok("mine 6")
        .json();
    assert!(
        more["median_time_past"].as_u64().unwrap() >= mtp0 + 2 * THIRTY_DAYS,
        "{more}"
    );
    assert_eq!(p.info()["median_time_past"], more["median_time_past"]);
    p.run(&["mine", "--advance", "soon"])
        .fails(2, "is not a duration");
}

#[test]
fn checkpoint_and_restore() {
    let p = Project::new();
    p.deploy(&[]);
    let at = p.info();
    let cp = p
        .run(&["checkpoint", "--label", "one deployed", "--format", "json"])
        .ok("checkpoint")
        .json();
    let id = cp["id"].as_u64().expect("id").to_string();

    p.deploy(&[]);
    p.claim("htlc-1", &[]).ok("claim");
    p.run(&["mine", "5"]).ok("mine");
    assert_eq!(p.status("htlc-1"), "spent");
    assert_eq!(p.status("htlc-2"), "deployed");

    let list = p
        .run(&["checkpoint", "--list", "--format", "json"])
        .ok("list")
        .json();
    assert_eq!(list[0]["label"], "one deployed");

    // Without --yes (and no terminal to ask on) it lists what it would undo and changes
    // nothing.
    let before = p.info();
    let asked = p.run(&["restore", &id]);
    asked.fails(2, "nothing was restored; pass --yes");
    for line in [
        "instance htlc-2: forgotten",
        "instance htlc-1: spent → back to deployed",
        "(htlc-2): forgotten",
    ] {
        assert!(asked.stdout.contains(line), "{line}: {asked:#?}");
    }
    assert_eq!(p.info()["tip"], before["tip"]);
    assert_eq!(p.status("htlc-2"), "deployed");

    let restored = p.run(&["restore", &id, "--yes"]).ok("restore");
    assert!(
        restored
            .stdout
            .contains(&format!("chain height {}", at["height"])),
        "{restored:#?}"
    );
    // The state it replaced was kept as a checkpoint first.
    let kept: String = restored
        .stdout
        .lines()
        .find(|l| l.contains("keeps the state as it was"))
        .and_then(|l| l.strip_prefix("checkpoint "))
        .and_then(|rest| rest.split(' ').next())
        .expect("the checkpoint of the state before")
        .to_string();
    assert_ne!(kept, id);
    let now = p.info();
    assert_eq!(now["height"], at["height"]);
    assert_eq!(now["tip"], at["tip"]);
    assert_eq!(p.status("htlc-1"), "deployed");
    p.run(&["state", "htlc-2"]).fails(2, "no instance `htlc-2`");
    assert!(p.events().iter().any(|e| e["kind"] == "restored"));
    // The restored instance can be spent again, for real.
    p.claim("htlc-1", &[]).ok("claim after restore");
    assert_eq!(p.status("htlc-1"), "spent");

    // Nothing was lost: the checkpoint taken before the restore brings htlc-2 back.
    p.run(&["restore", &kept, "--yes"])
        .ok("restore the state before");
    assert_eq!(p.status("htlc-2"), "deployed");
    assert_eq!(p.info()["tip"], before["tip"]);
}

#[test]
fn bump_replaces_an_unconfirmed_deploy_and_spend() {
    let p = Project::new();
    let d = p.deploy(&["--no-wait"]);
    assert!(d["height"].is_null());
    let old = s(&d["txid"]).to_string();
    assert_eq!(p.status("htlc-1"), "funding");
    assert_eq!(p.info()["mempool"], 1);
    // Not spendable before it confirms.
    p.claim("htlc-1", &[]).fails(2, "has not confirmed yet");

    let b = p
        .run(&["bump", &old, "--fee-rate", "10", "--format", "json"])
        .ok("bump")
        .json();
    assert_eq!(s(&b["replaced"]), old);
    let new = s(&b["txid"]).to_string();
    assert_ne!(new, old);
    assert!(b["fee"].as_u64().unwrap() > d["fee"].as_u64().unwrap());
    assert_eq!(
        p.info()["mempool"],
        1,
        "the replacement took the old one's place"
    );
    // A lower fee rate than the replacement's cannot replace it again.
    let again = p.run(&["bump", &new, "--fee-rate", "2"]);
    assert_ne!(again.code, Some(0), "{again:#?}");
    assert!(!again.stderr.contains("panicked"));

    p.run(&["mine", "1"]).ok("mine");
    let st = p.state("htlc-1");
    assert_eq!(s(&st["status"]), "deployed");
    assert_eq!(s(&st["funding_txid"]), new);
    assert!(p.events().iter().any(|e| e["kind"] == "bumped"));

    // A spend in the mempool is bumped the same way: planned again at the new rate.
    let spend = p
        .claim("htlc-1", &["--no-wait", "--format", "json"])
        .ok("claim --no-wait")
        .json();
    let old = s(&spend["txid"]).to_string();
    assert_eq!(p.status("htlc-1"), "spending");
    let b = p
        .run(&["bump", &old, "--fee-rate", "10", "--format", "json"])
        .ok("bump the spend")
        .json();
    let new = s(&b["txid"]).to_string();
    assert_ne!(new, old);
    assert!(b["fee"].as_u64().unwrap() > spend["fee"].as_u64().unwrap());
    p.run(&["mine", "1"]).ok("mine");
    let st = p.state("htlc-1");
    assert_eq!(s(&st["status"]), "spent");
    assert_eq!(s(&st["spend_txid"]), new);
}

#[test]
fn events_are_in_order() {
    let p = Project::new();
    p.deploy(&[]);
    assert_eq!(p.run(&["spend", "htlc-1", "refund"]).code, Some(1));
    p.claim("htlc-1", &[]).ok("claim");
    let events = p.events();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "no gaps");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| s(&e["kind"]))
        .filter(|k| *k != "mined")
        .collect();
    assert_eq!(
        kinds,
        [
            "funding",
            "broadcast",
            "deployed",
            "refused",
            "spend_broadcast",
            "broadcast",
            "spent"
        ]
    );
    // --after skips what was seen.
    let after = p
        .run(&["events", "--after", "3", "--format", "json"])
        .ok("after");
    assert_eq!(after.stdout.lines().count(), events.len() - 3);
}

#[test]
fn keys_never_print_secrets_except_export() {
    let p = Project::new();
    let export = p.run(&["key", "export", "alice"]).ok("export");
    let secret = export.stdout.trim().to_string();
    assert!(secret.starts_with("tprv"), "{export:#?}");
    assert!(
        export.stderr.contains("secret"),
        "export warns: {export:#?}"
    );
    for args in [
        &["key", "list"][..],
        &["key", "list", "--format", "json"],
        &["key", "show", "alice"],
        &["key", "show", "alice", "--format", "json"],
    ] {
        let run = p.run(args).ok("key");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains(&secret), "{args:?} printed the secret");
        assert!(
            !all.contains("tprv") && !all.contains("xprv"),
            "{args:?}: {all}"
        );
    }
    let show = p
        .run(&["key", "show", "alice", "--format", "json"])
        .ok("show")
        .json();
    assert!(s(&show["xpub"]).starts_with("tpub"));
    let list = p.run(&["key", "list"]).ok("list");
    assert!(list.stdout.contains("alice") && list.stdout.contains("bob"));
    p.run(&["key", "show", "carol"]).fails(2, "carol");
    p.run(&["key", "new", "alice"]).fails(2, "alice");
    p.run(&["key", "new", "bad name!"])
        .fails(2, "invalid key name");
}

#[test]
fn rpc_backend_against_biscol_node() {
    let node_dir = tempfile::tempdir().expect("tempdir");
    let node_state: PathBuf = node_dir.path().join("A");
    let mut child = Command::new(env!("CARGO_BIN_EXE_biscol"))
        .args([
            "--state-dir",
            node_state.to_str().unwrap(),
            "--new",
            "node",
            "--rpc-port",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut node = NodeProcess { child };
    let mut url = None;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("node output");
        if let Some(rest) = line.trim().strip_prefix("JSON-RPC ") {
            url = Some(rest.trim().to_string());
        }
        if line.contains("Ctrl-C stops") {
            break;
        }
    }
    let url = url.expect("the node prints its JSON-RPC address");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        !url.ends_with(":0"),
        "port 0 is replaced by the chosen port: {url}"
    );
    let cookie = node_state.join("chain/.cookie");
    assert!(cookie.is_file(), "cookie written");

    let p = Project::new();
    std::fs::write(
        p.path().join("Biscol.toml"),
        format!(
            "[biscol]\nbackend = \"core\"\nrpc_url = \"{url}\"\nrpc_cookie = \"{}\"\n",
            cookie.display()
        ),
    )
    .unwrap();
    let info = p.info();
    assert_eq!(s(&info["backend"]), "remote");
    assert_eq!(info["height"], 0);
    // A remote wallet is not funded by mining on its own: deploy says so, exit 2.
    let mut argv: Vec<String> = vec!["deploy".into(), "build/Htlc.json".into()];
    argv.extend(Project::htlc_args("10"));
    argv.extend(["--amount".into(), "0.01btc".into(), "--no-wait".into()]);
    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let poor = p.run(&refs);
    assert_eq!(poor.code, Some(2), "{poor:#?}");
    assert!(!poor.stderr.contains("panicked"));

    p.run(&["mine", "101"]).ok("mine through the node");
    assert_eq!(p.info()["height"], 101);
    let d = p.deploy(&["--no-wait"]);
    assert!(d["height"].is_null());
    assert_eq!(p.status("htlc-1"), "funding");
    p.run(&["mine", "1"]).ok("mine");
    assert_eq!(p.status("htlc-1"), "deployed");
    // Waiting works too: on regtest the session asks the node to mine the confirmation.
    let waited = p.deploy(&[]);
    assert_eq!(waited["height"], 103);
    assert_eq!(p.status("htlc-2"), "deployed");

    p.run(&["spend", "htlc-1", "refund"])
        .fails(1, "refund only after the timeout");
    let spend = p
        .claim("htlc-1", &["--no-wait", "--format", "json"])
        .ok("claim")
        .json();
    assert_eq!(s(&spend["status"]), "broadcast");
    assert_eq!(p.status("htlc-1"), "spending");
    p.run(&["mine", "1"]).ok("mine");
    let st = p.state("htlc-1");
    assert_eq!(s(&st["status"]), "spent");
    assert_eq!(st["spend_txid"], spend["txid"]);

    // Stop the node with Ctrl-C (SIGINT): it exits 0 and removes its cookie.
    let pid = node.child.id().to_string();
    let kill = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = node.child.wait().expect("node exits");
    assert!(status.success(), "{status:?}");
    assert!(!cookie.exists(), "the cookie is removed on exit");
    // With the node gone, commands fail cleanly.
    p.run(&["chain", "info"]).fails(2, "error:");
    // The node's chain kept what was mined: it is the embedded chain in A.
    let local = biscol_in(
        node_dir.path(),
        &[
            "--state-dir",
            node_state.to_str().unwrap(),
            "chain",
            "info",
            "--format",
            "json",
        ],
    )
    .ok("chain info on the node's folder")
    .json();
    assert_eq!(local["height"], 104);
}
