//! Checkpoints: consistent copies of the store that can be restored.
//!
//! In: a live [`Store`] with a folder. Out: `checkpoints/<id>/state.sqlite` (made with
//! `VACUUM INTO`, so it is a consistent snapshot even while the store is in WAL mode) and
//! `checkpoints/<id>/checkpoint.json` (a [`Checkpoint`]); other layers may add their own files
//! in [`Store::checkpoint_dir`].
//!
//! Invariants: a checkpoint folder appears whole or not at all (it is built as
//! `checkpoints/.tmp-<id>` and renamed, with fsyncs before and after); ids are 1, 2, 3, … in
//! the order taken. [`Store::restore`] consumes the store, so no handle on the old file
//! survives it, and swaps the file with one rename: after a crash the live store is either the
//! old one or the restored one (with its [`event_kind::RESTORED`] event), never a mix.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde_json::json;

use super::error::{corrupt, invalid, io, sql, StateError};
use super::schema::{user_version, SCHEMA_VERSION};
use super::types::{event_kind, Checkpoint};
use super::write::append_event;
use super::{last_event_seq, Store, STATE_FILE};
use crate::owner_only;

const READ_ONLY_RESTORE: &str = "a store opened to read cannot restore a checkpoint";

/// The folder of checkpoints inside the store's folder.
pub const CHECKPOINTS_DIR: &str = "checkpoints";
/// The metadata file of a checkpoint.
pub const META_FILE: &str = "checkpoint.json";

/// What a restore would undo ([`Store::restore_plan`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RestorePlan {
    /// Instances the checkpoint does not know: the restore forgets them.
    pub dropped_instances: Vec<String>,
    /// Instances the checkpoint records with another status.
    pub reverted_instances: Vec<RevertedInstance>,
    /// Transactions the checkpoint does not know.
    pub dropped_transactions: Vec<DroppedTransaction>,
}

impl RestorePlan {
    /// Whether the restore would undo nothing.
    pub fn is_empty(&self) -> bool {
        self.dropped_instances.is_empty()
            && self.reverted_instances.is_empty()
            && self.dropped_transactions.is_empty()
    }
}

/// An instance whose status a restore puts back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RevertedInstance {
    /// Its id.
    pub id: String,
    /// Its status now.
    pub now: String,
    /// Its status in the checkpoint.
    pub then: String,
}

/// A transaction a restore forgets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DroppedTransaction {
    /// Its txid.
    pub txid: String,
    /// The instance it belongs to.
    pub instance: String,
}

/// The rows of a two-column text query.
fn string_pairs(
    conn: &Connection,
    query: &str,
    context: &'static str,
) -> Result<Vec<(String, String)>, StateError> {
    let mut stmt = conn.prepare(query).map_err(sql(context))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql(context))?;
    rows.collect::<Result<_, _>>().map_err(sql(context))
}

/// Flushes a file or a folder to disk.
fn fsync(path: &Path) -> Result<(), StateError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("syncing {}", path.display())))
}

fn read_meta(folder: &Path) -> Result<Checkpoint, StateError> {
    let file = folder.join(META_FILE);
    let text = fs::read_to_string(&file).map_err(io(format!("reading {}", file.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| corrupt(format!("{} does not decode: {e}", file.display())))
}

impl Store {
    fn require_dir(&self) -> Result<&Path, StateError> {
        self.dir
            .as_deref()
            .ok_or_else(|| invalid("an in-memory store has no folder for checkpoints"))
    }

    /// The ids of the complete checkpoints, ascending.
    fn checkpoint_ids(dir: &Path) -> Result<Vec<u64>, StateError> {
        let root = dir.join(CHECKPOINTS_DIR);
        let entries = match fs::read_dir(&root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(format!("listing {}", root.display()))(e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io(format!("listing {}", root.display())))?;
            if let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// Takes a checkpoint: a consistent copy of the store in `checkpoints/<id>/`, and a
    /// [`event_kind::CHECKPOINT`] event in the live store once the copy is complete. `time`
    /// is unix seconds, given by the caller. Refused for an in-memory store.
    pub fn checkpoint(&self, label: Option<&str>, time: u64) -> Result<Checkpoint, StateError> {
        let dir = self.require_dir()?;
        let root = dir.join(CHECKPOINTS_DIR);
        owner_only::create_dir_all(&root).map_err(io(format!("creating {}", root.display())))?;
        let id = Self::checkpoint_ids(dir)?.last().map_or(1, |last| last + 1);
        let tmp = root.join(format!(".tmp-{id}"));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io(format!("removing {}", tmp.display())))?;
        }
        owner_only::create_dir_all(&tmp).map_err(io(format!("creating {}", tmp.display())))?;
        let copy = tmp.join(STATE_FILE);
        let copy_text = copy
            .to_str()
            .ok_or_else(|| invalid(format!("{} is not valid UTF-8", copy.display())))?;
        let meta = Checkpoint {
            id,
            label: label.map(str::to_string),
            time,
            last_event_seq: last_event_seq(&self.conn)?,
        };
        self.conn
            .execute("VACUUM INTO ?1", [copy_text])
            .map_err(sql("copying the store"))?;
        owner_only::restrict(&copy).map_err(io(format!("restricting {}", copy.display())))?;
        fsync(&copy)?;
        let meta_file = tmp.join(META_FILE);
        let text = serde_json::to_string_pretty(&meta)
            .map_err(|e| invalid(format!("a checkpoint does not encode: {e}")))?;
        owner_only::create_file(&meta_file)
            .and_then(|()| fs::write(&meta_file, text + "\n"))
            .map_err(io(format!("writing {}", meta_file.display())))?;
        fsync(&meta_file)?;
        fsync(&tmp)?;
        let done = root.join(id.to_string());
        fs::rename(&tmp, &done).map_err(io(format!("renaming {}", tmp.display())))?;
        fsync(&root)?;
        append_event(
            &self.conn,
            time,
            None,
            event_kind::CHECKPOINT,
            &json!({ "id": id, "label": label, "last_event_seq": meta.last_event_seq }),
        )?;
        Ok(meta)
    }

    /// The complete checkpoints, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, StateError> {
        let dir = self.require_dir()?;
        Self::checkpoint_ids(dir)?
            .into_iter()
            .map(|id| read_meta(&dir.join(CHECKPOINTS_DIR).join(id.to_string())))
            .collect()
    }

    /// The folder of checkpoint `id`, where other layers keep their own copies next to the
    /// store's. Refused for an unknown checkpoint or an in-memory store.
    pub fn checkpoint_dir(&self, id: u64) -> Result<PathBuf, StateError> {
        let folder = self
            .require_dir()?
            .join(CHECKPOINTS_DIR)
            .join(id.to_string());
        if folder.join(META_FILE).is_file() {
            Ok(folder)
        } else {
            Err(StateError::UnknownCheckpoint(id))
        }
    }

    /// What restoring checkpoint `id` would undo, compared with the live store: instances and
    /// transactions the checkpoint does not have (dropped), and instances whose status it
    /// records otherwise (put back). Reads the checkpoint's copy read-only; changes nothing.
    pub fn restore_plan(&self, id: u64) -> Result<RestorePlan, StateError> {
        let folder = self.checkpoint_dir(id)?;
        let copy = Connection::open_with_flags(
            folder.join(STATE_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(sql("opening the checkpoint's store read-only"))?;
        let statuses = |conn: &Connection| {
            string_pairs(
                conn,
                "SELECT id, status FROM instances ORDER BY num",
                "reading instances",
            )
        };
        let txids = |conn: &Connection| {
            string_pairs(
                conn,
                "SELECT txid, instance_id FROM transactions ORDER BY num",
                "reading transactions",
            )
        };
        let (then, now) = (statuses(&copy)?, statuses(&self.conn)?);
        let then_txids = txids(&copy)?;
        let mut plan = RestorePlan::default();
        for (instance, status) in now {
            match then.iter().find(|(i, _)| *i == instance) {
                None => plan.dropped_instances.push(instance),
                Some((_, old)) if *old != status => {
                    plan.reverted_instances.push(RevertedInstance {
                        id: instance,
                        now: status,
                        then: old.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        for (txid, instance) in txids(&self.conn)? {
            if !then_txids.iter().any(|(t, _)| *t == txid) {
                plan.dropped_transactions
                    .push(DroppedTransaction { txid, instance });
            }
        }
        Ok(plan)
    }

    /// Replaces the live store with checkpoint `id` and returns the store reopened, with a
    /// [`event_kind::RESTORED`] event appended (in the same file swap, so it cannot be lost).
    /// The checkpoints themselves stay.
    ///
    /// The store is consumed, so no handle on the old file survives. On error it is closed:
    /// open it again with [`Store::open`]; the live file is then the old store or the restored
    /// one, never a mix.
    pub fn restore(self, id: u64, time: u64) -> Result<Store, StateError> {
        if !self.is_writable() {
            return Err(invalid(READ_ONLY_RESTORE));
        }
        let dir = self.require_dir()?.to_path_buf();
        let folder = self.checkpoint_dir(id)?;
        let meta = read_meta(&folder)?;
        let previous_last_seq = last_event_seq(&self.conn)?;
        let live = dir.join(STATE_FILE);
        let tmp = dir.join(format!("{STATE_FILE}.restore"));
        let _ = fs::remove_file(&tmp);
        fs::copy(folder.join(STATE_FILE), &tmp)
            .and_then(|_| owner_only::restrict(&tmp))
            .map_err(io(format!("copying checkpoint {id}")))?;
        {
            let conn = Connection::open(&tmp).map_err(sql("opening the restored copy"))?;
            let version = user_version(&conn)?;
            if version > SCHEMA_VERSION {
                return Err(StateError::NewerSchema {
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            conn.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get::<_, String>(0))
                .map_err(sql("configuring the restored copy"))?;
            conn.execute_batch("PRAGMA synchronous=FULL")
                .map_err(sql("configuring the restored copy"))?;
            append_event(
                &conn,
                time,
                None,
                event_kind::RESTORED,
                &json!({
                    "checkpoint": id,
                    "label": meta.label,
                    "previous_last_seq": previous_last_seq,
                }),
            )?;
            conn.close()
                .map_err(|(_, e)| sql("closing the restored copy")(e))?;
        }
        fsync(&tmp)?;
        // Fold the write-ahead log into the old file and close it, so no log is left that
        // SQLite could apply to the new file.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql("checkpointing the write-ahead log"))?;
        let Store { conn, lock, .. } = self;
        let lock = lock.ok_or_else(|| invalid(READ_ONLY_RESTORE))?;
        conn.close().map_err(|(_, e)| sql("closing the store")(e))?;
        for suffix in ["-wal", "-shm", "-journal"] {
            let side = dir.join(format!("{STATE_FILE}{suffix}"));
            match fs::remove_file(&side) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(format!("removing {}", side.display()))(e)),
            }
        }
        fs::rename(&tmp, &live).map_err(io(format!("replacing {}", live.display())))?;
        fsync(&dir)?;
        Store::open_locked(&dir, lock)
    }
}
