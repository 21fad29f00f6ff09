//! No panics on hostile input: truncated and oversized transactions, scripts over 10,000
//! bytes, 1,000 nested IFs, a witness of 10,000 items, spent outputs that do not match the
//! inputs, and a deterministic random-script sweep. Also the step/trace API.

use biscol_script::interpreter::{Interpreter, SigVersion, TxChecker};
use biscol_script::sighash::{tapleaf_hash, taptweak_hash};
use biscol_script::{
    check_transaction, trace_input, verify_input, ExecData, PrecomputedTx, ScriptError, ScriptKind,
    VerifyError, VerifyFlags,
};
use bitcoin::absolute::LockTime;
use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::transaction::Version;
use bitcoin::{Amount, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Witness};
use secp256k1::{Scalar, SecretKey, SECP256K1};

fn tx_spending(script_sig: Vec<u8>, witness: Vec<Vec<u8>>) -> Transaction {
    Transaction {
        version: Version(2),
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint {
                txid: "11".repeat(32).parse().unwrap(),
                vout: 0,
            },
            script_sig: ScriptBuf::from_bytes(script_sig),
            sequence: Sequence::MAX,
            witness: Witness::from_slice(&witness),
        }],
        output: vec![TxOut {
            value: Amount::from_sat(1000),
            script_pubkey: ScriptBuf::new(),
        }],
    }
}

fn prevout(spk: Vec<u8>) -> Vec<TxOut> {
    vec![TxOut {
        value: Amount::from_sat(2000),
        script_pubkey: ScriptBuf::from_bytes(spk),
    }]
}

fn p2wsh(script: &[u8]) -> Vec<u8> {
    [
        &[0x00, 0x20][..],
        sha256::Hash::hash(script).as_byte_array(),
    ]
    .concat()
}

/// (scriptPubKey, control block) for a single tapscript leaf under internal key G.
fn tapscript_output(script: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut k = [0u8; 32];
    k[31] = 1;
    let (p, _) = SecretKey::from_slice(&k)
        .unwrap()
        .x_only_public_key(SECP256K1);
    let t = taptweak_hash(&p.serialize(), Some(&tapleaf_hash(0xc0, script)));
    let (q, parity) = p
        .add_tweak(SECP256K1, &Scalar::from_be_bytes(t).unwrap())
        .unwrap();
    (
        [&[0x51, 0x20][..], &q.serialize()].concat(),
        [&[0xc0 | parity.to_u8()][..], &p.serialize()].concat(),
    )
}

fn verify(script_sig: Vec<u8>, witness: Vec<Vec<u8>>, spk: Vec<u8>) -> Result<(), VerifyError> {
    let tx = tx_spending(script_sig, witness);
    verify_input(&tx, 0, &prevout(spk), VerifyFlags::ALL)
}

const E: fn(ScriptError) -> Result<(), VerifyError> = |e| Err(VerifyError::Script(e));

#[test]
fn scripts_over_10000_bytes() {
    let mut big = vec![0x61u8; 10_000]; // OP_NOP x 10000 then OP_1
    big.push(0x51);
    assert_eq!(
        verify(vec![], vec![], big.clone()),
        E(ScriptError::ScriptSize)
    );
    assert_eq!(
        verify(vec![], vec![big.clone()], p2wsh(&big)),
        E(ScriptError::ScriptSize)
    );
    // Tapscript has no script size limit (and no opcode limit).
    let (spk, cb) = tapscript_output(&big);
    assert_eq!(verify(vec![], vec![big, cb], spk), Ok(()));
}

#[test]
fn one_thousand_nested_ifs() {
    let mut s = vec![0x51u8];
    for _ in 0..1000 {
        s.extend_from_slice(&[0x51, 0x63]); // OP_1 OP_IF
    }
    s.extend(std::iter::repeat_n(0x68u8, 1000)); // OP_ENDIF x 1000
                                                 // Legacy: far over 201 opcodes.
    assert_eq!(verify(vec![], vec![], s.clone()), E(ScriptError::OpCount));
    // Tapscript: allowed, and fast (counter-based condition stack).
    let (spk, cb) = tapscript_output(&s);
    assert_eq!(
        verify(vec![], vec![s.clone(), cb.clone()], spk.clone()),
        Ok(())
    );
    // Unbalanced: one ENDIF missing.
    let short = &s[..s.len() - 1];
    let (spk, cb) = tapscript_output(short);
    assert_eq!(
        verify(vec![], vec![short.to_vec(), cb], spk),
        E(ScriptError::UnbalancedConditional)
    );
    // 100,000 nested non-executed IFs in a tapscript.
    let mut deep = vec![0x00u8, 0x63];
    deep.extend(std::iter::repeat_n(0x63u8, 100_000));
    deep.extend(std::iter::repeat_n(0x68u8, 100_001));
    deep.push(0x51);
    let (spk, cb) = tapscript_output(&deep);
    assert_eq!(verify(vec![], vec![deep, cb], spk), Ok(()));
}

#[test]
fn witness_of_10000_items() {
    let items: Vec<Vec<u8>> = (0..10_000).map(|i| vec![(i % 251) as u8]).collect();
    // P2WSH: the stack is over 1,000 elements after the first opcode.
    let script = vec![0x75, 0x51]; // OP_DROP OP_1
    let mut w = items.clone();
    w.push(script.clone());
    assert_eq!(verify(vec![], w, p2wsh(&script)), E(ScriptError::StackSize));
    // Tapscript: rejected before execution.
    let (spk, cb) = tapscript_output(&script);
    let mut w = items.clone();
    w.push(script.clone());
    w.push(cb);
    assert_eq!(verify(vec![], w, spk.clone()), E(ScriptError::StackSize));
    // Taproot with a bogus control block.
    assert_eq!(
        verify(vec![], items.clone(), spk),
        E(ScriptError::TaprootWrongControlSize)
    );
    // P2WPKH needs exactly two items.
    let wpkh = [&[0x00, 0x14][..], &[7u8; 20]].concat();
    assert_eq!(
        verify(vec![], items, wpkh),
        E(ScriptError::WitnessProgramMismatch)
    );
}

#[test]
fn prevouts_that_do_not_match_the_inputs() {
    let tx = tx_spending(vec![], vec![]);
    let r = verify_input(&tx, 0, &[], VerifyFlags::ALL);
    assert_eq!(
        r,
        Err(VerifyError::PrevoutCount {
            prevouts: 0,
            inputs: 1
        })
    );
    let two = [prevout(vec![0x51]), prevout(vec![0x51])].concat();
    assert!(matches!(
        verify_input(&tx, 0, &two, VerifyFlags::ALL),
        Err(VerifyError::PrevoutCount { .. })
    ));
    assert!(matches!(
        verify_input(&tx, 5, &prevout(vec![0x51]), VerifyFlags::ALL),
        Err(VerifyError::InputIndex { .. })
    ));
    assert!(trace_input(&tx, 1, &prevout(vec![0x51]), VerifyFlags::ALL).is_err());
    // A checker pointing past the inputs fails checks instead of panicking.
    let txdata = PrecomputedTx::new(&tx, &[]);
    let checker = TxChecker {
        tx: &tx,
        index: 9,
        amount: 0,
        txdata: &txdata,
    };
    assert!(!checker.check_locktime(0));
    assert!(!checker.check_sequence(0));
    assert_eq!(
        checker.check_schnorr(
            &[0; 64],
            &[2; 32],
            SigVersion::Taproot,
            &ExecData::default()
        ),
        Err(ScriptError::SchnorrSigHashtype)
    );
}

#[test]
fn truncated_and_oversized_transactions() {
    let mut tx = tx_spending(vec![0x51], vec![vec![1, 2, 3]]);
    let bytes = serialize(&tx);
    for n in 0..bytes.len() {
        assert!(
            deserialize::<Transaction>(&bytes[..n]).is_err(),
            "prefix {n}"
        );
    }
    tx.output[0].script_pubkey = ScriptBuf::from_bytes(vec![0x6a; 1_000_001]);
    assert_eq!(check_transaction(&tx), Err("bad-txns-oversize"));
    // Verification itself copes with huge outputs and scripts.
    let r = verify_input(&tx, 0, &prevout(vec![0x51; 20_000]), VerifyFlags::ALL);
    assert_eq!(r, E(ScriptError::ScriptSize));
}

/// A deterministic sweep of random scripts, witnesses and flags: nothing may panic.
#[test]
fn random_scripts_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut outcomes = std::collections::HashMap::new();
    for _ in 0..20_000 {
        let len = (next() % 64) as usize;
        let mut script: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if next() % 2 == 0 {
            // Bias towards small pushes so that more opcodes run.
            for b in script.iter_mut() {
                if *b < 0x4c && next() % 2 == 0 {
                    *b = 0x51 + (*b % 16);
                }
            }
        }
        let witness: Vec<Vec<u8>> = (0..next() % 4)
            .map(|_| (0..next() % 40).map(|_| next() as u8).collect())
            .collect();
        let flags = VerifyFlags((next() as u32) & VerifyFlags::ALL.0);
        let kind = next() % 3;
        let (spk, w) = match kind {
            0 => (script.clone(), witness),
            1 => (p2wsh(&script), [witness, vec![script.clone()]].concat()),
            _ => {
                let (spk, cb) = tapscript_output(&script);
                (spk, [witness, vec![script.clone(), cb]].concat())
            }
        };
        let tx = tx_spending(vec![], w);
        let r = verify_input(&tx, 0, &prevout(spk), flags);
        *outcomes.entry(r.err().map(|e| e.name())).or_insert(0) += 1;
    }
    println!("random sweep outcomes: {outcomes:?}");
    assert!(
        outcomes.len() > 10,
        "the sweep should reach many different outcomes"
    );
}

#[test]
fn step_api_reports_each_opcode() {
    let tx = tx_spending(vec![], vec![]);
    let txdata = PrecomputedTx::new(&tx, &prevout(vec![0x51]));
    let checker = TxChecker {
        tx: &tx,
        index: 0,
        amount: 2000,
        txdata: &txdata,
    };
    // OP_1 OP_2 OP_ADD OP_TOALTSTACK OP_3 OP_EQUALVERIFY
    let script = [0x51, 0x52, 0x93, 0x6b, 0x53, 0x88];
    let mut it = Interpreter::new(
        &script,
        vec![vec![3]],
        VerifyFlags::ALL,
        SigVersion::Base,
        &checker,
        ExecData::default(),
    );
    let s = it.step().unwrap().unwrap();
    assert_eq!((s.pos, s.opcode, s.executed), (0, 0x51, true));
    assert_eq!(it.stack(), &[vec![3], vec![1]]);
    it.step().unwrap();
    it.step().unwrap();
    assert_eq!(it.stack(), &[vec![3], vec![3]]);
    it.step().unwrap();
    assert_eq!(it.altstack(), &[vec![3]]);
    it.step().unwrap();
    let s = it.step().unwrap().unwrap();
    assert_eq!(s.pos, 5);
    assert_eq!(it.stack(), &[] as &[Vec<u8>]);
    assert_eq!(it.step(), Ok(None));
    assert!(it.is_done());

    // A failure reports the failing opcode and sticks.
    let bad = [0x51, 0x52, 0x88];
    let mut it = Interpreter::new(
        &bad,
        vec![],
        VerifyFlags::ALL,
        SigVersion::Base,
        &checker,
        ExecData::default(),
    );
    assert!(it.step().unwrap().is_some());
    assert!(it.step().unwrap().is_some());
    assert_eq!(it.step(), Err(ScriptError::EqualVerify));
    assert_eq!(it.last_op(), Some((2, 0x88)));
    assert_eq!(it.step(), Err(ScriptError::EqualVerify));
}

#[test]
fn trace_maps_a_failing_tapscript_leaf() {
    // Leaf: OP_1 OP_IF OP_2 OP_ELSE OP_3 OP_ENDIF OP_4 OP_EQUALVERIFY OP_1 ; fails at byte 7.
    let leaf = vec![0x51, 0x63, 0x52, 0x67, 0x53, 0x68, 0x54, 0x88, 0x51];
    let (spk, cb) = tapscript_output(&leaf);
    let tx = tx_spending(vec![], vec![leaf.clone(), cb]);
    let trace = trace_input(&tx, 0, &prevout(spk), VerifyFlags::ALL).unwrap();
    assert_eq!(trace.result, Err(ScriptError::EqualVerify));
    let (script, failure) = trace.failure().unwrap();
    assert_eq!(script.kind, ScriptKind::Tapscript);
    assert_eq!(script.script, leaf);
    assert_eq!(
        (failure.pos, failure.opcode, failure.error),
        (7, Some(0x88), ScriptError::EqualVerify)
    );
    let positions: Vec<(usize, bool)> = script.steps.iter().map(|s| (s.pos, s.executed)).collect();
    assert_eq!(
        positions,
        [
            (0, true),
            (1, true),
            (2, true),
            (3, true),
            (4, false),
            // The closing ENDIF sits in the skipped ELSE branch (it is processed anyway).
            (5, false),
            (6, true)
        ]
    );
    assert_eq!(script.steps[6].stack, vec![vec![2], vec![4]]);
    let kinds: Vec<ScriptKind> = trace.scripts.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            ScriptKind::ScriptSig,
            ScriptKind::ScriptPubKey,
            ScriptKind::Tapscript
        ]
    );
}
