//! BIP327 KeyAgg vectors through `keypath`, and a `musig(x1, x2, x3)` key path equal to
//! KeyAgg followed by the BIP341 tweak.

use std::collections::BTreeMap;

use biscol_taproot::compile::compile;
use biscol_taproot::input::{Contract, KeyPath, SpendPath, Timelocks};
use biscol_taproot::instantiate::instantiate_compiled;
use biscol_taproot::key::ParamKey;
use biscol_taproot::keypath::{musig_key_agg_bytes, musig_key_agg_tweaked, KeyAggError};
use biscol_taproot::tree::build_output;
use bitcoin::taproot::LeafVersion;
use bitcoin::Network;
use serde_json::Value;

#[path = "common/params.rs"]
mod params;

use params::pubkey_params;

fn data() -> Value {
    serde_json::from_str(include_str!("data/key_agg_vectors.json")).unwrap()
}

fn keys(v: &Value) -> Vec<Vec<u8>> {
    v["pubkeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| hex::decode(k.as_str().unwrap()).unwrap())
        .collect()
}

fn indices(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn key_agg_vectors() {
    let v = data();
    let pubkeys = keys(&v);
    // The public keys a case names by their indices.
    let keys_at = |list: &Value| -> Vec<&[u8]> {
        indices(list)
            .iter()
            .map(|i| pubkeys[*i].as_slice())
            .collect()
    };
    let tweaks: Vec<[u8; 32]> = v["tweaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            hex::decode(t.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    let mut valid = 0;
    for case in v["valid_test_cases"].as_array().unwrap() {
        let ks = keys_at(&case["key_indices"]);
        let agg = musig_key_agg_bytes(&ks).unwrap();
        let xonly = agg.x_only_public_key().0;
        assert_eq!(
            xonly.to_string(),
            case["expected"].as_str().unwrap().to_lowercase()
        );
        valid += 1;
    }
    let mut errors = 0;
    for case in v["error_test_cases"].as_array().unwrap() {
        let ks = keys_at(&case["key_indices"]);
        let tw: Vec<([u8; 32], bool)> = indices(&case["tweak_indices"])
            .iter()
            .zip(case["is_xonly"].as_array().unwrap())
            .map(|(i, x)| (tweaks[*i], x.as_bool().unwrap()))
            .collect();
        let got = musig_key_agg_tweaked(&ks, &tw);
        let err = &case["error"];
        match err["type"].as_str().unwrap() {
            "invalid_contribution" => {
                let signer = err["signer"].as_u64().unwrap() as usize;
                assert!(
                    matches!(got, Err(KeyAggError::InvalidKey { index, .. }) if index == signer),
                    "{}: {got:?}",
                    case["comment"]
                );
            }
            _ => {
                let msg = err["message"].as_str().unwrap();
                if msg.contains("less than n") {
                    assert_eq!(
                        got,
                        Err(KeyAggError::InvalidTweak { index: 0 }),
                        "{}",
                        case["comment"]
                    );
                } else {
                    assert_eq!(got, Err(KeyAggError::Infinity), "{}", case["comment"]);
                }
            }
        }
        errors += 1;
    }
    println!("bip327 key_agg: {valid}/4 valid, {errors}/5 error cases");
    assert_eq!((valid, errors), (4, 5));
}

/// `key musig(x1, x2, x3)` with one spend path: the output key equals KeyAgg of the three keys
/// (order kept) tweaked per BIP341 with the tree's merkle root, as computed independently
/// by musig2's own taproot tweak and by rust-bitcoin's builder.
#[test]
fn musig_key_path_is_keyagg_then_bip341_tweak() {
    let v = data();
    let pubkeys = keys(&v);
    let contract = Contract {
        name: "Co".into(),
        key_path: KeyPath::MuSig(vec![
            ParamKey::new("x1"),
            ParamKey::new("x2"),
            ParamKey::new("x3"),
        ]),
        paths: vec![SpendPath::new(
            "backup",
            1,
            "and(pk(b),older(1000))".parse().unwrap(),
        )],
        timelocks: Timelocks::default(),
    };
    let compiled = compile(&contract).unwrap();
    let params = pubkey_params(&["x1", "x2", "x3", "b"]);
    let mut args = BTreeMap::new();
    args.insert("x1".to_string(), hex::encode(&pubkeys[0]));
    args.insert("x2".to_string(), hex::encode(&pubkeys[1]));
    args.insert("x3".to_string(), hex::encode(&pubkeys[2]));
    args.insert(
        "b".to_string(),
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798".to_string(),
    );
    let inst = instantiate_compiled(&compiled, &params, &args, Network::Regtest).unwrap();
    // Internal key = BIP327 KeyAgg (vector: keys 0,1,2).
    assert_eq!(
        inst.internal_key.to_string(),
        "90539eede565f5d054f32cc0c220126889ed1e5d193baf15aef344fe59d4610c"
    );
    // Tweaked with musig2's BIP341 taproot tweak over the same merkle root.
    let root: [u8; 32] = hex::decode(inst.merkle_root.unwrap().to_string())
        .unwrap()
        .try_into()
        .unwrap();
    let keys: Vec<secp256k1::PublicKey> = pubkeys[..3]
        .iter()
        .map(|k| secp256k1::PublicKey::from_slice(k).unwrap())
        .collect();
    let ctx = musig2::KeyAggContext::new(keys)
        .unwrap()
        .with_taproot_tweak(&root)
        .unwrap();
    let q: secp256k1::PublicKey = ctx.aggregated_pubkey();
    assert_eq!(
        inst.output_key.to_string(),
        q.x_only_public_key().0.to_string()
    );
    // And rust-bitcoin's builder agrees.
    let leaf = &inst.leaves[0];
    let script = leaf.script.clone();
    let out = build_output(inst.internal_key, &[(0, script, LeafVersion::TapScript)]).unwrap();
    assert_eq!(out.output_key, inst.output_key);
    // Order matters: musig(x3, x2, x1) is another key (BIP390 does not sort).
    args.insert("x1".to_string(), hex::encode(&pubkeys[2]));
    args.insert("x3".to_string(), hex::encode(&pubkeys[0]));
    let swapped = instantiate_compiled(&compiled, &params, &args, Network::Regtest).unwrap();
    assert_eq!(
        swapped.internal_key.to_string(),
        "6204de8b083426dc6eaf9502d27024d53fc826bf7d2012148a0575435df54b2b"
    );
}
