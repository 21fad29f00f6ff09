//! Benchmark of the contract state store: `Store::instance(id)` on a store of 100,000
//! instances, each with a funding and a spend transaction, an execution and 3–4 events.
//!
//! Besides criterion's figures it prints the p50 and p99 of 10,000 random lookups timed one
//! by one, and of single committed writes (each fsynced), since the latency target is on the
//! tail. The store lives in a temporary folder on disk, as in use.

use std::hint::black_box;
use std::time::{Duration, Instant};

use biscol_runtime::state::{NewInstance, NewSpend, Recorder, Store};
use bitcoin::hashes::Hash;
use bitcoin::{
    absolute, transaction, Amount, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxOut, Txid, Witness,
};
use criterion::{criterion_group, criterion_main, Criterion};

const INSTANCES: u64 = 100_000;
const AMOUNT: Amount = Amount::from_sat(50_000);

fn script() -> ScriptBuf {
    let mut bytes = vec![0x51, 0x20];
    bytes.extend([7u8; 32]);
    ScriptBuf::from_bytes(bytes)
}

fn tx(previous_output: OutPoint, value: Amount, script_pubkey: ScriptBuf) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value,
            script_pubkey,
        }],
    }
}

fn funding(seed: u64) -> Transaction {
    let mut prev = [0u8; 32];
    prev[..8].copy_from_slice(&seed.to_le_bytes());
    tx(
        OutPoint::new(Txid::from_byte_array(prev), 0),
        AMOUNT,
        script(),
    )
}

/// Records one instance through funding, deployment, a spend and (every other one) the
/// spend's confirmation.
fn one_instance(
    batch: &mut biscol_runtime::state::Batch<'_>,
    artifact: &str,
    seed: u64,
    args: &[(String, String)],
) -> String {
    let script = script();
    let ftx = funding(seed);
    let ftxid = ftx.compute_txid();
    let id = batch
        .record_funding(&NewInstance {
            artifact_id: artifact,
            contract: "Htlc",
            network: Network::Regtest,
            args,
            descriptor: "tr(0250929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0,{pk(a),and_v(v:sha256(h),pk(b))})",
            address: "bcrt1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0sgcyc0j",
            script_pubkey: &script,
            amount: AMOUNT,
            funding_tx: &ftx,
            vout: 0,
            fee: Amount::from_sat(200),
            watch: None,
            time: seed,
        })
        .expect("record_funding");
    batch
        .confirm_funding(&id, &ftxid, 1, seed)
        .expect("confirm_funding");
    let stx = tx(
        OutPoint::new(ftxid, 0),
        Amount::from_sat(49_000),
        ScriptBuf::new(),
    );
    let stxid = batch
        .record_spend(&NewSpend {
            instance: &id,
            path: "claim",
            args,
            tx: &stx,
            fee: Amount::from_sat(1000),
            vsize: 120,
            time: seed,
        })
        .expect("record_spend");
    if seed.is_multiple_of(2) {
        batch
            .confirm_spend(&id, &stxid, 2, seed)
            .expect("confirm_spend");
    }
    id
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    let artifact = store
        .record_artifact(r#"{"format":"biscol-artifact/1"}"#, "Htlc")
        .expect("artifact");
    let args = vec![
        ("sender".to_string(), "02".repeat(33)),
        ("receiver".to_string(), "03".repeat(33)),
        ("hash".to_string(), "ab".repeat(32)),
        ("timeout".to_string(), "144".to_string()),
    ];
    let started = Instant::now();
    let mut batch = store.batch().expect("batch");
    let ids: Vec<String> = (1..=INSTANCES)
        .map(|seed| one_instance(&mut batch, &artifact, seed, &args))
        .collect();
    batch.commit().expect("commit");
    eprintln!(
        "filled {INSTANCES} instances ({} events) in {:.1?}",
        store.last_event_seq().expect("seq"),
        started.elapsed()
    );

    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    c.bench_function("state/instance(id), 100k instances", |b| {
        b.iter(|| {
            let id = &ids[(rng.next() % INSTANCES) as usize];
            black_box(store.instance(id).expect("instance").expect("present"))
        })
    });

    // The tail, timed one lookup at a time.
    let mut times: Vec<Duration> = (0..10_000)
        .map(|_| {
            let id = &ids[(rng.next() % INSTANCES) as usize];
            let t = Instant::now();
            black_box(store.instance(id).expect("instance").expect("present"));
            t.elapsed()
        })
        .collect();
    times.sort_unstable();
    eprintln!(
        "instance(id) over 10,000 random lookups: p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );

    // Single committed writes (one SQL transaction and one fsync each).
    let mut seed = INSTANCES;
    let mut writes: Vec<Duration> = (0..300)
        .map(|_| {
            seed += 1;
            let t = Instant::now();
            let mut batch = store.batch().expect("batch");
            one_instance(&mut batch, &artifact, seed, &args);
            batch.commit().expect("commit");
            t.elapsed()
        })
        .collect();
    writes.sort_unstable();
    eprintln!(
        "one instance's life (3-4 operations) committed at once, 300 times: p50 {:.1?}, p99 {:.1?}",
        percentile(&writes, 0.50),
        percentile(&writes, 0.99)
    );
    let mut single: Vec<Duration> = (0..300)
        .map(|i| {
            let t = Instant::now();
            store
                .record_event(None, "bench", &serde_json::json!({ "i": i }), 1)
                .expect("event");
            t.elapsed()
        })
        .collect();
    single.sort_unstable();
    eprintln!(
        "record_event (one committed, fsynced write), 300 times: p50 {:.1?}, p99 {:.1?}",
        percentile(&single, 0.50),
        percentile(&single, 0.99)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
