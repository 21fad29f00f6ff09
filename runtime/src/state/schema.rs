//! The store's SQL schema and how a connection is set up.
//!
//! In: a fresh connection to `state.sqlite`. Out: a writer's connection ([`prepare`]) in WAL
//! mode with `synchronous=FULL`, foreign keys on and the tables present, or a reader's
//! ([`check_reader`]) that refuses writes and reads one snapshot; or an error if the file is
//! from a newer version ([`StateError::NewerSchema`]) or is not a state store.
//!
//! The schema version lives in `PRAGMA user_version`: 0 means an empty file (the tables are
//! created and the version set in one transaction), [`SCHEMA_VERSION`] is this build's.
//! Version 2 added the `identity` table ([`super::identity`]); a version 1 store is migrated
//! in one transaction when it opens, with a new store id and the chain and wallet left for the
//! session to adopt. Version 3 added the `watches` table (instances that nothing funds yet);
//! older stores get it, empty, in the same transaction.

use rusqlite::Connection;

use super::error::{sql, StateError};
use super::status::{sql_list, InstanceStatus, TransactionStatus, TxKind};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 3;

/// The statuses of the instances that wait for a transaction: those [`super::Store::pending`]
/// lists, and the condition of the partial index that serves it.
pub(crate) const PENDING_STATUSES: &[InstanceStatus] =
    &[InstanceStatus::Funding, InstanceStatus::Spending];

/// The purposes a transaction can have (a bump does what the transaction it replaces did).
const PURPOSES: &[TxKind] = &[TxKind::Fund, TxKind::Spend];

/// The tables. Statuses and kinds are checked by the database itself, so no writer can store
/// a value a reader does not know; the lists come from the enums ([`create_tables`] fills them
/// in: `{instance_statuses}` and so on).
const CREATE: &str = "
CREATE TABLE artifacts (
    id TEXT PRIMARY KEY,
    contract TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE instance_counters (
    prefix TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE instances (
    num INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    artifact_id TEXT NOT NULL REFERENCES artifacts(id),
    contract TEXT NOT NULL,
    network TEXT NOT NULL,
    args TEXT NOT NULL,
    descriptor TEXT NOT NULL,
    address TEXT NOT NULL,
    script_pubkey TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    funding_txid TEXT NOT NULL,
    funding_vout INTEGER NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ({instance_statuses})),
    height INTEGER,
    spend_txid TEXT,
    spent_height INTEGER,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE transactions (
    num INTEGER PRIMARY KEY AUTOINCREMENT,
    txid TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL REFERENCES instances(id),
    kind TEXT NOT NULL CHECK (kind IN ({kinds})),
    purpose TEXT NOT NULL CHECK (purpose IN ({purposes})),
    status TEXT NOT NULL
        CHECK (status IN ({transaction_statuses})),
    raw TEXT NOT NULL,
    fee INTEGER NOT NULL CHECK (fee >= 0),
    height INTEGER,
    replaces TEXT REFERENCES transactions(txid),
    time INTEGER NOT NULL
);
CREATE INDEX transactions_instance ON transactions(instance_id);
CREATE TABLE executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL REFERENCES instances(id),
    path TEXT NOT NULL,
    txid TEXT NOT NULL REFERENCES transactions(txid),
    args TEXT NOT NULL,
    fee INTEGER NOT NULL CHECK (fee >= 0),
    vsize INTEGER NOT NULL,
    height INTEGER,
    time INTEGER NOT NULL
);
CREATE INDEX executions_instance ON executions(instance_id);
CREATE INDEX executions_txid ON executions(txid);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    instance_id TEXT REFERENCES instances(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX events_instance ON events(instance_id);
CREATE INDEX instances_status ON instances(status) WHERE status IN ({pending_statuses});
";

/// Version 2: the state folder's identity, one row at most (see [`super::identity`]).
const IDENTITY_TABLE: &str = "
CREATE TABLE identity (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    store_id TEXT NOT NULL,
    genesis TEXT,
    wallet TEXT
);
";

/// Version 3: instances derived and watched before anything pays them (see
/// [`super::Recorder::record_watch`]); `id` is the instance id reserved for each.
const WATCHES_TABLE: &str = "
CREATE TABLE watches (
    id TEXT PRIMARY KEY,
    artifact_id TEXT NOT NULL REFERENCES artifacts(id),
    contract TEXT NOT NULL,
    network TEXT NOT NULL,
    args TEXT NOT NULL,
    descriptor TEXT NOT NULL,
    address TEXT NOT NULL,
    script_pubkey TEXT NOT NULL,
    created INTEGER NOT NULL
);
";

/// The schema's SQL text with the lists of statuses and kinds filled in from the enums.
fn create_tables() -> String {
    CREATE
        .replace("{instance_statuses}", &sql_list(InstanceStatus::ALL))
        .replace("{kinds}", &sql_list(TxKind::ALL))
        .replace("{purposes}", &sql_list(PURPOSES))
        .replace("{transaction_statuses}", &sql_list(TransactionStatus::ALL))
        .replace("{pending_statuses}", &sql_list(PENDING_STATUSES))
        + IDENTITY_TABLE
        + WATCHES_TABLE
}

/// Reads `PRAGMA user_version`.
pub(crate) fn user_version(conn: &Connection) -> Result<i64, StateError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql("reading the schema version"))
}

/// Configures a writer's `conn` (its caller holds the folder's writer lock, or it lives in
/// memory) and creates, migrates or checks the schema.
///
/// `path` is only used in messages.
pub(crate) fn prepare(conn: &mut Connection, path: &str) -> Result<(), StateError> {
    // The version is checked before anything is written, so a newer file is never touched.
    let version = user_version(conn)?;
    if version > SCHEMA_VERSION {
        return Err(StateError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    crate::writer_lock::configure_writer(conn)
        .and_then(|()| conn.execute_batch("PRAGMA foreign_keys=ON;"))
        .map_err(sql("configuring state.sqlite"))?;
    if version == 0 {
        let tables: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(sql("reading the schema"))?;
        if tables != 0 {
            return Err(StateError::NotAStateStore {
                path: path.to_string(),
            });
        }
        let tx = conn
            .transaction()
            .map_err(sql("creating the state tables"))?;
        tx.execute_batch(&create_tables())
            .map_err(sql("creating the state tables"))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql("setting the schema version"))?;
        tx.commit().map_err(sql("creating the state tables"))?;
    } else if version < SCHEMA_VERSION {
        let tx = conn.transaction().map_err(sql("migrating the store"))?;
        if version == 1 {
            tx.execute_batch(IDENTITY_TABLE)
                .map_err(sql("adding the identity table"))?;
            tx.execute(
                "INSERT INTO identity (only, store_id) VALUES (1, ?1)",
                [super::identity::new_store_id()],
            )
            .map_err(sql("adding the identity table"))?;
        }
        tx.execute_batch(WATCHES_TABLE)
            .map_err(sql("adding the watches table"))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(sql("setting the schema version"))?;
        tx.commit().map_err(sql("migrating the store"))?;
    }
    Ok(())
}

/// Checks the schema through a reader's `conn` ([`crate::writer_lock::open_reader`]), whose
/// first read this is, so it starts the snapshot every later query sees. A store that is still
/// being created (no schema yet) or migrated (an older version) by the writer that holds it is
/// [`StateError::InUse`]: it can be read once that writer is done.
pub(crate) fn check_reader(conn: &Connection, path: &str) -> Result<(), StateError> {
    let tables: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(sql("reading the schema"))?;
    match user_version(conn)? {
        SCHEMA_VERSION => Ok(()),
        found if found > SCHEMA_VERSION => Err(StateError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        }),
        0 if tables != 0 => Err(StateError::NotAStateStore {
            path: path.to_string(),
        }),
        _ => Err(StateError::InUse {
            path: path.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::create_tables;

    /// The lists come from the enums, and spell exactly what version 1 of the schema wrote.
    #[test]
    fn the_lists_of_statuses_are_filled_in_from_the_enums() {
        let sql = create_tables();
        assert!(!sql.contains('{'), "{sql}");
        for expected in [
            "CHECK (status IN ('funding', 'deployed', 'spending', 'spent', 'failed'))",
            "CHECK (kind IN ('fund', 'spend', 'bump'))",
            "CHECK (purpose IN ('fund', 'spend'))",
            "CHECK (status IN ('recorded', 'broadcast', 'confirmed', 'replaced', 'abandoned'))",
            "WHERE status IN ('funding', 'spending');",
        ] {
            assert!(sql.contains(expected), "{expected} in {sql}");
        }
    }
}
