//! Script verification (Core's `VerifyScript`, `VerifyWitnessProgram`, `ExecuteWitnessScript`).
//!
//! In: an input's scriptSig and witness, the spent scriptPubKey and amount, flags, and a
//! [`TxChecker`]. Out: `Ok(())` when the spend is valid under those flags, or the first
//! [`ScriptError`] Core would report. Covers legacy scripts, P2SH, witness v0 (P2WPKH, P2WSH)
//! and taproot (key path, script path with tapscript, annex, OP_SUCCESSx, unknown leaf versions,
//! the validation-weight budget). The `verify_input*`/`trace_input` helpers take a whole
//! transaction and its spent outputs and check their shapes first, so bad input is an error,
//! never a panic.

use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Transaction, TxOut, Witness};
use secp256k1::{Parity, Scalar, XOnlyPublicKey, SECP256K1};

use crate::error::{ScriptError as E, VerifyError};
use crate::flags::VerifyFlags as F;
use crate::interpreter::{
    ExecData, Interpreter, SigVersion, TxChecker, MAX_SCRIPT_ELEMENT_SIZE, MAX_STACK_SIZE,
    VALIDATION_WEIGHT_OFFSET,
};
use crate::num::cast_to_bool;
use crate::opcodes::*;
use crate::sighash::{
    annex_hash, compact_size_len, tapbranch_hash, tapleaf_hash, taptweak_hash, PrecomputedTx,
};
use crate::trace::{ScriptKind, ScriptTrace, Trace, TraceFailure, TraceStep};

/// BIP341 annex tag.
pub const ANNEX_TAG: u8 = 0x50;
/// BIP342 tapscript leaf version.
pub const TAPROOT_LEAF_TAPSCRIPT: u8 = 0xc0;
/// Control block size bounds.
pub const TAPROOT_CONTROL_BASE_SIZE: usize = 33;
/// Size of one control block path node.
pub const TAPROOT_CONTROL_NODE_SIZE: usize = 32;
/// Maximum control block path length.
pub const TAPROOT_CONTROL_MAX_NODE_COUNT: usize = 128;

/// Core's `CScript::IsPayToScriptHash`.
pub fn is_p2sh(spk: &[u8]) -> bool {
    spk.len() == 23 && spk[0] == OP_HASH160 && spk[1] == 0x14 && spk[22] == OP_EQUAL
}

/// Core's `CScript::IsWitnessProgram`: the version and program.
pub fn witness_program(spk: &[u8]) -> Option<(u8, &[u8])> {
    if spk.len() < 4 || spk.len() > 42 {
        return None;
    }
    let version = match spk[0] {
        OP_0 => 0,
        v @ OP_1..=OP_16 => v - (OP_1 - 1),
        _ => return None,
    };
    if spk[1] as usize + 2 == spk.len() {
        Some((version, &spk[2..]))
    } else {
        None
    }
}

type Stack = Vec<Vec<u8>>;

#[allow(clippy::too_many_arguments)]
fn run_script(
    script: &[u8],
    stack: Stack,
    flags: F,
    sv: SigVersion,
    checker: &TxChecker<'_>,
    exec: ExecData,
    kind: ScriptKind,
    trace: &mut Option<&mut Trace>,
) -> Result<Stack, E> {
    let mut it = Interpreter::new(script, stack, flags, sv, checker, exec);
    let Some(t) = trace.as_deref_mut() else {
        it.run()?;
        return Ok(it.into_parts().0);
    };
    let mut st = ScriptTrace {
        kind,
        sigversion: sv,
        script: script.to_vec(),
        initial_stack: it.stack().to_vec(),
        steps: Vec::new(),
        failure: None,
    };
    let res = loop {
        match it.step() {
            Ok(Some(info)) => {
                let snap = t.snapshot(it.stack(), it.altstack());
                let omitted = snap.is_none();
                let (stack, altstack) = snap.unwrap_or_default();
                st.steps.push(TraceStep {
                    pos: info.pos,
                    opcode: info.opcode,
                    executed: info.executed,
                    stack,
                    altstack,
                    snapshot_omitted: omitted,
                });
            }
            Ok(None) => break Ok(()),
            Err(e) => {
                let (pos, opcode) = match it.last_op() {
                    Some((p, o)) if e != E::UnbalancedConditional || it.pc() < script.len() => {
                        (p, Some(o))
                    }
                    _ => (it.pc().min(script.len()), None),
                };
                let (pos, opcode) = if e == E::ScriptSize {
                    (0, None)
                } else {
                    (pos, opcode)
                };
                st.failure = Some(TraceFailure {
                    pos,
                    opcode,
                    error: e,
                });
                break Err(e);
            }
        }
    };
    t.scripts.push(st);
    res?;
    Ok(it.into_parts().0)
}

fn fail_trace(
    trace: &mut Option<&mut Trace>,
    kind: ScriptKind,
    sv: SigVersion,
    script: &[u8],
    stack: &[Vec<u8>],
    e: E,
) {
    if let Some(t) = trace.as_deref_mut() {
        t.scripts.push(ScriptTrace {
            kind,
            sigversion: sv,
            script: script.to_vec(),
            initial_stack: stack.to_vec(),
            steps: Vec::new(),
            failure: Some(TraceFailure {
                pos: 0,
                opcode: None,
                error: e,
            }),
        });
    }
}

/// Core's `VerifyScript`. With `trace`, every script run is recorded and `trace.result` is set.
pub fn verify_script(
    script_sig: &[u8],
    script_pubkey: &[u8],
    witness: &Witness,
    flags: F,
    checker: &TxChecker<'_>,
    mut trace: Option<&mut Trace>,
) -> Result<(), E> {
    let r = verify_script_inner(
        script_sig,
        script_pubkey,
        witness,
        flags,
        checker,
        &mut trace,
    );
    if let Some(t) = trace {
        t.result = r;
    }
    r
}

fn verify_script_inner(
    script_sig: &[u8],
    script_pubkey: &[u8],
    witness: &Witness,
    flags: F,
    checker: &TxChecker<'_>,
    trace: &mut Option<&mut Trace>,
) -> Result<(), E> {
    if flags.contains(F::SIGPUSHONLY) && !is_push_only(script_sig) {
        return Err(E::SigPushOnly);
    }
    let exec = ExecData::default();
    let stack = run_script(
        script_sig,
        Vec::new(),
        flags,
        SigVersion::Base,
        checker,
        exec,
        ScriptKind::ScriptSig,
        trace,
    )?;
    let stack_copy = if flags.contains(F::P2SH) {
        Some(stack.clone())
    } else {
        None
    };
    let mut stack = run_script(
        script_pubkey,
        stack,
        flags,
        SigVersion::Base,
        checker,
        exec,
        ScriptKind::ScriptPubKey,
        trace,
    )?;
    match stack.last() {
        Some(v) if cast_to_bool(v) => {}
        _ => return Err(E::EvalFalse),
    }

    let mut had_witness = false;
    if flags.contains(F::WITNESS) {
        if let Some((version, program)) = witness_program(script_pubkey) {
            had_witness = true;
            if !script_sig.is_empty() {
                return Err(E::WitnessMalleated);
            }
            verify_witness_program(witness, version, program, flags, checker, false, trace)?;
            stack.truncate(1);
        }
    }

    if flags.contains(F::P2SH) && is_p2sh(script_pubkey) {
        if !is_push_only(script_sig) {
            return Err(E::SigPushOnly);
        }
        let mut s = stack_copy.unwrap_or_default();
        let redeem = s.pop().ok_or(E::UnknownError)?;
        stack = run_script(
            &redeem,
            s,
            flags,
            SigVersion::Base,
            checker,
            exec,
            ScriptKind::RedeemScript,
            trace,
        )?;
        match stack.last() {
            Some(v) if cast_to_bool(v) => {}
            _ => return Err(E::EvalFalse),
        }
        if flags.contains(F::WITNESS) {
            if let Some((version, program)) = witness_program(&redeem) {
                had_witness = true;
                let mut expected = Vec::with_capacity(redeem.len() + 3);
                push_data(&mut expected, &redeem);
                if script_sig != expected.as_slice() {
                    return Err(E::WitnessMalleatedP2sh);
                }
                verify_witness_program(witness, version, program, flags, checker, true, trace)?;
                stack.truncate(1);
            }
        }
    }

    if flags.contains(F::CLEANSTACK) && stack.len() != 1 {
        return Err(E::CleanStack);
    }
    if flags.contains(F::WITNESS) && !had_witness && !witness.is_empty() {
        return Err(E::WitnessUnexpected);
    }
    Ok(())
}

fn witness_serialized_size(witness: &Witness) -> u64 {
    let mut n = compact_size_len(witness.len() as u64);
    for item in witness.iter() {
        n += compact_size_len(item.len() as u64) + item.len() as u64;
    }
    n
}

/// Core's `VerifyWitnessProgram`.
fn verify_witness_program(
    witness: &Witness,
    version: u8,
    program: &[u8],
    flags: F,
    checker: &TxChecker<'_>,
    is_p2sh: bool,
    trace: &mut Option<&mut Trace>,
) -> Result<(), E> {
    let mut stack: Stack = witness.iter().map(|w| w.to_vec()).collect();
    if version == 0 {
        // P2WSH runs the script the witness reveals, P2WPKH the implied P2PKH script.
        let script = if program.len() == 32 {
            let Some(script) = stack.pop() else {
                return Err(E::WitnessProgramWitnessEmpty);
            };
            if sha256::Hash::hash(&script).as_byte_array()[..] != *program {
                return Err(E::WitnessProgramMismatch);
            }
            script
        } else if program.len() == 20 {
            if stack.len() != 2 {
                return Err(E::WitnessProgramMismatch);
            }
            let mut script = Vec::with_capacity(25);
            script.extend_from_slice(&[OP_DUP, OP_HASH160, 0x14]);
            script.extend_from_slice(program);
            script.extend_from_slice(&[OP_EQUALVERIFY, OP_CHECKSIG]);
            script
        } else {
            return Err(E::WitnessProgramWrongLength);
        };
        execute_witness_script(
            stack,
            &script,
            flags,
            SigVersion::WitnessV0,
            checker,
            ExecData::default(),
            trace,
        )
    } else if version == 1 && program.len() == 32 && !is_p2sh {
        if !flags.contains(F::TAPROOT) {
            return Ok(());
        }
        if stack.is_empty() {
            return Err(E::WitnessProgramWitnessEmpty);
        }
        let mut exec = ExecData::default();
        if stack.len() >= 2 && stack.last().and_then(|a| a.first()) == Some(&ANNEX_TAG) {
            if let Some(annex) = stack.pop() {
                exec.annex_hash = Some(annex_hash(&annex));
            }
        }
        if stack.len() == 1 {
            let r = checker.check_schnorr(&stack[0], program, SigVersion::Taproot, &exec);
            if let Some(t) = trace.as_deref_mut() {
                t.scripts.push(ScriptTrace {
                    kind: ScriptKind::TaprootKeyPath,
                    sigversion: SigVersion::Taproot,
                    script: Vec::new(),
                    initial_stack: stack.clone(),
                    steps: Vec::new(),
                    failure: r.err().map(|e| TraceFailure {
                        pos: 0,
                        opcode: None,
                        error: e,
                    }),
                });
            }
            return r;
        }
        let (Some(control), Some(script)) = (stack.pop(), stack.pop()) else {
            return Err(E::UnknownError);
        };
        if control.len() < TAPROOT_CONTROL_BASE_SIZE
            || control.len()
                > TAPROOT_CONTROL_BASE_SIZE
                    + TAPROOT_CONTROL_NODE_SIZE * TAPROOT_CONTROL_MAX_NODE_COUNT
            || !(control.len() - TAPROOT_CONTROL_BASE_SIZE)
                .is_multiple_of(TAPROOT_CONTROL_NODE_SIZE)
        {
            return Err(E::TaprootWrongControlSize);
        }
        let leaf_version = control[0] & 0xfe;
        let leaf_hash = tapleaf_hash(leaf_version, &script);
        exec.tapleaf_hash = Some(leaf_hash);
        if !verify_taproot_commitment(&control, program, &leaf_hash) {
            fail_trace(
                trace,
                ScriptKind::Tapscript,
                SigVersion::Tapscript,
                &script,
                &stack,
                E::WitnessProgramMismatch,
            );
            return Err(E::WitnessProgramMismatch);
        }
        if leaf_version == TAPROOT_LEAF_TAPSCRIPT {
            exec.validation_weight_left =
                witness_serialized_size(witness) as i64 + VALIDATION_WEIGHT_OFFSET;
            return execute_witness_script(
                stack,
                &script,
                flags,
                SigVersion::Tapscript,
                checker,
                exec,
                trace,
            );
        }
        if flags.contains(F::DISCOURAGE_UPGRADABLE_TAPROOT_VERSION) {
            return Err(E::DiscourageUpgradableTaprootVersion);
        }
        Ok(())
    } else {
        if flags.contains(F::DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM) {
            return Err(E::DiscourageUpgradableWitnessProgram);
        }
        Ok(())
    }
}

/// BIP341 commitment check of a control block against the output key.
pub fn verify_taproot_commitment(control: &[u8], program: &[u8], leaf_hash: &[u8; 32]) -> bool {
    let (Some(p_bytes), Some(&first)) = (control.get(1..33), control.first()) else {
        return false;
    };
    let Ok(p) = XOnlyPublicKey::from_slice(p_bytes) else {
        return false;
    };
    // Like Core's CheckTapTweak, the output key is compared as bytes and never parsed (parsing
    // would cost a square root for nothing).
    if program.len() != 32 {
        return false;
    }
    let mut k = *leaf_hash;
    for node in control[33..].chunks_exact(32) {
        let mut n = [0u8; 32];
        n.copy_from_slice(node);
        k = tapbranch_hash(&k, &n);
    }
    let mut pb = [0u8; 32];
    pb.copy_from_slice(p_bytes);
    let t = taptweak_hash(&pb, Some(&k));
    let Ok(tweak) = Scalar::from_be_bytes(t) else {
        return false;
    };
    let parity = if first & 1 == 1 {
        Parity::Odd
    } else {
        Parity::Even
    };
    match p.add_tweak(SECP256K1, &tweak) {
        Ok((q, q_parity)) => q_parity == parity && q.serialize()[..] == *program,
        Err(_) => false,
    }
}

/// Core's `ExecuteWitnessScript`.
fn execute_witness_script(
    stack: Stack,
    script: &[u8],
    flags: F,
    sv: SigVersion,
    checker: &TxChecker<'_>,
    exec: ExecData,
    trace: &mut Option<&mut Trace>,
) -> Result<(), E> {
    let kind = if sv == SigVersion::Tapscript {
        ScriptKind::Tapscript
    } else {
        ScriptKind::WitnessScript
    };
    if sv == SigVersion::Tapscript {
        let mut pc = 0;
        while pc < script.len() {
            let Some(op) = read_op(script, pc) else {
                fail_trace(trace, kind, sv, script, &stack, E::BadOpcode);
                return Err(E::BadOpcode);
            };
            if is_op_success(op.opcode) {
                if flags.contains(F::DISCOURAGE_OP_SUCCESS) {
                    fail_trace(trace, kind, sv, script, &stack, E::DiscourageOpSuccess);
                    return Err(E::DiscourageOpSuccess);
                }
                return Ok(());
            }
            pc = op.next();
        }
        if stack.len() > MAX_STACK_SIZE {
            fail_trace(trace, kind, sv, script, &stack, E::StackSize);
            return Err(E::StackSize);
        }
    }
    if stack.iter().any(|e| e.len() > MAX_SCRIPT_ELEMENT_SIZE) {
        fail_trace(trace, kind, sv, script, &stack, E::PushSize);
        return Err(E::PushSize);
    }
    let stack = run_script(script, stack, flags, sv, checker, exec, kind, trace)?;
    if stack.len() != 1 {
        return Err(E::CleanStack);
    }
    if !cast_to_bool(&stack[0]) {
        return Err(E::EvalFalse);
    }
    Ok(())
}

/// Verifies input `index` of `tx` against an explicitly given spent script and amount, using
/// precomputed data (which should hold all spent outputs for taproot).
pub fn verify_spend(
    tx: &Transaction,
    index: usize,
    script_pubkey: &[u8],
    amount: u64,
    txdata: &PrecomputedTx,
    flags: F,
    trace: Option<&mut Trace>,
) -> Result<(), VerifyError> {
    let Some(txin) = tx.input.get(index) else {
        return Err(VerifyError::InputIndex {
            index,
            inputs: tx.input.len(),
        });
    };
    let checker = TxChecker {
        tx,
        index,
        amount,
        txdata,
    };
    verify_script(
        txin.script_sig.as_bytes(),
        script_pubkey,
        &txin.witness,
        flags,
        &checker,
        trace,
    )?;
    Ok(())
}

/// Verifies input `index` of `tx` with precomputed data that holds every spent output.
pub fn verify_input_with(
    tx: &Transaction,
    index: usize,
    txdata: &PrecomputedTx,
    flags: F,
    trace: Option<&mut Trace>,
) -> Result<(), VerifyError> {
    let spent = txdata.spent_outputs().ok_or(VerifyError::PrevoutCount {
        prevouts: 0,
        inputs: tx.input.len(),
    })?;
    let Some(prevout) = spent.get(index) else {
        return Err(VerifyError::InputIndex {
            index,
            inputs: tx.input.len(),
        });
    };
    verify_spend(
        tx,
        index,
        prevout.script_pubkey.as_bytes(),
        prevout.value.to_sat(),
        txdata,
        flags,
        trace,
    )
}

fn check_shapes(tx: &Transaction, index: usize, prevouts: &[TxOut]) -> Result<(), VerifyError> {
    if index >= tx.input.len() {
        return Err(VerifyError::InputIndex {
            index,
            inputs: tx.input.len(),
        });
    }
    if prevouts.len() != tx.input.len() {
        return Err(VerifyError::PrevoutCount {
            prevouts: prevouts.len(),
            inputs: tx.input.len(),
        });
    }
    Ok(())
}

/// Verifies input `index` of `tx`; `prevouts` are the outputs spent by every input, in order.
pub fn verify_input(
    tx: &Transaction,
    index: usize,
    prevouts: &[TxOut],
    flags: F,
) -> Result<(), VerifyError> {
    check_shapes(tx, index, prevouts)?;
    let txdata = PrecomputedTx::new(tx, prevouts);
    verify_input_with(tx, index, &txdata, flags, None)
}

/// Like [`verify_input`], recording a [`Trace`] of every script run.
pub fn trace_input(
    tx: &Transaction,
    index: usize,
    prevouts: &[TxOut],
    flags: F,
) -> Result<Trace, VerifyError> {
    check_shapes(tx, index, prevouts)?;
    let txdata = PrecomputedTx::new(tx, prevouts);
    let mut trace = Trace::new();
    let _ = verify_input_with(tx, index, &txdata, flags, Some(&mut trace));
    Ok(trace)
}

/// Runs `CheckTransaction` and verifies every input.
pub fn verify_tx(
    tx: &Transaction,
    prevouts: &[TxOut],
    flags: F,
) -> Result<(), (Option<usize>, VerifyError)> {
    crate::tx_check::check_transaction(tx).map_err(|r| (None, VerifyError::BadTx(r)))?;
    if prevouts.len() != tx.input.len() {
        return Err((
            None,
            VerifyError::PrevoutCount {
                prevouts: prevouts.len(),
                inputs: tx.input.len(),
            },
        ));
    }
    let txdata = PrecomputedTx::new(tx, prevouts);
    for i in 0..tx.input.len() {
        verify_input_with(tx, i, &txdata, flags, None).map_err(|e| (Some(i), e))?;
    }
    Ok(())
}
