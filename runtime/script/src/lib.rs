//! BiSCOL's Bitcoin script engine: a consensus-exact interpreter with step traces.
//!
//! In: a transaction, the index of an input, the outputs it spends and [`VerifyFlags`]. Out:
//! `Ok(())` when Bitcoin Core would accept the input under those flags, or the
//! [`ScriptError`] Core would report, named as Core names it (`EVAL_FALSE`, `SCHNORR_SIG`, ...).
//!
//! * [`verify_input`] / [`verify_tx`]: whole-input and whole-transaction verification.
//! * [`verify_script`] with a [`TxChecker`]: Core's `VerifyScript` on explicit scripts.
//! * [`Interpreter`]: one script, one opcode per [`Interpreter::step`].
//! * [`trace_input`]: a [`Trace`] of every script run, with stacks after every opcode.
//! * [`check_transaction`]: Core's context-free `CheckTransaction`.
//! * [`sighash`]: legacy, BIP143 and BIP341 signature hashes.
//!
//! The engine never panics on input data and never recurses on input depth.

#![deny(missing_docs)]

pub mod asm;
pub mod error;
pub mod flags;
pub mod interpreter;
pub mod num;
pub mod opcodes;
pub mod sighash;
pub mod trace;
pub mod tx_check;
pub mod verify;

pub use error::{ScriptError, VerifyError};
pub use flags::VerifyFlags;
pub use interpreter::{ExecData, Interpreter, SigVersion, StepInfo, TxChecker};
pub use sighash::PrecomputedTx;
pub use trace::{ScriptKind, ScriptTrace, Trace, TraceFailure, TraceStep};
pub use tx_check::check_transaction;
pub use verify::{
    trace_input, verify_input, verify_input_with, verify_script, verify_spend, verify_tx,
};
