//! Latency benchmark: on a 5,000-line file, the time from a one-character `didChange` to
//! the `publishDiagnostics` it causes (p50, p95 over 200 edits), through the real server
//! over an in-memory pipe, and the same file's cold check: a fresh database computing what
//! the server publishes ([`db::all_diagnostics`]: parse, resolve, type check, Taproot back
//! end). The front end's cold check alone ([`db::diagnostics`]) is printed too, and so are
//! edits straight on the database: the same in-place edit, and an insertion that moves every
//! item below it.
//!
//! Run: `cargo bench -p biscol-lsp --bench latency`. Targets: p95 under 10 ms and under a
//! tenth of the cold check.

use std::time::{Duration, Instant};

use biscol_compiler::db::{self, Database};
use biscol_lsp::testing::TestClient;

/// A file of `n` lines: contracts of 10 lines each, all different names.
fn big_file(lines: usize) -> String {
    let mut out = String::from("const DAY: Blocks = 144 blocks;\n\n");
    let mut i = 0;
    while out.lines().count() + 10 <= lines {
        out.push_str(&format!(
            "/// Contract number {i}.\ncontract Vault{i}(hot: PubKey, cold: PubKey) {{\n    key cold;\n    @weight(3)\n    spend withdraw() {{\n        require sig(hot) && older(2 * DAY + {} blocks);\n    }}\n    spend recover() {{ require sig(cold); }}\n}}\n\n",
            100 + i % 800
        ));
        i += 1;
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// The median of 11 runs of `run`.
fn median_of_11(mut run: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..11)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    percentile(&times, 0.5)
}

/// 200 edits on one database (`edit(k)` is the text after edit `k`), each timed from
/// `set_file` to the published diagnostics; sorted.
fn database_edits(text: &str, edit: impl Fn(usize) -> String) -> Vec<Duration> {
    let mut database = Database::new();
    let file = database.set_file("/bench/big.bsc", text.to_string());
    let _ = db::all_diagnostics(&database, file).len();
    let mut times = Vec::new();
    for k in 0..200usize {
        let edited = edit(k);
        let start = Instant::now();
        let file = database.set_file("/bench/big.bsc", edited);
        let _ = db::all_diagnostics(&database, file).len();
        times.push(start.elapsed());
    }
    times.sort();
    times
}

fn main() {
    let text = big_file(5000);
    let n_lines = text.lines().count();

    // Cold checks: a fresh database each time, median of 11; what the server publishes
    // (front end and Taproot back end), and the front end alone.
    let cold_median = median_of_11(|| {
        let mut database = Database::new();
        let file = database.set_file("/bench/big.bsc", text.clone());
        let n = db::all_diagnostics(&database, file).len();
        assert_eq!(n, 0, "the benchmark file is clean");
    });
    let cold_front_median = median_of_11(|| {
        let mut database = Database::new();
        let file = database.set_file("/bench/big.bsc", text.clone());
        let n = db::diagnostics(&database, file).len();
        assert_eq!(n, 0, "the benchmark file is clean");
    });

    // The same edits straight on the database, without the protocol: what salsa re-runs.
    let direct = database_edits(&text, |k| {
        if k % 2 == 0 {
            text.replacen("2 * DAY + 1", "2 * DAY + 9", 1)
        } else {
            text.clone()
        }
    });
    // An insertion near the top (a space typed in the first contract and deleted again):
    // every item below moves.
    let first_contract = text.find("contract ").expect("a contract");
    let inserted = format!("{} {}", &text[..first_contract], &text[first_contract..]);
    let moving = database_edits(&text, |k| {
        if k % 2 == 0 {
            inserted.clone()
        } else {
            text.clone()
        }
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut samples = runtime.block_on(async {
        let uri = "file:///bench/big.bsc";
        let mut client = TestClient::start().await;
        client.open(uri, &text).await;
        client.diagnostics_for(uri).await;
        // Edit the digit of a `NNN blocks` literal on lines spread through the file, back and
        // forth, so the file stays valid and every edit changes the checked result.
        let targets: Vec<(u32, u32)> = text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| l.find(" blocks);").map(|c| (i as u32, c as u32 - 1)))
            .collect();
        let mut samples = Vec::new();
        for k in 0..220usize {
            // Pairs of edits on one literal: `9`, then the original digit back.
            let (line, col) = targets[(k / 2 * 37) % targets.len()];
            let current = text
                .lines()
                .nth(line as usize)
                .and_then(|l| l.as_bytes().get(col as usize).copied());
            let digit = if k % 2 == 0 {
                "9"
            } else {
                &((current.unwrap_or(b'0') as char).to_string())
            };
            let digit = digit.to_string();
            let start = Instant::now();
            client
                .change(uri, k as i64 + 2, [(line, col), (line, col + 1)], &digit)
                .await;
            let params = client.diagnostics_for(uri).await;
            let elapsed = start.elapsed();
            assert!(params["diagnostics"].is_array());
            if k >= 20 {
                samples.push(elapsed);
            }
        }
        client.shutdown().await;
        samples
    });
    samples.sort();
    let p50 = percentile(&samples, 0.5);
    let p95 = percentile(&samples, 0.95);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("file: {n_lines} lines, {} bytes", text.len());
    println!(
        "didChange -> publishDiagnostics over {} edits: p50 {:.2} ms, p95 {:.2} ms",
        samples.len(),
        ms(p50),
        ms(p95)
    );
    println!(
        "cold check (fresh database, front end and Taproot back end, median of 11): {:.2} ms",
        ms(cold_median)
    );
    println!(
        "cold check of the front end alone (fresh database, median of 11): {:.2} ms",
        ms(cold_front_median)
    );
    println!(
        "the same edit on the database alone (set_file + all_diagnostics): p50 {:.2} ms, p95 {:.2} ms",
        ms(percentile(&direct, 0.5)),
        ms(percentile(&direct, 0.95))
    );
    println!(
        "an insertion that moves every item below it, on the database alone: p50 {:.2} ms, p95 {:.2} ms",
        ms(percentile(&moving, 0.5)),
        ms(percentile(&moving, 0.95))
    );
    println!("p95 / cold = {:.3}", ms(p95) / ms(cold_median));
    println!(
        "p95 / cold front end = {:.3}",
        ms(p95) / ms(cold_front_median)
    );
}
