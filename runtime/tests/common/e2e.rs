//! The stdlib end-to-end scenario, shared by `tests/e2e.rs` (embedded chain), `tests/e2e_rpc.rs`
//! (a remote session over `biscol node`'s JSON-RPC and Esplora) and the Bitcoin Core oracle
//! (`oracle-chain/tests/kernel_e2e.rs`, which feeds every block into libbitcoinkernel).
//!
//! It takes every standard library contract's artifact (built by the compiler from
//! `stdlib/*.bsc`, included here, and stored beside the tests, see [`super::artifacts`]) and,
//! through nothing but the public [`Session`] API, deploys a fresh instance for every spend
//! path and for the key path, then spends it:
//!
//! * a path with a timelock is tried first and must be refused by the `require` that holds the
//!   lock, with the lock's numbers in the reason, and nothing may be broadcast (the instance is
//!   still `deployed`, its coin unspent, the tip and the mempool unchanged, a `refused` event
//!   logged); the chain is then moved to the last block before the lock opens, where the spend
//!   must still be refused, then one block further, where it must be accepted and confirm, with
//!   the nSequence / nLockTime the lock needs. This pins the off-by-one boundaries of BIP65,
//!   BIP68 and BIP113 against the chain that validates the blocks;
//! * other paths are spent at once;
//! * a wrong preimage (htlc `claim`), a key that is not in the keystore (htlc `claim` and its
//!   MuSig2 key path) and a key path on a contract without one are refused.
//!
//! Besides the stdlib, a small contract (`Timelocks`) covers the two lock kinds the stdlib does
//! not use: `older(Duration)` (a BIP68 time lock, counted in 512 s units from the median time
//! past before the coin's block) and `after(Height)`.
//!
//! The scenario works on any regtest session. When the session can mine (the embedded chain,
//! or a remote node that mines on request, as `biscol node` or Bitcoin Core on regtest), deploys
//! and spends wait for their confirmation and the session mines it. When the backend cannot mine
//! (Esplora), [`Options::miner`] mines instead: the scenario broadcasts without waiting, mines
//! one block through it and lets [`Session::reconcile`] record the confirmation.

#![allow(dead_code)]

use std::collections::BTreeMap;

use biscol_artifact::format::Artifact;
use biscol_runtime::chain::{Tip, TxStatus};
use biscol_runtime::keystore::KeystoreError;
use biscol_runtime::session::{Session, SessionError, SpendOptions, SpendOutcome};
use biscol_runtime::spend::{Refusal, SpendError};
use biscol_runtime::state::{event_kind, InstanceStatus};
use bitcoin::absolute::LockTime;
use bitcoin::hashes::{hash160, sha256, Hash};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use bitcoin::{Amount, OutPoint, Sequence, Txid};

/// The standard library: (file, contract, source).
pub const STDLIB: &[(&str, &str, &str)] = &[
    ("htlc.bsc", "Htlc", include_str!("../../../stdlib/htlc.bsc")),
    (
        "vault.bsc",
        "Vault",
        include_str!("../../../stdlib/vault.bsc"),
    ),
    (
        "escrow.bsc",
        "Escrow",
        include_str!("../../../stdlib/escrow.bsc"),
    ),
    (
        "inheritance.bsc",
        "Inheritance",
        include_str!("../../../stdlib/inheritance.bsc"),
    ),
    (
        "atomic_swap.bsc",
        "AtomicSwap",
        include_str!("../../../stdlib/atomic_swap.bsc"),
    ),
    (
        "multisig_recovery.bsc",
        "MultisigRecovery",
        include_str!("../../../stdlib/multisig_recovery.bsc"),
    ),
];

/// The timelock kinds the stdlib does not use (not a stdlib contract; no key path).
pub const TIMELOCKS: (&str, &str, &str) = (
    "timelocks.bsc",
    "Timelocks",
    include_str!("../data/timelocks.bsc"),
);

/// The timelock `require` message of every timelocked path, as written in the sources. The
/// scenario checks the artifacts' ABI against it, so a compiler that swapped messages or
/// conditions is caught too.
pub const LOCK_MESSAGES: &[(&str, &str, &str)] = &[
    ("Htlc", "refund", "refund only after the timeout"),
    ("Vault", "withdraw", "the hot key must wait for the delay"),
    ("Escrow", "refund", "refund only after the timeout"),
    (
        "Inheritance",
        "inherit",
        "the heirs must wait for the unlock time",
    ),
    (
        "Inheritance",
        "inherit_alone",
        "a single heir must wait for the later time",
    ),
    ("AtomicSwap", "refund", "refund only after the timeout"),
    (
        "MultisigRecovery",
        "recover",
        "recovery only after the delay",
    ),
    (
        "Timelocks",
        "relative_time",
        "the owner must wait for the duration",
    ),
    (
        "Timelocks",
        "absolute_height",
        "the owner must wait for the height",
    ),
];

/// How the scenario runs.
pub struct Options {
    /// Seconds between the chain's median time past and the dates the scenario locks to (and
    /// the `Duration` it locks for). Two days by default; libbitcoinkernel refuses blocks more
    /// than two hours ahead of the wall clock (`time-too-new`), so the Core oracle uses less.
    pub lock_horizon: u32,
    /// Only these contracts (names as in [`STDLIB`] / [`TIMELOCKS`]); all when `None`.
    pub only: Option<Vec<&'static str>>,
    /// Mines `count` blocks to the session's wallet (the first `advance` seconds later), for
    /// backends that cannot mine (Esplora). `None`: [`Session::mine`].
    pub miner: Option<Miner>,
}

/// Mines `(count, advance)` blocks to the wallet; see [`Options::miner`].
pub type Miner = Box<dyn FnMut(u32, Option<u32>) -> Result<(), String>>;

impl Default for Options {
    fn default() -> Self {
        Options {
            lock_horizon: 2 * 86_400,
            only: None,
            miner: None,
        }
    }
}

/// One path spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spent {
    /// The contract.
    pub contract: String,
    /// The path (`key` for the key path).
    pub path: String,
    /// The instance.
    pub instance: String,
    /// Whether the spend was refused before its timelock opened.
    pub refused_first: bool,
    /// The spend transaction.
    pub txid: Txid,
    /// The height of its block.
    pub height: u32,
}

/// One refusal seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The contract.
    pub contract: String,
    /// The path.
    pub path: String,
    /// The instance.
    pub instance: String,
    /// The message of the `require` that refused (`None`: the key path).
    pub message: Option<String>,
    /// Its reason.
    pub reason: String,
}

/// What the scenario did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every successful spend, in order.
    pub spends: Vec<Spent>,
    /// Every refusal checked, in order.
    pub refusals: Vec<Refused>,
    /// The artifacts used, by contract name.
    pub artifacts: BTreeMap<String, Artifact>,
    /// Instances deliberately left deployed (their keys are not in the keystore).
    pub left_deployed: Vec<String>,
    /// Every instance deployed.
    pub instances: Vec<String>,
}

type R<T> = Result<T, String>;

/// Instantiation or spend arguments: (name, value).
type Args = Vec<(&'static str, String)>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// The artifact JSON of `contract` in `source` (named `file`), as the compiler built it (see
/// [`super::artifacts`]).
pub fn build_artifact(file: &str, source: &str, contract: &str) -> R<String> {
    let name = file.strip_suffix(".bsc").unwrap_or(file);
    let json = super::artifacts::artifact_json(name, file, source)?;
    let artifact = Artifact::from_json(&json).map_err(|e| format!("{file}: {e}"))?;
    if artifact.contract != contract {
        return Err(format!("{file} has no contract `{contract}`"));
    }
    Ok(json)
}

/// A unix time as RFC 3339 in UTC (`2027-01-15T08:00:00Z`), written here independently of the
/// runtime's own formatter, whose output the refusals are checked against.
pub fn rfc3339(t: u32) -> String {
    let days = i64::from(t) / 86_400;
    let secs = i64::from(t) % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// Whether a path's `require`s hold a timelock (its message), from the artifact's ABI.
pub fn lock_message(artifact: &Artifact, path: &str) -> Option<String> {
    let p = artifact.abi.paths.iter().find(|p| p.name == path)?;
    p.requires
        .iter()
        .find(|r| r.condition.starts_with("older(") || r.condition.starts_with("after("))
        .map(|r| r.message.clone().unwrap_or_default())
}

/// Every path of `artifact` the scenario must spend: its paths, and `key` when it has a key
/// path (single or MuSig2).
pub fn expected_paths(artifact: &Artifact) -> Vec<String> {
    let mut paths: Vec<String> = artifact.abi.paths.iter().map(|p| p.name.clone()).collect();
    if !artifact.taproot.key_path.keys.is_empty() {
        paths.push("key".into());
    }
    paths
}

/// Checks that `report` covers every path (and key path) of every contract it was asked to
/// run (`only`, all of [`STDLIB`] and [`TIMELOCKS`] when `None`), that every timelocked path
/// was refused first, and that the wrong-preimage and missing-key refusals were seen.
pub fn check_coverage(report: &Report, only: Option<&[&str]>) -> R<()> {
    let wanted = |name: &str| only.is_none_or(|o| o.contains(&name));
    let mut contracts: Vec<&str> = STDLIB.iter().map(|c| c.1).collect();
    contracts.push(TIMELOCKS.1);
    for name in contracts.into_iter().filter(|n| wanted(n)) {
        let artifact = report
            .artifacts
            .get(name)
            .ok_or_else(|| format!("{name} was not run"))?;
        for path in expected_paths(artifact) {
            let spent: Vec<&Spent> = report
                .spends
                .iter()
                .filter(|s| s.contract == name && s.path == path)
                .collect();
            ensure!(!spent.is_empty(), "{name} {path} was never spent");
            if let Some(message) = lock_message(artifact, &path) {
                ensure!(
                    spent.iter().all(|s| s.refused_first),
                    "{name} {path} is timelocked but was not refused first"
                );
                ensure!(
                    report.refusals.iter().any(|r| r.contract == name
                        && r.path == path
                        && r.message.as_deref() == Some(&message)),
                    "no refusal of {name} {path} by \"{message}\""
                );
            }
        }
    }
    if wanted("Htlc") {
        for message in ["wrong preimage", "the receiver must sign"] {
            ensure!(
                report
                    .refusals
                    .iter()
                    .any(|r| r.contract == "Htlc" && r.message.as_deref() == Some(message)),
                "no Htlc refusal by \"{message}\""
            );
        }
    }
    Ok(())
}

/// The stdlib scenario with the default [`Options`].
pub fn stdlib_scenario(session: &mut Session) -> Result<Report, String> {
    stdlib_scenario_with(session, Options::default())
}

/// A timelock, with the value the instance was given.
#[derive(Debug, Clone, Copy)]
enum Lock {
    /// `older(n blocks)`.
    Blocks(u16),
    /// `older(d)`: `units` × 512 s.
    Duration(u16),
    /// `after(h)`, a height.
    Height(u32),
    /// `after(t)`, a unix time.
    Time(u32),
}

impl Lock {
    /// Whether a spend in the block after `tip` meets the lock, for a coin confirmed at
    /// `coin_height` whose previous block's median time past is `base` (consensus's rules,
    /// written here independently of the spend engine's).
    fn open(self, tip: &Tip, coin_height: u32, base: u32) -> bool {
        match self {
            Lock::Blocks(n) => tip.height + 1 - coin_height >= u32::from(n),
            Lock::Duration(units) => {
                tip.median_time_past.saturating_sub(base) >= u32::from(units) * 512
            }
            Lock::Height(h) => h < tip.height + 1,
            Lock::Time(t) => t < tip.median_time_past,
        }
    }

    /// The numbers a refusal's reason must show.
    fn check_reason(self, reason: &str, tip: &Tip, coin_height: u32) -> R<()> {
        let needles: Vec<String> = match self {
            Lock::Blocks(n) => {
                let has = tip.height + 1 - coin_height;
                let more = u32::from(n) - has;
                vec![
                    format!("needs {n} blocks since the coin confirmed"),
                    format!("the coin has {has} ("),
                    format!("({more} more block"),
                ]
            }
            Lock::Duration(units) => vec![
                "needs ".into(),
                format!("({units} × 512 s) of median time past"),
            ],
            Lock::Height(h) => {
                let next = tip.height + 1;
                vec![
                    format!("needs a block height above {h}"),
                    format!("the next block is {next}"),
                    format!("({} more block", h + 1 - next),
                ]
            }
            Lock::Time(t) => vec![
                format!("needs the median time past to pass {}", rfc3339(t)),
                format!("it is {}", rfc3339(tip.median_time_past)),
            ],
        };
        for needle in needles {
            ensure!(
                reason.contains(&needle),
                "the refusal's reason \"{reason}\" does not say \"{needle}\""
            );
        }
        Ok(())
    }

    /// The nSequence / nLockTime the accepted spend must carry.
    fn check_fields(self, outcome: &SpendOutcome) -> R<()> {
        let p = &outcome.prepared;
        match self {
            Lock::Blocks(n) => ensure!(
                p.n_sequence == Sequence::from_height(n),
                "nSequence {:?} for older({n} blocks)",
                p.n_sequence
            ),
            Lock::Duration(units) => ensure!(
                p.n_sequence == Sequence::from_512_second_intervals(units),
                "nSequence {:?} for older({units} × 512 s)",
                p.n_sequence
            ),
            Lock::Height(h) => ensure!(
                p.lock_time == LockTime::from_height(h).map_err(|e| e.to_string())?,
                "nLockTime {:?} for after({h})",
                p.lock_time
            ),
            Lock::Time(t) => ensure!(
                p.lock_time == LockTime::from_time(t).map_err(|e| e.to_string())?,
                "nLockTime {:?} for after({t})",
                p.lock_time
            ),
        }
        Ok(())
    }
}

/// A deployed instance.
struct Deployed {
    id: String,
    contract: String,
    height: u32,
    outpoint: OutPoint,
}

/// The scenario's state.
struct Ctx<'a> {
    s: &'a mut Session,
    /// Whether deploys and spends wait for their confirmation (the session mines it).
    wait: bool,
    miner: Option<Miner>,
    report: Report,
    json: BTreeMap<String, String>,
}

fn err(context: impl std::fmt::Display) -> impl FnOnce(SessionError) -> String {
    move |e| format!("{context}: {e}")
}

/// The amount every instance locks.
const AMOUNT: Amount = Amount::from_sat(200_000);

impl Ctx<'_> {
    fn tip(&self) -> R<Tip> {
        self.s.chain().tip().map_err(|e| format!("tip: {e}"))
    }

    fn mine(&mut self, count: u32, advance: Option<u32>) -> R<Tip> {
        if count == 0 {
            return self.tip();
        }
        match &mut self.miner {
            Some(miner) => {
                miner(count, advance)?;
                self.s.reconcile().map_err(err("reconcile"))?;
                self.tip()
            }
            None => self
                .s
                .mine(count, advance)
                .map_err(err(format!("mining {count}"))),
        }
    }

    fn key(&self, name: &str) -> R<String> {
        let keystore = self.s.keystore();
        let info = match keystore.show(name) {
            Err(KeystoreError::NotFound { .. }) => keystore.create(name),
            other => other,
        }
        .map_err(|e| format!("key {name}: {e}"))?;
        Ok(info.public_key.to_string())
    }

    fn artifact(&mut self, (file, contract, source): (&str, &str, &str)) -> R<()> {
        let json = build_artifact(file, source, contract)?;
        let artifact = Artifact::from_json(&json).map_err(|e| format!("{contract}: {e}"))?;
        for path in &artifact.abi.paths {
            let expected = LOCK_MESSAGES
                .iter()
                .find(|(c, p, _)| *c == contract && *p == path.name)
                .map(|(_, _, m)| m.to_string());
            ensure!(
                lock_message(&artifact, &path.name) == expected,
                "{contract} {}: the ABI's timelock message is {:?}, the source says {expected:?}",
                path.name,
                lock_message(&artifact, &path.name)
            );
        }
        self.report.artifacts.insert(contract.to_string(), artifact);
        self.json.insert(contract.to_string(), json);
        Ok(())
    }

    /// Deploys a fresh instance of `contract` and checks it is `deployed` at the tip.
    fn deploy(&mut self, contract: &str, args: &[(&str, String)]) -> R<Deployed> {
        let json = self.json[contract].clone();
        let args: Vec<(String, String)> = args
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        let context = format!("deploying {contract}");
        let d = self
            .s
            .deploy(&json, &args, AMOUNT, None, self.wait)
            .map_err(err(&context))?;
        if self.wait {
            ensure!(d.height.is_some(), "{context}: no confirmation height");
        } else {
            ensure!(d.height.is_none(), "{context}: a height without waiting");
            self.mine(1, None)?;
        }
        let tip = self.tip()?;
        let record = self.s.instance(&d.instance).map_err(err(&context))?;
        ensure!(
            record.status == InstanceStatus::Deployed,
            "{context}: {} is {:?} after its block",
            d.instance,
            record.status
        );
        ensure!(
            record.height == Some(tip.height) && d.height.unwrap_or(tip.height) == tip.height,
            "{context}: funding height {:?} / {:?}, tip {}",
            record.height,
            d.height,
            tip.height
        );
        ensure!(
            record.amount == AMOUNT && record.address == d.address,
            "{context}: the record does not match the deployment"
        );
        self.report.instances.push(d.instance.clone());
        Ok(Deployed {
            id: d.instance,
            contract: contract.to_string(),
            height: tip.height,
            outpoint: OutPoint {
                txid: d.txid,
                vout: d.vout,
            },
        })
    }

    fn spend_call(
        &mut self,
        id: &str,
        path: &str,
        args: &[(&str, String)],
    ) -> Result<SpendOutcome, SessionError> {
        let args: Vec<(String, String)> = args
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        let options = SpendOptions {
            wait: self.wait,
            ..SpendOptions::default()
        };
        self.s.spend(id, path, &args, &options)
    }

    /// Tries the spend (for real, not a dry run) and expects it refused by the `require` whose
    /// message is `message` (`None`: a key-path refusal, which names no `require`); checks
    /// that nothing was broadcast. Returns the refusal.
    fn refused(
        &mut self,
        d: &Deployed,
        path: &str,
        args: &[(&str, String)],
        message: Option<&str>,
    ) -> R<Refusal> {
        let context = format!("{} {path}", d.id);
        let before = self.s.instance(&d.id).map_err(err(&context))?;
        let tip = self.tip()?;
        let mempool = self.s.embedded().map(|c| c.mempool_txids());
        let events = self
            .s
            .store()
            .instance_events(&d.id)
            .map_err(|e| format!("{context}: events: {e}"))?;
        let refusals = match self.spend_call(&d.id, path, args) {
            Ok(o) => {
                return Err(format!(
                    "{context}: expected a refusal, got spend {}",
                    o.txid
                ))
            }
            Err(SessionError::Spend(SpendError::Refused(r))) => r,
            Err(e) => return Err(format!("{context}: expected a refusal, got: {e}")),
        };
        let all = refusals
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        let refusal = refusals
            .iter()
            .find(|r| r.require.as_ref().and_then(|q| q.message.as_deref()) == message)
            .cloned()
            .ok_or_else(|| format!("{context}: refused, but not by {message:?}: {all}"))?;
        if let Some(require) = &refusal.require {
            let file = &self.report.artifacts[&d.contract].files[0];
            ensure!(
                &require.file == file && require.line > 0 && require.column > 0,
                "{context}: the refusal points at {require}, not into {file}"
            );
        }

        // Nothing was broadcast.
        let after = self.s.instance(&d.id).map_err(err(&context))?;
        ensure!(
            after.status == InstanceStatus::Deployed
                && after.spend_txid.is_none()
                && after.transactions.len() == before.transactions.len()
                && after.executions.len() == before.executions.len(),
            "{context}: the refused spend changed the instance: {:?}, spend {:?}",
            after.status,
            after.spend_txid
        );
        ensure!(self.tip()? == tip, "{context}: the refusal moved the tip");
        ensure!(
            self.s.embedded().map(|c| c.mempool_txids()) == mempool,
            "{context}: the refusal changed the mempool"
        );
        let utxos = self
            .s
            .chain()
            .utxos(&after.script_pubkey)
            .map_err(|e| format!("{context}: utxos: {e}"))?;
        ensure!(
            utxos.iter().any(|u| u.outpoint == d.outpoint),
            "{context}: the coin {} is no longer unspent after a refusal",
            d.outpoint
        );
        let events_after = self
            .s
            .store()
            .instance_events(&d.id)
            .map_err(|e| format!("{context}: events: {e}"))?;
        ensure!(
            events_after.len() == events.len() + 1
                && events_after
                    .last()
                    .is_some_and(|e| e.kind == event_kind::REFUSED),
            "{context}: the refusal was not logged as one `refused` event"
        );
        self.report.refusals.push(Refused {
            contract: d.contract.clone(),
            path: path.to_string(),
            instance: d.id.clone(),
            message: message.map(str::to_string),
            reason: refusal.reason.clone(),
        });
        Ok(refusal)
    }

    /// Spends and checks that the spend is accepted and confirmed, and recorded as `spent`.
    fn spent(
        &mut self,
        d: &Deployed,
        path: &str,
        args: &[(&str, String)],
        refused_first: bool,
    ) -> R<SpendOutcome> {
        let context = format!("{} {path}", d.id);
        let outcome = self.spend_call(&d.id, path, args).map_err(err(&context))?;
        ensure!(outcome.broadcast, "{context}: not broadcast");
        if self.wait {
            ensure!(
                outcome.height.is_some(),
                "{context}: no confirmation height"
            );
        } else {
            self.mine(1, None)?;
        }
        let p = &outcome.prepared;
        ensure!(
            p.path == path && p.leaf.is_none() == (path == "key"),
            "{context}: spent through {} (leaf {:?})",
            p.path,
            p.leaf
        );
        ensure!(
            p.tx.input.len() == 1 && p.tx.input[0].previous_output == d.outpoint,
            "{context}: the transaction does not spend the instance's coin"
        );
        ensure!(
            p.tx.output.len() == 1 && p.tx.output[0].value + p.fee == AMOUNT,
            "{context}: output and fee do not add up to the coin"
        );
        // The fee is what the session's fee rate asks for the transaction as signed.
        let vsize = p.tx.vsize() as u64;
        let expected_fee = self.s.options().fee_rate.fee_vb(vsize);
        ensure!(
            p.vsize == vsize && Some(p.fee) == expected_fee,
            "{context}: planned {} vB for {}, signed {vsize} vB for {expected_fee:?}",
            p.vsize,
            p.fee
        );
        let record = self.s.instance(&d.id).map_err(err(&context))?;
        let height = record
            .spent_height
            .ok_or_else(|| format!("{context}: no spent height"))?;
        ensure!(
            record.status == InstanceStatus::Spent && record.spend_txid == Some(outcome.txid),
            "{context}: the store says {:?}, spend {:?}",
            record.status,
            record.spend_txid
        );
        ensure!(
            outcome.height.unwrap_or(height) == height,
            "{context}: confirmed at {:?}, the store says {height}",
            outcome.height
        );
        match self.s.chain().tx_status(&outcome.txid) {
            Ok(TxStatus::Confirmed { height: h, .. }) if h == height => {}
            other => return Err(format!("{context}: the chain says {other:?}")),
        }
        let utxos = self
            .s
            .chain()
            .utxos(&record.script_pubkey)
            .map_err(|e| format!("{context}: utxos: {e}"))?;
        ensure!(
            !utxos.iter().any(|u| u.outpoint == d.outpoint),
            "{context}: the coin is still unspent"
        );
        self.report.spends.push(Spent {
            contract: d.contract.clone(),
            path: path.to_string(),
            instance: d.id.clone(),
            refused_first,
            txid: outcome.txid,
            height,
        });
        Ok(outcome)
    }

    /// A timelocked path: refused first with the lock's numbers, refused again at the last
    /// block before the lock opens, accepted at the first block it is open.
    fn locked(
        &mut self,
        d: &Deployed,
        path: &str,
        args: &[(&str, String)],
        lock: Lock,
    ) -> R<SpendOutcome> {
        let context = format!("{} {path}", d.id);
        let message = lock_message(&self.report.artifacts[&d.contract], path)
            .ok_or_else(|| format!("{context}: the path has no timelock"))?;
        let base = self
            .s
            .chain()
            .median_time_past_at(d.height - 1)
            .map_err(|e| format!("{context}: {e}"))?;
        let tip = self.tip()?;
        ensure!(
            !lock.open(&tip, d.height, base),
            "{context}: the lock {lock:?} is already open; the scenario chose it wrong"
        );
        let first = self.refused(d, path, args, Some(&message))?;
        lock.check_reason(&first.reason, &tip, d.height)
            .map_err(|e| format!("{context}: {e}"))?;

        match lock {
            Lock::Blocks(_) | Lock::Height(_) => {
                // Mine to the last block before the lock opens, check, then one more.
                let mut n = 0;
                while !lock.open(
                    &Tip {
                        height: self.tip()?.height + 1,
                        ..self.tip()?
                    },
                    d.height,
                    base,
                ) {
                    self.mine(1, None)?;
                    n += 1;
                    ensure!(n < 100, "{context}: the lock never opens");
                }
                let tip = self.tip()?;
                let last = self.refused(d, path, args, Some(&message))?;
                ensure!(
                    last.reason.contains("(1 more block must be mined)"),
                    "{context}: one block before the lock the reason says \"{}\"",
                    last.reason
                );
                lock.check_reason(&last.reason, &tip, d.height)
                    .map_err(|e| format!("{context}: {e}"))?;
                self.mine(1, None)?;
            }
            Lock::Duration(_) | Lock::Time(_) => {
                // Advance the clock past the lock in one block: the median time past follows
                // only over the next blocks (BIP113), and the spend must wait for it.
                let target = match lock {
                    Lock::Duration(units) => base + u32::from(units) * 512,
                    Lock::Time(t) => t + 1,
                    _ => unreachable!(),
                };
                let advance = target.saturating_sub(tip.time) + 60;
                self.mine(1, Some(advance))?;
                let mut refused_after_advance = 0;
                loop {
                    let tip = self.tip()?;
                    if lock.open(&tip, d.height, base) {
                        break;
                    }
                    let r = self.refused(d, path, args, Some(&message))?;
                    lock.check_reason(&r.reason, &tip, d.height)
                        .map_err(|e| format!("{context}: {e}"))?;
                    refused_after_advance += 1;
                    ensure!(
                        refused_after_advance < 12,
                        "{context}: the median time past never passes the lock"
                    );
                    self.mine(1, None)?;
                }
                ensure!(
                    refused_after_advance >= 1,
                    "{context}: the median time past passed the lock in the advance block itself"
                );
            }
        }
        let outcome = self.spent(d, path, args, true)?;
        lock.check_fields(&outcome)
            .map_err(|e| format!("{context}: {e}"))?;
        Ok(outcome)
    }
}

/// A compressed public key whose secret is not in any keystore of the scenario.
fn outsider() -> String {
    let secret = sha256::Hash::hash(b"biscol e2e: a key nobody here holds").to_byte_array();
    let sk = SecretKey::from_slice(&secret).expect("a valid secret");
    PublicKey::from_secret_key(&Secp256k1::new(), &sk).to_string()
}

/// A duration argument for `secs` seconds, as a person writes it.
fn duration_text(secs: u32) -> String {
    if secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Runs the scenario on `session` with `options`.
pub fn stdlib_scenario_with(session: &mut Session, options: Options) -> Result<Report, String> {
    let wait = options.miner.is_none();
    let mut ctx = Ctx {
        s: session,
        wait,
        miner: options.miner,
        report: Report::default(),
        json: BTreeMap::new(),
    };
    let wanted = |name: &str| options.only.as_ref().is_none_or(|o| o.contains(&name));
    let horizon = options.lock_horizon;
    ensure!(horizon >= 600, "lock_horizon must be at least 600 s");

    // Only the embedded chain funds the wallet on demand.
    if ctx.s.embedded().is_none() {
        let info = ctx.s.chain_info().map_err(err("chain info"))?;
        if info.wallet_balance < Amount::from_btc(1.0).expect("1 BTC") {
            ctx.mine(101, None)?;
        }
    }

    let sources: Vec<(&str, &str, &str)> = STDLIB
        .iter()
        .copied()
        .chain(std::iter::once(TIMELOCKS))
        .filter(|c| wanted(c.1))
        .collect();
    for source in &sources {
        ctx.artifact(*source)?;
    }

    let preimage = sha256::Hash::hash(b"biscol e2e preimage").to_string();
    let preimage_hash = sha256::Hash::hash(&hex_bytes(&preimage)).to_string();
    let wrong_preimage = "11".repeat(32);

    if wanted("Htlc") {
        let (sender, receiver) = (ctx.key("alice")?, ctx.key("bob")?);
        let args = |receiver: &str| {
            vec![
                ("sender", sender.clone()),
                ("receiver", receiver.to_string()),
                ("hash", preimage_hash.clone()),
                ("timeout", "5".to_string()),
            ]
        };
        let d = ctx.deploy("Htlc", &args(&receiver))?;
        ctx.spent(&d, "key", &[], false)?;
        let d = ctx.deploy("Htlc", &args(&receiver))?;
        ctx.refused(
            &d,
            "claim",
            &[("preimage", wrong_preimage.clone())],
            Some("wrong preimage"),
        )?;
        ctx.spent(&d, "claim", &[("preimage", preimage.clone())], false)?;
        let d = ctx.deploy("Htlc", &args(&receiver))?;
        ctx.locked(&d, "refund", &[], Lock::Blocks(5))?;
        // The receiver's key is nobody's here: claim and the key path are refused.
        let d = ctx.deploy("Htlc", &args(&outsider()))?;
        ctx.refused(
            &d,
            "claim",
            &[("preimage", preimage.clone())],
            Some("the receiver must sign"),
        )?;
        let r = ctx.refused(&d, "key", &[], None)?;
        ensure!(
            r.reason.contains("the keystore lacks"),
            "MuSig2 key path without a key: \"{}\"",
            r.reason
        );
        ctx.report.left_deployed.push(d.id);
    }

    if wanted("Vault") {
        let (hot, cold) = (ctx.key("hot")?, ctx.key("cold")?);
        let args = vec![("hot", hot), ("cold", cold), ("delay", "4 blocks".into())];
        let d = ctx.deploy("Vault", &args)?;
        ctx.spent(&d, "key", &[], false)?;
        let d = ctx.deploy("Vault", &args)?;
        ctx.locked(&d, "withdraw", &[], Lock::Blocks(4))?;
    }

    if wanted("Escrow") {
        let args = vec![
            ("buyer", "@buyer".to_string()),
            ("seller", "@seller".to_string()),
            ("arbiter", "@arbiter".to_string()),
            ("timeout", "6".to_string()),
        ];
        for name in ["buyer", "seller", "arbiter"] {
            ctx.key(name)?;
        }
        let d = ctx.deploy("Escrow", &args)?;
        ctx.spent(&d, "key", &[], false)?;
        let d = ctx.deploy("Escrow", &args)?;
        let o = ctx.spent(&d, "dispute", &[], false)?;
        ensure!(
            o.prepared.signers.len() == 2,
            "escrow dispute signed by {:?}, expected two of three",
            o.prepared.signers
        );
        let d = ctx.deploy("Escrow", &args)?;
        ctx.locked(&d, "refund", &[], Lock::Blocks(6))?;
    }

    if wanted("Inheritance") {
        for name in ["owner", "heir1", "heir2", "heir3"] {
            ctx.key(name)?;
        }
        let dates = |ctx: &Ctx, unlock: u32, later: u32| -> R<(u32, u32, Args)> {
            let mtp = ctx.tip()?.median_time_past;
            let (unlock, later) = (mtp + unlock, mtp + later);
            Ok((
                unlock,
                later,
                vec![
                    ("owner", "@owner".to_string()),
                    ("heirs", "@heir1, @heir2,@heir3".to_string()),
                    ("unlock", rfc3339(unlock)),
                    ("later", rfc3339(later)),
                ],
            ))
        };
        let (_, _, args) = dates(&ctx, horizon, 2 * horizon)?;
        let d = ctx.deploy("Inheritance", &args)?;
        ctx.spent(&d, "key", &[], false)?;
        let (unlock, _, args) = dates(&ctx, horizon, 2 * horizon)?;
        let d = ctx.deploy("Inheritance", &args)?;
        let o = ctx.locked(&d, "inherit", &[], Lock::Time(unlock))?;
        let signers = &o.prepared.signers;
        ensure!(
            signers.len() == 2,
            "inherit signed by {signers:?}, expected two of the three heirs"
        );
        let (_, later, args) = dates(&ctx, horizon / 2, horizon)?;
        let d = ctx.deploy("Inheritance", &args)?;
        let o = ctx.locked(&d, "inherit_alone", &[], Lock::Time(later))?;
        let signers = &o.prepared.signers;
        ensure!(
            signers.len() == 1,
            "inherit_alone signed by {signers:?}, expected one heir"
        );
    }

    if wanted("AtomicSwap") {
        let secret = sha256::Hash::hash(b"biscol e2e swap secret").to_string();
        let secret_hash = hash160::Hash::hash(&hex_bytes(&secret)).to_string();
        let args = vec![
            ("alice", ctx.key("alice")?),
            ("bob", ctx.key("bob")?),
            ("secret_hash", secret_hash),
            ("timeout", "3 blocks".to_string()),
        ];
        let d = ctx.deploy("AtomicSwap", &args)?;
        ctx.spent(&d, "key", &[], false)?;
        let d = ctx.deploy("AtomicSwap", &args)?;
        ctx.refused(
            &d,
            "redeem",
            &[("secret", wrong_preimage.clone())],
            Some("wrong secret"),
        )?;
        ctx.spent(&d, "redeem", &[("secret", secret)], false)?;
        let d = ctx.deploy("AtomicSwap", &args)?;
        ctx.locked(&d, "refund", &[], Lock::Blocks(3))?;
    }

    if wanted("MultisigRecovery") {
        for name in ["k1", "k2", "k3", "recovery"] {
            ctx.key(name)?;
        }
        let args = vec![
            ("keys", "@k1,@k2,@k3".to_string()),
            ("recovery", "@recovery".to_string()),
            ("delay", "3".to_string()),
        ];
        let d = ctx.deploy("MultisigRecovery", &args)?;
        ctx.spent(&d, "key", &[], false)?;
        let d = ctx.deploy("MultisigRecovery", &args)?;
        ctx.spent(&d, "multisig", &[], false)?;
        let d = ctx.deploy("MultisigRecovery", &args)?;
        ctx.locked(&d, "recover", &[], Lock::Blocks(3))?;
    }

    if wanted("Timelocks") {
        let owner = ctx.key("owner")?;
        let wait_secs = horizon;
        let units = wait_secs.div_ceil(512) as u16;
        let height = ctx.tip()?.height + 4;
        let args = vec![
            ("owner", owner),
            ("wait", duration_text(wait_secs)),
            ("height", height.to_string()),
        ];
        let d = ctx.deploy("Timelocks", &args)?;
        // No key path: the internal key is the NUMS point.
        let r = ctx.refused(&d, "key", &[], None)?;
        ensure!(
            r.reason.contains("no key path"),
            "a key spend of a NUMS contract: \"{}\"",
            r.reason
        );
        ctx.locked(&d, "relative_time", &[], Lock::Duration(units))?;
        let mut args = args;
        args[2].1 = (ctx.tip()?.height + 4).to_string();
        let height: u32 = args[2].1.parse().map_err(|_| "height".to_string())?;
        let d = ctx.deploy("Timelocks", &args)?;
        ctx.locked(&d, "absolute_height", &[], Lock::Height(height))?;
    }

    Ok(ctx.report)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}
