//! Our engine against Bitcoin Core's (libbitcoinkernel), in one run:
//! * all 2,760 taproot-ref success spends, each under its own flags (precomputed transaction
//!   data built once for both engines, outside the timed loop), and the ratio ours / Core;
//! * per-input medians for a P2TR key-path spend, a 2-leaf P2TR script-path spend and a
//!   3-of-5 P2WSH multisig.
//!
//! Criterion prints its own statistics; a summary with the ratio and the medians (our own
//! median-of-samples timing, so it does not depend on where criterion writes its files) is
//! printed at the end.

#[path = "../../benches/support/fixtures.rs"]
mod fixtures;

use std::hint::black_box;
use std::time::{Duration, Instant};

use biscol_script::VerifyFlags;
use biscol_script_oracle::{load_taproot_ref, with_spend, Prepared};
use criterion::Criterion;

struct SuccessSet(Vec<(Prepared, usize, VerifyFlags)>);

impl SuccessSet {
    fn load() -> Self {
        SuccessSet(
            load_taproot_ref()
                .iter()
                .map(|c| {
                    let tx = with_spend(&c.tx, c.index, &c.success);
                    (Prepared::new(&tx, &c.prevouts).unwrap(), c.index, c.flags)
                })
                .collect(),
        )
    }
    fn ours(&self) {
        for (p, i, f) in &self.0 {
            assert!(p.ours(*i, *f));
        }
    }
    fn kernel(&self) {
        for (p, i, f) in &self.0 {
            assert!(p.kernel(*i, *f));
        }
    }
}

fn median_ns(samples: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<Duration> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[v.len() / 2].as_nanos() as f64
}

fn main() {
    let set = SuccessSet::load();
    let singles = [
        ("p2tr_key_path", fixtures::p2tr_key_path()),
        (
            "p2tr_script_path_2_leaves",
            fixtures::p2tr_script_path_2_leaves(),
        ),
        ("p2wsh_3_of_5", fixtures::p2wsh_3_of_5()),
    ];
    let prepared: Vec<(&str, Prepared, usize)> = singles
        .iter()
        .map(|(n, f)| (*n, Prepared::new(&f.tx, &f.prevouts).unwrap(), f.index))
        .collect();
    for (n, p, i) in &prepared {
        assert!(
            p.ours(*i, VerifyFlags::CONSENSUS) && p.kernel(*i, VerifyFlags::CONSENSUS),
            "{n}"
        );
    }

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    {
        let mut g = c.benchmark_group("taproot_ref_all_success");
        g.bench_function("ours", |b| b.iter(|| set.ours()));
        g.bench_function("kernel", |b| b.iter(|| set.kernel()));
        g.finish();
    }
    let mut c = c.sample_size(50).measurement_time(Duration::from_secs(2));
    for (name, p, i) in &prepared {
        let mut g = c.benchmark_group(*name);
        g.bench_function("ours", |b| {
            b.iter(|| black_box(p.ours(*i, VerifyFlags::CONSENSUS)))
        });
        g.bench_function("kernel", |b| {
            b.iter(|| black_box(p.kernel(*i, VerifyFlags::CONSENSUS)))
        });
        g.finish();
    }
    c.final_summary();

    // Summary: medians of our own samples, interleaved so both engines see the same load.
    let (mut ours, mut core) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        ours.push(median_ns(1, || set.ours()));
        core.push(median_ns(1, || set.kernel()));
    }
    ours.sort_by(f64::total_cmp);
    core.sort_by(f64::total_cmp);
    let (mo, mc) = (ours[ours.len() / 2], core[core.len() / 2]);
    println!("\nSUMMARY");
    println!(
        "taproot-ref all {} success spends: ours {:.1} ms, libbitcoinkernel {:.1} ms, ratio ours/core = {:.2}x",
        set.0.len(),
        mo / 1e6,
        mc / 1e6,
        mo / mc
    );
    for (name, p, i) in &prepared {
        let o = median_ns(2001, || {
            black_box(p.ours(*i, VerifyFlags::CONSENSUS));
        });
        let k = median_ns(2001, || {
            black_box(p.kernel(*i, VerifyFlags::CONSENSUS));
        });
        println!(
            "{name}: median per input ours {:.1} us, libbitcoinkernel {:.1} us, ratio {:.2}x",
            o / 1e3,
            k / 1e3,
            o / k
        );
    }
    // The floor under both engines for a key-path spend: one BIP340 verification with the
    // secp256k1 crate that our engine uses (libbitcoinkernel links its own libsecp256k1).
    let kp = secp256k1::Keypair::from_seckey_slice(secp256k1::SECP256K1, &[3u8; 32]).unwrap();
    let msg = secp256k1::Message::from_digest([5u8; 32]);
    let sig = secp256k1::SECP256K1.sign_schnorr_no_aux_rand(&msg, &kp);
    let (pk, _) = kp.x_only_public_key();
    let raw = median_ns(2001, || {
        black_box(
            secp256k1::SECP256K1
                .verify_schnorr(black_box(&sig), &msg, &pk)
                .is_ok(),
        );
    });
    println!(
        "raw secp256k1 (rust-secp256k1 0.29) verify_schnorr: median {:.1} us",
        raw / 1e3
    );
}
