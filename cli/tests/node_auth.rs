//! `biscol node`'s credentials and shutdown: the password from a file or the environment
//! instead of the command line, empty credentials refused at start, and the cookie file removed
//! on SIGTERM as on SIGINT.

mod common;

use common::NodeProcess;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

/// `alice:s3cret-file` in base64.
const FILE_CREDS: &str = "YWxpY2U6czNjcmV0LWZpbGU=";
/// `alice:s3cret-file\n` in base64: the password with the file's line ending.
const FILE_CREDS_NEWLINE: &str = "YWxpY2U6czNjcmV0LWZpbGUK";
/// `alice:env-s3cret` in base64.
const ENV_CREDS: &str = "YWxpY2U6ZW52LXMzY3JldA==";
/// `alice:wrong` in base64.
const WRONG_CREDS: &str = "YWxpY2U6d3Jvbmc=";

/// The `biscol node` command over the state folder `state`, with `args` after `node`, and
/// without a password in its environment unless `env_password` gives one.
fn node_command(state: &Path, args: &[&str], env_password: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_biscol"));
    cmd.arg("--state-dir")
        .arg(state)
        .arg("--new")
        .args(["node", "--rpc-port", "0"])
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("BISCOL_RPC_PASSWORD");
    if let Some(p) = env_password {
        cmd.env("BISCOL_RPC_PASSWORD", p);
    }
    cmd
}

/// Starts `biscol node` and waits until it serves; the process and its `host:port`.
fn start_node(state: &Path, args: &[&str], env_password: Option<&str>) -> (NodeProcess, String) {
    let mut child = node_command(state, args, env_password)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    let node = NodeProcess { child };
    let mut addr = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("node output");
        if let Some(rest) = line.trim().strip_prefix("JSON-RPC http://") {
            addr = Some(rest.trim().to_string());
        }
        if line.contains("Ctrl-C stops") {
            break;
        }
    }
    (node, addr.expect("the node prints its JSON-RPC address"))
}

/// The HTTP status of `getblockcount` with the base64 credentials `auth`.
fn rpc_status(addr: &str, auth: &str) -> u16 {
    let body = r#"{"method":"getblockcount","params":[],"id":1}"#;
    let mut s = TcpStream::connect(addr).expect("connect");
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Basic {auth}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Sends `signal` to the node and waits for it; whether it exited 0.
fn stop(mut node: NodeProcess, signal: &str) -> bool {
    let pid = node.child.id().to_string();
    let kill = Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    node.child.wait().expect("node exits").success()
}

#[test]
fn sigterm_removes_the_cookie_as_sigint_does() {
    for signal in ["-TERM", "-INT", "-HUP"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("A");
        let (node, _addr) = start_node(&state, &[], None);
        let cookie = state.join("chain/.cookie");
        assert!(cookie.is_file(), "cookie written");
        assert!(stop(node, signal), "{signal}: the node exits 0");
        assert!(!cookie.exists(), "{signal}: the cookie is removed");
    }
}

#[test]
fn the_password_comes_from_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("A");
    let file = dir.path().join("rpc-password");
    std::fs::write(&file, "s3cret-file\n").expect("write");
    let file_arg = file.to_str().expect("utf-8 path");
    let args = ["--rpc-user", "alice", "--rpc-password-file", file_arg];
    // The file wins over the environment.
    let (node, addr) = start_node(&state, &args, Some("env-s3cret"));
    assert!(
        !state.join("chain/.cookie").exists(),
        "no cookie with a user"
    );
    assert_eq!(rpc_status(&addr, FILE_CREDS), 200);
    // The line ending is not part of the password.
    assert_eq!(rpc_status(&addr, FILE_CREDS_NEWLINE), 401);
    assert_eq!(rpc_status(&addr, ENV_CREDS), 401);
    assert!(stop(node, "-TERM"));
}

#[test]
fn the_password_comes_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("A");
    let (node, addr) = start_node(&state, &["--rpc-user", "alice"], Some("env-s3cret"));
    assert_eq!(rpc_status(&addr, ENV_CREDS), 200);
    assert_eq!(rpc_status(&addr, WRONG_CREDS), 401);
    assert!(stop(node, "-TERM"));
}

#[test]
fn empty_or_missing_credentials_are_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("A");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").expect("write");
    let good = dir.path().join("good");
    std::fs::write(&good, "s3cret-file").expect("write");
    let empty = empty.to_str().expect("utf-8 path");
    let good = good.to_str().expect("utf-8 path");
    let missing = dir.path().join("missing");
    let missing = missing.to_str().expect("utf-8 path");
    let cases: [(&[&str], Option<&str>, &str); 6] = [
        (
            &["--rpc-user", "alice", "--rpc-password-file", empty],
            None,
            "empty password",
        ),
        (
            &["--rpc-user", "", "--rpc-password-file", good],
            None,
            "the RPC user is empty",
        ),
        (
            &["--rpc-user", "alice"],
            Some(""),
            "the RPC password is empty",
        ),
        (
            &["--rpc-user", "alice", "--rpc-password", ""],
            None,
            "the RPC password is empty",
        ),
        (&["--rpc-user", "alice"], None, "needs a password"),
        (
            &["--rpc-user", "alice", "--rpc-password-file", missing],
            None,
            "password file",
        ),
    ];
    for (args, env_password, expected) in cases {
        let out = node_command(&state, args, env_password)
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("s3cret"),
            "the password is shown: {stderr}"
        );
        assert!(
            !state.join("chain/.cookie").exists(),
            "{args:?}: nothing served"
        );
    }
}

#[test]
fn help_names_the_password_sources() {
    let out = common::biscol(&["node", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    for needle in [
        "--rpc-password-file",
        "BISCOL_RPC_PASSWORD",
        "(ps)",
        "SIGTERM",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}
