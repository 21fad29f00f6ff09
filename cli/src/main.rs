//! `biscol`: the command-line front of the compiler and the runtime.
//!
//! The binary is thin: it parses flags with clap, calls a library, and renders what comes back.
//! Exit codes: 0 success, 1 the input has errors (or a spend/verification fails), 2 usage or
//! IO errors.

mod build;
mod check;
mod debug_verify;
mod explain;
mod fmt;
mod instantiate;
mod lsp_cmd;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// BiSCOL: contracts for Bitcoin, checked, compiled to Taproot and run.
#[derive(Debug, Parser)]
#[command(name = "biscol", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check contracts and report every error and warning, without building anything.
    ///
    /// PATHs are `.bsc` files or folders (searched recursively for `.bsc` files); the default
    /// is the current folder. Exit code 0 when there is no error, 1 when there is one, 2 when
    /// a path cannot be read.
    Check(check::CheckArgs),
    /// Compile contracts to artifacts (`-o DIR`, default `build/`), or print one stage with `--emit`.
    ///
    /// Each contract becomes `DIR/<Contract>.json`: ABI, IR, Taproot leaves and tree, witness
    /// sizes, source map and BIP388 wallet policy. Exit code 1 on any error.
    Build(build::BuildArgs),
    /// Bind an artifact's parameters: descriptor, address, keys, leaves and control blocks.
    Instantiate(instantiate::InstantiateArgs),
    /// Print the long explanation of a diagnostic code, with a wrong and a right example.
    ///
    /// For example `biscol explain E0020`. `biscol explain --list` lists every code.
    Explain(explain::ExplainArgs),
    /// Format `.bsc` files in place; with `--check`, list unformatted files and exit 1.
    ///
    /// Formatting changes only whitespace, keeps every comment, and leaves a file with syntax
    /// errors as it is.
    Fmt(fmt::FmtArgs),
    /// Run the language server on standard input and output (for editors).
    Lsp,
    /// Low-level tools for looking inside transactions and scripts.
    #[command(subcommand)]
    Debug(DebugCommand),
}

#[derive(Debug, Subcommand)]
enum DebugCommand {
    /// Verify one input of a transaction with the project's own script engine.
    Verify(debug_verify::VerifyArgs),
}

/// The stack of the thread commands run on. Every phase is written to keep recursion bounded,
/// but the Miniscript policy compiler recurses on policy depth, so the compiler gets room to
/// spare, as rustc does.
const STACK_SIZE: usize = 256 * 1024 * 1024;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match std::thread::Builder::new().name("biscol".into()).stack_size(STACK_SIZE).spawn(move || run(cli)) {
        Ok(handle) => handle.join().unwrap_or_else(|_| {
            eprintln!("error: internal compiler error (a panic); please report it with the input that caused it");
            ExitCode::from(101)
        }),
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Instantiate(args) => instantiate::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Lsp => lsp_cmd::run(),
        Command::Debug(DebugCommand::Verify(args)) => debug_verify::run(&args),
    }
}
