//! Agreement of the embedded chain with a real regtest Bitcoin Core node (`common/bitcoind.rs`)
//! on mempool acceptance and on blocks, over the stdlib scenario (`common/e2e.rs`).
//!
//! The scenario runs on a session whose chain is a [`Mirror`]: the embedded chain answers
//! every read and mines; Core follows it.
//!
//! * Mempool: every transaction the scenario broadcasts, and variants of it that must be
//!   refused (a broken signature, a fee below the relay fee, value creation, a missing input,
//!   a height and a time BIP68 lock, a nLockTime in the future, dust, a non-standard version),
//!   is offered to the embedded chain's dry run (`EmbeddedChain::test_accept`) and to Core's
//!   (`testmempoolaccept`, through `CoreRpcChain::test_accept`), at the same state. Both must
//!   accept the same ones, with the same fee and virtual size; for those both refuse, Core's
//!   reason mapped to a `TxReject` (numbers recomputed from Core's chain) must equal the
//!   embedded chain's, and `sendrawtransaction` (`CoreRpcChain::broadcast`) must report the
//!   same (but for a transaction already in its mempool, which `sendrawtransaction` answers
//!   with its txid, as `CoreRpcChain` documents). Once accepted, the transaction again (already in the mempool) and a replacement
//!   paying one satoshi less are compared; once confirmed, the transaction again (already
//!   known) and a double spend of its input.
//! * Spenders: whenever the session asks who spent an output, both chains must name the same
//!   transaction at the same place (Core through `gettxout`, `gettxspendingprevout` and its
//!   blocks).
//! * Blocks: every block the embedded chain mines goes to Core's `submitblock`, which must
//!   accept it; then both tips (hash, median time past) must agree. Time: the embedded chain
//!   stamps blocks with the wall clock plus any advance (`mine --advance`, two days in the
//!   scenario), beyond Core's two-hour future limit (`time-too-new`); Core's clock is moved to
//!   each block's time with `setmocktime` before the block is submitted (regtest only), so
//!   Core judges every block as if it were mined now.
//!
//! The counts are printed. Skipped (printing why) when no `bitcoind` is found; CI sets
//! `BISCOL_REQUIRE_BITCOIND=1`.

// The node harness is not in `common/mod.rs`: the oracle crate includes that file and has no
// `corepc-node`.
#[path = "common/bitcoind.rs"]
mod bitcoind;
mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use biscol_runtime::chain::embedded::{Acceptance, EmbeddedChain};
use biscol_runtime::chain::rpc::{Auth, CoreRpcChain};
use biscol_runtime::chain::{ChainBackend, ChainError, Spending, Tip, TxReject, TxStatus, Utxo};
use biscol_runtime::project::StateLayout;
use biscol_runtime::session::{Session, SessionOptions};
use bitcoin::consensus::encode::serialize_hex;
use bitcoin::hashes::{sha256d, Hash};
use bitcoin::{
    absolute, transaction, Amount, BlockHash, Network, OutPoint, Script, Sequence, Transaction,
    TxOut, Txid,
};
use bitcoincore_rpc::RpcApi;
use bitcoind::CoreNode;
use common::e2e::{check_coverage, stdlib_scenario_with, Options};
use serde_json::{json, Value};

/// What the comparisons found.
#[derive(Debug, Default)]
struct Log {
    /// Transactions offered to both (scenario transactions and variants).
    compared: usize,
    /// Accepted by both, with the same fee and size.
    accepted: usize,
    /// Refused by both for the same reason.
    refused: usize,
    /// Refused by both: how many of each reason (the embedded chain's `TxReject` variant).
    reasons: std::collections::BTreeMap<String, usize>,
    /// Blocks Core accepted from the embedded chain.
    blocks: usize,
    /// Outputs whose spender both chains were asked for (reconciliation asks for every
    /// deployed instance's).
    spenders: usize,
    /// Every disagreement, described.
    differences: Vec<String>,
}

/// A chain backend: the embedded chain, with Bitcoin Core following and checked at each step.
struct Mirror {
    embedded: EmbeddedChain,
    core: CoreRpcChain,
    raw: bitcoincore_rpc::Client,
    /// Core's mocked clock (0: not mocked yet).
    clock: u32,
    log: Arc<Mutex<Log>>,
}

fn variant_name(r: &TxReject) -> String {
    format!("{r:?}")
        .split([' ', '{', '('])
        .next()
        .unwrap_or("")
        .to_string()
}

impl Mirror {
    fn differ(&self, what: String) {
        eprintln!("DIFFERENCE: {what}");
        self.log.lock().unwrap().differences.push(what);
    }

    /// Offers `tx` to both dry runs and compares; `label` says what it is.
    fn compare(&mut self, label: &str, tx: &Transaction) {
        let embedded: Result<Acceptance, TxReject> = self
            .embedded
            .test_accept(std::slice::from_ref(tx))
            .remove(0);
        let core = self.core.test_accept(tx);
        self.log.lock().unwrap().compared += 1;
        match (&embedded, &core) {
            (Ok(a), Ok(b)) if a == b => self.log.lock().unwrap().accepted += 1,
            (Err(a), Err(ChainError::Rejected { reason: b, .. })) if a == b => {
                {
                    let mut log = self.log.lock().unwrap();
                    log.refused += 1;
                    *log.reasons.entry(variant_name(a)).or_default() += 1;
                }
                // sendrawtransaction reports the same (a refused transaction changes nothing),
                // except that Core answers a transaction already in its mempool with its txid
                // (documented on `CoreRpcChain`).
                let in_mempool = self.embedded.mempool_txids().contains(&tx.compute_txid());
                match self.core.broadcast(tx) {
                    Err(ChainError::Rejected { reason, .. }) if &reason == a => {}
                    Ok(txid)
                        if *a == TxReject::AlreadyKnown
                            && in_mempool
                            && txid == tx.compute_txid() => {}
                    other => self.differ(format!(
                        "{label} {}: testmempoolaccept and the embedded chain say {a:?}, sendrawtransaction {other:?}",
                        tx.compute_txid()
                    )),
                }
            }
            _ => self.differ(format!(
                "{label} {}: embedded {embedded:?}, Core {core:?}",
                tx.compute_txid()
            )),
        }
    }

    /// The outputs `tx` spends, from the embedded chain (`None` when one is unknown).
    fn prevouts(&self, tx: &Transaction) -> Option<Vec<TxOut>> {
        tx.input
            .iter()
            .map(|i| {
                let prev = self.embedded.transaction(&i.previous_output.txid).ok()??;
                prev.output.get(i.previous_output.vout as usize).cloned()
            })
            .collect()
    }

    /// Variants of `tx` that Core and the embedded chain must both refuse (signatures are
    /// not redone: Core checks these rules before the scripts).
    fn refused_variants(&self, tx: &Transaction) -> Vec<(&'static str, Transaction)> {
        let mut out = Vec::new();
        let Some(prevouts) = self.prevouts(tx) else {
            return out;
        };
        let in_value: u64 = prevouts.iter().map(|o| o.value.to_sat()).sum();
        let out_value: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
        let fee = in_value - out_value;
        let vsize = tx.vsize() as u64;

        // A signature (the first 64- or 65-byte witness element) with one bit flipped.
        let mut v = tx.clone();
        let mut items: Vec<Vec<u8>> = v.input[0].witness.iter().map(<[u8]>::to_vec).collect();
        if let Some(sig) = items.iter_mut().find(|w| w.len() == 64 || w.len() == 65) {
            sig[10] ^= 1;
            v.input[0].witness = bitcoin::Witness::from_slice(&items);
            out.push(("broken signature", v));
        }
        // A fee one satoshi below the relay fee (1 sat/vB), taken from the first output.
        if fee >= vsize {
            let mut v = tx.clone();
            v.output[0].value += Amount::from_sat(fee - vsize + 1);
            out.push(("fee below the relay fee", v));
        }
        // Outputs worth one satoshi more than the inputs.
        let mut v = tx.clone();
        v.output[0].value += Amount::from_sat(fee + 1);
        out.push(("value creation", v));
        // An input that never existed.
        let mut v = tx.clone();
        v.input[0].previous_output.txid = Txid::from_raw_hash(sha256d::Hash::hash(b"nowhere"));
        out.push(("missing input", v));
        // nLockTime at the next block's height: not final yet.
        let mut v = tx.clone();
        v.lock_time =
            absolute::LockTime::from_height(self.embedded.height() + 1).expect("a height lock");
        for i in &mut v.input {
            if i.sequence == Sequence::MAX {
                i.sequence = Sequence::ENABLE_LOCKTIME_NO_RBF;
            }
        }
        out.push(("non-final", v));
        // BIP68 locks the coin cannot meet yet: 1000 blocks, 1000 × 512 s.
        if tx.version >= transaction::Version::TWO {
            let mut v = tx.clone();
            v.input[0].sequence = Sequence::from_height(1000);
            out.push(("BIP68 height lock", v));
            let mut v = tx.clone();
            v.input[0].sequence = Sequence::from_512_second_intervals(1000);
            out.push(("BIP68 time lock", v));
        }
        // Dust: the first output worth 100 sat (the rest goes to the fee).
        if tx.output[0].value.to_sat() > 100 {
            let mut v = tx.clone();
            v.output[0].value = Amount::from_sat(100);
            out.push(("dust", v));
        }
        // A version outside 1..=3.
        let mut v = tx.clone();
        v.version = transaction::Version(4);
        out.push(("version 4", v));
        out
    }

    /// Core's clock at least at `time` (never backwards).
    fn clock_at_least(&mut self, time: u32) {
        if time > self.clock {
            self.raw
                .call::<Value>("setmocktime", &[json!(time)])
                .expect("setmocktime");
            self.clock = time;
        }
    }
}

impl ChainBackend for Mirror {
    fn broadcast(&mut self, tx: &Transaction) -> Result<Txid, ChainError> {
        self.compare("scenario transaction", tx);
        for (label, v) in self.refused_variants(tx) {
            self.compare(label, &v);
        }
        let embedded = self.embedded.broadcast(tx);
        let core = self.core.broadcast(tx);
        match (&embedded, &core) {
            (Ok(a), Ok(b)) if a == b => {
                self.compare("already in the mempool", tx);
                let mut v = tx.clone();
                v.output[0].value += Amount::from_sat(1);
                self.compare("replacement paying 1 sat less", &v);
                // A replacement paying more in all but less per vbyte: 1000 bytes of OP_RETURN,
                // the fee raised by one satoshi per new vbyte.
                let mut v = tx.clone();
                v.output.push(TxOut {
                    value: Amount::ZERO,
                    script_pubkey: bitcoin::ScriptBuf::new_op_return(
                        <&bitcoin::script::PushBytes>::try_from(&[0x42u8; 1000][..])
                            .expect("1000 bytes push"),
                    ),
                });
                let more = v.vsize() as u64 + 1;
                if v.output[0].value.to_sat() > more + 1000 {
                    v.output[0].value -= Amount::from_sat(more);
                    self.compare("replacement paying less per vbyte", &v);
                }
            }
            (
                Err(ChainError::Rejected { reason: a, .. }),
                Err(ChainError::Rejected { reason: b, .. }),
            ) if a == b => {}
            _ => self.differ(format!(
                "broadcast {}: embedded {embedded:?}, Core {core:?}",
                tx.compute_txid()
            )),
        }
        embedded
    }

    fn utxos(&self, script_pubkey: &Script) -> Result<Vec<Utxo>, ChainError> {
        self.embedded.utxos(script_pubkey)
    }

    fn tx_status(&self, txid: &Txid) -> Result<TxStatus, ChainError> {
        self.embedded.tx_status(txid)
    }

    fn transaction(&self, txid: &Txid) -> Result<Option<Transaction>, ChainError> {
        self.embedded.transaction(txid)
    }

    fn spending_tx(
        &self,
        outpoint: &OutPoint,
        created_at: u32,
    ) -> Result<Option<Spending>, ChainError> {
        // Both chains must name the same spender, found where each finds it.
        let embedded = self.embedded.spending_tx(outpoint, created_at)?;
        let core = self.core.spending_tx(outpoint, created_at)?;
        self.log.lock().unwrap().spenders += 1;
        if embedded != core {
            self.differ(format!(
                "spender of {outpoint}: embedded {:?}, Core {:?}",
                embedded.as_ref().map(|s| (s.tx.compute_txid(), s.status)),
                core.as_ref().map(|s| (s.tx.compute_txid(), s.status)),
            ));
        }
        Ok(embedded)
    }

    fn tip(&self) -> Result<Tip, ChainError> {
        self.embedded.tip()
    }

    fn median_time_past_at(&self, height: u32) -> Result<u32, ChainError> {
        self.embedded.median_time_past_at(height)
    }

    fn mine(
        &mut self,
        count: u32,
        script_pubkey: &Script,
        time_advance: Option<u32>,
    ) -> Result<Vec<BlockHash>, ChainError> {
        let from = self.embedded.height() + 1;
        let hashes = self.embedded.mine(count, script_pubkey, time_advance)?;
        let mut confirmed = Vec::new();
        for h in from..=self.embedded.height() {
            let block = self.embedded.block(h)?.expect("a mined block");
            self.clock_at_least(block.header.time);
            let r: Value = self
                .raw
                .call("submitblock", &[json!(serialize_hex(&block))])
                .expect("submitblock");
            if r.is_null() {
                self.log.lock().unwrap().blocks += 1;
            } else {
                self.differ(format!(
                    "block {h} {}: submitblock says {r}",
                    block.block_hash()
                ));
            }
            confirmed.extend(block.txdata.into_iter().skip(1));
        }
        let (ours, theirs) = (self.embedded.tip()?, self.core.tip()?);
        if ours != theirs {
            self.differ(format!("tips: embedded {ours:?}, Core {theirs:?}"));
        }
        for tx in &confirmed {
            self.compare("already in a block", tx);
            let mut v = tx.clone();
            v.output[0].value -= Amount::from_sat(1);
            self.compare("double spend of a confirmed input", &v);
        }
        Ok(hashes)
    }
}

#[test]
fn mempool_and_blocks_agree_with_bitcoin_core() {
    let Some(core) = CoreNode::start("mempool_and_blocks_agree_with_bitcoin_core") else {
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let cookie = core.cookie_file().to_path_buf();
    let log = Arc::new(Mutex::new(Log::default()));
    let mirror = Mirror {
        embedded: EmbeddedChain::open(dir.path().join("chain")).unwrap(),
        core: CoreRpcChain::connect(
            &core.rpc_url(),
            Auth::CookieFile(cookie.clone()),
            Network::Regtest,
        )
        .unwrap(),
        raw: bitcoincore_rpc::Client::new(&core.rpc_url(), Auth::CookieFile(cookie)).unwrap(),
        clock: 0,
        log: Arc::clone(&log),
    };
    let options = SessionOptions {
        poll_interval: Duration::from_millis(50),
        confirmation_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let mut session = Session::open_remote(
        StateLayout::new(dir.path().join("state")),
        options,
        Box::new(mirror),
    )
    .unwrap();
    let report = stdlib_scenario_with(&mut session, Options::default())
        .unwrap_or_else(|e| panic!("scenario on the mirror: {e}"));
    check_coverage(&report, None).unwrap();
    let tip = session.chain().tip().unwrap();
    drop(session);

    let log = log.lock().unwrap();
    println!(
        "Bitcoin Core {} agreement: {} transactions compared ({} accepted by both, {} refused by both for the same reason: {:?}), {} blocks accepted by submitblock, {} spenders looked up, tip {} at median time past {}, in {:.1?}",
        core.version(),
        log.compared,
        log.accepted,
        log.refused,
        log.reasons,
        log.blocks,
        log.spenders,
        tip.height,
        tip.median_time_past,
        started.elapsed()
    );
    assert!(
        log.differences.is_empty(),
        "{} differences:\n{}",
        log.differences.len(),
        log.differences.join("\n")
    );
    assert_eq!(log.blocks, tip.height as usize, "every block went to Core");
    assert_eq!(log.accepted + log.refused, log.compared);
    assert!(log.accepted >= report.spends.len() && log.refused > log.accepted);
    let info = core.must("getblockchaininfo", &[]);
    assert_eq!(info["bestblockhash"], json!(tip.hash.to_string()));
}
