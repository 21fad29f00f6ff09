//! Every subcommand of the real `biscol` binary run with hostile arguments: huge and negative
//! numbers, empty and very long strings, garbage, paths that do not exist or are folders or
//! files where a folder is wanted, and wrong formats for txids, keys, hashes, amounts, fee
//! rates and durations. In: a throw-away project (its own state folder) with one deployed HTLC,
//! so that the commands get past their first checks. Out: no run exits 101, none prints
//! "panicked" or "internal compiler error", none hangs; and output into a closed pipe
//! (`biscol events | head -1`) ends quietly with exit 0.
//!
//! Values that could write outside the temporary folder (absolute paths for `init`, `fmt`
//! without `--check`, `build -o`) and flags that would start a server for good (`node` with a
//! valid port) are left out: those are not about panics.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bitcoin::hashes::{sha256, Hash};

const PREIMAGE: [u8; 32] = [7; 32];
const TIMEOUT: Duration = Duration::from_secs(120);

/// One run's exit code and output.
#[derive(Debug)]
struct Run {
    args: Vec<String>,
    code: Option<i32>,
    stderr: String,
}

/// Runs `biscol args` in `dir` with `stdin` (or nothing), killed after [`TIMEOUT`].
fn run(dir: &Path, args: &[String], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_biscol"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let (Some(bytes), Some(mut input)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        let _ = input.write_all(bytes);
    }
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    // Standard output is read (so the child never blocks on a full pipe) and dropped.
    let out_reader = std::thread::spawn(move || {
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`biscol {}` did not finish in {TIMEOUT:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = out_reader.join();
    Run {
        args: args.to_vec(),
        code: status.code(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned(),
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Asserts that the run did not panic.
fn no_panic(r: &Run) {
    let shown: String = r.args.join(" ").chars().take(300).collect();
    assert_ne!(
        r.code,
        Some(101),
        "exit 101 for `biscol {shown}`: {}",
        r.stderr
    );
    assert!(
        r.code.is_some(),
        "`biscol {shown}` was killed by a signal: {}",
        r.stderr
    );
    for needle in ["panicked", "internal compiler error", "RUST_BACKTRACE"] {
        assert!(
            !r.stderr.contains(needle),
            "`biscol {shown}` printed {needle:?}: {}",
            r.stderr
        );
    }
}

/// A project with the example HTLC built, keys `alice` and `bob`, and `htlc-1` deployed.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = |args: &[&str]| {
        let r = run(dir.path(), &strings(args), None);
        assert_eq!(r.code, Some(0), "{r:#?}");
    };
    ok(&["init", "."]);
    ok(&["build", "contracts/htlc.bsc", "-o", "build"]);
    ok(&["--new", "key", "new", "alice"]);
    ok(&["key", "new", "bob"]);
    let hash = format!("hash={}", sha256::Hash::hash(&PREIMAGE));
    ok(&[
        "deploy",
        "build/Htlc.json",
        "--arg",
        "sender=@alice",
        "--arg",
        "receiver=@bob",
        "--arg",
        &hash,
        "--arg",
        "timeout=10",
        "--amount",
        "0.01btc",
    ]);
    std::fs::write(
        dir.path().join("garbage.json"),
        b"{\"format\": [1, 2, {\"x\":",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("binary.bsc"),
        [0xff, 0xfe, 0x00, 0x80, b'{'],
    )
    .unwrap();
    dir
}

/// Values that go anywhere a string goes.
fn hostile_values() -> Vec<String> {
    let mut v = strings(&[
        "",
        " ",
        "0",
        "-1",
        "-0",
        "+1",
        "-9223372036854775808",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "340282366920938463463374607431768211456",
        "4294967295",
        "4294967296",
        "65535",
        "65536",
        "NaN",
        "inf",
        "-inf",
        "1e309",
        "0x",
        "zz",
        "=",
        "==",
        "@",
        "@@",
        "@alice@",
        ",,,",
        "[]",
        "{}",
        "\u{202e}\u{1f4a5}",
        "garbage !@#$%^&*()",
        "does/not/exist",
        "contracts",
        "Biscol.toml/inside",
        "binary.bsc",
        "garbage.json",
        "../../../../../../nonexistent",
        "/nonexistent/nowhere",
        "/dev/null",
        "00000000000000000000000000000000000000000000000000000000000000zz",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "02ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
        "18446744073709551615sat",
        "21000001btc",
        "-1btc",
        "1e10btc",
        "0.000000001btc",
        "99999999999999999999d",
        "4294967296s",
        "htlc-18446744073709551615",
    ]);
    v.push("x".repeat(100_000));
    v.push("9".repeat(5_000));
    v.push("é".repeat(20_000));
    v.push(format!("{}/", "d".repeat(300)));
    v
}

/// Values safe as a folder or file a command may create or write.
fn writable(value: &str) -> bool {
    !value.starts_with('/') && !value.starts_with("..")
}

#[test]
fn no_subcommand_panics_on_hostile_arguments() {
    let p = project();
    let dir = p.path();
    let hash = format!("hash={}", sha256::Hash::hash(&PREIMAGE));
    let preimage = format!("preimage={}", hex::encode(PREIMAGE));
    let zero_txid = "00".repeat(32);
    let mut runs = 0usize;
    let mut check = |args: Vec<String>, stdin: Option<&[u8]>| {
        no_panic(&run(dir, &args, stdin));
        runs += 1;
    };

    // Each template has one `{}` that every hostile value fills in turn.
    let htlc = |sender: &str, receiver: &str, h: &str, timeout: &str| {
        vec![
            "--arg".to_string(),
            format!("sender={sender}"),
            "--arg".into(),
            format!("receiver={receiver}"),
            "--arg".into(),
            h.to_string(),
            "--arg".into(),
            format!("timeout={timeout}"),
        ]
    };
    for v in hostile_values() {
        let v = v.as_str();
        let mut templates: Vec<Vec<String>> = vec![
            strings(&["check", v]),
            strings(&["check", "--format", v]),
            strings(&["build", v]),
            strings(&["build", "contracts/htlc.bsc", "--emit", v]),
            strings(&["build", "contracts/htlc.bsc", "--emit", "ir", "--format", v]),
            strings(&["instantiate", v]),
            strings(&["instantiate", "build/Htlc.json", "--network", v]),
            strings(&["instantiate", "build/Htlc.json", "--arg", v]),
            strings(&["explain", v]),
            strings(&["fmt", "--check", v]),
            strings(&["key", "new", v]),
            strings(&["key", "show", v]),
            strings(&["key", "export", v]),
            strings(&["key", "list", "--format", v]),
            strings(&["deploy", v, "--amount", "0.01btc"]),
            strings(&["deploy", "build/Htlc.json", "--amount", v]),
            strings(&["deploy", "build/Htlc.json", "--arg", v, "--amount", "1btc"]),
            strings(&["spend", v, "claim"]),
            strings(&["spend", "htlc-1", v]),
            strings(&["spend", "htlc-1", "claim", "--arg", v]),
            strings(&["spend", "htlc-1", "claim", "--to", v, "--dry-run"]),
            strings(&["spend", "htlc-1", "claim", "--fee-rate", v, "--dry-run"]),
            strings(&[
                "spend",
                "htlc-1",
                "claim",
                "--arg",
                &preimage,
                "--to",
                v,
                "--dry-run",
            ]),
            strings(&["bump", v, "--fee-rate", "3"]),
            strings(&["bump", &zero_txid, "--fee-rate", v]),
            strings(&["state", v]),
            strings(&["state", "--format", v]),
            strings(&["events", "--after", v]),
            strings(&["checkpoint", "--list", "--format", v]),
            strings(&["restore", v]),
            strings(&["mine", v]),
            strings(&["mine", "1", "--advance", v]),
            strings(&["chain", v]),
            strings(&["chain", "info", "--format", v]),
            strings(&["node", "--rpc-user", v]),
            strings(&[
                "debug",
                "verify",
                "--tx",
                v,
                "--prevouts",
                v,
                "--index",
                "0",
            ]),
            strings(&[
                "debug",
                "verify",
                "--tx",
                "00",
                "--prevouts",
                "00",
                "--index",
                v,
            ]),
            strings(&[
                "debug",
                "verify",
                "--tx",
                "00",
                "--prevouts",
                "00",
                "--index",
                "0",
                "--flags",
                v,
            ]),
            strings(&[v]),
            strings(&["--state-dir", "/dev/null", "state", v]),
        ];
        // The contract's own arguments, one at a time.
        for args in [
            htlc(v, "@bob", &hash, "10"),
            htlc("@alice", v, &hash, "10"),
            htlc("@alice", "@bob", &format!("hash={v}"), "10"),
            htlc("@alice", "@bob", &hash, v),
        ] {
            let mut deploy = strings(&["deploy", "build/Htlc.json"]);
            deploy.extend(args.clone());
            deploy.extend(strings(&["--amount", "0.01btc"]));
            templates.push(deploy);
            let mut instantiate = strings(&["instantiate", "build/Htlc.json"]);
            instantiate.extend(args);
            templates.push(instantiate);
        }
        let mut deploy_fee = strings(&["deploy", "build/Htlc.json"]);
        deploy_fee.extend(htlc("@alice", "@bob", &hash, "10"));
        deploy_fee.extend(strings(&[
            "--amount",
            "0.01btc",
            "--fee-rate",
            v,
            "--no-wait",
        ]));
        templates.push(deploy_fee);
        if writable(v) {
            templates.push(strings(&["init", v]));
            templates.push(strings(&["build", "contracts/htlc.bsc", "-o", v]));
            templates.push(strings(&[
                "build",
                "contracts/htlc.bsc",
                "--emit",
                "tree",
                "-o",
                v,
            ]));
            templates.push(strings(&["checkpoint", "--label", v]));
        }
        if v.parse::<u16>().is_err() {
            // A valid port would start a server that runs until Ctrl-C.
            templates.push(strings(&["node", "--rpc-port", v]));
        }
        for args in templates {
            check(args, None);
        }
    }
    // A state folder that is a file, and one inside a file.
    for state in ["/dev/null", "Biscol.toml", "Biscol.toml/inside"] {
        for cmd in [
            &["state"][..],
            &["events"],
            &["key", "list"],
            &["chain", "info"],
            &["node", "--rpc-port", "0"],
            &["mine"],
            &["checkpoint"],
        ] {
            let mut args = strings(&["--state-dir", state]);
            args.extend(strings(cmd));
            check(args, None);
        }
    }
    // The language server with garbage on its input ends without a panic.
    check(
        strings(&["lsp"]),
        Some(b"Content-Length: 99999999999999999999\r\n\r\n{"),
    );
    check(strings(&["lsp"]), Some(b"\x00\xff garbage \r\n\r\n"));
    assert!(runs > 2000, "{runs} runs");
}

/// Output into a pipe whose reader has gone ends quietly with exit 0.
#[test]
fn a_closed_pipe_is_not_an_error() {
    let p = project();
    let dir = p.path();
    for args in [
        &["explain", "--list"][..],
        &["explain", "E0001"],
        &["events"],
        &["events", "--format", "json"],
        &["state", "--format", "json"],
        &["chain", "info"],
        &["key", "list"],
        &["build", "contracts/htlc.bsc", "--emit", "ir"],
        &["--help"],
        &["deploy", "--help"],
    ] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_biscol"))
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} printed: {stderr}");
    }
    // As a shell runs it, with the pipeline's status taken from `biscol`.
    let bash = Path::new("/bin/bash");
    if bash.exists() {
        for pipeline in [
            r#""$0" events | head -1 >/dev/null"#,
            r#""$0" explain --list | head -1 >/dev/null"#,
        ] {
            let out = Command::new(bash)
                .arg("-c")
                .arg(format!("set -o pipefail; {pipeline}"))
                .arg(env!("CARGO_BIN_EXE_biscol"))
                .current_dir(dir)
                .output()
                .expect("bash runs");
            assert_eq!(
                out.status.code(),
                Some(0),
                "{pipeline}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.stderr.is_empty(), "{pipeline}");
        }
    }
}
