//! BIP341 wallet vectors, scriptPubKey part (all 7 cases), through this crate's tree builder;
//! and a three-path contract with weights 8/1/1 through the Huffman compiler, reproducing the
//! vectors whose tree has that shape.

use std::collections::BTreeMap;

use biscol_taproot::compile::compile;
use biscol_taproot::input::{Contract, KeyPath, SpendPath, Timelocks};
use biscol_taproot::instantiate::instantiate_compiled;
use biscol_taproot::key::ParamKey;
use biscol_taproot::tree::build_output;
use bitcoin::hashes::Hash as _;
use bitcoin::taproot::LeafVersion;
use bitcoin::{Network, ScriptBuf, XOnlyPublicKey};
use serde_json::Value;

#[path = "common/params.rs"]
mod params;

use params::pubkey_params;

fn vectors() -> Vec<Value> {
    let text = include_str!("data/bip341_wallet_vectors.json");
    let v: Value = serde_json::from_str(text).expect("vector file parses");
    v["scriptPubKey"]
        .as_array()
        .expect("scriptPubKey array")
        .clone()
}

/// Flatten a vector's `scriptTree` into depth-first leaves: (id, depth, script, version).
fn flatten(tree: &Value, depth: u8, out: &mut Vec<(usize, u8, ScriptBuf, LeafVersion)>) {
    match tree {
        Value::Null => {}
        Value::Array(children) => {
            for c in children {
                flatten(c, depth + 1, out);
            }
        }
        Value::Object(leaf) => {
            let script =
                ScriptBuf::from_bytes(hex::decode(leaf["script"].as_str().unwrap()).unwrap());
            let ver =
                LeafVersion::from_consensus(leaf["leafVersion"].as_u64().unwrap() as u8).unwrap();
            out.push((leaf["id"].as_u64().unwrap() as usize, depth, script, ver));
        }
        _ => panic!("unexpected tree node"),
    }
}

#[test]
fn bip341_script_pubkey_vectors() {
    let cases = vectors();
    assert_eq!(cases.len(), 7);
    let mut checked = 0;
    for (i, case) in cases.iter().enumerate() {
        let given = &case["given"];
        let internal: XOnlyPublicKey = given["internalPubkey"].as_str().unwrap().parse().unwrap();
        let mut leaves = Vec::new();
        // A single leaf at the top is depth 0; an array's children are one deeper.
        match &given["scriptTree"] {
            Value::Array(_) => flatten(&given["scriptTree"], 0, &mut leaves),
            other => flatten(other, 0, &mut leaves),
        }
        let input: Vec<(u8, ScriptBuf, LeafVersion)> = leaves
            .iter()
            .map(|(_, d, s, v)| (*d, s.clone(), *v))
            .collect();
        let out = build_output(internal, &input).unwrap();
        let inter = &case["intermediary"];
        let expected = &case["expected"];
        // Leaf hashes, indexed by leaf id.
        if let Some(hashes) = inter["leafHashes"].as_array() {
            for (pos, (id, ..)) in leaves.iter().enumerate() {
                assert_eq!(
                    out.leaves[pos].leaf_hash.to_string(),
                    hashes[*id].as_str().unwrap(),
                    "case {i}"
                );
            }
        }
        assert_eq!(
            out.merkle_root.map(|r| r.to_string()),
            inter["merkleRoot"].as_str().map(String::from),
            "case {i}"
        );
        let outputs = [
            (hex::encode(out.tweak.as_byte_array()), &inter["tweak"]),
            (out.output_key.to_string(), &inter["tweakedPubkey"]),
            (
                hex::encode(out.script_pubkey.as_bytes()),
                &expected["scriptPubKey"],
            ),
            (
                out.address(Network::Bitcoin).unwrap().to_string(),
                &expected["bip350Address"],
            ),
        ];
        for (got, vector) in outputs {
            assert_eq!(got, vector.as_str().unwrap(), "case {i}");
        }
        if let Some(cbs) = expected["scriptPathControlBlocks"].as_array() {
            for (pos, (id, ..)) in leaves.iter().enumerate() {
                assert_eq!(
                    hex::encode(out.leaves[pos].control_block.serialize()),
                    cbs[*id].as_str().unwrap(),
                    "case {i}"
                );
            }
        }
        checked += 1;
    }
    println!("bip341 scriptPubKey vectors: {checked}/7");
    assert_eq!(checked, 7);
}

/// Vectors 5 and 6 (0-based, as in the file's `scriptPubKey` array) are the ones with three
/// `<key> OP_CHECKSIG` leaves shaped `[A, [B, C]]`: A at depth 1, B and C at depth 2. A
/// contract `key internal; @weight(8) spend a { sig(A) } spend b { sig(B) } spend c { sig(C) }`
/// must land exactly there through the Huffman compiler and the instantiation.
#[test]
fn weights_8_1_1_reproduce_vectors_5_and_6() {
    let cases = vectors();
    for idx in [5usize, 6] {
        let case = &cases[idx];
        let given = &case["given"];
        let tree = given["scriptTree"].as_array().unwrap();
        let a = tree[0]["script"].as_str().unwrap();
        let b = tree[1][0]["script"].as_str().unwrap();
        let c = tree[1][1]["script"].as_str().unwrap();
        // Each script is `0x20 <32-byte key> OP_CHECKSIG`.
        let key = |s: &str| s[2..66].to_string();
        let contract = Contract {
            name: "ThreeKeys".into(),
            key_path: KeyPath::Single(ParamKey::new("internal")),
            paths: vec![
                SpendPath::new("a", 8, "pk(ka)".parse().unwrap()),
                SpendPath::new("b", 1, "pk(kb)".parse().unwrap()),
                SpendPath::new("c", 1, "pk(kc)".parse().unwrap()),
            ],
            timelocks: Timelocks::default(),
        };
        let compiled = compile(&contract).unwrap();
        let depths: Vec<(String, u8)> = compiled
            .leaves
            .iter()
            .map(|l| (compiled.paths[l.path].name.clone(), l.depth))
            .collect();
        assert_eq!(
            depths,
            vec![("b".into(), 2), ("c".into(), 2), ("a".into(), 1)]
        );
        let params = pubkey_params(&["internal", "ka", "kb", "kc"]);
        let args: BTreeMap<String, String> = [
            (
                "internal",
                given["internalPubkey"].as_str().unwrap().to_string(),
            ),
            ("ka", key(a)),
            ("kb", key(b)),
            ("kc", key(c)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let inst = instantiate_compiled(&compiled, &params, &args, Network::Bitcoin).unwrap();
        let inter = &case["intermediary"];
        let expected = &case["expected"];
        assert_eq!(
            inst.merkle_root.map(|r| r.to_string()).as_deref(),
            inter["merkleRoot"].as_str(),
            "vector {idx}"
        );
        assert_eq!(
            hex::encode(inst.tweak.as_byte_array()),
            inter["tweak"].as_str().unwrap()
        );
        assert_eq!(
            inst.output_key.to_string(),
            inter["tweakedPubkey"].as_str().unwrap()
        );
        assert_eq!(
            inst.script_pubkey.to_hex_string(),
            expected["scriptPubKey"].as_str().unwrap()
        );
        assert_eq!(
            inst.address.to_string(),
            expected["bip350Address"].as_str().unwrap()
        );
        let cbs = expected["scriptPathControlBlocks"].as_array().unwrap();
        let by_path: BTreeMap<&str, String> = inst
            .leaves
            .iter()
            .map(|l| (l.path.as_str(), hex::encode(l.control_block.serialize())))
            .collect();
        assert_eq!(by_path["a"], cbs[0].as_str().unwrap());
        assert_eq!(by_path["b"], cbs[1].as_str().unwrap());
        assert_eq!(by_path["c"], cbs[2].as_str().unwrap());
        assert_eq!(
            inst.leaves
                .iter()
                .find(|l| l.path == "a")
                .unwrap()
                .script
                .to_hex_string(),
            a
        );
        println!("vector {idx}: reproduced from weights 8/1/1");
    }
}
