//! The compiler refuses to build a contract with `prove` (E0107) until proofs can be made and
//! checked; the runtime's side (an artifact with a `prove` path is never signed) is
//! `runtime/tests/prove.rs`.

use biscol_compiler::build;
use biscol_compiler::db::Database;

const WITH_PROVE: &str = "\
contract Budget(treasurer: PubKey, auditor: PubKey) {
    key musig(treasurer, auditor);
    confidential amount: Commitment<u64>;

    spend pay() {
        require sig(treasurer) && sig(auditor);
        prove amount <= 5_000_000;
    }
}
";

#[test]
fn the_compiler_refuses_to_build_a_prove_path() {
    let mut db = Database::new();
    let id = db.set_file("budget.bsc", WITH_PROVE.to_string());
    let out = build::build(&db, id);
    assert!(out.has_errors(), "a contract with `prove` must not build");
    let err = out
        .diagnostics
        .iter()
        .map(|d| format!("budget.bsc: {} {}", d.code, d.message))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(err.contains("E0107"), "{err}");
}
