//! Helpers the CLI's test files share: running the built `biscol`, and the arguments that
//! instantiate the standard HTLC.
//!
//! Each test file compiles this module on its own and uses part of it.

#![allow(dead_code)]

use std::process::{Child, Command, Output};

/// Runs the built `biscol` with `args`, without colour, and waits for it.
pub fn biscol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_biscol"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// The `--arg` options of the standard HTLC from `@alice` (sender) to `@bob` (receiver), with
/// `hash` and `timeout` given whole (`hash=<hex>`, `timeout=<blocks>`).
pub fn htlc_args<'a>(hash: &'a str, timeout: &'a str) -> [&'a str; 8] {
    [
        "--arg",
        "sender=@alice",
        "--arg",
        "receiver=@bob",
        "--arg",
        hash,
        "--arg",
        timeout,
    ]
}

/// Runs the built `biscol` in `dir` with `args`, without colour, and waits for it.
pub fn biscol_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_biscol"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// [`biscol_in`], asserting exit code 0.
pub fn ok_in(dir: &std::path::Path, args: &[&str]) -> Output {
    let out = biscol_in(dir, args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
    out
}

/// A project made by `biscol init` in a temporary folder, with its example HTLC built to
/// `build/Htlc.json` (no keys yet).
pub fn htlc_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    ok_in(dir.path(), &["init", "."]);
    ok_in(dir.path(), &["build", "contracts/htlc.bsc", "-o", "build"]);
    dir
}

/// The command line that deploys `build/Htlc.json` from `@alice` to `@bob` with `hash`
/// (`hash=<hex>`), a 10-block timeout and `amount`.
pub fn htlc_deploy<'a>(hash: &'a str, amount: &'a str) -> Vec<&'a str> {
    vec![
        "deploy",
        "build/Htlc.json",
        "--arg",
        "sender=@alice",
        "--arg",
        "receiver=@bob",
        "--arg",
        hash,
        "--arg",
        "timeout=10",
        "--amount",
        amount,
    ]
}

/// `biscol node` in the background, killed (SIGKILL) if the test ends early.
pub struct NodeProcess {
    /// The process.
    pub child: Child,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
