//! The values the state store takes and gives: statuses, the inputs of the recording
//! operations and the records the queries return.
//!
//! The statuses themselves live in [`super::status`]. Records serialize to JSON with the
//! statuses' stored names, so `biscol state` can print them as they are.

use bitcoin::{Amount, Network, ScriptBuf, Transaction, Txid};
use serde::Serialize;

use super::error::{corrupt, StateError};
use super::status::{InstanceStatus, TransactionStatus, TxKind};

/// Well-known event kinds. Other layers may append their own with
/// [`super::Recorder::record_event`].
pub mod event_kind {
    /// A funding transaction was recorded and a new instance created.
    pub const FUNDING: &str = "funding";
    /// A transaction was handed to the network.
    pub const BROADCAST: &str = "broadcast";
    /// An address is watched before anything pays it (no instance yet: the payload's
    /// `instance` is the id reserved for it).
    pub const WATCHING: &str = "watching";
    /// The instance was funded by someone else and is watched (recorded right after its
    /// [`FUNDING`] event; the payload names the output).
    pub const WATCHED: &str = "watched";
    /// The funding transaction confirmed.
    pub const DEPLOYED: &str = "deployed";
    /// A spend transaction was recorded: one this store made (it is broadcast right after), or
    /// one the chain shows (the payload's `args` then hold the preimages it revealed).
    pub const SPEND_BROADCAST: &str = "spend_broadcast";
    /// The spend transaction confirmed.
    pub const SPENT: &str = "spent";
    /// A spend was refused before any transaction was made (the reasons are in the payload).
    pub const REFUSED: &str = "refused";
    /// A transaction was replaced by a fee bump.
    pub const BUMPED: &str = "bumped";
    /// The funding transaction was abandoned: the instance failed.
    pub const FAILED: &str = "failed";
    /// A spend transaction was abandoned: the instance is `deployed` again.
    pub const SPEND_ABANDONED: &str = "spend_abandoned";
    /// Blocks were mined (written by the session on chains that mine).
    pub const MINED: &str = "mined";
    /// A checkpoint was taken.
    pub const CHECKPOINT: &str = "checkpoint";
    /// The store was restored from a checkpoint.
    pub const RESTORED: &str = "restored";
}

/// What [`super::Recorder::record_funding`] records: a new instance and its funding transaction.
#[derive(Debug, Clone)]
pub struct NewInstance<'a> {
    /// The artifact's id, from [`super::Store::record_artifact`].
    pub artifact_id: &'a str,
    /// The contract's name (the instance id is its lower-case form and a number).
    pub contract: &'a str,
    /// The network the instance lives on.
    pub network: Network,
    /// The instantiation arguments, in parameter order.
    pub args: &'a [(String, String)],
    /// The output descriptor.
    pub descriptor: &'a str,
    /// The address.
    pub address: &'a str,
    /// The output script.
    pub script_pubkey: &'a bitcoin::Script,
    /// The amount locked in the contract.
    pub amount: Amount,
    /// The funding transaction; its output `vout` must pay `amount` to `script_pubkey`.
    pub funding_tx: &'a Transaction,
    /// The contract's output in `funding_tx`.
    pub vout: u32,
    /// The fee the funding transaction pays.
    pub fee: Amount,
    /// The pending watch this funding was found for: the instance takes its id.
    pub watch: Option<&'a str>,
    /// Unix seconds, given by the caller.
    pub time: u64,
}

/// What [`super::Recorder::record_watch`] records: an instance derived before anything pays it.
#[derive(Debug, Clone)]
pub struct NewWatch<'a> {
    /// The artifact's id, from [`super::Store::record_artifact`].
    pub artifact_id: &'a str,
    /// The contract's name.
    pub contract: &'a str,
    /// The network.
    pub network: Network,
    /// The instantiation arguments, in parameter order.
    pub args: &'a [(String, String)],
    /// The output descriptor.
    pub descriptor: &'a str,
    /// The address to be paid.
    pub address: &'a str,
    /// Its output script.
    pub script_pubkey: &'a bitcoin::Script,
    /// Unix seconds, given by the caller.
    pub time: u64,
}

/// A watch nothing has paid yet, as [`super::Store::watches`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchRecord {
    /// The instance id reserved for it.
    pub id: String,
    /// The artifact's id.
    pub artifact_id: String,
    /// The contract's name.
    pub contract: String,
    /// The network.
    pub network: Network,
    /// The instantiation arguments, in order.
    pub args: Vec<(String, String)>,
    /// The output descriptor.
    pub descriptor: String,
    /// The address to be paid.
    pub address: String,
    /// Its output script.
    pub script_pubkey: ScriptBuf,
    /// When the watch was recorded (unix seconds, as given).
    pub created: u64,
}

/// What [`super::Recorder::record_spend`] records: a spend of a deployed instance.
#[derive(Debug, Clone)]
pub struct NewSpend<'a> {
    /// The instance.
    pub instance: &'a str,
    /// The spending path's name, or `key` for the key path.
    pub path: &'a str,
    /// The spend arguments (witness values by name), in order.
    pub args: &'a [(String, String)],
    /// The spend transaction; one of its inputs spends the instance's funding output.
    pub tx: &'a Transaction,
    /// The fee it pays.
    pub fee: Amount,
    /// Its virtual size in vbytes.
    pub vsize: u64,
    /// Unix seconds, given by the caller.
    pub time: u64,
}

/// One instance with everything recorded about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceRecord {
    /// The user-facing id, `<contract lower-case>-<n>`.
    pub id: String,
    /// The artifact's id.
    pub artifact_id: String,
    /// The contract's name.
    pub contract: String,
    /// The network.
    pub network: Network,
    /// The instantiation arguments, in order.
    pub args: Vec<(String, String)>,
    /// The output descriptor.
    pub descriptor: String,
    /// The address.
    pub address: String,
    /// The output script.
    pub script_pubkey: ScriptBuf,
    /// The amount locked.
    #[serde(with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// The current funding transaction (the latest bump until one confirms).
    pub funding_txid: Txid,
    /// The contract's output in it.
    pub funding_vout: u32,
    /// The status.
    pub status: InstanceStatus,
    /// The height of the block that confirmed the funding transaction.
    pub height: Option<u32>,
    /// The current spend transaction, while `spending` and once `spent`.
    pub spend_txid: Option<Txid>,
    /// The height of the block that confirmed the spend.
    pub spent_height: Option<u32>,
    /// When the instance was recorded (unix seconds, as given).
    pub created: u64,
    /// When it last changed (unix seconds, as given).
    pub updated: u64,
    /// Its spends, oldest first.
    pub executions: Vec<ExecutionRecord>,
    /// Its transactions, oldest first.
    pub transactions: Vec<TransactionRecord>,
}

/// An instance in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceSummary {
    /// The id.
    pub id: String,
    /// The contract's name.
    pub contract: String,
    /// The network.
    pub network: Network,
    /// The status.
    pub status: InstanceStatus,
    /// The address.
    pub address: String,
    /// The amount locked.
    #[serde(with = "bitcoin::amount::serde::as_sat")]
    pub amount: Amount,
    /// The funding confirmation height.
    pub height: Option<u32>,
    /// When it was recorded.
    pub created: u64,
    /// When it last changed.
    pub updated: u64,
}

/// An instance waiting for a transaction to confirm, as [`super::Store::pending`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pending {
    /// The instance.
    pub instance: String,
    /// Its status: `funding` or `spending`.
    pub status: InstanceStatus,
    /// The transaction it waits for (the funding or the current spend transaction).
    pub txid: Txid,
    /// That transaction's status (`recorded` means it may never have reached the network).
    pub tx_status: TransactionStatus,
    /// The raw transaction, hex, to broadcast again.
    pub raw_hex: String,
}

/// One spend of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutionRecord {
    /// Its number (unique in the store, increasing).
    pub seq: u64,
    /// The instance.
    pub instance: String,
    /// The path name, or `key`.
    pub path: String,
    /// Its current transaction (the latest bump until one confirms).
    pub txid: Txid,
    /// The spend arguments, in order.
    pub args: Vec<(String, String)>,
    /// The fee of its current transaction.
    #[serde(with = "bitcoin::amount::serde::as_sat")]
    pub fee: Amount,
    /// The virtual size of its current transaction.
    pub vsize: u64,
    /// The height of the block that confirmed it.
    pub height: Option<u32>,
    /// When it was recorded.
    pub time: u64,
}

/// One recorded transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionRecord {
    /// The txid.
    pub txid: Txid,
    /// The instance it belongs to.
    pub instance: String,
    /// Why it was made.
    pub kind: TxKind,
    /// What it does: [`TxKind::Fund`] or [`TxKind::Spend`] (a bump does what the transaction
    /// it replaces did).
    pub purpose: TxKind,
    /// Where it is.
    pub status: TransactionStatus,
    /// The raw transaction, hex.
    pub raw_hex: String,
    /// The fee it pays.
    #[serde(with = "bitcoin::amount::serde::as_sat")]
    pub fee: Amount,
    /// The height of the block that confirmed it.
    pub height: Option<u32>,
    /// The transaction it replaced (for a `bump`).
    pub replaces: Option<Txid>,
    /// When it was recorded.
    pub time: u64,
}

impl TransactionRecord {
    /// Decodes the raw transaction.
    pub fn transaction(&self) -> Result<Transaction, StateError> {
        bitcoin::consensus::encode::deserialize_hex(&self.raw_hex)
            .map_err(|e| corrupt(format!("transaction {} does not decode: {e}", self.txid)))
    }
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Its sequence number: 1, 2, 3, … without gaps.
    pub seq: u64,
    /// Unix seconds, as given by the caller that wrote it.
    pub time: u64,
    /// The instance it concerns, if any.
    pub instance: Option<String>,
    /// What happened (see [`event_kind`]).
    pub kind: String,
    /// Details, as JSON.
    pub payload: serde_json::Value,
}

/// A consistent copy of the store, as [`super::Store::checkpoint`] makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// Its id: 1, 2, 3, … in the order taken.
    pub id: u64,
    /// The caller's label.
    pub label: Option<String>,
    /// Unix seconds, as given.
    pub time: u64,
    /// The sequence number of the last event in the copy.
    pub last_event_seq: u64,
}
