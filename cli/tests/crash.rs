//! Crash consistency of `biscol deploy` and `biscol spend`, the acceptance test for the
//! runtime's "record before broadcast, reconcile on open" design (see `runtime/src/session.rs`).
//!
//! At least 50 times, a `deploy` or a `spend` (alternately) runs as a child process and is
//! killed with SIGKILL after a random delay, spread uniformly over 1.2× the time the same
//! command takes uninterrupted (measured first), so kills land before the store records the
//! transaction, between the record and the broadcast, after the broadcast and after the
//! confirmation. The PRNG is seeded; the seed is printed, and `BISCOL_CRASH_SEED=<n>` replays
//! a run (`BISCOL_CRASH_KILLS=<n>` changes the number of kills).
//!
//! After each kill, with the library (the process is dead, so nothing holds the files):
//! * the store's `integrity_check()` is empty and the embedded chain's `check_consistency()`
//!   is clean;
//! * no instance is lost: every non-coinbase transaction in a block or in the mempool whose
//!   output 0 does not pay the wallet (a funding transaction: output 0 pays the contract) is
//!   a transaction of the store, and every transaction spending an instance's funding output
//!   is one of the store's.
//!
//! Then `biscol state --format json` (which reconciles on open) must succeed, every instance
//! whose funding transaction is in a block must be `deployed` or later, and after
//! `biscol mine 1` no instance may be left `funding`, `spending` or `failed`. The test prints
//! how many kills landed in each phase, inferred from what the store and the chain show.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::chain::ChainBackend;
use biscol_runtime::state::{InstanceRecord, InstanceStatus, Store};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Address, OutPoint, ScriptBuf, Transaction, Txid};
use common::htlc_args;

const PREIMAGE: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const DEFAULT_KILLS: u32 = 100;

/// splitmix64: small, seeded, good enough to spread delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, max].
    fn duration(&mut self, max: Duration) -> Duration {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        max.mul_f64(unit)
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    cwd: PathBuf,
    state: PathBuf,
    artifact: PathBuf,
    hash: String,
    wallet_spk: ScriptBuf,
    deploys: u32,
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("the binary runs")
}

fn check_ok(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let cwd = dir.path().to_path_buf();
        let state = cwd.join("state");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/htlc.bsc");
        let build = cwd.join("build");
        let mut h = Harness {
            _dir: dir,
            cwd,
            state,
            artifact: build.join("Htlc.json"),
            hash: sha256::Hash::hash(&[7u8; 32]).to_string(),
            wallet_spk: ScriptBuf::new(),
            deploys: 0,
        };
        h.ok(&[
            "build",
            example.to_str().unwrap(),
            "-o",
            build.to_str().unwrap(),
        ]);
        h.ok(&["--new", "key", "new", "alice"]);
        h.ok(&["key", "new", "bob"]);
        let info: serde_json::Value =
            serde_json::from_str(&h.ok(&["chain", "info", "--format", "json"])).expect("JSON");
        let address: Address<bitcoin::address::NetworkUnchecked> = info["wallet_address"]
            .as_str()
            .expect("wallet_address")
            .parse()
            .expect("an address");
        h.wallet_spk = address.assume_checked().script_pubkey();
        h
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_biscol"));
        cmd.arg("--state-dir")
            .arg(&self.state)
            .args(args)
            .current_dir(&self.cwd)
            .env("NO_COLOR", "1");
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        check_ok(&output(&mut self.command(args)), &args.join(" "))
    }

    /// A deploy command; each deploy gets its own timeout, hence its own address.
    fn deploy_command(&mut self) -> Command {
        self.deploys += 1;
        let hash = format!("hash={}", self.hash);
        let timeout = format!("timeout={}", 10 + self.deploys);
        let mut argv = vec!["deploy", self.artifact.to_str().unwrap()];
        argv.extend(htlc_args(&hash, &timeout));
        argv.extend(["--amount", "100000sat"]);
        self.command(&argv)
    }

    fn spend_command(&self, instance: &str) -> Command {
        let preimage = format!("preimage={PREIMAGE}");
        self.command(&["spend", instance, "claim", "--arg", &preimage])
    }

    /// Runs `cmd` to the end and returns how long it took.
    fn timed(cmd: &mut Command, what: &str) -> Duration {
        let start = Instant::now();
        let out = output(cmd);
        let took = start.elapsed();
        check_ok(&out, what);
        took
    }

    /// The store and the chain, checked, as the library sees them; both are closed again.
    fn view(&self) -> View {
        let store = Store::open(self.state.join("store")).expect("the store opens after a kill");
        let problems = store.integrity_check().expect("integrity_check runs");
        assert!(problems.is_empty(), "store integrity: {problems:#?}");
        let chain = EmbeddedChain::open(self.state.join("chain")).expect("the chain opens");
        chain
            .check_consistency()
            .expect("the chain is consistent after a kill");
        let mut confirmed = HashMap::new();
        for height in 1..=chain.height() {
            let block = chain.block(height).expect("read").expect("stored block");
            for tx in block.txdata.into_iter().filter(|t| !t.is_coinbase()) {
                confirmed.insert(tx.compute_txid(), tx);
            }
        }
        let mut mempool = HashMap::new();
        for txid in chain.mempool_txids() {
            let tx = chain.transaction(&txid).expect("read").expect("mempool tx");
            mempool.insert(txid, tx);
        }
        let instances: Vec<InstanceRecord> = store
            .instances()
            .expect("instances")
            .iter()
            .map(|s| store.instance(&s.id).expect("read").expect("listed"))
            .collect();
        drop(chain);
        drop(store);
        let view = View {
            instances,
            confirmed,
            mempool,
        };
        view.check_nothing_lost(&self.wallet_spk);
        view
    }
}

struct View {
    instances: Vec<InstanceRecord>,
    confirmed: HashMap<Txid, Transaction>,
    mempool: HashMap<Txid, Transaction>,
}

impl View {
    fn instance(&self, id: &str) -> Option<&InstanceRecord> {
        self.instances.iter().find(|i| i.id == id)
    }

    fn ids(&self) -> HashSet<String> {
        self.instances.iter().map(|i| i.id.clone()).collect()
    }

    /// Where `txid` is: `block`, `mempool` or `nowhere`.
    fn place(&self, txid: &Txid) -> &'static str {
        if self.confirmed.contains_key(txid) {
            "block"
        } else if self.mempool.contains_key(txid) {
            "mempool"
        } else {
            "nowhere"
        }
    }

    fn check_nothing_lost(&self, wallet_spk: &ScriptBuf) {
        let recorded: HashSet<Txid> = self
            .instances
            .iter()
            .flat_map(|i| i.transactions.iter().map(|t| t.txid))
            .collect();
        let funding: HashMap<OutPoint, &str> = self
            .instances
            .iter()
            .map(|i| (OutPoint::new(i.funding_txid, i.funding_vout), i.id.as_str()))
            .collect();
        for (txid, tx) in self.confirmed.iter().chain(self.mempool.iter()) {
            let pays_contract = tx
                .output
                .first()
                .is_some_and(|o| o.script_pubkey != *wallet_spk);
            assert!(
                !pays_contract || recorded.contains(txid),
                "lost instance: {txid} ({}) pays {} but the store does not know it",
                self.place(txid),
                tx.output[0].script_pubkey
            );
            for input in &tx.input {
                if let Some(id) = funding.get(&input.previous_output) {
                    assert!(
                        recorded.contains(txid),
                        "{txid} ({}) spends {id}'s coin but the store does not know it",
                        self.place(txid)
                    );
                }
            }
        }
    }
}

fn statuses(state_json: &str) -> Vec<(String, String)> {
    let list: serde_json::Value = serde_json::from_str(state_json).expect("state JSON");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|i| {
            (
                i["id"].as_str().expect("id").to_string(),
                i["status"].as_str().expect("status").to_string(),
            )
        })
        .collect()
}

#[test]
fn kill_deploy_and_spend_at_random_points() {
    let seed = std::env::var("BISCOL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let kills: u32 = std::env::var("BISCOL_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_KILLS);
    println!("crash test: seed {seed} (BISCOL_CRASH_SEED={seed} replays it), {kills} kills");
    let mut rng = Rng(seed);
    let mut h = Harness::new();

    // Uninterrupted runs first: the first deploy also mines the wallet's 101 blocks, so the
    // times are taken on the next ones.
    Harness::timed(&mut h.deploy_command(), "first deploy");
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let deploy_time = median(
        (0..5)
            .map(|_| Harness::timed(&mut h.deploy_command(), "deploy"))
            .collect(),
    );
    let spend_time = median(
        (1..=5)
            .map(|n| Harness::timed(&mut h.spend_command(&format!("htlc-{n}")), "spend"))
            .collect(),
    );
    println!(
        "uninterrupted: deploy {deploy_time:.0?}, spend {spend_time:.0?} (medians of 5); \
         kill delays uniform in [0, 1.2x] of these"
    );

    let mut phases: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for i in 0..kills {
        let before = h.view();
        let (op, mut cmd, max, target) = if i % 2 == 0 {
            ("deploy", h.deploy_command(), deploy_time, None)
        } else {
            let deployed = |v: &View| {
                v.instances
                    .iter()
                    .find(|r| r.status == InstanceStatus::Deployed)
                    .map(|r| r.id.clone())
            };
            let id = match deployed(&before) {
                Some(id) => id,
                None => {
                    Harness::timed(&mut h.deploy_command(), "supply deploy");
                    deployed(&h.view()).expect("the supply deploy is deployed")
                }
            };
            ("spend", h.spend_command(&id), spend_time, Some(id))
        };
        let before = h.view();
        let delay = rng.duration(max.mul_f64(1.2));
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        // Err when it already exited: then it ran to the end.
        let _ = child.kill();
        let status = child.wait().expect("wait");
        let after = h.view();

        // Which phase the kill landed in, from what the store and the chain show.
        let phase = match &target {
            None => {
                let new: Vec<String> = after.ids().difference(&before.ids()).cloned().collect();
                assert!(new.len() <= 1, "one deploy made {new:?}");
                match new.first().and_then(|id| after.instance(id)) {
                    None => "before record",
                    Some(r) => match (r.status, after.place(&r.funding_txid)) {
                        (InstanceStatus::Funding, "nowhere") => "recorded, not broadcast",
                        (InstanceStatus::Funding, "mempool") => "broadcast, not confirmed",
                        (InstanceStatus::Funding, "block") => "confirmed, not yet recorded",
                        (InstanceStatus::Deployed, _) => "completed",
                        (s, p) => panic!("deploy left {} {s} with its tx in {p}", r.id),
                    },
                }
            }
            Some(id) => {
                let r = after.instance(id).expect("the instance is still there");
                match (r.status, r.spend_txid.as_ref().map(|t| after.place(t))) {
                    (InstanceStatus::Deployed, _) => "before record",
                    (InstanceStatus::Spending, Some("nowhere")) => "recorded, not broadcast",
                    (InstanceStatus::Spending, Some("mempool")) => "broadcast, not confirmed",
                    (InstanceStatus::Spending, Some("block")) => "confirmed, not yet recorded",
                    (InstanceStatus::Spent, _) => "completed",
                    (s, p) => panic!("spend left {id} {s} with its tx in {p:?}"),
                }
            }
        };
        *phases.entry((op, phase)).or_default() += 1;
        println!(
            "kill {i:>3}: {op:<6} after {delay:>6.1?} ({}): {phase}",
            if status.success() {
                "had finished".to_string()
            } else {
                format!("{status}")
            }
        );

        // Reconcile on open: `biscol state` succeeds, and confirmed fundings are recorded.
        h.ok(&["state", "--format", "json"]);
        let reconciled = h.view();
        for r in &reconciled.instances {
            if reconciled.place(&r.funding_txid) == "block" {
                assert!(
                    matches!(
                        r.status,
                        InstanceStatus::Deployed | InstanceStatus::Spending | InstanceStatus::Spent
                    ),
                    "{} is {} but its funding {} is in a block",
                    r.id,
                    r.status,
                    r.funding_txid
                );
            }
            if let Some(t) = &r.spend_txid {
                if reconciled.place(t) == "block" {
                    assert_eq!(r.status, InstanceStatus::Spent, "{}", r.id);
                }
            }
        }
        // One block later nothing is left waiting, and nothing failed.
        h.ok(&["mine", "1"]);
        let listed = h.ok(&["state", "--format", "json"]);
        for (id, status) in statuses(&listed) {
            assert!(
                status == "deployed" || status == "spent",
                "{id} is {status} after reconcile and a block"
            );
        }
        h.view();
    }

    println!("where the {kills} kills landed:");
    for ((op, phase), n) in &phases {
        println!("  {op:<6} {phase:<28} {n}");
    }
    let instances = h.view().instances;
    println!(
        "{} instances at the end: {} deployed, {} spent",
        instances.len(),
        instances
            .iter()
            .filter(|r| r.status == InstanceStatus::Deployed)
            .count(),
        instances
            .iter()
            .filter(|r| r.status == InstanceStatus::Spent)
            .count()
    );
    assert!(kills < 50 || phases.values().sum::<u32>() >= 50);
}
