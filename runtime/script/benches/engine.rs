//! Criterion benchmarks of the engine alone: all taproot-ref success spends, and per-input
//! verification of a P2TR key-path spend, a 2-leaf P2TR script-path spend and a 3-of-5 P2WSH
//! multisig. (The comparison with Bitcoin Core is in `oracle/benches`.)

#[path = "support/fixtures.rs"]
mod fixtures;

use biscol_script::{verify_input_with, PrecomputedTx, VerifyFlags};
use bitcoin::consensus::deserialize;
use bitcoin::{ScriptBuf, Transaction, TxOut, Witness};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn taproot_ref_success() -> Vec<(Transaction, PrecomputedTx, usize, VerifyFlags)> {
    let path = format!(
        "{}/tests/data/script_assets_test.taproot-ref.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut tx: Transaction =
                deserialize(&hex::decode(c["tx"].as_str().unwrap()).unwrap()).unwrap();
            let prevouts: Vec<TxOut> = c["prevouts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| deserialize(&hex::decode(p.as_str().unwrap()).unwrap()).unwrap())
                .collect();
            let index = c["index"].as_u64().unwrap() as usize;
            let s = &c["success"];
            tx.input[index].script_sig =
                ScriptBuf::from_bytes(hex::decode(s["scriptSig"].as_str().unwrap()).unwrap());
            let w: Vec<Vec<u8>> = s["witness"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| hex::decode(x.as_str().unwrap()).unwrap())
                .collect();
            tx.input[index].witness = Witness::from_slice(&w);
            let flags = VerifyFlags::parse(c["flags"].as_str().unwrap()).unwrap();
            let txdata = PrecomputedTx::new(&tx, &prevouts);
            (tx, txdata, index, flags)
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let cases = taproot_ref_success();
    c.bench_function("engine/taproot_ref_all_success", |b| {
        b.iter(|| {
            for (tx, txdata, index, flags) in &cases {
                assert!(verify_input_with(tx, *index, txdata, *flags, None).is_ok());
            }
        })
    });
    for (name, f) in [
        ("p2tr_key_path", fixtures::p2tr_key_path()),
        (
            "p2tr_script_path_2_leaves",
            fixtures::p2tr_script_path_2_leaves(),
        ),
        ("p2wsh_3_of_5", fixtures::p2wsh_3_of_5()),
    ] {
        let txdata = PrecomputedTx::new(&f.tx, &f.prevouts);
        c.bench_function(&format!("engine/{name}"), |b| {
            b.iter(|| {
                verify_input_with(
                    black_box(&f.tx),
                    f.index,
                    &txdata,
                    VerifyFlags::CONSENSUS,
                    None,
                )
            })
        });
    }
}

criterion_group!(engine, benches);
criterion_main!(engine);
