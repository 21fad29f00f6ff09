//! What every runtime command shares: finding the project and its state folder, opening a
//! session on the configured chain, parsing amounts, fee rates and durations, and turning a
//! [`SessionError`] into a message and an exit code.
//!
//! The state folder is `--state-dir` when given, else `.biscol/` beside the nearest
//! `Biscol.toml` above the current folder, else `.biscol/` in the current folder (on the
//! embedded regtest chain with default settings).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use biscol_artifact::units;
use biscol_runtime::chain::esplora::EsploraChain;
use biscol_runtime::chain::rpc::{Auth as RpcAuth, CoreRpcChain};
use biscol_runtime::project::{BackendKind, Config, Project, StateLayout, STATE_DIR};
use biscol_runtime::session::{Session, SessionError, SessionOptions, WALLET_KEY};
use biscol_runtime::spend::SpendError;
use biscol_runtime::state_folder::Presence;
use bitcoin::{Amount, FeeRate};

use crate::output::Format;

/// The state folder the command line names: `--state-dir` (else found, see [`locate`]) and
/// whether `--new` allows creating it.
#[derive(Debug, Clone)]
pub struct StateFolder {
    /// `--state-dir`.
    pub dir: Option<PathBuf>,
    /// `--new`: create the state folder when none of its parts exists.
    pub new: bool,
    /// `--lock-timeout`: how long to wait for another process to let go of the state folder.
    pub lock_timeout: Duration,
}

/// How long a command waits for the state folder by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `open` until it succeeds, fails otherwise than by the state folder being in use, or
/// `timeout` has passed; says once on stderr that it waits, and why.
pub fn waiting_for_lock<T>(
    root: &Path,
    timeout: Duration,
    mut open: impl FnMut() -> Result<T, SessionError>,
) -> Result<T, SessionError> {
    let deadline = Instant::now() + timeout;
    let mut told = false;
    let mut pause = Duration::from_millis(20);
    loop {
        match open() {
            Err(e) if e.is_in_use() => {
                if Instant::now() + pause > deadline {
                    return Err(SessionError::Usage(format!(
                        "{e}; still in use after waiting {} s (--lock-timeout sets how long to wait)",
                        timeout.as_secs()
                    )));
                }
                if !told {
                    eprintln!(
                        "waiting for the state folder {}: another biscol process is using it (at most {} s)",
                        root.display(),
                        timeout.as_secs()
                    );
                    told = true;
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Where the project and its state are.
#[derive(Debug, Clone)]
pub struct Located {
    /// The state folder.
    pub layout: StateLayout,
    /// The project's configuration (the defaults outside a project).
    pub config: Config,
    /// `--new` was given.
    pub new: bool,
    /// `--lock-timeout`.
    pub lock_timeout: Duration,
}

/// Finds the state folder and configuration for `state_dir` (the `--state-dir` flag).
pub fn locate(state_dir: &StateFolder) -> Result<Located, String> {
    let (new, lock_timeout) = (state_dir.new, state_dir.lock_timeout);
    let state_dir = state_dir.dir.as_deref();
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    let project = Project::find(&cwd).map_err(|e| e.to_string())?;
    let (root, config) = match project {
        Some(p) => {
            let root = p.state_dir();
            (root, p.config)
        }
        None => (cwd.join(STATE_DIR), Config::default()),
    };
    let root = state_dir.map(Path::to_path_buf).unwrap_or(root);
    Ok(Located {
        layout: StateLayout::new(root),
        config,
        new,
        lock_timeout,
    })
}

/// [`locate`] for the commands that open part of the state folder without a session (keys,
/// events, the node): refuses a folder with a part missing, and an absent one unless `--new`,
/// which creates it whole (as a session would) before the command goes on.
pub fn locate_existing(state_dir: &StateFolder) -> Result<Located, ExitCode> {
    let located = locate(state_dir).map_err(|e| crate::output::usage_error(&e))?;
    let embedded = located.config.biscol.backend == BackendKind::Embedded;
    let presence = Presence::of(&located.layout, embedded, WALLET_KEY);
    let checked = presence
        .check(located.new)
        .map_err(SessionError::Folder)
        .and_then(|()| match presence.is_empty() {
            true => open_located(located.clone()).map(drop),
            false => Ok(()),
        });
    checked.map_err(|e| fail(&e, Format::Human))?;
    located.layout.secure().map_err(|e| {
        crate::output::usage_error(&format!(
            "making the state folder {} owner-only: {e}",
            located.layout.root.display()
        ))
    })?;
    Ok(located)
}

/// Opens a session on the configured chain, printing progress on stderr.
pub fn open(state_dir: &StateFolder) -> Result<Session, ExitCode> {
    let located = locate(state_dir).map_err(|e| crate::output::usage_error(&e))?;
    open_located(located).map_err(|e| fail(&e, Format::Human))
}

/// Opens a session for a command that only reads (`state`, `chain info`): one that writes when
/// the state folder is free, so that it first brings the store in line with the chain as every
/// command does; else, without waiting, one that reads beside the process that holds the
/// folder (the state as of its last commit).
pub fn open_for_reading(state_dir: &StateFolder) -> Result<Session, ExitCode> {
    let located = locate(state_dir).map_err(|e| crate::output::usage_error(&e))?;
    let opened = match open_once(located.clone(), false) {
        Err(e) if e.is_in_use() => {
            let root = located.layout.root.clone();
            waiting_for_lock(&root, located.lock_timeout, || {
                open_once(located.clone(), true)
            })
        }
        other => other,
    };
    opened.map_err(|e| fail(&e, Format::Human))
}

/// Splits a command's `--arg NAME=VALUE` options, then opens the session as [`open`] does;
/// a malformed option is a usage error and opens nothing.
pub fn open_with_args(
    state_dir: &StateFolder,
    args: &[String],
) -> Result<(Vec<(String, String)>, Session), ExitCode> {
    let pairs = split_args(args).map_err(|e| crate::output::usage_error(&e))?;
    Ok((pairs, open(state_dir)?))
}

fn open_located(located: Located) -> Result<Session, SessionError> {
    let root = located.layout.root.clone();
    let timeout = located.lock_timeout;
    waiting_for_lock(&root, timeout, || open_once(located.clone(), false))
}

/// Opens a session once, to write or (`read_only`) to read.
fn open_once(located: Located, read_only: bool) -> Result<Session, SessionError> {
    let Located {
        layout,
        config,
        new,
        ..
    } = located;
    let network = config
        .network()
        .map_err(|e| SessionError::Usage(e.to_string()))?;
    let options = SessionOptions {
        network,
        fee_rate: fee_rate_from_sat_vb(config.biscol.fee_rate).map_err(SessionError::Usage)?,
        audit_logging: config.security.audit_logging,
        musig2: config.features.musig2,
        verifier: Some(std::sync::Arc::new(
            crate::verify::CompilerVerifier::default(),
        )),
        create_state: new,
        read_only,
        ..SessionOptions::default()
    };
    let mut session = match config.biscol.backend {
        BackendKind::Embedded => Session::open(layout, options)?,
        BackendKind::Core => {
            let url = config.biscol.rpc_url.clone().unwrap_or_default();
            let auth =
                match (&config.biscol.rpc_cookie, &config.biscol.rpc_user) {
                    (Some(cookie), _) => RpcAuth::CookieFile(PathBuf::from(cookie)),
                    (None, Some(user)) => RpcAuth::UserPass(
                        user.clone(),
                        config.biscol.rpc_password.clone().unwrap_or_default(),
                    ),
                    (None, None) => return Err(SessionError::Usage(
                        "[biscol] backend = \"core\" needs rpc_cookie or rpc_user and rpc_password"
                            .into(),
                    )),
                };
            let chain = CoreRpcChain::connect(&url, auth, network)?;
            Session::open_remote(layout, options, Box::new(chain))?
        }
        BackendKind::Esplora => {
            let url = config.biscol.esplora_url.clone().unwrap_or_default();
            // Credentials, when configured, go with every request (`biscol node` needs them
            // for broadcasts; a public Esplora ignores them).
            let chain = match (&config.biscol.rpc_cookie, &config.biscol.rpc_user) {
                (Some(cookie), _) => {
                    EsploraChain::connect_with_cookie(&url, network, Path::new(cookie))?
                }
                (None, Some(user)) => EsploraChain::connect_with_auth(
                    &url,
                    network,
                    Some((user, config.biscol.rpc_password.as_deref().unwrap_or(""))),
                )?,
                (None, None) => EsploraChain::connect(&url, network)?,
            };
            Session::open_remote(layout, options, Box::new(chain))?
        }
    };
    session.on_progress(|message| eprintln!("{message}"));
    Ok(session)
}

/// Prints `error` and returns its exit code: 1 when a spend or transaction is refused, 2 for
/// bad input and environment failures. A private key in a message (an argument repeated back)
/// is described, not shown.
pub fn fail(error: &SessionError, format: Format) -> ExitCode {
    use biscol_artifact::redact::scrub;
    let code = if error.is_refusal() { 1 } else { 2 };
    match format {
        Format::Human => {
            if let SessionError::Spend(SpendError::Refused(refusals)) = error {
                eprintln!("error: the spend is refused; nothing was broadcast");
                for r in refusals {
                    match &r.require {
                        Some(q) => {
                            eprintln!("  --> {}:{}:{}", q.file, q.line, q.column);
                            let message = q
                                .message
                                .as_ref()
                                .map(|m| format!(", {m:?}"))
                                .unwrap_or_default();
                            eprintln!("   | require {}{message}", q.condition);
                            eprintln!("   = {}", scrub(&r.reason));
                        }
                        None => eprintln!("   = {}", scrub(&r.reason)),
                    }
                }
            } else {
                eprintln!("error: {}", scrub(&error.to_string()));
            }
        }
        Format::Json => {
            let refusals = match error {
                SessionError::Spend(SpendError::Refused(refusals)) => refusals
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "file": r.require.as_ref().map(|q| q.file.clone()),
                            "line": r.require.as_ref().map(|q| q.line),
                            "column": r.require.as_ref().map(|q| q.column),
                            "condition": r.require.as_ref().map(|q| q.condition.clone()),
                            "message": r.require.as_ref().and_then(|q| q.message.clone()),
                            "reason": r.reason,
                        })
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let json = serde_json::json!({
                "status": if code == 1 { "refused" } else { "error" },
                "error": scrub(&error.to_string()),
                "refusals": refusals,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
        }
    }
    ExitCode::from(code)
}

/// Parses an amount: `0.01btc`, `1000000sat` (also `sats`), with no space or one, above zero
/// and at most 21,000,000 BTC.
pub fn parse_amount(text: &str) -> Result<Amount, String> {
    let amount = units::parse_amount_checked(text, units::AmountSyntax::UnitRequired).map_err(
        |e| match e {
            units::AmountError::AboveMaxMoney => format!(
                "`{text}` is more than there will ever be: an amount is at most {} BTC",
                units::MAX_MONEY.to_btc()
            ),
            units::AmountError::Malformed => {
                format!("`{text}` is not an amount: write it like 0.01btc or 1000000sat")
            }
        },
    )?;
    if amount == Amount::ZERO {
        return Err(format!("`{text}`: the amount must be above zero"));
    }
    Ok(amount)
}

/// A fee rate in sat/vB (fractions allowed, at least 1).
pub fn fee_rate_from_sat_vb(sat_vb: f64) -> Result<FeeRate, String> {
    if !(sat_vb.is_finite() && (1.0..=100_000.0).contains(&sat_vb)) {
        return Err(format!(
            "fee rate {sat_vb} sat/vB: must be between 1 and 100000"
        ));
    }
    // 1 sat/vB = 250 sat per 1000 weight units.
    Ok(FeeRate::from_sat_per_kwu((sat_vb * 250.0).round() as u64))
}

/// Parses `--fee-rate` (sat/vB).
pub fn parse_fee_rate(text: &str) -> Result<FeeRate, String> {
    let value: f64 = text
        .trim()
        .trim_end_matches("sat/vB")
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a fee rate in sat/vB (for example 2 or 10.5)"))?;
    fee_rate_from_sat_vb(value)
}

/// Parses a duration like `30d`, `12h`, `90m`, `600s` or `2w` into seconds.
pub fn parse_duration(text: &str) -> Result<u32, String> {
    let seconds = biscol_artifact::units::parse_duration_seconds(text)
        .ok_or_else(|| format!("`{text}` is not a duration (for example 30d, 12h, 90m, 600s)"))?;
    u32::try_from(seconds).map_err(|_| format!("`{text}` is too long"))
}

/// Parses `--lock-timeout`: a duration (`30s`, `2m`) or whole seconds (`0` does not wait).
pub fn parse_lock_timeout(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u32>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds.into())),
        Err(_) => parse_duration(text).map(|s| Duration::from_secs(s.into())),
    }
}

/// Splits `--arg NAME=VALUE` flags.
pub fn split_args(args: &[String]) -> Result<Vec<(String, String)>, String> {
    args.iter()
        .map(|a| crate::instantiate::split_arg(a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_take_btc_and_sat() {
        assert_eq!(
            parse_amount("0.01btc").unwrap(),
            Amount::from_sat(1_000_000)
        );
        assert_eq!(
            parse_amount("1000000sat").unwrap(),
            Amount::from_sat(1_000_000)
        );
        assert_eq!(parse_amount("5000 sats").unwrap(), Amount::from_sat(5000));
        assert!(parse_amount("0.000000001btc").is_err());
        assert!(parse_amount("12").is_err());
        assert!(parse_amount("0sat").is_err());
        assert!(parse_amount("-1sat").is_err());
        assert_eq!(parse_amount("21000000btc").unwrap(), units::MAX_MONEY);
        for huge in [
            "21000001btc",
            "18446744073709551615sat",
            "184467440737.09551615btc",
        ] {
            let e = parse_amount(huge).unwrap_err();
            assert!(e.contains("at most 21000000 BTC"), "{e}");
        }
    }

    #[test]
    fn fee_rates_and_durations() {
        assert_eq!(
            parse_fee_rate("2").unwrap(),
            FeeRate::from_sat_per_vb_u32(2)
        );
        assert_eq!(parse_fee_rate("2.5").unwrap().to_sat_per_kwu(), 625);
        assert!(parse_fee_rate("0.5").is_err());
        assert!(parse_fee_rate("fast").is_err());
        assert_eq!(parse_duration("30d").unwrap(), 30 * 86_400);
        assert!(parse_duration("soon").is_err());
    }
}
