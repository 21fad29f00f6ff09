//! Build time per contract of the comparison set (compile + artifact JSON), in process.
//! Run: `cargo bench -p biscol-taproot --bench compile`.

#[path = "../tests/common/policies.rs"]
mod policies;

use biscol_taproot::compile::{compile, compile_tr_expected_vbytes};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    // The weight table first, so a bench run also shows it.
    for case in policies::cases() {
        let contract = policies::contract(&case);
        if let (Ok(ours), Ok(theirs)) = (compile(&contract), compile_tr_expected_vbytes(&contract))
        {
            println!(
                "weights {}: ours {:.3} vB, compile_tr {:.3} vB",
                case.name, ours.expected_vbytes, theirs
            );
        }
    }
    let mut group = c.benchmark_group("build");
    group.sample_size(20);
    for case in policies::cases() {
        let contract = policies::contract(&case);
        group.bench_function(case.name, |b| {
            b.iter(|| {
                let compiled = compile(black_box(&contract)).ok();
                compiled.map(|c| biscol_taproot::artifact::from_compiled(&c).to_json())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
