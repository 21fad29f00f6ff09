//! Golden snapshots of every standard library contract: its Miniscript leaves, its descriptor
//! instantiated with fixed test keys, its script tree and its artifact.
//!
//! Test keys are the x-only public keys of secret keys 1, 2, 3, ... in parameter order; hashes
//! are SHA-256 / HASH160 of fixed strings; timelocks use fixed values. Instantiating on regtest.

use biscol_compiler::build;
use biscol_compiler::db::{Database, STDLIB};
use biscol_compiler::tree_view;
use bitcoin::hashes::{hash160, sha256, Hash};
use bitcoin::secp256k1::{Secp256k1, SecretKey};

fn test_key(n: u8) -> String {
    let secp = Secp256k1::new();
    let mut bytes = [0u8; 32];
    bytes[31] = n;
    let secret = SecretKey::from_slice(&bytes).expect("1..=255 is a valid secret key");
    secret.x_only_public_key(&secp).0.to_string()
}

/// A fixed argument for a parameter of type `ty`; `counter` numbers the keys.
fn test_value(ty: &str, counter: &mut u8) -> String {
    let mut key = || {
        *counter += 1;
        test_key(*counter)
    };
    match ty {
        "PubKey" => key(),
        "Sha256" => sha256::Hash::hash(b"biscol test preimage").to_string(),
        "Hash160" => hash160::Hash::hash(b"biscol test preimage").to_string(),
        "Blocks" => "144".into(),
        "Duration" => "7d".into(),
        "Height" => "800000".into(),
        "Time" => "1800000000".into(),
        "[PubKey; 3]" => (0..3).map(|_| key()).collect::<Vec<_>>().join(","),
        other => panic!("no test value for type {other}"),
    }
}

fn snapshot_of(name: &str, text: &str) -> String {
    let mut database = Database::new();
    let file = database.set_file(&format!("{name}.bsc"), text.to_string());
    let output = build::build(&database, file);
    assert!(!output.has_errors(), "{name}: {:#?}", output.diagnostics);
    assert!(
        output.diagnostics.is_empty(),
        "{name} must build without warnings: {:#?}",
        output.diagnostics
    );
    let mut out = String::new();
    for contract in &output.contracts {
        let artifact = contract
            .artifact
            .as_ref()
            .expect("an artifact without errors");
        let compiled = contract.compiled.as_ref().expect("compiled");
        out.push_str("----- MINISCRIPT\n");
        out.push_str(&format!("key {}\n", artifact.taproot.key_path.template));
        for leaf in &artifact.taproot.leaves {
            out.push_str(&format!(
                "{} (depth {}, worst witness {} vB): {}\n",
                tree_view::leaf_name(&leaf.path, leaf.branch),
                leaf.depth,
                leaf.witness.vbytes,
                leaf.template
            ));
        }
        let mut counter = 0;
        let args: Vec<(String, String)> = artifact
            .abi
            .params
            .iter()
            .map(|p| (p.name.clone(), test_value(&p.ty, &mut counter)))
            .collect();
        let instance = artifact
            .instantiate(&args, bitcoin::Network::Regtest)
            .expect("instantiates");
        out.push_str("----- DESCRIPTOR\n");
        for (k, v) in &args {
            out.push_str(&format!("--arg {k}={v}\n"));
        }
        out.push_str(&format!(
            "{}\naddress {}\n",
            instance.descriptor, instance.address
        ));
        out.push_str("----- TREE\n");
        out.push_str(&tree_view::text(artifact, compiled));
        out.push_str("----- ARTIFACT\n");
        out.push_str(&artifact.to_json());
    }
    out
}

#[test]
fn every_stdlib_contract() {
    assert!(STDLIB.len() >= 6, "the stdlib has its six contracts");
    for (name, text) in STDLIB {
        let snapshot = snapshot_of(name, text);
        insta::with_settings!({ snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"), prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("stdlib__{name}"), snapshot);
        });
    }
}

#[test]
fn every_stdlib_contract_is_documented() {
    for (name, text) in STDLIB {
        assert!(
            text.trim_start().starts_with("///"),
            "stdlib/{name}.bsc starts with a doc comment"
        );
    }
}
