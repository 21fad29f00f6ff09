//! `biscol build` and `biscol instantiate` end to end, checked against BIP386, BIP341 and
//! BIP327 vectors (copied under `compiler/taproot/tests/data/` with their provenance).

mod common;

use std::path::{Path, PathBuf};

use bitcoin::key::{Secp256k1, TapTweak, UntweakedPublicKey};
use bitcoin::taproot::TapNodeHash;
use common::biscol;
use serde_json::Value;

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("biscol-cli-build-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn data(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../compiler/taproot/tests/data")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("JSON")
}

/// Builds `source` as `name.bsc` in `dir`, returns the artifact path of `contract`.
fn build(dir: &Path, name: &str, source: &str, contract: &str) -> PathBuf {
    let src = dir.join(format!("{name}.bsc"));
    std::fs::write(&src, source).expect("write source");
    let out = dir.join("build");
    let result = biscol(&["build", src.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out.join(format!("{contract}.json"))
}

fn instantiate(artifact: &Path, args: &[(&str, &str)]) -> Value {
    let mut argv = vec![
        "instantiate".to_string(),
        artifact.to_str().unwrap().to_string(),
        "--format".into(),
        "json".into(),
    ];
    for (k, v) in args {
        argv.push("--arg".into());
        argv.push(format!("{k}={v}"));
    }
    let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = biscol(&refs);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("instance JSON")
}

#[test]
fn pay_with_bip386_keys_gives_bip386_script_pubkey() {
    let dir = workdir("pay");
    let artifact = build(
        &dir,
        "pay",
        "contract Pay(a: PubKey, b: PubKey) { key a; spend s() { require sig(b); } }\n",
        "Pay",
    );
    let vectors = data("bip0386-tr-descriptor-vectors.json");
    let case = vectors["valid"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["descriptor"].as_str().unwrap().starts_with(
                "tr(a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd,pk(669b",
            )
        })
        .expect("the tr(KEY,pk(KEY)) vector");
    let instance = instantiate(
        &artifact,
        &[
            (
                "a",
                "a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd",
            ),
            (
                "b",
                "669b8afcec803a0d323e9a17f3ea8e68e8abe5a278020a929adbec52421adbd0",
            ),
        ],
    );
    assert_eq!(instance["script_pubkey"], case["scripts"][0]);
    for field in [
        "descriptor",
        "address",
        "internal_key",
        "output_key",
        "merkle_root",
        "leaves",
    ] {
        assert!(!instance[field].is_null(), "{field}");
    }
    let leaf = &instance["leaves"][0];
    for field in ["path", "script", "depth", "control_block"] {
        assert!(!leaf[field].is_null(), "leaf {field}");
    }
    assert!(
        instance["descriptor"].as_str().unwrap().contains('#'),
        "descriptor with checksum"
    );
}

#[test]
fn weights_8_1_1_reproduce_bip341_wallet_vector_5() {
    let vectors = data("bip341_wallet_vectors.json");
    let case = &vectors["scriptPubKey"][5];
    let tree = &case["given"]["scriptTree"];
    let key = |s: &Value| s["script"].as_str().unwrap()[2..66].to_string();
    let (ka, kb, kc) = (key(&tree[0]), key(&tree[1][0]), key(&tree[1][1]));
    let internal = case["given"]["internalPubkey"].as_str().unwrap();
    let dir = workdir("v5");
    let artifact = build(
        &dir,
        "three",
        "contract Three(internal: PubKey, ka: PubKey, kb: PubKey, kc: PubKey) {
            key internal;
            @weight(8) spend a() { require sig(ka); }
            @weight(1) spend b() { require sig(kb); }
            @weight(1) spend c() { require sig(kc); }
        }\n",
        "Three",
    );
    let instance = instantiate(
        &artifact,
        &[
            ("internal", internal),
            ("ka", &ka),
            ("kb", &kb),
            ("kc", &kc),
        ],
    );
    assert_eq!(instance["merkle_root"], case["intermediary"]["merkleRoot"]);
    assert_eq!(
        instance["output_key"],
        case["intermediary"]["tweakedPubkey"]
    );
    assert_eq!(instance["script_pubkey"], case["expected"]["scriptPubKey"]);
    assert_eq!(instance["address"], case["expected"]["bip350Address"]);
    let control = |path: &str| {
        instance["leaves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["path"] == path)
            .unwrap()["control_block"]
            .clone()
    };
    let expected = &case["expected"]["scriptPathControlBlocks"];
    assert_eq!(control("a"), expected[0]);
    assert_eq!(control("b"), expected[1]);
    assert_eq!(control("c"), expected[2]);
}

#[test]
fn musig_key_path_is_bip327_key_agg_tweaked_per_bip341() {
    let vectors = data("key_agg_vectors.json");
    let keys: Vec<String> = vectors["pubkeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_lowercase())
        .collect();
    let expected = vectors["valid_test_cases"][0]["expected"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let dir = workdir("musig");
    let artifact = build(
        &dir,
        "joint",
        "contract Joint(x1: PubKey, x2: PubKey, x3: PubKey) {
            key musig(x1, x2, x3);
            spend recover() { require sig(x1) && older(144 blocks); }
        }\n",
        "Joint",
    );
    let instance = instantiate(
        &artifact,
        &[("x1", &keys[0]), ("x2", &keys[1]), ("x3", &keys[2])],
    );
    assert_eq!(
        instance["internal_key"].as_str().unwrap(),
        expected,
        "KeyAgg of x1, x2, x3 in that order"
    );
    let secp = Secp256k1::verification_only();
    let internal: UntweakedPublicKey = expected.parse().unwrap();
    let root: TapNodeHash = instance["merkle_root"].as_str().unwrap().parse().unwrap();
    let (tweaked, _) = internal.tap_tweak(&secp, Some(root));
    assert_eq!(
        instance["output_key"].as_str().unwrap(),
        tweaked.to_x_only_public_key().to_string()
    );
}

#[test]
fn two_builds_are_byte_identical() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let first = workdir("det1");
    let second = workdir("det2");
    let run = |out: &Path, args: &[&Path]| {
        let mut argv: Vec<String> = vec!["build".into()];
        argv.extend(args.iter().map(|p| p.to_str().unwrap().to_string()));
        argv.extend(["-o".into(), out.to_str().unwrap().to_string()]);
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        assert_eq!(biscol(&refs).status.code(), Some(0));
    };
    run(&first, &[&examples]);
    // Another order and another set of files loaded must not change a byte.
    run(
        &second,
        &[
            &examples.join("vault.bsc"),
            &examples.join("htlc.bsc"),
            &examples.join("inheritance.bsc"),
        ],
    );
    for name in ["Htlc.json", "Vault.json", "Inheritance.json"] {
        let a = std::fs::read(first.join(name)).unwrap();
        let b = std::fs::read(second.join(name)).unwrap();
        assert_eq!(a, b, "{name}");
        assert!(
            !String::from_utf8_lossy(&a).contains(std::env::temp_dir().to_str().unwrap()),
            "no absolute paths"
        );
    }
}

#[test]
fn hash_only_path_warns_and_mixed_timelocks_fail() {
    let dir = workdir("safety");
    let src = dir.join("hashonly.bsc");
    std::fs::write(&src, "contract Puzzle(owner: PubKey, h: Sha256) {\n    key owner;\n    spend solve(p: Bytes32) { require sha256(p) == h; }\n}\n").unwrap();
    let out = biscol(&[
        "build",
        src.to_str().unwrap(),
        "-o",
        dir.join("b").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning[W0100]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let src = dir.join("mixed.bsc");
    std::fs::write(&src, "contract Mixed(owner: PubKey) {\n    spend both() { require sig(owner) && after(800000) && after(1700000000); }\n}\n").unwrap();
    let out = biscol(&[
        "build",
        src.to_str().unwrap(),
        "-o",
        dir.join("b").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error[E0103]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_instantiate_inputs_are_clear_errors() {
    let dir = workdir("bad");
    let artifact = build(
        &dir,
        "pay",
        "contract Pay(a: PubKey, b: PubKey) { key a; spend s() { require sig(b); } }\n",
        "Pay",
    );
    let missing = biscol(&["instantiate", artifact.to_str().unwrap(), "--arg", "a=00"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&missing.stderr).is_empty());
    let malformed = biscol(&[
        "instantiate",
        artifact.to_str().unwrap(),
        "--arg",
        "nonsense",
    ]);
    assert_eq!(malformed.status.code(), Some(2));
    let text = std::fs::read_to_string(&artifact)
        .unwrap()
        .replace("biscol-artifact/2", "biscol-artifact/9");
    let newer = dir.join("newer.json");
    std::fs::write(&newer, text).unwrap();
    let out = biscol(&["instantiate", newer.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer"));
}
