//! The script interpreter (Core's `EvalScript`), one opcode at a time.
//!
//! In: a script, an initial stack, flags, the signature version and a [`TxChecker`] for the
//! spending transaction. Out: the final stack, or the [`ScriptError`] of the failing opcode.
//! [`Interpreter::step`] executes exactly one opcode (executed or skipped) and reports it, so a
//! caller can trace or single-step; [`Interpreter::run`] loops over it.
//!
//! Invariants: no input can make it panic or recurse (conditionals use Core's counter-based
//! `ConditionStack`), stack indices are checked before use, and every limit of Core is applied
//! in Core's order (push size, op count, disabled opcodes, then execution, then the combined
//! stack size), so the first error reported is the one Core reports.

use bitcoin::hashes::{hash160, ripemd160, sha1, sha256, sha256d, Hash};
use bitcoin::Transaction;
use secp256k1::{ecdsa, schnorr, Message, PublicKey, XOnlyPublicKey, SECP256K1};

use crate::error::ScriptError as E;
use crate::flags::VerifyFlags as F;
use crate::num::{cast_to_bool, decode_num, encode_num, to_int};
use crate::opcodes::*;
use crate::sighash::{
    legacy_sighash, segwit_v0_sighash, taproot_sighash, PrecomputedTx, TapscriptSigData,
};

/// Maximum script length for legacy and witness v0 scripts.
pub const MAX_SCRIPT_SIZE: usize = 10_000;
/// Maximum stack element size.
pub const MAX_SCRIPT_ELEMENT_SIZE: usize = 520;
/// Maximum non-push opcodes per legacy/v0 script.
pub const MAX_OPS_PER_SCRIPT: u32 = 201;
/// Maximum stack plus altstack size.
pub const MAX_STACK_SIZE: usize = 1000;
/// Maximum keys in CHECKMULTISIG.
pub const MAX_PUBKEYS_PER_MULTISIG: i64 = 20;
/// BIP342 validation weight per executed signature check.
pub const VALIDATION_WEIGHT_PER_SIGOP_PASSED: i64 = 50;
/// BIP342 validation weight budget offset.
pub const VALIDATION_WEIGHT_OFFSET: i64 = 50;
/// Locktimes below this are block heights.
pub const LOCKTIME_THRESHOLD: i64 = 500_000_000;
/// BIP68 disable flag.
pub const SEQUENCE_LOCKTIME_DISABLE_FLAG: i64 = 1 << 31;
/// BIP68 type flag (time-based).
pub const SEQUENCE_LOCKTIME_TYPE_FLAG: i64 = 1 << 22;
/// BIP68 value mask.
pub const SEQUENCE_LOCKTIME_MASK: i64 = 0x0000_ffff;

/// Which rules a script runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigVersion {
    /// Legacy scripts (scriptSig, scriptPubKey, P2SH redeem scripts).
    Base,
    /// BIP141/143 witness v0 scripts.
    WitnessV0,
    /// BIP341 key path (no script runs).
    Taproot,
    /// BIP342 tapscript (leaf version 0xc0).
    Tapscript,
}

/// Execution data shared across a witness script run (Core's `ScriptExecutionData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecData {
    /// Opcode position of the last executed OP_CODESEPARATOR (0xffffffff if none).
    pub codesep_pos: u32,
    /// SHA256 of the compact-size-prefixed annex, when present.
    pub annex_hash: Option<[u8; 32]>,
    /// The tapleaf hash of the running tapscript.
    pub tapleaf_hash: Option<[u8; 32]>,
    /// Remaining BIP342 validation weight.
    pub validation_weight_left: i64,
}

impl Default for ExecData {
    fn default() -> Self {
        ExecData {
            codesep_pos: 0xffff_ffff,
            annex_hash: None,
            tapleaf_hash: None,
            validation_weight_left: 0,
        }
    }
}

/// Checks signatures and timelocks against the spending transaction (Core's
/// `TransactionSignatureChecker`).
#[derive(Debug, Clone, Copy)]
pub struct TxChecker<'a> {
    /// The spending transaction.
    pub tx: &'a Transaction,
    /// The input being verified (must be `< tx.input.len()`; checks fail otherwise).
    pub index: usize,
    /// The amount of the spent output, in satoshis.
    pub amount: u64,
    /// Precomputed hashes of `tx`.
    pub txdata: &'a PrecomputedTx,
}

/// Core's `CPubKey` length rule: the first byte fixes the length.
fn pubkey_len_ok(pk: &[u8]) -> bool {
    let want = match pk.first() {
        Some(2) | Some(3) => 33,
        Some(4) | Some(6) | Some(7) => 65,
        _ => return false,
    };
    pk.len() == want
}

impl TxChecker<'_> {
    /// ECDSA check (Core's `CheckECDSASignature`): `sig` includes the hash type byte.
    pub fn check_ecdsa(
        &self,
        sig: &[u8],
        pubkey: &[u8],
        script_code: &[u8],
        sv: SigVersion,
    ) -> bool {
        if !pubkey_len_ok(pubkey) {
            return false;
        }
        let Some((&hash_type, body)) = sig.split_last() else {
            return false;
        };
        if self.index >= self.tx.input.len() {
            return false;
        }
        let hash = match sv {
            SigVersion::Base => legacy_sighash(self.tx, self.index, script_code, hash_type as i32),
            SigVersion::WitnessV0 => segwit_v0_sighash(
                self.tx,
                self.index,
                script_code,
                self.amount,
                hash_type as i32,
                self.txdata,
            ),
            _ => return false,
        };
        verify_ecdsa(body, pubkey, &hash)
    }

    /// BIP340 check for a key path or tapscript signature (Core's `CheckSchnorrSignature`).
    pub fn check_schnorr(
        &self,
        sig: &[u8],
        pubkey: &[u8],
        sv: SigVersion,
        exec: &ExecData,
    ) -> Result<(), E> {
        let (sig64, hash_type) = match sig.len() {
            64 => (sig, 0u8),
            65 => {
                if sig[64] == 0 {
                    return Err(E::SchnorrSigHashtype);
                }
                (&sig[..64], sig[64])
            }
            _ => return Err(E::SchnorrSigSize),
        };
        let script = match sv {
            SigVersion::Tapscript => Some(TapscriptSigData {
                tapleaf_hash: exec.tapleaf_hash.ok_or(E::SchnorrSigHashtype)?,
                codesep_pos: exec.codesep_pos,
            }),
            _ => None,
        };
        let hash = taproot_sighash(
            self.tx,
            self.index,
            self.txdata,
            hash_type,
            exec.annex_hash.as_ref(),
            script.as_ref(),
        )
        .ok_or(E::SchnorrSigHashtype)?;
        if verify_schnorr(sig64, pubkey, &hash) {
            Ok(())
        } else {
            Err(E::SchnorrSig)
        }
    }

    /// BIP65 check (Core's `CheckLockTime`).
    pub fn check_locktime(&self, lock_time: i64) -> bool {
        let Some(txin) = self.tx.input.get(self.index) else {
            return false;
        };
        let tx_lock = self.tx.lock_time.to_consensus_u32() as i64;
        // Both heights or both times.
        if (tx_lock < LOCKTIME_THRESHOLD) != (lock_time < LOCKTIME_THRESHOLD) {
            return false;
        }
        if lock_time > tx_lock {
            return false;
        }
        txin.sequence.0 != 0xffff_ffff
    }

    /// BIP112 check (Core's `CheckSequence`).
    pub fn check_sequence(&self, sequence: i64) -> bool {
        let Some(txin) = self.tx.input.get(self.index) else {
            return false;
        };
        let tx_seq = txin.sequence.0 as i64;
        if (self.tx.version.0 as u32) < 2 {
            return false;
        }
        if tx_seq & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 {
            return false;
        }
        let mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
        let tx_masked = tx_seq & mask;
        let masked = sequence & mask;
        // Both block-based or both time-based.
        if (tx_masked < SEQUENCE_LOCKTIME_TYPE_FLAG) != (masked < SEQUENCE_LOCKTIME_TYPE_FLAG) {
            return false;
        }
        masked <= tx_masked
    }
}

/// Verifies a DER (laxly parsed, S normalized) ECDSA signature, as Core's `CPubKey::Verify`.
pub fn verify_ecdsa(der_sig: &[u8], pubkey: &[u8], msg: &[u8; 32]) -> bool {
    let Ok(pk) = PublicKey::from_slice(pubkey) else {
        return false;
    };
    if der_sig.is_empty() {
        return false;
    }
    let Ok(mut sig) = ecdsa::Signature::from_der_lax(der_sig) else {
        return false;
    };
    sig.normalize_s();
    SECP256K1
        .verify_ecdsa(&Message::from_digest(*msg), &sig, &pk)
        .is_ok()
}

/// Verifies a 64-byte BIP340 signature over a 32-byte message with a 32-byte x-only key.
pub fn verify_schnorr(sig64: &[u8], pubkey: &[u8], msg: &[u8; 32]) -> bool {
    let Ok(pk) = XOnlyPublicKey::from_slice(pubkey) else {
        return false;
    };
    let Ok(sig) = schnorr::Signature::from_slice(sig64) else {
        return false;
    };
    SECP256K1
        .verify_schnorr(&sig, &Message::from_digest(*msg), &pk)
        .is_ok()
}

/// BIP66 strict DER encoding (Core's `IsValidSignatureEncoding`); `sig` includes the hash type.
pub fn is_valid_signature_encoding(sig: &[u8]) -> bool {
    let len = sig.len();
    if !(9..=73).contains(&len) {
        return false;
    }
    if sig[0] != 0x30 || sig[1] as usize != len - 3 {
        return false;
    }
    let len_r = sig[3] as usize;
    if 5 + len_r >= len {
        return false;
    }
    let len_s = sig[5 + len_r] as usize;
    if len_r + len_s + 7 != len {
        return false;
    }
    if sig[2] != 0x02 || len_r == 0 || sig[4] & 0x80 != 0 {
        return false;
    }
    if len_r > 1 && sig[4] == 0 && sig[5] & 0x80 == 0 {
        return false;
    }
    if sig[len_r + 4] != 0x02 || len_s == 0 || sig[len_r + 6] & 0x80 != 0 {
        return false;
    }
    if len_s > 1 && sig[len_r + 6] == 0 && sig[len_r + 7] & 0x80 == 0 {
        return false;
    }
    true
}

fn is_low_der_signature(sig: &[u8]) -> Result<(), E> {
    if !is_valid_signature_encoding(sig) {
        return Err(E::SigDer);
    }
    let body = &sig[..sig.len() - 1];
    let Ok(parsed) = ecdsa::Signature::from_der_lax(body) else {
        return Err(E::SigHighS);
    };
    let mut norm = parsed;
    norm.normalize_s();
    if norm == parsed {
        Ok(())
    } else {
        Err(E::SigHighS)
    }
}

/// Core's `CheckSignatureEncoding` for ECDSA signatures.
pub fn check_signature_encoding(sig: &[u8], flags: F) -> Result<(), E> {
    if sig.is_empty() {
        return Ok(());
    }
    if flags.intersects(F::DERSIG | F::LOW_S | F::STRICTENC) && !is_valid_signature_encoding(sig) {
        return Err(E::SigDer);
    }
    if flags.contains(F::LOW_S) {
        is_low_der_signature(sig)?;
    }
    if flags.contains(F::STRICTENC) {
        let ht = sig[sig.len() - 1] & !SIGHASH_ANYONECANPAY_BIT;
        if !(1..=3).contains(&ht) {
            return Err(E::SigHashtype);
        }
    }
    Ok(())
}

const SIGHASH_ANYONECANPAY_BIT: u8 = 0x80;

/// Core's `CheckPubKeyEncoding` for ECDSA public keys.
pub fn check_pubkey_encoding(pk: &[u8], flags: F, sv: SigVersion) -> Result<(), E> {
    if flags.contains(F::STRICTENC) {
        let ok = match pk.first() {
            Some(4) => pk.len() == 65,
            Some(2) | Some(3) => pk.len() == 33,
            _ => false,
        };
        if !ok {
            return Err(E::PubkeyType);
        }
    }
    if flags.contains(F::WITNESS_PUBKEYTYPE)
        && sv == SigVersion::WitnessV0
        && !(pk.len() == 33 && matches!(pk[0], 2 | 3))
    {
        return Err(E::WitnessPubkeyType);
    }
    Ok(())
}

/// Core's `FindAndDelete`: removes every push of exactly `pattern` found at an opcode boundary.
/// Returns the number removed and the new script (only when something was removed).
pub fn find_and_delete(script: &[u8], pattern: &[u8]) -> (usize, Option<Vec<u8>>) {
    if pattern.is_empty() {
        return (0, None);
    }
    let mut found = 0;
    let mut result = Vec::new();
    let mut pc = 0;
    let mut pc2 = 0;
    loop {
        result.extend_from_slice(&script[pc2..pc]);
        while script.len() - pc >= pattern.len() && &script[pc..pc + pattern.len()] == pattern {
            pc += pattern.len();
            found += 1;
        }
        pc2 = pc;
        match read_op(script, pc) {
            Some(op) => pc = op.next(),
            None => break,
        }
    }
    if found > 0 {
        result.extend_from_slice(&script[pc2..]);
        (found, Some(result))
    } else {
        (0, None)
    }
}

/// What one [`Interpreter::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepInfo {
    /// Byte offset of the opcode in the script.
    pub pos: usize,
    /// The opcode byte.
    pub opcode: u8,
    /// Whether the branch was executing when the opcode was reached (false inside a
    /// non-taken branch; IF/NOTIF/ELSE/ENDIF are processed either way).
    pub executed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Fresh,
    Running,
    Done,
    Failed(E),
}

const NO_FALSE: u32 = u32::MAX;

/// A running script.
#[derive(Debug)]
pub struct Interpreter<'a> {
    script: &'a [u8],
    checker: &'a TxChecker<'a>,
    flags: F,
    sv: SigVersion,
    exec: ExecData,
    stack: Vec<Vec<u8>>,
    altstack: Vec<Vec<u8>>,
    pc: usize,
    begin_code_hash: usize,
    opcode_pos: u32,
    op_count: u32,
    cond_size: u32,
    first_false: u32,
    state: State,
    last: Option<(usize, u8)>,
}

impl<'a> Interpreter<'a> {
    /// Prepares `script` to run on `stack`.
    pub fn new(
        script: &'a [u8],
        stack: Vec<Vec<u8>>,
        flags: F,
        sv: SigVersion,
        checker: &'a TxChecker<'a>,
        exec: ExecData,
    ) -> Self {
        let mut exec = exec;
        exec.codesep_pos = 0xffff_ffff;
        Interpreter {
            script,
            checker,
            flags,
            sv,
            exec,
            stack,
            altstack: Vec::new(),
            pc: 0,
            begin_code_hash: 0,
            opcode_pos: 0,
            op_count: 0,
            cond_size: 0,
            first_false: NO_FALSE,
            state: State::Fresh,
            last: None,
        }
    }

    /// The main stack (top is last).
    pub fn stack(&self) -> &[Vec<u8>] {
        &self.stack
    }

    /// The alt stack (top is last).
    pub fn altstack(&self) -> &[Vec<u8>] {
        &self.altstack
    }

    /// Byte offset of the next opcode.
    pub fn pc(&self) -> usize {
        self.pc
    }

    /// The script being run.
    pub fn script(&self) -> &'a [u8] {
        self.script
    }

    /// Position and opcode of the last opcode started (the failing one after an error).
    pub fn last_op(&self) -> Option<(usize, u8)> {
        self.last
    }

    /// Whether the script has finished successfully.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The execution data (validation weight left, code separator position).
    pub fn exec_data(&self) -> &ExecData {
        &self.exec
    }

    /// Consumes the interpreter, returning the final stack and execution data.
    pub fn into_parts(self) -> (Vec<Vec<u8>>, ExecData) {
        (self.stack, self.exec)
    }

    /// Runs to the end.
    pub fn run(&mut self) -> Result<(), E> {
        while self.step()?.is_some() {}
        Ok(())
    }

    /// Executes one opcode. `Ok(Some(info))` after an opcode, `Ok(None)` once the script has
    /// ended successfully, `Err` on failure (and on every call after a failure).
    pub fn step(&mut self) -> Result<Option<StepInfo>, E> {
        match self.state {
            State::Done => return Ok(None),
            State::Failed(e) => return Err(e),
            State::Fresh => {
                self.state = State::Running;
                if matches!(self.sv, SigVersion::Base | SigVersion::WitnessV0)
                    && self.script.len() > MAX_SCRIPT_SIZE
                {
                    return self.fail(E::ScriptSize);
                }
            }
            State::Running => {}
        }
        if self.pc >= self.script.len() {
            if self.cond_size != 0 {
                return self.fail(E::UnbalancedConditional);
            }
            self.state = State::Done;
            return Ok(None);
        }
        match self.exec_one() {
            Ok(info) => Ok(Some(info)),
            Err(e) => self.fail(e),
        }
    }

    fn fail<T>(&mut self, e: E) -> Result<T, E> {
        self.state = State::Failed(e);
        Err(e)
    }

    #[inline]
    fn top(&self, i: usize) -> &[u8] {
        &self.stack[self.stack.len() - i]
    }

    #[inline]
    fn need(&self, n: usize) -> Result<(), E> {
        if self.stack.len() < n {
            Err(E::InvalidStackOperation)
        } else {
            Ok(())
        }
    }

    #[inline]
    fn pop(&mut self) -> Result<Vec<u8>, E> {
        self.stack.pop().ok_or(E::InvalidStackOperation)
    }

    #[inline]
    fn minimal(&self) -> bool {
        self.flags.contains(F::MINIMALDATA)
    }

    #[inline]
    fn num_at(&self, i: usize) -> Result<i64, E> {
        decode_num(self.top(i), self.minimal(), 4)
    }

    fn push_bool(&mut self, b: bool) {
        self.stack.push(if b { vec![1] } else { Vec::new() });
    }

    fn exec_one(&mut self) -> Result<StepInfo, E> {
        let f_exec = self.first_false == NO_FALSE;
        let pos = self.pc;
        let Some(op) = read_op(self.script, pos) else {
            self.last = Some((pos, OP_INVALIDOPCODE));
            return Err(E::BadOpcode);
        };
        let opcode = op.opcode;
        self.last = Some((pos, opcode));
        self.pc = op.next();
        if op.data_end - op.data_start > MAX_SCRIPT_ELEMENT_SIZE {
            return Err(E::PushSize);
        }
        if matches!(self.sv, SigVersion::Base | SigVersion::WitnessV0) && opcode > OP_16 {
            self.op_count += 1;
            if self.op_count > MAX_OPS_PER_SCRIPT {
                return Err(E::OpCount);
            }
        }
        if is_disabled(opcode) {
            return Err(E::DisabledOpcode);
        }
        if opcode == OP_CODESEPARATOR
            && self.sv == SigVersion::Base
            && self.flags.contains(F::CONST_SCRIPTCODE)
        {
            return Err(E::OpCodeSeparator);
        }
        if f_exec && opcode <= OP_PUSHDATA4 {
            let data = op.data(self.script);
            if self.minimal() && !is_minimal_push(data, opcode) {
                return Err(E::MinimalData);
            }
            self.stack.push(data.to_vec());
        } else if f_exec || (OP_IF..=OP_ENDIF).contains(&opcode) {
            self.execute(opcode, f_exec)?;
        }
        if self.stack.len() + self.altstack.len() > MAX_STACK_SIZE {
            return Err(E::StackSize);
        }
        self.opcode_pos = self.opcode_pos.wrapping_add(1);
        Ok(StepInfo {
            pos,
            opcode,
            executed: f_exec,
        })
    }

    fn execute(&mut self, opcode: u8, f_exec: bool) -> Result<(), E> {
        match opcode {
            OP_1NEGATE | OP_1..=OP_16 => {
                let n = opcode as i64 - (OP_1 as i64 - 1);
                self.stack.push(encode_num(n));
            }
            OP_NOP => {}
            OP_CHECKLOCKTIMEVERIFY => {
                if !self.flags.contains(F::CHECKLOCKTIMEVERIFY) {
                    // Not enabled: a plain NOP2 (not subject to DISCOURAGE_UPGRADABLE_NOPS).
                    return Ok(());
                }
                self.need(1)?;
                let n = decode_num(self.top(1), self.minimal(), 5)?;
                if n < 0 {
                    return Err(E::NegativeLocktime);
                }
                if !self.checker.check_locktime(n) {
                    return Err(E::UnsatisfiedLocktime);
                }
            }
            OP_CHECKSEQUENCEVERIFY => {
                if !self.flags.contains(F::CHECKSEQUENCEVERIFY) {
                    // Not enabled: a plain NOP3 (not subject to DISCOURAGE_UPGRADABLE_NOPS).
                    return Ok(());
                }
                self.need(1)?;
                let n = decode_num(self.top(1), self.minimal(), 5)?;
                if n < 0 {
                    return Err(E::NegativeLocktime);
                }
                if n & SEQUENCE_LOCKTIME_DISABLE_FLAG == 0 && !self.checker.check_sequence(n) {
                    return Err(E::UnsatisfiedLocktime);
                }
            }
            OP_NOP1 | OP_NOP4..=OP_NOP10 => return self.upgradable_nop(),
            OP_IF | OP_NOTIF => {
                let mut value = false;
                if f_exec {
                    if self.stack.is_empty() {
                        return Err(E::InvalidStackOperation);
                    }
                    let top = self.top(1);
                    let non_minimal = top.len() > 1 || (top.len() == 1 && top[0] != 1);
                    if self.sv == SigVersion::Tapscript && non_minimal {
                        return Err(E::TapscriptMinimalIf);
                    }
                    if self.sv == SigVersion::WitnessV0
                        && self.flags.contains(F::MINIMALIF)
                        && non_minimal
                    {
                        return Err(E::MinimalIf);
                    }
                    value = cast_to_bool(top);
                    if opcode == OP_NOTIF {
                        value = !value;
                    }
                    self.stack.pop();
                }
                if self.first_false == NO_FALSE && !value {
                    self.first_false = self.cond_size;
                }
                self.cond_size += 1;
            }
            OP_ELSE => {
                if self.cond_size == 0 {
                    return Err(E::UnbalancedConditional);
                }
                if self.first_false == NO_FALSE {
                    self.first_false = self.cond_size - 1;
                } else if self.first_false == self.cond_size - 1 {
                    self.first_false = NO_FALSE;
                }
            }
            OP_ENDIF => {
                if self.cond_size == 0 {
                    return Err(E::UnbalancedConditional);
                }
                self.cond_size -= 1;
                if self.first_false == self.cond_size {
                    self.first_false = NO_FALSE;
                }
            }
            OP_VERIFY => {
                self.need(1)?;
                if cast_to_bool(self.top(1)) {
                    self.stack.pop();
                } else {
                    return Err(E::Verify);
                }
            }
            OP_RETURN => return Err(E::OpReturn),
            OP_TOALTSTACK => {
                let v = self.pop()?;
                self.altstack.push(v);
            }
            OP_FROMALTSTACK => {
                let v = self.altstack.pop().ok_or(E::InvalidAltstackOperation)?;
                self.stack.push(v);
            }
            OP_2DROP => {
                self.need(2)?;
                self.stack.truncate(self.stack.len() - 2);
            }
            OP_2DUP => {
                self.need(2)?;
                let (a, b) = (self.top(2).to_vec(), self.top(1).to_vec());
                self.stack.push(a);
                self.stack.push(b);
            }
            OP_3DUP => {
                self.need(3)?;
                let (a, b, c) = (
                    self.top(3).to_vec(),
                    self.top(2).to_vec(),
                    self.top(1).to_vec(),
                );
                self.stack.push(a);
                self.stack.push(b);
                self.stack.push(c);
            }
            OP_2OVER => {
                self.need(4)?;
                let (a, b) = (self.top(4).to_vec(), self.top(3).to_vec());
                self.stack.push(a);
                self.stack.push(b);
            }
            OP_2ROT => {
                self.need(6)?;
                let l = self.stack.len();
                let a = self.stack.remove(l - 6);
                let b = self.stack.remove(l - 6);
                self.stack.push(a);
                self.stack.push(b);
            }
            OP_2SWAP => {
                self.need(4)?;
                let l = self.stack.len();
                self.stack.swap(l - 4, l - 2);
                self.stack.swap(l - 3, l - 1);
            }
            OP_IFDUP => {
                self.need(1)?;
                if cast_to_bool(self.top(1)) {
                    let v = self.top(1).to_vec();
                    self.stack.push(v);
                }
            }
            OP_DEPTH => {
                let n = self.stack.len() as i64;
                self.stack.push(encode_num(n));
            }
            OP_DROP => {
                self.pop()?;
            }
            OP_DUP => {
                self.need(1)?;
                let v = self.top(1).to_vec();
                self.stack.push(v);
            }
            OP_NIP => {
                self.need(2)?;
                let l = self.stack.len();
                self.stack.remove(l - 2);
            }
            OP_OVER => {
                self.need(2)?;
                let v = self.top(2).to_vec();
                self.stack.push(v);
            }
            OP_PICK | OP_ROLL => {
                self.need(2)?;
                let n = to_int(self.num_at(1)?);
                self.stack.pop();
                if n < 0 || n as usize >= self.stack.len() {
                    return Err(E::InvalidStackOperation);
                }
                let idx = self.stack.len() - 1 - n as usize;
                let v = if opcode == OP_ROLL {
                    self.stack.remove(idx)
                } else {
                    self.stack[idx].clone()
                };
                self.stack.push(v);
            }
            OP_ROT => {
                self.need(3)?;
                let l = self.stack.len();
                self.stack.swap(l - 3, l - 2);
                self.stack.swap(l - 2, l - 1);
            }
            OP_SWAP => {
                self.need(2)?;
                let l = self.stack.len();
                self.stack.swap(l - 2, l - 1);
            }
            OP_TUCK => {
                self.need(2)?;
                let v = self.top(1).to_vec();
                let l = self.stack.len();
                self.stack.insert(l - 2, v);
            }
            OP_SIZE => {
                self.need(1)?;
                let n = self.top(1).len() as i64;
                self.stack.push(encode_num(n));
            }
            OP_EQUAL | OP_EQUALVERIFY => {
                self.need(2)?;
                let eq = self.top(2) == self.top(1);
                self.stack.truncate(self.stack.len() - 2);
                self.push_bool(eq);
                if opcode == OP_EQUALVERIFY {
                    if eq {
                        self.stack.pop();
                    } else {
                        return Err(E::EqualVerify);
                    }
                }
            }
            OP_1ADD | OP_1SUB | OP_NEGATE | OP_ABS | OP_NOT | OP_0NOTEQUAL => {
                self.need(1)?;
                let n = self.num_at(1)?;
                let r = match opcode {
                    OP_1ADD => n + 1,
                    OP_1SUB => n - 1,
                    OP_NEGATE => -n,
                    OP_ABS => n.abs(),
                    OP_NOT => (n == 0) as i64,
                    _ => (n != 0) as i64,
                };
                self.stack.pop();
                self.stack.push(encode_num(r));
            }
            OP_ADD
            | OP_SUB
            | OP_BOOLAND
            | OP_BOOLOR
            | OP_NUMEQUAL
            | OP_NUMEQUALVERIFY
            | OP_NUMNOTEQUAL
            | OP_LESSTHAN
            | OP_GREATERTHAN
            | OP_LESSTHANOREQUAL
            | OP_GREATERTHANOREQUAL
            | OP_MIN
            | OP_MAX => {
                self.need(2)?;
                let a = self.num_at(2)?;
                let b = self.num_at(1)?;
                let r = match opcode {
                    OP_ADD => a + b,
                    OP_SUB => a - b,
                    OP_BOOLAND => (a != 0 && b != 0) as i64,
                    OP_BOOLOR => (a != 0 || b != 0) as i64,
                    OP_NUMEQUAL | OP_NUMEQUALVERIFY => (a == b) as i64,
                    OP_NUMNOTEQUAL => (a != b) as i64,
                    OP_LESSTHAN => (a < b) as i64,
                    OP_GREATERTHAN => (a > b) as i64,
                    OP_LESSTHANOREQUAL => (a <= b) as i64,
                    OP_GREATERTHANOREQUAL => (a >= b) as i64,
                    OP_MIN => a.min(b),
                    _ => a.max(b),
                };
                self.stack.truncate(self.stack.len() - 2);
                self.stack.push(encode_num(r));
                if opcode == OP_NUMEQUALVERIFY {
                    if r != 0 {
                        self.stack.pop();
                    } else {
                        return Err(E::NumEqualVerify);
                    }
                }
            }
            OP_WITHIN => {
                self.need(3)?;
                let x = self.num_at(3)?;
                let lo = self.num_at(2)?;
                let hi = self.num_at(1)?;
                let r = lo <= x && x < hi;
                self.stack.truncate(self.stack.len() - 3);
                self.push_bool(r);
            }
            OP_RIPEMD160 | OP_SHA1 | OP_SHA256 | OP_HASH160 | OP_HASH256 => {
                self.need(1)?;
                let v = self.top(1);
                let h: Vec<u8> = match opcode {
                    OP_RIPEMD160 => ripemd160::Hash::hash(v).to_byte_array().to_vec(),
                    OP_SHA1 => sha1::Hash::hash(v).to_byte_array().to_vec(),
                    OP_SHA256 => sha256::Hash::hash(v).to_byte_array().to_vec(),
                    OP_HASH160 => hash160::Hash::hash(v).to_byte_array().to_vec(),
                    _ => sha256d::Hash::hash(v).to_byte_array().to_vec(),
                };
                self.stack.pop();
                self.stack.push(h);
            }
            OP_CODESEPARATOR => {
                self.begin_code_hash = self.pc;
                self.exec.codesep_pos = self.opcode_pos;
            }
            OP_CHECKSIG | OP_CHECKSIGVERIFY => {
                self.need(2)?;
                let l = self.stack.len();
                let ok = self.eval_checksig(l - 2, l - 1)?;
                self.stack.truncate(l - 2);
                self.push_bool(ok);
                if opcode == OP_CHECKSIGVERIFY {
                    if ok {
                        self.stack.pop();
                    } else {
                        return Err(E::CheckSigVerify);
                    }
                }
            }
            OP_CHECKSIGADD => {
                if matches!(self.sv, SigVersion::Base | SigVersion::WitnessV0) {
                    return Err(E::BadOpcode);
                }
                self.need(3)?;
                let num = self.num_at(2)?;
                let l = self.stack.len();
                let ok = self.eval_checksig(l - 3, l - 1)?;
                self.stack.truncate(l - 3);
                self.stack.push(encode_num(num + ok as i64));
            }
            OP_CHECKMULTISIG | OP_CHECKMULTISIGVERIFY => {
                let ok = self.checkmultisig()?;
                self.push_bool(ok);
                if opcode == OP_CHECKMULTISIGVERIFY {
                    if ok {
                        self.stack.pop();
                    } else {
                        return Err(E::CheckMultisigVerify);
                    }
                }
            }
            _ => return Err(E::BadOpcode),
        }
        Ok(())
    }

    fn upgradable_nop(&self) -> Result<(), E> {
        if self.flags.contains(F::DISCOURAGE_UPGRADABLE_NOPS) {
            Err(E::DiscourageUpgradableNops)
        } else {
            Ok(())
        }
    }

    /// Core's `EvalChecksig` on the stack elements at `isig` and `ipk`.
    fn eval_checksig(&mut self, isig: usize, ipk: usize) -> Result<bool, E> {
        let sig = &self.stack[isig];
        let pk = &self.stack[ipk];
        match self.sv {
            SigVersion::Base | SigVersion::WitnessV0 => {
                let mut code: std::borrow::Cow<'_, [u8]> =
                    std::borrow::Cow::Borrowed(&self.script[self.begin_code_hash..]);
                if self.sv == SigVersion::Base {
                    let mut pat = Vec::with_capacity(sig.len() + 5);
                    push_data(&mut pat, sig);
                    let (found, new) = find_and_delete(&code, &pat);
                    if found > 0 && self.flags.contains(F::CONST_SCRIPTCODE) {
                        return Err(E::SigFindAndDelete);
                    }
                    if let Some(n) = new {
                        code = std::borrow::Cow::Owned(n);
                    }
                }
                check_signature_encoding(sig, self.flags)?;
                check_pubkey_encoding(pk, self.flags, self.sv)?;
                let ok = self.checker.check_ecdsa(sig, pk, &code, self.sv);
                if !ok && self.flags.contains(F::NULLFAIL) && !sig.is_empty() {
                    return Err(E::SigNullFail);
                }
                Ok(ok)
            }
            SigVersion::Tapscript | SigVersion::Taproot => {
                let success = !sig.is_empty();
                if success {
                    self.exec.validation_weight_left -= VALIDATION_WEIGHT_PER_SIGOP_PASSED;
                    if self.exec.validation_weight_left < 0 {
                        return Err(E::TapscriptValidationWeight);
                    }
                }
                if pk.is_empty() {
                    return Err(E::TapscriptEmptyPubkey);
                } else if pk.len() == 32 {
                    if success {
                        self.checker
                            .check_schnorr(sig, pk, SigVersion::Tapscript, &self.exec)?;
                    }
                } else if self.flags.contains(F::DISCOURAGE_UPGRADABLE_PUBKEYTYPE) {
                    return Err(E::DiscourageUpgradablePubkeyType);
                }
                Ok(success)
            }
        }
    }

    fn checkmultisig(&mut self) -> Result<bool, E> {
        if self.sv == SigVersion::Tapscript {
            return Err(E::TapscriptCheckMultisig);
        }
        let mut i = 1usize;
        self.need(i)?;
        let mut n_keys = to_int(self.num_at(i)?);
        if !(0..=MAX_PUBKEYS_PER_MULTISIG).contains(&n_keys) {
            return Err(E::PubkeyCount);
        }
        self.op_count += n_keys as u32;
        if self.op_count > MAX_OPS_PER_SCRIPT {
            return Err(E::OpCount);
        }
        i += 1;
        let mut ikey = i;
        let mut ikey2 = n_keys as usize + 2;
        i += n_keys as usize;
        self.need(i)?;
        let mut n_sigs = to_int(self.num_at(i)?);
        if n_sigs < 0 || n_sigs > n_keys {
            return Err(E::SigCount);
        }
        i += 1;
        let mut isig = i;
        i += n_sigs as usize;
        self.need(i)?;

        let mut code: std::borrow::Cow<'_, [u8]> =
            std::borrow::Cow::Borrowed(&self.script[self.begin_code_hash..]);
        if self.sv == SigVersion::Base {
            for k in 0..n_sigs as usize {
                let sig = self.top(isig + k);
                let mut pat = Vec::with_capacity(sig.len() + 5);
                push_data(&mut pat, sig);
                let (found, new) = find_and_delete(&code, &pat);
                if found > 0 && self.flags.contains(F::CONST_SCRIPTCODE) {
                    return Err(E::SigFindAndDelete);
                }
                if let Some(n) = new {
                    code = std::borrow::Cow::Owned(n);
                }
            }
        }

        let mut success = true;
        while success && n_sigs > 0 {
            let sig = self.top(isig);
            let pk = self.top(ikey);
            check_signature_encoding(sig, self.flags)?;
            check_pubkey_encoding(pk, self.flags, self.sv)?;
            if self.checker.check_ecdsa(sig, pk, &code, self.sv) {
                isig += 1;
                n_sigs -= 1;
            }
            ikey += 1;
            n_keys -= 1;
            if n_sigs > n_keys {
                success = false;
            }
        }

        while i > 1 {
            i -= 1;
            if !success && self.flags.contains(F::NULLFAIL) && ikey2 == 0 && !self.top(1).is_empty()
            {
                return Err(E::SigNullFail);
            }
            ikey2 = ikey2.saturating_sub(1);
            self.stack.pop();
        }
        self.need(1)?;
        if self.flags.contains(F::NULLDUMMY) && !self.top(1).is_empty() {
            return Err(E::SigNullDummy);
        }
        self.stack.pop();
        Ok(success)
    }
}
