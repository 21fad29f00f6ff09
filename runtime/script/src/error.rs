//! Script and transaction errors.
//!
//! [`ScriptError`] has one variant per Bitcoin Core `SCRIPT_ERR_*` code (other than `OK` and
//! `ERROR_COUNT`). Its `Display` prints the name that Bitcoin Core's `script_tests.json` uses in
//! its expected-error column (the code without its `SCRIPT_ERR_` prefix, and `NULLFAIL` for
//! `SCRIPT_ERR_SIG_NULLFAIL`), e.g. `EVAL_FALSE`. [`ScriptError::from_name`] is the inverse.
//! [`VerifyError`] wraps it together with the failures that happen before any script runs.

use std::fmt;

macro_rules! script_errors {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Why a script failed: Bitcoin Core's `ScriptError_t`, one variant per code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ScriptError {
            $($(#[$doc])* $variant,)*
        }

        impl ScriptError {
            /// Every variant, in Bitcoin Core's order.
            pub const ALL: &'static [ScriptError] = &[$(ScriptError::$variant,)*];

            /// The name used by Bitcoin Core's test data (`EVAL_FALSE`, `SIG_DER`, ...).
            pub fn name(self) -> &'static str {
                match self {
                    $(ScriptError::$variant => $name,)*
                }
            }

            /// Parses a name as printed by [`ScriptError::name`].
            pub fn from_name(name: &str) -> Option<ScriptError> {
                match name {
                    $($name => Some(ScriptError::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

script_errors! {
    /// `SCRIPT_ERR_UNKNOWN_ERROR`.
    UnknownError => "UNKNOWN_ERROR",
    /// `SCRIPT_ERR_EVAL_FALSE`: the script ended with false (or nothing) on the stack.
    EvalFalse => "EVAL_FALSE",
    /// `SCRIPT_ERR_OP_RETURN`: OP_RETURN was executed.
    OpReturn => "OP_RETURN",
    /// `SCRIPT_ERR_SCRIPT_SIZE`: script longer than 10,000 bytes.
    ScriptSize => "SCRIPT_SIZE",
    /// `SCRIPT_ERR_PUSH_SIZE`: a stack element longer than 520 bytes.
    PushSize => "PUSH_SIZE",
    /// `SCRIPT_ERR_OP_COUNT`: more than 201 non-push opcodes.
    OpCount => "OP_COUNT",
    /// `SCRIPT_ERR_STACK_SIZE`: more than 1,000 stack plus altstack elements.
    StackSize => "STACK_SIZE",
    /// `SCRIPT_ERR_SIG_COUNT`: bad signature count in CHECKMULTISIG.
    SigCount => "SIG_COUNT",
    /// `SCRIPT_ERR_PUBKEY_COUNT`: bad public key count in CHECKMULTISIG.
    PubkeyCount => "PUBKEY_COUNT",
    /// `SCRIPT_ERR_VERIFY`: OP_VERIFY on false.
    Verify => "VERIFY",
    /// `SCRIPT_ERR_EQUALVERIFY`.
    EqualVerify => "EQUALVERIFY",
    /// `SCRIPT_ERR_CHECKMULTISIGVERIFY`.
    CheckMultisigVerify => "CHECKMULTISIGVERIFY",
    /// `SCRIPT_ERR_CHECKSIGVERIFY`.
    CheckSigVerify => "CHECKSIGVERIFY",
    /// `SCRIPT_ERR_NUMEQUALVERIFY`.
    NumEqualVerify => "NUMEQUALVERIFY",
    /// `SCRIPT_ERR_BAD_OPCODE`: unknown, truncated or context-invalid opcode.
    BadOpcode => "BAD_OPCODE",
    /// `SCRIPT_ERR_DISABLED_OPCODE`: OP_CAT and the other disabled opcodes.
    DisabledOpcode => "DISABLED_OPCODE",
    /// `SCRIPT_ERR_INVALID_STACK_OPERATION`.
    InvalidStackOperation => "INVALID_STACK_OPERATION",
    /// `SCRIPT_ERR_INVALID_ALTSTACK_OPERATION`.
    InvalidAltstackOperation => "INVALID_ALTSTACK_OPERATION",
    /// `SCRIPT_ERR_UNBALANCED_CONDITIONAL`.
    UnbalancedConditional => "UNBALANCED_CONDITIONAL",
    /// `SCRIPT_ERR_NEGATIVE_LOCKTIME`.
    NegativeLocktime => "NEGATIVE_LOCKTIME",
    /// `SCRIPT_ERR_UNSATISFIED_LOCKTIME`.
    UnsatisfiedLocktime => "UNSATISFIED_LOCKTIME",
    /// `SCRIPT_ERR_SIG_HASHTYPE`.
    SigHashtype => "SIG_HASHTYPE",
    /// `SCRIPT_ERR_SIG_DER`.
    SigDer => "SIG_DER",
    /// `SCRIPT_ERR_MINIMALDATA`.
    MinimalData => "MINIMALDATA",
    /// `SCRIPT_ERR_SIG_PUSHONLY`.
    SigPushOnly => "SIG_PUSHONLY",
    /// `SCRIPT_ERR_SIG_HIGH_S`.
    SigHighS => "SIG_HIGH_S",
    /// `SCRIPT_ERR_SIG_NULLDUMMY`.
    SigNullDummy => "SIG_NULLDUMMY",
    /// `SCRIPT_ERR_PUBKEYTYPE`.
    PubkeyType => "PUBKEYTYPE",
    /// `SCRIPT_ERR_CLEANSTACK`.
    CleanStack => "CLEANSTACK",
    /// `SCRIPT_ERR_MINIMALIF`.
    MinimalIf => "MINIMALIF",
    /// `SCRIPT_ERR_SIG_NULLFAIL` (test name `NULLFAIL`).
    SigNullFail => "NULLFAIL",
    /// `SCRIPT_ERR_DISCOURAGE_UPGRADABLE_NOPS`.
    DiscourageUpgradableNops => "DISCOURAGE_UPGRADABLE_NOPS",
    /// `SCRIPT_ERR_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM`.
    DiscourageUpgradableWitnessProgram => "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM",
    /// `SCRIPT_ERR_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION`.
    DiscourageUpgradableTaprootVersion => "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION",
    /// `SCRIPT_ERR_DISCOURAGE_OP_SUCCESS`.
    DiscourageOpSuccess => "DISCOURAGE_OP_SUCCESS",
    /// `SCRIPT_ERR_DISCOURAGE_UPGRADABLE_PUBKEYTYPE`.
    DiscourageUpgradablePubkeyType => "DISCOURAGE_UPGRADABLE_PUBKEYTYPE",
    /// `SCRIPT_ERR_WITNESS_PROGRAM_WRONG_LENGTH`.
    WitnessProgramWrongLength => "WITNESS_PROGRAM_WRONG_LENGTH",
    /// `SCRIPT_ERR_WITNESS_PROGRAM_WITNESS_EMPTY`.
    WitnessProgramWitnessEmpty => "WITNESS_PROGRAM_WITNESS_EMPTY",
    /// `SCRIPT_ERR_WITNESS_PROGRAM_MISMATCH`.
    WitnessProgramMismatch => "WITNESS_PROGRAM_MISMATCH",
    /// `SCRIPT_ERR_WITNESS_MALLEATED`.
    WitnessMalleated => "WITNESS_MALLEATED",
    /// `SCRIPT_ERR_WITNESS_MALLEATED_P2SH`.
    WitnessMalleatedP2sh => "WITNESS_MALLEATED_P2SH",
    /// `SCRIPT_ERR_WITNESS_UNEXPECTED`.
    WitnessUnexpected => "WITNESS_UNEXPECTED",
    /// `SCRIPT_ERR_WITNESS_PUBKEYTYPE`.
    WitnessPubkeyType => "WITNESS_PUBKEYTYPE",
    /// `SCRIPT_ERR_SCHNORR_SIG_SIZE`.
    SchnorrSigSize => "SCHNORR_SIG_SIZE",
    /// `SCRIPT_ERR_SCHNORR_SIG_HASHTYPE`.
    SchnorrSigHashtype => "SCHNORR_SIG_HASHTYPE",
    /// `SCRIPT_ERR_SCHNORR_SIG`.
    SchnorrSig => "SCHNORR_SIG",
    /// `SCRIPT_ERR_TAPROOT_WRONG_CONTROL_SIZE`.
    TaprootWrongControlSize => "TAPROOT_WRONG_CONTROL_SIZE",
    /// `SCRIPT_ERR_TAPSCRIPT_VALIDATION_WEIGHT`: the sigops budget is exhausted.
    TapscriptValidationWeight => "TAPSCRIPT_VALIDATION_WEIGHT",
    /// `SCRIPT_ERR_TAPSCRIPT_CHECKMULTISIG`.
    TapscriptCheckMultisig => "TAPSCRIPT_CHECKMULTISIG",
    /// `SCRIPT_ERR_TAPSCRIPT_MINIMALIF`.
    TapscriptMinimalIf => "TAPSCRIPT_MINIMALIF",
    /// `SCRIPT_ERR_TAPSCRIPT_EMPTY_PUBKEY`.
    TapscriptEmptyPubkey => "TAPSCRIPT_EMPTY_PUBKEY",
    /// `SCRIPT_ERR_OP_CODESEPARATOR`.
    OpCodeSeparator => "OP_CODESEPARATOR",
    /// `SCRIPT_ERR_SIG_FINDANDDELETE`.
    SigFindAndDelete => "SIG_FINDANDDELETE",
    /// `SCRIPT_ERR_SCRIPTNUM`: a number operand was too long or not minimally encoded.
    ScriptNum => "SCRIPTNUM",
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for ScriptError {}

/// Why an input could not be verified, or was found invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// A script rule failed.
    Script(ScriptError),
    /// The transaction fails `CheckTransaction` (Bitcoin Core's reject reason, e.g.
    /// `bad-txns-inputs-duplicate`).
    BadTx(&'static str),
    /// The input index is not an input of the transaction.
    InputIndex {
        /// The requested index.
        index: usize,
        /// The number of inputs.
        inputs: usize,
    },
    /// The number of spent outputs given does not match the number of inputs.
    PrevoutCount {
        /// Spent outputs given.
        prevouts: usize,
        /// Inputs in the transaction.
        inputs: usize,
    },
}

impl VerifyError {
    /// The short machine-readable name: the script error name, the `CheckTransaction` reason,
    /// `INPUT_INDEX` or `PREVOUT_COUNT`.
    pub fn name(&self) -> &'static str {
        match self {
            VerifyError::Script(e) => e.name(),
            VerifyError::BadTx(r) => r,
            VerifyError::InputIndex { .. } => "INPUT_INDEX",
            VerifyError::PrevoutCount { .. } => "PREVOUT_COUNT",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Script(e) => write!(f, "{e}"),
            VerifyError::BadTx(r) => write!(f, "{r}"),
            VerifyError::InputIndex { index, inputs } => {
                write!(f, "input index {index} out of range ({inputs} inputs)")
            }
            VerifyError::PrevoutCount { prevouts, inputs } => {
                write!(f, "{prevouts} spent outputs given for {inputs} inputs")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<ScriptError> for VerifyError {
    fn from(e: ScriptError) -> Self {
        VerifyError::Script(e)
    }
}
