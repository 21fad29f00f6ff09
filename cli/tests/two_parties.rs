//! A contract between two parties on two machines: each has their own project folder with
//! their own keystore holding only their own key, and both reach one chain, a `biscol node`
//! running from a third folder (as two machines would reach one network).
//!
//! Alice deploys an HTLC to Bob's public key; Bob watches it from his folder (`biscol watch`)
//! and claims it with the preimage; Alice's `state` then shows the claim and the preimage it
//! revealed, in her own folder, learnt from the chain alone. A second HTLC is watched by Bob
//! through its outpoint and refunded by Alice after the timeout; Bob's folder records that.
//! A watch of what nothing pays yet waits and finds the payment when it comes; `deploy
//! --no-fund` prints an address that the other party pays. Watching an output already
//! recorded, or an outpoint that does not pay the address, is refused with exit code 2.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bitcoin::hashes::{sha256, Hash};
use common::{biscol_in, ok_in, NodeProcess};
use serde_json::Value;

const PREIMAGE: [u8; 32] = [0x2a; 32];

/// Starts `biscol node` on its own state folder in `dir`; returns it, its JSON-RPC URL and
/// its cookie file.
fn start_node(dir: &Path) -> (NodeProcess, String, PathBuf) {
    let state = dir.join("node");
    let mut child = Command::new(env!("CARGO_BIN_EXE_biscol"))
        .args(["--state-dir", state.to_str().unwrap(), "--new", "node"])
        .args(["--rpc-port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    let node = NodeProcess { child };
    let mut url = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("node output");
        if let Some(rest) = line.trim().strip_prefix("JSON-RPC ") {
            url = Some(rest.trim().to_string());
        }
        if line.contains("Ctrl-C stops") {
            break;
        }
    }
    let cookie = state.join("chain/.cookie");
    (node, url.expect("the node prints its address"), cookie)
}

/// One party's project: the example HTLC built, the chain the node's, one key `name`.
fn party(name: &str, url: &str, cookie: &Path) -> tempfile::TempDir {
    let dir = common::htlc_project();
    std::fs::write(
        dir.path().join("Biscol.toml"),
        format!(
            "[biscol]\nbackend = \"core\"\nrpc_url = \"{url}\"\nrpc_cookie = \"{}\"\n",
            cookie.display()
        ),
    )
    .unwrap();
    ok_in(dir.path(), &["key", "new", name]);
    dir
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = ok_in(dir, args);
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn text(dir: &Path, args: &[&str]) -> String {
    String::from_utf8(ok_in(dir, args).stdout).expect("UTF-8")
}

fn public_key(dir: &Path, name: &str) -> String {
    json(dir, &["key", "show", name, "--format", "json"])["public_key"]
        .as_str()
        .expect("public_key")
        .to_string()
}

/// The HTLC's arguments, `--arg` by `--arg`, with a timeout of 10 blocks.
fn htlc_args(sender: &str, receiver: &str) -> Vec<String> {
    htlc_args_with(sender, receiver, "10")
}

fn htlc_args_with(sender: &str, receiver: &str, timeout: &str) -> Vec<String> {
    let hash = sha256::Hash::hash(&PREIMAGE).to_string();
    [
        format!("sender={sender}"),
        format!("receiver={receiver}"),
        format!("hash={hash}"),
        format!("timeout={timeout}"),
    ]
    .into_iter()
    .flat_map(|a| ["--arg".to_string(), a])
    .collect()
}

fn with<'a>(head: &[&'a str], args: &'a [String], tail: &[&'a str]) -> Vec<&'a str> {
    let mut v = head.to_vec();
    v.extend(args.iter().map(String::as_str));
    v.extend(tail);
    v
}

#[test]
fn an_htlc_between_two_folders_through_watch() {
    let chain_dir = tempfile::tempdir().expect("tempdir");
    let (_node, url, cookie) = start_node(chain_dir.path());
    let alice = party("alice", &url, &cookie);
    let bob = party("bob", &url, &cookie);
    let (a, b) = (alice.path(), bob.path());
    let alice_key = public_key(a, "alice");
    let bob_key = public_key(b, "bob");
    // Each keystore holds one key: Bob's folder cannot sign for Alice, nor hers for Bob.
    assert!(biscol_in(a, &["key", "show", "bob"]).status.code() == Some(2));
    assert!(biscol_in(b, &["key", "show", "alice"]).status.code() == Some(2));

    ok_in(a, &["mine", "101"]);
    let alice_args = htlc_args("@alice", &bob_key);
    let bob_args = htlc_args(&alice_key, "@bob");
    let deploy = with(
        &["deploy", "build/Htlc.json"],
        &alice_args,
        &["--amount", "0.01btc", "--format", "json"],
    );
    let claimed = json(a, &deploy);

    // Bob derives the same address from the same artifact and arguments, and finds it.
    let watch = with(
        &["watch", "build/Htlc.json"],
        &bob_args,
        &["--format", "json"],
    );
    let watched = json(b, &watch);
    assert_eq!(watched["address"], claimed["address"]);
    assert_eq!(watched["txid"], claimed["txid"]);
    assert_eq!(watched["amount"], 1_000_000);
    let bob_id = watched["instance"].as_str().expect("instance").to_string();
    let st = json(b, &["state", &bob_id, "--format", "json"]);
    assert_eq!(st["status"], "deployed");
    // Watching the same output again is refused (in JSON, on stdout).
    let again = biscol_in(b, &watch);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already recorded"),
        "{again:?}"
    );

    // Bob claims from his folder.
    let preimage = format!("preimage={}", hex::encode(PREIMAGE));
    let claim = json(
        b,
        &[
            "spend", &bob_id, "claim", "--arg", &preimage, "--format", "json",
        ],
    );
    assert_eq!(
        json(b, &["state", &bob_id, "--format", "json"])["status"],
        "spent"
    );

    // Alice learns it from the chain: the path, the transaction and the preimage.
    let alice_id = claimed["instance"].as_str().unwrap();
    let st = json(a, &["state", alice_id, "--format", "json"]);
    assert_eq!(st["status"], "spent", "{st}");
    assert_eq!(st["spend_txid"], claim["txid"]);
    let execution = &st["executions"][0];
    assert_eq!(execution["path"], "claim");
    assert_eq!(
        execution["args"],
        serde_json::json!([["preimage", hex::encode(PREIMAGE)]])
    );
    let shown = text(a, &["state", alice_id]);
    assert!(
        shown.contains("through `claim`")
            && shown.contains(&format!("revealing preimage {}", hex::encode(PREIMAGE))),
        "{shown}"
    );
    let events = text(a, &["events", "--format", "json"]);
    assert!(
        events
            .lines()
            .any(|l| l.contains("spend_broadcast") && l.contains(&hex::encode(PREIMAGE))),
        "{events}"
    );

    // A second HTLC, watched through its outpoint and refunded by Alice after the timeout.
    let refunded = json(a, &deploy);
    let outpoint = format!(
        "{}:{}",
        refunded["txid"].as_str().unwrap(),
        refunded["vout"]
    );
    let watch_at = with(
        &["watch", "build/Htlc.json"],
        &bob_args,
        &["--outpoint", &outpoint, "--format", "json"],
    );
    let bob_second = json(b, &watch_at)["instance"].as_str().unwrap().to_string();
    ok_in(a, &["mine", "10"]);
    let refund_id = refunded["instance"].as_str().unwrap();
    let refund = json(a, &["spend", refund_id, "refund", "--format", "json"]);
    let st = json(b, &["state", &bob_second, "--format", "json"]);
    assert_eq!(st["status"], "spent", "{st}");
    assert_eq!(st["spend_txid"], refund["txid"]);
    assert_eq!(st["executions"][0]["path"], "refund");
    assert_eq!(st["executions"][0]["args"], serde_json::json!([]));

    // A wrong outpoint is named: other arguments give another address.
    let later = htlc_args_with(&alice_key, "@bob", "20");
    let wrong = biscol_in(
        b,
        &with(
            &["watch", "build/Htlc.json"],
            &later,
            &["--outpoint", &outpoint],
        ),
    );
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("does not pay the contract's address"),
        "{wrong:?}"
    );

    // Watching before anything pays: Bob's watch waits, and Alice's deployment is found.
    let waiting = json(
        b,
        &with(&["watch", "build/Htlc.json"], &later, &["--format", "json"]),
    );
    assert_eq!(waiting["status"], "watching", "{waiting}");
    let waiting_id = waiting["instance"].as_str().unwrap().to_string();
    let listed = json(b, &["state", "--format", "json"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == waiting_id.as_str() && i["status"] == "watching"),
        "{listed}"
    );
    assert!(text(b, &["state", &waiting_id]).contains("nothing pays its address yet"));
    let funded_later = json(
        a,
        &with(
            &["deploy", "build/Htlc.json"],
            &htlc_args_with("@alice", &bob_key, "20"),
            &["--amount", "0.02btc", "--format", "json"],
        ),
    );
    assert_eq!(funded_later["address"], waiting["address"]);
    let st = json(b, &["state", &waiting_id, "--format", "json"]);
    assert_eq!(st["status"], "deployed", "{st}");
    assert_eq!(st["funding_txid"], funded_later["txid"]);
    assert_eq!(st["amount"], 2_000_000);

    // `deploy --no-fund`: Alice prints the address and watches it; Bob pays it, from his own
    // wallet, by deploying the same contract; Alice's next command records the instance.
    let no_fund_args = htlc_args_with("@alice", &bob_key, "30");
    let unfunded = json(
        a,
        &with(
            &["deploy", "build/Htlc.json"],
            &no_fund_args,
            &["--no-fund", "--format", "json"],
        ),
    );
    assert_eq!(unfunded["status"], "watching", "{unfunded}");
    let unfunded_id = unfunded["instance"].as_str().unwrap().to_string();
    ok_in(b, &["mine", "101"]);
    let paid = json(
        b,
        &with(
            &["deploy", "build/Htlc.json"],
            &htlc_args_with(&alice_key, "@bob", "30"),
            &["--amount", "0.03btc", "--format", "json"],
        ),
    );
    assert_eq!(paid["address"], unfunded["address"]);
    let st = json(a, &["state", &unfunded_id, "--format", "json"]);
    assert_eq!(st["status"], "deployed", "{st}");
    assert_eq!(st["funding_txid"], paid["txid"]);
    // `--no-fund` takes no amount.
    let both = biscol_in(
        a,
        &with(
            &["deploy", "build/Htlc.json"],
            &no_fund_args,
            &["--no-fund", "--amount", "1btc"],
        ),
    );
    assert_eq!(both.status.code(), Some(2), "{both:?}");
}

/// An escrow between three folders, one key each: the buyer writes the dispute spend as a PSBT
/// (signed with their key), `psbt show` names the missing signatures, the arbiter signs it in
/// theirs, and the seller finishes and broadcasts it; the buyer's folder learns the spend.
#[test]
fn an_escrow_dispute_signed_in_three_folders_through_a_psbt() {
    let chain_dir = tempfile::tempdir().expect("tempdir");
    let (_node, url, cookie) = start_node(chain_dir.path());
    let folders: Vec<tempfile::TempDir> = ["buyer", "seller", "arbiter"]
        .iter()
        .map(|name| {
            let dir = party(name, &url, &cookie);
            let escrow = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib/escrow.bsc");
            ok_in(
                dir.path(),
                &["build", escrow.to_str().unwrap(), "-o", "build"],
            );
            dir
        })
        .collect();
    let (buyer, seller, arbiter) = (folders[0].path(), folders[1].path(), folders[2].path());
    let keys: Vec<String> = [(buyer, "buyer"), (seller, "seller"), (arbiter, "arbiter")]
        .iter()
        .map(|(dir, name)| public_key(dir, name))
        .collect();
    // Each party's arguments: its own key as `@NAME`, the others' as hex.
    let args_of = |me: usize| -> Vec<String> {
        ["buyer", "seller", "arbiter"]
            .iter()
            .enumerate()
            .flat_map(|(i, role)| {
                let value = if i == me {
                    format!("@{role}")
                } else {
                    keys[i].clone()
                };
                ["--arg".to_string(), format!("{role}={value}")]
            })
            .chain(["--arg".to_string(), "timeout=50".to_string()])
            .collect()
    };
    ok_in(buyer, &["mine", "101"]);
    let buyer_args = args_of(0);
    let deployed = json(
        buyer,
        &with(
            &["deploy", "build/Escrow.json"],
            &buyer_args,
            &["--amount", "0.05btc", "--format", "json"],
        ),
    );
    let outpoint = format!(
        "{}:{}",
        deployed["txid"].as_str().unwrap(),
        deployed["vout"]
    );
    let mut ids = vec![deployed["instance"].as_str().unwrap().to_string()];
    for (me, dir) in [(1, seller), (2, arbiter)] {
        let a = args_of(me);
        let w = json(
            dir,
            &with(
                &["watch", "build/Escrow.json"],
                &a,
                &["--outpoint", &outpoint, "--format", "json"],
            ),
        );
        ids.push(w["instance"].as_str().unwrap().to_string());
    }

    // The buyer writes the PSBT and signs it with their key.
    let file = chain_dir.path().join("dispute.psbt");
    let file_arg = file.to_str().unwrap();
    let written = json(
        buyer,
        &[
            "spend", &ids[0], "dispute", "--psbt", file_arg, "--format", "json",
        ],
    );
    assert_eq!(
        written["signed_by"],
        serde_json::json!(["buyer"]),
        "{written}"
    );
    let shown = json(buyer, &["psbt", "show", file_arg, "--format", "json"]);
    assert_eq!(shown["path"], "dispute");
    assert_eq!(shown["complete"], false);
    assert_eq!(shown["signed"][0]["name"], "buyer", "{shown}");
    let unsigned: Vec<&str> = shown["unsigned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(unsigned, ["seller", "arbiter"]);
    let missing = shown["missing"][0].as_str().unwrap();
    assert!(
        missing.contains("two of buyer, seller and arbiter must sign"),
        "{missing}"
    );
    let human = text(seller, &["psbt", "show", file_arg]);
    assert!(human.contains("unsigned  `seller`, `arbiter`"), "{human}");
    // A copy that claims another amount for the coin is refused before anything is shown.
    let mut tampered =
        biscol_runtime::spend::psbt::from_bytes(&std::fs::read(&file).unwrap()).unwrap();
    if let Some(utxo) = tampered.inputs[0].witness_utxo.as_mut() {
        utxo.value += bitcoin::Amount::from_sat(1);
    }
    let tampered_file = chain_dir.path().join("tampered.psbt");
    std::fs::write(
        &tampered_file,
        biscol_runtime::spend::psbt::to_base64(&tampered),
    )
    .unwrap();
    let lie = biscol_in(seller, &["psbt", "show", tampered_file.to_str().unwrap()]);
    assert_eq!(lie.status.code(), Some(2), "{lie:?}");
    assert!(
        String::from_utf8_lossy(&lie.stderr).contains("another coin"),
        "{lie:?}"
    );
    // Finishing now is refused, with the `require` that is not met.
    let early = biscol_in(seller, &["psbt", "finalize", file_arg]);
    assert_eq!(early.status.code(), Some(1), "{early:?}");
    let stderr = String::from_utf8_lossy(&early.stderr);
    assert!(stderr.contains("escrow.bsc:9:9"), "{stderr}");
    // Signing asks first: without a terminal it needs --yes.
    let asked = biscol_in(arbiter, &["psbt", "sign", file_arg]);
    assert_eq!(asked.status.code(), Some(2), "{asked:?}");
    let signed = text(arbiter, &["psbt", "sign", file_arg, "--yes"]);
    assert!(signed.contains("signed with arbiter"), "{signed}");
    let shown = json(seller, &["psbt", "show", file_arg, "--format", "json"]);
    assert_eq!(shown["complete"], true, "{shown}");

    // The seller finishes and broadcasts it; every folder records the spend.
    let done = json(
        seller,
        &[
            "psbt",
            "finalize",
            file_arg,
            "--broadcast",
            "--format",
            "json",
        ],
    );
    assert_eq!(done["status"], "broadcast", "{done}");
    for (dir, id) in [(seller, &ids[1]), (buyer, &ids[0]), (arbiter, &ids[2])] {
        let st = json(dir, &["state", id, "--format", "json"]);
        assert_eq!(st["status"], "spent", "{st}");
        assert_eq!(st["spend_txid"], done["txid"]);
        assert_eq!(st["executions"][0]["path"], "dispute");
    }

    // A folder that does not know the instance signs nothing.
    let stranger = party("stranger", &url, &cookie);
    let refused = biscol_in(stranger.path(), &["psbt", "sign", file_arg, "--yes"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no instance of this store"));
}
