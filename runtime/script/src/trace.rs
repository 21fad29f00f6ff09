//! Execution traces: every opcode of every script that ran while verifying one input.
//!
//! In: filled by [`crate::verify::trace_input`] / [`crate::verify::verify_script`] when given a
//! `&mut Trace`. Out: one [`ScriptTrace`] per script run (scriptSig, scriptPubKey, P2SH redeem
//! script, witness script, tapscript, or the taproot key path), each with the stack and altstack
//! after every step and, at a failure, the failing opcode and error; plus the overall result.
//!
//! Invariant: snapshots are bounded. Once [`Trace::MAX_SNAPSHOT_BYTES`] of stack data have been
//! copied, later steps keep their position and opcode but not their stacks
//! (`snapshot_omitted`), so tracing a hostile script cannot exhaust memory.

use crate::error::ScriptError;
use crate::interpreter::SigVersion;
use crate::opcodes::op_name;

/// A copy of the main stack and the alt stack.
pub(crate) type Stacks = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// Which script of the spend a [`ScriptTrace`] covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptKind {
    /// The input's scriptSig.
    ScriptSig,
    /// The spent output's scriptPubKey.
    ScriptPubKey,
    /// The P2SH redeem script.
    RedeemScript,
    /// A P2WSH witness script, or the implied P2WPKH script.
    WitnessScript,
    /// A BIP342 tapscript leaf.
    Tapscript,
    /// The taproot key path (a signature check, no opcodes).
    TaprootKeyPath,
}

impl ScriptKind {
    /// A stable lower-case name (`script_sig`, `tapscript`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ScriptKind::ScriptSig => "script_sig",
            ScriptKind::ScriptPubKey => "script_pubkey",
            ScriptKind::RedeemScript => "redeem_script",
            ScriptKind::WitnessScript => "witness_script",
            ScriptKind::Tapscript => "tapscript",
            ScriptKind::TaprootKeyPath => "taproot_key_path",
        }
    }
}

/// The state after one opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceStep {
    /// Byte offset of the opcode in its script.
    pub pos: usize,
    /// The opcode byte.
    pub opcode: u8,
    /// Whether the branch was executing when the opcode was reached (false in a non-taken
    /// branch; IF/NOTIF/ELSE/ENDIF are processed either way).
    pub executed: bool,
    /// The main stack after the opcode (bottom first).
    pub stack: Vec<Vec<u8>>,
    /// The alt stack after the opcode (bottom first).
    pub altstack: Vec<Vec<u8>>,
    /// True when the stacks were not recorded because the snapshot budget ran out.
    pub snapshot_omitted: bool,
}

impl TraceStep {
    /// The opcode's name (`OP_CHECKSIG`, `0`, `16`).
    pub fn opcode_name(&self) -> &'static str {
        op_name(self.opcode)
    }
}

/// Where and why a script stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceFailure {
    /// Byte offset of the failing opcode (the script length if it failed at its end, e.g. an
    /// unbalanced conditional).
    pub pos: usize,
    /// The failing opcode (`None` when the failure is not tied to one opcode).
    pub opcode: Option<u8>,
    /// The error.
    pub error: ScriptError,
}

/// One script run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptTrace {
    /// Which script this is.
    pub kind: ScriptKind,
    /// The rules it ran under.
    pub sigversion: SigVersion,
    /// The script bytes (for the key path: empty).
    pub script: Vec<u8>,
    /// The stack it started with.
    pub initial_stack: Vec<Vec<u8>>,
    /// One entry per opcode.
    pub steps: Vec<TraceStep>,
    /// Set when this script failed.
    pub failure: Option<TraceFailure>,
}

/// Everything that ran while verifying one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The scripts, in execution order.
    pub scripts: Vec<ScriptTrace>,
    /// The verification result.
    pub result: Result<(), ScriptError>,
    pub(crate) snapshot_bytes: usize,
}

impl Default for Trace {
    fn default() -> Self {
        Trace {
            scripts: Vec::new(),
            result: Ok(()),
            snapshot_bytes: 0,
        }
    }
}

impl Trace {
    /// Bytes of stack snapshots kept before snapshots are omitted.
    pub const MAX_SNAPSHOT_BYTES: usize = 64 << 20;

    /// An empty trace.
    pub fn new() -> Self {
        Trace::default()
    }

    /// The script that failed and its failure, if a script failed at an opcode.
    pub fn failure(&self) -> Option<(&ScriptTrace, &TraceFailure)> {
        self.scripts
            .iter()
            .find_map(|s| s.failure.as_ref().map(|f| (s, f)))
    }

    pub(crate) fn snapshot(&mut self, stack: &[Vec<u8>], alt: &[Vec<u8>]) -> Option<Stacks> {
        let size: usize = stack.iter().chain(alt).map(|v| v.len() + 8).sum();
        if self.snapshot_bytes + size > Self::MAX_SNAPSHOT_BYTES {
            return None;
        }
        self.snapshot_bytes += size;
        Some((stack.to_vec(), alt.to_vec()))
    }
}
