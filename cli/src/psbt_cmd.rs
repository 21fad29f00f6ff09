//! `biscol psbt show|sign|combine|finalize` and the PSBT side of `biscol spend --psbt`.
//!
//! In: PSBT files (base64 text, as Bitcoin Core writes them, or raw BIP174 bytes) and the state
//! folder whose store knows the instance a PSBT spends. Out: what the PSBT does in the
//! contract's words, signed or combined PSBTs written to a file, or the finished transaction
//! (printed, or recorded and broadcast). Everything a PSBT says is checked against the
//! instance before it is shown, signed or finished (`biscol_runtime::spend::psbt`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use biscol_runtime::session::{Destination, Session};
use biscol_runtime::spend::psbt::{self, PsbtView};
use bitcoin::psbt::Psbt;
use bitcoin::{Address, FeeRate, Network};

use crate::contract_cmd::{confirm, print_json, SpendArgs};
use crate::output::{self, Format};
use crate::session_args::{self, fail, StateFolder};

/// The fee rate above which `sign` and `finalize` refuse a PSBT unless told otherwise.
const DEFAULT_MAX_FEE_RATE: u32 = 1_000;

/// `biscol psbt ...`.
#[derive(Debug, clap::Subcommand)]
pub enum PsbtCommand {
    /// What a PSBT does in the contract's words: instance, path, amounts, fee, timelocks, the
    /// signatures present and missing (by parameter name), and whether it can be finished now.
    Show(ShowArgs),
    /// Sign with this keystore's keys that the PSBT's path uses, for an instance this folder
    /// knows (deployed or watched); shows what it signs and asks first.
    Sign(SignArgs),
    /// Merge the signatures of several PSBTs of the same spend into one.
    Combine(CombineArgs),
    /// Finish the spend: satisfy the path with the signatures and preimages present, verify it
    /// with the script engine, print it or (`--broadcast`) record and broadcast it.
    Finalize(FinalizeArgs),
}

/// Arguments of `biscol psbt show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The PSBT file.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Arguments of `biscol psbt sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The PSBT file.
    pub file: PathBuf,
    /// Where to write the signed PSBT (default: over the file).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Sign without asking (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Refuse a PSBT paying more than this, in sat/vB at its worst-case size.
    #[arg(long, value_parser = session_args::parse_fee_rate)]
    pub max_fee_rate: Option<FeeRate>,
}

/// Arguments of `biscol psbt combine`.
#[derive(Debug, clap::Args)]
pub struct CombineArgs {
    /// The PSBT files, all of the same transaction.
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Where to write the combined PSBT.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
}

/// Arguments of `biscol psbt finalize`.
#[derive(Debug, clap::Args)]
pub struct FinalizeArgs {
    /// The PSBT file.
    pub file: PathBuf,
    /// Record the spend and broadcast it (waiting for a confirmation unless `--no-wait`).
    #[arg(long)]
    pub broadcast: bool,
    /// With `--broadcast`: do not wait for a confirmation.
    #[arg(long, requires = "broadcast")]
    pub no_wait: bool,
    /// Refuse a PSBT paying more than this, in sat/vB at its worst-case size.
    #[arg(long, value_parser = session_args::parse_fee_rate)]
    pub max_fee_rate: Option<FeeRate>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `biscol psbt ...`.
pub fn run(state_dir: &StateFolder, command: &PsbtCommand) -> ExitCode {
    match command {
        PsbtCommand::Show(args) => show(state_dir, args),
        PsbtCommand::Sign(args) => sign(state_dir, args),
        PsbtCommand::Combine(args) => combine(args),
        PsbtCommand::Finalize(args) => finalize(state_dir, args),
    }
}

fn read(path: &Path) -> Result<Psbt, ExitCode> {
    let bytes = std::fs::read(path)
        .map_err(|e| output::usage_error(&format!("cannot read `{}`: {e}", path.display())))?;
    psbt::from_bytes(&bytes).map_err(|e| output::usage_error(&format!("`{}`: {e}", path.display())))
}

fn write(path: &Path, psbt: &Psbt) -> Result<(), ExitCode> {
    std::fs::write(path, format!("{}\n", psbt::to_base64(psbt)))
        .map_err(|e| output::usage_error(&format!("cannot write `{}`: {e}", path.display())))
}

fn max_fee_rate(given: Option<FeeRate>) -> FeeRate {
    given.unwrap_or(FeeRate::from_sat_per_vb_u32(DEFAULT_MAX_FEE_RATE))
}

/// `spend INSTANCE PATH --psbt FILE`: writes the PSBT, signed with the local keys.
pub fn spend_to_file(
    session: &Session,
    args: &SpendArgs,
    pairs: &[(String, String)],
    to: &Destination,
    file: &Path,
) -> ExitCode {
    let (instance, path, format) = (&args.instance, &args.path, args.format);
    let (psbt, signed) = match session.spend_psbt(instance, path, pairs, to, args.fee_rate) {
        Ok(made) => made,
        Err(e) => return fail(&e, format),
    };
    if let Err(code) = write(file, &psbt) {
        return code;
    }
    match format {
        Format::Json => print_json(&serde_json::json!({
            "status": "written",
            "instance": instance,
            "path": path,
            "psbt": file.display().to_string(),
            "signed_by": signed,
        })),
        Format::Human => {
            println!(
                "wrote {} (a spend of {instance} through `{path}`)",
                file.display()
            );
            match signed.as_slice() {
                [] => println!("  signed by no local key"),
                names => println!("  signed by {}", names.join(", ")),
            }
            println!(
                "  next: `biscol psbt show {}`, `biscol psbt sign`, `biscol psbt finalize --broadcast`",
                file.display()
            );
        }
    }
    ExitCode::SUCCESS
}

fn show(state_dir: &StateFolder, args: &ShowArgs) -> ExitCode {
    let psbt = match read(&args.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let session = match session_args::open_for_reading(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match session.inspect_psbt(&psbt) {
        Ok((instance, view)) => {
            let network = session.options().network;
            match args.format {
                Format::Json => print_json(&view_json(&instance, &view, network)),
                Format::Human => print_view(&instance, &view, network),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, args.format),
    }
}

fn address(script: &bitcoin::Script, network: Network) -> String {
    Address::from_script(script, network)
        .map(|a| a.to_string())
        .unwrap_or_else(|_| format!("script {script}"))
}

fn keys_json(keys: &[(String, bitcoin::secp256k1::XOnlyPublicKey)]) -> Vec<serde_json::Value> {
    keys.iter()
        .map(|(name, key)| serde_json::json!({ "name": name, "key": key.to_string() }))
        .collect()
}

fn view_json(instance: &str, view: &PsbtView, network: Network) -> serde_json::Value {
    serde_json::json!({
        "instance": instance,
        "path": view.path,
        "leaf": view.leaf,
        "amount": view.amount.to_sat(),
        "outputs": view.outputs.iter().map(|(script, value)| serde_json::json!({
            "address": address(script, network),
            "value": value.to_sat(),
        })).collect::<Vec<_>>(),
        "fee": view.fee.to_sat(),
        "worst_vsize": view.worst_vsize,
        "n_sequence": view.n_sequence.to_consensus_u32(),
        "lock_time": view.lock_time.to_consensus_u32(),
        "signed": keys_json(&view.signed),
        "unsigned": keys_json(&view.unsigned),
        "preimages": view.preimages,
        "missing": view.missing.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "complete": view.missing.is_empty(),
    })
}

fn names(keys: &[(String, bitcoin::secp256k1::XOnlyPublicKey)]) -> String {
    if keys.is_empty() {
        return "none".into();
    }
    keys.iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_view(instance: &str, view: &PsbtView, network: Network) {
    println!(
        "a spend of {instance} through `{}` (leaf {})",
        view.path, view.leaf
    );
    println!("  coin      {} sat", view.amount.to_sat());
    for (script, value) in &view.outputs {
        println!(
            "  pays      {} sat to {}",
            value.to_sat(),
            address(script, network)
        );
    }
    println!(
        "  fee       {} sat, at least {} sat/vB (at most {} vB)",
        view.fee.to_sat(),
        view.fee.to_sat() / view.worst_vsize.max(1),
        view.worst_vsize
    );
    println!(
        "  locks     nSequence {:#x}, nLockTime {}",
        view.n_sequence.to_consensus_u32(),
        view.lock_time.to_consensus_u32()
    );
    println!("  signed    {}", names(&view.signed));
    println!("  unsigned  {}", names(&view.unsigned));
    for (hash, preimage) in &view.preimages {
        println!("  preimage  of `{hash}`: {preimage}");
    }
    if view.missing.is_empty() {
        println!("  complete: it passes the script engine now (`biscol psbt finalize`)");
    } else {
        println!("  not complete:");
        for r in &view.missing {
            println!("    - {r}");
        }
    }
}

fn sign(state_dir: &StateFolder, args: &SignArgs) -> ExitCode {
    let mut psbt = match read(&args.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let session = match session_args::open(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (instance, view) = match session.inspect_psbt(&psbt) {
        Ok(seen) => seen,
        Err(e) => return fail(&e, Format::Human),
    };
    print_view(&instance, &view, session.options().network);
    if !args.yes && !confirm("sign it?") {
        eprintln!("error: nothing was signed; pass --yes to sign without a terminal");
        return ExitCode::from(2);
    }
    let signed = match session.sign_psbt(&mut psbt, max_fee_rate(args.max_fee_rate)) {
        Ok(names) => names,
        Err(e) => return fail(&e, Format::Human),
    };
    let out = args.output.as_deref().unwrap_or(&args.file);
    if let Err(code) = write(out, &psbt) {
        return code;
    }
    match signed.as_slice() {
        [] => println!(
            "no key of this keystore signs this path; wrote {} unchanged",
            out.display()
        ),
        names => println!("signed with {}; wrote {}", names.join(", "), out.display()),
    }
    ExitCode::SUCCESS
}

fn combine(args: &CombineArgs) -> ExitCode {
    let mut psbts = Vec::with_capacity(args.files.len());
    for file in &args.files {
        match read(file) {
            Ok(p) => psbts.push(p),
            Err(code) => return code,
        }
    }
    let mut combined = psbts.remove(0);
    for (other, file) in psbts.into_iter().zip(&args.files[1..]) {
        if let Err(e) = combined.combine(other) {
            return output::usage_error(&format!(
                "`{}` is not a PSBT of the same transaction: {e}",
                file.display()
            ));
        }
    }
    if let Err(code) = write(&args.output, &combined) {
        return code;
    }
    println!(
        "combined {} PSBTs into {}",
        args.files.len(),
        args.output.display()
    );
    ExitCode::SUCCESS
}

fn finalize(state_dir: &StateFolder, args: &FinalizeArgs) -> ExitCode {
    let psbt = match read(&args.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut session = match session_args::open(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let done = match session.finalize_psbt(
        &psbt,
        max_fee_rate(args.max_fee_rate),
        args.broadcast,
        !args.no_wait,
    ) {
        Ok(done) => done,
        Err(e) => return fail(&e, args.format),
    };
    let f = &done.finalized;
    let hex = bitcoin::consensus::encode::serialize_hex(&f.tx);
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "status": if done.broadcast { "broadcast" } else { "finalized" },
            "instance": done.instance,
            "path": f.path,
            "txid": done.txid.to_string(),
            "height": done.height,
            "fee": f.fee.to_sat(),
            "vsize": f.vsize,
            "args": f.args,
            "tx": hex,
        })),
        Format::Human => {
            println!(
                "finished the spend of {} through `{}`",
                done.instance, f.path
            );
            println!(
                "  txid {} ({} vB, fee {} sat)",
                done.txid,
                f.vsize,
                f.fee.to_sat()
            );
            match (done.broadcast, done.height) {
                (false, _) => println!("  verified; not broadcast (--broadcast does): {hex}"),
                (true, Some(h)) => println!("  confirmed in block {h}"),
                (true, None) => println!("  broadcast; not waiting for a confirmation"),
            }
        }
    }
    ExitCode::SUCCESS
}
