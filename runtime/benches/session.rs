//! Benchmark of the session's two contract operations on the embedded regtest chain, in
//! process, through the same [`Session`] the command line uses: (a) `deploy` of the example
//! HTLC with one confirmation (instantiate, fund from the wallet, record, broadcast, mine a
//! block, record the confirmation), and (b) `spend` through `claim` with one confirmation
//! (plan, sign, verify with the script engine, record, broadcast, mine, record). Targets:
//! under 20 ms each.
//!
//! Each operation is timed on its own: the wallet is funded and, for (b), a pool of deployed
//! instances is made outside the timed part (`iter_custom`). Besides criterion's figures the
//! bench prints the p50/p99 of 200 operations timed one by one and a split of one deploy
//! into its parts (mining a block alone, a committed store write alone), so that a missed
//! target says where the time goes. The state folder lives in a temporary folder on disk,
//! as in use (SQLite with `synchronous=FULL`, so each commit is an fsync).

use std::hint::black_box;
use std::time::{Duration, Instant};

use biscol_runtime::session::{Session, SpendOptions};
use biscol_runtime::testing::TestChain;
use bitcoin::Amount;
use criterion::{criterion_group, criterion_main, Criterion};

#[path = "../tests/common/artifacts.rs"]
mod artifacts;

const HTLC: &str = include_str!("../../examples/htlc.bsc");
const PREIMAGE: &str = "0707070707070707070707070707070707070707070707070707070707070707";
const AMOUNT: Amount = Amount::from_sat(100_000);

struct Fixture {
    chain: TestChain,
    artifact: String,
    args: Vec<(String, String)>,
}

impl Fixture {
    fn new() -> Fixture {
        let mut chain = TestChain::new().expect("test chain");
        // The runtime does not compile: the artifact is the one the compiler built from HTLC.
        let artifact =
            artifacts::artifact_json("example_htlc", "htlc.bsc", HTLC).expect("stored artifact");
        let alice = chain.key("alice").expect("alice");
        let bob = chain.key("bob").expect("bob");
        let args = vec![
            ("sender".to_string(), alice),
            ("receiver".to_string(), bob),
            ("hash".to_string(), TestChain::sha256_hex(PREIMAGE)),
            ("timeout".to_string(), "10".to_string()),
        ];
        // Mature coinbases for many deployments: every deploy also mines one block, so the
        // wallet never has to mine its 101 funding blocks inside a timed deploy.
        chain.mine(300).expect("fund the wallet");
        Fixture {
            chain,
            artifact,
            args,
        }
    }

    fn session(&mut self) -> &mut Session {
        self.chain.session()
    }

    fn deploy(&mut self) -> String {
        let (artifact, args) = (self.artifact.clone(), self.args.clone());
        self.session()
            .deploy(&artifact, &args, AMOUNT, None, true)
            .expect("deploy")
            .instance
    }

    fn spend(&mut self, id: &str) {
        let args = vec![("preimage".to_string(), PREIMAGE.to_string())];
        let out = self
            .session()
            .spend(id, "claim", &args, &SpendOptions::default())
            .expect("spend");
        black_box(out.height);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort_unstable();
    eprintln!(
        "{name}, {} timed one by one: p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
}

fn bench(c: &mut Criterion) {
    let mut f = Fixture::new();

    let mut group = c.benchmark_group("session");
    group.sample_size(30);
    group.bench_function("deploy htlc + 1 confirmation", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(f.deploy());
            }
            start.elapsed()
        })
    });
    group.bench_function("spend htlc claim + 1 confirmation", |b| {
        b.iter_custom(|iters| {
            // The pool of deployed instances, made outside the timed part.
            let pool: Vec<String> = (0..iters).map(|_| f.deploy()).collect();
            let start = Instant::now();
            for id in &pool {
                f.spend(id);
            }
            start.elapsed()
        })
    });
    group.finish();

    // The tail, one operation at a time.
    let deploys: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            black_box(f.deploy());
            t.elapsed()
        })
        .collect();
    report("deploy + 1 confirmation", deploys);
    let pool: Vec<String> = (0..200).map(|_| f.deploy()).collect();
    let spends: Vec<Duration> = pool
        .iter()
        .map(|id| {
            let t = Instant::now();
            f.spend(id);
            t.elapsed()
        })
        .collect();
    report("spend + 1 confirmation", spends);

    // Where the time goes: one block mined on its own (PoW, block write, UTXO update, the
    // store's `mined` event and a reconcile), a dry-run spend (plan, sign, verify, no write,
    // no block), and a bare chain `mine` without the session's bookkeeping.
    let mines: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            f.chain.mine(1).expect("mine");
            t.elapsed()
        })
        .collect();
    report("session mine 1 (empty block, event, reconcile)", mines);
    let id = f.deploy();
    let args = vec![("preimage".to_string(), PREIMAGE.to_string())];
    let dry_run = SpendOptions {
        dry_run: true,
        wait: false,
        ..SpendOptions::default()
    };
    let dry: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            black_box(
                f.session()
                    .spend(&id, "claim", &args, &dry_run)
                    .expect("dry run"),
            );
            t.elapsed()
        })
        .collect();
    report(
        "spend --dry-run (plan, sign, verify; no write, no block)",
        dry,
    );
    let height = f.session().chain().tip().expect("tip").height;
    eprintln!("chain height at the end: {height}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
