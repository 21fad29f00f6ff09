//! Instantiation: bind argument values to a contract's templates and derive its output.
//!
//! In: a [`TaprootArtifact`], the contract's parameters with their [`ValueType`]s, the
//! arguments as user strings, and a network. Out: a typed [`Instance`]: the `tr(...)`
//! descriptor (BIP380/386, built by rust-miniscript), internal key, merkle root, tweak, output
//! key, scriptPubKey, BIP350 address, and per leaf its Miniscript, script, depth, leaf hash,
//! control block and the nSequence/nLockTime it needs. Argument syntax: [`crate::value`].
//!
//! A MuSig2 key path is aggregated here (BIP327, keys in the order written) and the
//! descriptor carries the aggregate as a plain x-only key, since rust-miniscript 13 has no
//! `musig()`; the instance lists the keys that went into it.
//!
//! Invariant: the output is built twice, by rust-miniscript's descriptor and by
//! [`crate::tree::build_output`], and the two must agree.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Network, XOnlyPublicKey};
use miniscript::descriptor::{DescriptorPublicKey, SinglePub, SinglePubKey, TapTree};
use miniscript::iter::TreeLike;
use miniscript::{
    hash256, AbsLockTime, Descriptor, Miniscript, MiniscriptKey, RelLockTime, Tap, Terminal,
    Threshold,
};
use secp256k1::SECP256K1;

use crate::finding::{Code, Finding};
use crate::instance::{Instance, InstanceLeaf, KeyPath as InstanceKeyPath};
use crate::key::{Binder, Bindings, ParamKey, UnboundPlaceholder};
use crate::keypath::{musig_internal_key, nums_point, KeyAggError};
use crate::taproot::{needs_of, ArtifactError, Needs, TaprootArtifact};
use crate::template::{KeyPath, TimelockKind};
use crate::tree::{build_output, TreeError};
use crate::value::{parse_value, Param, Value, ValueError, ValueType};

/// Why instantiation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum InstantiateError {
    /// A parameter has no argument.
    Missing {
        /// The parameter.
        argument: String,
    },
    /// An argument names no parameter.
    Unknown {
        /// The argument's name.
        argument: String,
    },
    /// An argument's value does not parse.
    Value {
        /// The argument.
        argument: String,
        /// Its type.
        ty: ValueType,
        /// What went wrong.
        error: ValueError,
    },
    /// The artifact cannot be read.
    Artifact(ArtifactError),
    /// A template placeholder has no value (the parameter list does not match the artifact).
    Unbound(UnboundPlaceholder),
    /// A timelock parameter has no value of its kind.
    UnboundTimelock {
        /// The parameter.
        argument: String,
        /// The kind it needs.
        expected: TimelockKind,
    },
    /// The MuSig2 aggregation failed.
    KeyAgg(KeyAggError),
    /// The bound leaves are not sane (for example two parameters bound to the same key).
    InsaneLeaf {
        /// The finding.
        finding: Finding,
    },
    /// The tree could not be built.
    Tree(TreeError),
    /// rust-miniscript refused the descriptor.
    Descriptor {
        /// Its message.
        message: String,
    },
}

impl fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstantiateError::Missing { argument } => write!(f, "missing argument `{argument}`"),
            InstantiateError::Unknown { argument } => {
                write!(
                    f,
                    "unknown argument `{argument}`: the contract has no such parameter"
                )
            }
            InstantiateError::Value {
                argument,
                ty,
                error,
            } => {
                write!(f, "argument `{argument}` of type {ty}: {error}")
            }
            InstantiateError::Artifact(e) => e.fmt(f),
            InstantiateError::Unbound(e) => e.fmt(f),
            InstantiateError::UnboundTimelock { argument, expected } => {
                write!(
                    f,
                    "timelock parameter `{argument}` needs a value of kind {expected:?}"
                )
            }
            InstantiateError::KeyAgg(e) => e.fmt(f),
            InstantiateError::InsaneLeaf { finding } => finding.fmt(f),
            InstantiateError::Tree(e) => e.fmt(f),
            InstantiateError::Descriptor { message } => write!(f, "descriptor: {message}"),
        }
    }
}

impl std::error::Error for InstantiateError {}

fn bind_value(
    name: &str,
    index: Option<u32>,
    value: &Value,
    b: &mut Bindings,
    timelock_values: &mut BTreeMap<String, Value>,
) {
    let key = ParamKey {
        name: name.to_string(),
        index,
    };
    match value {
        Value::Key(k) => {
            b.keys.insert(key, k.clone());
        }
        Value::Sha256(h) => {
            b.sha256.insert(key, *h);
        }
        Value::Hash256(h) => {
            b.hash256.insert(key, *h);
        }
        Value::Ripemd160(h) => {
            b.ripemd160.insert(key, *h);
        }
        Value::Hash160(h) => {
            b.hash160.insert(key, *h);
        }
        Value::Bytes32(bytes) => {
            // A `Bytes32` parameter may be used as a SHA-256 or HASH256 hash.
            b.sha256
                .insert(key.clone(), sha256::Hash::from_byte_array(*bytes));
            b.hash256
                .insert(key, hash256::Hash::from_byte_array(*bytes));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                bind_value(name, Some(i as u32), item, b, timelock_values);
            }
        }
        Value::Blocks(_) | Value::Duration { .. } | Value::Height(_) | Value::Time(_) => {
            // An array element's lock is the timelock parameter `name[i]`.
            let name = match index {
                None => name.to_string(),
                Some(i) => format!("{name}[{i}]"),
            };
            timelock_values.insert(name, value.clone());
        }
        Value::Int(_) | Value::Amount(_) | Value::Bool(_) => {}
    }
}

fn timelock_consensus(kind: TimelockKind, value: &Value) -> Option<u32> {
    match (kind, value) {
        (TimelockKind::Blocks, Value::Blocks(n)) => Some(*n as u32),
        (TimelockKind::Duration, Value::Duration { units, .. }) => Some((1 << 22) | *units as u32),
        (TimelockKind::Height, Value::Height(n)) => Some(*n),
        (TimelockKind::Time, Value::Time(n)) => Some(*n),
        _ => None,
    }
}

/// Replace timelock placeholders in a Miniscript by their values.
pub fn substitute_timelocks<Pk: MiniscriptKey>(
    ms: &Miniscript<Pk, Tap>,
    relative: &BTreeMap<u32, u32>,
    absolute: &BTreeMap<u32, u32>,
) -> Result<Miniscript<Pk, Tap>, String> {
    let mut done: Vec<Arc<Miniscript<Pk, Tap>>> = Vec::new();
    let pop = |done: &mut Vec<Arc<Miniscript<Pk, Tap>>>, n: usize| {
        let at = done
            .len()
            .checked_sub(n)
            .ok_or_else(|| "malformed tree".to_string())?;
        Ok::<_, String>(done.split_off(at))
    };
    for item in ms.post_order_iter() {
        let term = match &item.node.node {
            Terminal::Older(t) => {
                let v = t.to_consensus_u32();
                match relative.get(&v) {
                    Some(n) => {
                        Terminal::Older(RelLockTime::from_consensus(*n).map_err(|e| e.to_string())?)
                    }
                    None => Terminal::Older(*t),
                }
            }
            Terminal::After(t) => {
                let v = t.to_consensus_u32();
                match absolute.get(&v) {
                    Some(n) => {
                        Terminal::After(AbsLockTime::from_consensus(*n).map_err(|e| e.to_string())?)
                    }
                    None => Terminal::After(*t),
                }
            }
            Terminal::True => Terminal::True,
            Terminal::False => Terminal::False,
            Terminal::PkK(k) => Terminal::PkK(k.clone()),
            Terminal::PkH(k) => Terminal::PkH(k.clone()),
            Terminal::RawPkH(h) => Terminal::RawPkH(*h),
            Terminal::Sha256(h) => Terminal::Sha256(h.clone()),
            Terminal::Hash256(h) => Terminal::Hash256(h.clone()),
            Terminal::Ripemd160(h) => Terminal::Ripemd160(h.clone()),
            Terminal::Hash160(h) => Terminal::Hash160(h.clone()),
            Terminal::Multi(t) => Terminal::Multi(t.clone()),
            Terminal::MultiA(t) => Terminal::MultiA(t.clone()),
            Terminal::Alt(_)
            | Terminal::Swap(_)
            | Terminal::Check(_)
            | Terminal::DupIf(_)
            | Terminal::Verify(_)
            | Terminal::NonZero(_)
            | Terminal::ZeroNotEqual(_) => {
                let mut c = pop(&mut done, 1)?;
                let x = c.pop().ok_or("malformed tree")?;
                match &item.node.node {
                    Terminal::Alt(_) => Terminal::Alt(x),
                    Terminal::Swap(_) => Terminal::Swap(x),
                    Terminal::Check(_) => Terminal::Check(x),
                    Terminal::DupIf(_) => Terminal::DupIf(x),
                    Terminal::Verify(_) => Terminal::Verify(x),
                    Terminal::NonZero(_) => Terminal::NonZero(x),
                    _ => Terminal::ZeroNotEqual(x),
                }
            }
            Terminal::AndV(..)
            | Terminal::AndB(..)
            | Terminal::OrB(..)
            | Terminal::OrD(..)
            | Terminal::OrC(..)
            | Terminal::OrI(..) => {
                let mut c = pop(&mut done, 2)?.into_iter();
                let (x, y) = match (c.next(), c.next()) {
                    (Some(x), Some(y)) => (x, y),
                    _ => return Err("malformed tree".into()),
                };
                match &item.node.node {
                    Terminal::AndV(..) => Terminal::AndV(x, y),
                    Terminal::AndB(..) => Terminal::AndB(x, y),
                    Terminal::OrB(..) => Terminal::OrB(x, y),
                    Terminal::OrD(..) => Terminal::OrD(x, y),
                    Terminal::OrC(..) => Terminal::OrC(x, y),
                    _ => Terminal::OrI(x, y),
                }
            }
            Terminal::AndOr(..) => {
                let mut c = pop(&mut done, 3)?.into_iter();
                match (c.next(), c.next(), c.next()) {
                    (Some(x), Some(y), Some(z)) => Terminal::AndOr(x, y, z),
                    _ => return Err("malformed tree".into()),
                }
            }
            Terminal::Thresh(t) => {
                let subs = pop(&mut done, t.n())?;
                Terminal::Thresh(Threshold::new(t.k(), subs).map_err(|e| e.to_string())?)
            }
        };
        done.push(Arc::new(
            Miniscript::from_ast(term).map_err(|e| e.to_string())?,
        ));
    }
    let top = done.pop().ok_or("empty tree")?;
    Ok((*top).clone())
}

fn tap_tree_from_depths(
    leaves: Vec<(Miniscript<DescriptorPublicKey, Tap>, u8)>,
) -> Result<Option<TapTree<DescriptorPublicKey>>, TreeError> {
    let mut stack: Vec<(u8, TapTree<DescriptorPublicKey>)> = Vec::new();
    let n = leaves.len();
    for (i, (ms, depth)) in leaves.into_iter().enumerate() {
        stack.push((depth, TapTree::leaf(ms)));
        while stack.len() >= 2 && stack[stack.len() - 1].0 == stack[stack.len() - 2].0 {
            let (d, right) = stack.pop().ok_or(TreeError::InvalidDepths { leaf: i })?;
            let (_, left) = stack.pop().ok_or(TreeError::InvalidDepths { leaf: i })?;
            if d == 0 {
                return Err(TreeError::InvalidDepths { leaf: i });
            }
            let t =
                TapTree::combine(left, right).map_err(|_| TreeError::InvalidDepths { leaf: i })?;
            stack.push((d - 1, t));
        }
    }
    match stack.len() {
        0 => Ok(None),
        1 if stack[0].0 == 0 => Ok(stack.pop().map(|(_, t)| t)),
        _ => Err(TreeError::InvalidDepths { leaf: n }),
    }
}

fn xonly_of(
    k: &DescriptorPublicKey,
) -> Result<(XOnlyPublicKey, bitcoin::PublicKey), InstantiateError> {
    let definite = k
        .clone()
        .at_derivation_index(0)
        .map_err(|e| InstantiateError::Descriptor {
            message: e.to_string(),
        })?;
    let pk = definite.derive_public_key(SECP256K1);
    Ok((pk.inner.x_only_public_key().0, pk))
}

/// Bind `args` to the artifact's templates and derive the output on `network`.
///
/// Every parameter in `params` needs an argument; arguments for unknown names are refused.
pub fn instantiate(
    artifact: &TaprootArtifact,
    params: &[Param],
    args: &BTreeMap<String, String>,
    network: Network,
) -> Result<Instance, InstantiateError> {
    for name in args.keys() {
        if !params.iter().any(|p| &p.name == name) {
            return Err(InstantiateError::Unknown {
                argument: name.clone(),
            });
        }
    }
    let mut bindings = Bindings::default();
    let mut timelock_values = BTreeMap::new();
    let mut warnings = Vec::new();
    for p in params {
        let raw = args.get(&p.name).ok_or_else(|| InstantiateError::Missing {
            argument: p.name.clone(),
        })?;
        let value = parse_value(&p.ty, raw).map_err(|error| InstantiateError::Value {
            argument: p.name.clone(),
            ty: p.ty.clone(),
            error,
        })?;
        if let Value::Duration { units, seconds } = value {
            if seconds % 512 != 0 {
                warnings.push(Finding::new(
                    Code::W0101,
                    None,
                    format!(
                        "argument `{}`: {seconds} s is not a multiple of 512 s; the lock is \
                         {units} × 512 s = {} s",
                        p.name,
                        units as u64 * 512
                    ),
                ));
            }
        }
        bind_value(&p.name, None, &value, &mut bindings, &mut timelock_values);
    }

    let timelocks = artifact.timelocks();
    let mut relative = BTreeMap::new();
    let mut absolute = BTreeMap::new();
    for tp in timelocks.params() {
        let v = timelock_values
            .get(&tp.name)
            .and_then(|v| timelock_consensus(tp.kind, v))
            .ok_or_else(|| InstantiateError::UnboundTimelock {
                argument: tp.name.clone(),
                expected: tp.kind,
            })?;
        if tp.kind.is_relative() {
            relative.insert(tp.placeholder, v);
        } else {
            absolute.insert(tp.placeholder, v);
        }
    }

    // Internal key.
    let key_path = artifact.key_path().map_err(InstantiateError::Artifact)?;
    let mut binder = Binder {
        bindings: &bindings,
    };
    let (internal, kp) = match &key_path {
        KeyPath::Single(k) => {
            let dpk =
                miniscript::Translator::pk(&mut binder, k).map_err(InstantiateError::Unbound)?;
            let (_, full) = xonly_of(&dpk)?;
            (dpk, InstanceKeyPath::Single(full.inner))
        }
        KeyPath::MuSig(ks) => {
            let mut full = Vec::with_capacity(ks.len());
            for k in ks {
                let dpk = miniscript::Translator::pk(&mut binder, k)
                    .map_err(InstantiateError::Unbound)?;
                full.push(xonly_of(&dpk)?.1.inner);
            }
            let agg = musig_internal_key(&full).map_err(InstantiateError::KeyAgg)?;
            (
                DescriptorPublicKey::Single(SinglePub {
                    origin: None,
                    key: SinglePubKey::XOnly(agg),
                }),
                InstanceKeyPath::MuSig(full),
            )
        }
        KeyPath::Nums => (
            DescriptorPublicKey::Single(SinglePub {
                origin: None,
                key: SinglePubKey::XOnly(nums_point()),
            }),
            InstanceKeyPath::Nums,
        ),
    };
    let internal_xonly = xonly_of(&internal)?.0;

    // Leaves.
    let templates = artifact
        .leaf_templates()
        .map_err(InstantiateError::Artifact)?;
    let mut bound = Vec::with_capacity(templates.len());
    for (i, (template, depth)) in templates.iter().enumerate() {
        let with_values = substitute_timelocks(template, &relative, &absolute)
            .map_err(|message| InstantiateError::Descriptor { message })?;
        let ms = with_values.translate_pk(&mut binder).map_err(|e| match e {
            miniscript::TranslateErr::TranslatorErr(u) => InstantiateError::Unbound(u),
            miniscript::TranslateErr::OuterError(e) => InstantiateError::Descriptor {
                message: e.to_string(),
            },
        })?;
        // Two parameters bound to the same key make a leaf insane (E0102).
        let mut seen = std::collections::BTreeSet::new();
        for k in ms.iter_pk() {
            if !seen.insert(xonly_of(&k)?.0) {
                let path = artifact.leaves.get(i).map(|l| l.path.as_str());
                return Err(InstantiateError::InsaneLeaf {
                    finding: Finding::new(
                        Code::E0102,
                        path,
                        format!("key {k} is bound to two parameters of one leaf"),
                    )
                    .with_leaf(ms.to_string()),
                });
            }
        }
        bound.push((ms, *depth));
    }
    let tree = tap_tree_from_depths(bound.clone()).map_err(InstantiateError::Tree)?;
    let descriptor =
        Descriptor::new_tr(internal, tree).map_err(|e| InstantiateError::Descriptor {
            message: e.to_string(),
        })?;
    let definite = descriptor
        .at_derivation_index(0)
        .map_err(|e| InstantiateError::Descriptor {
            message: e.to_string(),
        })?;
    let derived = definite.derived_descriptor(SECP256K1);

    // Our own builder computes the output; it must agree with rust-miniscript's descriptor.
    let mut leaf_scripts = Vec::with_capacity(bound.len());
    let mut derived_leaves = Vec::with_capacity(bound.len());
    if let Descriptor::Tr(tr) = &derived {
        for item in tr.leaves() {
            leaf_scripts.push((item.depth(), item.compute_script(), item.leaf_version()));
            derived_leaves.push(Miniscript::clone(item.miniscript()));
        }
    }
    let output = build_output(internal_xonly, &leaf_scripts).map_err(InstantiateError::Tree)?;
    if output.script_pubkey != derived.script_pubkey()
        || output.leaves.len() != derived_leaves.len()
        || output.leaves.len() != artifact.leaves.len()
    {
        return Err(InstantiateError::Descriptor {
            message: "internal error: the Taproot builder and the descriptor disagree".into(),
        });
    }
    let address = output.address(network).map_err(InstantiateError::Tree)?;

    let mut leaves = Vec::with_capacity(output.leaves.len());
    let built = output
        .leaves
        .into_iter()
        .zip(derived_leaves)
        .zip(&artifact.leaves);
    for (i, ((leaf, miniscript), art)) in built.enumerate() {
        let mut needs = match templates.get(i) {
            Some((t, _)) => needs_of(t, &timelocks),
            None => Needs::default(),
        };
        for need in &mut needs.timelocks {
            if let Some(param) = &need.param {
                let v = timelocks
                    .params()
                    .iter()
                    .find(|p| &p.name == param)
                    .and_then(|p| {
                        timelock_values
                            .get(&p.name)
                            .and_then(|v| timelock_consensus(p.kind, v))
                    });
                need.value = v;
                if need.op == "older" {
                    need.n_sequence = v;
                } else {
                    need.n_lock_time = v;
                }
            }
        }
        leaves.push(InstanceLeaf {
            path: art.path.clone(),
            branch: art.branch,
            miniscript,
            script: leaf.script,
            depth: leaf.depth,
            leaf_hash: leaf.leaf_hash,
            control_block: leaf.control_block,
            needs,
        });
    }
    Ok(Instance {
        descriptor: definite,
        network,
        address,
        script_pubkey: output.script_pubkey,
        internal_key: internal_xonly,
        key_path: kp,
        merkle_root: output.merkle_root,
        tweak: output.tweak,
        output_key: output.output_key,
        output_key_parity: output.output_key_parity,
        leaves,
        warnings,
    })
}
