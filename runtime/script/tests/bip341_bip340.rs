//! BIP341 wallet vectors (`bip341_wallet_vectors.json`: the key-path spending part in full,
//! and the scriptPubKey part) and the 19 BIP340 vectors (`bip0340-test-vectors.csv`).

mod common;

use biscol_script::interpreter::verify_schnorr;
use biscol_script::sighash::{
    tapbranch_hash, tapleaf_hash, taproot_sighash, taproot_sigmsg, taptweak_hash,
};
use biscol_script::{verify_input, PrecomputedTx, VerifyFlags};
use bitcoin::consensus::deserialize;
use bitcoin::{Amount, ScriptBuf, Transaction, TxOut, Witness};
use secp256k1::ffi::{self, CPtr};
use secp256k1::{Keypair, Message, Scalar, SecretKey, XOnlyPublicKey, SECP256K1};

fn h(v: &serde_json::Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn h32(v: &serde_json::Value) -> [u8; 32] {
    h(v).try_into().unwrap()
}

#[test]
fn bip341_key_path_spending() {
    let d = common::json("bip341_wallet_vectors.json");
    let k = &d["keyPathSpending"][0];
    let tx: Transaction = deserialize(&h(&k["given"]["rawUnsignedTx"])).unwrap();
    let utxos: Vec<TxOut> = k["given"]["utxosSpent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| TxOut {
            value: Amount::from_sat(u["amountSats"].as_u64().unwrap()),
            script_pubkey: ScriptBuf::from_bytes(h(&u["scriptPubKey"])),
        })
        .collect();
    let txdata = PrecomputedTx::new(&tx, &utxos);
    let im = &k["intermediary"];
    let mut checks = 0;
    assert_eq!(txdata.sha_amounts().unwrap(), h32(&im["hashAmounts"]));
    assert_eq!(txdata.sha_outputs(), h32(&im["hashOutputs"]));
    assert_eq!(txdata.sha_prevouts(), h32(&im["hashPrevouts"]));
    assert_eq!(
        txdata.sha_script_pubkeys().unwrap(),
        h32(&im["hashScriptPubkeys"])
    );
    assert_eq!(txdata.sha_sequences(), h32(&im["hashSequences"]));
    checks += 5;

    let mut signed = tx.clone();
    let inputs = k["inputSpending"].as_array().unwrap();
    for inp in inputs {
        let g = &inp["given"];
        let idx = g["txinIndex"].as_u64().unwrap() as usize;
        let hash_type = g["hashType"].as_u64().unwrap() as u8;
        let sk = SecretKey::from_slice(&h(&g["internalPrivkey"])).unwrap();
        let kp = Keypair::from_secret_key(SECP256K1, &sk);
        let (internal, _) = kp.x_only_public_key();
        let merkle_root = g["merkleRoot"].as_str().map(|_| h32(&g["merkleRoot"]));
        let tweak = taptweak_hash(&internal.serialize(), merkle_root.as_ref());
        let tweaked = kp
            .add_xonly_tweak(SECP256K1, &Scalar::from_be_bytes(tweak).unwrap())
            .unwrap();
        let i = &inp["intermediary"];
        assert_eq!(internal.serialize(), h32(&i["internalPubkey"]));
        assert_eq!(tweak, h32(&i["tweak"]));
        assert_eq!(tweaked.secret_bytes(), h32(&i["tweakedPrivkey"]));
        let msg = taproot_sigmsg(&tx, idx, &txdata, hash_type, None, None).unwrap();
        assert_eq!(msg, h(&i["sigMsg"]));
        let sighash = taproot_sighash(&tx, idx, &txdata, hash_type, None, None).unwrap();
        assert_eq!(sighash, h32(&i["sigHash"]));
        let sig = SECP256K1.sign_schnorr_with_aux_rand(
            &Message::from_digest(sighash),
            &tweaked,
            &[0u8; 32],
        );
        let mut w = sig.as_ref().to_vec();
        if hash_type != 0 {
            w.push(hash_type);
        }
        assert_eq!(w, h(&inp["expected"]["witness"][0]));
        signed.input[idx].witness = Witness::from_slice(&[w]);
        checks += 7;
    }
    // Our witnesses are those of the vector's fully signed transaction (which also signs the
    // non-key-path inputs), and every key-path input of it verifies with our engine.
    let full: Transaction = deserialize(&h(&k["auxiliary"]["fullySignedTx"])).unwrap();
    for inp in inputs {
        let idx = inp["given"]["txinIndex"].as_u64().unwrap() as usize;
        assert_eq!(signed.input[idx].witness, full.input[idx].witness);
        assert_eq!(verify_input(&full, idx, &utxos, VerifyFlags::ALL), Ok(()));
    }
    checks += 1 + inputs.len();
    println!("bip341 key-path spending: {checks}/{checks} checks passed ({} inputs: hashes, sigMsg, sigHash, witness)", inputs.len());
    assert_eq!(checks, 6 + 8 * 7);
}

/// Returns the node hash of a script tree, pushing (leaf hash, path) for every leaf in order.
fn walk(tree: &serde_json::Value, leaves: &mut Vec<([u8; 32], Vec<[u8; 32]>)>) -> [u8; 32] {
    if let Some(arr) = tree.as_array() {
        let start = leaves.len();
        let a = walk(&arr[0], leaves);
        let mid = leaves.len();
        let b = walk(&arr[1], leaves);
        for (n, leaf) in leaves[start..].iter_mut().enumerate() {
            leaf.1.push(if start + n < mid { b } else { a });
        }
        tapbranch_hash(&a, &b)
    } else {
        let lh = tapleaf_hash(
            tree["leafVersion"].as_u64().unwrap() as u8,
            &h(&tree["script"]),
        );
        leaves.push((lh, Vec::new()));
        lh
    }
}

#[test]
fn bip341_script_pubkeys() {
    let d = common::json("bip341_wallet_vectors.json");
    let cases = d["scriptPubKey"].as_array().unwrap();
    let mut passed = 0;
    for c in cases {
        let internal = XOnlyPublicKey::from_slice(&h(&c["given"]["internalPubkey"])).unwrap();
        let mut leaves = Vec::new();
        let root = if c["given"]["scriptTree"].is_null() {
            None
        } else {
            Some(walk(&c["given"]["scriptTree"], &mut leaves))
        };
        let im = &c["intermediary"];
        if let Some(r) = root {
            assert_eq!(r, h32(&im["merkleRoot"]));
            let lh: Vec<[u8; 32]> = im["leafHashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(h32)
                .collect();
            assert_eq!(lh, leaves.iter().map(|l| l.0).collect::<Vec<_>>());
        }
        let tweak = taptweak_hash(&internal.serialize(), root.as_ref());
        assert_eq!(tweak, h32(&im["tweak"]));
        let (q, parity) = internal
            .add_tweak(SECP256K1, &Scalar::from_be_bytes(tweak).unwrap())
            .unwrap();
        assert_eq!(q.serialize(), h32(&im["tweakedPubkey"]));
        let mut spk = vec![0x51, 0x20];
        spk.extend_from_slice(&q.serialize());
        assert_eq!(spk, h(&c["expected"]["scriptPubKey"]));
        if let Some(cbs) = c["expected"]["scriptPathControlBlocks"].as_array() {
            for (cb, (leaf, path)) in cbs.iter().zip(&leaves) {
                let cb = h(cb);
                let mut want = vec![cb[0] & 0xfe | parity.to_u8()];
                want.extend_from_slice(&internal.serialize());
                for p in path {
                    want.extend_from_slice(p);
                }
                assert_eq!(cb, want);
                assert!(biscol_script::verify::verify_taproot_commitment(
                    &cb,
                    &q.serialize(),
                    leaf
                ));
            }
        }
        passed += 1;
    }
    println!("bip341 scriptPubKey: {passed}/{} passed", cases.len());
    assert_eq!(passed, 7);
}

fn schnorr_verify_any_len(sig: &[u8], msg: &[u8], pk: &[u8]) -> bool {
    if msg.len() == 32 {
        return verify_schnorr(sig, pk, &msg.try_into().unwrap());
    }
    let Ok(pk) = XOnlyPublicKey::from_slice(pk) else {
        return false;
    };
    if sig.len() != 64 {
        return false;
    }
    // SAFETY: valid context, 64-byte signature, message pointer/length pair, parsed key.
    unsafe {
        ffi::secp256k1_schnorrsig_verify(
            SECP256K1.ctx().as_ptr(),
            sig.as_c_ptr(),
            msg.as_c_ptr(),
            msg.len(),
            pk.as_c_ptr(),
        ) == 1
    }
}

fn schnorr_sign_any_len(sk: &[u8], msg: &[u8], aux: &[u8; 32]) -> [u8; 64] {
    let kp = Keypair::from_seckey_slice(SECP256K1, sk).unwrap();
    if msg.len() == 32 {
        let m = Message::from_digest(msg.try_into().unwrap());
        return *SECP256K1.sign_schnorr_with_aux_rand(&m, &kp, aux).as_ref();
    }
    let mut sig = [0u8; 64];
    let params = ffi::SchnorrSigExtraParams::new(None, aux.as_c_ptr() as *const core::ffi::c_void);
    // SAFETY: valid context and keypair; output buffer of 64 bytes; aux_rand of 32 bytes.
    let ok = unsafe {
        ffi::secp256k1_schnorrsig_sign_custom(
            SECP256K1.ctx().as_ptr(),
            sig.as_mut_c_ptr(),
            msg.as_c_ptr(),
            msg.len(),
            kp.as_c_ptr(),
            &params,
        )
    };
    assert_eq!(ok, 1);
    sig
}

#[test]
fn bip340_vectors() {
    let csv = common::data("bip0340-test-vectors.csv");
    let (mut total, mut passed, mut signing) = (0, 0, 0);
    for line in csv.lines().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.splitn(8, ',').collect();
        total += 1;
        let pk = hex::decode(f[2]).unwrap();
        let msg = hex::decode(f[4]).unwrap();
        let sig = hex::decode(f[5]).unwrap();
        let expect = f[6] == "TRUE";
        let mut ok = schnorr_verify_any_len(&sig, &msg, &pk) == expect;
        if !f[1].is_empty() {
            signing += 1;
            let aux: [u8; 32] = hex::decode(f[3]).unwrap().try_into().unwrap();
            ok &= schnorr_sign_any_len(&hex::decode(f[1]).unwrap(), &msg, &aux).as_slice()
                == sig.as_slice();
        }
        if ok {
            passed += 1;
        } else {
            println!("  BIP340 vector {} failed", f[0]);
        }
    }
    println!("bip0340-test-vectors.csv: {passed}/{total} passed ({signing} also signing)");
    assert_eq!((passed, total, signing), (19, 19, 8));
}
