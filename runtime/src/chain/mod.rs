//! Chain backends: one trait for every chain the runtime talks to.
//!
//! In: transactions to broadcast, scripts to watch, transaction ids. Out: unspent outputs with
//! their confirmation height, transaction status, the transaction that spends an output, the
//! tip (height, hash, time, median time past) and, where the chain allows it (the embedded regtest chain), freshly mined blocks.
//!
//! Invariants: no method panics; every failure is a [`ChainError`]. A refused transaction is
//! [`ChainError::Rejected`] with a [`TxReject`] that says why in numbers (which input, what is
//! needed, what there is). Heights are block heights (genesis = 0); confirmations of a
//! transaction in the block at height `h` with tip `t` are `t - h + 1`.

pub mod embedded;
pub mod esplora;
pub mod rpc;

use std::fmt;

use bitcoin::{Amount, BlockHash, OutPoint, Script, ScriptBuf, Transaction, TxOut, Txid};

/// The current best block of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    /// Height of the tip (genesis = 0).
    pub height: u32,
    /// Hash of the tip.
    pub hash: BlockHash,
    /// The tip's header timestamp (seconds since the Unix epoch).
    pub time: u32,
    /// Median time past: the median timestamp of the last 11 blocks ending at the tip (BIP113).
    pub median_time_past: u32,
}

/// An unspent output of a watched script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utxo {
    /// The output's outpoint.
    pub outpoint: OutPoint,
    /// Value and script.
    pub txout: TxOut,
    /// Height of the block that created it; `None` while its transaction is in the mempool.
    pub height: Option<u32>,
    /// Whether it is a coinbase output (spendable after 100 confirmations).
    pub is_coinbase: bool,
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// The chain does not know the transaction.
    Unknown,
    /// Accepted into the mempool, not yet mined.
    Mempool,
    /// Mined.
    Confirmed {
        /// Height of its block.
        height: u32,
        /// Hash of its block.
        block_hash: BlockHash,
        /// `tip height - height + 1`.
        confirmations: u32,
    },
}

/// The transaction that spends an output, as [`ChainBackend::spending_tx`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spending {
    /// The spending transaction.
    pub tx: Transaction,
    /// The index of its input that spends the output.
    pub input: usize,
    /// Where it is: [`TxStatus::Mempool`] or [`TxStatus::Confirmed`].
    pub status: TxStatus,
}

/// The interface every chain backend implements.
///
/// Read methods take `&self`; methods that change the chain take `&mut self`.
pub trait ChainBackend {
    /// Validates `tx` and adds it to the mempool (or sends it to the network).
    fn broadcast(&mut self, tx: &Transaction) -> Result<Txid, ChainError>;
    /// Unspent outputs paying exactly `script_pubkey`, confirmed and unconfirmed, minus those
    /// already spent by a mempool transaction. Sorted by outpoint.
    fn utxos(&self, script_pubkey: &Script) -> Result<Vec<Utxo>, ChainError>;
    /// Status and confirmations of a transaction.
    fn tx_status(&self, txid: &Txid) -> Result<TxStatus, ChainError>;
    /// A transaction by id, from the mempool or the chain; `None` when unknown.
    fn transaction(&self, txid: &Txid) -> Result<Option<Transaction>, ChainError>;
    /// The transaction that spends `outpoint`, from the mempool or the best chain; `None` while
    /// the output is unspent or unknown. `created_at` is the height of the block that created
    /// the output: backends that must search blocks for the spender start there.
    fn spending_tx(
        &self,
        outpoint: &OutPoint,
        created_at: u32,
    ) -> Result<Option<Spending>, ChainError>;
    /// The current tip.
    fn tip(&self) -> Result<Tip, ChainError>;
    /// Median time past (BIP113) of the block at `height` on the best chain: the clock BIP68
    /// time-based relative locks count from (the block before a coin's block).
    fn median_time_past_at(&self, height: u32) -> Result<u32, ChainError>;
    /// Mines `count` blocks paying their coinbase to `script_pubkey`; the first block's
    /// timestamp is moved `time_advance` seconds further than it would otherwise be (later
    /// blocks follow it). Returns the new block hashes. Chains that cannot mine return
    /// [`ChainError::Unsupported`].
    fn mine(
        &mut self,
        count: u32,
        script_pubkey: &Script,
        time_advance: Option<u32>,
    ) -> Result<Vec<BlockHash>, ChainError>;
}

/// Why a chain operation failed.
#[derive(Debug)]
pub enum ChainError {
    /// The transaction breaks a consensus or standardness rule.
    Rejected {
        /// The transaction's id.
        txid: Txid,
        /// The rule and the numbers.
        reason: TxReject,
    },
    /// The backend cannot do this (e.g. mining on a public network).
    Unsupported {
        /// The operation asked for.
        operation: &'static str,
    },
    /// The state folder is used by another process.
    InUse {
        /// The state folder.
        path: String,
    },
    /// Reading or writing the state folder failed.
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The state database failed.
    Store {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// The stored state contradicts itself (e.g. a block that does not connect to the one
    /// before it).
    Corrupt {
        /// What is wrong.
        detail: String,
    },
    /// The caller passed an impossible argument (e.g. mining more than the limit at once).
    InvalidArgument {
        /// What is wrong.
        detail: String,
    },
    /// A block could not be built (e.g. no nonce meets the target; never on regtest).
    Mining {
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Rejected { txid, reason } => {
                write!(f, "transaction {txid} rejected: {reason}")
            }
            ChainError::Unsupported { operation } => {
                write!(f, "this chain backend does not support {operation}")
            }
            ChainError::InUse { path } => {
                write!(f, "the chain state in {path} is used by another process")
            }
            ChainError::Io { context, source } => write!(f, "{context}: {source}"),
            ChainError::Store { context, source } => write!(f, "{context}: {source}"),
            ChainError::Corrupt { detail } => write!(f, "corrupt chain state: {detail}"),
            ChainError::InvalidArgument { detail } => write!(f, "invalid argument: {detail}"),
            ChainError::Mining { detail } => write!(f, "mining failed: {detail}"),
        }
    }
}

impl std::error::Error for ChainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ChainError::Io { source, .. } => Some(source),
            ChainError::Store { source, .. } => Some(source),
            ChainError::Rejected { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// The rule a transaction breaks. Consensus rules first, then standardness (mempool policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxReject {
    /// Context-free `CheckTransaction` failed (Bitcoin Core's reason, e.g.
    /// `bad-txns-inputs-duplicate`).
    CheckTransaction {
        /// Core's reject reason.
        reason: &'static str,
    },
    /// A coinbase transaction cannot be broadcast.
    Coinbase,
    /// The transaction is already in the mempool or the chain.
    AlreadyKnown,
    /// An input spends an output that never existed.
    MissingInput {
        /// Input index.
        input: usize,
        /// The outpoint it spends.
        outpoint: OutPoint,
    },
    /// An input spends an output already spent in a block.
    SpentInChain {
        /// Input index.
        input: usize,
        /// The outpoint it spends.
        outpoint: OutPoint,
    },
    /// An input spends an output a mempool transaction spends, and the replacement rules
    /// (BIP125 as Bitcoin Core applies them with full RBF) refuse the replacement.
    ReplacementRefused {
        /// The mempool transaction it conflicts with.
        conflict: Txid,
        /// Which replacement rule fails, with numbers.
        rule: ReplacementRule,
    },
    /// Outputs are worth more than inputs.
    ValueCreation {
        /// Sum of the inputs in satoshis.
        inputs: u64,
        /// Sum of the outputs in satoshis.
        outputs: u64,
    },
    /// An input spends a coinbase output with fewer than 100 confirmations.
    CoinbaseMaturity {
        /// Input index.
        input: usize,
        /// Confirmations needed (100).
        needs: u32,
        /// Confirmations the coin would have in the next block (`next height - coin height`).
        has: u32,
    },
    /// BIP68 height lock not reached.
    RelativeHeightLock {
        /// Input index.
        input: usize,
        /// Blocks needed since the coin's confirmation (the nSequence value).
        needs: u32,
        /// Blocks the coin would have in the next block (`next height - coin height`).
        has: u32,
    },
    /// BIP68 time lock not reached.
    RelativeTimeLock {
        /// Input index.
        input: usize,
        /// Seconds needed (nSequence value × 512).
        needs_seconds: u32,
        /// Seconds elapsed: median time past of the tip minus that of the block before the
        /// coin's block.
        has_seconds: u32,
    },
    /// BIP113: nLockTime is not final in the next block.
    NonFinal {
        /// The transaction's nLockTime.
        lock_time: u32,
        /// Height of the next block (when the lock is a height).
        next_height: u32,
        /// Median time past of the tip (when the lock is a time).
        median_time_past: u32,
    },
    /// A script failed in `biscol-script`.
    Script {
        /// Input index.
        input: usize,
        /// The script engine's error (prints Core's name, e.g. `UNSATISFIED_LOCKTIME`).
        error: biscol_script::VerifyError,
    },
    /// Too many signature operations (cost, per transaction standardness or per block).
    SigopCost {
        /// The transaction's sigop cost.
        cost: u64,
        /// The limit.
        max: u64,
    },
    /// Standardness: version outside 1..=3.
    Version {
        /// The transaction's version.
        version: i32,
    },
    /// Standardness: weight above 400,000.
    Weight {
        /// The transaction's weight.
        weight: u64,
        /// The limit.
        max: u64,
    },
    /// Standardness: the non-witness size is under 65 bytes.
    TooSmall {
        /// Non-witness size in bytes.
        size: u64,
    },
    /// Standardness: scriptSig larger than 1650 bytes or not push-only.
    ScriptSig {
        /// Input index.
        input: usize,
        /// What is wrong.
        detail: &'static str,
    },
    /// Standardness: an output's script is not a standard template.
    NonstandardOutput {
        /// Output index.
        output: usize,
    },
    /// Standardness: an output is below its dust threshold.
    Dust {
        /// Output index.
        output: usize,
        /// Its value.
        value: u64,
        /// The smallest value that is not dust for its script.
        threshold: u64,
    },
    /// Standardness: the fee is below the minimum relay fee (1 sat/vB).
    FeeTooLow {
        /// The fee paid.
        fee: u64,
        /// The minimum.
        min: u64,
    },
}

/// Which BIP125 replacement rule refused a replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplacementRule {
    /// Rule 6: the fee rate must exceed each replaced transaction's (in sat/kvB here).
    FeeRate {
        /// New fee rate, sat per 1000 vB.
        new_sat_per_kvb: u64,
        /// Replaced transaction's fee rate, sat per 1000 vB.
        old_sat_per_kvb: u64,
    },
    /// Rules 3 and 4: the absolute fee must pay for the replaced ones plus the new size at
    /// the incremental relay fee (1 sat/vB).
    AbsoluteFee {
        /// New fee.
        new_fee: u64,
        /// Minimum fee needed.
        needs: u64,
    },
    /// Rule 5 as Bitcoin Core 31 (cluster mempool) applies it: the transactions replaced
    /// directly lie in at most 100 distinct mempool clusters.
    TooManyConflictingClusters {
        /// How many they lie in.
        count: usize,
    },
    /// The replacement spends an output of a transaction it replaces.
    SpendsConflict,
}

impl fmt::Display for ReplacementRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplacementRule::FeeRate {
                new_sat_per_kvb,
                old_sat_per_kvb,
            } => write!(
                f,
                "fee rate {new_sat_per_kvb} sat/kvB does not exceed the replaced {old_sat_per_kvb} sat/kvB"
            ),
            ReplacementRule::AbsoluteFee { new_fee, needs } => {
                write!(f, "fee {new_fee} sat is below the {needs} sat a replacement needs")
            }
            ReplacementRule::TooManyConflictingClusters { count } => {
                write!(
                    f,
                    "the transactions it replaces lie in {count} mempool clusters (at most 100)"
                )
            }
            ReplacementRule::SpendsConflict => {
                write!(f, "it spends an output of a transaction it replaces")
            }
        }
    }
}

impl fmt::Display for TxReject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxReject::CheckTransaction { reason } => write!(f, "{reason}"),
            TxReject::Coinbase => write!(f, "a coinbase transaction cannot be broadcast"),
            TxReject::AlreadyKnown => write!(f, "already in the mempool or the chain"),
            TxReject::MissingInput { input, outpoint } => {
                write!(f, "input {input}: output {outpoint} does not exist")
            }
            TxReject::SpentInChain { input, outpoint } => {
                write!(f, "input {input}: output {outpoint} is already spent in a block (double spend)")
            }
            TxReject::ReplacementRefused { conflict, rule } => write!(
                f,
                "conflicts with mempool transaction {conflict} and cannot replace it: {rule}"
            ),
            TxReject::ValueCreation { inputs, outputs } => write!(
                f,
                "outputs pay {outputs} sat but the inputs hold only {inputs} sat"
            ),
            TxReject::CoinbaseMaturity { input, needs, has } => write!(
                f,
                "input {input}: a coinbase output needs {needs} confirmations; the coin has {has}"
            ),
            TxReject::RelativeHeightLock { input, needs, has } => write!(
                f,
                "input {input}: relative lock needs {needs} blocks since confirmation; the coin has {has}"
            ),
            TxReject::RelativeTimeLock {
                input,
                needs_seconds,
                has_seconds,
            } => write!(
                f,
                "input {input}: relative lock needs {needs_seconds} s of median time since confirmation; the coin has {has_seconds} s"
            ),
            TxReject::NonFinal {
                lock_time,
                next_height,
                median_time_past,
            } => {
                if *lock_time < biscol_artifact::units::LOCK_TIME_THRESHOLD {
                    write!(
                        f,
                        "nLockTime {lock_time} is a height; the next block is {next_height} (must be above the lock)"
                    )
                } else {
                    write!(
                        f,
                        "nLockTime {lock_time} is a time; the median time past is {median_time_past} (must be above the lock)"
                    )
                }
            }
            TxReject::Script { input, error } => write!(f, "input {input}: script failed: {error}"),
            TxReject::SigopCost { cost, max } => {
                write!(f, "sigop cost {cost} is above the limit {max}")
            }
            TxReject::Version { version } => {
                write!(f, "version {version} is not standard (1, 2 or 3)")
            }
            TxReject::Weight { weight, max } => {
                write!(f, "weight {weight} is above the standard limit {max}")
            }
            TxReject::TooSmall { size } => {
                write!(f, "non-witness size {size} bytes is below 65")
            }
            TxReject::ScriptSig { input, detail } => write!(f, "input {input}: scriptSig {detail}"),
            TxReject::NonstandardOutput { output } => {
                write!(f, "output {output}: script is not a standard template")
            }
            TxReject::Dust {
                output,
                value,
                threshold,
            } => write!(
                f,
                "output {output}: {value} sat is dust (the smallest standard value for its script is {threshold} sat)"
            ),
            TxReject::FeeTooLow { fee, min } => {
                write!(f, "fee {fee} sat is below the minimum relay fee {min} sat")
            }
        }
    }
}

impl std::error::Error for TxReject {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TxReject::Script { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A helper for callers: the total value of `utxos`.
pub fn total_value(utxos: &[Utxo]) -> Amount {
    utxos.iter().map(|u| u.txout.value).sum()
}

/// A helper for callers: the scriptPubKeys of `utxos`, deduplicated.
pub fn scripts(utxos: &[Utxo]) -> Vec<ScriptBuf> {
    let mut v: Vec<ScriptBuf> = utxos
        .iter()
        .map(|u| u.txout.script_pubkey.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}
