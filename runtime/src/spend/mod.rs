//! The spend engine: from a contract, one of its coins, the chain state and the keystore to a
//! fully signed transaction that spends the coin through a path of the contract, or to a
//! refusal that names the `require`s that are not met, in numbers.
//!
//! In: a [`Contract`] (the artifact and its instance), a [`Coin`] of the contract (its output
//! and confirmation data), a [`ChainState`] (tip height and median time past, plain numbers:
//! this module never talks to a chain), a [`Keystore`], and a [`SpendRequest`] (a path name or
//! `key`, the path arguments, the destination and a fee rate). Out: [`prepare`] returns a
//! [`PreparedSpend`] (the transaction, the leaf, nSequence and nLockTime, sizes, fee, the key
//! names that signed and a human plan) or a [`SpendError`].
//!
//! The transaction is version 2 with one input (the coin) and one output (the destination,
//! the coin's value minus the fee). Rules and invariants:
//!
//! * **Locks.** A leaf with `older(n)` sets the input's nSequence to `n` (BIP68); a leaf with
//!   `after(t)` sets nLockTime to `t`. Otherwise nSequence is `0xfffffffd` (final for BIP68,
//!   signals RBF, enables nLockTime) and nLockTime is the tip's height, as Bitcoin Core does
//!   against fee sniping. Locks are checked against the chain state exactly as consensus does
//!   for the next block (see `explain`), so the embedded chain accepts what this module builds.
//! * **Leaf choice.** Among the path's leaves, rust-miniscript's non-malleable satisfier runs
//!   with the keystore's keys, the path arguments that hash to the contract's hashes and the
//!   locks the chain allows; the satisfiable leaf with the smallest witness wins.
//! * **Fee.** `ceil(fee_rate × vsize)` of the final transaction. Sizing uses 64-byte dummy
//!   signatures: a BIP340 signature with SIGHASH_DEFAULT is always 64 bytes, and the signed
//!   witness is checked to have exactly the planned size. The output must not be dust for its
//!   script (Bitcoin Core's 3 sat/vB rule: 330 sat for P2TR, 294 sat for P2WPKH).
//! * **Signing.** Script paths: BIP341 script-path sighash (SIGHASH_DEFAULT, the coin as the
//!   only prevout) and BIP340 signatures with aux randomness. Key path: one key tweaked with
//!   the merkle root, or a MuSig2 session run in process when every key of the aggregate is in
//!   the keystore (fresh CSPRNG nonces per signer and session); NUMS has no key path.
//! * **Verification.** The finished transaction is verified with `biscol-script`
//!   ([`biscol_script::verify_input`], standard flags). A transaction that fails is never
//!   returned: that is a bug, reported as [`SpendError::Internal`] with the engine's error and
//!   the failing opcode.
//! * **Refusals.** When no leaf is satisfiable nothing is signed; [`SpendError::Refused`]
//!   lists one [`Refusal`] per unmet atom (a missing key, a threshold short of keys, a wrong
//!   or missing preimage, a lock not reached), each with its `require` (file, line, column,
//!   condition, message) found through the artifact's source map.
//!
//! Secrets never leave the keystore's types except inside the MuSig2 session; nothing here
//! prints or formats them.

mod explain;
mod plan;
pub mod psbt;
mod sign;

use std::collections::BTreeMap;
use std::fmt;

use biscol_artifact::format::{AbiParam, AbiPath, AbiRequire, Artifact, ArtifactError, Location};
use biscol_artifact::instance::{Instance, KeyPath};
use biscol_artifact::value::{parse_value, Value, ValueType};
use bitcoin::secp256k1::{PublicKey, XOnlyPublicKey};
use bitcoin::transaction::Version;
use bitcoin::{
    absolute::LockTime, Amount, FeeRate, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut,
    Witness,
};

use crate::keystore::{Keystore, KeystoreError};

use explain::{check_after, check_older, short_hex, Relative};
use plan::{Assets, AtomKind, RBF_SEQUENCE};

/// A contract instance: the built artifact, its instance (keys, scripts, control blocks) and
/// the instantiation values.
#[derive(Clone, Debug)]
pub struct Contract {
    /// The artifact the compiler built.
    pub artifact: Artifact,
    /// The instance the artifact gave for [`Contract::args`].
    pub instance: Instance,
    /// The instantiation values as given (keys resolved to hex), by parameter name.
    pub args: BTreeMap<String, String>,
}

impl Contract {
    /// Instantiates `artifact` with `args` (parameter name, value text) on `network`.
    pub fn instantiate(
        artifact: Artifact,
        args: &[(String, String)],
        network: bitcoin::Network,
    ) -> Result<Contract, ArtifactError> {
        let instance = artifact.instantiate(args, network)?;
        Ok(Contract {
            artifact,
            instance,
            args: args.iter().cloned().collect(),
        })
    }

    /// What a spend of this contract's coin did, read from the input's witness: the path
    /// ([`KEY_PATH`] for a key-path signature, else the path of the leaf whose script and
    /// control block the witness reveals) and the preimages it revealed. `None` when the
    /// witness is neither (not a spend of this instance).
    pub fn read_spend(&self, witness: &Witness) -> Option<ReadSpend> {
        let Some(revealed) = witness.taproot_leaf_script() else {
            // One element (a signature), or two with an annex: the key path.
            let elements = witness.len() - usize::from(witness.taproot_annex().is_some());
            return (elements == 1 && self.instance.key_path.is_spendable()).then(|| ReadSpend {
                path: KEY_PATH.to_string(),
                revealed: Vec::new(),
            });
        };
        let control_block = witness.taproot_control_block()?;
        let index = self.instance.leaves.iter().position(|leaf| {
            leaf.script.as_script() == revealed.script
                && leaf.control_block.leaf_version == revealed.version
                && leaf.control_block.serialize() == control_block
        })?;
        let path = self.instance.leaves[index].path.clone();
        let preimages = self
            .artifact
            .path(&path)
            .and_then(|abi_path| {
                let leaves = plan::load_leaves(self, abi_path, &[index]).ok()?;
                Some(revealed_preimages(abi_path, &leaves, witness))
            })
            .unwrap_or_default();
        Some(ReadSpend {
            path,
            revealed: preimages,
        })
    }
}

/// What a spend revealed, as [`Contract::read_spend`] reads it from a witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadSpend {
    /// The path's name, or [`KEY_PATH`].
    pub path: String,
    /// The preimages the witness revealed, as (argument name, hex): the path's argument when it
    /// has exactly one `Bytes32` argument and one preimage was revealed, otherwise
    /// `<hash parameter>_preimage`.
    pub revealed: Vec<(String, String)>,
}

/// The preimages among `witness`'s items that open the hash locks of `leaves` (one leaf).
fn revealed_preimages(
    abi_path: &AbiPath,
    leaves: &[plan::Leaf],
    witness: &Witness,
) -> Vec<(String, String)> {
    let mut found: Vec<(String, [u8; 32])> = Vec::new();
    for atom in leaves.iter().flat_map(|l| &l.atoms) {
        let AtomKind::Hash(hash) = atom.kind else {
            continue;
        };
        let opening = witness
            .iter()
            .filter_map(|item| <[u8; 32]>::try_from(item).ok())
            .find(|item| hash.matches(item));
        if let Some(preimage) = opening {
            let param = atom
                .names
                .first()
                .cloned()
                .unwrap_or_else(|| hash.expected_hex());
            found.push((param, preimage));
        }
    }
    preimage_args(abi_path, &found)
}

/// Preimages (hash parameter, bytes) as a spend's arguments: under the path's one `Bytes32`
/// argument when it has exactly one and there is one preimage, otherwise as
/// `<hash parameter>_preimage`; values in hex.
pub(crate) fn preimage_args(
    abi_path: &AbiPath,
    preimages: &[(String, [u8; 32])],
) -> Vec<(String, String)> {
    let bytes32: Vec<&AbiParam> = abi_path.args.iter().filter(|a| a.ty == "Bytes32").collect();
    if let ([arg], [(_, value)]) = (bytes32.as_slice(), preimages) {
        return vec![(arg.name.clone(), hex::encode(value))];
    }
    preimages
        .iter()
        .map(|(name, p)| (format!("{name}_preimage"), hex::encode(p)))
        .collect()
}

/// The name a [`SpendRequest`] and the store give the key path.
pub const KEY_PATH: &str = "key";

/// A coin of the contract: an unspent output paying to the contract's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    /// Where it is.
    pub outpoint: OutPoint,
    /// The output (value and scriptPubKey; the scriptPubKey must be the contract's).
    pub txout: TxOut,
    /// The height of the block that confirmed it; `None` while unconfirmed.
    pub height: Option<u32>,
    /// The median time past of the block at `height - 1` (BIP68's time base for relative
    /// time locks); `None` when unknown or unconfirmed.
    pub mtp_before: Option<u32>,
}

/// The chain as far as timelocks care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainState {
    /// The tip's height; the spend goes into block `height + 1`.
    pub height: u32,
    /// The tip's median time past (BIP113's clock for the next block).
    pub median_time_past: u32,
}

/// What to spend and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendRequest {
    /// A spend path of the contract, or `key` for the key path.
    pub path: String,
    /// The path's arguments (name, value text), e.g. `("preimage", "<64 hex digits>")`.
    pub args: Vec<(String, String)>,
    /// Where the coin's value (minus the fee) goes.
    pub destination: ScriptBuf,
    /// The fee rate; the fee is `ceil(fee_rate × vsize)`.
    pub fee_rate: FeeRate,
}

/// A signed, verified spend, ready to broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedSpend {
    /// The transaction: fully signed and verified with `biscol-script`.
    pub tx: Transaction,
    /// The path it spends through (`key` for the key path).
    pub path: String,
    /// The leaf it spends through, as an index into `instance.leaves`; `None` for the key path.
    pub leaf: Option<usize>,
    /// The input's nSequence.
    pub n_sequence: Sequence,
    /// The transaction's nLockTime.
    pub lock_time: LockTime,
    /// The serialized witness size in bytes (item count and items, script and control block
    /// included).
    pub witness_bytes: usize,
    /// The transaction's virtual size.
    pub vsize: u64,
    /// The fee paid.
    pub fee: Amount,
    /// The keystore key names that signed, in signing order.
    pub signers: Vec<String>,
    /// The plan in words: leaf, signers, preimages, nSequence and nLockTime and why, fee.
    pub steps: Vec<String>,
}

/// A `require` of the contract's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequireRef {
    /// The file, as the artifact names it (`artifact.files[i]`).
    pub file: String,
    /// Its line, from 1.
    pub line: u32,
    /// Its column, from 1.
    pub column: u32,
    /// The condition as written (`older(timeout: Blocks)`).
    pub condition: String,
    /// The `require`'s message.
    pub message: Option<String>,
}

/// The name of the file `location` points into, from the artifact's `files`.
fn file_of(location: &Location, files: &[String]) -> String {
    usize::try_from(location.file)
        .ok()
        .and_then(|i| files.get(i))
        .cloned()
        .unwrap_or_else(|| format!("<file {}>", location.file))
}

impl RequireRef {
    /// The reference to `require`, with its file name from `files`.
    pub fn of(require: &AbiRequire, files: &[String]) -> RequireRef {
        let loc = &require.location;
        RequireRef {
            file: file_of(loc, files),
            line: loc.line,
            column: loc.column,
            condition: require.condition.clone(),
            message: require.message.clone(),
        }
    }
}

impl fmt::Display for RequireRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "require {} at {}:{}:{}",
            self.condition, self.file, self.line, self.column
        )
    }
}

/// One reason a spend is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The `require` that fails, when known.
    pub require: Option<RequireRef>,
    /// Why, in numbers.
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.require {
            Some(r) => {
                write!(f, "{r} failed")?;
                if let Some(m) = &r.message {
                    write!(f, " ({m:?})")?;
                }
                write!(f, ": {}", self.reason)
            }
            None => f.write_str(&self.reason),
        }
    }
}

/// Why [`prepare`] built no transaction.
#[derive(Debug)]
pub enum SpendError {
    /// The request names no path of the contract.
    UnknownPath {
        /// The name given.
        path: String,
        /// The contract's paths (and `key` when it has a key path).
        available: Vec<String>,
    },
    /// A path argument is missing.
    MissingArg {
        /// The path.
        path: String,
        /// The argument.
        name: String,
        /// Its type.
        ty: String,
    },
    /// An argument names no argument of the path.
    UnknownArg {
        /// The path.
        path: String,
        /// The argument given.
        name: String,
        /// The path's arguments.
        expected: Vec<String>,
    },
    /// An argument is given twice.
    DuplicateArg {
        /// The argument.
        name: String,
    },
    /// An argument's value does not parse as its type.
    MalformedArg {
        /// The argument.
        name: String,
        /// What its type accepts.
        expected: String,
        /// What was given.
        actual: String,
    },
    /// The coin does not pay to the contract.
    WrongCoin {
        /// The contract's scriptPubKey, hex.
        expected: String,
        /// The coin's scriptPubKey, hex.
        actual: String,
    },
    /// The spend is not possible now (or not with these keys and arguments); nothing was
    /// signed.
    Refused(Vec<Refusal>),
    /// The output would be dust after the fee.
    Dust {
        /// What the output would get.
        value: Amount,
        /// The fee.
        fee: Amount,
        /// The smallest standard value for the destination.
        dust_limit: Amount,
    },
    /// The coin does not even pay the fee.
    InsufficientValue {
        /// The coin's value.
        coin: Amount,
        /// The fee.
        fee: Amount,
    },
    /// The keystore failed.
    Keystore(KeystoreError),
    /// A PSBT that is not a spend of this contract's coin as this module writes them, or
    /// that carries a field that contradicts the contract (a wrong amount, a bad signature).
    BadPsbt {
        /// What is wrong.
        detail: String,
    },
    /// A bug or an inconsistent contract: for example the script engine rejected a
    /// transaction this module built (the detail has the engine's error).
    Internal {
        /// What went wrong.
        detail: String,
    },
}

/// An internal error with `detail`.
pub(crate) fn internal(detail: impl Into<String>) -> SpendError {
    SpendError::Internal {
        detail: detail.into(),
    }
}

impl fmt::Display for SpendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpendError::UnknownPath { path, available } => write!(
                f,
                "the contract has no spend path `{path}`; its paths: {}",
                available.join(", ")
            ),
            SpendError::MissingArg { path, name, ty } => {
                write!(f, "path `{path}` needs argument `{name}: {ty}`")
            }
            SpendError::UnknownArg {
                path,
                name,
                expected,
            } => {
                if expected.is_empty() {
                    write!(f, "path `{path}` takes no arguments, got `{name}`")
                } else {
                    write!(
                        f,
                        "path `{path}` has no argument `{name}`; its arguments: {}",
                        expected.join(", ")
                    )
                }
            }
            SpendError::DuplicateArg { name } => write!(f, "argument `{name}` is given twice"),
            SpendError::MalformedArg {
                name,
                expected,
                actual,
            } => write!(
                f,
                "argument `{name}`: expected {expected}, got {}",
                biscol_artifact::redact::quoted_scrubbed(actual)
            ),
            SpendError::WrongCoin { expected, actual } => write!(
                f,
                "the coin pays to scriptPubKey {actual}, not to the contract's {expected}"
            ),
            SpendError::Refused(refusals) => {
                for (i, r) in refusals.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{r}")?;
                }
                Ok(())
            }
            SpendError::Dust {
                value,
                fee,
                dust_limit,
            } => write!(
                f,
                "after the fee of {} sat the output would get {} sat, below the dust limit of \
                 {} sat for its script",
                fee.to_sat(),
                value.to_sat(),
                dust_limit.to_sat()
            ),
            SpendError::InsufficientValue { coin, fee } => write!(
                f,
                "the coin holds {} sat, less than the fee of {} sat",
                coin.to_sat(),
                fee.to_sat()
            ),
            SpendError::Keystore(e) => write!(f, "keystore: {e}"),
            SpendError::BadPsbt { detail } => write!(f, "the PSBT cannot be used: {detail}"),
            SpendError::Internal { detail } => write!(f, "internal error (a bug): {detail}"),
        }
    }
}

impl std::error::Error for SpendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SpendError::Keystore(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KeystoreError> for SpendError {
    fn from(e: KeystoreError) -> Self {
        SpendError::Keystore(e)
    }
}

/// The names of the artifact's script paths, in its order.
fn script_path_names(contract: &Contract) -> Vec<String> {
    contract
        .artifact
        .abi
        .paths
        .iter()
        .map(|p| p.name.clone())
        .collect()
}

/// The path names a request may use: the artifact's paths, and `key` when there is a key
/// path.
fn available_paths(contract: &Contract) -> Vec<String> {
    let mut out = script_path_names(contract);
    if contract.instance.key_path.is_spendable() {
        out.push(KEY_PATH.into());
    }
    out
}

/// The instance's output key, checked against the internal key and merkle root (BIP341).
fn output_key(contract: &Contract) -> Result<XOnlyPublicKey, SpendError> {
    let secp = bitcoin::secp256k1::SECP256K1;
    let out = contract.instance.output_key;
    let (tweaked, _) = bitcoin::key::TapTweak::tap_tweak(
        contract.instance.internal_key,
        secp,
        contract.instance.merkle_root,
    );
    if tweaked.to_x_only_public_key() != out {
        return Err(internal(
            "the instance's output key is not its internal key tweaked with its merkle root",
        ));
    }
    Ok(out)
}

/// Builds, signs and verifies a spend of `coin` through `request.path`; see the module
/// documentation for the rules.
pub fn prepare(
    contract: &Contract,
    coin: &Coin,
    chain: &ChainState,
    keystore: &Keystore,
    request: &SpendRequest,
) -> Result<PreparedSpend, SpendError> {
    let expected_spk = &contract.instance.script_pubkey;
    if coin.txout.script_pubkey != *expected_spk {
        return Err(SpendError::WrongCoin {
            expected: expected_spk.to_hex_string(),
            actual: coin.txout.script_pubkey.to_hex_string(),
        });
    }
    let output_key = output_key(contract)?;
    if *expected_spk
        != ScriptBuf::new_p2tr_tweaked(bitcoin::key::TweakedPublicKey::dangerous_assume_tweaked(
            output_key,
        ))
    {
        return Err(internal(
            "the instance's scriptPubKey does not pay to its output key",
        ));
    }
    if request.path == KEY_PATH {
        if let Some((name, _)) = request.args.first() {
            return Err(SpendError::UnknownArg {
                path: KEY_PATH.into(),
                name: name.clone(),
                expected: Vec::new(),
            });
        }
        return prepare_key_path(contract, coin, chain, keystore, request, &output_key);
    }
    prepare_script_path(contract, coin, chain, keystore, request)
}

/// The refusal of a path with `prove` statements: this runtime can neither make nor check
/// proofs, so it never signs such a path (the compiler refuses to build one, E0107; an
/// artifact that has one was written by hand or by another compiler).
fn unprovable(abi_path: &AbiPath, files: &[String]) -> Refusal {
    let loc = &abi_path.location;
    let file = file_of(loc, files);
    let statements = match abi_path.proves {
        1 => "a `prove` statement".to_string(),
        n => format!("{n} `prove` statements"),
    };
    Refusal {
        require: None,
        reason: format!(
            "path `{}` at {file}:{}:{} has {statements}; this biscol cannot make or check \
             proofs yet (E0107), so it signs no spend of this path",
            abi_path.name, loc.line, loc.column
        ),
    }
}

/// Parses the path arguments; returns the 32-byte ones (the preimage candidates).
fn parse_args(
    abi_path: &AbiPath,
    given: &[(String, String)],
) -> Result<Vec<(String, [u8; 32])>, SpendError> {
    let mut seen = BTreeMap::new();
    for (name, value) in given {
        if seen.insert(name.clone(), value.clone()).is_some() {
            return Err(SpendError::DuplicateArg { name: name.clone() });
        }
        if !abi_path.args.iter().any(|a| a.name == *name) {
            return Err(SpendError::UnknownArg {
                path: abi_path.name.clone(),
                name: name.clone(),
                expected: abi_path
                    .args
                    .iter()
                    .map(|a| format!("{}: {}", a.name, a.ty))
                    .collect(),
            });
        }
    }
    let mut preimages = Vec::new();
    for arg in &abi_path.args {
        let Some(text) = seen.get(&arg.name) else {
            return Err(SpendError::MissingArg {
                path: abi_path.name.clone(),
                name: arg.name.clone(),
                ty: arg.ty.clone(),
            });
        };
        let ty = ValueType::from_abi(&arg.ty).ok_or_else(|| {
            internal(format!(
                "argument `{}` has unknown type {}",
                arg.name, arg.ty
            ))
        })?;
        let value = parse_value(&ty, text).map_err(|e| SpendError::MalformedArg {
            name: arg.name.clone(),
            expected: e.expected,
            actual: e.actual,
        })?;
        if let Value::Bytes32(bytes) = value {
            preimages.push((arg.name.clone(), bytes));
        }
    }
    Ok(preimages)
}

/// The keystore's keys by x-only public key.
fn held_keys(keystore: &Keystore) -> Result<BTreeMap<XOnlyPublicKey, String>, SpendError> {
    let mut out = BTreeMap::new();
    for info in keystore.list()? {
        out.entry(info.x_only()).or_insert(info.name);
    }
    Ok(out)
}

/// The ABI of script path `name` and the indices of its leaves; refused when the contract has
/// no such path, or when the path has `prove` statements (never signed).
fn script_path<'a>(
    contract: &'a Contract,
    name: &str,
) -> Result<(&'a AbiPath, Vec<usize>), SpendError> {
    let Some(abi_path) = contract.artifact.path(name) else {
        return Err(SpendError::UnknownPath {
            path: name.to_string(),
            available: available_paths(contract),
        });
    };
    if abi_path.proves > 0 {
        return Err(SpendError::Refused(vec![unprovable(
            abi_path,
            &contract.artifact.files,
        )]));
    }
    let indices = contract
        .artifact
        .taproot
        .paths
        .iter()
        .find(|p| p.name == abi_path.name)
        .map(|p| p.leaves.clone())
        .ok_or_else(|| internal(format!("path `{}` has no leaves", abi_path.name)))?;
    Ok((abi_path, indices))
}

/// The unsigned one-input, one-output transaction.
fn unsigned_tx(
    coin: &Coin,
    request: &SpendRequest,
    sequence: Sequence,
    lock_time: LockTime,
    value: Amount,
) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time,
        input: vec![TxIn {
            previous_output: coin.outpoint,
            script_sig: ScriptBuf::new(),
            sequence,
            witness: Witness::new(),
        }],
        output: vec![TxOut {
            value,
            script_pubkey: request.destination.clone(),
        }],
    }
}

/// The fee for a transaction whose one witness serializes to `witness_bytes` (a dummy, the
/// final one, or a worst case), and the resulting output value; refuses dust and coins that
/// do not pay the fee.
fn fee_and_value(
    coin: &Coin,
    request: &SpendRequest,
    sequence: Sequence,
    lock_time: LockTime,
    witness_bytes: usize,
) -> Result<(Amount, Amount, u64), SpendError> {
    let tx = unsigned_tx(coin, request, sequence, lock_time, coin.txout.value);
    // BIP141: the base size counts four times, the marker, the flag and the witness once.
    let weight = 4 * tx.base_size() as u64 + 2 + witness_bytes as u64;
    let vsize = weight.div_ceil(4);
    let fee = request
        .fee_rate
        .fee_vb(vsize)
        .ok_or_else(|| internal("the fee overflows"))?;
    let value = coin
        .txout
        .value
        .checked_sub(fee)
        .ok_or(SpendError::InsufficientValue {
            coin: coin.txout.value,
            fee,
        })?;
    let dust_limit = request.destination.minimal_non_dust();
    if value < dust_limit {
        return Err(SpendError::Dust {
            value,
            fee,
            dust_limit,
        });
    }
    Ok((fee, value, vsize))
}

/// Puts the signed `witness` on input 0, checks that the transaction has the planned `vsize`
/// and verifies it.
fn finish(
    tx: &mut Transaction,
    witness: Witness,
    vsize: u64,
    coin: &Coin,
) -> Result<(), SpendError> {
    if let Some(input) = tx.input.first_mut() {
        input.witness = witness;
    }
    if tx.weight().to_vbytes_ceil() != vsize {
        return Err(internal(
            "the signed transaction's size differs from the plan",
        ));
    }
    verify(tx, coin)
}

/// Verifies input 0 with `biscol-script`; on failure the error names the failing opcode.
fn verify(tx: &Transaction, coin: &Coin) -> Result<(), SpendError> {
    let prevouts = [coin.txout.clone()];
    match biscol_script::verify_input(tx, 0, &prevouts, biscol_script::VerifyFlags::STANDARD) {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut detail = format!("the script engine rejects the spend we built: {e}");
            if let Ok(trace) =
                biscol_script::trace_input(tx, 0, &prevouts, biscol_script::VerifyFlags::STANDARD)
            {
                for script in &trace.scripts {
                    if let Some(fail) = &script.failure {
                        detail.push_str(&format!(
                            "; {:?} script fails at byte {} (opcode {}): {}",
                            script.kind,
                            fail.pos,
                            fail.opcode
                                .map(|o| format!("0x{o:02x}"))
                                .unwrap_or_else(|| "none".into()),
                            fail.error
                        ));
                    }
                }
            }
            Err(internal(detail))
        }
    }
}

/// The step that explains nSequence.
fn sequence_step(sequence: Sequence, coin: &Coin, chain: &ChainState, why: Option<&str>) -> String {
    if sequence == RBF_SEQUENCE {
        "nSequence 0xfffffffd: no relative lock; signals RBF and enables nLockTime".to_string()
    } else {
        let v = sequence.to_consensus_u32();
        let lock = Relative::from_consensus(v);
        let check = check_older(v, coin, chain).unwrap_or_else(|e| e);
        format!(
            "nSequence {v} (0x{v:08x}, BIP68: {}) for {}: {check}",
            lock.describe(),
            why.unwrap_or("older")
        )
    }
}

/// The step that explains nLockTime.
fn lock_time_step(lock_time: LockTime, chain: &ChainState, why: Option<&str>) -> String {
    let v = lock_time.to_consensus_u32();
    match why {
        None => {
            format!("nLockTime {v}: the tip's height, as Bitcoin Core does against fee sniping")
        }
        Some(why) => {
            let check = check_after(v, chain).unwrap_or_else(|e| e);
            if plan::is_height_lock(v) {
                format!("nLockTime {v} (a height) for {why}: {check}")
            } else {
                format!(
                    "nLockTime {v} ({}) for {why}: {check}",
                    biscol_artifact::units::format_date_time(i64::from(v))
                )
            }
        }
    }
}

fn prepare_script_path(
    contract: &Contract,
    coin: &Coin,
    chain: &ChainState,
    keystore: &Keystore,
    request: &SpendRequest,
) -> Result<PreparedSpend, SpendError> {
    let (abi_path, indices) = script_path(contract, &request.path)?;
    let preimages = parse_args(abi_path, &request.args)?;
    let leaves = plan::load_leaves(contract, abi_path, &indices)?;
    let keys = held_keys(keystore)?;
    let assets = Assets {
        keys: &keys,
        holder: plan::Holder::Keystore,
        preimages: &preimages,
        coin,
        chain,
    };
    let choice = match plan::choose(leaves, &assets, abi_path, &contract.artifact.files)? {
        Ok(choice) => choice,
        Err(refusals) => return Err(SpendError::Refused(refusals)),
    };
    let leaf = &choice.leaf;

    // Size with the dummy witness, then sign the transaction with its final output value.
    let mut dummy = Witness::new();
    for item in &choice.stack {
        dummy.push(item);
    }
    dummy.push(leaf.script.as_bytes());
    dummy.push(leaf.control_block.serialize());
    if dummy.size() != choice.witness_bytes {
        return Err(internal(format!(
            "planned witness of {} bytes, built {}",
            choice.witness_bytes,
            dummy.size()
        )));
    }
    let (fee, value, vsize) = fee_and_value(
        coin,
        request,
        choice.sequence,
        choice.lock_time,
        dummy.size(),
    )?;
    let mut tx = unsigned_tx(coin, request, choice.sequence, choice.lock_time, value);
    let msg = sign::script_sighash(&tx, &coin.txout, leaf.leaf_hash)?;
    let signer_names: Vec<(XOnlyPublicKey, String)> = choice
        .signers
        .iter()
        .map(|k| {
            keys.get(k)
                .map(|n| (*k, n.clone()))
                .ok_or_else(|| internal("a planned signer is not in the keystore"))
        })
        .collect::<Result<_, _>>()?;
    let sigs = sign::sign_script_path(keystore, &signer_names, &msg)?;
    let stack = plan::satisfy(leaf, &sigs, &preimages, choice.sequence, choice.lock_time)
        .ok_or_else(|| internal("the leaf is not satisfiable with the real signatures"))?;
    let planned: Vec<usize> = choice.stack.iter().map(Vec::len).collect();
    let built: Vec<usize> = stack.iter().map(Vec::len).collect();
    if planned != built {
        return Err(internal(format!(
            "the signed satisfaction has items of {built:?} bytes, the plan {planned:?}"
        )));
    }
    let mut witness = Witness::new();
    for item in &stack {
        witness.push(item);
    }
    witness.push(leaf.script.as_bytes());
    witness.push(leaf.control_block.serialize());
    let witness_bytes = witness.size();
    if witness_bytes != choice.witness_bytes {
        return Err(internal(format!(
            "the signed witness has {witness_bytes} bytes, the plan {}",
            choice.witness_bytes
        )));
    }
    if let Some(art) = contract.artifact.taproot.leaves.get(leaf.index) {
        if witness_bytes as u64 > art.witness.weight {
            return Err(internal(format!(
                "the witness has {witness_bytes} bytes, above the compiler's worst case of {}",
                art.witness.weight
            )));
        }
    }
    finish(&mut tx, witness, vsize, coin)?;

    // The plan in words.
    let files = &contract.artifact.files;
    let where_of = |atom: &plan::LeafAtom| {
        atom.require
            .and_then(|i| abi_path.requires.get(i))
            .map(|r| {
                let r = RequireRef::of(r, files);
                format!(" ({}:{}:{})", r.file, r.line, r.column)
            })
            .unwrap_or_default()
    };
    let depth = contract
        .instance
        .leaves
        .get(leaf.index)
        .map(|l| l.depth)
        .unwrap_or_default();
    let among = if indices.len() > 1 {
        format!(
            ", the cheapest satisfiable of the path's {} leaves",
            indices.len()
        )
    } else {
        String::new()
    };
    let mut steps = vec![format!(
        "spend {} ({} sat) through path `{}`: leaf {} (depth {depth}{among}): {}",
        coin.outpoint,
        coin.txout.value.to_sat(),
        abi_path.name,
        leaf.index,
        leaf.ms
    )];
    let mut signers = Vec::new();
    for (key, name) in &signer_names {
        let param = leaf
            .atoms
            .iter()
            .find_map(|a| match &a.kind {
                AtomKind::Key(k) if k == key => {
                    Some((a.names.first().cloned().unwrap_or_default(), where_of(a)))
                }
                AtomKind::Multi { keys, .. } => keys
                    .iter()
                    .position(|k| k == key)
                    .map(|i| (a.names.get(i).cloned().unwrap_or_default(), where_of(a))),
                _ => None,
            })
            .unwrap_or_default();
        steps.push(format!(
            "keystore key `{name}` signs for `{}` ({}){}",
            param.0,
            short_hex(&key.to_string()),
            param.1
        ));
        signers.push(name.clone());
    }
    for (arg, hash) in &choice.revealed {
        let atom = leaf.atoms.iter().find(|a| a.kind == AtomKind::Hash(*hash));
        let (hash_name, at) = atom
            .map(|a| (a.names.first().cloned().unwrap_or_default(), where_of(a)))
            .unwrap_or_default();
        steps.push(format!(
            "reveals `{arg}`, whose {} is the contract's `{hash_name}` ({}){at}",
            hash.function(),
            short_hex(&hash.expected_hex())
        ));
    }
    // The leaf's `older(..)` or `after(..)` that asks for this lock, as written, and where.
    let lock_name = |kind: AtomKind, function: &str| {
        leaf.atoms.iter().find(|a| a.kind == kind).map(|a| {
            format!(
                "{function}({}){}",
                a.names.first().cloned().unwrap_or_default(),
                where_of(a)
            )
        })
    };
    let older_name = lock_name(AtomKind::Older(choice.sequence.to_consensus_u32()), "older");
    let after_name = lock_name(
        AtomKind::After(choice.lock_time.to_consensus_u32()),
        "after",
    );
    steps.push(sequence_step(
        choice.sequence,
        coin,
        chain,
        older_name.as_deref(),
    ));
    steps.push(lock_time_step(
        choice.lock_time,
        chain,
        after_name.as_deref(),
    ));
    steps.push(fee_step(fee, value, vsize, request, contract));
    steps.push("verified with biscol-script (standard flags)".into());
    Ok(PreparedSpend {
        tx,
        path: abi_path.name.clone(),
        leaf: Some(leaf.index),
        n_sequence: choice.sequence,
        lock_time: choice.lock_time,
        witness_bytes,
        vsize,
        fee,
        signers,
        steps,
    })
}

/// The step that explains the fee, naming the destination by its address on the contract's
/// network (its script in hex when it has no address form).
fn fee_step(
    fee: Amount,
    value: Amount,
    vsize: u64,
    request: &SpendRequest,
    contract: &Contract,
) -> String {
    let destination =
        bitcoin::Address::from_script(&request.destination, contract.instance.network)
            .ok()
            .map(|a| a.to_string())
            .unwrap_or_else(|| request.destination.to_hex_string());
    format!(
        "fee {} sat ({} sat/kvB × {vsize} vB, rounded up); {} sat go to {destination}",
        fee.to_sat(),
        request.fee_rate.to_sat_per_kwu() * 4,
        value.to_sat(),
    )
}

fn prepare_key_path(
    contract: &Contract,
    coin: &Coin,
    chain: &ChainState,
    keystore: &Keystore,
    request: &SpendRequest,
    output_key: &XOnlyPublicKey,
) -> Result<PreparedSpend, SpendError> {
    let kp = &contract.instance.key_path;
    let script_paths = script_path_names(contract);
    let suggestion = if script_paths.is_empty() {
        String::new()
    } else {
        format!(
            "; spend through a script path instead: {}",
            script_paths.join(", ")
        )
    };
    let names = &contract.artifact.taproot.key_path.keys;
    let merkle_root = contract.instance.merkle_root;
    let label = |i: usize, key: &PublicKey| {
        let name = names.get(i).cloned().unwrap_or_else(|| key.to_string());
        format!("`{name}` ({})", short_hex(&key.to_string()))
    };

    let sequence = RBF_SEQUENCE;
    let lock_time = plan::default_lock_time(chain);
    let mut dummy = Witness::new();
    dummy.push([0u8; 64]);
    let (fee, value, vsize) = fee_and_value(coin, request, sequence, lock_time, dummy.size())?;
    let mut tx = unsigned_tx(coin, request, sequence, lock_time, value);
    let msg = sign::key_sighash(&tx, &coin.txout)?;
    let mut steps = vec![format!(
        "spend {} ({} sat) through the key path ({}): one 64-byte signature, no script revealed",
        coin.outpoint,
        coin.txout.value.to_sat(),
        contract.artifact.taproot.key_path.template
    )];

    let (signature, signers) = match kp {
        KeyPath::Single(key) => {
            let xonly = key.x_only_public_key().0;
            let Some(info) = keystore.find_x_only(&xonly)? else {
                return Err(SpendError::Refused(vec![Refusal {
                    require: None,
                    reason: format!(
                        "the key path needs {}, which is not in the keystore{suggestion}",
                        label(0, key)
                    ),
                }]));
            };
            let signing = keystore.signing_key(&info.name)?;
            let sig = sign::sign_key_single(&signing, merkle_root, output_key, &msg)?;
            steps.push(format!(
                "keystore key `{}` signs for {}, tweaked with the merkle root (BIP341)",
                info.name,
                label(0, key)
            ));
            (sig, vec![info.name])
        }
        KeyPath::MuSig(keys) => {
            let mut missing = Vec::new();
            let mut signers = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                if let Some(info) = keystore.find_public_key(key)? {
                    signers.push((info, false));
                } else if let Some(info) = keystore.find_x_only(&key.x_only_public_key().0)? {
                    // The contract was given this key's x-only form, whose even-y point is
                    // the negation of the keystore's point.
                    signers.push((info, true));
                } else {
                    missing.push(label(i, key));
                }
            }
            if !missing.is_empty() {
                return Err(SpendError::Refused(vec![Refusal {
                    require: None,
                    reason: format!(
                        "the MuSig2 key path {} needs every key; the keystore lacks {}{suggestion}",
                        contract.artifact.taproot.key_path.template,
                        missing.join(", ")
                    ),
                }]));
            }
            let ctx = sign::musig_context(keys, merkle_root)?;
            let mut loaded = Vec::with_capacity(signers.len());
            for (info, negate) in &signers {
                loaded.push((keystore.signing_key(&info.name)?, *negate));
            }
            let sig = sign::sign_key_musig(&ctx, &loaded, output_key, &msg)?;
            let names: Vec<String> = signers.into_iter().map(|(i, _)| i.name).collect();
            steps.push(format!(
                "MuSig2 session in process (BIP327, keys in the order written, BIP341 tweak), \
                 fresh nonces: keystore keys {} sign",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            (sig, names)
        }
        KeyPath::Nums => {
            return Err(SpendError::Refused(vec![Refusal {
                require: None,
                reason: format!(
                    "this contract has no key path (its internal key is the unspendable NUMS \
                     point){suggestion}"
                ),
            }]))
        }
    };
    let mut witness = Witness::new();
    witness.push(signature.as_ref());
    let witness_bytes = witness.size();
    finish(&mut tx, witness, vsize, coin)?;
    steps.push(sequence_step(sequence, coin, chain, None));
    steps.push(lock_time_step(lock_time, chain, None));
    steps.push(fee_step(fee, value, vsize, request, contract));
    steps.push("verified with biscol-script (standard flags)".into());
    Ok(PreparedSpend {
        tx,
        path: KEY_PATH.into(),
        leaf: None,
        n_sequence: sequence,
        lock_time,
        witness_bytes,
        vsize,
        fee,
        signers,
        steps,
    })
}
