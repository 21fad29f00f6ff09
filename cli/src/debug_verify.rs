//! `biscol debug verify`: verify one transaction input with the script engine.

use std::process::ExitCode;

/// Arguments of `biscol debug verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {}

/// Runs the command and returns its exit code.
pub fn run(_args: &VerifyArgs) -> ExitCode {
    ExitCode::from(2)
}
