//! `biscol`: the command-line front of the compiler and the runtime.
//!
//! The binary is thin: it parses flags with clap, calls a library, and renders what comes back.

mod debug_verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// BiSCOL: contracts for Bitcoin, checked, compiled to Taproot and run.
#[derive(Debug, Parser)]
#[command(name = "biscol", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Low-level tools for looking inside transactions and scripts.
    #[command(subcommand)]
    Debug(DebugCommand),
}

#[derive(Debug, Subcommand)]
enum DebugCommand {
    /// Verify one input of a transaction with the project's own script engine.
    Verify(debug_verify::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Debug(DebugCommand::Verify(args)) => debug_verify::run(&args),
    }
}
