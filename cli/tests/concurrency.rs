//! Commands on one state folder from several processes at once wait for each other instead of
//! failing. In: a project with alice and bob; 8 threads, each running 50 `biscol` commands in
//! a row (deploy, mine, state, and a claim of an instance it deployed). Out: every command
//! succeeds (exit 0), and afterwards the store holds exactly the instances that were reported
//! deployed, each spent one as spent: nothing lost, nothing doubled.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{biscol_in, htlc_deploy, htlc_project, ok_in};

const PREIMAGE: &str = "000000000000000000000000000000000000000000000000000000000000002a";
const HASH: &str = "hash=0a28e9ffef0073f9a6a674cf57ee77307f38f0f1bebb087888d9011ed0eeefdf";
const PROCESSES: usize = 8;
const ROUNDS: usize = 50;

/// What one worker saw acknowledged.
#[derive(Debug, Default)]
struct Acknowledged {
    deployed: Vec<String>,
    spent: Vec<String>,
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn worker(dir: &Path, index: usize) -> Acknowledged {
    let mut seen = Acknowledged::default();
    let mut unspent: Vec<String> = Vec::new();
    let deploy = {
        let mut args = htlc_deploy(HASH, "0.001btc");
        args.extend(["--format", "json"]);
        args
    };
    let preimage = format!("preimage={PREIMAGE}");
    for round in 0..ROUNDS {
        let args: Vec<&str> = match (index + round) % 4 {
            0 => deploy.clone(),
            1 => vec!["mine", "1"],
            2 => vec!["state", "--format", "json"],
            _ => match unspent.last() {
                Some(id) => vec!["spend", id, "claim", "--arg", &preimage, "--format", "json"],
                None => deploy.clone(),
            },
        };
        let out = biscol_in(dir, &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "worker {index} round {round} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        match args[0] {
            "deploy" => {
                let id = json(&out)["instance"]
                    .as_str()
                    .expect("the instance id")
                    .to_string();
                unspent.push(id.clone());
                seen.deployed.push(id);
            }
            "spend" => {
                let id = unspent.pop().expect("spent what it deployed");
                seen.spent.push(id);
            }
            _ => {}
        }
    }
    seen
}

#[test]
fn eight_processes_fifty_rounds_all_succeed_and_nothing_is_lost() {
    let project = htlc_project();
    ok_in(project.path(), &["key", "new", "alice"]);
    ok_in(project.path(), &["key", "new", "bob"]);
    let dir: Arc<Path> = Arc::from(project.path());
    let workers: Vec<_> = (0..PROCESSES)
        .map(|i| {
            let dir = Arc::clone(&dir);
            std::thread::spawn(move || worker(&dir, i))
        })
        .collect();
    let seen: Vec<Acknowledged> = workers
        .into_iter()
        .map(|w| w.join().expect("a worker panicked"))
        .collect();

    let mut deployed: Vec<String> = seen.iter().flat_map(|s| s.deployed.clone()).collect();
    let spent: Vec<String> = seen.iter().flat_map(|s| s.spent.clone()).collect();
    deployed.sort();
    let count = deployed.len();
    deployed.dedup();
    assert_eq!(deployed.len(), count, "an instance id was reported twice");

    let listing = json(&ok_in(&dir, &["state", "--format", "json"]));
    let mut stored: Vec<String> = listing
        .as_array()
        .expect("a list of instances")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect();
    stored.sort();
    assert_eq!(
        stored, deployed,
        "the store holds exactly what was acknowledged"
    );
    for id in &spent {
        let state = json(&ok_in(&dir, &["state", id, "--format", "json"]));
        assert_eq!(state["status"], "spent", "{id}");
    }
    println!(
        "{PROCESSES} processes x {ROUNDS} rounds: {} deployed, {} spent, all commands succeeded",
        deployed.len(),
        spent.len()
    );
}

#[test]
fn a_command_waits_for_the_lock_says_so_and_gives_up_at_its_timeout() {
    let project = htlc_project();
    let store = project.path().join(".biscol/store");
    // This process holds the store, as another biscol would.
    let held = biscol_runtime::state::Store::open(&store).expect("the store opens");
    let out = biscol_in(project.path(), &["--lock-timeout", "1s", "mine", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("waiting for the state folder"), "{stderr}");
    assert!(
        stderr.contains("still in use after waiting 1 s"),
        "{stderr}"
    );

    // Let go while a command waits: it goes on and succeeds.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_biscol"))
        .args(["mine", "1"])
        .current_dir(project.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("biscol starts");
    std::thread::sleep(std::time::Duration::from_millis(700));
    drop(held);
    let out = child.wait_with_output().expect("biscol ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("waiting for the state folder"), "{stderr}");
}

#[test]
fn read_only_commands_read_beside_a_writer_without_waiting() {
    let project = htlc_project();
    let dir = project.path();
    ok_in(dir, &["key", "new", "alice"]);
    ok_in(dir, &["key", "new", "bob"]);
    let deployed = json(&ok_in(
        dir,
        &[htlc_deploy(HASH, "0.1btc"), vec!["--format", "json"]].concat(),
    ));
    let id = deployed["instance"]
        .as_str()
        .expect("an instance id")
        .to_string();
    // This process holds the store and the chain, as a writing biscol would.
    let store = biscol_runtime::state::Store::open(dir.join(".biscol/store")).expect("store");
    let chain = biscol_runtime::chain::embedded::EmbeddedChain::open(dir.join(".biscol/chain"))
        .expect("chain");
    let height = biscol_runtime::chain::ChainBackend::tip(&chain)
        .expect("tip")
        .height;
    let listing = json(&ok_in(
        dir,
        &["--lock-timeout", "0s", "state", "--format", "json"],
    ));
    assert_eq!(listing[0]["id"], id.as_str());
    assert_eq!(listing[0]["status"], "deployed");
    let one = json(&ok_in(
        dir,
        &["--lock-timeout", "0s", "state", &id, "--format", "json"],
    ));
    assert_eq!(one["id"], id.as_str());
    let events = ok_in(dir, &["--lock-timeout", "0s", "events", "--format", "json"]);
    assert!(String::from_utf8_lossy(&events.stdout).contains(&id));
    let info = json(&ok_in(
        dir,
        &["--lock-timeout", "0s", "chain", "info", "--format", "json"],
    ));
    assert_eq!(info["height"], height);
    let keys = ok_in(dir, &["--lock-timeout", "0s", "key", "list"]);
    assert!(String::from_utf8_lossy(&keys.stdout).contains("alice"));
    for out in [&events, &keys] {
        assert!(!String::from_utf8_lossy(&out.stderr).contains("waiting"));
    }
    // A command that writes still waits for the writer, and gives up at its timeout.
    let out = biscol_in(dir, &["--lock-timeout", "0s", "mine", "1"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // The writer's work after the readers opened is not lost to them, and theirs changed
    // nothing: the store is as this process left it.
    assert_eq!(store.instances().expect("instances").len(), 1);
    drop((store, chain));
    let after = json(&ok_in(dir, &["chain", "info", "--format", "json"]));
    assert_eq!(after["height"], height);
}
