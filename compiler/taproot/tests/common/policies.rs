//! The weight-comparison set, shared by `tests/weights.rs` and `benches/compile.rs`:
//! 26 contracts as (name, key path, paths as (name, weight, policy)).
//!
//! No path has a bare `pk(X)` branch reachable through top-level ors: rust-miniscript's
//! `compile_tr` would move such a key to the internal key, which changes the contract's key
//! path, so the two results would not be the same contract.

#![allow(dead_code)] // Reason: each includer uses a different part.

use biscol_taproot::input::{Contract, KeyPath, SpendPath, Timelocks};
use biscol_taproot::key::ParamKey;

/// A named contract of the comparison set.
pub struct Case {
    pub name: &'static str,
    pub key: &'static str,
    pub paths: Vec<(&'static str, u32, &'static str)>,
}

fn c(name: &'static str, key: &'static str, paths: Vec<(&'static str, u32, &'static str)>) -> Case {
    Case { name, key, paths }
}

pub fn cases() -> Vec<Case> {
    vec![
        c("htlc", "musig(s,r)", vec![
            ("claim", 9, "and(pk(r),sha256(h))"),
            ("refund", 1, "and(pk(s),older(144))"),
        ]),
        c("htlc_even", "nums", vec![
            ("claim", 1, "and(pk(r),sha256(h))"),
            ("refund", 1, "and(pk(s),older(144))"),
        ]),
        c("vault", "cold", vec![("withdraw", 1, "and(pk(hot),older(144))")]),
        c("vault_recovery", "cold", vec![
            ("withdraw", 10, "and(pk(hot),older(144))"),
            ("recover", 1, "and(pk(rec),older(4320))"),
        ]),
        c("escrow_arbiter", "nums", vec![
            ("release", 5, "and(pk(buyer),pk(seller))"),
            ("arbitrate", 2, "or(and(pk(arbiter),pk(buyer)),and(pk(arbiter),pk(seller)))"),
            ("refund", 1, "and(pk(buyer),after(800000))"),
        ]),
        c("escrow_2of3_timeout", "nums", vec![
            ("settle", 3, "thresh(2,pk(a),pk(b),pk(c))"),
            ("timeout", 1, "and(pk(a),older(1000))"),
        ]),
        c("inheritance", "owner", vec![
            ("inherit", 1, "and(after(1700000000),thresh(2,pk(h1),pk(h2),pk(h3)))"),
        ]),
        c("decaying_multisig", "nums", vec![
            ("normal", 10, "thresh(3,pk(a),pk(b),pk(c))"),
            ("decay1", 2, "and(thresh(2,pk(a),pk(b),pk(c)),older(4320))"),
            ("decay2", 1, "and(thresh(1,pk(a),pk(b),pk(c)),older(8640))"),
        ]),
        c("atomic_swap", "musig(a,b)", vec![
            ("swap", 1, "and(pk(b),sha256(h))"),
            ("refund", 1, "and(pk(a),after(900000))"),
        ]),
        c("multisig_recovery", "nums", vec![
            ("spend", 20, "thresh(2,pk(a),pk(b),pk(c))"),
            ("recover", 1, "and(pk(r),older(52560))"),
        ]),
        c("thresh_3of5", "nums", vec![("spend", 1, "thresh(3,pk(a),pk(b),pk(c),pk(d),pk(e))")]),
        c("thresh_mixed", "nums", vec![
            ("spend", 1, "thresh(2,pk(a),pk(b),and(pk(c),older(100)))"),
        ]),
        c("nested_or", "nums", vec![
            ("spend", 1, "or(and(pk(a),pk(b)),and(pk(c),older(10)))"),
        ]),
        c("nested_or_weighted", "k", vec![
            ("spend", 1, "or(9@and(pk(a),pk(b)),1@or(and(pk(c),sha256(h)),and(pk(d),older(100))))"),
        ]),
        c("recovery_chain", "k", vec![
            ("spend", 50, "and(pk(a),pk(b))"),
            ("r1", 5, "and(pk(c),older(1000))"),
            ("r2", 1, "and(pk(d),older(10000))"),
            ("r3", 1, "and(pk(e),after(1000000))"),
        ]),
        c("revocable", "nums", vec![
            ("delayed", 10, "and(pk(local),older(144))"),
            ("revoke", 1, "and(pk(revocation),sha256(h))"),
        ]),
        c("five_equal_paths", "nums", vec![
            ("p1", 1, "and(pk(k1),older(100))"),
            ("p2", 1, "and(pk(k2),older(200))"),
            ("p3", 1, "and(pk(k3),older(300))"),
            ("p4", 1, "and(pk(k4),older(400))"),
            ("p5", 1, "and(pk(k5),older(500))"),
        ]),
        c("skewed_8_paths", "nums", vec![
            ("p1", 64, "and(pk(a1),pk(b1))"),
            ("p2", 32, "and(pk(a2),pk(b2))"),
            ("p3", 16, "and(pk(a3),pk(b3))"),
            ("p4", 8, "and(pk(a4),pk(b4))"),
            ("p5", 4, "and(pk(a5),pk(b5))"),
            ("p6", 2, "and(pk(a6),pk(b6))"),
            ("p7", 1, "and(pk(a7),pk(b7))"),
            ("p8", 1, "and(pk(a8),pk(b8))"),
        ]),
        c("thresh1_of_ands", "nums", vec![
            ("spend", 1, "thresh(1,and(pk(a),pk(b)),and(pk(c),pk(d)),and(pk(e),older(50)))"),
        ]),
        c("hash_and_sig", "nums", vec![
            ("claim", 3, "and(pk(a),and(sha256(h1),hash160(h2)))"),
            ("cancel", 1, "and(pk(b),pk(c))"),
        ]),
        c("unvault_emergency", "nums", vec![
            ("unvault", 1, "and(thresh(2,pk(a),pk(b),pk(c)),older(1008))"),
            ("emergency", 1, "and(pk(e1),pk(e2))"),
        ]),
        c("dead_mans_switch", "owner", vec![
            ("switch", 1, "and(pk(heir),after(1800000000))"),
        ]),
        c("big_multisig_recovery", "nums", vec![
            ("spend", 10, "thresh(5,pk(a),pk(b),pk(c),pk(d),pk(e),pk(f),pk(g))"),
            ("recover", 1, "and(thresh(2,pk(r1),pk(r2),pk(r3)),older(26280))"),
        ]),
        c("rare_4way_recovery", "nums", vec![
            ("spend", 100, "and(pk(a),pk(b))"),
            ("recover", 1, "or(and(pk(c),older(100)),or(and(pk(d),older(200)),or(and(pk(e),older(300)),and(pk(f),older(400)))))"),
        ]),
        c("hot_or_cold_paths", "nums", vec![
            ("daily", 30, "or(and(pk(a),older(6)),and(pk(b),older(6)))"),
            ("weekly", 5, "and(pk(c),older(1008))"),
            ("audit", 1, "or(and(pk(d),sha256(h)),and(pk(e),sha256(h2)))"),
            ("close", 1, "and(pk(f),pk(g))"),
        ]),
        c("or_inside_and", "nums", vec![
            ("spend", 4, "and(pk(a),or(3@pk(b),1@and(pk(c),older(144))))"),
            ("backup", 1, "and(pk(d),after(850000))"),
        ]),
    ]
}

fn key_path(text: &str) -> KeyPath {
    if text == "nums" {
        KeyPath::Nums
    } else if let Some(list) = text
        .strip_prefix("musig(")
        .and_then(|t| t.strip_suffix(')'))
    {
        KeyPath::MuSig(list.split(',').map(ParamKey::new).collect())
    } else {
        KeyPath::Single(ParamKey::new(text))
    }
}

/// The case as a contract.
pub fn contract(case: &Case) -> Contract {
    Contract {
        name: case.name.to_string(),
        key_path: key_path(case.key),
        paths: case
            .paths
            .iter()
            .map(|(n, w, p)| SpendPath::new(*n, *w, p.parse().expect("policy parses")))
            .collect(),
        timelocks: Timelocks::default(),
    }
}
