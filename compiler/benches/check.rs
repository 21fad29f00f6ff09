//! `check` (parse, resolve, type check, lower) from a cold database, on each example and on a
//! generated 5,000-line file. Target: the 5,000-line file in under 50 ms on one core.

use biscol_compiler::db::{self, Database};
use criterion::{criterion_group, criterion_main, Criterion};

const EXAMPLES: &[(&str, &str)] = &[
    ("htlc", include_str!("../../examples/htlc.bsc")),
    ("vault", include_str!("../../examples/vault.bsc")),
    (
        "inheritance",
        include_str!("../../examples/inheritance.bsc"),
    ),
];

/// About `lines` lines of realistic contracts: consts, fns and contracts with several paths.
pub fn generated_file(lines: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.lines().count() < lines {
        out.push_str(&format!(
            "/// Contract number {i}.\nconst DELAY_{i}: Blocks = {d} blocks;\n\
             fn delayed_{i}(k: PubKey, d: Blocks) -> Cond {{ sig(k) && older(d) }}\n\
             contract C{i}(a: PubKey, b: PubKey, c: PubKey, h: Sha256, keys: [PubKey; 3], t: Time) {{\n\
             \x20   key musig(a, b);\n\
             \x20   @weight(5)\n\
             \x20   spend claim(p: Bytes32) {{\n\
             \x20       require sha256(p) == h, \"wrong preimage\";\n\
             \x20       require sig(b);\n\
             \x20   }}\n\
             \x20   spend refund() {{ require delayed_{i}(a, DELAY_{i}), \"too early\"; }}\n\
             \x20   spend multi() {{ require threshold(2, keys) && after(t); }}\n\
             \x20   spend either() {{ require (sig(a) && older(2 * DELAY_{i})) || (sig(c) && older(7 days)); }}\n\
             }}\n\n",
            d = 100 + i % 1000
        ));
        i += 1;
    }
    out
}

fn cold_check(path: &str, text: &str) -> usize {
    let mut database = Database::new();
    let file = database.set_file(path, text.to_string());
    let n = db::diagnostics(&database, file).len();
    n + db::lower(&database, file)
        .as_ref()
        .map_or(0, |m| m.contracts.len())
}

fn bench(c: &mut Criterion) {
    for (name, text) in EXAMPLES {
        c.bench_function(&format!("check/{name}"), |b| {
            b.iter(|| cold_check(name, text))
        });
    }
    let big = generated_file(5_000);
    {
        let mut database = Database::new();
        let file = database.set_file("big.bsc", big.clone());
        let errors = db::diagnostics(&database, file)
            .iter()
            .filter(|d| d.is_error())
            .count();
        assert_eq!(errors, 0, "the generated file must check clean");
    }
    c.bench_function("check/generated_5000_lines", |b| {
        b.iter(|| cold_check("big.bsc", &big))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
