//! The contract state store: what the runtime did, so that it survives crashes and restarts.
//!
//! In: artifacts, new contract instances with their funding transactions, spends, fee bumps,
//! confirmations, refusals and free-form events, each with a caller-given time (unix seconds;
//! the store never reads the clock). Out: instance records, listings, the transactions still
//! waiting for the chain ([`Store::pending`], for recovery), an append-only event log, and
//! checkpoints that can be restored.
//!
//! Storage: one SQLite file, `state.sqlite`, in the folder given to [`Store::open`]
//! (checkpoints go to `checkpoints/<id>/` next to it). WAL journal, `synchronous=FULL`, foreign
//! keys on, the schema version in `PRAGMA user_version` (a newer one is refused with
//! [`StateError::NewerSchema`]). One writer at a time: [`Store::open`] takes the folder's
//! [`WriterLock`], so a second writing handle on the same folder fails with
//! [`StateError::InUse`]; [`Store::open_read_only`] takes no lock and reads one snapshot, the
//! last commit before it opened, however long it stays open (WAL lets it read while the writer
//! writes).
//!
//! Invariants:
//! * Every operation that changes more than one row is one SQL transaction, and every state
//!   change writes its event in that same transaction. Nothing lives only in memory, so a
//!   process killed at any point leaves the state of the last completed operation.
//! * Transactions are recorded *before* they are broadcast ([`Recorder::record_funding`],
//!   [`Recorder::record_spend`], [`Recorder::record_bump`]); a crash after the broadcast
//!   therefore never loses an instance, and [`Store::pending`] lists what to look up on the
//!   chain.
//! * Instance statuses only move along `funding → deployed → spending → spent`, plus
//!   `funding → failed` and `spending → deployed` (an abandoned spend); any other request is
//!   refused with [`StateError::IllegalTransition`].
//! * Event sequence numbers are 1, 2, 3, … without gaps; rows are never deleted (a watch that
//!   was found stays, its id now an instance's, and is no longer listed by [`Store::watches`]).
//! * Output order is always a stored order (insertion or sequence number), never hash order.
//!
//! The recording operations are the methods of the [`Recorder`] trait, written once for both
//! a [`Store`] (each call its own SQL transaction) and a [`Batch`] (several calls in one,
//! from [`Store::batch`]). Statuses reach SQL only through their enums
//! ([`InstanceStatus`], [`TransactionStatus`], [`TxKind`]), never as literals written by hand.

mod checkpoint;
mod error;
mod identity;
mod integrity;
mod schema;
mod status;
mod types;
mod write;

use std::path::{Path, PathBuf};

use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Amount, Network, OutPoint, ScriptBuf, Txid};
use rusqlite::{params, Connection, OptionalExtension, Row};

pub use checkpoint::{
    DroppedTransaction, RestorePlan, RevertedInstance, CHECKPOINTS_DIR,
    META_FILE as CHECKPOINT_META_FILE,
};
pub use error::StateError;
pub use identity::{Binding, StoreIdentity};
pub use schema::SCHEMA_VERSION;
pub use status::{InstanceStatus, TransactionStatus, TxKind, UnknownName};
pub use types::{
    event_kind, Checkpoint, Event, ExecutionRecord, InstanceRecord, InstanceSummary, NewInstance,
    NewSpend, NewWatch, Pending, TransactionRecord, WatchRecord,
};
pub use write::{Batch, Recorder};

use crate::writer_lock::WriterLock;
use error::{corrupt, invalid, sql};
use status::sql_list;

/// The file name of the store in its folder.
pub const STATE_FILE: &str = "state.sqlite";

/// The contract state store. See the [module documentation](self).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// The folder, `None` for an in-memory store.
    dir: Option<PathBuf>,
    /// The folder's writer lock; `None` for a read-only handle and an in-memory store.
    lock: Option<WriterLock>,
}

impl Store {
    /// Opens the store in `dir` for writing (creating the folder and `state.sqlite` when
    /// missing); [`StateError::InUse`] when another handle writes it.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StateError> {
        let dir = dir.as_ref();
        crate::owner_only::create_dir_all(dir).map_err(error::io(format!(
            "creating the state folder {}",
            dir.display()
        )))?;
        let lock = WriterLock::try_take(dir)
            .map_err(error::io(format!(
                "locking the state folder {}",
                dir.display()
            )))?
            .ok_or_else(|| StateError::InUse {
                path: dir.display().to_string(),
            })?;
        Store::open_locked(dir, lock)
    }

    /// [`Store::open`] with the writer lock already held.
    fn open_locked(dir: &Path, lock: WriterLock) -> Result<Store, StateError> {
        let file = dir.join(STATE_FILE);
        // Owner-only before SQLite opens it; its -wal and -shm files take the same mode.
        crate::owner_only::create_file(&file)
            .map_err(error::io(format!("creating {}", file.display())))?;
        let mut conn = Connection::open(&file).map_err(sql("opening state.sqlite"))?;
        schema::prepare(&mut conn, &dir.display().to_string())?;
        Ok(Store {
            conn,
            dir: Some(dir.to_path_buf()),
            lock: Some(lock),
        })
    }

    /// Opens the store in `dir` to read it, beside a writer or not: no lock, nothing created
    /// or written (a write fails), and every read sees the same snapshot, the last commit
    /// before the open. A missing `state.sqlite` is an error.
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Store, StateError> {
        let dir = dir.as_ref();
        let conn = crate::writer_lock::open_reader(&dir.join(STATE_FILE))
            .map_err(sql("opening state.sqlite"))?;
        schema::check_reader(&conn, &dir.display().to_string())?;
        Ok(Store {
            conn,
            dir: Some(dir.to_path_buf()),
            lock: None,
        })
    }

    /// Whether this handle may write (it holds the writer lock, or lives in memory).
    pub fn is_writable(&self) -> bool {
        self.lock.is_some() || self.dir.is_none()
    }

    /// Opens a store that lives in memory only (for tests and dry runs; it has no
    /// checkpoints).
    pub fn open_in_memory() -> Result<Store, StateError> {
        let mut conn = Connection::open_in_memory().map_err(sql("opening a memory store"))?;
        schema::prepare(&mut conn, ":memory:")?;
        Ok(Store {
            conn,
            dir: None,
            lock: None,
        })
    }

    /// The store's folder, `None` for an in-memory store.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Starts a group of operations that commit together ([`Batch::commit`]) or not at all
    /// (dropping the batch). The operations are those of [`Recorder`].
    pub fn batch(&mut self) -> Result<Batch<'_>, StateError> {
        Batch::begin(&mut self.conn)
    }

    /// Stores an artifact's JSON text (once: storing the same text again changes nothing) and
    /// returns its id, the SHA-256 of the text in hex.
    pub fn record_artifact(&self, json: &str, contract: &str) -> Result<String, StateError> {
        let id = sha256::Hash::hash(json.as_bytes()).to_string();
        self.conn
            .prepare_cached(
                "INSERT INTO artifacts (id, contract, json) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![id, contract, json]))
            .map_err(sql("recording an artifact"))?;
        Ok(id)
    }

    /// The JSON text of an artifact.
    pub fn artifact(&self, id: &str) -> Result<Option<String>, StateError> {
        self.conn
            .prepare_cached("SELECT json FROM artifacts WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(sql("reading an artifact"))
    }

    /// Everything about one instance: its fields, its executions and its transactions.
    pub fn instance(&self, id: &str) -> Result<Option<InstanceRecord>, StateError> {
        read_instance(&self.conn, id)
    }

    /// Every instance, in the order they were recorded.
    pub fn instances(&self) -> Result<Vec<InstanceSummary>, StateError> {
        query_all(
            &self.conn,
            "listing instances",
            "SELECT id, contract, network, status, address, amount, height, created, updated
             FROM instances ORDER BY num",
            [],
            summary_from,
        )
    }

    /// The `deployed` instances' coins, in the order recorded: (id, funding outpoint, the
    /// height that confirmed it), for reconciliation to ask the chain who spent them.
    pub fn deployed_coins(&self) -> Result<Vec<(String, OutPoint, u32)>, StateError> {
        query_all(
            &self.conn,
            "listing deployed coins",
            "SELECT id, funding_txid, funding_vout, height FROM instances
             WHERE status = ?1 ORDER BY num",
            [InstanceStatus::Deployed],
            |r| {
                let outpoint = OutPoint::new(
                    parse_txid(&col::<String>(r, 1)?)?,
                    from_i64(col(r, 2)?, "an output index")?,
                );
                let height = opt_height(col(r, 3)?)?.unwrap_or(0);
                Ok((col(r, 0)?, outpoint, height))
            },
        )
    }

    /// The watches nothing has paid yet, in the order they were recorded.
    pub fn watches(&self) -> Result<Vec<WatchRecord>, StateError> {
        query_all(
            &self.conn,
            "listing watches",
            "SELECT id, artifact_id, contract, network, args, descriptor, address, script_pubkey,
                    created
             FROM watches WHERE id NOT IN (SELECT id FROM instances) ORDER BY created, id",
            [],
            |r| {
                Ok(WatchRecord {
                    id: col(r, 0)?,
                    artifact_id: col(r, 1)?,
                    contract: col(r, 2)?,
                    network: parse_network(&col::<String>(r, 3)?)?,
                    args: args_from_json(&col::<String>(r, 4)?)?,
                    descriptor: col(r, 5)?,
                    address: col(r, 6)?,
                    script_pubkey: ScriptBuf::from_hex(&col::<String>(r, 7)?)
                        .map_err(|e| corrupt(format!("a stored script does not decode: {e}")))?,
                    created: from_i64(col(r, 8)?, "a time")?,
                })
            },
        )
    }

    /// The instances waiting for a transaction (`funding` or `spending`), in the order they
    /// were recorded, each with the transaction to look up on the chain. After a crash the
    /// caller checks each: confirmed, in the mempool, or (when `recorded`) maybe never sent.
    pub fn pending(&self) -> Result<Vec<Pending>, StateError> {
        // The statuses are literals (from the enum) so that the partial index on pending
        // instances, whose condition is the same list, serves the query.
        let query = format!(
            "SELECT i.id, i.status, t.txid, t.status, t.raw
             FROM instances i JOIN transactions t
               ON t.txid = CASE i.status WHEN ?1 THEN i.funding_txid ELSE i.spend_txid END
             WHERE i.status IN ({})
             ORDER BY i.num",
            sql_list(schema::PENDING_STATUSES)
        );
        query_all(
            &self.conn,
            "listing pending instances",
            &query,
            [InstanceStatus::Funding],
            |r| {
                Ok(Pending {
                    instance: col(r, 0)?,
                    status: InstanceStatus::parse(&col::<String>(r, 1)?)?,
                    txid: parse_txid(&col::<String>(r, 2)?)?,
                    tx_status: TransactionStatus::parse(&col::<String>(r, 3)?)?,
                    raw_hex: col(r, 4)?,
                })
            },
        )
    }

    /// Up to `limit` events with a sequence number above `after`, oldest first
    /// (`events_since(0, n)` starts at the beginning).
    ///
    /// After [`Store::restore`] the log is the checkpoint's log followed by a
    /// [`event_kind::RESTORED`] event, so sequence numbers a reader saw before may come back
    /// with other events; a reader whose position is above [`Store::last_event_seq`] should
    /// start over.
    pub fn events_since(&self, after: u64, limit: usize) -> Result<Vec<Event>, StateError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        query_all(
            &self.conn,
            "reading events",
            &format!("{EVENT_COLUMNS} WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
            params![after, limit],
            event_from,
        )
    }

    /// The events of one instance, oldest first.
    pub fn instance_events(&self, instance: &str) -> Result<Vec<Event>, StateError> {
        query_all(
            &self.conn,
            "reading events",
            &format!("{EVENT_COLUMNS} WHERE instance_id = ?1 ORDER BY seq"),
            [instance],
            event_from,
        )
    }

    /// The sequence number of the last event, 0 when there is none.
    pub fn last_event_seq(&self) -> Result<u64, StateError> {
        last_event_seq(&self.conn)
    }

    /// One recorded transaction.
    pub fn transaction(&self, txid: &Txid) -> Result<Option<TransactionRecord>, StateError> {
        let ctx = "reading a transaction";
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{TX_COLUMNS} WHERE txid = ?1"))
            .map_err(sql(ctx))?;
        stmt.query_row([txid.to_string()], |r| Ok(tx_from(r)))
            .optional()
            .map_err(sql(ctx))?
            .transpose()
    }

    /// Checks the store and returns the problems found (none when it is sound): SQLite's own
    /// `integrity_check` and `foreign_key_check`, then the store's invariants (every instance
    /// has its funding transaction and its `funding` event; every `spending` or `spent`
    /// instance has its spend transaction and an execution pointing at it; confirmed
    /// instances have heights and confirmed transactions; stored txids match the raw
    /// transactions; event numbers have no gaps).
    pub fn integrity_check(&self) -> Result<Vec<String>, StateError> {
        integrity::check(&self.conn)
    }
}

/// Runs a query and decodes every row with `from`, in the query's order.
fn query_all<T>(
    conn: &Connection,
    ctx: &'static str,
    query: &str,
    params: impl rusqlite::Params,
    from: impl Fn(&Row<'_>) -> Result<T, StateError>,
) -> Result<Vec<T>, StateError> {
    let mut stmt = conn.prepare_cached(query).map_err(sql(ctx))?;
    let rows = stmt.query_map(params, |r| Ok(from(r))).map_err(sql(ctx))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(sql(ctx))??);
    }
    Ok(out)
}

/// The columns [`event_from`] reads, as the start of a query.
const EVENT_COLUMNS: &str = "SELECT seq, time, instance_id, kind, payload FROM events";

/// The columns [`tx_from`] reads, as the start of a query.
const TX_COLUMNS: &str = "SELECT txid, instance_id, kind, purpose, status, raw, fee, height, \
                          replaces, time FROM transactions";

/// Reads the last event number.
pub(crate) fn last_event_seq(conn: &Connection) -> Result<u64, StateError> {
    let seq: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(sql("reading the last event number"))?;
    from_i64(seq, "an event number")
}

fn read_instance(conn: &Connection, id: &str) -> Result<Option<InstanceRecord>, StateError> {
    let ctx = "reading an instance";
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, artifact_id, contract, network, args, descriptor, address,
                    script_pubkey, amount, funding_txid, funding_vout, status, height,
                    spend_txid, spent_height, created, updated
             FROM instances WHERE id = ?1",
        )
        .map_err(sql(ctx))?;
    let Some(mut record) = stmt
        .query_row([id], |r| Ok(instance_from(r)))
        .optional()
        .map_err(sql(ctx))?
        .transpose()?
    else {
        return Ok(None);
    };
    record.executions = query_all(
        conn,
        ctx,
        "SELECT seq, instance_id, path, txid, args, fee, vsize, height, time
         FROM executions WHERE instance_id = ?1 ORDER BY seq",
        [id],
        execution_from,
    )?;
    record.transactions = query_all(
        conn,
        ctx,
        &format!("{TX_COLUMNS} WHERE instance_id = ?1 ORDER BY num"),
        [id],
        tx_from,
    )?;
    Ok(Some(record))
}

/// Reads column `i` of a row, as part of decoding a record.
fn col<T: rusqlite::types::FromSql>(r: &Row<'_>, i: usize) -> Result<T, StateError> {
    r.get(i).map_err(sql("decoding a stored row"))
}

fn instance_from(r: &Row<'_>) -> Result<InstanceRecord, StateError> {
    Ok(InstanceRecord {
        id: col(r, 0)?,
        artifact_id: col(r, 1)?,
        contract: col(r, 2)?,
        network: parse_network(&col::<String>(r, 3)?)?,
        args: args_from_json(&col::<String>(r, 4)?)?,
        descriptor: col(r, 5)?,
        address: col(r, 6)?,
        script_pubkey: ScriptBuf::from_hex(&col::<String>(r, 7)?)
            .map_err(|e| corrupt(format!("a stored script does not decode: {e}")))?,
        amount: amount(col(r, 8)?)?,
        funding_txid: parse_txid(&col::<String>(r, 9)?)?,
        funding_vout: from_i64(col(r, 10)?, "an output index")?,
        status: InstanceStatus::parse(&col::<String>(r, 11)?)?,
        height: opt_height(col(r, 12)?)?,
        spend_txid: col::<Option<String>>(r, 13)?
            .map(|t| parse_txid(&t))
            .transpose()?,
        spent_height: opt_height(col(r, 14)?)?,
        created: from_i64(col(r, 15)?, "a time")?,
        updated: from_i64(col(r, 16)?, "a time")?,
        executions: Vec::new(),
        transactions: Vec::new(),
    })
}

fn summary_from(r: &Row<'_>) -> Result<InstanceSummary, StateError> {
    Ok(InstanceSummary {
        id: col(r, 0)?,
        contract: col(r, 1)?,
        network: parse_network(&col::<String>(r, 2)?)?,
        status: InstanceStatus::parse(&col::<String>(r, 3)?)?,
        address: col(r, 4)?,
        amount: amount(col(r, 5)?)?,
        height: opt_height(col(r, 6)?)?,
        created: from_i64(col(r, 7)?, "a time")?,
        updated: from_i64(col(r, 8)?, "a time")?,
    })
}

fn execution_from(r: &Row<'_>) -> Result<ExecutionRecord, StateError> {
    Ok(ExecutionRecord {
        seq: from_i64(col(r, 0)?, "an execution number")?,
        instance: col(r, 1)?,
        path: col(r, 2)?,
        txid: parse_txid(&col::<String>(r, 3)?)?,
        args: args_from_json(&col::<String>(r, 4)?)?,
        fee: amount(col(r, 5)?)?,
        vsize: from_i64(col(r, 6)?, "a vsize")?,
        height: opt_height(col(r, 7)?)?,
        time: from_i64(col(r, 8)?, "a time")?,
    })
}

fn tx_from(r: &Row<'_>) -> Result<TransactionRecord, StateError> {
    Ok(TransactionRecord {
        txid: parse_txid(&col::<String>(r, 0)?)?,
        instance: col(r, 1)?,
        kind: TxKind::parse(&col::<String>(r, 2)?)?,
        purpose: TxKind::parse(&col::<String>(r, 3)?)?,
        status: TransactionStatus::parse(&col::<String>(r, 4)?)?,
        raw_hex: col(r, 5)?,
        fee: amount(col(r, 6)?)?,
        height: opt_height(col(r, 7)?)?,
        replaces: col::<Option<String>>(r, 8)?
            .map(|t| parse_txid(&t))
            .transpose()?,
        time: from_i64(col(r, 9)?, "a time")?,
    })
}

fn event_from(r: &Row<'_>) -> Result<Event, StateError> {
    let payload: String = col(r, 4)?;
    Ok(Event {
        seq: from_i64(col(r, 0)?, "an event number")?,
        time: from_i64(col(r, 1)?, "a time")?,
        instance: col(r, 2)?,
        kind: col(r, 3)?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| corrupt(format!("an event payload is not JSON: {e}")))?,
    })
}

/// Parses a stored txid.
fn parse_txid(text: &str) -> Result<Txid, StateError> {
    text.parse()
        .map_err(|e| corrupt(format!("a stored txid `{text}` does not parse: {e}")))
}

/// Parses a stored network name.
fn parse_network(text: &str) -> Result<Network, StateError> {
    text.parse()
        .map_err(|_| corrupt(format!("unknown stored network `{text}`")))
}

/// Converts a stored integer that must not be negative.
fn from_i64<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, StateError> {
    T::try_from(value).map_err(|_| corrupt(format!("{what} out of range: {value}")))
}

/// Converts a caller's integer for storage.
fn to_i64(value: u64, what: &str) -> Result<i64, StateError> {
    i64::try_from(value).map_err(|_| invalid(format!("{what} too large to store: {value}")))
}

fn amount(sat: i64) -> Result<Amount, StateError> {
    Ok(Amount::from_sat(from_i64(sat, "an amount")?))
}

fn opt_height(height: Option<i64>) -> Result<Option<u32>, StateError> {
    height.map(|h| from_i64(h, "a height")).transpose()
}

/// Encodes ordered name/value pairs as a JSON array of pairs.
fn args_to_json(args: &[(String, String)]) -> Result<String, StateError> {
    serde_json::to_string(args).map_err(|e| invalid(format!("arguments do not encode: {e}")))
}

fn args_from_json(text: &str) -> Result<Vec<(String, String)>, StateError> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("stored arguments do not decode: {e}")))
}
