//! Runs the shared embedded-chain scenario and feeds every block into libbitcoinkernel's regtest
//! `ChainstateManager`. Each block must be accepted: the block-checked validation callback must
//! report `Valid` (a `NewBlock` result alone does not mean valid) and the kernel's tip must
//! advance to that block. At the end both tips (height and hash) must agree.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};

use biscol_runtime::chain::ChainBackend;
use bitcoin::consensus::encode::serialize;
use bitcoin::hashes::Hash;
use bitcoinkernel::{
    prelude::*, Block as KBlock, BlockValidationStateRef, ChainType, ChainstateManager,
    ContextBuilder, ProcessBlockResult, ValidationMode,
};

#[test]
fn core_accepts_every_embedded_block() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::scenario::run(&dir.path().join("state")).unwrap();

    let checked: Arc<Mutex<Vec<([u8; 32], bool, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&checked);
    let context = ContextBuilder::new()
        .chain_type(ChainType::Regtest)
        .with_block_checked_validation(move |block: KBlock, state: BlockValidationStateRef<'_>| {
            let valid = state.mode() == ValidationMode::Valid;
            let hash = block.hash().to_bytes();
            sink.lock().unwrap().push((
                hash,
                valid,
                format!("{:?}/{:?}", state.mode(), state.result()),
            ));
        })
        .build()
        .unwrap();
    let data = dir.path().join("kernel");
    let blocks = data.join("blocks");
    std::fs::create_dir_all(&blocks).unwrap();
    let chainman =
        ChainstateManager::builder(&context, data.to_str().unwrap(), blocks.to_str().unwrap())
            .unwrap()
            .build()
            .unwrap();
    assert_eq!(
        chainman.active_chain().height(),
        0,
        "kernel starts at regtest genesis"
    );

    for (i, block) in out.blocks.iter().enumerate() {
        let height = i as i32 + 1;
        let raw = serialize(block);
        let kblock = KBlock::new(&raw).unwrap();
        let result = chainman.process_block(&kblock);
        assert_eq!(result, ProcessBlockResult::NewBlock, "block {height}");
        let ours = block.block_hash().to_byte_array();
        {
            let log = checked.lock().unwrap();
            let entry = log.iter().rev().find(|(h, _, _)| *h == ours);
            match entry {
                Some((_, true, _)) => {}
                Some((_, false, why)) => panic!("Core rejected block {height}: {why}"),
                None => panic!("no validation callback for block {height}"),
            }
        }
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
    let tip = out.chain.tip().unwrap();
    let chain = chainman.active_chain();
    assert_eq!(chain.height() as u32, tip.height);
    assert_eq!(
        chain.tip().block_hash().to_bytes(),
        tip.hash.to_byte_array()
    );
    let txs: usize = out.blocks.iter().map(|b| b.txdata.len() - 1).sum();
    println!(
        "kernel oracle: {} blocks accepted by libbitcoinkernel ({} non-coinbase transactions), tips equal at height {} ({})",
        out.blocks.len(),
        txs,
        tip.height,
        tip.hash
    );
}

/// The harness itself: a block whose coinbase claims 1 satoshi more than the subsidy must be
/// reported invalid by the callback and must not move the kernel's tip.
#[test]
fn core_rejects_a_block_that_overpays_the_coinbase() {
    use bitcoin::block::{Header, Version};
    use bitcoin::script::Builder;
    use bitcoin::{
        absolute, transaction, Amount, Block, CompactTarget, OutPoint, ScriptBuf, Sequence, Target,
        Transaction, TxIn, TxMerkleNode, TxOut, Witness,
    };

    let checked: Arc<Mutex<Vec<bool>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&checked);
    let context = ContextBuilder::new()
        .chain_type(ChainType::Regtest)
        .with_block_checked_validation(move |_b: KBlock, state: BlockValidationStateRef<'_>| {
            sink.lock()
                .unwrap()
                .push(state.mode() == ValidationMode::Valid);
        })
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let blocks = dir.path().join("blocks");
    std::fs::create_dir_all(&blocks).unwrap();
    let chainman = ChainstateManager::builder(
        &context,
        dir.path().to_str().unwrap(),
        blocks.to_str().unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let genesis = bitcoin::blockdata::constants::genesis_block(bitcoin::Network::Regtest);
    let coinbase = Transaction {
        version: transaction::Version::TWO,
        lock_time: absolute::LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            script_sig: Builder::new().push_int(1).push_int(0).into_script(),
            sequence: Sequence::MAX,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(5_000_000_001),
            script_pubkey: ScriptBuf::new_op_return([1u8; 1]),
        }],
    };
    let mut block = Block {
        header: Header {
            version: Version::from_consensus(0x2000_0000),
            prev_blockhash: genesis.block_hash(),
            merkle_root: TxMerkleNode::all_zeros(),
            time: genesis.header.time + 1,
            bits: CompactTarget::from_consensus(0x207f_ffff),
            nonce: 0,
        },
        txdata: vec![coinbase],
    };
    block.header.merkle_root = block.compute_merkle_root().unwrap();
    let target = Target::from_compact(block.header.bits);
    while !target.is_met_by(block.block_hash()) {
        block.header.nonce += 1;
    }
    let result = chainman.process_block(&KBlock::new(&serialize(&block)).unwrap());
    let valid = checked.lock().unwrap().last().copied();
    assert!(
        result == ProcessBlockResult::Rejected || valid == Some(false),
        "an overpaying coinbase was not rejected: {result:?}, callback {valid:?}"
    );
    assert_eq!(chainman.active_chain().height(), 0);
    println!(
        "kernel oracle: overpaying coinbase rejected ({result:?}, callback valid = {valid:?})"
    );
}
