//! No input makes the front end panic or overflow its stack.

use biscol_compiler::db::{self, Database};
use proptest::prelude::*;

mod common {
    pub mod hostile;
}

use common::hostile;

fn check(text: &str) -> usize {
    let mut database = Database::new();
    let file = database.set_file("input.bsc", text.to_string());
    let n = db::diagnostics(&database, file).len();
    let _ = db::lower(&database, file);
    n
}

#[test]
fn an_empty_file_is_fine() {
    assert_eq!(check(""), 0);
}

#[test]
fn random_bytes_give_diagnostics() {
    // A fixed pseudo-random sequence (xorshift), so the test is the same every run.
    let bytes = hostile::xorshift_bytes(0x2545_f491_4f6c_dd1d, 16 * 1024);
    assert!(check(&String::from_utf8_lossy(&bytes)) > 0);
}

#[test]
fn two_hundred_thousand_open_parentheses() {
    let text = hostile::unclosed_parentheses(200_000);
    assert!(check(&text) > 0);
    let closed = format!(
        "contract A(a: PubKey) {{ spend s() {{ require {}sig(a){}; }} }}",
        "(".repeat(200_000),
        ")".repeat(200_000)
    );
    assert_eq!(check(&closed), 0, "balanced parentheses are fine");
}

#[test]
fn deeply_nested_calls_are_cut_with_a_diagnostic() {
    let text = format!(
        "contract A(a: PubKey) {{ spend s() {{ require {}a{}; }} }}",
        "sig(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(check(&text) > 0);
}

#[test]
fn fifty_thousand_ands() {
    let text = hostile::and_chain(50_001);
    assert_eq!(check(&text), 0);
    let alternating = format!(
        "contract A(a: PubKey) {{ spend s() {{ require {}sig(a){}; }} }}",
        "sig(a) && (sig(a) || (".repeat(20_000),
        "))".repeat(20_000)
    );
    assert!(check(&alternating) > 0, "too deep: cut with E0008");
}

#[test]
fn unterminated_forms() {
    assert!(check("contract A(a: PubKey) { /* never closed").saturating_sub(0) > 0);
    assert!(check("contract A(a: PubKey) { spend s() { require sig(a), \"open; } }") > 0);
    assert!(check("\0\0\0") > 0);
}

const TOKENS: &[&str] = &[
    "contract",
    "spend",
    "require",
    "key",
    "const",
    "fn",
    "use",
    "confidential",
    "prove",
    "true",
    "false",
    "a",
    "b",
    "sig",
    "older",
    "after",
    "threshold",
    "sha256",
    "musig",
    "PubKey",
    "Blocks",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    ",",
    ";",
    ":",
    "::",
    "->",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "&&",
    "||",
    "@",
    "weight",
    "!",
    "144",
    "blocks",
    "0x00",
    "\"s\"",
    "///d\n",
    "//c\n",
    "/*",
    "*/",
    "\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_token_streams_never_panic(indices in proptest::collection::vec(0..TOKENS.len(), 0..200)) {
        let text: Vec<&str> = indices.iter().map(|&i| TOKENS[i]).collect();
        check(&text.join(" "));
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,300}") {
        check(&text);
    }
}

fn build_errors(text: &str) -> Vec<&'static str> {
    let mut database = Database::new();
    let file = database.set_file("input.bsc", text.to_string());
    biscol_compiler::build::build(&database, file)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

#[test]
fn oversized_paths_are_refused_before_the_policy_compiler() {
    let ands = format!(
        "contract A(a: PubKey) {{ key a; spend s() {{ require {}; }} }}",
        vec!["sig(a)"; 50_000].join(" && ")
    );
    assert_eq!(build_errors(&ands), vec!["E0106"]);
    let keys = "contract X(a: PubKey, ks: [PubKey; 999]) { key a; spend s() { require threshold(999, ks); } }";
    assert_eq!(build_errors(keys), vec!["E0106"]);
}
