//! `biscol fees` and `biscol build --emit fees` (the same table): the cost of each path of the example HTLC,
//! checked against what the runtime really builds and pays: a dry-run spend of every path is
//! never larger, and never pays more, than the table's worst case at the same rate, and the
//! key path's one-signature spend is 111 vB (Bitcoin Core's own estimate for it).

mod common;

use bitcoin::hashes::{sha256, Hash};
use common::{biscol_in, htlc_deploy, htlc_project, ok_in};
use serde_json::Value;

const PREIMAGE: [u8; 32] = [7; 32];

fn json(dir: &std::path::Path, args: &[&str]) -> Value {
    serde_json::from_slice(&ok_in(dir, args).stdout).expect("JSON")
}

#[test]
fn the_fee_table_bounds_what_every_spend_pays() {
    let dir = htlc_project();
    let p = dir.path();
    let table = json(
        p,
        &[
            "fees",
            "build/Htlc.json",
            "--fee-rate",
            "2",
            "--format",
            "json",
        ],
    );
    let htlc = &table[0];
    assert_eq!(htlc["contract"], "Htlc");
    assert_eq!(htlc["fee_rates"], serde_json::json!([2.0]));
    let paths: Vec<&str> = htlc["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["claim", "refund", "key"]);
    let path = |name: &str| {
        htlc["paths"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["path"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(path("key")["vsize_worst"], 111);
    assert_eq!(path("key")["fees"][0]["worst"], 222);
    assert_eq!(htlc["cheapest"], "key");

    // The same table from `build --emit fees`.
    let emitted = ok_in(
        p,
        &[
            "build",
            "contracts/htlc.bsc",
            "--emit",
            "fees",
            "--fee-rate",
            "2",
        ],
    );
    let from_file = ok_in(p, &["fees", "build/Htlc.json", "--fee-rate", "2"]);
    assert_eq!(emitted.stdout, from_file.stdout);

    // Every path's real spend at 2 sat/vB fits the table's worst case.
    ok_in(p, &["--new", "key", "new", "alice"]);
    ok_in(p, &["key", "new", "bob"]);
    let hash = format!("hash={}", sha256::Hash::hash(&PREIMAGE));
    ok_in(p, &htlc_deploy(&hash, "0.01btc"));
    ok_in(p, &htlc_deploy(&hash, "0.01btc"));
    ok_in(p, &htlc_deploy(&hash, "0.01btc"));
    ok_in(p, &["mine", "10"]);
    let preimage = format!("preimage={}", hex::encode(PREIMAGE));
    for (instance, name, args) in [
        ("htlc-1", "claim", vec!["--arg", preimage.as_str()]),
        ("htlc-2", "refund", vec![]),
        ("htlc-3", "key", vec![]),
    ] {
        let mut argv = vec![
            "spend",
            instance,
            name,
            "--dry-run",
            "--fee-rate",
            "2",
            "--format",
            "json",
        ];
        argv.extend(args);
        let spend = json(p, &argv);
        let row = path(name);
        let vsize = spend["vsize"].as_u64().unwrap();
        let fee = spend["fee"].as_u64().unwrap();
        assert!(
            vsize <= row["vsize_worst"].as_u64().unwrap(),
            "{name}: {vsize} vB against {row}"
        );
        assert!(
            fee <= row["fees"][0]["worst"].as_u64().unwrap(),
            "{name}: {fee} sat against {row}"
        );
    }

    // The table in words, with the default rates.
    let text = String::from_utf8(ok_in(p, &["fees", "build/Htlc.json"]).stdout).unwrap();
    assert!(text.contains("fee @50 sat/vB"), "{text}");
    assert!(text.contains("cheapest: key; dearest: claim"), "{text}");
    // Bad input is an error, exit 2.
    std::fs::write(p.join("garbage.json"), "{").unwrap();
    assert_eq!(
        biscol_in(p, &["fees", "garbage.json"]).status.code(),
        Some(2)
    );
    assert_eq!(
        biscol_in(p, &["fees", "missing.json"]).status.code(),
        Some(2)
    );
}
