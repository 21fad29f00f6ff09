//! The recording operations, the [`Recorder`] trait: on a [`Store`] each is one SQL
//! transaction; on a [`Batch`] several share one.
//!
//! In: the caller's requests (see each method). Out: rows in `instances`, `transactions`,
//! `executions` and `events`, or an error that leaves the store (or the batch) as it was
//! before the failed operation (in a batch each operation runs in its own savepoint).
//!
//! Invariants kept here: every state change appends its event; statuses move only along the
//! transitions documented in [`super::InstanceStatus`]; a funding transaction pays the
//! instance's script the instance's amount at the recorded output; a spend transaction (and any
//! bump of it) spends the instance's funding output; one txid is recorded at most once.

use bitcoin::consensus::encode::serialize_hex;
use bitcoin::{Amount, OutPoint, Transaction, Txid};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde_json::json;

use super::error::{invalid, sql, StateError};
use super::status::{InstanceStatus, TransactionStatus, TxKind};
use super::types::{event_kind, NewInstance, NewSpend, NewWatch};
use super::{args_to_json, col, from_i64, parse_txid, to_i64, Store};

/// A group of recording operations that commit together ([`Batch::commit`]). Dropping it
/// without committing discards them all.
#[derive(Debug)]
pub struct Batch<'a> {
    tx: rusqlite::Transaction<'a>,
}

/// What the write operations need to know about an instance.
struct InstanceState {
    status: InstanceStatus,
    script_pubkey: String,
    amount: i64,
    funding_txid: String,
    funding_vout: u32,
    spend_txid: Option<String>,
}

/// What the write operations need to know about a transaction.
struct TxState {
    instance: String,
    purpose: TxKind,
    status: TransactionStatus,
    raw: String,
    fee: i64,
}

/// Starts an `IMMEDIATE` SQL transaction (the write lock is taken at once).
fn begin(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StateError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("starting a transaction"))
}

impl<'a> Batch<'a> {
    pub(super) fn begin(conn: &'a mut Connection) -> Result<Batch<'a>, StateError> {
        Ok(Batch { tx: begin(conn)? })
    }

    /// Commits every operation of the batch at once (fsynced before this returns).
    pub fn commit(self) -> Result<(), StateError> {
        self.tx.commit().map_err(sql("committing"))
    }
}

/// How a [`Recorder`] runs one operation; not for use outside the store.
mod sealed {
    use rusqlite::Connection;

    use crate::state::StateError;

    /// Runs one recording operation so that, when it fails, it leaves nothing behind.
    pub trait RunOperation {
        /// Runs `f` on the connection, as one unit.
        fn run<T>(
            &mut self,
            f: impl FnOnce(&Connection) -> Result<T, StateError>,
        ) -> Result<T, StateError>;
    }
}

/// A [`Store`] runs each operation in its own SQL transaction, committed before it returns.
impl sealed::RunOperation for Store {
    fn run<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        let tx = begin(&mut self.conn)?;
        let out = f(&tx)?;
        tx.commit().map_err(sql("committing"))?;
        Ok(out)
    }
}

/// A [`Batch`] runs each operation in a savepoint inside its transaction, so that a failed
/// operation leaves the batch as it was before it.
impl sealed::RunOperation for Batch<'_> {
    fn run<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        self.tx
            .execute_batch("SAVEPOINT op")
            .map_err(sql("starting an operation"))?;
        match f(&self.tx) {
            Ok(value) => {
                self.tx
                    .execute_batch("RELEASE op")
                    .map_err(sql("finishing an operation"))?;
                Ok(value)
            }
            Err(e) => {
                // The operation's error is the one to report; a failing rollback also fails
                // the enclosing transaction's commit.
                let _ = self.tx.execute_batch("ROLLBACK TO op; RELEASE op");
                Err(e)
            }
        }
    }
}

impl Recorder for Store {}
impl Recorder for Batch<'_> {}

/// The recording operations, each written once: on a [`Store`] every call is its own SQL
/// transaction; on a [`Batch`] (from [`Store::batch`]) the calls commit together.
///
/// The trait is sealed: only the store's two types implement it.
pub trait Recorder: sealed::RunOperation {
    /// Records a new instance (status `funding`) with its funding transaction (kind `fund`,
    /// status `recorded`) and a [`event_kind::FUNDING`] event, and returns the instance's id,
    /// `<contract lower-case>-<n>` with `n` counting from 1 per contract name.
    ///
    /// Call it before broadcasting the funding transaction. Refused when the artifact is
    /// unknown, when output `vout` of the transaction does not pay `amount` to
    /// `script_pubkey`, when the transaction is already recorded, or when [`NewInstance::watch`]
    /// names no pending watch of that script (the instance then takes the watch's id).
    fn record_funding(&mut self, new: &NewInstance<'_>) -> Result<String, StateError> {
        self.run(|c| record_funding(c, new))
    }

    /// Records a watch: an instance derived before anything pays it, with the instance id
    /// reserved for it (`<contract lower-case>-<n>`, from the same counter as instances) and a
    /// [`event_kind::WATCHING`] event (with no instance: there is none yet). The session
    /// records the instance with [`Recorder::record_funding`] and [`NewInstance::watch`] once
    /// a payment is found. Refused when the artifact is unknown or the script is already
    /// watched.
    fn record_watch(&mut self, watch: &NewWatch<'_>) -> Result<String, StateError> {
        self.run(|c| record_watch(c, watch))
    }

    /// Notes that a recorded transaction was handed to the network (status `broadcast`, event
    /// [`event_kind::BROADCAST`]). Noting it again changes nothing; a confirmed, replaced or
    /// abandoned transaction is refused.
    fn mark_broadcast(&mut self, txid: &Txid, time: u64) -> Result<(), StateError> {
        self.run(|c| mark_broadcast(c, txid, time))
    }

    /// Notes that the funding transaction `txid` of a `funding` instance confirmed at
    /// `height`: the instance becomes `deployed` (event [`event_kind::DEPLOYED`]).
    ///
    /// `txid` is normally the current funding transaction; it may also be one it replaced
    /// (the original confirmed instead of its bump), which then becomes the instance's funding
    /// transaction while the others become `replaced`.
    fn confirm_funding(
        &mut self,
        instance: &str,
        txid: &Txid,
        height: u32,
        time: u64,
    ) -> Result<(), StateError> {
        self.run(|c| confirm_funding(c, instance, txid, height, time))
    }

    /// Records a spend of a `deployed` instance: the transaction (kind `spend`, status
    /// `recorded`), an execution, the instance `spending`, and an
    /// [`event_kind::SPEND_BROADCAST`] event. Returns the txid.
    ///
    /// Call it before broadcasting, or when the chain shows a spend this store did not make.
    /// Refused when the transaction does not spend the instance's funding output or is already
    /// recorded, but for an abandoned spend of the same instance: that one becomes the current
    /// spend again (with its execution, when it has one).
    fn record_spend(&mut self, spend: &NewSpend<'_>) -> Result<Txid, StateError> {
        self.run(|c| record_spend(c, spend))
    }

    /// Notes that the spend `txid` of a `spending` instance confirmed at `height`: the
    /// instance becomes `spent` (event [`event_kind::SPENT`]).
    ///
    /// As with [`Recorder::confirm_funding`], `txid` may be a version the current spend
    /// replaced; the execution then points at it.
    fn confirm_spend(
        &mut self,
        instance: &str,
        txid: &Txid,
        height: u32,
        time: u64,
    ) -> Result<(), StateError> {
        self.run(|c| confirm_spend(c, instance, txid, height, time))
    }

    /// Logs that a spend of `instance` along `path` was refused (event
    /// [`event_kind::REFUSED`] with the reasons) and returns the event's number. Nothing
    /// else changes.
    fn record_refusal(
        &mut self,
        instance: &str,
        path: &str,
        reasons: &[String],
        time: u64,
    ) -> Result<u64, StateError> {
        self.run(|c| {
            load_instance(c, instance)?;
            append_event(
                c,
                time,
                Some(instance),
                event_kind::REFUSED,
                &json!({ "path": path, "reasons": reasons }),
            )
        })
    }

    /// Records `new_tx` (kind `bump`, status `recorded`), which replaces the unconfirmed
    /// `old_txid` (now `replaced`); the instance (or its execution) now points at `new_tx`.
    /// Event [`event_kind::BUMPED`]. Returns the new txid.
    ///
    /// Call it before broadcasting. `old_txid` must be the current funding transaction of a
    /// `funding` instance or the current spend of a `spending` one. A funding bump must still
    /// pay the instance's amount to its script (at any output); a spend bump must still spend
    /// the funding output.
    fn record_bump(
        &mut self,
        old_txid: &Txid,
        new_tx: &Transaction,
        fee: Amount,
        time: u64,
    ) -> Result<Txid, StateError> {
        self.run(|c| record_bump(c, old_txid, new_tx, fee, time))
    }

    /// Gives up on the funding of a `funding` instance: its unconfirmed funding transactions
    /// become `abandoned` and the instance `failed` (event [`event_kind::FAILED`]).
    fn mark_failed(&mut self, instance: &str, reason: &str, time: u64) -> Result<(), StateError> {
        self.run(|c| give_up(c, instance, TxKind::Fund, reason, time))
    }

    /// Gives up on the spend of a `spending` instance: its unconfirmed spend transactions
    /// become `abandoned` and the instance is `deployed` again (event
    /// [`event_kind::SPEND_ABANDONED`]). The execution stays, pointing at its abandoned
    /// transaction.
    fn abandon_spend(&mut self, instance: &str, reason: &str, time: u64) -> Result<(), StateError> {
        self.run(|c| give_up(c, instance, TxKind::Spend, reason, time))
    }

    /// Appends an event of any kind (for example [`event_kind::MINED`]) and returns its
    /// sequence number. When `instance` is given it must exist.
    fn record_event(
        &mut self,
        instance: Option<&str>,
        kind: &str,
        payload: &serde_json::Value,
        time: u64,
    ) -> Result<u64, StateError> {
        self.run(|c| {
            if let Some(id) = instance {
                load_instance(c, id)?;
            }
            append_event(c, time, instance, kind, payload)
        })
    }
}

/// Gives up on the pending transactions of `instance` with `purpose`: a `funding` instance
/// becomes `failed`, a `spending` one `deployed` again (without a spend transaction); its
/// unconfirmed transactions of that purpose become `abandoned`.
fn give_up(
    c: &Connection,
    instance: &str,
    purpose: TxKind,
    reason: &str,
    time: u64,
) -> Result<(), StateError> {
    let st = load_instance(c, instance)?;
    let (action, allowed, to, kind, txid): (_, &'static [InstanceStatus], _, _, _) = match purpose {
        TxKind::Spend => (
            "abandon the spend",
            &[InstanceStatus::Spending],
            InstanceStatus::Deployed,
            event_kind::SPEND_ABANDONED,
            st.spend_txid,
        ),
        _ => (
            "mark as failed the funding",
            &[InstanceStatus::Funding],
            InstanceStatus::Failed,
            event_kind::FAILED,
            Some(st.funding_txid),
        ),
    };
    require(instance, action, st.status, allowed)?;
    abandon_open(c, instance, purpose)?;
    // A `funding` instance has no spend transaction, so clearing it only changes a spend.
    update_instance(
        c,
        "UPDATE instances SET status = ?2, spend_txid = NULL, updated = ?3 WHERE id = ?1",
        params![instance, to, to_i64(time, "a time")?],
    )?;
    append_event(
        c,
        time,
        Some(instance),
        kind,
        &json!({ "reason": reason, "txid": txid }),
    )?;
    Ok(())
}

/// Appends an event and returns its sequence number.
pub(super) fn append_event(
    c: &Connection,
    time: u64,
    instance: Option<&str>,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<u64, StateError> {
    let ctx = "appending an event";
    let time = to_i64(time, "a time")?;
    let seq: i64 = c
        .prepare_cached(
            "INSERT INTO events (time, instance_id, kind, payload) VALUES (?1, ?2, ?3, ?4)
             RETURNING seq",
        )
        .and_then(|mut s| {
            s.query_row(params![time, instance, kind, payload.to_string()], |r| {
                r.get(0)
            })
        })
        .map_err(sql(ctx))?;
    from_i64(seq, "an event number")
}

/// The next instance id for `prefix`: `<prefix>-<n>`, `n` counting from 1.
fn next_instance_id(c: &Connection, prefix: &str) -> Result<String, StateError> {
    let n: i64 = c
        .prepare_cached(
            "INSERT INTO instance_counters (prefix, last) VALUES (?1, 1)
             ON CONFLICT (prefix) DO UPDATE SET last = last + 1
             RETURNING last",
        )
        .and_then(|mut s| s.query_row([prefix], |r| r.get(0)))
        .map_err(sql("numbering an instance"))?;
    Ok(format!("{prefix}-{n}"))
}

fn record_watch(c: &Connection, watch: &NewWatch<'_>) -> Result<String, StateError> {
    let time = to_i64(watch.time, "a time")?;
    let prefix = id_prefix(watch.contract);
    if prefix.is_empty() {
        return Err(invalid("an instance needs a contract name"));
    }
    let artifact_known = c
        .prepare_cached("SELECT 1 FROM artifacts WHERE id = ?1")
        .and_then(|mut s| s.exists([watch.artifact_id]))
        .map_err(sql("looking up an artifact"))?;
    if !artifact_known {
        return Err(StateError::UnknownArtifact(watch.artifact_id.to_string()));
    }
    let script = watch.script_pubkey.to_hex_string();
    let pending: Option<String> = c
        .prepare_cached(
            "SELECT id FROM watches WHERE script_pubkey = ?1 AND id NOT IN (SELECT id FROM instances)",
        )
        .and_then(|mut s| s.query_row([&script], |r| r.get(0)).optional())
        .map_err(sql("looking up a watch"))?;
    if let Some(id) = pending {
        return Err(invalid(format!(
            "{} is already watched, as `{id}`",
            watch.address
        )));
    }
    let args_json = args_to_json(watch.args)?;
    let id = next_instance_id(c, &prefix)?;
    c.prepare_cached(
        "INSERT INTO watches (id, artifact_id, contract, network, args, descriptor, address,
                              script_pubkey, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            id,
            watch.artifact_id,
            watch.contract,
            watch.network.to_string(),
            args_json,
            watch.descriptor,
            watch.address,
            script,
            time,
        ])
    })
    .map_err(sql("recording a watch"))?;
    append_event(
        c,
        watch.time,
        None,
        event_kind::WATCHING,
        &json!({
            "instance": id,
            "contract": watch.contract,
            "artifact": watch.artifact_id,
            "address": watch.address,
        }),
    )?;
    Ok(id)
}

/// The prefix of an instance id: the contract name in lower case, other characters than
/// letters, digits and `_` replaced by `_`.
fn id_prefix(contract: &str) -> String {
    contract
        .chars()
        .flat_map(char::to_lowercase)
        .map(|ch| {
            if ch.is_alphanumeric() || ch == '_' {
                ch
            } else {
                '_'
            }
        })
        .collect()
}

fn require(
    instance: &str,
    action: &'static str,
    status: InstanceStatus,
    allowed: &'static [InstanceStatus],
) -> Result<(), StateError> {
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(StateError::IllegalTransition {
            instance: instance.to_string(),
            action,
            status,
            allowed,
        })
    }
}

/// The row `query` selects for `key` (its `?1`), decoded by `decode`; `None` when there is none.
fn load_one<T>(
    c: &Connection,
    query: &str,
    key: &str,
    context: &'static str,
    decode: fn(&Row<'_>) -> Result<T, StateError>,
) -> Result<Option<T>, StateError> {
    c.prepare_cached(query)
        .and_then(|mut s| s.query_row([key], |r| Ok(decode(r))).optional())
        .map_err(sql(context))?
        .transpose()
}

fn load_instance(c: &Connection, id: &str) -> Result<InstanceState, StateError> {
    load_one(
        c,
        "SELECT status, script_pubkey, amount, funding_txid, funding_vout, spend_txid
         FROM instances WHERE id = ?1",
        id,
        "reading an instance",
        instance_state_from,
    )?
    .ok_or_else(|| StateError::UnknownInstance(id.to_string()))
}

fn instance_state_from(r: &Row<'_>) -> Result<InstanceState, StateError> {
    Ok(InstanceState {
        status: InstanceStatus::parse(&col::<String>(r, 0)?)?,
        script_pubkey: col(r, 1)?,
        amount: col(r, 2)?,
        funding_txid: col(r, 3)?,
        funding_vout: from_i64(col(r, 4)?, "an output index")?,
        spend_txid: col(r, 5)?,
    })
}

fn load_tx(c: &Connection, txid: &str) -> Result<TxState, StateError> {
    load_one(
        c,
        "SELECT instance_id, purpose, status, raw, fee FROM transactions WHERE txid = ?1",
        txid,
        "reading a transaction",
        tx_state_from,
    )?
    .ok_or_else(|| StateError::UnknownTransaction(txid.to_string()))
}

fn tx_state_from(r: &Row<'_>) -> Result<TxState, StateError> {
    Ok(TxState {
        instance: col(r, 0)?,
        purpose: TxKind::parse(&col::<String>(r, 1)?)?,
        status: TransactionStatus::parse(&col::<String>(r, 2)?)?,
        raw: col(r, 3)?,
        fee: col(r, 4)?,
    })
}

fn tx_exists(c: &Connection, txid: &str) -> Result<bool, StateError> {
    c.prepare_cached("SELECT 1 FROM transactions WHERE txid = ?1")
        .and_then(|mut s| s.exists([txid]))
        .map_err(sql("looking up a transaction"))
}

#[allow(clippy::too_many_arguments)]
fn insert_tx(
    c: &Connection,
    txid: &str,
    instance: &str,
    kind: TxKind,
    purpose: TxKind,
    tx: &Transaction,
    fee: Amount,
    replaces: Option<&str>,
    time: u64,
) -> Result<(), StateError> {
    if tx_exists(c, txid)? {
        return Err(StateError::DuplicateTransaction(txid.to_string()));
    }
    let fee = to_i64(fee.to_sat(), "a fee")?;
    let time = to_i64(time, "a time")?;
    c.prepare_cached(
        "INSERT INTO transactions (txid, instance_id, kind, purpose, status, raw, fee, height,
                                   replaces, time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            txid,
            instance,
            kind,
            purpose,
            TransactionStatus::Recorded,
            serialize_hex(tx),
            fee,
            replaces,
            time,
        ])
    })
    .map_err(sql("recording a transaction"))?;
    Ok(())
}

fn update_instance(
    c: &Connection,
    query: &str,
    params: impl rusqlite::Params,
) -> Result<(), StateError> {
    c.prepare_cached(query)
        .and_then(|mut s| s.execute(params))
        .map_err(sql("updating an instance"))?;
    Ok(())
}

fn set_tx_status(
    c: &Connection,
    txid: &str,
    status: TransactionStatus,
    height: Option<u32>,
) -> Result<(), StateError> {
    c.prepare_cached(
        "UPDATE transactions SET status = ?2, height = COALESCE(?3, height) WHERE txid = ?1",
    )
    .and_then(|mut s| s.execute(params![txid, status, height]))
    .map_err(sql("updating a transaction"))?;
    Ok(())
}

/// Marks every unconfirmed transaction of `instance` with `purpose` as abandoned, the versions
/// already replaced included, so that none of them can be confirmed later as an "earlier
/// version" of a new spend.
fn abandon_open(c: &Connection, instance: &str, purpose: TxKind) -> Result<(), StateError> {
    c.prepare_cached(
        "UPDATE transactions SET status = ?3
         WHERE instance_id = ?1 AND purpose = ?2 AND status IN (?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            instance,
            purpose,
            TransactionStatus::Abandoned,
            TransactionStatus::Recorded,
            TransactionStatus::Broadcast,
            TransactionStatus::Replaced,
        ])
    })
    .map_err(sql("abandoning transactions"))?;
    Ok(())
}

/// Marks every unconfirmed transaction of `instance` with `purpose`, other than `keep`, as
/// replaced.
fn replace_others(
    c: &Connection,
    instance: &str,
    purpose: TxKind,
    keep: &str,
) -> Result<(), StateError> {
    c.prepare_cached(
        "UPDATE transactions SET status = ?4
         WHERE instance_id = ?1 AND purpose = ?2 AND txid <> ?3 AND status IN (?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            instance,
            purpose,
            keep,
            TransactionStatus::Replaced,
            TransactionStatus::Recorded,
            TransactionStatus::Broadcast,
        ])
    })
    .map_err(sql("replacing transactions"))?;
    Ok(())
}

/// The output of `tx` that pays `amount` to the script given in hex.
fn paying_output(tx: &Transaction, script_hex: &str, amount: i64) -> Option<u32> {
    tx.output
        .iter()
        .position(|out| {
            i64::try_from(out.value.to_sat()) == Ok(amount)
                && out.script_pubkey.to_hex_string() == script_hex
        })
        .and_then(|i| u32::try_from(i).ok())
}

fn spends(tx: &Transaction, outpoint: &OutPoint) -> bool {
    tx.input.iter().any(|i| i.previous_output == *outpoint)
}

fn funding_outpoint(st: &InstanceState) -> Result<OutPoint, StateError> {
    Ok(OutPoint::new(
        parse_txid(&st.funding_txid)?,
        st.funding_vout,
    ))
}

fn decode(raw: &str, txid: &str) -> Result<Transaction, StateError> {
    bitcoin::consensus::encode::deserialize_hex(raw)
        .map_err(|e| super::corrupt(format!("transaction {txid} does not decode: {e}")))
}

fn record_funding(c: &Connection, new: &NewInstance<'_>) -> Result<String, StateError> {
    let time = to_i64(new.time, "a time")?;
    let amount = to_i64(new.amount.to_sat(), "an amount")?;
    to_i64(new.fee.to_sat(), "a fee")?;
    let prefix = id_prefix(new.contract);
    if prefix.is_empty() {
        return Err(invalid("an instance needs a contract name"));
    }
    let artifact_known = c
        .prepare_cached("SELECT 1 FROM artifacts WHERE id = ?1")
        .and_then(|mut s| s.exists([new.artifact_id]))
        .map_err(sql("looking up an artifact"))?;
    if !artifact_known {
        return Err(StateError::UnknownArtifact(new.artifact_id.to_string()));
    }
    let args_json = args_to_json(new.args)?;
    let txid = new.funding_tx.compute_txid().to_string();
    let pays = usize::try_from(new.vout)
        .ok()
        .and_then(|v| new.funding_tx.output.get(v))
        .is_some_and(|out| {
            out.value == new.amount && out.script_pubkey.as_script() == new.script_pubkey
        });
    if !pays {
        return Err(invalid(format!(
            "output {} of funding transaction {txid} does not pay {} to the contract's script",
            new.vout, new.amount
        )));
    }
    if tx_exists(c, &txid)? {
        return Err(StateError::DuplicateTransaction(txid));
    }
    let id = match new.watch {
        Some(watch) => {
            let script: Option<String> = c
                .prepare_cached(
                    "SELECT script_pubkey FROM watches
                     WHERE id = ?1 AND id NOT IN (SELECT id FROM instances)",
                )
                .and_then(|mut s| s.query_row([watch], |r| r.get(0)).optional())
                .map_err(sql("reading a watch"))?;
            if script.as_deref() != Some(new.script_pubkey.to_hex_string().as_str()) {
                return Err(invalid(format!(
                    "`{watch}` is not a pending watch of this contract's script"
                )));
            }
            watch.to_string()
        }
        None => next_instance_id(c, &prefix)?,
    };
    c.prepare_cached(
        "INSERT INTO instances (id, artifact_id, contract, network, args, descriptor, address,
                                script_pubkey, amount, funding_txid, funding_vout, status,
                                created, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
    )
    .and_then(|mut s| {
        s.execute(params![
            id,
            new.artifact_id,
            new.contract,
            new.network.to_string(),
            args_json,
            new.descriptor,
            new.address,
            new.script_pubkey.to_hex_string(),
            amount,
            txid,
            new.vout,
            InstanceStatus::Funding,
            time,
        ])
    })
    .map_err(sql("recording an instance"))?;
    insert_tx(
        c,
        &txid,
        &id,
        TxKind::Fund,
        TxKind::Fund,
        new.funding_tx,
        new.fee,
        None,
        new.time,
    )?;
    append_event(
        c,
        new.time,
        Some(&id),
        event_kind::FUNDING,
        &json!({
            "contract": new.contract,
            "artifact": new.artifact_id,
            "address": new.address,
            "amount": new.amount.to_sat(),
            "txid": txid,
            "vout": new.vout,
            "fee": new.fee.to_sat(),
        }),
    )?;
    Ok(id)
}

fn mark_broadcast(c: &Connection, txid: &Txid, time: u64) -> Result<(), StateError> {
    let txid = txid.to_string();
    let tx = load_tx(c, &txid)?;
    match tx.status {
        TransactionStatus::Broadcast => Ok(()),
        TransactionStatus::Recorded => {
            set_tx_status(c, &txid, TransactionStatus::Broadcast, None)?;
            append_event(
                c,
                time,
                Some(&tx.instance),
                event_kind::BROADCAST,
                &json!({ "txid": txid, "purpose": tx.purpose.as_str() }),
            )?;
            Ok(())
        }
        status => Err(StateError::IllegalTransactionStatus {
            txid,
            action: "mark as broadcast",
            status,
        }),
    }
}

/// Checks that `txid` is a transaction of `instance` with `purpose` that may still confirm.
fn confirmable(
    c: &Connection,
    instance: &str,
    txid: &str,
    purpose: TxKind,
    action: &'static str,
) -> Result<TxState, StateError> {
    let tx = load_tx(c, txid)?;
    if tx.instance != instance || tx.purpose != purpose {
        return Err(invalid(format!(
            "transaction {txid} is not a {} transaction of `{instance}`",
            match purpose {
                TxKind::Spend => "spend",
                _ => "funding",
            }
        )));
    }
    match tx.status {
        TransactionStatus::Recorded
        | TransactionStatus::Broadcast
        | TransactionStatus::Replaced => Ok(tx),
        status => Err(StateError::IllegalTransactionStatus {
            txid: txid.to_string(),
            action,
            status,
        }),
    }
}

/// The start of a confirmation: the instance must wait for a transaction of `purpose`, and
/// `txid` must be one of its transactions of that purpose that may still confirm. Returns the
/// instance, the txid as stored and the transaction.
fn confirmation(
    c: &Connection,
    instance: &str,
    txid: &Txid,
    purpose: TxKind,
) -> Result<(InstanceState, String, TxState), StateError> {
    let st = load_instance(c, instance)?;
    let (action, allowed): (_, &'static [InstanceStatus]) = match purpose {
        TxKind::Spend => ("confirm the spend", &[InstanceStatus::Spending]),
        _ => ("confirm the funding", &[InstanceStatus::Funding]),
    };
    require(instance, action, st.status, allowed)?;
    let txid = txid.to_string();
    let tx = confirmable(c, instance, &txid, purpose, "confirm")?;
    Ok((st, txid, tx))
}

fn confirm_funding(
    c: &Connection,
    instance: &str,
    txid: &Txid,
    height: u32,
    time: u64,
) -> Result<(), StateError> {
    let (st, txid, tx) = confirmation(c, instance, txid, TxKind::Fund)?;
    let vout = if txid == st.funding_txid {
        st.funding_vout
    } else {
        paying_output(&decode(&tx.raw, &txid)?, &st.script_pubkey, st.amount).ok_or_else(|| {
            invalid(format!(
                "transaction {txid} does not pay the amount of `{instance}` to its script"
            ))
        })?
    };
    replace_others(c, instance, TxKind::Fund, &txid)?;
    set_tx_status(c, &txid, TransactionStatus::Confirmed, Some(height))?;
    update_instance(
        c,
        "UPDATE instances SET status = ?2, height = ?3, funding_txid = ?4, funding_vout = ?5,
                              updated = ?6
         WHERE id = ?1",
        params![
            instance,
            InstanceStatus::Deployed,
            height,
            txid,
            vout,
            to_i64(time, "a time")?
        ],
    )?;
    append_event(
        c,
        time,
        Some(instance),
        event_kind::DEPLOYED,
        &json!({ "txid": txid, "vout": vout, "height": height }),
    )?;
    Ok(())
}

fn record_spend(c: &Connection, spend: &NewSpend<'_>) -> Result<Txid, StateError> {
    let time = to_i64(spend.time, "a time")?;
    let fee = to_i64(spend.fee.to_sat(), "a fee")?;
    let vsize = to_i64(spend.vsize, "a vsize")?;
    let st = load_instance(c, spend.instance)?;
    require(
        spend.instance,
        "record a spend",
        st.status,
        &[InstanceStatus::Deployed],
    )?;
    let outpoint = funding_outpoint(&st)?;
    let txid = spend.tx.compute_txid();
    if !spends(spend.tx, &outpoint) {
        return Err(invalid(format!(
            "transaction {txid} does not spend {outpoint}, the output of `{}`",
            spend.instance
        )));
    }
    let txid_hex = txid.to_string();
    let args_json = args_to_json(spend.args)?;
    if tx_exists(c, &txid_hex)? {
        // A spend of this instance that was abandoned may still reach the chain (someone else
        // broadcast it): it becomes the current spend again.
        let known = load_tx(c, &txid_hex)?;
        if known.instance != spend.instance
            || known.purpose != TxKind::Spend
            || known.status != TransactionStatus::Abandoned
        {
            return Err(StateError::DuplicateTransaction(txid_hex));
        }
        set_tx_status(c, &txid_hex, TransactionStatus::Recorded, None)?;
    } else {
        insert_tx(
            c,
            &txid_hex,
            spend.instance,
            TxKind::Spend,
            TxKind::Spend,
            spend.tx,
            spend.fee,
            None,
            spend.time,
        )?;
    }
    let has_execution: bool = c
        .prepare_cached("SELECT 1 FROM executions WHERE txid = ?1")
        .and_then(|mut s| s.exists([&txid_hex]))
        .map_err(sql("looking up an execution"))?;
    if !has_execution {
        c.prepare_cached(
            "INSERT INTO executions (instance_id, path, txid, args, fee, vsize, height, time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                spend.instance,
                spend.path,
                txid_hex,
                args_json,
                fee,
                vsize,
                time,
            ])
        })
        .map_err(sql("recording an execution"))?;
    }
    update_instance(
        c,
        "UPDATE instances SET status = ?2, spend_txid = ?3, updated = ?4 WHERE id = ?1",
        params![spend.instance, InstanceStatus::Spending, txid_hex, time],
    )?;
    append_event(
        c,
        spend.time,
        Some(spend.instance),
        event_kind::SPEND_BROADCAST,
        &json!({
            "path": spend.path,
            "args": spend.args.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "txid": txid_hex,
            "fee": spend.fee.to_sat(),
            "vsize": spend.vsize,
        }),
    )?;
    Ok(txid)
}

fn confirm_spend(
    c: &Connection,
    instance: &str,
    txid: &Txid,
    height: u32,
    time: u64,
) -> Result<(), StateError> {
    let (st, txid, tx) = confirmation(c, instance, txid, TxKind::Spend)?;
    let current = st.spend_txid.clone().unwrap_or_default();
    if txid != current {
        // An earlier version confirmed: the execution takes its txid, fee and size.
        let vsize = to_i64(decode(&tx.raw, &txid)?.vsize() as u64, "a vsize")?;
        c.prepare_cached("UPDATE executions SET txid = ?2, fee = ?3, vsize = ?4 WHERE txid = ?1")
            .and_then(|mut s| s.execute(params![current, txid, tx.fee, vsize]))
            .map_err(sql("updating an execution"))?;
    }
    replace_others(c, instance, TxKind::Spend, &txid)?;
    set_tx_status(c, &txid, TransactionStatus::Confirmed, Some(height))?;
    c.prepare_cached("UPDATE executions SET height = ?2 WHERE txid = ?1")
        .and_then(|mut s| s.execute(params![txid, height]))
        .map_err(sql("updating an execution"))?;
    update_instance(
        c,
        "UPDATE instances SET status = ?2, spend_txid = ?3, spent_height = ?4, updated = ?5
         WHERE id = ?1",
        params![
            instance,
            InstanceStatus::Spent,
            txid,
            height,
            to_i64(time, "a time")?
        ],
    )?;
    let path: Option<String> = c
        .prepare_cached("SELECT path FROM executions WHERE txid = ?1")
        .and_then(|mut s| s.query_row([&txid], |r| r.get(0)).optional())
        .map_err(sql("reading an execution"))?;
    append_event(
        c,
        time,
        Some(instance),
        event_kind::SPENT,
        &json!({ "txid": txid, "height": height, "path": path }),
    )?;
    Ok(())
}

fn record_bump(
    c: &Connection,
    old_txid: &Txid,
    new_tx: &Transaction,
    fee: Amount,
    time: u64,
) -> Result<Txid, StateError> {
    let time_i = to_i64(time, "a time")?;
    let fee_i = to_i64(fee.to_sat(), "a fee")?;
    let old = old_txid.to_string();
    let tx = load_tx(c, &old)?;
    if !matches!(
        tx.status,
        TransactionStatus::Recorded | TransactionStatus::Broadcast
    ) {
        return Err(StateError::IllegalTransactionStatus {
            txid: old,
            action: "bump",
            status: tx.status,
        });
    }
    let instance = tx.instance;
    let st = load_instance(c, &instance)?;
    let new_txid = new_tx.compute_txid();
    let new = new_txid.to_string();
    match tx.purpose {
        TxKind::Spend => {
            require(
                &instance,
                "bump the spend",
                st.status,
                &[InstanceStatus::Spending],
            )?;
            if st.spend_txid.as_deref() != Some(old.as_str()) {
                return Err(invalid(format!(
                    "transaction {old} is not the current spend of `{instance}`"
                )));
            }
            let outpoint = funding_outpoint(&st)?;
            if !spends(new_tx, &outpoint) {
                return Err(invalid(format!(
                    "bump {new} does not spend {outpoint}, the output of `{instance}`"
                )));
            }
            insert_tx(
                c,
                &new,
                &instance,
                TxKind::Bump,
                TxKind::Spend,
                new_tx,
                fee,
                Some(&old),
                time,
            )?;
            let vsize = to_i64(new_tx.vsize() as u64, "a vsize")?;
            c.prepare_cached(
                "UPDATE executions SET txid = ?2, fee = ?3, vsize = ?4 WHERE txid = ?1",
            )
            .and_then(|mut s| s.execute(params![old, new, fee_i, vsize]))
            .map_err(sql("updating an execution"))?;
            update_instance(
                c,
                "UPDATE instances SET spend_txid = ?2, updated = ?3 WHERE id = ?1",
                params![instance, new, time_i],
            )?;
        }
        _ => {
            require(
                &instance,
                "bump the funding",
                st.status,
                &[InstanceStatus::Funding],
            )?;
            if st.funding_txid != old {
                return Err(invalid(format!(
                    "transaction {old} is not the current funding transaction of `{instance}`"
                )));
            }
            let vout = paying_output(new_tx, &st.script_pubkey, st.amount).ok_or_else(|| {
                invalid(format!(
                    "bump {new} does not pay the amount of `{instance}` to its script"
                ))
            })?;
            insert_tx(
                c,
                &new,
                &instance,
                TxKind::Bump,
                TxKind::Fund,
                new_tx,
                fee,
                Some(&old),
                time,
            )?;
            update_instance(
                c,
                "UPDATE instances SET funding_txid = ?2, funding_vout = ?3, updated = ?4
                 WHERE id = ?1",
                params![instance, new, vout, time_i],
            )?;
        }
    }
    set_tx_status(c, &old, TransactionStatus::Replaced, None)?;
    append_event(
        c,
        time,
        Some(&instance),
        event_kind::BUMPED,
        &json!({
            "old_txid": old,
            "txid": new,
            "purpose": tx.purpose.as_str(),
            "old_fee": tx.fee,
            "fee": fee.to_sat(),
        }),
    )?;
    Ok(new_txid)
}
