//! Resource limits through the real `biscol` binary. In: hostile sources written to a
//! temporary folder. Out: a source file above the size limit is refused at once with a clear
//! message (exit 2, nothing compiled), so is a build whose artifacts would embed more than
//! 256 MiB of source, and no diagnostic grows with the input: a 200,000-deep
//! array literal (one 400,000-character line) gives a few kilobytes of output, for people and
//! as JSON.

mod common;

use common::biscol_in;

#[test]
fn a_source_file_above_the_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.bsc");
    let file = std::fs::File::create(&big).unwrap();
    // 50 MB, sparse: nothing of it is ever read.
    file.set_len(50_000_000).unwrap();
    for command in ["check", "build"] {
        let out = biscol_in(dir.path(), &[command, "big.bsc"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("at most 1048576 bytes (1 MiB)"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn a_build_whose_artifacts_would_embed_too_much_source_is_refused() {
    // 4,000 contracts in a 620 kB file (under the file size limit): each artifact would embed
    // the whole file, 2.5 GB in all, over the bound.
    let dir = tempfile::tempdir().unwrap();
    let contract = |i: usize| {
        format!(
            "contract C{i}(k: PubKey) {{ spend s() {{ require sig(k); }} }} // {:0>90}\n",
            i
        )
    };
    let many: String = (0..4_000).map(contract).collect();
    std::fs::write(dir.path().join("many.bsc"), &many).unwrap();
    let out = biscol_in(dir.path(), &["build", "many.bsc", "-o", "out"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("more than the limit of 268435456 bytes"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing was written");
    // `check` has no artifacts to write: it checks the same file.
    assert_eq!(
        biscol_in(dir.path(), &["check", "many.bsc"]).status.code(),
        Some(0)
    );
}

#[test]
fn a_diagnostic_stays_a_few_kilobytes_whatever_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 200_000;
    let source = format!(
        "contract C(k: PubKey) {{ spend s() {{ require sig(k) == {}1{}; }} }}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    std::fs::write(dir.path().join("deep.bsc"), source).unwrap();
    let human = biscol_in(dir.path(), &["check", "deep.bsc"]);
    assert_eq!(human.status.code(), Some(1));
    let text = String::from_utf8_lossy(&human.stderr);
    assert!(text.len() < 8_000, "{} bytes for people", text.len());
    assert!(text.contains("too long to show"), "{text}");
    assert!(text.contains("at deep.bsc:1:"), "{text}");

    let json = biscol_in(dir.path(), &["check", "--format", "json", "deep.bsc"]);
    assert!(
        json.stdout.len() < 8_000,
        "{} bytes of JSON",
        json.stdout.len()
    );
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    for d in parsed.as_array().expect("a list") {
        assert!(
            d["message"].as_str().unwrap().chars().count() <= 1_100,
            "{d}"
        );
    }
}
