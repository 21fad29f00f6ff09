//! Every registered diagnostic code is shown by a golden fixture (`// expect: CODE`), except
//! the few listed here with the reason they cannot be reached from source.

use std::collections::BTreeSet;
use std::path::Path;

use biscol_compiler::diagnostic::codes::CODES;
use biscol_tests::expected_codes;

/// Codes no source text can produce, and why.
const UNREACHABLE: &[(&str, &str)] = &[
    ("E0100", "every leaf comes from rust-miniscript's policy compiler, which only emits non-malleable Miniscript, or from the direct lowering, which only accepts shapes it emits non-malleably; the check stays as a guard and is covered by Bitcoin Core's Miniscript fixed tests in compiler/taproot"),
    ("E0101", "paths with more than 100 atoms are refused first (E0106); below that no tapscript resource limit can be reached; the check stays as a guard and is covered by the fixed tests"),
    ("W0101", "the back end's duration-rounding warning is replaced by the front end's W0001, which points at the literal"),
];

#[test]
fn every_code_has_a_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "bsc") {
                let text =
                    String::from_utf8_lossy(&std::fs::read(&path).expect("fixture")).into_owned();
                seen.extend(expected_codes(&text));
            }
        }
    }
    let missing: Vec<&str> = CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !seen.contains(*c) && !UNREACHABLE.iter().any(|(u, _)| u == c))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
    for (code, _) in UNREACHABLE {
        assert!(
            !seen.contains(*code),
            "{code} has a fixture now: remove it from UNREACHABLE"
        );
    }
}
