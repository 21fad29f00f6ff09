//! Signature hashes: legacy (`SigVersion::BASE`), BIP143 (witness v0) and BIP341/342 (taproot).
//!
//! In: a transaction, the input index, the script code (legacy and v0) or the taproot execution
//! data, and the hash type. Out: the 32-byte message that is signed, in the byte order that is
//! fed to secp256k1 (the raw hash output, not Core's reversed `GetHex`).
//!
//! [`PrecomputedTx`] holds the per-transaction hashes (Core's `PrecomputedTransactionData`);
//! the BIP341 ones that cover spent outputs exist only when every spent output was given.
//!
//! Legacy hashing reproduces Core exactly: OP_CODESEPARATORs are removed from the script code
//! (with Core's quirk that a script truncated inside a push is written only up to the failing
//! opcode while its declared length counts every byte), FindAndDelete is the interpreter's job,
//! and SIGHASH_SINGLE with no matching output (or an out-of-range input) hashes to
//! `0x01 00..00` (the "SIGHASH_SINGLE bug").

use std::sync::OnceLock;

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::{Transaction, TxOut};

use crate::opcodes::{OP_CODESEPARATOR, OP_PUSHDATA1, OP_PUSHDATA2, OP_PUSHDATA4};

/// SIGHASH_ALL.
pub const SIGHASH_ALL: u8 = 1;
/// SIGHASH_NONE.
pub const SIGHASH_NONE: u8 = 2;
/// SIGHASH_SINGLE.
pub const SIGHASH_SINGLE: u8 = 3;
/// SIGHASH_ANYONECANPAY.
pub const SIGHASH_ANYONECANPAY: u8 = 0x80;
/// BIP341 SIGHASH_DEFAULT (64-byte signatures).
pub const SIGHASH_DEFAULT: u8 = 0;

/// The value Core returns for SIGHASH_SINGLE without a matching output: uint256 one.
pub const SIGHASH_ONE: [u8; 32] = {
    let mut a = [0u8; 32];
    a[0] = 1;
    a
};

/// Something bytes can be serialized into.
pub(crate) trait Sink {
    fn put(&mut self, b: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

impl Sink for sha256::HashEngine {
    fn put(&mut self, b: &[u8]) {
        self.input(b);
    }
}

/// Writes `n` as a compact size (rust-bitcoin's `VarInt` encoding, at most 9 bytes).
pub(crate) fn put_compact_size(s: &mut impl Sink, n: u64) {
    let encoded = bitcoin::consensus::encode::serialize(&bitcoin::VarInt(n));
    s.put(&encoded);
}

/// Length of a compact-size encoding of `n` (rust-bitcoin's `VarInt`).
pub(crate) fn compact_size_len(n: u64) -> u64 {
    bitcoin::VarInt(n).size() as u64
}

fn put_outpoint(s: &mut impl Sink, txin: &bitcoin::TxIn) {
    s.put(txin.previous_output.txid.as_byte_array());
    s.put(&txin.previous_output.vout.to_le_bytes());
}

fn put_script(s: &mut impl Sink, script: &[u8]) {
    put_compact_size(s, script.len() as u64);
    s.put(script);
}

fn put_txout(s: &mut impl Sink, out: &TxOut) {
    s.put(&out.value.to_sat().to_le_bytes());
    put_script(s, out.script_pubkey.as_bytes());
}

fn sha256_of(f: impl FnOnce(&mut sha256::HashEngine)) -> [u8; 32] {
    let mut e = sha256::HashEngine::default();
    f(&mut e);
    sha256::Hash::from_engine(e).to_byte_array()
}

fn sha256d_finish(e: sha256::HashEngine) -> [u8; 32] {
    let first = sha256::Hash::from_engine(e);
    sha256::Hash::hash(first.as_byte_array()).to_byte_array()
}

/// SHA256 of a 32-byte value.
fn sha256_once(b: &[u8; 32]) -> [u8; 32] {
    sha256::Hash::hash(b).to_byte_array()
}

/// A BIP340 tagged hash engine: SHA256(SHA256(tag) || SHA256(tag) || ...).
pub(crate) fn tagged_engine(tag: &'static str) -> sha256::HashEngine {
    fn fresh(tag: &str) -> sha256::HashEngine {
        let th = sha256::Hash::hash(tag.as_bytes()).to_byte_array();
        let mut e = sha256::HashEngine::default();
        e.input(&th);
        e.input(&th);
        e
    }
    // The 64-byte tag prefix is one SHA256 block: keep the engines after it (midstates).
    static ENGINES: OnceLock<[(&'static str, sha256::HashEngine); 4]> = OnceLock::new();
    let engines = ENGINES
        .get_or_init(|| ["TapSighash", "TapLeaf", "TapBranch", "TapTweak"].map(|t| (t, fresh(t))));
    match engines.iter().find(|(t, _)| *t == tag) {
        Some((_, e)) => e.clone(),
        None => fresh(tag),
    }
}

/// Finishes an engine from [`tagged_engine`].
pub(crate) fn finish(e: sha256::HashEngine) -> [u8; 32] {
    sha256::Hash::from_engine(e).to_byte_array()
}

/// Per-transaction hashes used by the signature hashes (Core's `PrecomputedTransactionData`).
#[derive(Debug, Clone)]
pub struct PrecomputedTx {
    sha_prevouts: [u8; 32],
    sha_sequences: [u8; 32],
    sha_outputs: [u8; 32],
    sha_amounts: Option<[u8; 32]>,
    sha_script_pubkeys: Option<[u8; 32]>,
    hash_prevouts: [u8; 32],
    hash_sequence: [u8; 32],
    hash_outputs: [u8; 32],
    spent_outputs: Option<Vec<TxOut>>,
}

impl PrecomputedTx {
    /// Precomputes the hashes of `tx`. `spent_outputs` are the outputs spent by the inputs, in
    /// order; when their number does not match the inputs (e.g. empty), the BIP341 hashes that
    /// need them are absent and taproot signature checks fail, as in Core.
    pub fn new(tx: &Transaction, spent_outputs: &[TxOut]) -> PrecomputedTx {
        let sha_prevouts = sha256_of(|e| tx.input.iter().for_each(|i| put_outpoint(e, i)));
        let sha_sequences = sha256_of(|e| {
            tx.input
                .iter()
                .for_each(|i| e.put(&i.sequence.0.to_le_bytes()))
        });
        let sha_outputs = sha256_of(|e| tx.output.iter().for_each(|o| put_txout(e, o)));
        let ready = spent_outputs.len() == tx.input.len();
        let (sha_amounts, sha_script_pubkeys, spent) = if ready {
            (
                Some(sha256_of(|e| {
                    spent_outputs
                        .iter()
                        .for_each(|o| e.put(&o.value.to_sat().to_le_bytes()))
                })),
                Some(sha256_of(|e| {
                    spent_outputs
                        .iter()
                        .for_each(|o| put_script(e, o.script_pubkey.as_bytes()))
                })),
                Some(spent_outputs.to_vec()),
            )
        } else {
            (None, None, None)
        };
        PrecomputedTx {
            hash_prevouts: sha256_once(&sha_prevouts),
            hash_sequence: sha256_once(&sha_sequences),
            hash_outputs: sha256_once(&sha_outputs),
            sha_prevouts,
            sha_sequences,
            sha_outputs,
            sha_amounts,
            sha_script_pubkeys,
            spent_outputs: spent,
        }
    }

    /// BIP341 `sha_prevouts` (single SHA256 of all outpoints).
    pub fn sha_prevouts(&self) -> [u8; 32] {
        self.sha_prevouts
    }
    /// BIP341 `sha_sequences`.
    pub fn sha_sequences(&self) -> [u8; 32] {
        self.sha_sequences
    }
    /// BIP341 `sha_outputs`.
    pub fn sha_outputs(&self) -> [u8; 32] {
        self.sha_outputs
    }
    /// BIP341 `sha_amounts` (only with all spent outputs).
    pub fn sha_amounts(&self) -> Option<[u8; 32]> {
        self.sha_amounts
    }
    /// BIP341 `sha_scriptpubkeys` (only with all spent outputs).
    pub fn sha_script_pubkeys(&self) -> Option<[u8; 32]> {
        self.sha_script_pubkeys
    }
    /// The spent outputs, when all were given.
    pub fn spent_outputs(&self) -> Option<&[TxOut]> {
        self.spent_outputs.as_deref()
    }
}

/// Core's `GetScriptOp` position semantics: `Ok(next)` or `Err(position reached on failure)`.
fn core_get_op(script: &[u8], pc: usize) -> Result<(u8, usize), usize> {
    let Some(&op) = script.get(pc) else {
        return Err(pc);
    };
    let mut p = pc + 1;
    if op <= OP_PUSHDATA4 {
        let size = match op {
            OP_PUSHDATA1 => match script.get(p) {
                Some(b) => {
                    p += 1;
                    *b as usize
                }
                None => return Err(p),
            },
            OP_PUSHDATA2 => match script.get(p..p + 2) {
                Some(b) => {
                    p += 2;
                    u16::from_le_bytes([b[0], b[1]]) as usize
                }
                None => return Err(p),
            },
            OP_PUSHDATA4 => match script.get(p..p + 4) {
                Some(b) => {
                    p += 4;
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
                }
                None => return Err(p),
            },
            n => n as usize,
        };
        if script.len() - p < size {
            return Err(p);
        }
        p += size;
    }
    Ok((op, p))
}

/// Writes the script code with OP_CODESEPARATORs removed, exactly as Core's
/// `CTransactionSignatureSerializer::SerializeScriptCode`.
fn put_script_code_legacy(s: &mut impl Sink, script: &[u8]) {
    let mut n_seps = 0u64;
    let mut pc = 0;
    while let Ok((op, next)) = core_get_op(script, pc) {
        if op == OP_CODESEPARATOR {
            n_seps += 1;
        }
        pc = next;
    }
    put_compact_size(s, script.len() as u64 - n_seps);
    let mut begin = 0;
    let mut it = 0;
    loop {
        match core_get_op(script, it) {
            Ok((op, next)) => {
                it = next;
                if op == OP_CODESEPARATOR {
                    s.put(&script[begin..it - 1]);
                    begin = it;
                }
            }
            Err(at) => {
                it = at;
                break;
            }
        }
    }
    if begin != script.len() {
        s.put(&script[begin..it.min(script.len()).max(begin)]);
    }
}

/// Legacy signature hash (Core's `SignatureHash` with `SigVersion::BASE`). `hash_type` is the
/// full 32-bit value that is appended to the preimage.
pub fn legacy_sighash(
    tx: &Transaction,
    n_in: usize,
    script_code: &[u8],
    hash_type: i32,
) -> [u8; 32] {
    let base = (hash_type & 0x1f) as u8;
    let single = base == SIGHASH_SINGLE;
    let none = base == SIGHASH_NONE;
    let anyone = hash_type & SIGHASH_ANYONECANPAY as i32 != 0;
    if n_in >= tx.input.len() || (single && n_in >= tx.output.len()) {
        return SIGHASH_ONE;
    }
    let mut e = sha256::HashEngine::default();
    e.put(&tx.version.0.to_le_bytes());
    let n_inputs = if anyone { 1 } else { tx.input.len() };
    put_compact_size(&mut e, n_inputs as u64);
    for i in 0..n_inputs {
        let actual = if anyone { n_in } else { i };
        let txin = &tx.input[actual];
        put_outpoint(&mut e, txin);
        if actual != n_in {
            put_compact_size(&mut e, 0);
        } else {
            put_script_code_legacy(&mut e, script_code);
        }
        if actual != n_in && (single || none) {
            e.put(&0u32.to_le_bytes());
        } else {
            e.put(&txin.sequence.0.to_le_bytes());
        }
    }
    let n_outputs = if none {
        0
    } else if single {
        n_in + 1
    } else {
        tx.output.len()
    };
    put_compact_size(&mut e, n_outputs as u64);
    for i in 0..n_outputs {
        if single && i != n_in {
            e.put(&(-1i64).to_le_bytes());
            put_compact_size(&mut e, 0);
        } else {
            put_txout(&mut e, &tx.output[i]);
        }
    }
    e.put(&tx.lock_time.to_consensus_u32().to_le_bytes());
    e.put(&hash_type.to_le_bytes());
    sha256d_finish(e)
}

/// BIP143 signature hash for witness v0 inputs.
pub fn segwit_v0_sighash(
    tx: &Transaction,
    n_in: usize,
    script_code: &[u8],
    amount: u64,
    hash_type: i32,
    txdata: &PrecomputedTx,
) -> [u8; 32] {
    let Some(txin) = tx.input.get(n_in) else {
        return SIGHASH_ONE;
    };
    let base = (hash_type & 0x1f) as u8;
    let anyone = hash_type & SIGHASH_ANYONECANPAY as i32 != 0;
    let zero = [0u8; 32];
    let hash_prevouts = if anyone { zero } else { txdata.hash_prevouts };
    let hash_sequence = if !anyone && base != SIGHASH_SINGLE && base != SIGHASH_NONE {
        txdata.hash_sequence
    } else {
        zero
    };
    let hash_outputs = if base != SIGHASH_SINGLE && base != SIGHASH_NONE {
        txdata.hash_outputs
    } else if base == SIGHASH_SINGLE && n_in < tx.output.len() {
        let mut e = sha256::HashEngine::default();
        put_txout(&mut e, &tx.output[n_in]);
        sha256d_finish(e)
    } else {
        zero
    };
    let mut e = sha256::HashEngine::default();
    e.put(&tx.version.0.to_le_bytes());
    e.put(&hash_prevouts);
    e.put(&hash_sequence);
    put_outpoint(&mut e, txin);
    put_script(&mut e, script_code);
    e.put(&amount.to_le_bytes());
    e.put(&txin.sequence.0.to_le_bytes());
    e.put(&hash_outputs);
    e.put(&tx.lock_time.to_consensus_u32().to_le_bytes());
    e.put(&hash_type.to_le_bytes());
    sha256d_finish(e)
}

/// The script-path extras of a BIP342 signature message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapscriptSigData {
    /// The tapleaf hash of the executing script.
    pub tapleaf_hash: [u8; 32],
    /// Opcode position of the last executed OP_CODESEPARATOR, or 0xffffffff.
    pub codesep_pos: u32,
}

/// The BIP341 signature message (`SigMsg`, starting with the epoch byte 0x00). `None` when
/// the hash type is undefined, SIGHASH_SINGLE has no matching output, the input index is out
/// of range or the spent outputs are missing.
pub fn taproot_sigmsg(
    tx: &Transaction,
    n_in: usize,
    txdata: &PrecomputedTx,
    hash_type: u8,
    annex_hash: Option<&[u8; 32]>,
    script: Option<&TapscriptSigData>,
) -> Option<Vec<u8>> {
    let mut v = Vec::with_capacity(256);
    write_taproot_sigmsg(&mut v, tx, n_in, txdata, hash_type, annex_hash, script)?;
    Some(v)
}

/// The BIP341 signature hash: `TaggedHash("TapSighash", SigMsg)`.
pub fn taproot_sighash(
    tx: &Transaction,
    n_in: usize,
    txdata: &PrecomputedTx,
    hash_type: u8,
    annex_hash: Option<&[u8; 32]>,
    script: Option<&TapscriptSigData>,
) -> Option<[u8; 32]> {
    let mut e = tagged_engine("TapSighash");
    write_taproot_sigmsg(&mut e, tx, n_in, txdata, hash_type, annex_hash, script)?;
    Some(finish(e))
}

fn write_taproot_sigmsg(
    s: &mut impl Sink,
    tx: &Transaction,
    n_in: usize,
    txdata: &PrecomputedTx,
    hash_type: u8,
    annex_hash: Option<&[u8; 32]>,
    script: Option<&TapscriptSigData>,
) -> Option<()> {
    let txin = tx.input.get(n_in)?;
    let spent = txdata.spent_outputs.as_ref()?;
    let sha_amounts = txdata.sha_amounts?;
    let sha_spks = txdata.sha_script_pubkeys?;
    if !(hash_type <= 0x03 || (0x81..=0x83).contains(&hash_type)) {
        return None;
    }
    let output_type = if hash_type == SIGHASH_DEFAULT {
        SIGHASH_ALL
    } else {
        hash_type & 3
    };
    let anyone = hash_type & SIGHASH_ANYONECANPAY != 0;
    if output_type == SIGHASH_SINGLE && n_in >= tx.output.len() {
        return None;
    }
    s.put(&[0u8, hash_type]);
    s.put(&tx.version.0.to_le_bytes());
    s.put(&tx.lock_time.to_consensus_u32().to_le_bytes());
    if !anyone {
        s.put(&txdata.sha_prevouts);
        s.put(&sha_amounts);
        s.put(&sha_spks);
        s.put(&txdata.sha_sequences);
    }
    if output_type == SIGHASH_ALL {
        s.put(&txdata.sha_outputs);
    }
    let ext_flag = if script.is_some() { 1u8 } else { 0 };
    s.put(&[(ext_flag << 1) + annex_hash.is_some() as u8]);
    if anyone {
        put_outpoint(s, txin);
        put_txout(s, spent.get(n_in)?);
        s.put(&txin.sequence.0.to_le_bytes());
    } else {
        s.put(&(n_in as u32).to_le_bytes());
    }
    if let Some(a) = annex_hash {
        s.put(a);
    }
    if output_type == SIGHASH_SINGLE {
        let h = sha256_of(|e| put_txout(e, &tx.output[n_in]));
        s.put(&h);
    }
    if let Some(sd) = script {
        s.put(&sd.tapleaf_hash);
        s.put(&[0u8]);
        s.put(&sd.codesep_pos.to_le_bytes());
    }
    Some(())
}

/// BIP341 tapleaf hash: `TaggedHash("TapLeaf", leaf_version || compact_size(len) || script)`.
pub fn tapleaf_hash(leaf_version: u8, script: &[u8]) -> [u8; 32] {
    let mut e = tagged_engine("TapLeaf");
    e.put(&[leaf_version]);
    put_script(&mut e, script);
    finish(e)
}

/// BIP341 branch hash of two nodes (sorted).
pub fn tapbranch_hash(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut e = tagged_engine("TapBranch");
    if a <= b {
        e.put(a);
        e.put(b);
    } else {
        e.put(b);
        e.put(a);
    }
    finish(e)
}

/// BIP341 tweak: `TaggedHash("TapTweak", internal_key || merkle_root?)`.
pub fn taptweak_hash(internal_key: &[u8; 32], merkle_root: Option<&[u8; 32]>) -> [u8; 32] {
    let mut e = tagged_engine("TapTweak");
    e.put(internal_key);
    if let Some(r) = merkle_root {
        e.put(r);
    }
    finish(e)
}

/// SHA256 of the annex with its compact-size length prefix, as committed by BIP341.
pub fn annex_hash(annex: &[u8]) -> [u8; 32] {
    sha256_of(|e| put_script(e, annex))
}
