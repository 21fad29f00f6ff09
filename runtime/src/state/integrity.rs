//! The store's self-check, behind [`super::Store::integrity_check`] (and `biscol state
//! --check`).
//!
//! In: a connection. Out: a list of problems, one sentence each, in a fixed order (SQLite's
//! checks first, then the store's invariants, each in row order); empty when the store is
//! sound. Only reads.

use bitcoin::consensus::encode::deserialize_hex;
use bitcoin::Transaction;
use rusqlite::{Connection, ToSql};

use super::error::{sql, StateError};
use super::schema::{user_version, SCHEMA_VERSION};
use super::status::{InstanceStatus, TransactionStatus, TxKind};
use super::types::event_kind;

/// One invariant: a query returning one text column per violation, its parameters (the
/// statuses and kinds it names, bound through their enums) and the message for a violation
/// (`{}` is the subject).
struct Invariant {
    message: &'static str,
    query: &'static str,
    params: &'static [&'static dyn ToSql],
}

/// The store's invariants, checked in this order.
const INVARIANTS: &[Invariant] = &[
    Invariant {
        message: "instance {} has no funding transaction of its own",
        query: "SELECT i.id FROM instances i
                WHERE NOT EXISTS (SELECT 1 FROM transactions t
                                  WHERE t.txid = i.funding_txid AND t.instance_id = i.id
                                    AND t.purpose = ?1)
                ORDER BY i.num",
        params: &[&TxKind::Fund],
    },
    Invariant {
        message: "instance {} has no `funding` event",
        query: "SELECT i.id FROM instances i
                WHERE NOT EXISTS (SELECT 1 FROM events e
                                  WHERE e.instance_id = i.id AND e.kind = ?1)
                ORDER BY i.num",
        params: &[&event_kind::FUNDING],
    },
    Invariant {
        message: "instance {} is spending or spent but has no spend transaction of its own",
        query: "SELECT i.id FROM instances i
                WHERE i.status IN (?1, ?2)
                  AND NOT EXISTS (SELECT 1 FROM transactions t
                                  WHERE t.txid = i.spend_txid AND t.instance_id = i.id
                                    AND t.purpose = ?3)
                ORDER BY i.num",
        params: &[
            &InstanceStatus::Spending,
            &InstanceStatus::Spent,
            &TxKind::Spend,
        ],
    },
    Invariant {
        message: "instance {} is spending or spent but no execution points at its spend \
                  transaction",
        query: "SELECT i.id FROM instances i
                WHERE i.status IN (?1, ?2)
                  AND NOT EXISTS (SELECT 1 FROM executions x
                                  WHERE x.txid = i.spend_txid AND x.instance_id = i.id)
                ORDER BY i.num",
        params: &[&InstanceStatus::Spending, &InstanceStatus::Spent],
    },
    Invariant {
        message: "instance {} has a spend transaction but is not spending or spent",
        query: "SELECT id FROM instances
                WHERE spend_txid IS NOT NULL AND status NOT IN (?1, ?2)
                ORDER BY num",
        params: &[&InstanceStatus::Spending, &InstanceStatus::Spent],
    },
    Invariant {
        message: "instance {} is funding but its funding transaction is not pending",
        query: "SELECT i.id FROM instances i JOIN transactions t ON t.txid = i.funding_txid
                WHERE i.status = ?1 AND t.status NOT IN (?2, ?3)
                ORDER BY i.num",
        params: &[
            &InstanceStatus::Funding,
            &TransactionStatus::Recorded,
            &TransactionStatus::Broadcast,
        ],
    },
    Invariant {
        message: "instance {} is confirmed but its funding transaction is not (or has no height)",
        query: "SELECT i.id FROM instances i JOIN transactions t ON t.txid = i.funding_txid
                WHERE i.status IN (?1, ?2, ?3)
                  AND (t.status <> ?4 OR i.height IS NULL OR t.height IS NOT i.height)
                ORDER BY i.num",
        params: &[
            &InstanceStatus::Deployed,
            &InstanceStatus::Spending,
            &InstanceStatus::Spent,
            &TransactionStatus::Confirmed,
        ],
    },
    Invariant {
        message: "instance {} is spending but its spend transaction is not pending",
        query: "SELECT i.id FROM instances i JOIN transactions t ON t.txid = i.spend_txid
                WHERE i.status = ?1 AND t.status NOT IN (?2, ?3)
                ORDER BY i.num",
        params: &[
            &InstanceStatus::Spending,
            &TransactionStatus::Recorded,
            &TransactionStatus::Broadcast,
        ],
    },
    Invariant {
        message: "instance {} is spent but its spend transaction or execution is not confirmed",
        query: "SELECT i.id FROM instances i JOIN transactions t ON t.txid = i.spend_txid
                JOIN executions x ON x.txid = i.spend_txid
                WHERE i.status = ?1
                  AND (t.status <> ?2 OR i.spent_height IS NULL
                       OR x.height IS NOT i.spent_height)
                ORDER BY i.num",
        params: &[&InstanceStatus::Spent, &TransactionStatus::Confirmed],
    },
    Invariant {
        message: "instance {} has more than one confirmed transaction of one purpose",
        query: "SELECT instance_id FROM transactions WHERE status = ?1
                GROUP BY instance_id, purpose HAVING COUNT(*) > 1
                ORDER BY MIN(num)",
        params: &[&TransactionStatus::Confirmed],
    },
    Invariant {
        message: "execution {} points at a transaction that is not a spend of its instance",
        query: "SELECT x.seq FROM executions x JOIN transactions t ON t.txid = x.txid
                WHERE t.instance_id <> x.instance_id OR t.purpose <> ?1
                ORDER BY x.seq",
        params: &[&TxKind::Spend],
    },
    Invariant {
        message: "instance counter {} is behind the instances numbered with it",
        query: "SELECT c.prefix FROM instance_counters c
                WHERE EXISTS (SELECT 1 FROM instances i
                              WHERE i.id = c.prefix || '-' || (c.last + 1))
                ORDER BY c.prefix",
        params: &[],
    },
];

/// Runs every check.
pub(super) fn check(conn: &Connection) -> Result<Vec<String>, StateError> {
    let ctx = "checking the store";
    let mut problems = Vec::new();
    let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(sql(ctx))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(sql(ctx))?;
    for row in rows {
        let line = row.map_err(sql(ctx))?;
        if line != "ok" {
            problems.push(format!("SQLite integrity check: {line}"));
        }
    }
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").map_err(sql(ctx))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(sql(ctx))?;
    for row in rows {
        let (table, rowid, parent) = row.map_err(sql(ctx))?;
        let rowid = rowid.map_or_else(|| "?".to_string(), |r| r.to_string());
        problems.push(format!(
            "row {rowid} of `{table}` refers to a missing row of `{parent}`"
        ));
    }
    let version = user_version(conn)?;
    if version != SCHEMA_VERSION {
        problems.push(format!(
            "schema version {version}, expected {SCHEMA_VERSION}"
        ));
    }
    for Invariant {
        message,
        query,
        params,
    } in INVARIANTS
    {
        let mut stmt = conn.prepare(query).map_err(sql(ctx))?;
        let rows = stmt
            .query_map(*params, |r| {
                r.get::<_, rusqlite::types::Value>(0).map(|v| match v {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    other => format!("{other:?}"),
                })
            })
            .map_err(sql(ctx))?;
        for row in rows {
            let subject = row.map_err(sql(ctx))?;
            problems.push(message.replacen("{}", &format!("`{subject}`"), 1));
        }
    }
    let (count, min, max): (i64, Option<i64>, Option<i64>) = conn
        .query_row("SELECT COUNT(*), MIN(seq), MAX(seq) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(sql(ctx))?;
    if count > 0 && (min != Some(1) || max != Some(count)) {
        problems.push(format!(
            "event numbers have gaps: {count} events numbered {} to {}",
            min.unwrap_or(0),
            max.unwrap_or(0)
        ));
    }
    let mut stmt = conn
        .prepare("SELECT txid, raw FROM transactions ORDER BY num")
        .map_err(sql(ctx))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(sql(ctx))?;
    for row in rows {
        let (txid, raw) = row.map_err(sql(ctx))?;
        match deserialize_hex::<Transaction>(&raw) {
            Ok(tx) if tx.compute_txid().to_string() == txid => {}
            Ok(tx) => problems.push(format!(
                "transaction `{txid}` is stored with the raw transaction of {}",
                tx.compute_txid()
            )),
            Err(e) => problems.push(format!("transaction `{txid}` does not decode: {e}")),
        }
    }
    Ok(problems)
}
