//! Build time per stdlib contract, in process: check, lower, compile to Taproot and write the
//! artifact JSON, from a cold database each time. Target: under 1 ms per contract.

use biscol_compiler::build;
use biscol_compiler::db::{Database, STDLIB};
use criterion::{criterion_group, criterion_main, Criterion};

fn build_once(name: &str, text: &str) -> usize {
    let mut database = Database::new();
    let file = database.set_file(name, text.to_string());
    build::build(&database, file)
        .contracts
        .iter()
        .filter_map(|c| c.artifact.as_ref().map(|a| a.to_json().len()))
        .sum()
}

fn bench(c: &mut Criterion) {
    for (name, text) in STDLIB {
        assert!(build_once(name, text) > 0, "{name} builds");
        c.bench_function(&format!("build/{name}"), |b| {
            b.iter(|| build_once(name, text))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
