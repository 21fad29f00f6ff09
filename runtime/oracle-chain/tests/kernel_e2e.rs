//! Bitcoin Core's verdict on the stdlib end-to-end scenario: runs the scenario of
//! `runtime/tests/common/e2e.rs` on the embedded chain (every path of every standard library
//! contract deployed and spent, timelocked paths refused before their lock opens and spent in
//! the first block where it is open), then feeds EVERY block, height 1 to the tip, into
//! libbitcoinkernel's regtest `ChainstateManager`. Each block must be accepted (the
//! block-checked callback reports `Valid` and the kernel's tip moves to it) and at the end both
//! tips (height and hash) must agree.
//!
//! Why: the embedded chain and the spend engine are our own code; a contract spend that they
//! accept but Bitcoin Core would reject (a wrong BIP68/BIP65/BIP113 boundary, a bad Taproot
//! witness, a MuSig2 signature that does not verify) would lose money on a real network. Here
//! Core's own validation code checks every script path, key path and timelock the scenario
//! spends, at the exact block the runtime chose.
//!
//! The dates and durations are 20 minutes ahead rather than days: libbitcoinkernel refuses
//! blocks more than two hours ahead of the wall clock (`time-too-new`), and the embedded chain
//! reaches a date by mining blocks with a later timestamp.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use biscol_runtime::chain::ChainBackend;
use biscol_runtime::testing::TestChain;
use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::Hash;
use bitcoin::Block;
use bitcoinkernel::{
    prelude::*, Block as KBlock, BlockValidationStateRef, ChainType, ChainstateManager,
    ContextBuilder, ProcessBlockResult, ValidationMode,
};
use common::e2e::{check_coverage, stdlib_scenario_with, Options};

/// What the block-checked callback saw: the block's hash, whether it is valid, the state.
type Checked = ([u8; 32], bool, String);

/// Feeds `blocks` (heights 1, 2, …) into a fresh regtest `ChainstateManager` in `data`,
/// asserting each is accepted and becomes the kernel's tip. Returns the kernel's tip (height,
/// hash).
fn feed_to_kernel(blocks: &[Block], data: &Path) -> (i32, [u8; 32]) {
    let checked: Arc<Mutex<Vec<Checked>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&checked);
    let context = ContextBuilder::new()
        .chain_type(ChainType::Regtest)
        .with_block_checked_validation(move |block: KBlock, state: BlockValidationStateRef<'_>| {
            let valid = state.mode() == ValidationMode::Valid;
            sink.lock().unwrap().push((
                block.hash().to_bytes(),
                valid,
                format!("{:?}/{:?}", state.mode(), state.result()),
            ));
        })
        .build()
        .unwrap();
    let blocks_dir = data.join("blocks");
    std::fs::create_dir_all(&blocks_dir).unwrap();
    let chainman = ChainstateManager::builder(
        &context,
        data.to_str().unwrap(),
        blocks_dir.to_str().unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(
        chainman.active_chain().height(),
        0,
        "kernel starts at genesis"
    );

    for (i, block) in blocks.iter().enumerate() {
        let height = i as i32 + 1;
        let kblock = KBlock::new(&serialize(block)).unwrap();
        let result = chainman.process_block(&kblock);
        let ours = block.block_hash().to_byte_array();
        {
            let log = checked.lock().unwrap();
            match log.iter().rev().find(|(h, _, _)| *h == ours) {
                Some((_, true, _)) => {}
                Some((_, false, why)) => panic!(
                    "Core rejected block {height} ({} transactions, time {}): {why}",
                    block.txdata.len(),
                    block.header.time
                ),
                None => panic!("no validation callback for block {height} ({result:?})"),
            }
        }
        assert_eq!(result, ProcessBlockResult::NewBlock, "block {height}");
        let chain = chainman.active_chain();
        assert_eq!(
            chain.height(),
            height,
            "kernel tip height after block {height}"
        );
        assert_eq!(
            chain.tip().block_hash().to_bytes(),
            ours,
            "kernel tip hash at {height}"
        );
    }
    let chain = chainman.active_chain();
    (chain.height(), chain.tip().block_hash().to_bytes())
}

#[test]
fn core_accepts_every_block_of_the_stdlib_scenario() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut t = TestChain::in_dir(&dir.path().join("state")).unwrap();
    let options = Options {
        lock_horizon: 20 * 60,
        ..Options::default()
    };
    let report =
        stdlib_scenario_with(t.session(), options).unwrap_or_else(|e| panic!("scenario: {e}"));
    check_coverage(&report, None).unwrap();
    let scenario_time = started.elapsed();

    let chain = t.session().embedded().unwrap();
    let tip = chain.tip().unwrap();
    let blocks: Vec<Block> = (1..=tip.height)
        .map(|h| chain.block(h).unwrap().expect("a block at every height"))
        .collect();
    assert_eq!(blocks.len() as u32, tip.height);
    for s in &report.spends {
        assert!(
            blocks[s.height as usize - 1]
                .txdata
                .iter()
                .any(|tx| tx.compute_txid() == s.txid),
            "{} {} is not in block {}",
            s.contract,
            s.path,
            s.height
        );
    }

    let (height, hash) = feed_to_kernel(&blocks, &dir.path().join("kernel"));
    assert_eq!(height as u32, tip.height, "tip heights");
    assert_eq!(hash, tip.hash.to_byte_array(), "tip hashes");
    let txs: usize = blocks.iter().map(|b| b.txdata.len() - 1).sum();
    println!(
        "kernel e2e: {} contracts, {} paths spent ({} refused first), {} refusals; {} blocks \
         ({} non-coinbase transactions) accepted by libbitcoinkernel, tips equal at height {} \
         ({}); scenario {:.1?}, total {:.1?}",
        report.artifacts.len(),
        report.spends.len(),
        report.spends.iter().filter(|s| s.refused_first).count(),
        report.refusals.len(),
        blocks.len(),
        txs,
        tip.height,
        tip.hash,
        scenario_time,
        started.elapsed()
    );
}
