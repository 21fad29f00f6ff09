//! Our PSBTs against a real regtest Bitcoin Core node (`common/bitcoind.rs`): Core decodes and
//! analyzes an escrow dispute PSBT that we wrote and the buyer signed, signs the seller's part
//! with `descriptorprocesspsbt` given the instance's descriptor with the seller's private key,
//! and finalizes it with `finalizepsbt`; we finish the Core-signed PSBT too, both sides produce
//! the same transaction, and Core accepts ours.
//!
//! Skipped (printing why) when no `bitcoind` is found; CI sets `BISCOL_REQUIRE_BITCOIND=1`.

#[path = "common/artifacts.rs"]
mod artifacts;
#[path = "common/bitcoind.rs"]
mod bitcoind;

use std::time::Duration;

use biscol_runtime::chain::rpc::{Auth, CoreRpcChain};
use biscol_runtime::keystore::Keystore;
use biscol_runtime::project::StateLayout;
use biscol_runtime::session::{Destination, Session, SessionOptions};
use biscol_runtime::spend::psbt::{from_bytes, to_base64};
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Amount, FeeRate, Network};
use serde_json::json;

const ESCROW: &str = include_str!("../../stdlib/escrow.bsc");

#[test]
fn bitcoin_core_reads_signs_and_finishes_our_psbts() {
    let Some(core) = bitcoind::CoreNode::start("psbt_core") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let chain = CoreRpcChain::connect(
        &core.rpc_url(),
        Auth::CookieFile(core.cookie_file().to_path_buf()),
        Network::Regtest,
    )
    .unwrap();
    let options = SessionOptions {
        poll_interval: Duration::from_millis(50),
        confirmation_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let mut session = Session::open_remote(
        StateLayout::new(dir.path().join("state")),
        options,
        Box::new(chain),
    )
    .unwrap();
    session.mine(101, None).unwrap();
    // The buyer's key is in the session's keystore; the seller's and the arbiter's elsewhere.
    let buyer = session.keystore().create("buyer").unwrap();
    let others = Keystore::open(dir.path().join("others")).unwrap();
    let seller = others.create("seller").unwrap();
    let arbiter = others.create("arbiter").unwrap();
    let json_artifact = artifacts::artifact_json("escrow", "escrow.bsc", ESCROW).unwrap();
    let args: Vec<(String, String)> = [
        ("buyer", buyer.public_key.to_string()),
        ("seller", seller.public_key.to_string()),
        ("arbiter", arbiter.public_key.to_string()),
        ("timeout", "50".to_string()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect();
    let d = session
        .deploy(&json_artifact, &args, Amount::from_sat(200_000), None, true)
        .unwrap();
    let (psbt, signed) = session
        .spend_psbt(&d.instance, "dispute", &[], &Destination::Wallet, None)
        .unwrap();
    assert_eq!(signed, ["buyer"]);
    let ours = to_base64(&psbt);

    // Core reads every field we wrote.
    let decoded = core.must("decodepsbt", &[json!(ours)]);
    let input = &decoded["inputs"][0];
    assert_eq!(input["witness_utxo"]["amount"], json!(0.002), "{input}");
    assert!(input["taproot_internal_key"].is_string(), "{input}");
    assert!(input["taproot_merkle_root"].is_string(), "{input}");
    assert_eq!(input["taproot_scripts"].as_array().unwrap().len(), 1);
    assert_eq!(
        input["taproot_script_path_sigs"].as_array().unwrap().len(),
        1
    );
    assert_eq!(input["taproot_bip32_derivs"].as_array().unwrap().len(), 3);
    let analyzed = core.must("analyzepsbt", &[json!(ours)]);
    // Core sees the coin and that the input is not final. (Core 31 names the next role
    // "updater" for a taproot script path that lacks signatures: its analysis does not list
    // missing taproot signatures, so it cannot tell that a signer is what is needed.)
    assert_eq!(analyzed["inputs"][0]["has_utxo"], true, "{analyzed}");
    assert_eq!(analyzed["inputs"][0]["is_final"], false, "{analyzed}");

    // Core signs the seller's part, given the instance's descriptor with the seller's tprv.
    let descriptor = d.descriptor.split('#').next().unwrap().to_string();
    let seller_hex = seller.public_key.to_string();
    let seller_x = seller.x_only().to_string();
    let private = if descriptor.contains(&seller_hex) {
        descriptor.replace(&seller_hex, &others.export("seller").unwrap())
    } else {
        assert!(descriptor.contains(&seller_x), "{descriptor}");
        descriptor.replace(&seller_x, &others.export("seller").unwrap())
    };
    let processed = core.must(
        "descriptorprocesspsbt",
        &[
            json!(ours),
            json!([private]),
            json!("DEFAULT"),
            json!(true),
            json!(false),
        ],
    );
    let core_signed = processed["psbt"].as_str().unwrap().to_string();
    let core_psbt = from_bytes(core_signed.as_bytes()).unwrap();
    assert_eq!(
        core_psbt.inputs[0].tap_script_sigs.len(),
        2,
        "Core added the seller's"
    );

    // Both finish it; the transactions are the same, and Core accepts ours.
    let (_, view) = session.inspect_psbt(&core_psbt).unwrap();
    assert!(view.missing.is_empty(), "{:?}", view.missing);
    let limit = FeeRate::from_sat_per_vb_u32(1_000);
    let finished = session
        .finalize_psbt(&core_psbt, limit, false, false)
        .unwrap();
    let theirs = core.must("finalizepsbt", &[json!(core_signed)]);
    assert_eq!(theirs["complete"], true, "{theirs}");
    assert_eq!(
        theirs["hex"].as_str().unwrap(),
        serialize_hex(&finished.finalized.tx),
        "Core and we finish the same transaction"
    );
    let accepted = core.must(
        "testmempoolaccept",
        &[json!([serialize_hex(&finished.finalized.tx)])],
    );
    assert_eq!(accepted[0]["allowed"], true, "{accepted}");
    let done = session
        .finalize_psbt(&core_psbt, limit, true, true)
        .unwrap();
    assert!(done.height.is_some());
    assert_eq!(
        session.instance(&d.instance).unwrap().executions[0].path,
        "dispute"
    );
}
