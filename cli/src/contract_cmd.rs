//! The contract commands: `deploy`, `spend`, `bump`, `state`, `events`, `checkpoint` and
//! `restore`. Each parses its flags, opens a session (see [`crate::session_args`]), calls one
//! session method and prints the result for people or as JSON.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use biscol_runtime::session::{
    Deployment, Destination, Session, SessionError, SpendOptions, WatchOutcome,
};
use biscol_runtime::state::{Store, WatchRecord};
use bitcoin::Txid;

use crate::output::{self, Format};
use crate::session_args::{self, fail, StateFolder};

/// Arguments of `biscol deploy`.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The artifact written by `biscol build` (`build/<Contract>.json`).
    pub artifact: PathBuf,
    /// A parameter value, `NAME=VALUE`, as `biscol instantiate` takes it; `@NAME` is a
    /// keystore key's public key (arrays: `@bob,@carol,@dave`).
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    pub args: Vec<String>,
    /// How much to lock in the contract: `0.01btc` or `1000000sat`.
    #[arg(
        long,
        value_parser = session_args::parse_amount,
        required_unless_present = "no_fund",
        conflicts_with = "no_fund"
    )]
    pub amount: Option<bitcoin::Amount>,
    /// Fee rate in sat/vB (default: the project's, 2 on regtest).
    #[arg(long, value_parser = session_args::parse_fee_rate, conflicts_with = "no_fund")]
    pub fee_rate: Option<bitcoin::FeeRate>,
    /// Broadcast without waiting for a confirmation.
    #[arg(long, conflicts_with = "no_fund")]
    pub no_wait: bool,
    /// Pay nothing: print the address, to be funded from any wallet, and watch it (the
    /// instance is recorded when the payment is found, by whichever command looks next).
    #[arg(long)]
    pub no_fund: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `biscol deploy`.
pub fn deploy(state_dir: &StateFolder, args: &DeployArgs) -> ExitCode {
    let (text, pairs, mut session) = match open_with_artifact(state_dir, &args.artifact, &args.args)
    {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let Some(amount) = args.amount.filter(|_| !args.no_fund) else {
        return match session.deploy_unfunded(&text, &pairs) {
            Ok(outcome) => print_watch(&outcome, args.format),
            Err(e) => fail(&e, args.format),
        };
    };
    if args.format == Format::Human {
        // What the address commits to, before anything is funded.
        match session.preview(&text, &pairs) {
            Ok(commitments) => {
                for line in commitments.lines() {
                    println!("{line}");
                }
            }
            Err(e) => return fail(&e, args.format),
        }
    }
    match session.deploy(&text, &pairs, amount, args.fee_rate, !args.no_wait) {
        Ok(d) => print_deployment(
            &d,
            "deployed",
            "broadcast; not waiting for a confirmation",
            args.format,
        ),
        Err(e) => fail(&e, args.format),
    }
}

/// An artifact's text, the parsed `--arg`s and a session, as `deploy` and `watch` start.
type Opened = (String, Vec<(String, String)>, Session);

fn open_with_artifact(
    state_dir: &StateFolder,
    artifact: &std::path::Path,
    args: &[String],
) -> Result<Opened, ExitCode> {
    let text = std::fs::read_to_string(artifact)
        .map_err(|e| output::usage_error(&format!("cannot read `{}`: {e}", artifact.display())))?;
    let (pairs, session) = session_args::open_with_args(state_dir, args)?;
    Ok((text, pairs, session))
}

/// Prints what `deploy` or `watch` recorded: `verb` heads the human form, `unconfirmed` says
/// what an unconfirmed funding means.
fn print_deployment(d: &Deployment, verb: &str, unconfirmed: &str, format: Format) -> ExitCode {
    match format {
        Format::Json => print_json(d),
        Format::Human => {
            println!("{verb} {}", d.instance);
            println!("  address  {}", d.address);
            println!("  outpoint {}:{}", d.txid, d.vout);
            println!(
                "  amount   {} sat (fee {} sat)",
                d.amount.to_sat(),
                d.fee.to_sat()
            );
            match d.height {
                Some(h) => println!("  confirmed in block {h}"),
                None => println!("  {unconfirmed}"),
            }
        }
    }
    ExitCode::SUCCESS
}

/// Arguments of `biscol watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The artifact of the contract the other party deployed (`build/<Contract>.json`).
    pub artifact: PathBuf,
    /// A parameter value, `NAME=VALUE`, as the deployer gave it: their public keys as hex,
    /// yours as `@NAME`.
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    pub args: Vec<String>,
    /// The funding output; without it, the first unspent output paying the address.
    #[arg(long, value_name = "TXID:VOUT", value_parser = parse_outpoint)]
    pub outpoint: Option<bitcoin::OutPoint>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

fn parse_outpoint(text: &str) -> Result<bitcoin::OutPoint, String> {
    text.parse()
        .map_err(|e| format!("`{text}` is not TXID:VOUT ({e})"))
}

/// Runs `biscol watch`.
pub fn watch(state_dir: &StateFolder, args: &WatchArgs) -> ExitCode {
    let (text, pairs, mut session) = match open_with_artifact(state_dir, &args.artifact, &args.args)
    {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    match session.watch(&text, &pairs, args.outpoint) {
        Ok(outcome) => print_watch(&outcome, args.format),
        Err(e) => fail(&e, args.format),
    }
}

/// Prints what `watch` or `deploy --no-fund` recorded: what the address commits to, then the
/// instance found or the address waiting for its payment.
fn print_watch(outcome: &WatchOutcome, format: Format) -> ExitCode {
    if format == Format::Json {
        print_json(outcome);
        return ExitCode::SUCCESS;
    }
    match outcome {
        WatchOutcome::Funded(d) => {
            for line in d.commits_to.lines() {
                println!("{line}");
            }
            print_deployment(d, "watching", "in the mempool, not confirmed yet", format)
        }
        WatchOutcome::Watching(w) => {
            for line in w.commits_to.lines() {
                println!("{line}");
            }
            println!("watching {} (nothing pays it yet)", w.instance);
            println!("  address  {}", w.address);
            println!("  fund it from any wallet; every command looks for the payment, and");
            println!(
                "  `biscol state {}` shows the instance once it is found",
                w.instance
            );
            ExitCode::SUCCESS
        }
    }
}

/// Arguments of `biscol spend`.
#[derive(Debug, clap::Args)]
pub struct SpendArgs {
    /// The instance (`htlc-1`), as `deploy` printed it.
    pub instance: String,
    /// The spend path, or `key` for the key path.
    pub path: String,
    /// A path argument, `NAME=VALUE` (for example `preimage=<64 hex digits>`).
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    pub args: Vec<String>,
    /// Where the coins go: an address or `@NAME` (a keystore key); default the wallet.
    #[arg(long, value_name = "ADDRESS|@NAME")]
    pub to: Option<String>,
    /// Fee rate in sat/vB.
    #[arg(long, value_parser = session_args::parse_fee_rate)]
    pub fee_rate: Option<bitcoin::FeeRate>,
    /// Plan, sign and verify, print the plan, the witness size and the fee; broadcast nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the spend as a PSBT to this file, signed with the local keys the path uses, for
    /// the other parties to sign (`biscol psbt sign`); records and broadcasts nothing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dry_run", "no_wait"])]
    pub psbt: Option<PathBuf>,
    /// Broadcast without waiting for a confirmation.
    #[arg(long)]
    pub no_wait: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `biscol spend`.
pub fn spend(state_dir: &StateFolder, args: &SpendArgs) -> ExitCode {
    let (pairs, mut session) = match session_args::open_with_args(state_dir, &args.args) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let to = args
        .to
        .as_deref()
        .map(Destination::parse)
        .unwrap_or(Destination::Wallet);
    if let Some(file) = &args.psbt {
        return crate::psbt_cmd::spend_to_file(&session, args, &pairs, &to, file);
    }
    let options = SpendOptions {
        to,
        fee_rate: args.fee_rate,
        dry_run: args.dry_run,
        wait: !args.no_wait,
    };
    let result = session.spend(&args.instance, &args.path, &pairs, &options);
    match result {
        Ok(o) => {
            let p = &o.prepared;
            match args.format {
                Format::Json => print_json(&serde_json::json!({
                    "status": if o.broadcast { "broadcast" } else { "planned" },
                    "instance": o.instance,
                    "path": p.path,
                    "txid": o.txid.to_string(),
                    "height": o.height,
                    "leaf": p.leaf,
                    "n_sequence": p.n_sequence.0,
                    "lock_time": p.lock_time.to_consensus_u32(),
                    "witness_bytes": p.witness_bytes,
                    "vsize": p.vsize,
                    "fee": p.fee.to_sat(),
                    "signers": p.signers,
                    "steps": p.steps,
                    "tx": if o.broadcast { None } else { Some(bitcoin::consensus::encode::serialize_hex(&p.tx)) },
                })),
                Format::Human => {
                    let verb = if o.broadcast { "spent" } else { "would spend" };
                    println!("{verb} {} through `{}`", o.instance, p.path);
                    for step in &p.steps {
                        println!("  - {step}");
                    }
                    println!(
                        "  witness {} bytes, {} vB, fee {} sat",
                        p.witness_bytes,
                        p.vsize,
                        p.fee.to_sat()
                    );
                    println!("  txid {}", o.txid);
                    match (o.broadcast, o.height) {
                        (false, _) => println!("  dry run: verified, nothing broadcast"),
                        (true, Some(h)) => println!("  confirmed in block {h}"),
                        (true, None) => println!("  broadcast; not waiting for a confirmation"),
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, args.format),
    }
}

/// Arguments of `biscol bump`.
#[derive(Debug, clap::Args)]
pub struct BumpArgs {
    /// The transaction to replace (a deployment or a spend still in the mempool).
    pub txid: Txid,
    /// The new fee rate in sat/vB; it must beat the old one.
    #[arg(long, value_parser = session_args::parse_fee_rate)]
    pub fee_rate: bitcoin::FeeRate,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `biscol bump`.
pub fn bump(state_dir: &StateFolder, args: &BumpArgs) -> ExitCode {
    let mut session = match session_args::open(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match session.bump(&args.txid, args.fee_rate) {
        Ok(b) => {
            match args.format {
                Format::Json => print_json(&b),
                Format::Human => println!(
                    "replaced {} by {} (fee {} sat)",
                    b.replaced,
                    b.txid,
                    b.fee.to_sat()
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, args.format),
    }
}

/// Arguments of `biscol state`.
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// The instance; without it, every instance is listed.
    pub instance: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `biscol state`.
pub fn state(state_dir: &StateFolder, args: &StateArgs) -> ExitCode {
    let session = match session_args::open_for_reading(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let watches = match session.store().watches() {
        Ok(w) => w,
        Err(e) => return fail(&e.into(), args.format),
    };
    let Some(id) = &args.instance else {
        return match session.store().instances() {
            Ok(list) => {
                match args.format {
                    Format::Json => {
                        let mut all: Vec<serde_json::Value> =
                            list.iter().map(|i| serde_json::json!(i)).collect();
                        all.extend(watches.iter().map(watch_json));
                        print_json(&all)
                    }
                    Format::Human if list.is_empty() && watches.is_empty() => {
                        println!("nothing deployed yet")
                    }
                    Format::Human => {
                        for i in list {
                            println!(
                                "{:<20} {:<10} {:>12} sat  {}",
                                i.id,
                                i.status.as_str(),
                                i.amount.to_sat(),
                                i.address
                            );
                        }
                        for w in &watches {
                            println!("{:<20} {:<10} {:>16}  {}", w.id, "watching", "-", w.address);
                        }
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.into(), args.format),
        };
    };
    if let Some(w) = watches.iter().find(|w| w.id == *id) {
        match args.format {
            Format::Json => print_json(&watch_json(w)),
            Format::Human => {
                println!("{} ({})", w.id, w.contract);
                println!("  status   watching: nothing pays its address yet");
                println!("  address  {}", w.address);
                for (name, value) in &w.args {
                    println!("  {name} = {value}");
                }
            }
        }
        return ExitCode::SUCCESS;
    }
    let record = match session.instance(id) {
        Ok(r) => r,
        Err(e) => return fail(&e, args.format),
    };
    match args.format {
        Format::Json => print_json(&record),
        Format::Human => {
            println!("{} ({})", record.id, record.contract);
            println!("  status   {}", record.status.as_str());
            println!("  address  {}", record.address);
            println!(
                "  outpoint {}:{} ({} sat)",
                record.funding_txid,
                record.funding_vout,
                record.amount.to_sat()
            );
            if let Some(h) = record.height {
                println!("  funded in block {h}");
            }
            for (name, value) in &record.args {
                println!("  {name} = {value}");
            }
            if record.executions.is_empty() {
                println!("  no spends yet");
            }
            for e in &record.executions {
                let at = e
                    .height
                    .map(|h| format!("confirmed in block {h}"))
                    .unwrap_or_else(|| "unconfirmed".into());
                println!(
                    "  spend #{} through `{}`: {} ({} vB, fee {} sat), {at}",
                    e.seq,
                    e.path,
                    e.txid,
                    e.vsize,
                    e.fee.to_sat()
                );
                for (name, value) in &e.args {
                    println!("    revealing {name} {value}");
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// A watch nothing pays yet, as `state` prints it in JSON: its record with `status`
/// `watching`.
fn watch_json(watch: &WatchRecord) -> serde_json::Value {
    let mut value = serde_json::json!(watch);
    value["status"] = serde_json::json!("watching");
    value
}

/// Arguments of `biscol events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Only events after this sequence number.
    #[arg(long, default_value_t = 0)]
    pub after: u64,
    /// Keep watching and print new events as they come (Ctrl-C stops).
    #[arg(long)]
    pub follow: bool,
    /// Output format (JSON: one object per line).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `biscol events`.
pub fn events(state_dir: &StateFolder, args: &EventsArgs) -> ExitCode {
    // `events` reads the store alone (not the chain), without its writer lock, opening it for
    // each page so that a follower sees what writers commit between polls.
    let located = match session_args::locate_existing(state_dir) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let page = located.config.performance.batch_size.max(1) as usize;
    let mut after = args.after;
    loop {
        let read = || {
            Store::open_read_only(located.layout.store())
                .and_then(|s| s.events_since(after, page))
                .map_err(SessionError::from)
        };
        // The store is "in use" only while a writer creates or migrates it: a follower polls
        // again later, a single read waits for it like any command.
        let events = match args.follow {
            true => read().or_else(|e| {
                if e.is_in_use() {
                    Ok(Vec::new())
                } else {
                    Err(e)
                }
            }),
            false => {
                session_args::waiting_for_lock(&located.layout.root, located.lock_timeout, read)
            }
        };
        let events = match events {
            Ok(e) => e,
            Err(e) => return fail(&e, args.format),
        };
        for e in &events {
            match args.format {
                Format::Json => println!("{}", serde_json::to_string(e).unwrap_or_default()),
                Format::Human => println!(
                    "#{:<5} {} {:<16} {:<12} {}",
                    e.seq,
                    biscol_artifact::units::format_date_time(e.time as i64),
                    e.kind,
                    e.instance.as_deref().unwrap_or("-"),
                    e.payload
                ),
            }
            after = e.seq;
        }
        if events.len() == page {
            continue;
        }
        if !args.follow {
            return ExitCode::SUCCESS;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Arguments of `biscol checkpoint`.
#[derive(Debug, clap::Args)]
pub struct CheckpointArgs {
    /// A label to remember it by.
    #[arg(long)]
    pub label: Option<String>,
    /// List the checkpoints instead of taking one.
    #[arg(long)]
    pub list: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `biscol checkpoint`.
pub fn checkpoint(state_dir: &StateFolder, args: &CheckpointArgs) -> ExitCode {
    let mut session = match session_args::open(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.list {
        return match session.store().checkpoints() {
            Ok(list) => {
                match args.format {
                    Format::Json => print_json(&list),
                    Format::Human => {
                        for c in list {
                            println!(
                                "{:<4} {} events up to #{} {}",
                                c.id,
                                c.time,
                                c.last_event_seq,
                                c.label.unwrap_or_default()
                            );
                        }
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.into(), args.format),
        };
    }
    match session.checkpoint(args.label.as_deref()) {
        Ok(c) => {
            match args.format {
                Format::Json => print_json(&c),
                Format::Human => println!(
                    "checkpoint {} taken (store and chain); `biscol restore {}` goes back to it",
                    c.id, c.id
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, args.format),
    }
}

/// Arguments of `biscol restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The checkpoint's id (`biscol checkpoint --list`).
    pub id: u64,
    /// Restore without asking even when the restore drops instances or transactions (they
    /// are listed first; the state before the restore is kept as a new checkpoint either way).
    #[arg(long)]
    pub yes: bool,
}

/// Runs `biscol restore`: lists what the restore undoes, asks (or needs `--yes`) when it undoes
/// anything, checkpoints the current state, then restores.
pub fn restore(state_dir: &StateFolder, args: &RestoreArgs) -> ExitCode {
    let mut session: Session = match session_args::open(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let plan = match session.store().restore_plan(args.id) {
        Ok(plan) => plan,
        Err(e) => return fail(&e.into(), Format::Human),
    };
    if plan.is_empty() {
        println!(
            "restoring checkpoint {} drops no instance and no transaction",
            args.id
        );
    } else {
        println!("restoring checkpoint {} undoes:", args.id);
        for id in &plan.dropped_instances {
            println!("  instance {id}: forgotten (the checkpoint does not know it)");
        }
        for r in &plan.reverted_instances {
            println!("  instance {}: {} → back to {}", r.id, r.now, r.then);
        }
        for t in &plan.dropped_transactions {
            println!("  transaction {} ({}): forgotten", t.txid, t.instance);
        }
        if !args.yes && !confirm("restore anyway?") {
            eprintln!(
                "error: nothing was restored; pass --yes to restore checkpoint {} and drop what is listed",
                args.id
            );
            return ExitCode::from(2);
        }
    }
    let label = format!("before restoring checkpoint {}", args.id);
    let before = match session.checkpoint(Some(&label)) {
        Ok(c) => c,
        Err(e) => return fail(&e, Format::Human),
    };
    println!(
        "checkpoint {} keeps the state as it was (`biscol restore {}` puts it back)",
        before.id, before.id
    );
    match session.restore(args.id) {
        Ok(s) => {
            let height = s.chain().tip().map(|t| t.height).unwrap_or(0);
            println!("restored checkpoint {} (chain height {height})", args.id);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, Format::Human),
    }
}

/// Asks `question` on a terminal; `false` without one (stdin not a terminal) or unless the
/// answer is yes.
pub(crate) fn confirm(question: &str) -> bool {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return false;
    }
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

pub(crate) fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot write JSON: {e}"),
    }
}
