//! `biscol check` and `biscol explain` as a user runs them: exit codes, JSON, robustness.

mod common;
#[path = "../../compiler/tests/common/hostile.rs"]
mod hostile;

use std::path::PathBuf;

use common::biscol;

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("biscol-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file");
    path
}

const THREE_ERRORS: &str = "contract Pay(alice: PubKey, bob: PubKey, t: Blocks) {
    key alice;
    spend a(p: Bytes32) {
        require sig(alcie);
        require older(bob) && older(t);
        require sha256(p) == bob;
    }
}
";

#[test]
fn three_independent_errors_in_one_run() {
    let path = temp_file("three.bsc", THREE_ERRORS.as_bytes());
    let path = path.to_str().expect("utf-8 path");
    let human = biscol(&["check", path]);
    assert_eq!(human.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&human.stderr);
    for (code, line) in [("E0020", 4), ("E0030", 5), ("E0031", 6)] {
        assert!(
            stderr.contains(&format!("error[{code}]")),
            "{code} in:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("three.bsc:{line}:")),
            "line {line} in:\n{stderr}"
        );
    }
    let json = biscol(&["check", "--format", "json", path]);
    assert_eq!(json.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    let items = value.as_array().expect("an array");
    let found: Vec<(String, u64, u64)> = items
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("E0020".to_string(), 4, 21),
            ("E0030".to_string(), 5, 23),
            ("E0031".to_string(), 6, 17)
        ]
    );
    for d in items {
        assert_eq!(d["severity"], "error");
        assert!(d["end_line"].as_u64().is_some() && d["end_column"].as_u64().is_some());
        assert!(d["file"].as_str().is_some_and(|f| f.ends_with("three.bsc")));
    }
}

#[test]
fn the_examples_check_clean() {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let out = biscol(&["check", examples]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let out = biscol(&["check", "/nonexistent/biscol/file.bsc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn explain_prints_every_code_and_rejects_unknown_ones() {
    let out = biscol(&["explain", "E0001"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# E0001") && text.contains("## Wrong") && text.contains("## Right"));
    let list = biscol(&["explain", "--list"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    for line in listed.lines() {
        let code = line.split_whitespace().next().expect("a code per line");
        assert_eq!(biscol(&["explain", code]).status.code(), Some(0), "{code}");
    }
    assert_eq!(biscol(&["explain", "E9999"]).status.code(), Some(2));
}

#[test]
fn hostile_inputs_exit_zero_or_one() {
    let random = hostile::xorshift_bytes(0x9e37_79b9_7f4a_7c15, 16 * 1024);
    let parens = hostile::unclosed_parentheses(200_000);
    let ands = hostile::and_chain(50_000);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.bsc", Vec::new()),
        ("random.bsc", random),
        ("parens.bsc", parens.into_bytes()),
        ("ands.bsc", ands.into_bytes()),
        (
            "comment.bsc",
            b"contract A(a: PubKey) { /* never closed".to_vec(),
        ),
    ];
    for (name, bytes) in cases {
        let path = temp_file(name, &bytes);
        let out = biscol(&["check", path.to_str().expect("utf-8 path")]);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{name}: exit {code:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
