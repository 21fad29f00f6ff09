//! PSBTs of script-path spends (`spend::psbt`, through `Session`): what they carry, that
//! rust-miniscript's own finalizer (`PsbtExt`) accepts them and builds a transaction our script
//! engine verifies, and that a PSBT that lies is refused before it is signed or finished.

use biscol_runtime::session::{Destination, SessionError};
use biscol_runtime::spend::SpendError;
use biscol_runtime::testing::TestChain;
use bitcoin::hashes::{sha256, Hash};
use bitcoin::psbt::Psbt;
use bitcoin::{Amount, FeeRate};
use miniscript::psbt::PsbtExt;

#[path = "common/artifacts.rs"]
mod artifacts;

const HTLC: &str = include_str!("../../stdlib/htlc.bsc");
const PREIMAGE: [u8; 32] = [0x42; 32];

fn limit() -> FeeRate {
    FeeRate::from_sat_per_vb_u32(1_000)
}

/// An htlc from `alice` to `bob` deployed on a fresh chain, with both keys in its keystore.
fn htlc() -> (TestChain, String) {
    let mut t = TestChain::new().expect("test chain");
    let alice = t.key("alice").unwrap();
    let bob = t.key("bob").unwrap();
    let json = artifacts::artifact_json("htlc", "htlc.bsc", HTLC).expect("built");
    let hash = sha256::Hash::hash(&PREIMAGE).to_string();
    let d = t
        .deploy(
            &json,
            &[
                ("sender", alice.as_str()),
                ("receiver", bob.as_str()),
                ("hash", hash.as_str()),
                ("timeout", "20"),
            ],
            Amount::from_sat(100_000),
        )
        .unwrap();
    (t, d.instance)
}

fn claim_psbt(t: &mut TestChain, id: &str) -> (Psbt, Vec<String>) {
    let preimage = [("preimage".to_string(), hex::encode(PREIMAGE))];
    t.session()
        .spend_psbt(id, "claim", &preimage, &Destination::Wallet, None)
        .unwrap()
}

#[test]
fn a_claim_psbt_carries_what_an_independent_signer_needs_and_finishes() {
    let (mut t, id) = htlc();
    let (psbt, signed) = claim_psbt(&mut t, &id);
    assert_eq!(signed, ["bob"]);
    let input = &psbt.inputs[0];
    let record = t.session().instance(&id).unwrap();
    let utxo = input.witness_utxo.as_ref().expect("witness_utxo");
    assert_eq!(utxo.script_pubkey, record.script_pubkey);
    assert_eq!(utxo.value, record.amount);
    assert!(input.tap_internal_key.is_some() && input.tap_merkle_root.is_some());
    assert_eq!(input.tap_scripts.len(), 1, "the chosen leaf only");
    assert_eq!(input.tap_script_sigs.len(), 1, "bob signed");
    let bob = t.session().keystore().show("bob").unwrap();
    let (leaves, (fingerprint, _)) = &input.tap_key_origins[&bob.x_only()];
    assert_eq!(*fingerprint, bob.xpub.fingerprint());
    assert_eq!(leaves.len(), 1);
    assert_eq!(
        input.sha256_preimages[&sha256::Hash::hash(&PREIMAGE)],
        PREIMAGE.to_vec()
    );
    // The output goes back to the wallet, and says so.
    let wallet = t.session().keystore().show("wallet").unwrap();
    assert_eq!(psbt.outputs[0].tap_internal_key, Some(wallet.x_only()));
    assert_eq!(
        psbt.outputs[0].tap_key_origins[&wallet.x_only()].1 .0,
        wallet.xpub.fingerprint()
    );
    // Through base64 and back, as files carry it.
    let text = biscol_runtime::spend::psbt::to_base64(&psbt);
    let psbt = biscol_runtime::spend::psbt::from_bytes(text.as_bytes()).unwrap();
    let (_, view) = t.session().inspect_psbt(&psbt).unwrap();
    assert_eq!(view.path, "claim");
    assert!(view.missing.is_empty(), "{:?}", view.missing);
    assert_eq!(view.preimages, [("hash".into(), hex::encode(PREIMAGE))]);

    // rust-miniscript's finalizer builds a transaction from our PSBT that our script engine
    // verifies, with the same witness as ours.
    let mut theirs = psbt.clone();
    theirs
        .finalize_mut(bitcoin::secp256k1::SECP256K1)
        .expect("rust-miniscript finalizes our PSBT");
    let their_tx = theirs.extract_tx().expect("extracts");
    biscol_script::verify_input(
        &their_tx,
        0,
        std::slice::from_ref(utxo),
        biscol_script::VerifyFlags::STANDARD,
    )
    .expect("their transaction verifies");

    let done = t
        .session()
        .finalize_psbt(&psbt, limit(), true, true)
        .unwrap();
    assert_eq!(
        done.finalized.tx.input[0].witness,
        their_tx.input[0].witness
    );
    assert_eq!(
        done.finalized.args,
        [("preimage".into(), hex::encode(PREIMAGE))]
    );
    let record = t.session().instance(&id).unwrap();
    assert_eq!(record.executions[0].path, "claim");
    assert_eq!(record.spend_txid, Some(done.txid));
    assert!(done.height.is_some());
}

#[test]
fn a_psbt_that_lies_is_refused_before_it_is_signed_or_finished() {
    let (mut t, id) = htlc();
    let (psbt, _) = claim_psbt(&mut t, &id);
    let bad = |e: SessionError| match e {
        SessionError::Spend(SpendError::BadPsbt { detail }) => detail,
        other => panic!("expected a refused PSBT, got {other:?}"),
    };

    // A signature that does not verify.
    let mut forged = psbt.clone();
    for sig in forged.inputs[0].tap_script_sigs.values_mut() {
        let mut bytes = sig.signature.serialize();
        bytes[10] ^= 1;
        if let Ok(s) = bitcoin::secp256k1::schnorr::Signature::from_slice(&bytes) {
            sig.signature = s;
        }
    }
    let detail = bad(t
        .session()
        .finalize_psbt(&forged, limit(), false, false)
        .unwrap_err());
    assert!(detail.contains("does not verify"), "{detail}");

    // A leaf script that is not the contract's.
    let mut foreign = psbt.clone();
    let (cb, (script, version)) = foreign.inputs[0].tap_scripts.pop_first().unwrap();
    let mut other = script.to_bytes();
    other.push(0x75); // OP_DROP
    foreign.inputs[0]
        .tap_scripts
        .insert(cb, (bitcoin::ScriptBuf::from_bytes(other), version));
    let detail = bad(t.session().inspect_psbt(&foreign).unwrap_err());
    assert!(
        detail.contains("not one of the contract's leaves"),
        "{detail}"
    );

    // A fee above the limit: the output lowered, so the coin pays the difference as fee.
    let mut greedy = psbt.clone();
    greedy.inputs[0].tap_script_sigs.clear();
    greedy.unsigned_tx.output[0].value = Amount::from_sat(1_000);
    let detail = bad(t
        .session()
        .sign_psbt(&mut greedy, FeeRate::from_sat_per_vb_u32(100))
        .unwrap_err());
    assert!(detail.contains("above the limit"), "{detail}");
    assert!(
        greedy.inputs[0].tap_script_sigs.is_empty(),
        "nothing signed"
    );

    // Without the receiver's signature it is refused at the `require` that needs it.
    let mut unsigned = psbt;
    unsigned.inputs[0].tap_script_sigs.clear();
    match t.session().finalize_psbt(&unsigned, limit(), true, true) {
        Err(SessionError::Spend(SpendError::Refused(refusals))) => {
            let text: Vec<String> = refusals.iter().map(|r| r.to_string()).collect();
            assert!(
                text.iter().any(|r| r.contains("the receiver must sign")
                    && r.contains("the PSBT has no signature of `receiver`")),
                "{text:?}"
            );
        }
        other => panic!("an unsigned claim must be refused, got {other:?}"),
    }
    assert_eq!(
        t.session().instance(&id).unwrap().status,
        biscol_runtime::state::InstanceStatus::Deployed,
        "nothing recorded or broadcast"
    );
}
