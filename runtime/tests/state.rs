//! Tests of the contract state store (`biscol_runtime::state`): every operation, the status
//! transitions (and the refusals of illegal ones), checkpoints and restores, schema versions,
//! and crash consistency under SIGKILL (the test binary re-executes itself as the child).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use biscol_runtime::state::{
    event_kind, InstanceStatus, NewInstance, NewSpend, NewWatch, Recorder, StateError, Store,
    TransactionStatus, TxKind, SCHEMA_VERSION,
};
use bitcoin::hashes::Hash;
use bitcoin::{
    absolute, transaction, Amount, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn,
    TxOut, Txid, Witness,
};

const ARTIFACT: &str = r#"{"format":"biscol-artifact/1","contract":"Htlc"}"#;
const AMOUNT: Amount = Amount::from_sat(50_000);

fn spk(n: u8) -> ScriptBuf {
    let mut bytes = vec![0x51, 0x20];
    bytes.extend([n; 32]);
    ScriptBuf::from_bytes(bytes)
}

/// A funding transaction paying `AMOUNT` to `spk(1)` at output 0; `seed` makes it unique.
fn fund_tx(seed: u64, change: u64) -> Transaction {
    let mut prev = [0u8; 32];
    prev[..8].copy_from_slice(&seed.to_le_bytes());
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::new(Txid::from_byte_array(prev), 0),
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![
            TxOut {
                value: AMOUNT,
                script_pubkey: spk(1),
            },
            TxOut {
                value: Amount::from_sat(change),
                script_pubkey: spk(2),
            },
        ],
    }
}

/// A transaction spending `outpoint`, paying `value` to `spk(3)`.
fn spend_tx(outpoint: OutPoint, value: u64) -> Transaction {
    Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: outpoint,
            script_sig: ScriptBuf::new(),
            sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(value),
            script_pubkey: spk(3),
        }],
    }
}

fn args() -> Vec<(String, String)> {
    vec![
        ("sender".to_string(), "02aa".to_string()),
        ("hash".to_string(), "beef".to_string()),
        ("after".to_string(), "144".to_string()),
    ]
}

fn new_instance<'a>(
    artifact: &'a str,
    contract: &'a str,
    args: &'a [(String, String)],
    script: &'a ScriptBuf,
    tx: &'a Transaction,
    time: u64,
) -> NewInstance<'a> {
    NewInstance {
        artifact_id: artifact,
        contract,
        network: Network::Regtest,
        args,
        descriptor: "tr(...)",
        address: "bcrt1p...",
        script_pubkey: script,
        amount: AMOUNT,
        funding_tx: tx,
        vout: 0,
        fee: Amount::from_sat(200),
        watch: None,
        time,
    }
}

/// Records a funding of a `Htlc` with the given seed and returns the id and the transaction.
fn fund(store: &mut Store, seed: u64, time: u64) -> (String, Transaction) {
    let artifact = store.record_artifact(ARTIFACT, "Htlc").unwrap();
    let tx = fund_tx(seed, 1000);
    let script = spk(1);
    let a = args();
    let id = store
        .record_funding(&new_instance(&artifact, "Htlc", &a, &script, &tx, time))
        .unwrap();
    (id, tx)
}

fn spend<'a>(
    instance: &'a str,
    tx: &'a Transaction,
    args: &'a [(String, String)],
    time: u64,
) -> NewSpend<'a> {
    NewSpend {
        instance,
        path: "claim",
        args,
        tx,
        fee: Amount::from_sat(300),
        vsize: 150,
        time,
    }
}

fn kinds(store: &Store) -> Vec<String> {
    store
        .events_since(0, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[test]
fn artifacts_are_stored_once_under_their_hash() {
    let store = Store::open_in_memory().unwrap();
    let id = store.record_artifact(ARTIFACT, "Htlc").unwrap();
    assert_eq!(id.len(), 64);
    let expected = bitcoin::hashes::sha256::Hash::hash(ARTIFACT.as_bytes()).to_string();
    assert_eq!(id, expected);
    assert_eq!(store.record_artifact(ARTIFACT, "Htlc").unwrap(), id);
    assert_eq!(store.artifact(&id).unwrap().as_deref(), Some(ARTIFACT));
    assert_eq!(store.artifact("00").unwrap(), None);
}

#[test]
fn instance_ids_count_per_contract_name() {
    let mut store = Store::open_in_memory().unwrap();
    let artifact = store.record_artifact(ARTIFACT, "Htlc").unwrap();
    let script = spk(1);
    let a = args();
    let mut ids = Vec::new();
    for (seed, contract) in [
        (1, "Htlc"),
        (2, "Htlc"),
        (3, "Vault"),
        (4, "HTLC"),
        (5, "My-Vault"),
    ] {
        let tx = fund_tx(seed, 1000);
        ids.push(
            store
                .record_funding(&new_instance(&artifact, contract, &a, &script, &tx, 10))
                .unwrap(),
        );
    }
    assert_eq!(ids, ["htlc-1", "htlc-2", "vault-1", "htlc-3", "my_vault-1"]);
    let listed: Vec<String> = store
        .instances()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, ids);
}

#[test]
fn full_life_of_an_instance() {
    let mut store = Store::open_in_memory().unwrap();
    let (id, ftx) = fund(&mut store, 1, 100);
    let ftxid = ftx.compute_txid();

    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.status, InstanceStatus::Funding);
    assert_eq!(rec.args, args());
    assert_eq!(rec.contract, "Htlc");
    assert_eq!(rec.network, Network::Regtest);
    assert_eq!(rec.script_pubkey, spk(1));
    assert_eq!(rec.amount, AMOUNT);
    assert_eq!(rec.funding_txid, ftxid);
    assert_eq!(rec.funding_vout, 0);
    assert_eq!(rec.created, 100);
    assert_eq!(rec.transactions.len(), 1);
    assert_eq!(rec.transactions[0].kind, TxKind::Fund);
    assert_eq!(rec.transactions[0].status, TransactionStatus::Recorded);
    assert_eq!(rec.transactions[0].transaction().unwrap(), ftx);

    let pending = store.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].instance, id);
    assert_eq!(pending[0].txid, ftxid);
    assert_eq!(pending[0].tx_status, TransactionStatus::Recorded);

    store.mark_broadcast(&ftxid, 101).unwrap();
    store.mark_broadcast(&ftxid, 102).unwrap();
    assert_eq!(
        store.transaction(&ftxid).unwrap().unwrap().status,
        TransactionStatus::Broadcast
    );
    store.confirm_funding(&id, &ftxid, 7, 110).unwrap();
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.status, InstanceStatus::Deployed);
    assert_eq!(rec.height, Some(7));
    assert!(store.pending().unwrap().is_empty());

    let stx = spend_tx(OutPoint::new(ftxid, 0), 49_000);
    let sargs = vec![("preimage".to_string(), "00ff".to_string())];
    let stxid = store.record_spend(&spend(&id, &stx, &sargs, 120)).unwrap();
    assert_eq!(stxid, stx.compute_txid());
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.status, InstanceStatus::Spending);
    assert_eq!(rec.spend_txid, Some(stxid));
    assert_eq!(rec.executions.len(), 1);
    assert_eq!(rec.executions[0].path, "claim");
    assert_eq!(rec.executions[0].args, sargs);
    assert_eq!(rec.executions[0].txid, stxid);
    assert_eq!(rec.executions[0].vsize, 150);
    assert_eq!(rec.executions[0].fee, Amount::from_sat(300));
    assert_eq!(store.pending().unwrap()[0].txid, stxid);

    store.mark_broadcast(&stxid, 121).unwrap();
    store.confirm_spend(&id, &stxid, 9, 130).unwrap();
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.status, InstanceStatus::Spent);
    assert_eq!(rec.spent_height, Some(9));
    assert_eq!(rec.executions[0].height, Some(9));
    assert_eq!(rec.updated, 130);
    assert_eq!(
        rec.transactions
            .iter()
            .map(|t| t.status)
            .collect::<Vec<_>>(),
        [TransactionStatus::Confirmed, TransactionStatus::Confirmed]
    );
    assert_eq!(
        kinds(&store),
        [
            event_kind::FUNDING,
            event_kind::BROADCAST,
            event_kind::DEPLOYED,
            event_kind::SPEND_BROADCAST,
            event_kind::BROADCAST,
            event_kind::SPENT
        ]
    );
    let events = store.instance_events(&id).unwrap();
    assert_eq!(events.len(), 6);
    assert_eq!(events[5].payload["path"], "claim");
    assert_eq!(events[5].payload["height"], 9);
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());

    // The records serialize for `biscol state` output.
    let json = serde_json::to_value(&rec).unwrap();
    assert_eq!(json["status"], "spent");
    assert_eq!(json["amount"], 50_000);
    assert_eq!(json["transactions"][1]["kind"], "spend");
}

#[test]
fn illegal_transitions_are_refused_with_clear_errors() {
    let mut store = Store::open_in_memory().unwrap();
    let (id, ftx) = fund(&mut store, 1, 100);
    let ftxid = ftx.compute_txid();
    let stx = spend_tx(OutPoint::new(ftxid, 0), 49_000);
    let a = args();

    let err = store.record_spend(&spend(&id, &stx, &a, 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot record a spend of `htlc-1`: it is `funding`, not `deployed`"
    );
    let err = store
        .confirm_spend(&id, &stx.compute_txid(), 5, 1)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot confirm the spend of `htlc-1`: it is `funding`, not `spending`"
    );
    assert!(matches!(
        store.abandon_spend(&id, "why", 1),
        Err(StateError::IllegalTransition { .. })
    ));

    store.confirm_funding(&id, &ftxid, 5, 110).unwrap();
    let err = store.confirm_funding(&id, &ftxid, 5, 111).unwrap_err();
    assert!(matches!(
        err,
        StateError::IllegalTransition {
            status: InstanceStatus::Deployed,
            ..
        }
    ));
    let err = store.mark_failed(&id, "gone", 112).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot mark as failed the funding of `htlc-1`: it is `deployed`, not `funding`"
    );
    let err = store.confirm_spend(&id, &ftxid, 6, 113).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot confirm the spend of `htlc-1`: it is `deployed`, not `spending`"
    );
    // A confirmed transaction is not broadcast again.
    assert!(matches!(
        store.mark_broadcast(&ftxid, 114),
        Err(StateError::IllegalTransactionStatus {
            status: TransactionStatus::Confirmed,
            ..
        })
    ));

    // A spend must spend the instance's output.
    let wrong = spend_tx(OutPoint::new(ftxid, 1), 49_000);
    assert!(matches!(
        store.record_spend(&spend(&id, &wrong, &a, 1)),
        Err(StateError::Invalid { .. })
    ));
    let stxid = store.record_spend(&spend(&id, &stx, &a, 120)).unwrap();
    // The same transaction twice.
    let other = fund(&mut store, 2, 121).0;
    store
        .confirm_funding(&other, &fund_tx(2, 1000).compute_txid(), 5, 122)
        .unwrap();
    assert!(matches!(
        store.record_spend(&spend(&other, &stx, &a, 123)),
        Err(StateError::Invalid { .. })
    ));
    store.confirm_spend(&id, &stxid, 8, 130).unwrap();
    assert!(matches!(
        store.confirm_spend(&id, &stxid, 8, 131),
        Err(StateError::IllegalTransition {
            status: InstanceStatus::Spent,
            ..
        })
    ));
    assert!(matches!(
        store.record_bump(&stxid, &stx, Amount::from_sat(1), 132),
        Err(StateError::IllegalTransactionStatus { .. })
    ));

    // Unknown ids.
    assert!(matches!(
        store.confirm_funding("htlc-99", &ftxid, 1, 1),
        Err(StateError::UnknownInstance(ref i)) if i == "htlc-99"
    ));
    assert!(matches!(
        store.mark_broadcast(&Txid::all_zeros(), 1),
        Err(StateError::UnknownTransaction(_))
    ));
    assert!(matches!(
        store.record_refusal("nope-1", "claim", &[], 1),
        Err(StateError::UnknownInstance(_))
    ));
    assert!(store.instance("htlc-99").unwrap().is_none());
    assert!(store.transaction(&Txid::all_zeros()).unwrap().is_none());

    // Funding refusals: unknown artifact, wrong output, duplicate transaction.
    let script = spk(1);
    let tx = fund_tx(3, 1000);
    let err = store
        .record_funding(&new_instance("ab", "Htlc", &a, &script, &tx, 1))
        .unwrap_err();
    assert!(matches!(err, StateError::UnknownArtifact(_)));
    let artifact = store.artifact_id_for_test();
    let mut bad = new_instance(&artifact, "Htlc", &a, &script, &tx, 1);
    bad.vout = 1;
    assert!(matches!(
        store.record_funding(&bad),
        Err(StateError::Invalid { .. })
    ));
    bad.vout = 7;
    assert!(matches!(
        store.record_funding(&bad),
        Err(StateError::Invalid { .. })
    ));
    let dup = fund_tx(1, 1000);
    assert!(matches!(
        store.record_funding(&new_instance(&artifact, "Htlc", &a, &script, &dup, 1)),
        Err(StateError::DuplicateTransaction(_))
    ));
    // Failed operations leave nothing behind: no counter was used, no event written.
    assert_eq!(store.instances().unwrap().len(), 2);
    let id3 = store
        .record_funding(&new_instance(&artifact, "Htlc", &a, &script, &tx, 1))
        .unwrap();
    assert_eq!(id3, "htlc-3");
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
}

/// The artifact id of `ARTIFACT` (a helper so the tests read simply).
trait ArtifactId {
    fn artifact_id_for_test(&self) -> String;
}

impl ArtifactId for Store {
    fn artifact_id_for_test(&self) -> String {
        self.record_artifact(ARTIFACT, "Htlc").unwrap()
    }
}

#[test]
fn funding_bumps_and_which_version_confirms() {
    let mut store = Store::open_in_memory().unwrap();
    // The bump confirms.
    let (id, ftx) = fund(&mut store, 1, 100);
    let old = ftx.compute_txid();
    store.mark_broadcast(&old, 101).unwrap();
    let mut bumped = fund_tx(1, 800);
    bumped.output.swap(0, 1);
    let new = store
        .record_bump(&old, &bumped, Amount::from_sat(400), 102)
        .unwrap();
    assert_eq!(new, bumped.compute_txid());
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.funding_txid, new);
    assert_eq!(rec.funding_vout, 1);
    assert_eq!(rec.transactions[0].status, TransactionStatus::Replaced);
    assert_eq!(rec.transactions[1].kind, TxKind::Bump);
    assert_eq!(rec.transactions[1].purpose, TxKind::Fund);
    assert_eq!(rec.transactions[1].replaces, Some(old));
    assert_eq!(store.pending().unwrap()[0].txid, new);
    // Only the current version can be bumped.
    assert!(store
        .record_bump(&old, &fund_tx(1, 700), Amount::from_sat(500), 103)
        .is_err());
    // A bump must still pay the contract.
    let mut unpaid = fund_tx(1, 600);
    unpaid.output[0].value = Amount::from_sat(1);
    assert!(matches!(
        store.record_bump(&new, &unpaid, Amount::from_sat(500), 103),
        Err(StateError::Invalid { .. })
    ));
    store.confirm_funding(&id, &new, 3, 104).unwrap();
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());

    // The original confirms instead of the bump.
    let (id, ftx) = fund(&mut store, 2, 200);
    let old = ftx.compute_txid();
    let new = store
        .record_bump(&old, &fund_tx(2, 900), Amount::from_sat(300), 201)
        .unwrap();
    store.confirm_funding(&id, &old, 4, 202).unwrap();
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.funding_txid, old);
    assert_eq!(rec.status, InstanceStatus::Deployed);
    assert_eq!(
        store.transaction(&new).unwrap().unwrap().status,
        TransactionStatus::Replaced
    );
    assert_eq!(
        store.transaction(&old).unwrap().unwrap().status,
        TransactionStatus::Confirmed
    );
    // Another instance's transaction does not confirm this one.
    let (id3, _) = fund(&mut store, 3, 300);
    assert!(matches!(
        store.confirm_funding(&id3, &old, 5, 301),
        Err(StateError::Invalid { .. })
    ));
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn spend_bumps_repoint_the_execution() {
    let mut store = Store::open_in_memory().unwrap();
    let (id, ftx) = fund(&mut store, 1, 100);
    let op = OutPoint::new(ftx.compute_txid(), 0);
    store.confirm_funding(&id, &op.txid, 1, 101).unwrap();
    let a = args();
    let stx = spend_tx(op, 49_000);
    let s1 = store.record_spend(&spend(&id, &stx, &a, 102)).unwrap();
    let bump = spend_tx(op, 48_000);
    let s2 = store
        .record_bump(&s1, &bump, Amount::from_sat(1300), 103)
        .unwrap();
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.spend_txid, Some(s2));
    assert_eq!(rec.executions.len(), 1);
    assert_eq!(rec.executions[0].txid, s2);
    assert_eq!(rec.executions[0].fee, Amount::from_sat(1300));
    assert_eq!(rec.executions[0].vsize, bump.vsize() as u64);
    // A spend bump must spend the contract's output.
    let stray = spend_tx(OutPoint::new(op.txid, 1), 1);
    assert!(store
        .record_bump(&s2, &stray, Amount::from_sat(2000), 104)
        .is_err());
    let s3 = store
        .record_bump(&s2, &spend_tx(op, 47_000), Amount::from_sat(2300), 105)
        .unwrap();
    // The first version confirms: the execution points back at it.
    store.confirm_spend(&id, &s1, 2, 106).unwrap();
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.status, InstanceStatus::Spent);
    assert_eq!(rec.spend_txid, Some(s1));
    assert_eq!(rec.executions[0].txid, s1);
    assert_eq!(rec.executions[0].fee, Amount::from_sat(300));
    assert_eq!(rec.executions[0].height, Some(2));
    for (txid, status) in [
        (s1, TransactionStatus::Confirmed),
        (s2, TransactionStatus::Replaced),
        (s3, TransactionStatus::Replaced),
    ] {
        assert_eq!(store.transaction(&txid).unwrap().unwrap().status, status);
    }
    let bumped: Vec<_> = store
        .events_since(0, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == event_kind::BUMPED)
        .collect();
    assert_eq!(bumped.len(), 2);
    assert_eq!(bumped[0].payload["old_txid"], s1.to_string());
    assert_eq!(bumped[0].payload["purpose"], "spend");
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn refusals_failures_and_abandoned_spends() {
    let mut store = Store::open_in_memory().unwrap();
    let (id, ftx) = fund(&mut store, 1, 100);
    let reasons = vec![
        "too early: height 5 < 144".to_string(),
        "no key".to_string(),
    ];
    let seq = store.record_refusal(&id, "refund", &reasons, 101).unwrap();
    let ev = store.events_since(seq - 1, 1).unwrap().remove(0);
    assert_eq!(ev.kind, event_kind::REFUSED);
    assert_eq!(ev.instance.as_deref(), Some(id.as_str()));
    assert_eq!(ev.payload["reasons"][0], reasons[0]);
    assert_eq!(ev.payload["path"], "refund");
    assert_eq!(
        store.instance(&id).unwrap().unwrap().status,
        InstanceStatus::Funding
    );

    store.mark_failed(&id, "evicted", 102).unwrap();
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.status, InstanceStatus::Failed);
    assert_eq!(rec.transactions[0].status, TransactionStatus::Abandoned);
    assert!(store.pending().unwrap().is_empty());
    assert!(store
        .confirm_funding(&id, &ftx.compute_txid(), 1, 103)
        .is_err());

    let (id, ftx) = fund(&mut store, 2, 200);
    let op = OutPoint::new(ftx.compute_txid(), 0);
    store.confirm_funding(&id, &op.txid, 1, 201).unwrap();
    let a = args();
    let s1 = store
        .record_spend(&spend(&id, &spend_tx(op, 1), &a, 202))
        .unwrap();
    let s1b = store
        .record_bump(&s1, &spend_tx(op, 3), Amount::from_sat(900), 203)
        .unwrap();
    store.abandon_spend(&id, "conflict", 203).unwrap();
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.status, InstanceStatus::Deployed);
    assert_eq!(rec.spend_txid, None);
    for txid in [s1, s1b] {
        assert_eq!(
            store.transaction(&txid).unwrap().unwrap().status,
            TransactionStatus::Abandoned
        );
    }
    // A new spend can follow; the abandoned versions cannot confirm it.
    let s2 = store
        .record_spend(&spend(&id, &spend_tx(op, 2), &a, 204))
        .unwrap();
    assert!(matches!(
        store.confirm_spend(&id, &s1, 2, 205),
        Err(StateError::IllegalTransactionStatus {
            status: TransactionStatus::Abandoned,
            ..
        })
    ));
    store.confirm_spend(&id, &s2, 2, 205).unwrap();
    let rec = store.instance(&id).unwrap().unwrap();
    assert_eq!(rec.executions.len(), 2);
    assert_eq!(rec.executions[1].txid, s2);
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn events_page_and_custom_events() {
    let mut store = Store::open_in_memory().unwrap();
    assert_eq!(store.last_event_seq().unwrap(), 0);
    let (id, _) = fund(&mut store, 1, 100);
    let payload = serde_json::json!({ "blocks": 3, "tip": 110 });
    assert_eq!(
        store
            .record_event(None, event_kind::MINED, &payload, 101)
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .record_event(Some(&id), "note", &serde_json::json!("hello"), 102)
            .unwrap(),
        3
    );
    assert!(matches!(
        store.record_event(Some("x-1"), "note", &payload, 103),
        Err(StateError::UnknownInstance(_))
    ));
    assert_eq!(store.last_event_seq().unwrap(), 3);
    let page = store.events_since(1, 1).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].seq, 2);
    assert_eq!(page[0].payload, payload);
    assert_eq!(page[0].instance, None);
    assert_eq!(page[0].time, 101);
    assert!(store.events_since(3, 10).unwrap().is_empty());
    assert_eq!(store.events_since(0, 0).unwrap().len(), 0);
    assert_eq!(store.instance_events(&id).unwrap().len(), 2);
    // Times above i64::MAX are refused, not wrapped.
    assert!(matches!(
        store.record_event(None, "note", &payload, u64::MAX),
        Err(StateError::Invalid { .. })
    ));
    assert_eq!(store.last_event_seq().unwrap(), 3);
}

#[test]
fn batches_commit_together_or_not_at_all() {
    let mut store = Store::open_in_memory().unwrap();
    let artifact = store.record_artifact(ARTIFACT, "Htlc").unwrap();
    let script = spk(1);
    let a = args();
    let t1 = fund_tx(1, 1);
    let t2 = fund_tx(2, 1);
    {
        let mut batch = store.batch().unwrap();
        batch
            .record_funding(&new_instance(&artifact, "Htlc", &a, &script, &t1, 1))
            .unwrap();
        batch
            .record_funding(&new_instance(&artifact, "Htlc", &a, &script, &t2, 1))
            .unwrap();
        // Dropped without commit.
    }
    assert!(store.instances().unwrap().is_empty());
    assert_eq!(store.last_event_seq().unwrap(), 0);
    let mut batch = store.batch().unwrap();
    let id = batch
        .record_funding(&new_instance(&artifact, "Htlc", &a, &script, &t1, 1))
        .unwrap();
    // A failing operation inside a batch leaves the others.
    assert!(batch.confirm_spend(&id, &t1.compute_txid(), 1, 2).is_err());
    batch
        .confirm_funding(&id, &t1.compute_txid(), 1, 2)
        .unwrap();
    batch.commit().unwrap();
    assert_eq!(
        store.instance(&id).unwrap().unwrap().status,
        InstanceStatus::Deployed
    );
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn the_store_persists_and_is_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("state");
    let mut store = Store::open(&folder).unwrap();
    assert!(folder.join("state.sqlite").is_file());
    let (id, _) = fund(&mut store, 1, 100);
    let err = Store::open(&folder).unwrap_err();
    assert!(matches!(err, StateError::InUse { .. }), "{err}");
    drop(store);
    let store = Store::open(&folder).unwrap();
    assert_eq!(
        store.instance(&id).unwrap().unwrap().status,
        InstanceStatus::Funding
    );
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn newer_schema_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        let conn = rusqlite::Connection::open(dir.path().join("state.sqlite")).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StateError::NewerSchema { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION)
    );
    assert!(err.to_string().contains("upgrade BiSCOL"), "{err}");

    let other = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(other.path().join("state.sqlite")).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
    }
    assert!(matches!(
        Store::open(other.path()),
        Err(StateError::NotAStateStore { .. })
    ));

    let garbage = tempfile::tempdir().unwrap();
    std::fs::write(garbage.path().join("state.sqlite"), vec![7u8; 4096]).unwrap();
    let err = Store::open(garbage.path()).unwrap_err();
    assert!(matches!(err, StateError::Sqlite { .. }), "{err}");
}

#[test]
fn integrity_check_finds_broken_invariants() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let (id, ftx) = fund(&mut store, 1, 100);
    store
        .confirm_funding(&id, &ftx.compute_txid(), 1, 101)
        .unwrap();
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
    drop(store);
    {
        let conn = rusqlite::Connection::open(dir.path().join("state.sqlite")).unwrap();
        conn.execute_batch(
            "UPDATE instances SET status = 'spent';
             DELETE FROM events WHERE seq = 1;",
        )
        .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let problems = store.integrity_check().unwrap();
    assert!(
        problems.iter().any(|p| p.contains("no `funding` event")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("no spend transaction")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.contains("gaps")), "{problems:?}");
    drop(store);
    {
        let conn = rusqlite::Connection::open(dir.path().join("state.sqlite")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys=OFF; DELETE FROM artifacts")
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let problems = store.integrity_check().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("missing row of `artifacts`")),
        "{problems:?}"
    );
}

#[test]
fn checkpoint_and_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    assert!(store.checkpoints().unwrap().is_empty());
    let (id1, ftx) = fund(&mut store, 1, 100);
    store
        .confirm_funding(&id1, &ftx.compute_txid(), 1, 101)
        .unwrap();
    let before = store.instance(&id1).unwrap().unwrap();
    let events_before = store.events_since(0, 100).unwrap();

    let cp = store.checkpoint(Some("after deploy"), 102).unwrap();
    assert_eq!(cp.id, 1);
    assert_eq!(cp.label.as_deref(), Some("after deploy"));
    assert_eq!(cp.last_event_seq, events_before.len() as u64);
    let cp_dir = store.checkpoint_dir(1).unwrap();
    assert!(cp_dir.join("state.sqlite").is_file());
    std::fs::write(cp_dir.join("chain.txt"), "the session's copy").unwrap();
    assert!(matches!(
        store.checkpoint_dir(2),
        Err(StateError::UnknownCheckpoint(2))
    ));

    // Changes after the checkpoint.
    let op = OutPoint::new(ftx.compute_txid(), 0);
    let a = args();
    store
        .record_spend(&spend(&id1, &spend_tx(op, 1), &a, 103))
        .unwrap();
    let (id2, _) = fund(&mut store, 2, 104);
    let cp2 = store.checkpoint(None, 105).unwrap();
    assert_eq!(cp2.id, 2);
    assert_eq!(
        store
            .checkpoints()
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    let last = store.last_event_seq().unwrap();

    let store = store.restore(1, 106).unwrap();
    assert_eq!(store.instance(&id1).unwrap().unwrap(), before);
    assert!(store.instance(&id2).unwrap().is_none());
    let events = store.events_since(0, 100).unwrap();
    assert_eq!(&events[..events_before.len()], &events_before[..]);
    let restored = events.last().unwrap();
    assert_eq!(restored.kind, event_kind::RESTORED);
    assert_eq!(restored.seq, events_before.len() as u64 + 1);
    assert_eq!(restored.payload["checkpoint"], 1);
    assert_eq!(restored.payload["previous_last_seq"], last);
    assert_eq!(restored.time, 106);
    // The checkpoints and the session's files stay; new ids continue after the last.
    assert_eq!(store.checkpoints().unwrap().len(), 2);
    assert!(store.checkpoint_dir(1).unwrap().join("chain.txt").is_file());
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
    assert!(!dir.path().join("state.sqlite.restore").exists());

    // The restored store works and persists; the instance counter came back too.
    let mut store = store;
    let (id2b, _) = fund(&mut store, 3, 107);
    assert_eq!(id2b, id2);
    assert_eq!(store.checkpoint(None, 108).unwrap().id, 3);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.instance(&id2b).unwrap().is_some());
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());

    // Restoring an unknown checkpoint fails and leaves the store as it was.
    let seq = store.last_event_seq().unwrap();
    assert!(matches!(
        store.restore(9, 109),
        Err(StateError::UnknownCheckpoint(9))
    ));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.last_event_seq().unwrap(), seq);

    let memory = Store::open_in_memory().unwrap();
    assert!(matches!(
        memory.checkpoint(None, 1),
        Err(StateError::Invalid { .. })
    ));
}

// ----- Crash consistency: the store under SIGKILL.

const CHILD_ENV: &str = "BISCOL_STATE_KILL_CHILD";

/// The child side of `survives_sigkill`: when the environment names a folder, records
/// instances through their whole life forever, printing `ACK <id> <status>` after each
/// committed step. Without it, does nothing.
#[test]
fn kill_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    if let Err(e) = child_loop(Path::new(&dir)) {
        println!("ERR {e}");
        std::process::exit(3);
    }
}

fn child_loop(dir: &Path) -> Result<(), StateError> {
    let mut store = Store::open(dir)?;
    let artifact = store.record_artifact(ARTIFACT, "Htlc")?;
    let script = spk(1);
    let a = args();
    let mut seed = store.instances()?.len() as u64;
    println!("READY");
    loop {
        seed += 1;
        let time = seed * 10;
        let ftx = fund_tx(seed, 1000);
        let ftxid = ftx.compute_txid();
        let id = store.record_funding(&new_instance(&artifact, "Htlc", &a, &script, &ftx, time))?;
        println!("ACK {id} funding");
        store.mark_broadcast(&ftxid, time)?;
        if seed.is_multiple_of(7) {
            store.mark_failed(&id, "evicted", time + 1)?;
            println!("ACK {id} failed");
            continue;
        }
        store.confirm_funding(&id, &ftxid, seed as u32, time + 1)?;
        println!("ACK {id} deployed");
        if seed.is_multiple_of(5) {
            store.record_refusal(&id, "refund", &["too early".to_string()], time + 2)?;
        }
        let op = OutPoint::new(ftxid, 0);
        let mut stxid = store.record_spend(&spend(&id, &spend_tx(op, 49_000), &a, time + 2))?;
        println!("ACK {id} spending");
        if seed.is_multiple_of(3) {
            stxid = store.record_bump(
                &stxid,
                &spend_tx(op, 48_000),
                Amount::from_sat(1300),
                time + 3,
            )?;
        }
        store.mark_broadcast(&stxid, time + 3)?;
        store.confirm_spend(&id, &stxid, seed as u32 + 1, time + 4)?;
        println!("ACK {id} spent");
    }
}

fn rank(status: &str) -> u8 {
    match status {
        "funding" => 0,
        "deployed" | "failed" => 1,
        "spending" => 2,
        _ => 3,
    }
}

#[test]
fn survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // A fixed xorshift sequence: the delays vary but the test is the same every run.
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut counts = (0usize, 0u64, 0usize);
    let mut acked_total = 0;
    let mut pending_seen = 0;
    const KILLS: usize = 60;
    for round in 0..KILLS {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = Duration::from_micros(500 + rng % 25_000);
        let mut child = Command::new(&exe)
            .args(["--exact", "kill_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            let n = out.read_line(&mut line).unwrap();
            assert!(n > 0, "round {round}: the child ended before it was ready");
            assert!(!line.contains("ERR"), "round {round}: {line}");
            // libtest may print `test kill_child ... ` before it on the same line.
            if line.contains("READY") {
                break;
            }
        }
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        assert!(!rest.contains("ERR"), "round {round}: {rest}");

        let store = Store::open(dir.path()).unwrap();
        let problems = store.integrity_check().unwrap();
        assert!(problems.is_empty(), "round {round}: {problems:?}");
        // Every step the child saw committed is there.
        for ack in rest
            .lines()
            .filter_map(|l| l.find("ACK ").map(|at| &l[at + 4..]))
        {
            let (id, status) = ack.split_once(' ').unwrap();
            let rec = store
                .instance(id)
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: acknowledged {id} is missing"));
            assert!(
                rank(rec.status.as_str()) >= rank(status),
                "round {round}: {id} acknowledged {status}, found {}",
                rec.status
            );
            acked_total += 1;
        }
        // Counts only grow.
        let now = (
            store.instances().unwrap().len(),
            store.last_event_seq().unwrap(),
            store
                .instances()
                .unwrap()
                .iter()
                .filter(|s| s.status == InstanceStatus::Spent)
                .count(),
        );
        assert!(
            now.0 >= counts.0 && now.1 >= counts.1 && now.2 >= counts.2,
            "round {round}: counts went from {counts:?} to {now:?}"
        );
        counts = now;
        // Every instance has its funding transaction; spends have executions (also checked
        // by integrity_check, here through the public records).
        for summary in store.instances().unwrap() {
            let rec = store.instance(&summary.id).unwrap().unwrap();
            assert!(rec
                .transactions
                .iter()
                .any(|t| t.txid == rec.funding_txid && t.purpose == TxKind::Fund));
            if matches!(rec.status, InstanceStatus::Spending | InstanceStatus::Spent) {
                let txid = rec.spend_txid.unwrap();
                assert!(rec.executions.iter().any(|x| x.txid == txid));
                assert!(rec.transactions.iter().any(|t| t.txid == txid));
            }
        }
        pending_seen += store.pending().unwrap().len();
        let events = store.events_since(0, usize::MAX).unwrap();
        assert!(events
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == i as u64 + 1));
    }
    assert!(counts.0 > 0, "the children never recorded anything");
    eprintln!(
        "{KILLS} kills: {} instances, {} events, {} spent, {acked_total} acknowledged steps, \
         {pending_seen} pending instances seen after kills",
        counts.0, counts.1, counts.2
    );
}

/// A watch reserves an instance id from the instances' counter; its funding takes that id and
/// it leaves the list of watches; a second watch of the same script, and a funding that names
/// a watch of another script, are refused. A store reopened keeps both.
#[test]
fn a_watch_reserves_an_id_that_its_funding_takes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let (first, _) = fund(&mut store, 1, 10);
    assert_eq!(first, "htlc-1");
    let artifact = store.record_artifact(ARTIFACT, "Htlc").unwrap();
    let a = args();
    let script = spk(1);
    let watch = NewWatch {
        artifact_id: &artifact,
        contract: "Htlc",
        network: Network::Regtest,
        args: &a,
        descriptor: "tr(...)",
        address: "bcrt1p...",
        script_pubkey: &script,
        time: 11,
    };
    let id = store.record_watch(&watch).unwrap();
    assert_eq!(id, "htlc-2");
    let again = store.record_watch(&watch).unwrap_err();
    assert!(again.to_string().contains("already watched"), "{again}");
    let listed = store.watches().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id.as_str(), listed[0].args.clone()),
        ("htlc-2", a.clone())
    );
    assert!(store.instance("htlc-2").unwrap().is_none());
    assert_eq!(
        kinds(&store).last().map(String::as_str),
        Some(event_kind::WATCHING)
    );

    // A funding naming the watch of another script is refused, and changes nothing.
    let other = spk(9);
    let tx = fund_tx(2, 1000);
    let mut wrong = new_instance(&artifact, "Htlc", &a, &other, &tx, 12);
    wrong.watch = Some("htlc-2");
    assert!(store.record_funding(&wrong).is_err());
    assert_eq!(store.watches().unwrap().len(), 1);

    let mut found = new_instance(&artifact, "Htlc", &a, &script, &tx, 12);
    found.watch = Some("htlc-2");
    assert_eq!(store.record_funding(&found).unwrap(), "htlc-2");
    assert!(store.watches().unwrap().is_empty());
    assert_eq!(
        store.instance("htlc-2").unwrap().unwrap().status,
        InstanceStatus::Funding
    );
    // The id is not reused, and a found watch cannot be found twice.
    let (third, _) = fund(&mut store, 3, 13);
    assert_eq!(third, "htlc-3");
    let tx = fund_tx(4, 1000);
    let mut twice = new_instance(&artifact, "Htlc", &a, &script, &tx, 14);
    twice.watch = Some("htlc-2");
    assert!(store.record_funding(&twice).is_err());
    assert!(store.integrity_check().unwrap().is_empty());
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert!(store.watches().unwrap().is_empty());
    assert_eq!(store.instances().unwrap().len(), 3);
}
