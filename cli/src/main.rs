//! `biscol`: the command-line front of the compiler and the runtime.
//!
//! The binary is thin: it parses flags with clap, calls a library, and renders what comes back.
//! Exit codes: 0 success, 1 the input has errors (or a spend/verification fails), 2 usage or
//! IO errors, 101 a bug (a panic: "internal compiler error").
//!
//! One thing reaches the panic machinery without being a bug: standard output or error closed
//! under us (`biscol events | head -1`). A broken pipe ends the command quietly with exit 0:
//! the reader has seen what it wanted. Messages about the command line never repeat a private
//! key it was given ([`biscol_artifact::redact`]).

mod build;
mod chain_cmd;
mod check;
mod contract_cmd;
mod debug_verify;
mod explain;
mod fees_cmd;
mod fmt;
mod instantiate;
mod lsp_cmd;
mod output;
mod psbt_cmd;
mod session_args;
mod verify;

use std::any::Any;
use std::process::ExitCode;

use biscol_artifact::redact;
use clap::{Parser, Subcommand};

/// BiSCOL: contracts for Bitcoin, checked, compiled to Taproot and run.
#[derive(Debug, Parser)]
#[command(name = "biscol", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// The state folder (chain, keys, contract store). Default: `.biscol/` beside the nearest
    /// `Biscol.toml`, or in the current folder outside a project.
    #[arg(long, global = true, value_name = "DIR")]
    state_dir: Option<std::path::PathBuf>,
    /// Create the state folder when it does not exist yet (`biscol init` makes a project with
    /// one). Without it, a command refuses to start from nothing, and never replaces a missing
    /// store, chain or wallet key with a new one.
    #[arg(long, global = true)]
    new: bool,
    /// How long to wait when another biscol process is using the state folder (`30s`, `2m`;
    /// default 30 s). A message on stderr says that it waits.
    #[arg(long, global = true, value_name = "DURATION", value_parser = session_args::parse_lock_timeout)]
    lock_timeout: Option<std::time::Duration>,
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
    /// Check that an artifact is exactly what its embedded source compiles to.
    ///
    /// Recompiles the source the artifact carries with this biscol and compares every field;
    /// with `--source FILE`, also that the source is the file you read. `deploy`, `spend` and
    /// `instantiate` make the same check. Exit code 0 when it holds, 2 with the first field
    /// that differs when it does not.
    Verify(verify::VerifyArgs),
    /// What each spend path of an artifact costs: worst-case and expected witness size, the
    /// vsize of a one-input, one-output spend, and its fee at each `--fee-rate`.
    ///
    /// Also the cheapest and the dearest path and the key path for comparison. The same table
    /// comes from `biscol build --emit fees`.
    Fees(fees_cmd::FeesArgs),
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
    /// Create a project: `Biscol.toml`, `contracts/` and an example contract.
    Init(chain_cmd::InitArgs),
    /// Manage the keystore's named BIP32 keys (`@NAME` in arguments means that key).
    #[command(subcommand)]
    Key(chain_cmd::KeyCommand),
    /// Instantiate an artifact, fund its address and wait for one confirmation.
    ///
    /// Prints the instance id (`htlc-1`) that `spend` and `state` take. On the embedded chain
    /// the wallet mines its own coins when it has too few, and the confirmation is mined.
    Deploy(contract_cmd::DeployArgs),
    /// Follow an instance that someone else funded: derived from the artifact and the
    /// arguments they used (their keys as hex, yours as `@NAME`), found on the chain, then
    /// recorded and kept up to date like your own (`state` shows who spent it, how, and what
    /// the spend revealed). `spend` works on it for the paths your keys can sign.
    Watch(contract_cmd::WatchArgs),
    /// Spend a deployed instance through one of its paths (or `key`).
    ///
    /// Plans the witness, sets nSequence/nLockTime from the path's timelocks, signs with the
    /// keystore's keys and verifies with the script engine before broadcasting. A spend that
    /// cannot work is explained at the `require` that fails, exit code 1, nothing broadcast.
    Spend(contract_cmd::SpendArgs),
    /// Replace a deployment or spend still in the mempool with one paying a higher fee.
    Bump(contract_cmd::BumpArgs),
    /// Show, sign, combine and finish PSBTs of contract spends (`spend --psbt` writes them).
    #[command(subcommand)]
    Psbt(psbt_cmd::PsbtCommand),
    /// Show an instance: status, outpoint, arguments and its spends (all instances without one).
    State(contract_cmd::StateArgs),
    /// Print the event log (deployments, spends, refusals, mined blocks); `--follow` watches.
    Events(contract_cmd::EventsArgs),
    /// Take a checkpoint of the contract store and the embedded chain (`--list` lists them).
    Checkpoint(contract_cmd::CheckpointArgs),
    /// Go back to a checkpoint: the store and the embedded chain as they were.
    Restore(contract_cmd::RestoreArgs),
    /// Mine blocks on the embedded chain (to the wallet); `--advance 30d` moves time forward.
    Mine(chain_cmd::MineArgs),
    /// Look at the chain.
    #[command(subcommand)]
    Chain(chain_cmd::ChainCommand),
    /// Serve the embedded chain over Bitcoin Core's JSON-RPC and an Esplora API on loopback.
    Node(chain_cmd::NodeArgs),
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return command_line_error(&e),
    };
    install_panic_hook();
    match std::thread::Builder::new().name("biscol".into()).stack_size(STACK_SIZE).spawn(move || run(cli)) {
        Ok(handle) => handle.join().unwrap_or_else(|payload| {
            if is_broken_pipe(payload.as_ref()) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: internal compiler error (a panic); please report it with the input that caused it");
            ExitCode::from(101)
        }),
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            ExitCode::from(2)
        }
    }
}

/// Prints clap's message (help, version, or a usage error) and returns its exit code. A usage
/// error that would repeat a private key given on the command line is printed with the key
/// described instead.
fn command_line_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let code = ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // A closed standard output (`biscol --help | head -1`) is not an error.
        let _ = e.print();
        return code;
    }
    let text = e.render().to_string();
    if redact::contains_secret(&text) {
        eprint!("{}", redact::scrub(&text));
    } else {
        let _ = e.print();
    }
    code
}

/// Whether a panic is the standard library's report that standard output or error was closed
/// (`println!` on a broken pipe). Such a panic is not a bug: the reader has gone.
fn is_broken_pipe(payload: &(dyn Any + Send)) -> bool {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    message.is_some_and(|m| {
        m.starts_with("failed printing to std")
            && (m.contains("os error 32") || m.contains("Broken pipe"))
    })
}

/// Keeps the default panic message for bugs and silences the broken-pipe ones.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe(info.payload()) {
            default(info);
        }
    }));
}

fn run(cli: Cli) -> ExitCode {
    let state = &session_args::StateFolder {
        dir: cli.state_dir.clone(),
        new: cli.new,
        lock_timeout: cli
            .lock_timeout
            .unwrap_or(session_args::DEFAULT_LOCK_TIMEOUT),
    };
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Instantiate(args) => instantiate::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Fees(args) => fees_cmd::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Lsp => lsp_cmd::run(),
        Command::Init(args) => chain_cmd::init(&args, state),
        Command::Key(command) => chain_cmd::key(state, &command),
        Command::Deploy(args) => contract_cmd::deploy(state, &args),
        Command::Watch(args) => contract_cmd::watch(state, &args),
        Command::Spend(args) => contract_cmd::spend(state, &args),
        Command::Bump(args) => contract_cmd::bump(state, &args),
        Command::Psbt(command) => psbt_cmd::run(state, &command),
        Command::State(args) => contract_cmd::state(state, &args),
        Command::Events(args) => contract_cmd::events(state, &args),
        Command::Checkpoint(args) => contract_cmd::checkpoint(state, &args),
        Command::Restore(args) => contract_cmd::restore(state, &args),
        Command::Mine(args) => chain_cmd::mine(state, &args),
        Command::Chain(command) => chain_cmd::chain(state, &command),
        Command::Node(args) => chain_cmd::node(state, &args),
        Command::Debug(DebugCommand::Verify(args)) => debug_verify::run(&args),
    }
}
