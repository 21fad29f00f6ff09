//! The analysis codes on small contracts, determinism of artifact and instance bytes, and
//! a pinned address (any change to it changes users' addresses).

use std::collections::BTreeMap;

use biscol_taproot::analysis::Code;
use biscol_taproot::artifact::TaprootArtifact;
use biscol_taproot::compile::{compile, CompileError};
use biscol_taproot::input::{Contract, KeyPath, SpendPath, TimelockKind, Timelocks};
use biscol_taproot::instantiate::{instantiate, Param, ValueType};
use biscol_taproot::key::ParamKey;
use bitcoin::Network;
use miniscript::policy::Concrete;
use std::sync::Arc;

fn contract(key_path: KeyPath, paths: &[(&str, u32, &str)]) -> Contract {
    Contract {
        name: "T".into(),
        key_path,
        paths: paths
            .iter()
            .map(|(n, w, p)| SpendPath::new(*n, *w, p.parse().unwrap()))
            .collect(),
        timelocks: Timelocks::default(),
    }
}

fn codes(r: &Result<biscol_taproot::Compiled, CompileError>) -> Vec<Code> {
    match r {
        Ok(c) => c.findings.iter().map(|f| f.code).collect(),
        Err(CompileError::Rejected { findings }) => findings.iter().map(|f| f.code).collect(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn codes_fire() {
    let k = || KeyPath::Single(ParamKey::new("k"));
    // W0100: a hash lock alone.
    let r = compile(&contract(k(), &[("claim", 1, "sha256(h)")]));
    assert!(r.is_ok());
    assert_eq!(codes(&r), vec![Code::W0100]);
    // E0103: height and time in one path.
    // (rust-miniscript's policy parser already refuses this text, so build it directly, as
    // the front end does.)
    let mixed = Concrete::And(vec![
        Arc::new(Concrete::Key(ParamKey::new("a"))),
        Arc::new(Concrete::After(
            miniscript::AbsLockTime::from_consensus(100).unwrap(),
        )),
        Arc::new(Concrete::After(
            miniscript::AbsLockTime::from_consensus(1_700_000_000).unwrap(),
        )),
    ]);
    let mut c = contract(k(), &[]);
    c.paths.push(SpendPath::new("p", 1, mixed));
    let r = compile(&c);
    assert!(codes(&r).contains(&Code::E0103), "{:?}", codes(&r));
    // E0104 and E0105: an unsatisfiable path and no key path.
    let r = compile(&contract(
        KeyPath::Nums,
        &[("p", 1, "and(pk(a),UNSATISFIABLE)")],
    ));
    let c = codes(&r);
    assert!(
        c.contains(&Code::E0104) && c.contains(&Code::E0105),
        "{c:?}"
    );
    // With a key path, an unsatisfiable path is E0104 alone.
    let r = compile(&contract(
        k(),
        &[("p", 1, "and(pk(a),UNSATISFIABLE)"), ("q", 1, "pk(b)")],
    ));
    assert_eq!(codes(&r), vec![Code::E0104]);
    // E0102: one key twice in one leaf.
    let r = compile(&contract(k(), &[("p", 1, "and(pk(a),pk(a))")]));
    assert!(codes(&r).contains(&Code::E0102), "{:?}", codes(&r));
    // A key repeated in two branches of an `or` is fine: the path is split into leaves.
    let r = compile(&contract(
        k(),
        &[("p", 1, "or(and(pk(a),pk(b)),and(pk(a),older(10)))")],
    ));
    assert!(r.is_ok(), "{r:?}");
    // E0100: no signature and no non-malleable form.
    let r = compile(&contract(k(), &[("p", 1, "or(older(10),after(20))")]));
    assert!(codes(&r).contains(&Code::E0100), "{:?}", codes(&r));
    for code in Code::ALL {
        assert!(!code.title().is_empty());
    }
}

fn htlc() -> (Contract, Vec<Param>, BTreeMap<String, String>) {
    let mut timelocks = Timelocks::default();
    let older = timelocks.param("timeout", TimelockKind::Blocks).unwrap();
    let refund = Concrete::And(vec![
        Arc::new(Concrete::Key(ParamKey::new("sender"))),
        Arc::new(older),
    ]);
    let c = Contract {
        name: "Htlc".into(),
        key_path: KeyPath::MuSig(vec![ParamKey::new("sender"), ParamKey::new("receiver")]),
        paths: vec![
            SpendPath::new(
                "claim",
                9,
                "and(pk(receiver),sha256(hash))".parse().unwrap(),
            ),
            SpendPath::new("refund", 1, refund),
        ],
        timelocks,
    };
    let params = vec![
        Param {
            name: "sender".into(),
            ty: ValueType::PubKey,
        },
        Param {
            name: "receiver".into(),
            ty: ValueType::PubKey,
        },
        Param {
            name: "hash".into(),
            ty: ValueType::Sha256,
        },
        Param {
            name: "timeout".into(),
            ty: ValueType::Blocks,
        },
    ];
    let args: BTreeMap<String, String> = [
        (
            "sender",
            "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9",
        ),
        (
            "receiver",
            "03dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659",
        ),
        (
            "hash",
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925",
        ),
        ("timeout", "144"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    (c, params, args)
}

#[test]
fn deterministic_bytes_and_pinned_address() {
    let (c, params, args) = htlc();
    let a1 = biscol_taproot::artifact::from_compiled(&compile(&c).unwrap()).to_json();
    let a2 = biscol_taproot::artifact::from_compiled(&compile(&c.clone()).unwrap()).to_json();
    assert_eq!(a1, a2);
    assert!(a1.contains("and_v(v:pk(sender),older(timeout))"), "{a1}");
    // Round trip through JSON, then instantiate twice.
    let back: TaprootArtifact = serde_json::from_str(&a1).unwrap();
    let i1 = serde_json::to_string(&instantiate(&back, &params, &args, Network::Regtest).unwrap())
        .unwrap();
    let i2 = serde_json::to_string(&instantiate(&back, &params, &args, Network::Regtest).unwrap())
        .unwrap();
    assert_eq!(i1, i2);
    let inst = instantiate(&back, &params, &args, Network::Bitcoin).unwrap();
    println!("{}", serde_json::to_string_pretty(&inst).unwrap());
    let descriptor = inst.descriptor.to_string();
    assert!(descriptor.starts_with("tr(") && descriptor.contains('#'));
    let refund = inst.leaves.iter().find(|l| l.path == "refund").unwrap();
    assert_eq!(refund.needs.timelocks[0].n_sequence, Some(144));
    // Pinned: changing this means every HTLC address changes. See README, "What may change
    // an address".
    assert_eq!(inst.address.to_string(), PINNED_HTLC_ADDRESS);
    assert_eq!(
        back.wallet_policy.template,
        "tr(musig(@0,@1)/**,{and_v(v:pk(@0/**),older(timeout)),and_v(v:pk(@1/**),sha256(hash))})"
    );
}

const PINNED_HTLC_ADDRESS: &str = "bc1psgv5gvmcn8wcsyhf4kwq8jf4e7gf7yyjgl7cjs6wsf8w30x49gwsnlz6lp";

#[test]
fn bad_arguments_are_typed_errors() {
    let (c, params, mut args) = htlc();
    let compiled = compile(&c).unwrap();
    let refusal = |args: &BTreeMap<String, String>| {
        biscol_taproot::instantiate::instantiate_compiled(
            &compiled,
            &params,
            args,
            Network::Regtest,
        )
        .unwrap_err()
    };
    args.insert("timeout".into(), "0".into());
    let e = refusal(&args);
    assert!(e.to_string().contains("timeout"), "{e}");
    args.insert("timeout".into(), "144".into());
    args.insert("hash".into(), "abcd".into());
    let e = refusal(&args);
    assert!(e.to_string().contains("64 hex digits"), "{e}");
    args.remove("hash");
    let e = refusal(&args);
    assert!(e.to_string().contains("missing argument `hash`"), "{e}");
}
