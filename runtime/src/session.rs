//! A session: one state folder's chain, keystore, wallet and contract store, and the
//! operations a person runs on them (deploy, spend, mine, bump, state, events, checkpoints).
//!
//! In: a state folder ([`StateLayout`]), [`SessionOptions`] and a chain (the embedded regtest
//! chain in the state folder, or a remote [`ChainBackend`]). Out: [`Deployment`]s,
//! [`SpendOutcome`]s and the store's records. Every command-line operation on contracts is one
//! method here, so that the command line, the test API ([`crate::testing`]) and the benchmarks
//! run the same code.
//!
//! Crash consistency: the store records a transaction *before* it is broadcast, and
//! [`Session::open`] (and every [`Session::mine`]) reconciles the store's pending instances with
//! the chain: a recorded transaction the chain does not know is broadcast again (or, when the
//! chain refuses it, the instance is marked failed or its spend abandoned); a confirmed one is
//! recorded as confirmed; a deployed instance whose coin the chain shows spent by a transaction
//! the store did not make (broadcast through `biscol node`, or by another party) is recorded as
//! spent through the path its witness reveals. Killing the process at any point therefore
//! loses no deployed instance and leaves the store consistent with the chain once the next
//! session opens.
//!
//! Invariants: nothing is broadcast that the spend engine has not verified with the script
//! engine; a refused spend broadcasts nothing and is logged as an event (when audit logging is
//! on); the wallet key `wallet` is created with the state folder and never printed; a folder
//! whose store, chain and wallet key do not all exist and record each other is refused
//! ([`crate::state_folder`]), never completed with new parts.

use std::fmt;
use std::sync::Arc;

use biscol_artifact::commitments::Commitments;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bitcoin::{Address, Amount, FeeRate, Network, OutPoint, ScriptBuf, Transaction, Txid};
use serde::Serialize;

use biscol_artifact::format::{Artifact, ArtifactError};
use biscol_artifact::instance::KeyPath;

use crate::chain::embedded::EmbeddedChain;
use crate::chain::{ChainBackend, ChainError, Tip, TxStatus};
use crate::keystore::{Keystore, KeystoreError};
use crate::project::StateLayout;
use crate::spend::psbt::{Finalized, PsbtView};
use crate::spend::{self, ChainState, Coin, Contract, PreparedSpend, SpendError, SpendRequest};
use crate::state::{
    event_kind, InstanceRecord, InstanceStatus, NewInstance, NewSpend, NewWatch, Recorder,
    StateError, Store, TxKind,
};
use crate::state_folder::{self, BindError, FolderError, Presence};
use crate::wallet::{Wallet, WalletError};
use bitcoin::psbt::Psbt;

/// The keystore key the session's wallet uses.
pub const WALLET_KEY: &str = "wallet";
/// The most blocks a deployment mines to fund the wallet on the embedded chain (three rounds of
/// coinbase maturity plus one, the bound of earlier versions); a deployment that needs more is
/// refused before mining anything.
pub const MAX_FUNDING_BLOCKS: u32 = 303;
/// What the wallet keeps beyond a deployment's amount before it mines more coins: room for the
/// funding fee at any sensible rate (at least; see [`fee_reserve`]).
const FEE_RESERVE: Amount = Amount::from_sat(100_000);
/// The funding transaction's size the fee reserve covers at the requested rate: a few inputs
/// and two outputs fit in it many times over.
const FEE_RESERVE_VBYTES: u64 = 2_000;

/// Room for the funding fee at `fee_rate`: [`FEE_RESERVE`], or more at high rates.
fn fee_reserve(fee_rate: FeeRate) -> Amount {
    fee_rate
        .fee_vb(FEE_RESERVE_VBYTES)
        .map_or(Amount::MAX_MONEY, |fee| fee.max(FEE_RESERVE))
}

/// What [`Session::funding_blocks`] found.
struct FundingPlan {
    /// The blocks to mine; `None` when no number of blocks is enough.
    blocks: Option<u32>,
    /// What the wallet can spend now.
    now: Amount,
    /// What it could spend after [`MAX_FUNDING_BLOCKS`].
    after_max: Amount,
}

/// How a session behaves.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The network contracts are instantiated for.
    pub network: Network,
    /// The fee rate when a call does not give one.
    pub fee_rate: FeeRate,
    /// Record refused spends in the event log.
    pub audit_logging: bool,
    /// Sign MuSig2 key paths in process when every key is local.
    pub musig2: bool,
    /// How long to wait for a confirmation on chains that do not mine on demand.
    pub confirmation_timeout: Duration,
    /// How often to ask such a chain whether the transaction confirmed.
    pub poll_interval: Duration,
    /// Checks every artifact before the session deploys it or builds a spend from it (the
    /// command line recompiles the artifact's source, see `biscol_compiler::verify`); `None`
    /// trusts artifacts as they are, which only tests of the runtime itself should do.
    pub verifier: Option<Arc<dyn ArtifactVerifier>>,
    /// Create the state folder when none of its parts exists (the command line sets it only
    /// for `biscol init` and `--new`; the test API and library callers get `true`). A folder
    /// with some parts but not all is refused either way ([`crate::state_folder`]).
    pub create_state: bool,
    /// Open to read only, beside a writer or not: no lock is taken, nothing is created,
    /// reconciled or written, and every read sees the state folder as of the open. The
    /// operations that change state (mining, deploying, spending, bumping, checkpoints,
    /// restores, reconciling) are refused with [`SessionError::ReadOnly`].
    pub read_only: bool,
}

/// Something that checks an artifact against what it claims to be, above the runtime (where
/// the compiler is at hand). The runtime calls it and refuses, with its message, whatever it
/// refuses.
pub trait ArtifactVerifier: Send + Sync + fmt::Debug {
    /// `Ok` when `artifact` may be deployed or spent; else why not, in words.
    fn verify(&self, artifact: &Artifact) -> Result<(), String>;
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            network: Network::Regtest,
            fee_rate: crate::wallet::DEFAULT_FEE_RATE,
            audit_logging: true,
            musig2: true,
            confirmation_timeout: Duration::from_secs(3 * 3600),
            poll_interval: Duration::from_secs(10),
            verifier: None,
            create_state: true,
            read_only: false,
        }
    }
}

/// The chain a session talks to.
enum Chain {
    /// The embedded chain in the state folder (it mines on demand).
    Embedded(Box<EmbeddedChain>),
    /// Any other backend.
    Remote(Box<dyn ChainBackend + Send>),
}

impl Chain {
    fn backend(&self) -> &dyn ChainBackend {
        match self {
            Chain::Embedded(c) => c.as_ref(),
            Chain::Remote(c) => c.as_ref(),
        }
    }
    fn backend_mut(&mut self) -> &mut dyn ChainBackend {
        match self {
            Chain::Embedded(c) => c.as_mut(),
            Chain::Remote(c) => c.as_mut(),
        }
    }
}

/// A deployed instance, as [`Session::deploy`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployment {
    /// The instance id (`htlc-1`).
    pub instance: String,
    /// The funding transaction.
    pub txid: Txid,
    /// The contract's output in it.
    pub vout: u32,
    /// The contract's address.
    pub address: String,
    /// Its descriptor.
    pub descriptor: String,
    /// The amount locked.
    #[serde(with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// The funding fee.
    #[serde(with = "bitcoin::amount::serde::as_sat")]
    pub fee: Amount,
    /// The confirmation height; `None` when not waited for.
    pub height: Option<u32>,
    /// What the address commits to, in the contract's words.
    pub commits_to: Commitments,
}

/// What [`Session::watch`] and [`Session::deploy_unfunded`] recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum WatchOutcome {
    /// Something pays the address: the instance is recorded.
    Funded(Deployment),
    /// Nothing pays it yet: each reconciliation looks.
    Watching(Watching),
}

/// A watch nothing pays yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Watching {
    /// The instance id reserved for it.
    pub instance: String,
    /// The address to pay.
    pub address: String,
    /// Its descriptor.
    pub descriptor: String,
    /// What the address commits to, in the contract's words.
    pub commits_to: Commitments,
}

/// An instance to be found on the chain, as the store records it.
struct WatchTarget {
    contract: String,
    args: Vec<(String, String)>,
    descriptor: String,
    address: String,
    script_pubkey: ScriptBuf,
}

impl WatchTarget {
    fn of(contract: &Contract, args: Vec<(String, String)>) -> WatchTarget {
        WatchTarget {
            contract: contract.artifact.contract.clone(),
            args,
            descriptor: contract.instance.descriptor.to_string(),
            address: contract.instance.address.to_string(),
            script_pubkey: contract.instance.script_pubkey.clone(),
        }
    }

    fn commitments(&self, contract: &Contract) -> Commitments {
        Commitments::of(
            &contract.instance,
            &contract.artifact.taproot.key_path,
            &self.args,
        )
    }
}

/// An output found paying a watched script.
struct FoundFunding {
    outpoint: OutPoint,
    amount: Amount,
    tx: Transaction,
    status: TxStatus,
}

/// What [`Session::finalize_psbt`] did.
#[derive(Debug, Clone)]
pub struct FinalizedSpend {
    /// The instance.
    pub instance: String,
    /// The finished transaction and what it records.
    pub finalized: Finalized,
    /// Its txid.
    pub txid: Txid,
    /// Whether it was recorded and broadcast.
    pub broadcast: bool,
    /// The confirmation height, when waited for.
    pub height: Option<u32>,
}

/// What a spend did (or, for a dry run, would do).
#[derive(Debug, Clone)]
pub struct SpendOutcome {
    /// The instance.
    pub instance: String,
    /// The signed, verified transaction and its plan.
    pub prepared: PreparedSpend,
    /// Its txid.
    pub txid: Txid,
    /// Whether it was broadcast (false for a dry run).
    pub broadcast: bool,
    /// The confirmation height, when waited for.
    pub height: Option<u32>,
}

/// What the chain looks like, as `biscol chain info` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainInfo {
    /// The network name.
    pub network: String,
    /// `embedded` or `remote`.
    pub backend: &'static str,
    /// The tip's height.
    pub height: u32,
    /// The tip's hash.
    pub tip: String,
    /// The tip's timestamp.
    pub time: u32,
    /// The tip's median time past.
    pub median_time_past: u32,
    /// Transactions waiting in the mempool (embedded chain only).
    pub mempool: Option<usize>,
    /// The wallet's address.
    pub wallet_address: String,
    /// The wallet's confirmed, spendable balance.
    #[serde(with = "bitcoin::amount::serde::as_sat")]
    pub wallet_balance: Amount,
}

/// A fee bump, as [`Session::bump`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bump {
    /// The transaction replaced.
    pub replaced: Txid,
    /// The replacement.
    pub txid: Txid,
    /// The replacement's fee.
    #[serde(with = "bitcoin::amount::serde::as_sat")]
    pub fee: Amount,
}

/// Where a spend pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The session's wallet.
    Wallet,
    /// An address (checked against the session's network).
    Address(String),
    /// A keystore key's BIP86 key-path address (`@NAME`).
    Key(String),
}

impl Destination {
    /// Reads `--to`: `@NAME` or an address.
    pub fn parse(text: &str) -> Destination {
        match text.strip_prefix('@') {
            Some(name) => Destination::Key(name.to_string()),
            None => Destination::Address(text.to_string()),
        }
    }
}

/// How [`Session::spend`] pays and whether it broadcasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendOptions {
    /// Where the coin's value (minus the fee) goes.
    pub to: Destination,
    /// The fee rate; the session's own when `None`.
    pub fee_rate: Option<FeeRate>,
    /// Plan, sign and verify only: record and broadcast nothing.
    pub dry_run: bool,
    /// Wait for one confirmation after broadcasting.
    pub wait: bool,
}

impl Default for SpendOptions {
    /// To the wallet, at the session's fee rate, broadcast, waiting for one confirmation (what
    /// `biscol spend` does without flags).
    fn default() -> Self {
        SpendOptions {
            to: Destination::Wallet,
            fee_rate: None,
            dry_run: false,
            wait: true,
        }
    }
}

/// A session over one state folder.
pub struct Session {
    layout: StateLayout,
    options: SessionOptions,
    chain: Chain,
    keystore: Keystore,
    wallet: Wallet,
    store: Store,
    progress: Box<dyn FnMut(&str) + Send>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("state_dir", &self.layout.root)
            .field("network", &self.options.network)
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Session {
    /// Opens the state folder with its embedded regtest chain.
    pub fn open(layout: StateLayout, options: SessionOptions) -> Result<Session, SessionError> {
        if options.network != Network::Regtest {
            return Err(SessionError::Usage(format!(
                "the embedded chain is a regtest chain; the session asks for {}",
                options.network
            )));
        }
        let presence = Presence::of(&layout, true, WALLET_KEY);
        presence.check(options.create_state && !options.read_only)?;
        let chain = if options.read_only {
            EmbeddedChain::open_read_only(layout.chain())?
        } else {
            secure(&layout)?;
            EmbeddedChain::open(layout.chain())?
        };
        Session::open_with(
            layout,
            options,
            Chain::Embedded(Box::new(chain)),
            presence.is_empty(),
        )
    }

    /// Opens the state folder's keystore and store over a remote chain.
    pub fn open_remote(
        layout: StateLayout,
        options: SessionOptions,
        chain: Box<dyn ChainBackend + Send>,
    ) -> Result<Session, SessionError> {
        let presence = Presence::of(&layout, false, WALLET_KEY);
        presence.check(options.create_state && !options.read_only)?;
        if !options.read_only {
            secure(&layout)?;
        }
        Session::open_with(layout, options, Chain::Remote(chain), presence.is_empty())
    }

    /// Opens the keystore, wallet and store over `chain` and binds them together
    /// ([`state_folder::bind`]); `create` when no part existed (the caller checked that
    /// creating is allowed).
    fn open_with(
        layout: StateLayout,
        options: SessionOptions,
        mut chain: Chain,
        create: bool,
    ) -> Result<Session, SessionError> {
        let keystore = Keystore::open(layout.keys())?;
        if create {
            if let Err(KeystoreError::NotFound { .. }) = keystore.show(WALLET_KEY) {
                keystore.create(WALLET_KEY)?;
            }
        }
        let wallet_key = keystore.show(WALLET_KEY)?.x_only();
        let wallet = Wallet::new(&keystore, WALLET_KEY)?;
        let store = if options.read_only {
            Store::open_read_only(layout.store())?
        } else {
            Store::open(layout.store())?
        };
        let (embedded, genesis) = match &mut chain {
            Chain::Embedded(c) => {
                let genesis = c.genesis_hash();
                (Some(&mut **c), genesis)
            }
            Chain::Remote(_) => (
                None,
                bitcoin::constants::genesis_block(options.network).block_hash(),
            ),
        };
        state_folder::bind(&store, embedded, genesis, wallet_key, create, &layout.root).map_err(
            |e| match e {
                BindError::Folder(e) => SessionError::Folder(e),
                BindError::State(e) => SessionError::State(e),
                BindError::Chain(e) => SessionError::Chain(e),
            },
        )?;
        let mut session = Session {
            layout,
            options,
            chain,
            keystore,
            wallet,
            store,
            progress: Box::new(|_| {}),
        };
        if !session.options.read_only {
            session.reconcile()?;
        }
        Ok(session)
    }

    /// Refuses `operation` in a read-only session ([`SessionOptions::read_only`]).
    fn writable(&self, operation: &'static str) -> Result<(), SessionError> {
        if self.options.read_only {
            return Err(SessionError::ReadOnly { operation });
        }
        Ok(())
    }

    /// Sets where progress messages go (the command line prints them on stderr).
    pub fn on_progress(&mut self, progress: impl FnMut(&str) + Send + 'static) {
        self.progress = Box::new(progress);
    }

    /// The state folder.
    pub fn layout(&self) -> &StateLayout {
        &self.layout
    }

    /// The keystore.
    pub fn keystore(&self) -> &Keystore {
        &self.keystore
    }

    /// The contract store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The chain.
    pub fn chain(&self) -> &dyn ChainBackend {
        self.chain.backend()
    }

    /// The embedded chain, when the session runs on it.
    pub fn embedded(&self) -> Option<&EmbeddedChain> {
        match &self.chain {
            Chain::Embedded(c) => Some(c.as_ref()),
            Chain::Remote(_) => None,
        }
    }

    /// The session's options.
    pub fn options(&self) -> &SessionOptions {
        &self.options
    }

    /// The wallet's address.
    pub fn wallet_address(&self) -> Address {
        self.wallet.address(self.options.network)
    }

    /// Replaces `@NAME` references in an argument value by the keys' public keys (hex), also
    /// inside comma-separated arrays (`@bob,@carol`).
    pub fn resolve_value(&self, value: &str) -> Result<String, SessionError> {
        if !value.contains('@') {
            return Ok(value.to_string());
        }
        let mut parts = Vec::new();
        for part in value.split(',') {
            let part = part.trim();
            if part.starts_with('@') {
                parts.push(self.keystore.resolve(part)?.to_string());
            } else {
                parts.push(part.to_string());
            }
        }
        Ok(parts.join(","))
    }

    fn resolve_args(
        &self,
        args: &[(String, String)],
    ) -> Result<Vec<(String, String)>, SessionError> {
        args.iter()
            .map(|(n, v)| Ok((n.clone(), self.resolve_value(v)?)))
            .collect()
    }

    /// Mines `count` blocks to the wallet (the first `advance` seconds later than it would be),
    /// then records what they confirmed. Only chains that mine.
    pub fn mine(&mut self, count: u32, advance: Option<u32>) -> Result<Tip, SessionError> {
        self.writable("mine")?;
        let spk = self.wallet.script_pubkey().to_owned();
        let hashes = self.chain.backend_mut().mine(count, &spk, advance)?;
        let tip = self.chain.backend().tip()?;
        self.store.record_event(
            None,
            event_kind::MINED,
            &serde_json::json!({
                "blocks": hashes.len(),
                "height": tip.height,
                "tip": tip.hash.to_string(),
                "median_time_past": tip.median_time_past,
                "advance": advance,
            }),
            now(),
        )?;
        self.reconcile()?;
        Ok(tip)
    }

    /// Brings the store in line with the chain: records confirmations of pending transactions,
    /// broadcasts again what the chain does not know, gives up on what it refuses, and records
    /// the spends of deployed instances that were made elsewhere.
    pub fn reconcile(&mut self) -> Result<(), SessionError> {
        self.writable("reconcile the store with the chain")?;
        for pending in self.store.pending()? {
            let status = self.chain.backend().tx_status(&pending.txid)?;
            match status {
                TxStatus::Confirmed { height, .. } => self.record_confirmation(
                    &pending.instance,
                    pending.status,
                    &pending.txid,
                    height,
                )?,
                TxStatus::Mempool => {
                    if pending.tx_status == crate::state::TransactionStatus::Recorded {
                        self.store.mark_broadcast(&pending.txid, now())?;
                    }
                }
                TxStatus::Unknown => {
                    // A version this one replaced may have been mined instead.
                    if let Some((txid, height)) = self.confirmed_earlier_version(&pending)? {
                        self.record_confirmation(&pending.instance, pending.status, &txid, height)?;
                        continue;
                    }
                    let tx: Transaction = bitcoin::consensus::encode::deserialize_hex(
                        &pending.raw_hex,
                    )
                    .map_err(|e| {
                        SessionError::Usage(format!(
                            "stored transaction {} does not decode: {e}",
                            pending.txid
                        ))
                    })?;
                    match self.chain.backend_mut().broadcast(&tx) {
                        Ok(_) => self.store.mark_broadcast(&pending.txid, now())?,
                        Err(ChainError::Rejected { reason, .. }) => {
                            let reason =
                                format!("the chain refused the recorded transaction: {reason}");
                            if pending.status == InstanceStatus::Funding {
                                self.store.mark_failed(&pending.instance, &reason, now())?;
                            } else {
                                self.store
                                    .abandon_spend(&pending.instance, &reason, now())?;
                            }
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        self.record_found_watches()?;
        self.record_outside_spends()
    }

    /// Records, like its own spends, the spends of `deployed` instances that this store did not
    /// make: a transaction broadcast through `biscol node`, from another wallet or by another
    /// party. The path and the preimages revealed are read from the witness
    /// ([`Contract::read_spend`]); the fee from the
    /// inputs' previous outputs. A spend whose inputs the chain cannot show (a Bitcoin Core
    /// node without `-txindex`) is reported as progress and looked at again next time.
    fn record_outside_spends(&mut self) -> Result<(), SessionError> {
        // Every command comes here: only the coins are read, a record only for a spend found.
        for (id, outpoint, created_at) in self.store.deployed_coins()? {
            let Some(spending) = self.chain.backend().spending_tx(&outpoint, created_at)? else {
                continue;
            };
            let record = self.instance(&id)?;
            let txid = spending.tx.compute_txid();
            // The backend names the input; it is checked, not trusted.
            let Some(input) = spending
                .tx
                .input
                .get(spending.input)
                .filter(|i| i.previous_output == outpoint)
            else {
                return Err(ChainError::Corrupt {
                    detail: format!(
                        "the chain says input {} of {txid} spends {outpoint}, and it does not",
                        spending.input
                    ),
                }
                .into());
            };
            let Some(fee) = self.fee_paid(&spending.tx, Some((outpoint, record.amount)))? else {
                (self.progress)(&format!(
                    "{id} was spent by {txid}, whose inputs the chain does not show (does the node \
                     run with -txindex?); it is recorded once they can be read"
                ));
                continue;
            };
            let read = self.read_spend(&record, &input.witness);
            let revealing: String = read
                .revealed
                .iter()
                .map(|(name, value)| format!(", revealing {name} {value}"))
                .collect();
            (self.progress)(&format!(
                "{id} was spent through `{}` by {txid}, a transaction this store did not \
                 make{revealing}",
                read.path
            ));
            let time = now();
            let mut batch = self.store.batch()?;
            batch.record_spend(&NewSpend {
                instance: &id,
                path: &read.path,
                args: &read.revealed,
                tx: &spending.tx,
                fee,
                vsize: spending.tx.vsize() as u64,
                time,
            })?;
            batch.mark_broadcast(&txid, time)?;
            if let TxStatus::Confirmed { height, .. } = spending.status {
                batch.confirm_spend(&id, &txid, height, time)?;
            }
            batch.commit()?;
        }
        Ok(())
    }

    /// The fee `tx` pays: its inputs' values (`known`'s coin at its amount, the others read
    /// from the chain) minus its outputs'. `None` when the chain does not have an input's
    /// transaction.
    fn fee_paid(
        &self,
        tx: &Transaction,
        known: Option<(OutPoint, Amount)>,
    ) -> Result<Option<Amount>, SessionError> {
        let mut inputs = Amount::ZERO;
        for input in &tx.input {
            let prev = input.previous_output;
            let value = if let Some((_, amount)) = known.filter(|(coin, _)| *coin == prev) {
                amount
            } else {
                let Some(parent) = self.chain.backend().transaction(&prev.txid)? else {
                    return Ok(None);
                };
                let Some(out) = parent.output.get(prev.vout as usize) else {
                    return Err(ChainError::Corrupt {
                        detail: format!(
                            "{} spends {prev}, an output that does not exist",
                            tx.compute_txid()
                        ),
                    }
                    .into());
                };
                out.value
            };
            inputs = inputs
                .checked_add(value)
                .ok_or_else(|| ChainError::Corrupt {
                    detail: format!(
                        "the inputs of {} add up beyond 21 million bitcoin",
                        tx.compute_txid()
                    ),
                })?;
        }
        let outputs = tx
            .output
            .iter()
            .try_fold(Amount::ZERO, |sum, o| sum.checked_add(o.value));
        match outputs.and_then(|out| inputs.checked_sub(out)) {
            Some(fee) => Ok(Some(fee)),
            None => Err(ChainError::Corrupt {
                detail: format!("{} pays out more than its inputs hold", tx.compute_txid()),
            }
            .into()),
        }
    }

    /// What `witness` did to `record`'s coin: the path and the preimages it revealed, or the
    /// path `unknown` when the stored artifact cannot name it. Only a record of what the chain
    /// shows: nothing is signed or funded on it, so the artifact is instantiated again without
    /// being recompiled.
    fn read_spend(&self, record: &InstanceRecord, witness: &bitcoin::Witness) -> spend::ReadSpend {
        self.store
            .artifact(&record.artifact_id)
            .ok()
            .flatten()
            .and_then(|json| Artifact::from_json(&json).ok())
            .and_then(|artifact| Contract::instantiate(artifact, &record.args, record.network).ok())
            .filter(|c| c.instance.script_pubkey == record.script_pubkey)
            .and_then(|c| c.read_spend(witness))
            .unwrap_or_else(|| spend::ReadSpend {
                path: "unknown".into(),
                revealed: Vec::new(),
            })
    }

    /// A confirmed transaction of `pending`'s instance that the pending one replaced (by a
    /// bump), with its height.
    fn confirmed_earlier_version(
        &self,
        pending: &crate::state::Pending,
    ) -> Result<Option<(Txid, u32)>, SessionError> {
        let Some(record) = self.store.instance(&pending.instance)? else {
            return Ok(None);
        };
        let purpose = if pending.status == InstanceStatus::Funding {
            TxKind::Fund
        } else {
            TxKind::Spend
        };
        for tx in record.transactions.iter().filter(|t| t.purpose == purpose) {
            if tx.txid == pending.txid {
                continue;
            }
            if let TxStatus::Confirmed { height, .. } = self.chain.backend().tx_status(&tx.txid)? {
                return Ok(Some((tx.txid, height)));
            }
        }
        Ok(None)
    }

    fn record_confirmation(
        &mut self,
        instance: &str,
        status: InstanceStatus,
        txid: &Txid,
        height: u32,
    ) -> Result<(), SessionError> {
        match status {
            InstanceStatus::Funding => self.store.confirm_funding(instance, txid, height, now())?,
            InstanceStatus::Spending => self.store.confirm_spend(instance, txid, height, now())?,
            _ => {}
        }
        Ok(())
    }

    /// Waits for `txid` to confirm: on regtest by mining a block to the wallet (the embedded
    /// chain, or a remote regtest node that mines on request), elsewhere by polling. Returns
    /// the height of its block.
    fn confirm(&mut self, txid: &Txid) -> Result<u32, SessionError> {
        if self.options.network == Network::Regtest {
            match self.mine(1, None) {
                Ok(_) | Err(SessionError::Chain(ChainError::Unsupported { .. })) => {}
                Err(e) => return Err(e),
            }
        }
        let start = Instant::now();
        loop {
            match self.chain.backend().tx_status(txid)? {
                TxStatus::Confirmed { height, .. } => {
                    self.reconcile()?;
                    return Ok(height);
                }
                status => {
                    if matches!(self.chain, Chain::Embedded(_)) {
                        return Err(SessionError::Usage(format!(
                            "transaction {txid} is {status:?} after mining a block"
                        )));
                    }
                    if start.elapsed() > self.options.confirmation_timeout {
                        return Err(SessionError::Timeout { txid: *txid });
                    }
                    (self.progress)(&format!(
                        "waiting for {txid} to confirm ({}s so far)",
                        start.elapsed().as_secs()
                    ));
                    std::thread::sleep(self.options.poll_interval);
                }
            }
        }
    }

    /// Makes the wallet able to pay `needed` on the embedded chain, mining only the blocks
    /// that takes ([`Session::funding_blocks`]); on other chains the wallet pays with what it
    /// has. Mines nothing and fails when even [`MAX_FUNDING_BLOCKS`] would not be enough.
    fn ensure_funds(&mut self, needed: Amount) -> Result<(), SessionError> {
        if !matches!(self.chain, Chain::Embedded(_)) {
            return Ok(());
        }
        let plan = self.funding_blocks(needed)?;
        let Some(blocks) = plan.blocks.filter(|&b| b <= MAX_FUNDING_BLOCKS) else {
            let hint = match plan.blocks {
                Some(b) => format!(
                    "`biscol mine {b}` first would give it enough, or lock a smaller amount"
                ),
                None => format!(
                    "this regtest chain never pays out that much (its block subsidy halves every \
                     {} blocks); lock a smaller amount",
                    crate::chain::embedded::rules::SUBSIDY_HALVING_INTERVAL
                ),
            };
            return Err(SessionError::Usage(format!(
                "the wallet cannot pay {needed} (the amount and room for the fee): it can spend \
                 {} now and {} after mining {MAX_FUNDING_BLOCKS} blocks, the most a deploy mines; \
                 {hint}. Nothing was mined or recorded",
                plan.now, plan.after_max
            )));
        };
        if blocks > 0 {
            (self.progress)(&format!(
                "mining {blocks} block(s) to the wallet (it can spend {}; the deploy needs {needed})",
                plan.now
            ));
            self.mine(blocks, None)?;
        }
        Ok(())
    }

    /// How many blocks mined to the wallet on the embedded chain make it hold `needed` in
    /// spendable coins: its coins now (mempool ones count once a block confirms them), the
    /// coinbases that mature meanwhile, and the subsidy of the new blocks that mature in time.
    /// Fees the new blocks collect are not counted, so the count is never too small.
    fn funding_blocks(&self, needed: Amount) -> Result<FundingPlan, SessionError> {
        use crate::chain::embedded::rules::{subsidy, COINBASE_MATURITY, SUBSIDY_HALVING_INTERVAL};
        let chain = self.chain.backend();
        let tip = chain.tip()?.height;
        let coins = self.wallet.utxos(chain)?;
        // Spendable after `n` more blocks (the next block then has height tip + n + 1).
        let spendable_after = |n: u32| -> u64 {
            let next = u64::from(tip) + u64::from(n) + 1;
            let mature = |height: u32| next - u64::from(height) >= u64::from(COINBASE_MATURITY);
            let held: u64 = coins
                .iter()
                .filter(|u| match u.height {
                    None => n > 0,
                    Some(h) => !u.is_coinbase || mature(h),
                })
                .map(|u| u.txout.value.to_sat())
                .sum();
            let mined: u64 = (1..=n)
                .map(|i| tip.saturating_add(i))
                .filter(|&h| mature(h))
                .map(subsidy)
                .sum();
            held.saturating_add(mined)
        };
        let now = self.wallet.balance(chain)?.confirmed;
        let after_max = Amount::from_sat(spendable_after(MAX_FUNDING_BLOCKS));
        if now >= needed {
            return Ok(FundingPlan {
                blocks: Some(0),
                now,
                after_max,
            });
        }
        // After 64 halvings the subsidy is zero: nothing more can come from mining.
        let last_useful = (64 * SUBSIDY_HALVING_INTERVAL + COINBASE_MATURITY)
            .saturating_sub(tip)
            .max(1);
        let enough = |n: u32| spendable_after(n) >= needed.to_sat();
        let blocks = if enough(last_useful) {
            // The smallest enough count: what is spendable never falls as blocks are added.
            let (mut low, mut high) = (1u32, last_useful);
            while low < high {
                let mid = low + (high - low) / 2;
                if enough(mid) {
                    high = mid;
                } else {
                    low = mid + 1;
                }
            }
            Some(low)
        } else {
            None
        };
        Ok(FundingPlan {
            blocks,
            now,
            after_max,
        })
    }

    /// Instantiates `artifact_json` with `args` (`@NAME` allowed), pays `amount` to its
    /// address, records the instance and, when `wait`, waits for one confirmation.
    ///
    /// Everything that can be checked without the chain is checked before anything changes:
    /// the artifact and its arguments, the amount (above the dust threshold of the contract's
    /// script, at most 21,000,000 BTC) and whether the wallet can pay it (with the blocks it
    /// would mine on the embedded chain, at most [`MAX_FUNDING_BLOCKS`]). A refused deployment
    /// mines, records and broadcasts nothing.
    pub fn deploy(
        &mut self,
        artifact_json: &str,
        args: &[(String, String)],
        amount: Amount,
        fee_rate: Option<FeeRate>,
        wait: bool,
    ) -> Result<Deployment, SessionError> {
        self.writable("deploy")?;
        let (contract, ordered_args) = self.derive(artifact_json, args)?;
        let instance = &contract.instance;
        let spk = instance.script_pubkey.clone();
        let descriptor = instance.descriptor.to_string();
        let address = instance.address.to_string();
        let fee_rate = fee_rate.unwrap_or(self.options.fee_rate);
        if amount > biscol_artifact::units::MAX_MONEY {
            return Err(SessionError::Usage(format!(
                "{amount} is more than there will ever be: an amount is at most {}",
                biscol_artifact::units::MAX_MONEY
            )));
        }
        let dust = spk.minimal_non_dust();
        if amount < dust {
            return Err(WalletError::AmountBelowDust {
                amount: amount.to_sat(),
                threshold: dust.to_sat(),
            }
            .into());
        }
        let needed = amount.checked_add(fee_reserve(fee_rate)).ok_or_else(|| {
            SessionError::Usage(format!(
                "{amount} and its fee are more than there will ever be"
            ))
        })?;
        self.ensure_funds(needed)?;
        let funding = self
            .wallet
            .prepare_fund(self.chain.backend(), &spk, amount, fee_rate)?;
        let artifact_id = self
            .store
            .record_artifact(artifact_json, &contract.artifact.contract)?;
        let id = self.store.record_funding(&NewInstance {
            artifact_id: &artifact_id,
            contract: &contract.artifact.contract,
            network: self.options.network,
            args: &ordered_args,
            descriptor: &descriptor,
            address: &address,
            script_pubkey: &spk,
            amount,
            funding_tx: &funding.tx,
            vout: funding.outpoint.vout,
            fee: funding.fee,
            watch: None,
            time: now(),
        })?;
        if let Err(e) = self.chain.backend_mut().broadcast(&funding.tx) {
            self.store
                .mark_failed(&id, &format!("broadcast failed: {e}"), now())?;
            return Err(e.into());
        }
        self.store.mark_broadcast(&funding.txid, now())?;
        let height = if wait {
            Some(self.confirm(&funding.txid)?)
        } else {
            None
        };
        let commits_to = Commitments::of(
            &contract.instance,
            &contract.artifact.taproot.key_path,
            &ordered_args,
        );
        Ok(Deployment {
            commits_to,
            instance: id,
            txid: funding.txid,
            vout: funding.outpoint.vout,
            address,
            descriptor,
            amount,
            fee: funding.fee,
            height,
        })
    }

    /// The verified artifact instantiated with `args` (`@NAME` resolved), and the arguments in
    /// parameter order, as the store records them.
    fn derive(
        &self,
        artifact_json: &str,
        args: &[(String, String)],
    ) -> Result<(Contract, Vec<(String, String)>), SessionError> {
        let artifact = Artifact::from_json(artifact_json)?;
        self.verify(&artifact)?;
        let args = self.resolve_args(args)?;
        let contract = Contract::instantiate(artifact, &args, self.options.network)?;
        let ordered: Vec<(String, String)> = contract
            .artifact
            .abi
            .params
            .iter()
            .filter_map(|p| {
                contract
                    .args
                    .get(&p.name)
                    .map(|v| (p.name.clone(), v.clone()))
            })
            .collect();
        Ok((contract, ordered))
    }

    /// Registers an instance that someone else funds or funded: derived from the (verified)
    /// artifact and `args` (`@NAME` for one's own keys), found on the chain at `outpoint` or,
    /// without one, as the first unspent output paying its address, and followed from then on
    /// like a deployed one (its spends, by anyone, are recorded by [`Session::reconcile`]).
    /// When nothing pays the address yet, it is recorded as a watch, with its instance id
    /// reserved, and every reconciliation looks for the payment.
    ///
    /// Refused, recording nothing, when `outpoint` does not pay the address, when the output
    /// is already an instance of this store or the address already watched, or when the chain
    /// cannot show the funding transaction's inputs (its fee is recorded like a deployment's).
    pub fn watch(
        &mut self,
        artifact_json: &str,
        args: &[(String, String)],
        outpoint: Option<OutPoint>,
    ) -> Result<WatchOutcome, SessionError> {
        self.writable("watch")?;
        let (contract, args) = self.derive(artifact_json, args)?;
        let target = WatchTarget::of(&contract, args);
        let Some(funding) = self.funding_of(&target, outpoint)? else {
            return self.record_watch(artifact_json, &contract, &target);
        };
        let Some(fee) = self.fee_paid(&funding.tx, None)? else {
            return Err(SessionError::Usage(format!(
                "the chain does not show the inputs of {} (does the node run with -txindex?)",
                funding.outpoint.txid
            )));
        };
        let artifact_id = self
            .store
            .record_artifact(artifact_json, &target.contract)?;
        let (id, height) = self.record_found(&artifact_id, &target, &funding, fee, None)?;
        // It may have been spent already: the spend is recorded now.
        self.reconcile()?;
        Ok(WatchOutcome::Funded(Deployment {
            commits_to: target.commitments(&contract),
            instance: id,
            txid: funding.outpoint.txid,
            vout: funding.outpoint.vout,
            address: target.address,
            descriptor: target.descriptor,
            amount: funding.amount,
            fee,
            height,
        }))
    }

    /// Derives an instance and watches its address without paying it: the address is funded
    /// from any wallet, and every reconciliation looks for the payment (`deploy --no-fund`).
    pub fn deploy_unfunded(
        &mut self,
        artifact_json: &str,
        args: &[(String, String)],
    ) -> Result<WatchOutcome, SessionError> {
        self.writable("deploy")?;
        let (contract, args) = self.derive(artifact_json, args)?;
        let target = WatchTarget::of(&contract, args);
        self.record_watch(artifact_json, &contract, &target)
    }

    fn record_watch(
        &mut self,
        artifact_json: &str,
        contract: &Contract,
        target: &WatchTarget,
    ) -> Result<WatchOutcome, SessionError> {
        let artifact_id = self
            .store
            .record_artifact(artifact_json, &target.contract)?;
        let id = self.store.record_watch(&NewWatch {
            artifact_id: &artifact_id,
            contract: &target.contract,
            network: self.options.network,
            args: &target.args,
            descriptor: &target.descriptor,
            address: &target.address,
            script_pubkey: &target.script_pubkey,
            time: now(),
        })?;
        Ok(WatchOutcome::Watching(Watching {
            instance: id,
            address: target.address.clone(),
            descriptor: target.descriptor.clone(),
            commits_to: target.commitments(contract),
        }))
    }

    /// The output that funds `target`: `outpoint`, checked, or the first unspent output paying
    /// its script; `None` when nothing pays it (and no outpoint was given).
    fn funding_of(
        &self,
        target: &WatchTarget,
        outpoint: Option<OutPoint>,
    ) -> Result<Option<FoundFunding>, SessionError> {
        let address = &target.address;
        let outpoint = match outpoint {
            Some(op) => op,
            None => match self.chain.backend().utxos(&target.script_pubkey)?.first() {
                Some(u) => u.outpoint,
                None => return Ok(None),
            },
        };
        let txid = outpoint.txid;
        let tx = self.chain.backend().transaction(&txid)?.ok_or_else(|| {
            SessionError::Usage(format!("the chain does not know transaction {txid}"))
        })?;
        let Some(output) = tx.output.get(outpoint.vout as usize) else {
            return Err(SessionError::Usage(format!(
                "transaction {txid} has {} outputs, so no output {}",
                tx.output.len(),
                outpoint.vout
            )));
        };
        if output.script_pubkey != target.script_pubkey {
            return Err(SessionError::Usage(format!(
                "{outpoint} does not pay the contract's address {address}"
            )));
        }
        if let Some(known) = self.store.transaction(&txid)? {
            return Err(SessionError::Usage(format!(
                "transaction {txid} is already recorded, for instance {}",
                known.instance
            )));
        }
        let status = self.chain.backend().tx_status(&txid)?;
        if status == TxStatus::Unknown {
            return Err(SessionError::Usage(format!(
                "transaction {txid} is neither in the mempool nor on the best chain"
            )));
        }
        Ok(Some(FoundFunding {
            outpoint,
            amount: output.value,
            tx,
            status,
        }))
    }

    /// Records `funding` as the instance of `target` (taking the id of `watch` when it is
    /// one), with a [`event_kind::WATCHED`] event, broadcast and, when mined, confirmed.
    /// Returns the id and the confirmation height.
    fn record_found(
        &mut self,
        artifact_id: &str,
        target: &WatchTarget,
        funding: &FoundFunding,
        fee: Amount,
        watch: Option<&str>,
    ) -> Result<(String, Option<u32>), SessionError> {
        let txid = funding.outpoint.txid;
        let time = now();
        let mut batch = self.store.batch()?;
        let id = batch.record_funding(&NewInstance {
            artifact_id,
            contract: &target.contract,
            network: self.options.network,
            args: &target.args,
            descriptor: &target.descriptor,
            address: &target.address,
            script_pubkey: &target.script_pubkey,
            amount: funding.amount,
            funding_tx: &funding.tx,
            vout: funding.outpoint.vout,
            fee,
            watch,
            time,
        })?;
        batch.record_event(
            Some(&id),
            event_kind::WATCHED,
            &serde_json::json!({ "txid": txid, "vout": funding.outpoint.vout }),
            time,
        )?;
        batch.mark_broadcast(&txid, time)?;
        let height = match funding.status {
            TxStatus::Confirmed { height, .. } => {
                batch.confirm_funding(&id, &txid, height, time)?;
                Some(height)
            }
            _ => None,
        };
        batch.commit()?;
        Ok((id, height))
    }

    /// Records the watches that something now pays (see [`Session::watch`]).
    fn record_found_watches(&mut self) -> Result<(), SessionError> {
        for watch in self.store.watches()? {
            let target = WatchTarget {
                contract: watch.contract.clone(),
                args: watch.args.clone(),
                descriptor: watch.descriptor.clone(),
                address: watch.address.clone(),
                script_pubkey: watch.script_pubkey.clone(),
            };
            let funding = match self.funding_of(&target, None) {
                Ok(Some(f)) => f,
                Ok(None) => continue,
                // The payment is already recorded (it funds another instance of this store).
                Err(SessionError::Usage(why)) => {
                    (self.progress)(&format!("{}: {why}", watch.id));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(fee) = self.fee_paid(&funding.tx, None)? else {
                (self.progress)(&format!(
                    "{} is paid by {}, whose inputs the chain does not show (does the node run \
                     with -txindex?); it is recorded once they can be read",
                    watch.id, funding.outpoint
                ));
                continue;
            };
            (self.progress)(&format!(
                "{} is funded: {} pays {} to {}",
                watch.id, funding.outpoint, funding.amount, watch.address
            ));
            self.record_found(&watch.artifact_id, &target, &funding, fee, Some(&watch.id))?;
        }
        Ok(())
    }

    /// The instance `id`, or [`SessionError::UnknownInstance`].
    pub fn instance(&self, id: &str) -> Result<InstanceRecord, SessionError> {
        match self.store.instance(id)? {
            Some(r) => Ok(r),
            None => {
                let known: Vec<String> = self
                    .store
                    .instances()?
                    .into_iter()
                    .rev()
                    .take(5)
                    .map(|s| s.id)
                    .collect();
                Err(SessionError::UnknownInstance {
                    id: id.to_string(),
                    known,
                })
            }
        }
    }

    /// The contract of a recorded instance, instantiated again from its stored artifact (and
    /// checked against the stored address).
    pub fn contract(&self, record: &InstanceRecord) -> Result<Contract, SessionError> {
        let json = self.store.artifact(&record.artifact_id)?.ok_or_else(|| {
            SessionError::Usage(format!(
                "the artifact of {} is missing from the store",
                record.id
            ))
        })?;
        let artifact = Artifact::from_json(&json)?;
        self.verify(&artifact)?;
        let contract = Contract::instantiate(artifact, &record.args, record.network)?;
        if contract.instance.address.to_string() != record.address {
            return Err(SessionError::Usage(format!(
                "{}: the stored artifact gives address {}, the store says {}",
                record.id, contract.instance.address, record.address
            )));
        }
        Ok(contract)
    }

    /// What deploying `artifact_json` with `args` would commit to, for a funder to read before
    /// anything is funded: the artifact verified, `@NAME`s resolved, the instance derived.
    /// Changes nothing.
    pub fn preview(
        &self,
        artifact_json: &str,
        args: &[(String, String)],
    ) -> Result<Commitments, SessionError> {
        let (contract, args) = self.derive(artifact_json, args)?;
        Ok(WatchTarget::of(&contract, args).commitments(&contract))
    }

    /// Runs the session's [`ArtifactVerifier`], if it has one.
    fn verify(&self, artifact: &Artifact) -> Result<(), SessionError> {
        match &self.options.verifier {
            Some(verifier) => verifier.verify(artifact).map_err(SessionError::Unverified),
            None => Ok(()),
        }
    }

    fn destination(&self, to: &Destination) -> Result<ScriptBuf, SessionError> {
        match to {
            Destination::Wallet => Ok(self.wallet.script_pubkey().to_owned()),
            Destination::Key(name) => Ok(Wallet::new(&self.keystore, name)?
                .script_pubkey()
                .to_owned()),
            Destination::Address(text) => {
                let address: Address<bitcoin::address::NetworkUnchecked> =
                    text.parse().map_err(|e| {
                        SessionError::Usage(format!(
                            "{} is not an address: {e}",
                            biscol_artifact::redact::quoted(text)
                        ))
                    })?;
                let address = address.require_network(self.options.network).map_err(|_| {
                    SessionError::Usage(format!(
                        "{} is not an address for {}",
                        biscol_artifact::redact::quoted(text),
                        self.options.network
                    ))
                })?;
                Ok(address.script_pubkey())
            }
        }
    }

    /// The coin of an instance and the chain state a spend is checked against. With
    /// `unspent`, the coin must be in the chain's unspent set (a spend); without, it may be
    /// spent by a mempool transaction (a bump of that spend).
    fn coin(
        &self,
        record: &InstanceRecord,
        unspent: bool,
    ) -> Result<(Coin, ChainState), SessionError> {
        let chain = self.chain.backend();
        let outpoint = OutPoint {
            txid: record.funding_txid,
            vout: record.funding_vout,
        };
        let missing = || {
            SessionError::Usage(format!(
                "{}: the chain has no {}output {outpoint}",
                record.id,
                if unspent { "unspent " } else { "" }
            ))
        };
        let (txout, height) = if unspent {
            let utxo = chain
                .utxos(&record.script_pubkey)?
                .into_iter()
                .find(|u| u.outpoint == outpoint)
                .ok_or_else(missing)?;
            (utxo.txout, utxo.height)
        } else {
            let txout = chain
                .transaction(&outpoint.txid)?
                .and_then(|tx| tx.output.get(outpoint.vout as usize).cloned())
                .ok_or_else(missing)?;
            let height = match chain.tx_status(&outpoint.txid)? {
                TxStatus::Confirmed { height, .. } => Some(height),
                _ => None,
            };
            (txout, height)
        };
        let mtp_before = match height {
            Some(h) if h > 0 => Some(chain.median_time_past_at(h - 1)?),
            _ => None,
        };
        let tip = chain.tip()?;
        Ok((
            Coin {
                outpoint,
                txout,
                height,
                mtp_before,
            },
            ChainState {
                height: tip.height,
                median_time_past: tip.median_time_past,
            },
        ))
    }

    /// Spends instance `id` through `path` (`key` for the key path) with the path arguments
    /// `args`: plans, signs and verifies the transaction; unless `options.dry_run`, records
    /// and broadcasts it and, when `options.wait`, waits for one confirmation. A refused spend
    /// broadcasts nothing.
    pub fn spend(
        &mut self,
        id: &str,
        path: &str,
        args: &[(String, String)],
        options: &SpendOptions,
    ) -> Result<SpendOutcome, SessionError> {
        let SpendOptions {
            to,
            fee_rate,
            dry_run,
            wait,
        } = options;
        let (fee_rate, dry_run, wait) = (*fee_rate, *dry_run, *wait);
        if !dry_run {
            self.writable("spend")?;
        }
        let record = self.spendable(id)?;
        let contract = self.contract(&record)?;
        if path == "key"
            && !self.options.musig2
            && matches!(contract.instance.key_path, KeyPath::MuSig(_))
        {
            return Err(SessionError::Usage(
                "[features] musig2 = false: this session does not sign MuSig2 key paths".into(),
            ));
        }
        let (coin, chain_state) = self.coin(&record, true)?;
        let request = SpendRequest {
            path: path.to_string(),
            args: args.to_vec(),
            destination: self.destination(to)?,
            fee_rate: fee_rate.unwrap_or(self.options.fee_rate),
        };
        let prepared =
            match spend::prepare(&contract, &coin, &chain_state, &self.keystore, &request) {
                Ok(p) => p,
                Err(e) => {
                    if let (SpendError::Refused(refusals), true) = (&e, self.options.audit_logging)
                    {
                        let reasons: Vec<String> = refusals.iter().map(|r| r.to_string()).collect();
                        self.store.record_refusal(id, path, &reasons, now())?;
                    }
                    return Err(SessionError::Spend(e));
                }
            };
        let txid = prepared.tx.compute_txid();
        if dry_run {
            return Ok(SpendOutcome {
                instance: id.into(),
                prepared,
                txid,
                broadcast: false,
                height: None,
            });
        }
        let height = self.record_and_broadcast(
            id,
            path,
            args,
            &prepared.tx,
            prepared.fee,
            prepared.vsize,
            wait,
        )?;
        Ok(SpendOutcome {
            instance: id.into(),
            prepared,
            txid,
            broadcast: true,
            height,
        })
    }

    /// The record of instance `id`, refused unless it is `deployed` (spendable now).
    fn spendable(&self, id: &str) -> Result<InstanceRecord, SessionError> {
        let record = self.instance(id)?;
        match record.status {
            InstanceStatus::Deployed => {}
            InstanceStatus::Funding => {
                return Err(SessionError::NotSpendable {
                    id: id.into(),
                    detail: format!(
                        "its funding transaction {} has not confirmed yet",
                        record.funding_txid
                    ),
                })
            }
            InstanceStatus::Spending | InstanceStatus::Spent => {
                let txid = record.spend_txid.map(|t| t.to_string()).unwrap_or_default();
                let detail = if record.status == InstanceStatus::Spent {
                    format!("it was spent by {txid}")
                } else {
                    format!("spend {txid} is waiting to confirm (`biscol bump` or `biscol mine`)")
                };
                return Err(SessionError::NotSpendable {
                    id: id.into(),
                    detail,
                });
            }
            InstanceStatus::Failed => {
                return Err(SessionError::NotSpendable {
                    id: id.into(),
                    detail: "its funding transaction never made it to the chain".into(),
                })
            }
        }
        Ok(record)
    }

    /// `spend --psbt`: a PSBT (BIP174 v0, BIP371 fields) of a spend of `id` through script path
    /// `path`, signed with the keystore's keys that the path's leaf uses, for the other parties
    /// to sign ([`Session::sign_psbt`]) and anyone to finish ([`Session::finalize_psbt`]).
    /// Records and broadcasts nothing. Returns the PSBT and the key names that signed.
    pub fn spend_psbt(
        &self,
        id: &str,
        path: &str,
        args: &[(String, String)],
        to: &Destination,
        fee_rate: Option<FeeRate>,
    ) -> Result<(Psbt, Vec<String>), SessionError> {
        let record = self.spendable(id)?;
        let contract = self.contract(&record)?;
        let (coin, chain_state) = self.coin(&record, true)?;
        let request = SpendRequest {
            path: path.to_string(),
            args: args.to_vec(),
            destination: self.destination(to)?,
            fee_rate: fee_rate.unwrap_or(self.options.fee_rate),
        };
        let psbt = spend::psbt::create(&contract, &coin, &chain_state, &self.keystore, &request)?;
        let signed = psbt.inputs[0]
            .tap_script_sigs
            .keys()
            .filter_map(|(k, _)| self.keystore.find_x_only(k).ok().flatten())
            .map(|info| info.name)
            .collect();
        Ok((psbt, signed))
    }

    /// The instance of this store that `psbt` spends (its input's outpoint is the instance's
    /// funding output), with its contract and coin and the chain's state.
    fn psbt_instance(
        &self,
        psbt: &Psbt,
    ) -> Result<(InstanceRecord, Contract, Coin, ChainState), SessionError> {
        let spent = psbt
            .unsigned_tx
            .input
            .first()
            .map(|i| i.previous_output)
            .ok_or_else(|| SessionError::Usage("the PSBT's transaction has no input".into()))?;
        let unknown = || {
            SessionError::Usage(format!(
                "the PSBT spends {spent}, which is no instance of this store (deploy or watch it \
                 first)"
            ))
        };
        let funding = self.store.transaction(&spent.txid)?.ok_or_else(unknown)?;
        let record = self.instance(&funding.instance)?;
        if record.funding_txid != spent.txid || record.funding_vout != spent.vout {
            return Err(unknown());
        }
        let record = self.spendable(&record.id)?;
        let contract = self.contract(&record)?;
        let (coin, chain_state) = self.coin(&record, true)?;
        Ok((record, contract, coin, chain_state))
    }

    /// What `psbt` does, in the contract's words, and the instance it spends.
    pub fn inspect_psbt(&self, psbt: &Psbt) -> Result<(String, PsbtView), SessionError> {
        let (record, contract, coin, chain_state) = self.psbt_instance(psbt)?;
        let view = spend::psbt::inspect(&contract, psbt, &chain_state, &coin)?;
        Ok((record.id, view))
    }

    /// Signs `psbt` with the keystore's keys that its leaf uses, for an instance of this store
    /// only; refused when it pays more than `max_fee_rate`. Returns the key names that signed.
    pub fn sign_psbt(
        &self,
        psbt: &mut Psbt,
        max_fee_rate: FeeRate,
    ) -> Result<Vec<String>, SessionError> {
        let (_, contract, coin, chain_state) = self.psbt_instance(psbt)?;
        // Checked in full (signatures included) before anything is signed.
        spend::psbt::inspect(&contract, psbt, &chain_state, &coin)?;
        Ok(spend::psbt::sign(
            &contract,
            psbt,
            &self.keystore,
            Some(max_fee_rate),
        )?)
    }

    /// Finishes `psbt` (the path's leaf satisfied with its signatures and preimages, verified
    /// with the script engine) and, when `broadcast`, records and broadcasts it as a spend of
    /// its instance, waiting for a confirmation when `wait`. Refused, in the contract's words,
    /// when a signature or a preimage is missing.
    pub fn finalize_psbt(
        &mut self,
        psbt: &Psbt,
        max_fee_rate: FeeRate,
        broadcast: bool,
        wait: bool,
    ) -> Result<FinalizedSpend, SessionError> {
        if broadcast {
            self.writable("broadcast a spend")?;
        }
        let (record, contract, coin, chain_state) = self.psbt_instance(psbt)?;
        let finalized =
            spend::psbt::finalize(&contract, psbt, &chain_state, &coin, Some(max_fee_rate))?;
        let txid = finalized.tx.compute_txid();
        let height = if broadcast {
            self.record_and_broadcast(
                &record.id,
                &finalized.path,
                &finalized.args,
                &finalized.tx,
                finalized.fee,
                finalized.vsize,
                wait,
            )?
        } else {
            None
        };
        Ok(FinalizedSpend {
            instance: record.id,
            finalized,
            txid,
            broadcast,
            height,
        })
    }

    /// Records a signed spend of `id`, broadcasts it (giving it up when the chain refuses it)
    /// and, when `wait`, waits for its confirmation; returns the height.
    #[allow(clippy::too_many_arguments)]
    fn record_and_broadcast(
        &mut self,
        id: &str,
        path: &str,
        args: &[(String, String)],
        tx: &Transaction,
        fee: Amount,
        vsize: u64,
        wait: bool,
    ) -> Result<Option<u32>, SessionError> {
        let txid = tx.compute_txid();
        self.store.record_spend(&NewSpend {
            instance: id,
            path,
            args,
            tx,
            fee,
            vsize,
            time: now(),
        })?;
        if let Err(e) = self.chain.backend_mut().broadcast(tx) {
            self.store
                .abandon_spend(id, &format!("broadcast failed: {e}"), now())?;
            return Err(e.into());
        }
        self.store.mark_broadcast(&txid, now())?;
        Ok(if wait {
            Some(self.confirm(&txid)?)
        } else {
            None
        })
    }

    /// Replaces a recorded transaction still in the mempool by one paying `fee_rate`: a
    /// funding transaction through the wallet, a contract spend by planning it again.
    pub fn bump(&mut self, txid: &Txid, fee_rate: FeeRate) -> Result<Bump, SessionError> {
        self.writable("bump a fee")?;
        let record = self
            .store
            .transaction(txid)?
            .ok_or_else(|| SessionError::Usage(format!("no recorded transaction {txid}")))?;
        let replacement = match record.purpose {
            TxKind::Spend => {
                let instance = self.instance(&record.instance)?;
                let execution = instance
                    .executions
                    .iter()
                    .rev()
                    .find(|e| e.txid == *txid)
                    .cloned()
                    .ok_or_else(|| {
                        SessionError::Usage(format!(
                            "{txid} is not the current spend of {}",
                            record.instance
                        ))
                    })?;
                let contract = self.contract(&instance)?;
                let old = record.transaction()?;
                let destination = old
                    .output
                    .first()
                    .map(|o| o.script_pubkey.clone())
                    .ok_or_else(|| SessionError::Usage(format!("{txid} has no output")))?;
                let (coin, chain_state) = self.coin(&instance, false)?;
                let request = SpendRequest {
                    path: execution.path.clone(),
                    args: execution.args.clone(),
                    destination,
                    fee_rate,
                };
                let prepared =
                    spend::prepare(&contract, &coin, &chain_state, &self.keystore, &request)
                        .map_err(SessionError::Spend)?;
                (prepared.tx, prepared.fee)
            }
            _ => {
                let f = self
                    .wallet
                    .prepare_bump(self.chain.backend(), *txid, fee_rate)?;
                (f.tx, f.fee)
            }
        };
        let (tx, fee) = replacement;
        let new_txid = self.store.record_bump(txid, &tx, fee, now())?;
        self.chain.backend_mut().broadcast(&tx)?;
        self.store.mark_broadcast(&new_txid, now())?;
        Ok(Bump {
            replaced: *txid,
            txid: new_txid,
            fee,
        })
    }

    /// The chain's tip and the wallet, for `biscol chain info`.
    pub fn chain_info(&self) -> Result<ChainInfo, SessionError> {
        let chain = self.chain.backend();
        let tip = chain.tip()?;
        let balance = self.wallet.balance(chain)?;
        Ok(ChainInfo {
            network: network_name(self.options.network).to_string(),
            backend: match self.chain {
                Chain::Embedded(_) => "embedded",
                Chain::Remote(_) => "remote",
            },
            height: tip.height,
            tip: tip.hash.to_string(),
            time: tip.time,
            median_time_past: tip.median_time_past,
            mempool: self.embedded().map(|c| c.mempool_txids().len()),
            wallet_address: self.wallet_address().to_string(),
            wallet_balance: balance.confirmed,
        })
    }

    /// Takes a checkpoint of the store and, on the embedded chain, of the chain beside it.
    pub fn checkpoint(
        &mut self,
        label: Option<&str>,
    ) -> Result<crate::state::Checkpoint, SessionError> {
        self.writable("take a checkpoint")?;
        let checkpoint = self.store.checkpoint(label, now())?;
        if let Chain::Embedded(chain) = &self.chain {
            let dir = self.store.checkpoint_dir(checkpoint.id)?.join("chain");
            chain.backup_to(&dir)?;
        }
        Ok(checkpoint)
    }

    /// Restores checkpoint `id`: the store and, on the embedded chain, the chain. Consumes the
    /// session, since every handle to the old state must go.
    pub fn restore(mut self, id: u64) -> Result<Session, SessionError> {
        self.writable("restore a checkpoint")?;
        let chain_backup = self.store.checkpoint_dir(id)?.join("chain");
        self.chain = match self.chain {
            Chain::Embedded(c) => {
                if !chain_backup.is_dir() {
                    return Err(SessionError::Usage(format!(
                        "checkpoint {id} holds no copy of the chain"
                    )));
                }
                Chain::Embedded(Box::new(c.restore(&chain_backup)?))
            }
            remote => remote,
        };
        self.store = self.store.restore(id, now())?;
        self.reconcile()?;
        Ok(self)
    }
}

/// Makes the state folder owner-only before anything in it is opened.
fn secure(layout: &StateLayout) -> Result<(), SessionError> {
    layout.secure().map_err(|source| SessionError::Io {
        context: format!(
            "making the state folder {} owner-only",
            layout.root.display()
        ),
        source,
    })
}

/// The name `biscol` prints for a network.
pub fn network_name(network: Network) -> &'static str {
    match network {
        Network::Bitcoin => "mainnet",
        Network::Testnet => "testnet",
        Network::Testnet4 => "testnet4",
        Network::Signet => "signet",
        Network::Regtest => "regtest",
    }
}

/// Why a session operation failed.
#[derive(Debug)]
pub enum SessionError {
    /// The session was opened to read only ([`SessionOptions::read_only`]).
    ReadOnly {
        /// What was asked, as a verb phrase ("mine").
        operation: &'static str,
    },
    /// The chain failed or refused a transaction.
    Chain(ChainError),
    /// The keystore failed (e.g. an unknown `@NAME`).
    Keystore(KeystoreError),
    /// The wallet could not fund or bump.
    Wallet(WalletError),
    /// The store failed.
    State(StateError),
    /// The artifact is unreadable, from a newer format, or its arguments are wrong.
    Artifact(ArtifactError),
    /// The spend engine refused or could not build the spend.
    Spend(SpendError),
    /// No instance has this id.
    UnknownInstance {
        /// The id given.
        id: String,
        /// The most recent instances.
        known: Vec<String>,
    },
    /// The instance cannot be spent now.
    NotSpendable {
        /// The instance.
        id: String,
        /// Why.
        detail: String,
    },
    /// A transaction did not confirm in time.
    Timeout {
        /// The transaction.
        txid: Txid,
    },
    /// A request that cannot be met, said in words.
    Usage(String),
    /// The artifact is not what its source compiles to (the verifier's message).
    Unverified(String),
    /// The state folder is absent, has a part missing, or holds parts of another one.
    Folder(FolderError),
    /// The state folder could not be read or written.
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl SessionError {
    /// Whether the failure is the spend's (exit code 1) rather than the caller's or the
    /// environment's (exit code 2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            SessionError::Spend(SpendError::Refused(_))
                | SessionError::Chain(ChainError::Rejected { .. })
        )
    }

    /// Whether another process holds the state folder (its chain or its store): opening again
    /// later may succeed.
    pub fn is_in_use(&self) -> bool {
        matches!(
            self,
            SessionError::Chain(ChainError::InUse { .. })
                | SessionError::State(StateError::InUse { .. })
        )
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::ReadOnly { operation } => write!(
                f,
                "cannot {operation}: this session was opened to read the state folder only"
            ),
            SessionError::Chain(e) => write!(f, "{e}"),
            SessionError::Keystore(e) => write!(f, "{e}"),
            SessionError::Wallet(e) => write!(f, "{e}"),
            SessionError::State(e) => write!(f, "{e}"),
            SessionError::Artifact(e) => write!(f, "{e}"),
            SessionError::Spend(e) => write!(f, "{e}"),
            SessionError::UnknownInstance { id, known } => {
                write!(f, "no instance `{id}`")?;
                if known.is_empty() {
                    write!(f, " (nothing is deployed in this state folder)")
                } else {
                    write!(f, "; recent instances: {}", known.join(", "))
                }
            }
            SessionError::NotSpendable { id, detail } => {
                write!(f, "{id} cannot be spent: {detail}")
            }
            SessionError::Timeout { txid } => write!(f, "{txid} did not confirm in time"),
            SessionError::Usage(detail) => f.write_str(detail),
            SessionError::Unverified(detail) => {
                write!(f, "the artifact is refused: {detail}")
            }
            SessionError::Io { context, source } => write!(f, "{context}: {source}"),
            SessionError::Folder(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SessionError::Chain(e) => Some(e),
            SessionError::Keystore(e) => Some(e),
            SessionError::Wallet(e) => Some(e),
            SessionError::State(e) => Some(e),
            SessionError::Artifact(e) => Some(e),
            SessionError::Spend(e) => Some(e),
            SessionError::Io { source, .. } => Some(source),
            SessionError::Folder(e) => Some(e),
            _ => None,
        }
    }
}

macro_rules! from_error {
    ($($variant:ident($ty:ty)),*) => {
        $(impl From<$ty> for SessionError {
            fn from(e: $ty) -> Self {
                SessionError::$variant(e)
            }
        })*
    };
}

from_error!(
    Chain(ChainError),
    Keystore(KeystoreError),
    Wallet(WalletError),
    State(StateError),
    Artifact(ArtifactError),
    Spend(SpendError),
    Folder(FolderError)
);
