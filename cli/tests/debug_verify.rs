//! `biscol debug verify` end to end: the built binary on a taproot-ref case (Bitcoin Core's
//! `feature_taproot.py` data, case `sighash/purepk`, copied here), its failure spend, a flipped
//! signature byte, and unusable input.

use std::process::{Command, Output};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::{Transaction, Witness};

const TX: &str = "26bea3fc01dff9d694a434b13abfbbd618e2ece4460f24b4821cf47d5afc481a386c59565c970100000075c2f08501cec6000000000000160014619b982e9f6832d2edb1a1ee4e7656a8d72c65e7bc98653d";
const PREVOUT: &str =
    "57144c000000000022512068810aef011b819679577c24f008f8785d9903d2c43eb118d09024962a03144e";
const GOOD_SIG: &str = "2eaa8d5c089018ad5270968232d49205851ae61fce62758bd75b66eb5f615fa421a3365c10fe5f11234c962ded42d732ce69c3aa764a03d4d87b859c333e8a4102";
const BAD_SIG: &str = "ab684fe283f2e3a6ba9ca683327d7f1dc3759c793bdf64459499ca596375323b89b4fe5ae5af3e190f35d63c5129b5192c5c417a5c6e1bae88139c0ceaab809202";

fn tx_with_witness(sig: &[u8]) -> String {
    let mut tx: Transaction = deserialize(&hex::decode(TX).unwrap()).unwrap();
    tx.input[0].witness = Witness::from_slice(&[sig]);
    hex::encode(serialize(&tx))
}

fn biscol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_biscol"))
        .args(["debug", "verify"])
        .args(args)
        .output()
        .expect("run biscol")
}

/// `biscol debug verify` of input 0 of `tx` against [`PREVOUT`], with more arguments.
fn verify(tx: &str, more: &[&str]) -> Output {
    let mut args = vec!["--tx", tx, "--prevouts", PREVOUT, "--index", "0"];
    args.extend_from_slice(more);
    biscol(&args)
}

/// [`verify`] with `--format json`: the exit code and the report.
fn verify_json(tx: &str, more: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(more);
    let o = verify(tx, &args);
    let report = serde_json::from_slice(&o.stdout).unwrap();
    (o.status.code(), report)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn success_case_exits_0() {
    let tx = tx_with_witness(&hex::decode(GOOD_SIG).unwrap());
    let o = verify(&tx, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("valid"));

    let (code, v) = verify_json(&tx, &["--trace"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["valid"], true);
    assert!(v["error"].is_null());
    let kinds: Vec<&str> = v["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["script_sig", "script_pubkey", "taproot_key_path"]);
    let spk_steps = v["trace"][1]["steps"].as_array().unwrap();
    assert_eq!(spk_steps.len(), 2);
    assert_eq!(spk_steps[0]["opcode"], "1");
    assert_eq!(spk_steps[1]["stack"].as_array().unwrap().len(), 2);
}

#[test]
fn failure_case_exits_1_with_error_name() {
    let tx = tx_with_witness(&hex::decode(BAD_SIG).unwrap());
    let o = verify(&tx, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("SCHNORR_SIG"), "{}", stdout(&o));

    let (code, v) = verify_json(&tx, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"], "SCHNORR_SIG");
}

#[test]
fn flipped_signature_byte_is_rejected() {
    let good = hex::decode(GOOD_SIG).unwrap();
    for i in [0usize, 17, 31, 32, 50, 63] {
        let mut sig = good.clone();
        sig[i] ^= 0x01;
        let tx = tx_with_witness(&sig);
        let (code, v) = verify_json(&tx, &[]);
        assert_eq!(code, Some(1), "byte {i}");
        assert_eq!(v["error"], "SCHNORR_SIG", "byte {i}");
    }
    // The hash type byte: 0x02 -> 0x03 changes the message; 0x00 is never allowed explicitly.
    let mut sig = good.clone();
    sig[64] = 0x00;
    let (code, v) = verify_json(&tx_with_witness(&sig), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["error"], "SCHNORR_SIG_HASHTYPE");
}

#[test]
fn flags_are_honoured() {
    // Without TAPROOT a v1 output is anyone-can-spend.
    let tx = tx_with_witness(&hex::decode(BAD_SIG).unwrap());
    let o = verify(&tx, &["--flags", "P2SH,WITNESS"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn bad_input_exits_2() {
    let tx = tx_with_witness(&hex::decode(GOOD_SIG).unwrap());
    let two = format!("{PREVOUT},{PREVOUT}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--tx", "zz", "--prevouts", PREVOUT, "--index", "0"],
        vec!["--tx", "0100", "--prevouts", PREVOUT, "--index", "0"],
        vec![
            "--tx",
            &tx[..tx.len() - 2],
            "--prevouts",
            PREVOUT,
            "--index",
            "0",
        ],
        vec!["--tx", &tx, "--prevouts", "00", "--index", "0"],
        vec!["--tx", &tx, "--prevouts", "abc", "--index", "0"],
        vec!["--tx", &tx, "--prevouts", PREVOUT, "--index", "1"],
        vec!["--tx", &tx, "--prevouts", &two, "--index", "0"],
        vec!["--tx", &tx, "--prevouts", PREVOUT, "--index", "x"],
        vec![
            "--tx",
            &tx,
            "--prevouts",
            PREVOUT,
            "--index",
            "0",
            "--flags",
            "BOGUS",
        ],
    ];
    for args in cases {
        let o = biscol(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, v) = verify_json("zz", &[]);
    assert_eq!(code, Some(2));
    assert_eq!(v["error"], "BAD_INPUT");
}
