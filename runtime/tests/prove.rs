//! Paths with `prove` statements are never signed: the compiler refuses to build them (E0107,
//! tested in `biscol-tests`), and an artifact that has one anyway (hand-edited, or from another
//! compiler) is refused at spend time, before anything is signed, while its other paths and its
//! key path still work.

use biscol_runtime::session::SessionError;
use biscol_runtime::spend::SpendError;
use biscol_runtime::testing::TestChain;
use bitcoin::Amount;

#[path = "common/artifacts.rs"]
mod artifacts;

/// The source of the stored artifact `budget` (the runtime does not compile; the compiler's
/// refusal of `prove` itself is `biscol-tests`'s `prove` test).
const BUDGET: &str = include_str!("data/budget.bsc");

#[test]
fn an_artifact_with_a_prove_path_is_never_signed() {
    let mut t = TestChain::new().expect("test chain");
    let json = artifacts::artifact_json("budget", "budget.bsc", BUDGET).expect("built");
    // What a hand edit (or another compiler) would give: `pay` claims one `prove` statement.
    let mut artifact: serde_json::Value = serde_json::from_str(&json).expect("artifact json");
    artifact["abi"]["paths"][0]["proves"] = serde_json::json!(1);
    let edited = serde_json::to_string(&artifact).expect("json");

    let treasurer = t.key("treasurer").expect("key");
    let auditor = t.key("auditor").expect("key");
    let args = [
        ("treasurer", treasurer.as_str()),
        ("auditor", auditor.as_str()),
    ];
    let first = t
        .deploy(&edited, &args, Amount::from_sat(100_000))
        .expect("deploys");
    match t.spend(&first.instance, "pay", &[]) {
        Err(SessionError::Spend(SpendError::Refused(refusals))) => {
            let text = refusals
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            assert!(text.contains("path `pay` at budget.bsc:4:5"), "{text}");
            assert!(text.contains("a `prove` statement"), "{text}");
            assert!(text.contains("E0107"), "{text}");
        }
        other => panic!("the prove path must be refused, got {other:?}"),
    }
    // The paths without `prove`, and the key path, are unaffected.
    t.spend(&first.instance, "alone", &[])
        .expect("a path without prove spends");
    let second = t
        .deploy(&edited, &args, Amount::from_sat(100_000))
        .expect("deploys");
    t.spend(&second.instance, "key", &[])
        .expect("the key path spends");
}
