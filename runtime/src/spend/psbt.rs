//! Script-path spends as PSBTs (BIP174 version 0, with BIP371's taproot fields), for parties
//! who sign on their own machines.
//!
//! In: a [`Contract`], its [`Coin`], the [`ChainState`], a [`Keystore`] and a [`SpendRequest`]
//! ([`create`]), or a PSBT and the contract it spends ([`sign`], [`inspect`], [`finalize`]).
//! Out: PSBTs, what a PSBT does in the contract's words ([`PsbtView`]), or the finished
//! transaction, verified with the script engine.
//!
//! What [`create`] writes: the unsigned transaction (one input, the coin; one output, the
//! destination), nSequence and nLockTime from the path's timelocks as the spend engine chooses
//! them, and on the input `witness_utxo`, `tap_internal_key`, `tap_merkle_root`, the chosen
//! leaf in `tap_scripts` (script and control block), `tap_key_origins` for each key of the leaf
//! (the keystore's fingerprint for local keys, an empty origin for the others), and the
//! preimages the path's arguments reveal (the PSBT hash fields); on the output, when it pays a
//! keystore key's own address (the wallet), `tap_internal_key` and its origin. The fee is the request's rate
//! times the size with the leaf's worst-case witness (from the artifact), so whoever signs,
//! the finished transaction pays at least that rate. The leaf is the cheapest one the spend
//! engine can satisfy assuming every key of the path signs.
//!
//! Trust: a PSBT comes from outside. Every function here first checks that its transaction
//! spends exactly the contract's coin (outpoint, `witness_utxo` amount and script), that every
//! leaf it carries is one of the contract's leaves, with the contract's control block (an
//! updater such as Bitcoin Core's `descriptorprocesspsbt` adds all of them; the spend's leaf
//! is the one the signatures are for), and every signature it carries is verified before it
//! is used. Signing and finalizing refuse a fee
//! above the caller's limit. Only the key path is not supported here (MuSig2 across machines
//! needs its own rounds).

use std::collections::BTreeMap;

use bitcoin::bip32::{DerivationPath, Fingerprint, KeySource};
use bitcoin::hashes::{hash160, ripemd160, sha256, sha256d, Hash};
use bitcoin::psbt::Psbt;
use bitcoin::secp256k1::XOnlyPublicKey;
use bitcoin::taproot::LeafVersion;
use bitcoin::{Amount, FeeRate, Transaction, Witness};

use super::plan::{self, AtomKind, HashAtom, Leaf};
use super::{
    fee_and_value, held_keys, internal, parse_args, preimage_args, script_path, sign as signing,
    unsigned_tx, verify, ChainState, Coin, Contract, Refusal, SpendError, SpendRequest, KEY_PATH,
};
use crate::keystore::Keystore;

/// What a PSBT of this contract does, read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsbtView {
    /// The path it spends through.
    pub path: String,
    /// The leaf, as an index into `instance.leaves`.
    pub leaf: usize,
    /// The coin's value.
    pub amount: Amount,
    /// Its outputs: (script, value).
    pub outputs: Vec<(bitcoin::ScriptBuf, Amount)>,
    /// The fee: the coin's value minus the outputs'.
    pub fee: Amount,
    /// The virtual size with the leaf's worst-case witness: the fee rate is at least
    /// `fee / vsize`.
    pub worst_vsize: u64,
    /// The input's nSequence.
    pub n_sequence: bitcoin::Sequence,
    /// The transaction's nLockTime.
    pub lock_time: bitcoin::absolute::LockTime,
    /// The keys of the leaf that signed: (parameter name, key).
    pub signed: Vec<(String, XOnlyPublicKey)>,
    /// The keys of the leaf that have not signed.
    pub unsigned: Vec<(String, XOnlyPublicKey)>,
    /// The preimages it carries that open the leaf's hash locks: (hash parameter, hex).
    pub preimages: Vec<(String, String)>,
    /// Why it cannot be finished yet; empty when [`finalize`] would succeed now.
    pub missing: Vec<Refusal>,
}

/// A finished spend: the transaction and what to record about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
    /// The transaction, verified with the script engine.
    pub tx: Transaction,
    /// The path.
    pub path: String,
    /// The fee.
    pub fee: Amount,
    /// Its virtual size.
    pub vsize: u64,
    /// The preimages it reveals, by argument name (as a spend's arguments).
    pub args: Vec<(String, String)>,
}

fn bad(detail: impl Into<String>) -> SpendError {
    SpendError::BadPsbt {
        detail: detail.into(),
    }
}

/// Writes a PSBT spending `coin` through the script path `request.path`, signed by the
/// keystore's keys that the chosen leaf uses.
pub fn create(
    contract: &Contract,
    coin: &Coin,
    chain: &ChainState,
    keystore: &Keystore,
    request: &SpendRequest,
) -> Result<Psbt, SpendError> {
    if request.path == KEY_PATH {
        return Err(bad(
            "the key path is not written as a PSBT yet: spend it where every key of the \
             aggregate is in the keystore, or through a script path",
        ));
    }
    let (abi_path, indices) = script_path(contract, &request.path)?;
    let preimages = parse_args(abi_path, &request.args)?;
    let leaves = plan::load_leaves(contract, abi_path, &indices)?;
    // Plan as if every key of the path signs: the parties sign later, elsewhere.
    let everyone: BTreeMap<XOnlyPublicKey, String> = leaves
        .iter()
        .flat_map(plan::leaf_keys)
        .map(|k| (k, k.to_string()))
        .collect();
    let assets = plan::Assets {
        keys: &everyone,
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
    let worst = worst_witness(contract, leaf)?;
    let (_, value, _) = fee_and_value(coin, request, choice.sequence, choice.lock_time, worst)?;
    let tx = unsigned_tx(coin, request, choice.sequence, choice.lock_time, value);
    let mut psbt = Psbt::from_unsigned_tx(tx)
        .map_err(|e| internal(format!("an unsigned transaction makes no PSBT: {e}")))?;
    let held = held_keys(keystore)?;
    let input = &mut psbt.inputs[0];
    input.witness_utxo = Some(coin.txout.clone());
    input.tap_internal_key = Some(contract.instance.internal_key);
    input.tap_merkle_root = contract.instance.merkle_root;
    input.tap_scripts.insert(
        leaf.control_block.clone(),
        (leaf.script.clone(), LeafVersion::TapScript),
    );
    for key in plan::leaf_keys(leaf) {
        let origin: KeySource = match held.get(&key) {
            Some(name) => (
                keystore.show(name)?.xpub.fingerprint(),
                DerivationPath::master(),
            ),
            None => (Fingerprint::default(), DerivationPath::master()),
        };
        input
            .tap_key_origins
            .insert(key, (vec![leaf.leaf_hash], origin));
    }
    for (_, hash) in &choice.revealed {
        if let Some((_, preimage)) = preimages.iter().find(|(_, p)| hash.matches(p)) {
            add_preimage(input, *hash, preimage);
        }
    }
    // An output to a keystore key's own address (the wallet, `--to @NAME`): its taproot
    // fields, so a signer can see it comes back to us.
    let secp = bitcoin::secp256k1::SECP256K1;
    for (key, name) in &held {
        if bitcoin::ScriptBuf::new_p2tr(secp, *key, None) == request.destination {
            let origin = (
                keystore.show(name)?.xpub.fingerprint(),
                DerivationPath::master(),
            );
            let output = &mut psbt.outputs[0];
            output.tap_internal_key = Some(*key);
            output.tap_key_origins.insert(*key, (Vec::new(), origin));
        }
    }
    sign(contract, &mut psbt, keystore, None)?;
    Ok(psbt)
}

/// Signs `psbt` with every keystore key its leaf uses that has not signed yet; returns the
/// names of the keys that signed. Refused when the PSBT is not a spend of `contract`'s coin,
/// or when its fee rate (at the worst-case size) is above `max_fee_rate`.
pub fn sign(
    contract: &Contract,
    psbt: &mut Psbt,
    keystore: &Keystore,
    max_fee_rate: Option<FeeRate>,
) -> Result<Vec<String>, SpendError> {
    let (leaf, coin) = check(contract, psbt)?;
    let (fee, worst_vsize) = fee_of(contract, psbt, &leaf, &coin)?;
    within_limit(fee, worst_vsize, max_fee_rate)?;
    let msg = signing::script_sighash(&psbt.unsigned_tx, &coin, leaf.leaf_hash)?;
    let held = held_keys(keystore)?;
    let signers: Vec<(XOnlyPublicKey, String)> = plan::leaf_keys(&leaf)
        .into_iter()
        .filter(|k| {
            !psbt.inputs[0]
                .tap_script_sigs
                .contains_key(&(*k, leaf.leaf_hash))
        })
        .filter_map(|k| held.get(&k).map(|name| (k, name.clone())))
        .collect();
    let sigs = signing::sign_script_path(keystore, &signers, &msg)?;
    for (key, sig) in sigs {
        psbt.inputs[0]
            .tap_script_sigs
            .insert((key, leaf.leaf_hash), sig);
    }
    Ok(signers.into_iter().map(|(_, name)| name).collect())
}

/// What `psbt` does, checked against `contract`, and whether it can be finished now.
pub fn inspect(
    contract: &Contract,
    psbt: &Psbt,
    chain: &ChainState,
    coin: &Coin,
) -> Result<PsbtView, SpendError> {
    let (leaf, txout) = check_coin(contract, psbt, coin)?;
    let (fee, worst_vsize) = fee_of(contract, psbt, &leaf, &txout)?;
    let sigs = verified_signatures(psbt, &leaf, &txout)?;
    let names = key_names(&leaf);
    let name = |k: &XOnlyPublicKey| names.get(k).cloned().unwrap_or_else(|| k.to_string());
    let (signed, unsigned): (Vec<_>, Vec<_>) = plan::leaf_keys(&leaf)
        .into_iter()
        .map(|k| (name(&k), k))
        .partition(|(_, k)| sigs.contains_key(k));
    let preimages = psbt_preimages(psbt, &leaf);
    let missing = match satisfied(&leaf, &sigs, &preimages, psbt) {
        Some(_) => Vec::new(),
        None => refusals(contract, &leaf, &sigs, &preimages, psbt, coin, chain)?,
    };
    Ok(PsbtView {
        path: contract.instance.leaves[leaf.index].path.clone(),
        leaf: leaf.index,
        amount: coin.txout.value,
        outputs: psbt
            .unsigned_tx
            .output
            .iter()
            .map(|o| (o.script_pubkey.clone(), o.value))
            .collect(),
        fee,
        worst_vsize,
        n_sequence: psbt.unsigned_tx.input[0].sequence,
        lock_time: psbt.unsigned_tx.lock_time,
        signed,
        unsigned,
        preimages: preimages
            .iter()
            .map(|(name, p)| (name.clone(), hex::encode(p)))
            .collect(),
        missing,
    })
}

/// Finishes `psbt`: the leaf satisfied with its verified signatures and preimages, the
/// transaction verified with the script engine. Refused with the unmet `require`s, in the
/// contract's words, when it cannot be satisfied yet; or when its fee rate (at the worst-case
/// size) is above `max_fee_rate`.
pub fn finalize(
    contract: &Contract,
    psbt: &Psbt,
    chain: &ChainState,
    coin: &Coin,
    max_fee_rate: Option<FeeRate>,
) -> Result<Finalized, SpendError> {
    let (leaf, txout) = check_coin(contract, psbt, coin)?;
    let (fee, worst_vsize) = fee_of(contract, psbt, &leaf, &txout)?;
    within_limit(fee, worst_vsize, max_fee_rate)?;
    let sigs = verified_signatures(psbt, &leaf, &txout)?;
    let preimages = psbt_preimages(psbt, &leaf);
    let Some(stack) = satisfied(&leaf, &sigs, &preimages, psbt) else {
        return Err(SpendError::Refused(refusals(
            contract, &leaf, &sigs, &preimages, psbt, coin, chain,
        )?));
    };
    let mut witness = Witness::new();
    for item in &stack {
        witness.push(item);
    }
    witness.push(leaf.script.as_bytes());
    witness.push(leaf.control_block.serialize());
    let mut tx = psbt.unsigned_tx.clone();
    tx.input[0].witness = witness;
    verify(&tx, coin)?;
    let vsize = tx.weight().to_vbytes_ceil();
    if vsize > worst_vsize {
        return Err(internal(format!(
            "the witness makes {vsize} vB, above the compiler's worst case of {worst_vsize}"
        )));
    }
    let (abi_path, _) = script_path(contract, &contract.instance.leaves[leaf.index].path)?;
    let args = preimage_args(abi_path, &preimages);
    Ok(Finalized {
        path: contract.instance.leaves[leaf.index].path.clone(),
        tx,
        fee,
        vsize,
        args,
    })
}

/// The leaf `psbt` spends through, and the coin's output, after checking that the PSBT is a
/// spend of `contract`'s coin through one of its leaves.
fn check(contract: &Contract, psbt: &Psbt) -> Result<(Leaf, bitcoin::TxOut), SpendError> {
    let tx = &psbt.unsigned_tx;
    if tx.input.len() != 1 || psbt.inputs.len() != 1 {
        return Err(bad(format!(
            "it has {} inputs; a contract spend has one",
            tx.input.len()
        )));
    }
    let input = &psbt.inputs[0];
    let Some(txout) = input.witness_utxo.clone() else {
        return Err(bad("its input has no witness_utxo"));
    };
    if txout.script_pubkey != contract.instance.script_pubkey {
        return Err(bad(format!(
            "its input spends {}, not the instance's address {}",
            txout.script_pubkey, contract.instance.address
        )));
    }
    if input
        .tap_internal_key
        .is_some_and(|k| k != contract.instance.internal_key)
    {
        return Err(bad(
            "its tap_internal_key is not the instance's internal key",
        ));
    }
    // Every leaf script must be the contract's, with its control block. An updater (Bitcoin
    // Core's descriptorprocesspsbt) adds every leaf of the descriptor; the spend's leaf is then
    // the one the signatures are for.
    let mut leaves = Vec::with_capacity(input.tap_scripts.len());
    for (control_block, (script, version)) in &input.tap_scripts {
        let Some(index) = contract.instance.leaves.iter().position(|l| {
            l.script == *script
                && l.control_block == *control_block
                && *version == LeafVersion::TapScript
        }) else {
            return Err(bad("a leaf script is not one of the contract's leaves"));
        };
        leaves.push(index);
    }
    let signed: Vec<usize> = leaves
        .iter()
        .copied()
        .filter(|&i| {
            let hash = contract.instance.leaves[i].leaf_hash;
            input.tap_script_sigs.keys().any(|(_, h)| *h == hash)
        })
        .collect();
    let index = match (leaves.as_slice(), signed.as_slice()) {
        ([], _) => return Err(bad("it has no leaf script; a spend through a path has one")),
        ([only], _) | (_, [only]) => *only,
        (_, []) => {
            return Err(bad(format!(
                "it has {} leaf scripts and no signature to tell which one it spends",
                leaves.len()
            )))
        }
        _ => return Err(bad("it has signatures for several leaves")),
    };
    let path = &contract.instance.leaves[index].path;
    let (abi_path, _) = script_path(contract, path)?;
    let leaf = plan::load_leaves(contract, abi_path, &[index])?
        .pop()
        .ok_or_else(|| internal("a leaf loaded as none"))?;
    Ok((leaf, txout))
}

/// [`check`], and that the PSBT spends exactly `coin`.
fn check_coin(
    contract: &Contract,
    psbt: &Psbt,
    coin: &Coin,
) -> Result<(Leaf, bitcoin::TxOut), SpendError> {
    let (leaf, txout) = check(contract, psbt)?;
    if coin.txout != txout || coin.outpoint != psbt.unsigned_tx.input[0].previous_output {
        return Err(bad(format!(
            "it spends another coin than the instance's {}",
            coin.outpoint
        )));
    }
    Ok((leaf, txout))
}

/// The fee (`txout`'s value minus the outputs') and the size with the leaf's worst-case
/// witness.
fn fee_of(
    contract: &Contract,
    psbt: &Psbt,
    leaf: &Leaf,
    txout: &bitcoin::TxOut,
) -> Result<(Amount, u64), SpendError> {
    let outputs = psbt
        .unsigned_tx
        .output
        .iter()
        .try_fold(Amount::ZERO, |sum, o| sum.checked_add(o.value))
        .ok_or_else(|| bad("its outputs add up beyond 21 million bitcoin"))?;
    let fee = txout.value.checked_sub(outputs).ok_or_else(|| {
        bad(format!(
            "it pays out {outputs}, more than the coin's {}",
            txout.value
        ))
    })?;
    let weight =
        4 * psbt.unsigned_tx.base_size() as u64 + 2 + worst_witness(contract, leaf)? as u64;
    Ok((fee, weight.div_ceil(4)))
}

/// Refuses a fee whose rate, at the worst-case size, is above `limit`.
fn within_limit(fee: Amount, worst_vsize: u64, limit: Option<FeeRate>) -> Result<(), SpendError> {
    let Some(limit) = limit else {
        return Ok(());
    };
    let paid = fee.to_sat().div_ceil(worst_vsize.max(1));
    if paid > limit.to_sat_per_vb_ceil() {
        return Err(bad(format!(
            "it pays {fee} in fees, {paid} sat/vB, above the limit of {} sat/vB",
            limit.to_sat_per_vb_ceil()
        )));
    }
    Ok(())
}

/// The leaf's worst-case witness size in bytes, from the artifact.
fn worst_witness(contract: &Contract, leaf: &Leaf) -> Result<usize, SpendError> {
    contract
        .artifact
        .taproot
        .leaves
        .get(leaf.index)
        .map(|l| l.witness.weight as usize)
        .ok_or_else(|| internal(format!("the artifact has no leaf {}", leaf.index)))
}

/// The PSBT's signatures for the leaf, each verified against the transaction's sighash.
fn verified_signatures(
    psbt: &Psbt,
    leaf: &Leaf,
    txout: &bitcoin::TxOut,
) -> Result<BTreeMap<XOnlyPublicKey, bitcoin::taproot::Signature>, SpendError> {
    let msg = signing::script_sighash(&psbt.unsigned_tx, txout, leaf.leaf_hash)?;
    let secp = bitcoin::secp256k1::SECP256K1;
    let keys = plan::leaf_keys(leaf);
    let mut out = BTreeMap::new();
    for ((key, leaf_hash), sig) in &psbt.inputs[0].tap_script_sigs {
        if *leaf_hash != leaf.leaf_hash || !keys.contains(key) {
            return Err(bad(format!(
                "it has a signature of {key} for another script"
            )));
        }
        if sig.sighash_type != bitcoin::TapSighashType::Default {
            return Err(bad(format!(
                "the signature of {key} uses {}; only SIGHASH_DEFAULT is accepted",
                sig.sighash_type
            )));
        }
        if secp.verify_schnorr(&sig.signature, &msg, key).is_err() {
            return Err(bad(format!("the signature of {key} does not verify")));
        }
        out.insert(*key, *sig);
    }
    Ok(out)
}

/// The preimages the PSBT carries that open the leaf's hash locks.
fn psbt_preimages(psbt: &Psbt, leaf: &Leaf) -> Vec<(String, [u8; 32])> {
    let input = &psbt.inputs[0];
    let mut out = Vec::new();
    for atom in &leaf.atoms {
        let AtomKind::Hash(hash) = atom.kind else {
            continue;
        };
        let found: Option<&Vec<u8>> = match hash {
            HashAtom::Sha256(h) => input.sha256_preimages.get(&h),
            HashAtom::Hash256(h) => input
                .hash256_preimages
                .get(&sha256d::Hash::from_byte_array(h.to_byte_array())),
            HashAtom::Ripemd160(h) => input.ripemd160_preimages.get(&h),
            HashAtom::Hash160(h) => input.hash160_preimages.get(&h),
        };
        if let Some(p) = found.and_then(|p| <[u8; 32]>::try_from(p.as_slice()).ok()) {
            if hash.matches(&p) {
                let name = atom.names.first().cloned().unwrap_or_default();
                out.push((name, p));
            }
        }
    }
    out
}

fn add_preimage(input: &mut bitcoin::psbt::Input, hash: HashAtom, preimage: &[u8; 32]) {
    let bytes = preimage.to_vec();
    match hash {
        HashAtom::Sha256(_) => {
            input
                .sha256_preimages
                .insert(sha256::Hash::hash(preimage), bytes);
        }
        HashAtom::Hash256(_) => {
            input
                .hash256_preimages
                .insert(sha256d::Hash::hash(preimage), bytes);
        }
        HashAtom::Ripemd160(_) => {
            input
                .ripemd160_preimages
                .insert(ripemd160::Hash::hash(preimage), bytes);
        }
        HashAtom::Hash160(_) => {
            input
                .hash160_preimages
                .insert(hash160::Hash::hash(preimage), bytes);
        }
    }
}

/// The leaf satisfied with `sigs` and `preimages` at the PSBT's nSequence and nLockTime.
fn satisfied(
    leaf: &Leaf,
    sigs: &BTreeMap<XOnlyPublicKey, bitcoin::taproot::Signature>,
    preimages: &[(String, [u8; 32])],
    psbt: &Psbt,
) -> Option<Vec<Vec<u8>>> {
    plan::satisfy(
        leaf,
        sigs,
        preimages,
        psbt.unsigned_tx.input[0].sequence,
        psbt.unsigned_tx.lock_time,
    )
}

/// Why the leaf cannot be satisfied with the signatures present: the spend engine's own
/// refusals, as if the signers present were the only keys held.
fn refusals(
    contract: &Contract,
    leaf: &Leaf,
    sigs: &BTreeMap<XOnlyPublicKey, bitcoin::taproot::Signature>,
    preimages: &[(String, [u8; 32])],
    psbt: &Psbt,
    coin: &Coin,
    chain: &ChainState,
) -> Result<Vec<Refusal>, SpendError> {
    let path = &contract.instance.leaves[leaf.index].path;
    let (abi_path, _) = script_path(contract, path)?;
    let keys: BTreeMap<XOnlyPublicKey, String> = sigs.keys().map(|k| (*k, k.to_string())).collect();
    let assets = plan::Assets {
        keys: &keys,
        holder: plan::Holder::Psbt,
        preimages,
        coin,
        chain,
    };
    Ok(
        match plan::choose(
            vec![leaf.clone()],
            &assets,
            abi_path,
            &contract.artifact.files,
        )? {
            Err(refusals) => refusals,
            Ok(_) => vec![Refusal {
                require: None,
                reason: format!(
                    "the leaf can be satisfied now, but not with the PSBT's nSequence {:#x} and \
                     nLockTime {}: write the PSBT again",
                    psbt.unsigned_tx.input[0].sequence.to_consensus_u32(),
                    psbt.unsigned_tx.lock_time.to_consensus_u32()
                ),
            }],
        },
    )
}

/// The parameter name of each key of the leaf (`seller`, `heirs[1]`).
fn key_names(leaf: &Leaf) -> BTreeMap<XOnlyPublicKey, String> {
    let mut out = BTreeMap::new();
    for atom in &leaf.atoms {
        let keys: Vec<XOnlyPublicKey> = match &atom.kind {
            AtomKind::Key(k) => vec![*k],
            AtomKind::Multi { keys, .. } => keys.clone(),
            _ => continue,
        };
        for (key, name) in keys.into_iter().zip(&atom.names) {
            out.entry(key).or_insert_with(|| name.clone());
        }
    }
    out
}

/// A PSBT as text: base64 of its BIP174 serialization, as Bitcoin Core writes it.
pub fn to_base64(psbt: &Psbt) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(psbt.serialize())
}

/// Reads a PSBT from base64 text (surrounding whitespace ignored) or raw BIP174 bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<Psbt, SpendError> {
    use base64::Engine;
    if bytes.starts_with(b"psbt\xff") {
        return Psbt::deserialize(bytes).map_err(|e| bad(format!("not a PSBT: {e}")));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| bad("neither base64 text nor a PSBT"))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| bad(format!("not base64: {e}")))?;
    Psbt::deserialize(&raw).map_err(|e| bad(format!("not a PSBT: {e}")))
}
