//! Helpers the CLI's test files share: running the built `biscol`, and the arguments that
//! instantiate the standard HTLC.
//!
//! Each test file compiles this module on its own and uses part of it.

#![allow(dead_code)]

use std::process::{Command, Output};

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
