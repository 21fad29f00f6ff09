//! Reading an artifact refuses one whose parts do not fit together, by name, before anything
//! is instantiated. In: the stored escrow artifact (built by the compiler, kept in
//! `runtime/tests/data/artifacts/`), edited as a damaged or hand-made file would be. Out: the
//! unedited one reads; each edit is `ArtifactError::Inconsistent` naming what does not fit, or
//! a JSON error naming a field the schema does not allow; none is an internal error.

use biscol_artifact::format::{Artifact, ArtifactError};
use serde_json::{json, Value};

const ESCROW: &str = include_str!("../../runtime/tests/data/artifacts/escrow.json");

fn edited(edit: impl FnOnce(&mut Value)) -> Result<Artifact, ArtifactError> {
    let mut value: Value = serde_json::from_str(ESCROW).unwrap();
    edit(&mut value);
    Artifact::from_json(&value.to_string())
}

fn inconsistent(edit: impl FnOnce(&mut Value), needle: &str) {
    match edited(edit) {
        Err(ArtifactError::Inconsistent { detail }) => {
            assert!(detail.contains(needle), "{needle:?} not in {detail:?}")
        }
        other => panic!("expected Inconsistent ({needle}), got {other:?}"),
    }
}

#[test]
fn the_stored_artifact_reads() {
    let artifact = Artifact::from_json(ESCROW).unwrap();
    artifact.check_structure().unwrap();
}

#[test]
fn each_kind_of_misfit_is_named() {
    inconsistent(
        |a| {
            let first = a["abi"]["params"][0].clone();
            a["abi"]["params"].as_array_mut().unwrap().push(first);
        },
        "is declared twice",
    );
    inconsistent(
        |a| {
            let first = a["abi"]["paths"][0].clone();
            a["abi"]["paths"].as_array_mut().unwrap().push(first);
        },
        "spend path",
    );
    inconsistent(
        |a| a["taproot"]["paths"][0]["name"] = json!("steal"),
        "steal",
    );
    inconsistent(
        |a| a["abi"]["paths"][0]["name"] = json!("steal"),
        "the ABI does not declare",
    );
    inconsistent(
        |a| a["taproot"]["paths"][0]["leaves"] = json!([]),
        "has no leaf",
    );
    inconsistent(
        |a| a["taproot"]["paths"][0]["leaves"] = json!([99]),
        "names leaf 99",
    );
    inconsistent(
        |a| {
            let leaf = a["taproot"]["leaves"][0].clone();
            a["taproot"]["leaves"].as_array_mut().unwrap().push(leaf);
        },
        "is used by no spend path",
    );
    // A leaf dropped: a path names a leaf that is gone (or one of another path).
    inconsistent(
        |a| {
            a["taproot"]["leaves"].as_array_mut().unwrap().remove(0);
        },
        "names leaf",
    );
}

#[test]
fn a_field_the_schema_does_not_allow_is_named() {
    for edit in [
        (|a: &mut Value| a["abi"]["surprise"] = json!(1)) as fn(&mut Value),
        |a| a["taproot"]["leaves"][0]["extra"] = json!("x"),
        |a| a["unknown"] = json!(true),
    ] {
        match edited(edit) {
            Err(ArtifactError::Json(e)) => {
                assert!(e.to_string().contains("unknown field"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn figures_read_back_exactly_so_the_bytes_do_not_change() {
    // Found by the fuzzer: without serde_json's exact float parsing this came back as
    // ...999e+120 after one more read, and re-serialising changed the artifact's bytes.
    let mut value: Value = serde_json::from_str(ESCROW).unwrap();
    value["taproot"]["expected_vbytes"] = json!(5.999999999999998e120);
    let once = Artifact::from_json(&value.to_string()).unwrap().to_json();
    let twice = Artifact::from_json(&once).unwrap().to_json();
    assert_eq!(once, twice);
}
