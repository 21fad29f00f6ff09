//! Expected spend weight: ours against rust-miniscript's `compile_tr` on the same 26
//! policies (tests/common/policies.rs). Ours must never be heavier.

#[path = "common/policies.rs"]
mod policies;

use biscol_taproot::compile::{compile, compile_tr_expected_vbytes};

#[test]
fn never_heavier_than_compile_tr() {
    let cases = policies::cases();
    assert!(cases.len() >= 20);
    println!("| policy | paths | leaves | ours expected vB | compile_tr expected vB | saved vB |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut worse = Vec::new();
    for case in &cases {
        let contract = policies::contract(case);
        let ours = compile(&contract).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let theirs =
            compile_tr_expected_vbytes(&contract).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        println!(
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} |",
            case.name,
            contract.paths.len(),
            ours.leaves.len(),
            ours.expected_vbytes,
            theirs,
            theirs - ours.expected_vbytes
        );
        if ours.expected_vbytes > theirs + 1e-6 {
            worse.push(case.name);
        }
    }
    assert!(worse.is_empty(), "heavier than compile_tr: {worse:?}");
}
