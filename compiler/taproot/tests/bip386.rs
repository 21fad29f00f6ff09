//! BIP386 `tr()` vectors: 6 valid (scriptPubKeys reproduced through this crate's tree builder;
//! the ranged one at indices 0, 1, 2; the one with no expected script is parse-only) and 4
//! invalid ones rejected.

use biscol_taproot::tree::build_output;
use bitcoin::taproot::LeafVersion;
use miniscript::descriptor::{Descriptor, DescriptorPublicKey};
use secp256k1::SECP256K1;
use serde_json::Value;

#[test]
fn bip386_tr_vectors() {
    let v: Value =
        serde_json::from_str(include_str!("data/bip0386-tr-descriptor-vectors.json")).unwrap();
    let valid = v["valid"].as_array().unwrap();
    let invalid = v["invalid"].as_array().unwrap();
    assert_eq!((valid.len(), invalid.len()), (6, 4));
    let mut reproduced = 0;
    let mut parse_only = 0;
    for case in valid {
        let text = case["descriptor"].as_str().unwrap();
        let (desc, _keys) = Descriptor::<DescriptorPublicKey>::parse_descriptor(SECP256K1, text)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let scripts = case["scripts"].as_array().unwrap();
        if scripts.is_empty() {
            // BIP386 lists `tr(KEY,pkh(KEY))` as valid without an expected script.
            parse_only += 1;
            continue;
        }
        for (index, expected) in scripts.iter().enumerate() {
            let derived = desc.derived_descriptor(SECP256K1, index as u32).unwrap();
            let Descriptor::Tr(tr) = &derived else {
                panic!("not tr")
            };
            // Rebuild the output with our builder from the internal key and the leaves.
            let leaves: Vec<_> = tr
                .leaves()
                .map(|l| (l.depth(), l.compute_script(), LeafVersion::TapScript))
                .collect();
            let internal = tr.internal_key().inner.x_only_public_key().0;
            let out = build_output(internal, &leaves).unwrap();
            assert_eq!(
                hex::encode(out.script_pubkey.as_bytes()),
                expected.as_str().unwrap(),
                "{text} #{index}"
            );
            assert_eq!(out.script_pubkey, derived.script_pubkey());
            reproduced += 1;
        }
    }
    let mut rejected = 0;
    for case in invalid {
        let text = case["descriptor"].as_str().unwrap();
        assert!(
            Descriptor::<DescriptorPublicKey>::parse_descriptor(SECP256K1, text).is_err(),
            "{text} should be rejected ({})",
            case["reason"]
        );
        rejected += 1;
    }
    println!(
        "bip386 tr(): {} valid ({reproduced} scriptPubKeys reproduced, {parse_only} parse-only), {rejected}/4 invalid rejected",
        valid.len()
    );
    assert_eq!((reproduced, parse_only, rejected), (7, 1, 4));
}
