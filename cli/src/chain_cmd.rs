//! The project and chain commands: `init`, `key`, `mine`, `chain info` and `node`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::keystore::Keystore;
use biscol_runtime::node::{Auth, Node, NodeConfig};
use biscol_runtime::project::Project;

use crate::output::{self, Format};
use crate::session_args::{self, fail, StateFolder};

/// Arguments of `biscol init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The project folder (created when missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Runs `biscol init`.
pub fn init(args: &InitArgs, state_dir: &StateFolder) -> ExitCode {
    match Project::init(&args.dir) {
        Ok(p) => {
            // The project's state folder (or `--state-dir`), made whole now: later commands
            // never create one.
            let state = StateFolder {
                dir: Some(state_dir.dir.clone().unwrap_or_else(|| p.state_dir())),
                new: true,
                lock_timeout: state_dir.lock_timeout,
            };
            if let Err(code) = session_args::locate_existing(&state) {
                return code;
            }
            println!("created a BiSCOL project in {}", p.root.display());
            println!(
                "  Biscol.toml         network {}, the embedded regtest chain",
                p.config.biscol.network
            );
            println!("  contracts/htlc.bsc  an example contract");
            println!("  .biscol/            the state folder (chain, wallet key, contract store)");
            println!("next: biscol build contracts/htlc.bsc && biscol key new alice");
            ExitCode::SUCCESS
        }
        Err(e) => output::usage_error(&e.to_string()),
    }
}

/// `biscol key` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Create a new BIP32 key named NAME (stored with owner-only permissions).
    New {
        /// Letters, digits, `-` and `_`.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// List the keys: name, public key, fingerprint.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show a key's xpub and public key (never its secret).
    Show {
        /// The key's name.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print a key's extended private key (tprv/xprv). Anyone who sees it can spend.
    Export {
        /// The key's name.
        name: String,
    },
}

/// Runs `biscol key ...`. The keystore alone is opened: no chain, no store.
pub fn key(state_dir: &StateFolder, command: &KeyCommand) -> ExitCode {
    let located = match session_args::locate_existing(state_dir) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let keystore = match Keystore::open(located.layout.keys()) {
        Ok(k) => k,
        Err(e) => return output::usage_error(&e.to_string()),
    };
    let show = |info: &biscol_runtime::KeyInfo, format: Format| match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "name": info.name,
                "public_key": info.public_key.to_string(),
                "x_only": info.x_only().to_string(),
                "xpub": info.xpub.to_string(),
                "fingerprint": info.xpub.fingerprint().to_string(),
            }))
            .unwrap_or_default()
        ),
        Format::Human => {
            println!("{}", info.name);
            println!("  public key  {}", info.public_key);
            println!("  x-only      {}", info.x_only());
            println!("  xpub        {}", info.xpub);
            println!("  fingerprint {}", info.xpub.fingerprint());
        }
    };
    let result = match command {
        KeyCommand::New { name, format } => keystore.create(name).map(|i| show(&i, *format)),
        KeyCommand::Show { name, format } => keystore.show(name).map(|i| show(&i, *format)),
        KeyCommand::List { format } => keystore.list().map(|list| match format {
            Format::Json => {
                let items: Vec<_> = list
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "name": i.name,
                            "public_key": i.public_key.to_string(),
                            "fingerprint": i.xpub.fingerprint().to_string(),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&items).unwrap_or_default()
                );
            }
            Format::Human => {
                for i in &list {
                    println!("{:<16} {} {}", i.name, i.public_key, i.xpub.fingerprint());
                }
            }
        }),
        KeyCommand::Export { name } => keystore.export(name).map(|secret| {
            eprintln!("warning: this is a secret key; anyone who sees it can spend what it guards");
            println!("{}", secret.as_str());
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => output::usage_error(&e.to_string()),
    }
}

/// Arguments of `biscol mine`.
#[derive(Debug, clap::Args)]
pub struct MineArgs {
    /// How many blocks.
    #[arg(default_value_t = 1)]
    pub count: u32,
    /// Move block time forward first, e.g. `30d`, `12h` (to reach time locks). Time locks count
    /// the median time past of the last 11 blocks, which passes the jump once 6 blocks are
    /// past it: `biscol mine 6 --advance 30d`.
    #[arg(long, value_parser = session_args::parse_duration)]
    pub advance: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `biscol mine`.
pub fn mine(state_dir: &StateFolder, args: &MineArgs) -> ExitCode {
    let mut session = match session_args::open(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match session.mine(args.count, args.advance) {
        Ok(tip) => {
            match args.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "height": tip.height,
                        "tip": tip.hash.to_string(),
                        "time": tip.time,
                        "median_time_past": tip.median_time_past,
                    }))
                    .unwrap_or_default()
                ),
                Format::Human => println!(
                    "mined {} block(s); height {}, median time past {}",
                    args.count, tip.height, tip.median_time_past
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, args.format),
    }
}

/// `biscol chain` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ChainCommand {
    /// The network, tip height and hash, median time past, and the wallet.
    Info {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

/// Runs `biscol chain ...`.
pub fn chain(state_dir: &StateFolder, command: &ChainCommand) -> ExitCode {
    let ChainCommand::Info { format } = command;
    let session = match session_args::open_for_reading(state_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match session.chain_info() {
        Ok(info) => {
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&info).unwrap_or_default()
                ),
                Format::Human => {
                    println!("network          {} ({})", info.network, info.backend);
                    println!("height           {}", info.height);
                    println!("tip              {}", info.tip);
                    println!("median time past {}", info.median_time_past);
                    if let Some(n) = info.mempool {
                        println!("mempool          {n} transaction(s)");
                    }
                    println!(
                        "wallet           {} ({} sat spendable)",
                        info.wallet_address,
                        info.wallet_balance.to_sat()
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, *format),
    }
}

/// The environment variable `biscol node` reads the RPC password from.
pub const RPC_PASSWORD_ENV: &str = "BISCOL_RPC_PASSWORD";
/// The largest password file `biscol node` reads.
const MAX_PASSWORD_FILE: u64 = 4096;

/// Arguments of `biscol node`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without --rpc-user, clients authenticate with the cookie file \
    (.cookie in the chain folder, removed on Ctrl-C, SIGTERM or SIGHUP). With --rpc-user, the \
    password comes from --rpc-password-file or --rpc-password, else from the \
    BISCOL_RPC_PASSWORD environment variable; prefer the file or the variable: other users can \
    see command-line arguments (ps). JSON-RPC and every Esplora write (POST /esplora/tx) need these \
    credentials; Esplora reads are open on loopback. Five failed logins within a minute lock \
    a client address out for 30 s (HTTP 429)."
)]
pub struct NodeArgs {
    /// The JSON-RPC port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 18443)]
    pub rpc_port: u16,
    /// Authenticate with this user (and a password) instead of a cookie file.
    #[arg(long)]
    pub rpc_user: Option<String>,
    /// The password for `--rpc-user`, on the command line, where `ps` shows it; prefer
    /// `--rpc-password-file` or the BISCOL_RPC_PASSWORD environment variable.
    #[arg(long, requires = "rpc_user", conflicts_with = "rpc_password_file")]
    pub rpc_password: Option<String>,
    /// Read the password for `--rpc-user` from this file (its first line; at most 4 KiB).
    #[arg(long, value_name = "PATH", requires = "rpc_user")]
    pub rpc_password_file: Option<PathBuf>,
}

/// Reads a password file: its first line, without the line ending.
fn read_password_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("password file {shown}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_PASSWORD_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("password file {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_PASSWORD_FILE {
        return Err(format!(
            "password file {shown} is larger than {MAX_PASSWORD_FILE} bytes"
        ));
    }
    let text =
        String::from_utf8(bytes).map_err(|_| format!("password file {shown} is not UTF-8 text"))?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(format!("password file {shown} holds an empty password"));
    }
    Ok(line.to_string())
}

/// The node's authentication from the arguments and the environment. The password is never
/// part of an error message.
fn node_auth(args: &NodeArgs, env_password: Option<String>) -> Result<Auth, String> {
    let Some(user) = &args.rpc_user else {
        if env_password.is_some() {
            eprintln!("note: {RPC_PASSWORD_ENV} is set but ignored without --rpc-user");
        }
        return Ok(Auth::Cookie);
    };
    let password = if let Some(path) = &args.rpc_password_file {
        read_password_file(path)?
    } else if let Some(p) = &args.rpc_password {
        eprintln!(
            "warning: --rpc-password is visible to other users (ps); prefer --rpc-password-file \
             or {RPC_PASSWORD_ENV}"
        );
        p.clone()
    } else if let Some(p) = env_password {
        p
    } else {
        return Err(format!(
            "--rpc-user needs a password: --rpc-password-file PATH, {RPC_PASSWORD_ENV} or \
             --rpc-password"
        ));
    };
    Ok(Auth::UserPass {
        user: user.clone(),
        password,
    })
}

/// Runs `biscol node` in the foreground until Ctrl-C, SIGTERM or SIGHUP.
pub fn node(state_dir: &StateFolder, args: &NodeArgs) -> ExitCode {
    // An empty variable counts as set, so that `node_auth` refuses the empty password.
    let env_password = std::env::var_os(RPC_PASSWORD_ENV)
        .map(|v| v.into_string())
        .transpose();
    let env_password = match env_password {
        Ok(p) => p,
        Err(_) => return output::usage_error(&format!("{RPC_PASSWORD_ENV} is not UTF-8")),
    };
    let auth = match node_auth(args, env_password) {
        Ok(a) => a,
        Err(e) => return output::usage_error(&e),
    };
    let located = match session_args::locate_existing(state_dir) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let chain = match EmbeddedChain::open(located.layout.chain()) {
        Ok(c) => c,
        Err(e) => return output::usage_error(&e.to_string()),
    };
    let config = NodeConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], args.rpc_port)),
        auth,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // With ctrlc's `termination` feature the handler runs on SIGINT, SIGTERM and SIGHUP alike,
    // so the cookie file is removed however the node is stopped (short of SIGKILL).
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        return output::usage_error(&format!("cannot watch for Ctrl-C and SIGTERM: {e}"));
    }
    let result = Node::run_until(
        chain,
        config,
        |node| {
            println!("serving the embedded regtest chain");
            println!("  JSON-RPC {}", node.rpc_url());
            println!("  Esplora  {}", node.esplora_url());
            if let Some(cookie) = node.cookie_path() {
                println!("  cookie   {}", cookie.display());
            }
            println!("Ctrl-C stops");
        },
        || stop.load(Ordering::SeqCst),
    );
    match result {
        Ok(_) => {
            eprintln!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => output::usage_error(&e.to_string()),
    }
}
