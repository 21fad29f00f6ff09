//! The embedded chain's on-disk store: one SQLite database, `chain.sqlite`, in the chain's
//! state folder.
//!
//! In: blocks to connect (with the outpoints they spend and the coins they create) and mempool
//! changes. Out: everything back at open time, in order.
//!
//! Tables: `meta(key, value)` (schema version), `blocks(height, hash, data)` (consensus-encoded
//! blocks, genesis at height 0), `utxos(txid, vout, value, script, height, coinbase)` (the UTXO
//! set after the last block; rebuildable from `blocks`), `mempool(seq, txid, data)` (accepted
//! transactions in acceptance order), `commitments(name, value)` (the UTXO set's running
//! commitment, [`super::commitment`], under `utxo`), `owner(store_id)` (the id of the state
//! folder's contract store this chain belongs with, once a session bound them).
//!
//! Invariants: every change is one SQLite transaction (a block and its UTXO changes and the
//! removal of its transactions from the mempool commit together or not at all). The database
//! runs in WAL mode with `synchronous=FULL` (every commit is fsynced), so killing the process at
//! any point leaves the last committed state. One writer at a time: [`Store::open`] takes the
//! folder's [`WriterLock`], so a second process that opens the same folder to write fails with
//! [`ChainError::InUse`] instead of diverging; [`Store::open_read_only`] reads one snapshot
//! beside it.

use std::path::Path;

use bitcoin::consensus::encode::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{Amount, Block, OutPoint, ScriptBuf, Transaction, TxOut, Txid};
use rusqlite::{params, Connection, OptionalExtension};

use super::commitment::UtxoCommitment;

use crate::chain::ChainError;
use crate::writer_lock::{self, WriterLock};

/// Database schema version stored in `meta`.
pub const SCHEMA_VERSION: i64 = 1;

/// An unspent output in the UTXO set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coin {
    /// Value and script.
    pub txout: TxOut,
    /// Height of the block that created it.
    pub height: u32,
    /// Whether a coinbase created it.
    pub coinbase: bool,
}

pub(crate) struct Store {
    conn: Connection,
    /// The folder's writer lock; `None` for a read-only handle.
    lock: Option<WriterLock>,
}

fn store_err(context: &str) -> impl FnOnce(rusqlite::Error) -> ChainError + '_ {
    move |source| ChainError::Store {
        context: context.to_string(),
        source,
    }
}

fn corrupt(detail: impl Into<String>) -> ChainError {
    ChainError::Corrupt {
        detail: detail.into(),
    }
}

fn txid_from(bytes: &[u8]) -> Result<Txid, ChainError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| corrupt(format!("a stored txid has {} bytes, not 32", bytes.len())))?;
    Ok(Txid::from_byte_array(arr))
}

/// Writes the UTXO commitment row.
fn write_commitment(conn: &Connection, commitment: UtxoCommitment) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO commitments (name, value) VALUES ('utxo', ?1)",
        params![commitment.to_bytes().to_vec()],
    )
    .map(|_| ())
}

impl Store {
    /// Opens (creating when missing) `dir/chain.sqlite` for writing: takes the folder's writer
    /// lock ([`ChainError::InUse`] when another handle holds it) and creates the tables.
    pub(crate) fn open(dir: &Path) -> Result<Store, ChainError> {
        crate::owner_only::create_dir_all(dir).map_err(|source| ChainError::Io {
            context: format!("creating the chain folder {}", dir.display()),
            source,
        })?;
        let lock = WriterLock::try_take(dir)
            .map_err(|source| ChainError::Io {
                context: format!("locking the chain folder {}", dir.display()),
                source,
            })?
            .ok_or_else(|| ChainError::InUse {
                path: dir.display().to_string(),
            })?;
        let file = dir.join(super::CHAIN_FILE);
        // Owner-only before SQLite opens it; its -wal and -shm files take the same mode.
        crate::owner_only::create_file(&file).map_err(|source| ChainError::Io {
            context: format!("creating {}", file.display()),
            source,
        })?;
        let conn = Connection::open(&file).map_err(store_err("opening chain.sqlite"))?;
        writer_lock::configure_writer(&conn).map_err(store_err("configuring chain.sqlite"))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS utxos (txid BLOB NOT NULL, vout INTEGER NOT NULL, value INTEGER NOT NULL,
                 script BLOB NOT NULL, height INTEGER NOT NULL, coinbase INTEGER NOT NULL, PRIMARY KEY (txid, vout));
             CREATE INDEX IF NOT EXISTS utxos_script ON utxos(script);
             CREATE TABLE IF NOT EXISTS mempool (seq INTEGER PRIMARY KEY AUTOINCREMENT, txid BLOB NOT NULL UNIQUE, data BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS commitments (name TEXT PRIMARY KEY, value BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS owner (only INTEGER PRIMARY KEY CHECK (only = 1), store_id TEXT NOT NULL);
             INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', 1);",
        )
        .map_err(store_err("creating the tables"))?;
        let store = Store {
            conn,
            lock: Some(lock),
        };
        store.check_schema()?;
        Ok(store)
    }

    /// Opens `dir/chain.sqlite` to read it, beside a writer or not: no lock, nothing created or
    /// written (a write fails), and every read sees one snapshot, the last commit before the
    /// open. A missing file is an error; one without tables yet (a writer is creating it) is
    /// [`ChainError::InUse`].
    pub(crate) fn open_read_only(dir: &Path) -> Result<Store, ChainError> {
        let conn = writer_lock::open_reader(&dir.join(super::CHAIN_FILE))
            .map_err(store_err("opening chain.sqlite"))?;
        // The first read starts the snapshot.
        let has_meta: bool = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'meta'",
                [],
                |r| r.get::<_, i64>(0).map(|n| n > 0),
            )
            .map_err(store_err("reading the schema"))?;
        if !has_meta {
            return Err(ChainError::InUse {
                path: dir.display().to_string(),
            });
        }
        let store = Store { conn, lock: None };
        store.check_schema()?;
        Ok(store)
    }

    /// Whether this handle may write (it holds the writer lock).
    pub(crate) fn is_writable(&self) -> bool {
        self.lock.is_some()
    }

    fn check_schema(&self) -> Result<(), ChainError> {
        let schema: i64 = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .map_err(store_err("reading the schema version"))?;
        if schema != SCHEMA_VERSION {
            return Err(corrupt(format!(
                "schema version {schema}, this build reads {SCHEMA_VERSION}"
            )));
        }
        Ok(())
    }

    /// Writes a consistent copy of the database to `file` (which must not exist), as of the
    /// last commit.
    pub(crate) fn backup_to(&self, file: &Path) -> Result<(), ChainError> {
        let target = file.to_str().ok_or_else(|| ChainError::InvalidArgument {
            detail: format!("{} is not valid UTF-8", file.display()),
        })?;
        self.conn
            .execute("VACUUM INTO ?1", [target])
            .map_err(store_err("copying chain.sqlite"))?;
        crate::owner_only::restrict(file).map_err(|source| ChainError::Io {
            context: format!("restricting {} to its owner", file.display()),
            source,
        })
    }

    /// Every row of `query` (which takes no parameters), read with `read`, in the query's order.
    fn all_rows<T>(
        &self,
        context: &str,
        query: &str,
        read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, ChainError> {
        let mut stmt = self.conn.prepare(query).map_err(store_err(context))?;
        let rows = stmt.query_map([], read).map_err(store_err(context))?;
        rows.collect::<rusqlite::Result<Vec<T>>>()
            .map_err(store_err(context))
    }

    /// Every block, by height from 0.
    pub(crate) fn load_blocks(&self) -> Result<Vec<Block>, ChainError> {
        let rows = self.all_rows(
            "reading blocks",
            "SELECT height, data FROM blocks ORDER BY height",
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
        )?;
        let mut out = Vec::new();
        for (height, data) in rows {
            if height != out.len() as i64 {
                return Err(corrupt(format!(
                    "block heights skip: expected {}, found {height}",
                    out.len()
                )));
            }
            let block: Block = deserialize(&data)
                .map_err(|e| corrupt(format!("block {height} does not decode: {e}")))?;
            out.push(block);
        }
        Ok(out)
    }

    /// The block at `height`.
    pub(crate) fn block(&self, height: u32) -> Result<Option<Block>, ChainError> {
        let data: Option<Vec<u8>> = match self.conn.query_row(
            "SELECT data FROM blocks WHERE height = ?1",
            params![height as i64],
            |r| r.get(0),
        ) {
            Ok(d) => Some(d),
            Err(rusqlite::Error::QueryReturnedNoRows) => None,
            Err(e) => return Err(store_err("reading a block")(e)),
        };
        match data {
            None => Ok(None),
            Some(d) => deserialize(&d)
                .map(Some)
                .map_err(|e| corrupt(format!("block {height} does not decode: {e}"))),
        }
    }

    /// The stored UTXO set.
    pub(crate) fn load_utxos(&self) -> Result<Vec<(OutPoint, Coin)>, ChainError> {
        let rows = self.all_rows(
            "reading the UTXO set",
            "SELECT txid, vout, value, script, height, coinbase FROM utxos",
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for (txid, vout, value, script, height, coinbase) in rows {
            let txid = txid_from(&txid)?;
            let (Ok(vout), Ok(value), Ok(height)) = (
                u32::try_from(vout),
                u64::try_from(value),
                u32::try_from(height),
            ) else {
                return Err(corrupt("a stored coin has an out-of-range field"));
            };
            out.push((
                OutPoint { txid, vout },
                Coin {
                    txout: TxOut {
                        value: Amount::from_sat(value),
                        script_pubkey: ScriptBuf::from_bytes(script),
                    },
                    height,
                    coinbase: coinbase != 0,
                },
            ));
        }
        Ok(out)
    }

    /// The mempool in acceptance order.
    pub(crate) fn load_mempool(&self) -> Result<Vec<Transaction>, ChainError> {
        let rows = self.all_rows(
            "reading the mempool",
            "SELECT data FROM mempool ORDER BY seq",
            |r| r.get::<_, Vec<u8>>(0),
        )?;
        let mut out = Vec::new();
        for data in rows {
            let tx: Transaction = deserialize(&data)
                .map_err(|e| corrupt(format!("a mempool transaction does not decode: {e}")))?;
            out.push(tx);
        }
        Ok(out)
    }

    /// The stored commitment to the UTXO set, `None` when none is stored (a chain written
    /// before commitments existed).
    pub(crate) fn utxo_commitment(&self) -> Result<Option<UtxoCommitment>, ChainError> {
        let value: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT value FROM commitments WHERE name = 'utxo'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_err("reading the UTXO commitment"))?;
        value
            .map(|bytes| {
                UtxoCommitment::from_bytes(&bytes)
                    .ok_or_else(|| corrupt("the stored UTXO commitment is not 32 bytes"))
            })
            .transpose()
    }

    /// The id of the contract store this chain belongs with, if bound.
    pub(crate) fn owner(&self) -> Result<Option<String>, ChainError> {
        self.conn
            .query_row("SELECT store_id FROM owner WHERE only = 1", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(store_err("reading the chain's owner"))
    }

    /// Binds the chain to a contract store (once).
    pub(crate) fn set_owner(&mut self, store_id: &str) -> Result<(), ChainError> {
        self.conn
            .execute(
                "INSERT INTO owner (only, store_id) VALUES (1, ?1)",
                [store_id],
            )
            .map(|_| ())
            .map_err(store_err("recording the chain's owner"))
    }

    /// Stores the commitment to the UTXO set (for a chain that has none yet).
    pub(crate) fn set_utxo_commitment(
        &mut self,
        commitment: UtxoCommitment,
    ) -> Result<(), ChainError> {
        write_commitment(&self.conn, commitment).map_err(store_err("writing the UTXO commitment"))
    }

    /// Connects a block atomically: stores it, applies its UTXO changes, stores the UTXO set's
    /// new commitment and drops its transactions from the mempool.
    pub(crate) fn connect_block(
        &mut self,
        height: u32,
        block: &Block,
        spent: &[OutPoint],
        created: &[(OutPoint, Coin)],
        commitment: UtxoCommitment,
    ) -> Result<(), ChainError> {
        let ctx = "writing a block";
        let tx = self.conn.transaction().map_err(store_err(ctx))?;
        write_commitment(&tx, commitment).map_err(store_err(ctx))?;
        tx.execute(
            "INSERT INTO blocks (height, hash, data) VALUES (?1, ?2, ?3)",
            params![
                height as i64,
                block.block_hash().to_byte_array().to_vec(),
                serialize(block)
            ],
        )
        .map_err(store_err(ctx))?;
        {
            let mut del = tx
                .prepare("DELETE FROM utxos WHERE txid = ?1 AND vout = ?2")
                .map_err(store_err(ctx))?;
            for op in spent {
                del.execute(params![op.txid.to_byte_array().to_vec(), op.vout as i64])
                    .map_err(store_err(ctx))?;
            }
            let mut ins = tx
                .prepare(
                    "INSERT OR REPLACE INTO utxos (txid, vout, value, script, height, coinbase)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(store_err(ctx))?;
            for (op, coin) in created {
                ins.execute(params![
                    op.txid.to_byte_array().to_vec(),
                    op.vout as i64,
                    coin.txout.value.to_sat() as i64,
                    coin.txout.script_pubkey.as_bytes(),
                    coin.height as i64,
                    coin.coinbase as i64
                ])
                .map_err(store_err(ctx))?;
            }
            let mut mp = tx
                .prepare("DELETE FROM mempool WHERE txid = ?1")
                .map_err(store_err(ctx))?;
            for t in &block.txdata {
                mp.execute(params![t.compute_txid().to_byte_array().to_vec()])
                    .map_err(store_err(ctx))?;
            }
        }
        tx.commit().map_err(store_err(ctx))
    }

    /// Adds `new` to the mempool and removes `evicted`, atomically.
    pub(crate) fn mempool_replace(
        &mut self,
        new: Option<&Transaction>,
        evicted: &[Txid],
    ) -> Result<(), ChainError> {
        let ctx = "writing the mempool";
        let tx = self.conn.transaction().map_err(store_err(ctx))?;
        for t in evicted {
            tx.execute(
                "DELETE FROM mempool WHERE txid = ?1",
                params![t.to_byte_array().to_vec()],
            )
            .map_err(store_err(ctx))?;
        }
        if let Some(new) = new {
            tx.execute(
                "INSERT INTO mempool (txid, data) VALUES (?1, ?2)",
                params![new.compute_txid().to_byte_array().to_vec(), serialize(new)],
            )
            .map_err(store_err(ctx))?;
        }
        tx.commit().map_err(store_err(ctx))
    }
}
