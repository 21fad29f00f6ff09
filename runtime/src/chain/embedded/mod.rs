//! The embedded regtest chain: in process, persisted in a state folder, mines on demand.
//!
//! In: a folder ([`EmbeddedChain::open`]), transactions ([`ChainBackend::broadcast`], or
//! [`EmbeddedChain::test_accept`] for a dry run that writes nothing) and mining requests
//! ([`ChainBackend::mine`]). Out: the [`ChainBackend`] views (tip, UTXOs, status, the spender
//! of an output) and the blocks themselves ([`EmbeddedChain::block`]), which Bitcoin Core's
//! regtest accepts.
//!
//! Rules: every transaction goes through `CheckTransaction` and `biscol-script` with all
//! consensus flags (P2SH, DERSIG, NULLDUMMY, CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY, WITNESS,
//! TAPROOT), then the contextual rules: inputs exist and are unspent (chain and mempool), no
//! value creation, coinbase maturity 100, BIP68 relative locks, BIP113 finality, sigop cost,
//! and the mempool policy of [`rules::check_standard`] and a 1 sat/vB minimum relay fee. A
//! transaction that conflicts with mempool transactions replaces them when it pays more (BIP125
//! rules 3 to 6, full RBF as in Bitcoin Core 28+). The checks run in Bitcoin Core's order, so a
//! transaction that breaks several rules is refused for the one Core names: the scripts come
//! last, after the fee and the replacement rules (within those, rule 6 comes before rules 3
//! and 4, as in Core up to 30; Core 31's cluster mempool checks rules 3 and 4 first).
//!
//! Blocks: regtest genesis, version 0x20000000, bits 0x207fffff with a real nonce search,
//! BIP34 height in the coinbase, the BIP141 witness commitment when a transaction has a witness,
//! subsidy halving every 150 blocks plus fees, block weight ≤ 4,000,000 and sigop cost ≤ 80,000.
//! Timestamps: `max(previous time, median time past + 1, wall clock)` plus the requested
//! advance, so they always exceed the median time past of the last 11 blocks.
//!
//! Invariants: the in-memory state (headers, transaction index, UTXO set, mempool) is always the
//! state of the store's last commit; a failed write leaves both unchanged.

mod commitment;
pub mod rules;
mod store;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use biscol_script::VerifyFlags;
use bitcoin::block::{Header, Version as BlockVersion};
use bitcoin::blockdata::constants::genesis_block;
use bitcoin::hashes::Hash;
use bitcoin::script::Builder;
use bitcoin::{
    absolute, transaction, Amount, Block, BlockHash, CompactTarget, Network, OutPoint, Script,
    ScriptBuf, Sequence, Target, Transaction, TxIn, TxMerkleNode, TxOut, Txid, Witness,
};

pub use store::Coin;

use self::commitment::UtxoCommitment;
use self::rules::SpentCoin;
use self::store::Store;
use crate::chain::{
    ChainBackend, ChainError, ReplacementRule, Spending, Tip, TxReject, TxStatus, Utxo,
};

/// Regtest proof-of-work bits.
pub const REGTEST_BITS: u32 = 0x207f_ffff;
/// At most this many blocks per [`ChainBackend::mine`] call.
pub const MAX_MINE_PER_CALL: u32 = 10_000;
/// The database file in the chain's folder.
pub const CHAIN_FILE: &str = "chain.sqlite";

/// The longest time advance one mining call takes: ten years (enough for any timelock an
/// author wants to reach; longer jumps take several calls).
pub const MAX_TIME_ADVANCE: u32 = 10 * 365 * 24 * 60 * 60;
/// The latest block time the chain mines at: `u32::MAX` minus [`MAX_TIME_ADVANCE`] (in 2096),
/// so that block time, a `u32`, is never pinned at its maximum (where every later block would
/// have to repeat it and time-based locks would stop).
pub const MAX_BLOCK_TIME: u32 = u32::MAX - MAX_TIME_ADVANCE;

#[derive(Debug, Clone)]
struct MempoolEntry {
    tx: Transaction,
    txid: Txid,
    fee: u64,
    vsize: u64,
    weight: u64,
    sigop_cost: u64,
}

/// A transaction [`EmbeddedChain::test_accept`] would accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// Its txid.
    pub txid: Txid,
    /// The fee it pays.
    pub fee: Amount,
    /// Its virtual size in vbytes ([`rules::vsize`]).
    pub vsize: u64,
}

/// What [`EmbeddedChain::check_consistency`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyReport {
    /// Height of the tip.
    pub height: u32,
    /// Number of coins in the UTXO set.
    pub utxos: usize,
    /// Number of mempool transactions.
    pub mempool: usize,
}

/// An in-process regtest chain stored in a folder.
pub struct EmbeddedChain {
    path: PathBuf,
    store: Store,
    headers: Vec<Header>,
    hashes: Vec<BlockHash>,
    tx_index: HashMap<Txid, u32>,
    utxos: HashMap<OutPoint, Coin>,
    /// The commitment to `utxos`, as stored.
    commitment: UtxoCommitment,
    mempool: Vec<MempoolEntry>,
}

impl std::fmt::Debug for EmbeddedChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedChain")
            .field("path", &self.path)
            .field("height", &self.height())
            .field("utxos", &self.utxos.len())
            .field("mempool", &self.mempool.len())
            .finish()
    }
}

fn now_secs() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// The coins a transaction in the block at `height` creates: every output but the provably
/// unspendable ones.
fn new_coins(tx: &Transaction, height: u32) -> impl Iterator<Item = (OutPoint, Coin)> + '_ {
    let txid = tx.compute_txid();
    let coinbase = tx.is_coinbase();
    tx.output
        .iter()
        .enumerate()
        .filter(|(_, out)| !rules::is_unspendable(&out.script_pubkey))
        .map(move |(v, out)| {
            let coin = Coin {
                txout: out.clone(),
                height,
                coinbase,
            };
            (OutPoint::new(txid, v as u32), coin)
        })
}

/// The index of the input of `tx` that spends `outpoint`.
fn spending_input(tx: &Transaction, outpoint: &OutPoint) -> Option<usize> {
    tx.input.iter().position(|i| i.previous_output == *outpoint)
}

fn check_block_shape(block: &Block, height: u32, prev: Option<BlockHash>) -> Result<(), String> {
    if let Some(prev) = prev {
        if block.header.prev_blockhash != prev {
            return Err(format!(
                "block {height} does not connect to block {}",
                height - 1
            ));
        }
    }
    let target = Target::from_compact(block.header.bits);
    if !target.is_met_by(block.block_hash()) {
        return Err(format!(
            "block {height} does not meet its proof-of-work target"
        ));
    }
    if !block.check_merkle_root() {
        return Err(format!("block {height} has a wrong merkle root"));
    }
    Ok(())
}

impl EmbeddedChain {
    /// Opens the chain stored in `dir` (`dir/chain.sqlite`), creating it with the regtest
    /// genesis block when empty. Fails with [`ChainError::InUse`] when another handle writes
    /// it, and [`ChainError::Corrupt`] when the stored blocks do not connect or the UTXO set
    /// does not match its running commitment ([`commitment`]; a chain stored before
    /// commitments existed is committed to as it is, and [`EmbeddedChain::check_consistency`]
    /// rebuilds the set from the blocks on demand).
    pub fn open(dir: impl AsRef<Path>) -> Result<EmbeddedChain, ChainError> {
        let path = dir.as_ref().to_path_buf();
        let store = Store::open(&path)?;
        EmbeddedChain::load(path, store)
    }

    /// Opens the chain stored in `dir` to read it while another process may write it: no lock
    /// is taken and nothing is written; the chain is the one of the last commit before the
    /// open, checked as [`EmbeddedChain::open`] checks it (a stored mempool transaction that no
    /// longer fits is left out here, and dropped from the file by the next writer). Mining and
    /// broadcasting fail. A chain still being created is [`ChainError::InUse`].
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<EmbeddedChain, ChainError> {
        let path = dir.as_ref().to_path_buf();
        let store = Store::open_read_only(&path)?;
        EmbeddedChain::load(path, store)
    }

    /// Reads and checks what `store` holds; writes only through a writable store.
    fn load(path: std::path::PathBuf, mut store: Store) -> Result<EmbeddedChain, ChainError> {
        let writable = store.is_writable();
        let mut blocks = store.load_blocks()?;
        if blocks.is_empty() && !writable {
            return Err(ChainError::InUse {
                path: path.display().to_string(),
            });
        }
        if blocks.is_empty() {
            let genesis = genesis_block(Network::Regtest);
            store.connect_block(0, &genesis, &[], &[], UtxoCommitment::default())?;
            blocks.push(genesis);
        }
        let mut chain = EmbeddedChain {
            path,
            store,
            headers: Vec::with_capacity(blocks.len()),
            hashes: Vec::with_capacity(blocks.len()),
            tx_index: HashMap::new(),
            utxos: HashMap::new(),
            commitment: UtxoCommitment::default(),
            mempool: Vec::new(),
        };
        if blocks.first().map(|b| b.block_hash())
            != Some(genesis_block(Network::Regtest).block_hash())
        {
            return Err(ChainError::Corrupt {
                detail: "block 0 is not the regtest genesis block".into(),
            });
        }
        for (h, block) in blocks.iter().enumerate() {
            let height = h as u32;
            check_block_shape(block, height, chain.hashes.last().copied())
                .map_err(|detail| ChainError::Corrupt { detail })?;
            chain.headers.push(block.header);
            chain.hashes.push(block.block_hash());
            for tx in &block.txdata {
                chain.tx_index.insert(tx.compute_txid(), height);
            }
        }
        chain.utxos = chain.store.load_utxos()?.into_iter().collect();
        let computed = UtxoCommitment::of(&chain.utxos);
        match chain.store.utxo_commitment()? {
            Some(stored) if stored != computed => {
                return Err(ChainError::Corrupt {
                    detail: format!(
                        "the UTXO set ({} coins) does not match its commitment: it was changed outside biscol; restore the chain folder from a checkpoint (`biscol restore ID`) or a backup",
                        chain.utxos.len()
                    ),
                })
            }
            Some(_) => {}
            // A chain written before commitments existed: commit to its set as it is.
            None if writable => chain.store.set_utxo_commitment(computed)?,
            None => {}
        }
        chain.commitment = computed;
        // Re-validate the stored mempool against the current tip; drop what no longer fits.
        let stored = chain.store.load_mempool()?;
        let mut dropped = Vec::new();
        for tx in stored {
            let txid = tx.compute_txid();
            match chain.validate(&chain.mempool, &tx) {
                Ok((entry, evict)) if evict.is_empty() => chain.mempool.push(entry),
                _ => dropped.push(txid),
            }
        }
        if !dropped.is_empty() && writable {
            chain.store.mempool_replace(None, &dropped)?;
        }
        Ok(chain)
    }

    /// Writes a consistent copy of the chain into folder `dest` (created when missing; it must
    /// not already hold a chain), which [`EmbeddedChain::restore`] can put back.
    pub fn backup_to(&self, dest: impl AsRef<Path>) -> Result<(), ChainError> {
        let dest = dest.as_ref();
        crate::owner_only::create_dir_all(dest).map_err(|source| ChainError::Io {
            context: format!("creating {}", dest.display()),
            source,
        })?;
        self.store.backup_to(&dest.join(CHAIN_FILE))
    }

    /// Replaces the chain in `dir` with the copy [`EmbeddedChain::backup_to`] wrote in
    /// `backup`, then opens it. Consumes the open chain so that no handle to the old state
    /// survives. The copy is written beside the live file, synced, and renamed over it: a crash
    /// leaves either the old chain or the restored one.
    pub fn restore(self, backup: impl AsRef<Path>) -> Result<EmbeddedChain, ChainError> {
        let dir = self.path.clone();
        drop(self);
        let io = |context: String| move |source| ChainError::Io { context, source };
        let source = backup.as_ref().join(CHAIN_FILE);
        let temp = dir.join("chain.sqlite.restore");
        std::fs::copy(&source, &temp).map_err(io(format!("copying {}", source.display())))?;
        crate::owner_only::restrict(&temp)
            .map_err(io(format!("restricting {}", temp.display())))?;
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(io(format!("syncing {}", temp.display())))?;
        for stale in ["chain.sqlite-wal", "chain.sqlite-shm"] {
            match std::fs::remove_file(dir.join(stale)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io(format!("removing {stale}"))(e))
                }
                _ => {}
            }
        }
        std::fs::rename(&temp, dir.join(CHAIN_FILE))
            .map_err(io(format!("replacing {}", dir.join(CHAIN_FILE).display())))?;
        EmbeddedChain::open(dir)
    }

    /// The id of the contract store this chain belongs with (`None` until a session binds
    /// them; see `crate::session`).
    pub fn owner(&self) -> Result<Option<String>, ChainError> {
        self.store.owner()
    }

    /// Binds the chain to the contract store `store_id`; refused when it is bound already.
    pub fn bind_owner(&mut self, store_id: &str) -> Result<(), ChainError> {
        if let Some(owner) = self.store.owner()? {
            return Err(ChainError::Corrupt {
                detail: format!("the chain belongs with store {owner} already"),
            });
        }
        self.store.set_owner(store_id)
    }

    /// The genesis block's hash.
    pub fn genesis_hash(&self) -> BlockHash {
        self.hashes[0]
    }

    /// The state folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Height of the tip.
    pub fn height(&self) -> u32 {
        self.headers.len().saturating_sub(1) as u32
    }

    /// Median time past of the block at `height` (the tip's when above it).
    pub fn median_time_past(&self, height: u32) -> u32 {
        let h = (height as usize).min(self.headers.len().saturating_sub(1));
        let start = h.saturating_sub(10);
        let times: Vec<u32> = self
            .headers
            .get(start..=h)
            .unwrap_or(&[])
            .iter()
            .map(|hd| hd.time)
            .collect();
        rules::median(&times)
    }

    /// The block at `height`, read from the store.
    pub fn block(&self, height: u32) -> Result<Option<Block>, ChainError> {
        self.store.block(height)
    }

    /// The hash of the block at `height`.
    pub fn block_hash(&self, height: u32) -> Option<BlockHash> {
        self.hashes.get(height as usize).copied()
    }

    /// The mempool's transaction ids in acceptance order.
    pub fn mempool_txids(&self) -> Vec<Txid> {
        self.mempool.iter().map(|e| e.txid).collect()
    }

    /// The fee a mempool transaction pays, in satoshis.
    pub fn mempool_fee(&self, txid: &Txid) -> Option<u64> {
        self.mempool.iter().find(|e| e.txid == *txid).map(|e| e.fee)
    }

    /// The transaction that spends `outpoint`: a mempool transaction, or the first transaction
    /// of the best chain that spends it, searched from the block that created it (the chain
    /// keeps no index of spends; each output is searched for once, by whoever records its
    /// spend). `None` while the output is unspent, and for an output that never existed.
    pub fn spender(&self, outpoint: &OutPoint) -> Result<Option<Spending>, ChainError> {
        for e in &self.mempool {
            if let Some(input) = spending_input(&e.tx, outpoint) {
                return Ok(Some(Spending {
                    tx: e.tx.clone(),
                    input,
                    status: TxStatus::Mempool,
                }));
            }
        }
        if self.utxos.contains_key(outpoint) {
            return Ok(None);
        }
        let Some(&created) = self.tx_index.get(&outpoint.txid) else {
            return Ok(None);
        };
        for height in created..=self.height() {
            let block = self
                .store
                .block(height)?
                .ok_or_else(|| ChainError::Corrupt {
                    detail: format!("block {height} is missing"),
                })?;
            for tx in block.txdata {
                if let Some(input) = spending_input(&tx, outpoint) {
                    return Ok(Some(Spending {
                        status: self.tx_status(&tx.compute_txid())?,
                        tx,
                        input,
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Every coin of the UTXO set (confirmed only), sorted by outpoint.
    pub fn utxo_set(&self) -> Vec<(OutPoint, Coin)> {
        let mut v: Vec<(OutPoint, Coin)> =
            self.utxos.iter().map(|(k, c)| (*k, c.clone())).collect();
        v.sort_by_key(|a| a.0);
        v
    }

    /// Checks `txs` as [`ChainBackend::broadcast`] would, in order, each on top of the ones
    /// accepted before it (so a child may follow its parent, and a replacement evicts as it
    /// would), without changing the chain, its mempool or its store: a dry run on a copy of
    /// the mempool in memory. One result per transaction: what it would pay, or why it would
    /// be refused.
    pub fn test_accept(&self, txs: &[Transaction]) -> Vec<Result<Acceptance, TxReject>> {
        let mut mempool = self.mempool.clone();
        txs.iter()
            .map(|tx| {
                let (entry, evict) = self.validate(&mempool, tx)?;
                let accepted = Acceptance {
                    txid: entry.txid,
                    fee: Amount::from_sat(entry.fee),
                    vsize: entry.vsize,
                };
                mempool.retain(|e| !evict.contains(&e.txid));
                mempool.push(entry);
                Ok(accepted)
            })
            .collect()
    }

    /// Rebuilds the UTXO set from the stored blocks and compares it with the stored one, and
    /// checks that the blocks connect and the in-memory tip matches the store.
    pub fn check_consistency(&self) -> Result<ConsistencyReport, ChainError> {
        let blocks = self.store.load_blocks()?;
        let mut rebuilt: HashMap<OutPoint, Coin> = HashMap::new();
        let mut prev = None;
        for (h, block) in blocks.iter().enumerate() {
            let height = h as u32;
            check_block_shape(block, height, prev)
                .map_err(|detail| ChainError::Corrupt { detail })?;
            prev = Some(block.block_hash());
            if height == 0 {
                continue;
            }
            for tx in &block.txdata {
                if !tx.is_coinbase() {
                    for i in &tx.input {
                        if rebuilt.remove(&i.previous_output).is_none() {
                            return Err(ChainError::Corrupt {
                                detail: format!(
                                    "block {height} spends {} which is not unspent",
                                    i.previous_output
                                ),
                            });
                        }
                    }
                }
                rebuilt.extend(new_coins(tx, height));
            }
        }
        if blocks.len() != self.headers.len() || prev != self.hashes.last().copied() {
            return Err(ChainError::Corrupt {
                detail: format!(
                    "the store has {} blocks, memory {}",
                    blocks.len(),
                    self.headers.len()
                ),
            });
        }
        let stored: HashMap<OutPoint, Coin> = self.store.load_utxos()?.into_iter().collect();
        if stored != rebuilt {
            return Err(ChainError::Corrupt {
                detail: format!(
                    "the stored UTXO set ({} coins) differs from the one rebuilt from blocks ({} coins)",
                    stored.len(),
                    rebuilt.len()
                ),
            });
        }
        if stored != self.utxos {
            return Err(ChainError::Corrupt {
                detail: "the in-memory UTXO set differs from the stored one".into(),
            });
        }
        if self.store.utxo_commitment()? != Some(UtxoCommitment::of(&stored)) {
            return Err(ChainError::Corrupt {
                detail: "the stored UTXO commitment does not match the UTXO set".into(),
            });
        }
        Ok(ConsistencyReport {
            height: self.height(),
            utxos: stored.len(),
            mempool: self.mempool.len(),
        })
    }

    /// Looks up the coin an outpoint refers to: confirmed, or an output of a mempool
    /// transaction (height = next block's).
    fn find_coin(&self, mempool: &[MempoolEntry], op: &OutPoint) -> Option<(TxOut, u32, bool)> {
        if let Some(c) = self.utxos.get(op) {
            return Some((c.txout.clone(), c.height, c.coinbase));
        }
        let next = self.height() + 1;
        mempool
            .iter()
            .find(|e| e.txid == op.txid)
            .and_then(|e| e.tx.output.get(op.vout as usize))
            .map(|o| (o.clone(), next, false))
    }

    /// Full validation for a mempool on top of the chain: `mempool` is the chain's own or a
    /// dry run's view of it. Returns the entry and the txids it would evict; reads only.
    fn validate(
        &self,
        mempool: &[MempoolEntry],
        tx: &Transaction,
    ) -> Result<(MempoolEntry, Vec<Txid>), TxReject> {
        let txid = tx.compute_txid();
        if tx.is_coinbase() {
            return Err(TxReject::Coinbase);
        }
        if self.tx_index.contains_key(&txid) || mempool.iter().any(|e| e.txid == txid) {
            return Err(TxReject::AlreadyKnown);
        }
        biscol_script::check_transaction(tx)
            .map_err(|reason| TxReject::CheckTransaction { reason })?;
        rules::check_standard(tx)?;
        let next_height = self.height() + 1;
        let tip_mtp = self.median_time_past(self.height());
        rules::check_final(tx, next_height, tip_mtp)?;

        // Inputs: exist, unspent in the chain; conflicts with the mempool.
        let mut prevouts = Vec::with_capacity(tx.input.len());
        let mut heights = Vec::with_capacity(tx.input.len());
        let mut conflicts: Vec<Txid> = Vec::new();
        for (i, txin) in tx.input.iter().enumerate() {
            let op = txin.previous_output;
            let Some((txout, height, coinbase)) = self.find_coin(mempool, &op) else {
                if self.tx_index.contains_key(&op.txid) {
                    return Err(TxReject::SpentInChain {
                        input: i,
                        outpoint: op,
                    });
                }
                return Err(TxReject::MissingInput {
                    input: i,
                    outpoint: op,
                });
            };
            for e in mempool {
                if e.tx.input.iter().any(|x| x.previous_output == op)
                    && !conflicts.contains(&e.txid)
                {
                    conflicts.push(e.txid);
                }
            }
            prevouts.push(txout);
            heights.push((height, coinbase));
        }
        let in_value: u64 = prevouts.iter().map(|o| o.value.to_sat()).sum();
        let out_value: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        if out_value > in_value {
            return Err(TxReject::ValueCreation {
                inputs: in_value,
                outputs: out_value,
            });
        }
        let fee = in_value - out_value;
        let coins: Vec<SpentCoin<'_>> = prevouts
            .iter()
            .zip(&heights)
            .map(|(o, (h, cb))| SpentCoin {
                txout: o,
                height: *h,
                coinbase: *cb,
            })
            .collect();
        let mtp_at = |h: u32| self.median_time_past(h);
        rules::check_inputs_context(tx, &coins, next_height, &mtp_at)?;
        let sigop_cost = rules::sigop_cost(tx, &prevouts);
        if sigop_cost > rules::MAX_STANDARD_TX_SIGOPS_COST {
            return Err(TxReject::SigopCost {
                cost: sigop_cost,
                max: rules::MAX_STANDARD_TX_SIGOPS_COST,
            });
        }
        let vsize = rules::vsize(tx);
        let min_fee = vsize * rules::MIN_RELAY_FEE_SAT_PER_KVB / 1000;
        if fee < min_fee {
            return Err(TxReject::FeeTooLow { fee, min: min_fee });
        }
        let entry = MempoolEntry {
            tx: tx.clone(),
            txid,
            fee,
            vsize,
            weight: tx.weight().to_wu(),
            sigop_cost,
        };
        let evict = check_replacement(mempool, &entry, &conflicts)?;
        // Scripts last, as Bitcoin Core checks them after the fee and replacement rules
        // (`PolicyScriptChecks` follows `PreChecks` and `ReplacementChecks`): a transaction
        // that breaks both is refused for its fee, as Core refuses it.
        biscol_script::verify_tx(tx, &prevouts, VerifyFlags::CONSENSUS).map_err(
            |(input, error)| match (input, error) {
                (None, biscol_script::VerifyError::BadTx(reason)) => {
                    TxReject::CheckTransaction { reason }
                }
                (input, error) => TxReject::Script {
                    input: input.unwrap_or(0),
                    error,
                },
            },
        )?;
        Ok((entry, evict))
    }

    /// Builds, stores and connects one block on top of the tip.
    fn mine_one(&mut self, script_pubkey: &Script, advance: u32) -> Result<BlockHash, ChainError> {
        let height = self.height() + 1;
        let (Some(prev), Some(prev_hash)) =
            (self.headers.last().copied(), self.hashes.last().copied())
        else {
            return Err(ChainError::Corrupt {
                detail: "no blocks".into(),
            });
        };
        let mtp = self.median_time_past(self.height());
        if advance > MAX_TIME_ADVANCE {
            return Err(ChainError::InvalidArgument {
                detail: format!(
                    "a time advance of {advance} s is more than {MAX_TIME_ADVANCE} s (ten years) per call"
                ),
            });
        }
        let time =
            u64::from(prev.time.max(mtp.saturating_add(1)).max(now_secs())) + u64::from(advance);
        let time = match u32::try_from(time) {
            Ok(t) if t <= MAX_BLOCK_TIME => t,
            _ => {
                return Err(ChainError::InvalidArgument {
                    detail: format!(
                        "the block would be timed {time}, after {MAX_BLOCK_TIME} (2096), the latest this chain mines at so that block time never reaches its maximum"
                    ),
                })
            }
        };

        // Select mempool transactions in acceptance order (parents before children).
        let coinbase_reserve_weight = 4_000;
        let mut weight = 0u64;
        let mut sigops = 0u64;
        let mut fees = 0u64;
        let mut included: Vec<Transaction> = Vec::new();
        let mut skipped: HashSet<Txid> = HashSet::new();
        for e in &self.mempool {
            let parent_skipped =
                e.tx.input
                    .iter()
                    .any(|i| skipped.contains(&i.previous_output.txid));
            if parent_skipped
                || weight + e.weight + coinbase_reserve_weight > rules::MAX_BLOCK_WEIGHT
                || sigops + e.sigop_cost + 400 > rules::MAX_BLOCK_SIGOPS_COST
            {
                skipped.insert(e.txid);
                continue;
            }
            weight += e.weight;
            sigops += e.sigop_cost;
            fees += e.fee;
            included.push(e.tx.clone());
        }
        let has_witness = included
            .iter()
            .any(|t| t.input.iter().any(|i| !i.witness.is_empty()));

        let script_sig = Builder::new()
            .push_int(height as i64)
            .push_opcode(bitcoin::opcodes::OP_0)
            .into_script();
        let mut coinbase = Transaction {
            version: transaction::Version::TWO,
            lock_time: absolute::LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::null(),
                script_sig,
                sequence: Sequence::MAX,
                witness: Witness::new(),
            }],
            output: vec![TxOut {
                value: Amount::from_sat(rules::subsidy(height) + fees),
                script_pubkey: script_pubkey.to_owned(),
            }],
        };
        if has_witness {
            coinbase.input[0].witness = Witness::from_slice(&[[0u8; 32]]);
        }
        let mut txdata = Vec::with_capacity(included.len() + 1);
        txdata.push(coinbase);
        txdata.extend(included);
        let mut block = Block {
            header: Header {
                version: BlockVersion::from_consensus(0x2000_0000),
                prev_blockhash: prev_hash,
                merkle_root: TxMerkleNode::all_zeros(),
                time,
                bits: CompactTarget::from_consensus(REGTEST_BITS),
                nonce: 0,
            },
            txdata,
        };
        if has_witness {
            let root = block.witness_root().ok_or_else(|| ChainError::Mining {
                detail: "no witness root".into(),
            })?;
            let commitment = Block::compute_witness_commitment(&root, &[0u8; 32]);
            let mut script = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
            script.extend_from_slice(commitment.as_byte_array());
            block.txdata[0].output.push(TxOut {
                value: Amount::ZERO,
                script_pubkey: ScriptBuf::from_bytes(script),
            });
        }
        block.header.merkle_root =
            block
                .compute_merkle_root()
                .ok_or_else(|| ChainError::Mining {
                    detail: "no merkle root".into(),
                })?;
        let target = Target::from_compact(block.header.bits);
        let mut found = false;
        for nonce in 0..=u32::MAX {
            block.header.nonce = nonce;
            if target.is_met_by(block.header.block_hash()) {
                found = true;
                break;
            }
        }
        if !found {
            return Err(ChainError::Mining {
                detail: format!("no nonce meets the target at height {height}"),
            });
        }
        let hash = block.block_hash();

        // UTXO changes.
        let mut spent = Vec::new();
        let mut created: Vec<(OutPoint, Coin)> = Vec::new();
        for tx in &block.txdata {
            if !tx.is_coinbase() {
                for i in &tx.input {
                    if let Some(pos) = created.iter().position(|(op, _)| *op == i.previous_output) {
                        created.swap_remove(pos);
                    } else {
                        spent.push(i.previous_output);
                    }
                }
            }
            created.extend(new_coins(tx, height));
        }
        let mut commitment = self.commitment;
        for op in &spent {
            let coin = self.utxos.get(op).ok_or_else(|| ChainError::Corrupt {
                detail: format!("block {height} spends {op}, which is not in the UTXO set"),
            })?;
            commitment.remove(op, coin);
        }
        for (op, coin) in &created {
            commitment.add(op, coin);
        }
        self.store
            .connect_block(height, &block, &spent, &created, commitment)?;
        self.commitment = commitment;

        // Commit to memory only after the store did.
        for op in &spent {
            self.utxos.remove(op);
        }
        for (op, coin) in created {
            self.utxos.insert(op, coin);
        }
        let mined: HashSet<Txid> = block.txdata.iter().map(|t| t.compute_txid()).collect();
        for t in &mined {
            self.tx_index.insert(*t, height);
        }
        self.mempool.retain(|e| !mined.contains(&e.txid));
        self.headers.push(block.header);
        self.hashes.push(hash);
        Ok(hash)
    }
}

/// BIP125 rules 3 to 6 (full RBF) against `mempool`, in the order Bitcoin Core 31 (cluster
/// mempool) checks them: a replacement that spends what it replaces, too many evictions, the
/// absolute fee (rules 3 and 4), then the feerate (rule 6, Core's feerate diagram for one
/// replaced transaction). A replacement failing several rules is refused for the first, as
/// Core refuses it. Returns every txid to evict (conflicts and descendants).
fn check_replacement(
    mempool: &[MempoolEntry],
    entry: &MempoolEntry,
    conflicts: &[Txid],
) -> Result<Vec<Txid>, TxReject> {
    if conflicts.is_empty() {
        return Ok(Vec::new());
    }
    let mut evict: Vec<Txid> = conflicts.to_vec();
    for e in mempool {
        if !evict.contains(&e.txid)
            && e.tx
                .input
                .iter()
                .any(|i| evict.contains(&i.previous_output.txid))
        {
            evict.push(e.txid);
        }
    }
    let first = conflicts[0];
    if entry
        .tx
        .input
        .iter()
        .any(|i| evict.contains(&i.previous_output.txid))
    {
        return Err(TxReject::ReplacementRefused {
            conflict: first,
            rule: ReplacementRule::SpendsConflict,
        });
    }
    let clusters = conflicting_clusters(mempool, conflicts);
    if clusters > 100 {
        return Err(TxReject::ReplacementRefused {
            conflict: first,
            rule: ReplacementRule::TooManyConflictingClusters { count: clusters },
        });
    }
    let evicted_fees: u64 = mempool
        .iter()
        .filter(|e| evict.contains(&e.txid))
        .map(|e| e.fee)
        .sum();
    let needs = evicted_fees + entry.vsize * rules::MIN_RELAY_FEE_SAT_PER_KVB / 1000;
    if entry.fee < needs {
        return Err(TxReject::ReplacementRefused {
            conflict: first,
            rule: ReplacementRule::AbsoluteFee {
                new_fee: entry.fee,
                needs,
            },
        });
    }
    let new_rate = entry.fee * 1000 / entry.vsize.max(1);
    for c in conflicts {
        if let Some(old) = mempool.iter().find(|e| e.txid == *c) {
            let old_rate = old.fee * 1000 / old.vsize.max(1);
            if new_rate <= old_rate {
                return Err(TxReject::ReplacementRefused {
                    conflict: *c,
                    rule: ReplacementRule::FeeRate {
                        new_sat_per_kvb: new_rate,
                        old_sat_per_kvb: old_rate,
                    },
                });
            }
        }
    }
    Ok(evict)
}

/// How many distinct clusters of `mempool` the `conflicts` lie in: a cluster is a connected
/// component of the graph whose edges join a mempool transaction to the mempool transactions
/// it spends (Bitcoin Core 31's unit for BIP125 rule 5).
fn conflicting_clusters(mempool: &[MempoolEntry], conflicts: &[Txid]) -> usize {
    let index: HashMap<Txid, usize> = mempool
        .iter()
        .enumerate()
        .map(|(i, e)| (e.txid, i))
        .collect();
    // Union-find over mempool positions, joined along in-mempool spends.
    let mut parent: Vec<usize> = (0..mempool.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (child, entry) in mempool.iter().enumerate() {
        for input in &entry.tx.input {
            if let Some(&spent) = index.get(&input.previous_output.txid) {
                let (a, b) = (root(&mut parent, child), root(&mut parent, spent));
                parent[a] = b;
            }
        }
    }
    let roots: HashSet<usize> = conflicts
        .iter()
        .filter_map(|c| index.get(c))
        .map(|&i| root(&mut parent, i))
        .collect();
    roots.len()
}

impl ChainBackend for EmbeddedChain {
    fn broadcast(&mut self, tx: &Transaction) -> Result<Txid, ChainError> {
        let txid = tx.compute_txid();
        let (entry, evict) = self
            .validate(&self.mempool, tx)
            .map_err(|reason| ChainError::Rejected { txid, reason })?;
        self.store.mempool_replace(Some(tx), &evict)?;
        self.mempool.retain(|e| !evict.contains(&e.txid));
        self.mempool.push(entry);
        Ok(txid)
    }

    fn utxos(&self, script_pubkey: &Script) -> Result<Vec<Utxo>, ChainError> {
        let spent_in_mempool: HashSet<OutPoint> = self
            .mempool
            .iter()
            .flat_map(|e| e.tx.input.iter().map(|i| i.previous_output))
            .collect();
        let mut out: Vec<Utxo> = self
            .utxos
            .iter()
            .filter(|(op, c)| {
                c.txout.script_pubkey == *script_pubkey && !spent_in_mempool.contains(op)
            })
            .map(|(op, c)| Utxo {
                outpoint: *op,
                txout: c.txout.clone(),
                height: Some(c.height),
                is_coinbase: c.coinbase,
            })
            .collect();
        for e in &self.mempool {
            for (v, o) in e.tx.output.iter().enumerate() {
                let op = OutPoint {
                    txid: e.txid,
                    vout: v as u32,
                };
                if o.script_pubkey == *script_pubkey && !spent_in_mempool.contains(&op) {
                    out.push(Utxo {
                        outpoint: op,
                        txout: o.clone(),
                        height: None,
                        is_coinbase: false,
                    });
                }
            }
        }
        out.sort_by_key(|a| a.outpoint);
        Ok(out)
    }

    fn tx_status(&self, txid: &Txid) -> Result<TxStatus, ChainError> {
        if let Some(h) = self.tx_index.get(txid) {
            let block_hash =
                self.hashes
                    .get(*h as usize)
                    .copied()
                    .ok_or_else(|| ChainError::Corrupt {
                        detail: format!("transaction index points at missing block {h}"),
                    })?;
            return Ok(TxStatus::Confirmed {
                height: *h,
                block_hash,
                confirmations: self.height() - h + 1,
            });
        }
        if self.mempool.iter().any(|e| e.txid == *txid) {
            return Ok(TxStatus::Mempool);
        }
        Ok(TxStatus::Unknown)
    }

    fn transaction(&self, txid: &Txid) -> Result<Option<Transaction>, ChainError> {
        if let Some(e) = self.mempool.iter().find(|e| e.txid == *txid) {
            return Ok(Some(e.tx.clone()));
        }
        let Some(h) = self.tx_index.get(txid) else {
            return Ok(None);
        };
        let block = self.store.block(*h)?.ok_or_else(|| ChainError::Corrupt {
            detail: format!("block {h} is missing"),
        })?;
        Ok(block.txdata.into_iter().find(|t| t.compute_txid() == *txid))
    }

    fn spending_tx(
        &self,
        outpoint: &OutPoint,
        _created_at: u32,
    ) -> Result<Option<Spending>, ChainError> {
        // The chain's own transaction index knows where the output was created.
        self.spender(outpoint)
    }

    fn median_time_past_at(&self, height: u32) -> Result<u32, ChainError> {
        if height > self.height() {
            return Err(ChainError::InvalidArgument {
                detail: format!(
                    "no block at height {height}; the tip is at {}",
                    self.height()
                ),
            });
        }
        Ok(self.median_time_past(height))
    }

    fn tip(&self) -> Result<Tip, ChainError> {
        let height = self.height();
        let (Some(header), Some(hash)) = (self.headers.last(), self.hashes.last()) else {
            return Err(ChainError::Corrupt {
                detail: "no blocks".into(),
            });
        };
        Ok(Tip {
            height,
            hash: *hash,
            time: header.time,
            median_time_past: self.median_time_past(height),
        })
    }

    fn mine(
        &mut self,
        count: u32,
        script_pubkey: &Script,
        time_advance: Option<u32>,
    ) -> Result<Vec<BlockHash>, ChainError> {
        if count > MAX_MINE_PER_CALL {
            return Err(ChainError::InvalidArgument {
                detail: format!("at most {MAX_MINE_PER_CALL} blocks per call, asked for {count}"),
            });
        }
        let mut hashes = Vec::with_capacity(count as usize);
        for i in 0..count {
            let advance = if i == 0 { time_advance.unwrap_or(0) } else { 0 };
            hashes.push(self.mine_one(script_pubkey, advance)?);
        }
        Ok(hashes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::absolute::LockTime;
    use bitcoin::transaction::Version;
    use bitcoin::{Amount, TxIn, TxOut};

    /// A mempool entry spending `inputs` (its fee and sizes do not matter here).
    fn entry(inputs: &[OutPoint], tag: u64) -> MempoolEntry {
        let tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: inputs
                .iter()
                .map(|op| TxIn {
                    previous_output: *op,
                    ..TxIn::default()
                })
                .collect(),
            output: vec![TxOut {
                value: Amount::from_sat(tag),
                script_pubkey: ScriptBuf::new(),
            }],
        };
        MempoolEntry {
            txid: tx.compute_txid(),
            tx,
            fee: 0,
            vsize: 100,
            weight: 400,
            sigop_cost: 0,
        }
    }

    fn confirmed(n: u32) -> OutPoint {
        OutPoint::new(Txid::from_byte_array([7; 32]), n)
    }

    #[test]
    fn clusters_are_the_connected_parts_of_the_mempool() {
        // Two unrelated transactions, and a chain of three: three clusters.
        let a = entry(&[confirmed(0)], 1);
        let b = entry(&[confirmed(1)], 2);
        let c1 = entry(&[confirmed(2)], 3);
        let c2 = entry(&[OutPoint::new(c1.txid, 0)], 4);
        let c3 = entry(&[OutPoint::new(c2.txid, 0)], 5);
        let ids = [a.txid, b.txid, c1.txid, c2.txid, c3.txid];
        let mempool = vec![a, b, c1, c2, c3];
        assert_eq!(conflicting_clusters(&mempool, &ids), 3);
        assert_eq!(conflicting_clusters(&mempool, &ids[2..]), 1);
        assert_eq!(conflicting_clusters(&mempool, &ids[..1]), 1);
        // A child spending from two clusters joins them.
        let join = entry(&[OutPoint::new(ids[0], 0), OutPoint::new(ids[1], 0)], 6);
        let mut joined = mempool.clone();
        joined.push(join);
        assert_eq!(conflicting_clusters(&joined, &ids[..2]), 1);
    }

    #[test]
    fn rule_5_counts_clusters_of_direct_conflicts_not_evictions() {
        // 101 unrelated conflicts: refused. A chain of 150 (one cluster): rule 5 holds.
        let conflicts: Vec<MempoolEntry> = (0..101).map(|n| entry(&[confirmed(n)], 1)).collect();
        let ids: Vec<Txid> = conflicts.iter().map(|e| e.txid).collect();
        let inputs: Vec<OutPoint> = (0..101).map(confirmed).collect();
        let replacement = entry(&inputs, 9);
        match check_replacement(&conflicts, &replacement, &ids) {
            Err(TxReject::ReplacementRefused {
                rule: ReplacementRule::TooManyConflictingClusters { count: 101 },
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        let mut chain = vec![entry(&[confirmed(0)], 1)];
        for n in 1..150 {
            let parent = chain[n - 1].txid;
            chain.push(entry(&[OutPoint::new(parent, 0)], n as u64));
        }
        let replacement = entry(&[confirmed(0)], 9);
        match check_replacement(&chain, &replacement, &[chain[0].txid]) {
            Err(TxReject::ReplacementRefused {
                rule: ReplacementRule::AbsoluteFee { .. },
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }
}
