//! Artifact JSON (what `biscol deploy` and the loaders read) → `Artifact::from_json`; a parsed
//! artifact is re-serialised (and must parse again) and instantiated with fuzz arguments.
#![no_main]

use biscol_artifact::format::Artifact;
use bitcoin::Network;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The input is `JSON [\0 arg0 \0 arg1 ...]`: the part after the first NUL, if any, gives
    // the argument values, one per parameter in order.
    let (json, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(text) = std::str::from_utf8(json) else { return };
    let Ok(artifact) = Artifact::from_json(text) else { return };
    let again = artifact.to_json();
    let reparsed = Artifact::from_json(&again).expect("to_json output must parse again");
    assert_eq!(reparsed.to_json(), again, "to_json is not stable");

    let values: Vec<String> = match rest {
        Some(r) => r
            .split(|&b| b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect(),
        None => Vec::new(),
    };
    let args: Vec<(String, String)> = artifact
        .abi
        .params
        .iter()
        .zip(values.iter())
        .map(|(p, v)| (p.name.clone(), v.clone()))
        .collect();
    for network in [Network::Regtest, Network::Bitcoin] {
        let _ = artifact.instantiate(&args, network);
    }
});
