//! Planning a script-path spend: which leaf of the path, which keys sign, which preimages are
//! revealed, which nSequence and nLockTime, and why the spend is refused when nothing works.
//!
//! In: the contract (artifact and instance), the chosen path's leaves, the keystore's keys
//! (x-only public key → key name), the path arguments that are 32-byte values (preimage
//! candidates), the coin and the chain state. Out: a [`LeafChoice`] (the cheapest satisfiable
//! leaf, with its witness made of dummy signatures so the fee can be computed exactly), or
//! [`Refusal`]s naming the unmet `require`s.
//!
//! Each leaf's Miniscript is decoded from the instance's tapscript bytes (so the keys, hashes
//! and timelock values are the ones the output commits to), its control block is checked
//! against the output key, and rust-miniscript's non-malleable satisfier chooses the witness.
//! Atoms are matched to the path's `require`s through the artifact's source map: the template
//! and the instance have the same tree, so their atoms pair up in pre-order.

use std::collections::BTreeMap;

use biscol_artifact::format::AbiPath;
use biscol_artifact::template::Template;
use biscol_artifact::units::compact_size_len;
use bitcoin::hashes::{hash160, ripemd160, sha256, sha256d, Hash};
use bitcoin::secp256k1::XOnlyPublicKey;
use bitcoin::taproot::{ControlBlock, LeafVersion, TapLeafHash};
use bitcoin::{absolute, relative, ScriptBuf, Sequence};
use miniscript::iter::TreeLike;
use miniscript::{hash256, Miniscript, Satisfier, Tap, Terminal};

use super::explain::{check_after, check_older, short_hex};
use super::{internal, ChainState, Coin, Contract, Refusal, RequireRef, SpendError};
use biscol_artifact::units::LOCK_TIME_THRESHOLD;

/// nSequence of an input without a relative lock: final for BIP68, signals RBF, and lets
/// nLockTime take effect.
pub(crate) const RBF_SEQUENCE: Sequence = Sequence(0xffff_fffd);

/// A hash a leaf checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HashAtom {
    /// `sha256(h)`.
    Sha256(sha256::Hash),
    /// `hash256(h)` (double SHA-256).
    Hash256(hash256::Hash),
    /// `ripemd160(h)`.
    Ripemd160(ripemd160::Hash),
    /// `hash160(h)` (RIPEMD-160 of SHA-256).
    Hash160(hash160::Hash),
}

impl HashAtom {
    /// The function's name as written in BiSCOL.
    pub(crate) fn function(&self) -> &'static str {
        match self {
            HashAtom::Sha256(_) => "sha256",
            HashAtom::Hash256(_) => "hash256",
            HashAtom::Ripemd160(_) => "ripemd160",
            HashAtom::Hash160(_) => "hash160",
        }
    }

    /// The hash the contract commits to, as hex (the way it is displayed everywhere).
    pub(crate) fn expected_hex(&self) -> String {
        match self {
            HashAtom::Sha256(h) => h.to_string(),
            HashAtom::Hash256(h) => h.to_string(),
            HashAtom::Ripemd160(h) => h.to_string(),
            HashAtom::Hash160(h) => h.to_string(),
        }
    }

    /// The same function applied to `preimage`, as hex in the same byte order.
    pub(crate) fn hash_hex_of(&self, preimage: &[u8; 32]) -> String {
        match self {
            HashAtom::Sha256(_) => sha256::Hash::hash(preimage).to_string(),
            HashAtom::Hash256(_) => {
                hash256::Hash::from_byte_array(sha256d::Hash::hash(preimage).to_byte_array())
                    .to_string()
            }
            HashAtom::Ripemd160(_) => ripemd160::Hash::hash(preimage).to_string(),
            HashAtom::Hash160(_) => hash160::Hash::hash(preimage).to_string(),
        }
    }

    /// True when `preimage` hashes to the committed hash.
    pub(crate) fn matches(&self, preimage: &[u8; 32]) -> bool {
        match self {
            HashAtom::Sha256(h) => sha256::Hash::hash(preimage) == *h,
            HashAtom::Hash256(h) => {
                sha256d::Hash::hash(preimage).to_byte_array() == h.to_byte_array()
            }
            HashAtom::Ripemd160(h) => ripemd160::Hash::hash(preimage) == *h,
            HashAtom::Hash160(h) => hash160::Hash::hash(preimage) == *h,
        }
    }
}

/// One atom of a leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AtomKind {
    /// One key must sign (`pk`, `pkh`).
    Key(XOnlyPublicKey),
    /// `k` of the keys must sign (`multi_a`).
    Multi {
        /// The threshold.
        k: usize,
        /// The keys.
        keys: Vec<XOnlyPublicKey>,
    },
    /// A preimage must be revealed.
    Hash(HashAtom),
    /// A relative lock, as its consensus value.
    Older(u32),
    /// An absolute lock, as its consensus value.
    After(u32),
}

/// An atom with the names and the `require` it comes from.
#[derive(Clone, Debug)]
pub(crate) struct LeafAtom {
    /// What it needs.
    pub kind: AtomKind,
    /// The parameter names, one per key for keys and thresholds, one for hashes and
    /// timelocks (`receiver`, `heirs[0]`, `hash`, `timeout`); hex when the source map is
    /// unavailable.
    pub names: Vec<String>,
    /// Index into the path's `requires`.
    pub require: Option<usize>,
}

/// One leaf of the chosen path, decoded and checked.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    /// Index into `instance.leaves` (and `artifact.taproot.leaves`).
    pub index: usize,
    /// The Miniscript decoded from the tapscript.
    pub ms: Miniscript<XOnlyPublicKey, Tap>,
    /// The tapscript.
    pub script: ScriptBuf,
    /// The control block, checked against the output key.
    pub control_block: ControlBlock,
    /// The BIP341 leaf hash.
    pub leaf_hash: TapLeafHash,
    /// The atoms in pre-order.
    pub atoms: Vec<LeafAtom>,
}

/// The leaf a spend goes through, with the witness made of dummy signatures.
#[derive(Clone, Debug)]
pub(crate) struct LeafChoice {
    /// The leaf.
    pub leaf: Leaf,
    /// The input's nSequence.
    pub sequence: Sequence,
    /// The transaction's nLockTime.
    pub lock_time: absolute::LockTime,
    /// The satisfaction (without script and control block), dummy signatures included.
    pub stack: Vec<Vec<u8>>,
    /// The keys whose signatures the satisfaction uses, in script order.
    pub signers: Vec<XOnlyPublicKey>,
    /// The preimages it reveals: (argument name, hash atom).
    pub revealed: Vec<(String, HashAtom)>,
    /// Serialized witness size in bytes (item count, items, script and control block).
    pub witness_bytes: usize,
}

/// Serialized size of a witness stack.
pub(crate) fn witness_len(items: &[Vec<u8>]) -> usize {
    compact_size_len(items.len())
        + items
            .iter()
            .map(|i| compact_size_len(i.len()) + i.len())
            .sum::<usize>()
}

/// A template atom: the fragment text as the source map writes it and the parameter names.
struct TemplateAtom {
    /// The fragment kind: `pk`, `multi_a`, a hash function, `older` or `after`.
    kind: &'static str,
    /// The consensus value of a literal timelock (a parameter's placeholder is not one).
    literal: Option<u32>,
    fragments: Vec<String>,
    names: Vec<String>,
}

/// The atoms of a template in pre-order (one entry per atom node, thresholds as one).
fn template_atoms(
    template: &Template,
    timelock_names: &BTreeMap<u32, String>,
) -> Vec<TemplateAtom> {
    let mut out = Vec::new();
    for node in template.pre_order_iter() {
        let lock = |v: u32, op: &'static str| {
            let (name, literal) = match timelock_names.get(&v) {
                Some(name) => (name.clone(), None),
                None => (v.to_string(), Some(v)),
            };
            TemplateAtom {
                kind: op,
                literal,
                fragments: vec![format!("{op}({name})")],
                names: vec![name],
            }
        };
        let one = |fun: &'static str, name: String| TemplateAtom {
            kind: fun,
            literal: None,
            fragments: vec![format!("{fun}({name})")],
            names: vec![name],
        };
        let atom = match &node.node {
            Terminal::PkK(k) | Terminal::PkH(k) => one("pk", k.to_string()),
            Terminal::MultiA(t) => TemplateAtom {
                kind: "multi_a",
                literal: None,
                fragments: t.iter().map(|k| format!("pk({k})")).collect(),
                names: t.iter().map(|k| k.to_string()).collect(),
            },
            Terminal::Sha256(h) => one("sha256", h.to_string()),
            Terminal::Hash256(h) => one("hash256", h.to_string()),
            Terminal::Ripemd160(h) => one("ripemd160", h.to_string()),
            Terminal::Hash160(h) => one("hash160", h.to_string()),
            Terminal::Older(t) => lock(t.to_consensus_u32(), "older"),
            Terminal::After(t) => lock(t.to_consensus_u32(), "after"),
            _ => continue,
        };
        out.push(atom);
    }
    out
}

/// The atoms of an instance leaf in pre-order, with hex names.
fn instance_atoms(ms: &Miniscript<XOnlyPublicKey, Tap>) -> Vec<LeafAtom> {
    let mut out = Vec::new();
    for node in ms.pre_order_iter() {
        let (kind, names) = match &node.node {
            Terminal::PkK(k) | Terminal::PkH(k) => (AtomKind::Key(*k), vec![k.to_string()]),
            Terminal::MultiA(t) => (
                AtomKind::Multi {
                    k: t.k(),
                    keys: t.iter().copied().collect(),
                },
                t.iter().map(|k| k.to_string()).collect(),
            ),
            Terminal::Sha256(h) => (AtomKind::Hash(HashAtom::Sha256(*h)), vec![h.to_string()]),
            Terminal::Hash256(h) => (AtomKind::Hash(HashAtom::Hash256(*h)), vec![h.to_string()]),
            Terminal::Ripemd160(h) => {
                (AtomKind::Hash(HashAtom::Ripemd160(*h)), vec![h.to_string()])
            }
            Terminal::Hash160(h) => (AtomKind::Hash(HashAtom::Hash160(*h)), vec![h.to_string()]),
            Terminal::Older(t) => {
                let v = t.to_consensus_u32();
                (AtomKind::Older(v), vec![v.to_string()])
            }
            Terminal::After(t) => {
                let v = t.to_consensus_u32();
                (AtomKind::After(v), vec![v.to_string()])
            }
            _ => continue,
        };
        out.push(LeafAtom {
            kind,
            names,
            require: None,
        });
    }
    out
}

/// True when `a` (instance) and `t` (template) are the same kind of atom.
fn same_shape(a: &LeafAtom, t: &TemplateAtom) -> bool {
    let (kind, value) = match &a.kind {
        AtomKind::Key(_) => ("pk", None),
        AtomKind::Multi { .. } => ("multi_a", None),
        AtomKind::Hash(h) => (h.function(), None),
        AtomKind::Older(v) => ("older", Some(*v)),
        AtomKind::After(v) => ("after", Some(*v)),
    };
    kind == t.kind && a.names.len() == t.names.len() && (t.literal.is_none() || t.literal == value)
}

/// The instance leaf's Miniscript with x-only keys (the form its tapscript decodes to).
fn x_only_miniscript(
    ms: &Miniscript<bitcoin::PublicKey, Tap>,
) -> Option<Miniscript<XOnlyPublicKey, Tap>> {
    ms.translate_pk(&mut ToXOnly).ok()
}

/// Keys of an instance's Miniscript to x-only keys.
struct ToXOnly;

impl miniscript::Translator<bitcoin::PublicKey> for ToXOnly {
    type TargetPk = XOnlyPublicKey;
    type Error = ();

    fn pk(&mut self, pk: &bitcoin::PublicKey) -> Result<XOnlyPublicKey, ()> {
        Ok(pk.inner.x_only_public_key().0)
    }

    fn sha256(&mut self, h: &sha256::Hash) -> Result<sha256::Hash, ()> {
        Ok(*h)
    }

    fn hash256(&mut self, h: &hash256::Hash) -> Result<hash256::Hash, ()> {
        Ok(*h)
    }

    fn ripemd160(&mut self, h: &ripemd160::Hash) -> Result<ripemd160::Hash, ()> {
        Ok(*h)
    }

    fn hash160(&mut self, h: &hash160::Hash) -> Result<hash160::Hash, ()> {
        Ok(*h)
    }
}

/// Decodes and checks the leaves `indices` of the contract for path `abi_path`.
pub(crate) fn load_leaves(
    contract: &Contract,
    abi_path: &AbiPath,
    indices: &[usize],
) -> Result<Vec<Leaf>, SpendError> {
    let secp = bitcoin::secp256k1::SECP256K1;
    let output_key = contract.instance.output_key;
    let parity = contract.instance.output_key_parity;
    let templates = contract
        .artifact
        .taproot
        .leaf_templates()
        .map_err(|e| internal(format!("the artifact's leaf templates do not parse: {e}")))?;
    let timelock_names: BTreeMap<u32, String> = contract
        .artifact
        .taproot
        .timelock_params
        .iter()
        .map(|p| (p.placeholder, p.name.clone()))
        .collect();
    let mut out = Vec::with_capacity(indices.len());
    for &index in indices {
        let inst = contract.instance.leaves.get(index).ok_or_else(|| {
            internal(format!(
                "path `{}` names leaf {index}, which the instance does not have",
                abi_path.name
            ))
        })?;
        if inst.path != abi_path.name {
            return Err(internal(format!(
                "leaf {index} belongs to path `{}`, not `{}`",
                inst.path, abi_path.name
            )));
        }
        let script = inst.script.clone();
        // The instance's Miniscript must be exactly its tapscript.
        let ms = x_only_miniscript(&inst.miniscript)
            .filter(|ms| ms.encode() == script)
            .ok_or_else(|| {
                internal(format!(
                    "leaf {index}: the instance's Miniscript `{}` does not match its script",
                    inst.miniscript
                ))
            })?;
        let control_block = inst.control_block.clone();
        if control_block.leaf_version != LeafVersion::TapScript
            || control_block.output_key_parity != parity
            || !control_block.verify_taproot_commitment(secp, output_key, &script)
        {
            return Err(internal(format!(
                "leaf {index}: the control block does not commit the script to output key {}",
                contract.instance.output_key
            )));
        }
        let leaf_hash = TapLeafHash::from_script(&script, LeafVersion::TapScript);

        // Names and requires from the template and the source map.
        let mut atoms = instance_atoms(&ms);
        let art_leaf = contract.artifact.taproot.leaves.get(index);
        if let (Some((template, _)), Some(art_leaf)) = (templates.get(index), art_leaf) {
            let tatoms = template_atoms(template, &timelock_names);
            if tatoms.len() == atoms.len()
                && atoms.iter().zip(&tatoms).all(|(a, t)| same_shape(a, t))
            {
                for (atom, t) in atoms.iter_mut().zip(&tatoms) {
                    atom.names = t.names.clone();
                    atom.require = t.fragments.iter().find_map(|f| {
                        art_leaf
                            .source_map
                            .iter()
                            .filter(|e| &e.fragment == f)
                            .find_map(|e| {
                                abi_path.requires.iter().position(|r| {
                                    r.location.file == e.span.file
                                        && r.location.start <= e.span.start
                                        && e.span.end <= r.location.end
                                })
                            })
                    });
                }
            }
        }
        out.push(Leaf {
            index,
            ms,
            script,
            control_block,
            leaf_hash,
            atoms,
        });
    }
    Ok(out)
}

/// What the spender has: keys, preimages, and what the chain allows.
pub(crate) struct Assets<'a> {
    /// The keys that sign, by x-only public key: the key name.
    pub keys: &'a BTreeMap<XOnlyPublicKey, String>,
    /// Where those keys are, for the refusals' words.
    pub holder: Holder,
    /// 32-byte path arguments: (name, bytes).
    pub preimages: &'a [(String, [u8; 32])],
    /// The coin.
    pub coin: &'a Coin,
    /// The chain.
    pub chain: &'a ChainState,
}

/// Where the signing keys of [`Assets`] are: in the keystore (a spend signed here) or as
/// signatures in a PSBT (a spend signed by several parties).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// The keystore's keys.
    Keystore,
    /// The PSBT's signatures.
    Psbt,
}

/// rust-miniscript's view of the assets for one candidate nSequence/nLockTime.
struct PlanSatisfier<'a> {
    leaf_hash: TapLeafHash,
    sigs: &'a BTreeMap<XOnlyPublicKey, bitcoin::taproot::Signature>,
    preimages: &'a [(String, [u8; 32])],
    sequence: Sequence,
    lock_time: absolute::LockTime,
}

impl PlanSatisfier<'_> {
    fn preimage(&self, atom: HashAtom) -> Option<[u8; 32]> {
        self.preimages
            .iter()
            .find(|(_, p)| atom.matches(p))
            .map(|(_, p)| *p)
    }
}

impl Satisfier<XOnlyPublicKey> for PlanSatisfier<'_> {
    fn lookup_tap_leaf_script_sig(
        &self,
        pk: &XOnlyPublicKey,
        leaf_hash: &TapLeafHash,
    ) -> Option<bitcoin::taproot::Signature> {
        if *leaf_hash != self.leaf_hash {
            return None;
        }
        self.sigs.get(pk).copied()
    }

    fn lookup_sha256(&self, h: &sha256::Hash) -> Option<[u8; 32]> {
        self.preimage(HashAtom::Sha256(*h))
    }

    fn lookup_hash256(&self, h: &hash256::Hash) -> Option<[u8; 32]> {
        self.preimage(HashAtom::Hash256(*h))
    }

    fn lookup_ripemd160(&self, h: &ripemd160::Hash) -> Option<[u8; 32]> {
        self.preimage(HashAtom::Ripemd160(*h))
    }

    fn lookup_hash160(&self, h: &hash160::Hash) -> Option<[u8; 32]> {
        self.preimage(HashAtom::Hash160(*h))
    }

    fn check_older(&self, t: relative::LockTime) -> bool {
        // The candidate nSequence values are only those the chain already allows, so a lock
        // implied by the input's nSequence is satisfied on the chain too.
        match self.sequence.to_relative_lock_time() {
            Some(seq) => t.is_implied_by(seq),
            None => false,
        }
    }

    fn check_after(&self, t: absolute::LockTime) -> bool {
        // Same for nLockTime: every candidate is final in the next block.
        t.is_implied_by(self.lock_time)
    }
}

/// A 64-byte BIP340 signature with SIGHASH_DEFAULT that is unique per index (for sizing).
fn dummy_signature(index: usize) -> Result<bitcoin::taproot::Signature, SpendError> {
    let mut bytes = [0x01u8; 64];
    bytes[..8].copy_from_slice(&(index as u64).to_be_bytes());
    let signature = bitcoin::secp256k1::schnorr::Signature::from_slice(&bytes)
        .map_err(|e| internal(format!("dummy signature: {e}")))?;
    Ok(bitcoin::taproot::Signature {
        signature,
        sighash_type: bitcoin::TapSighashType::Default,
    })
}

/// The default nLockTime: the tip's height, as Bitcoin Core does against fee sniping (0 in
/// the impossible case of a tip at or above the time threshold).
pub(crate) fn default_lock_time(chain: &ChainState) -> absolute::LockTime {
    absolute::LockTime::from_height(chain.height).unwrap_or(absolute::LockTime::ZERO)
}

/// Runs the satisfier for `leaf` with `sigs` and the given locks.
pub(crate) fn satisfy(
    leaf: &Leaf,
    sigs: &BTreeMap<XOnlyPublicKey, bitcoin::taproot::Signature>,
    preimages: &[(String, [u8; 32])],
    sequence: Sequence,
    lock_time: absolute::LockTime,
) -> Option<Vec<Vec<u8>>> {
    let satisfier = PlanSatisfier {
        leaf_hash: leaf.leaf_hash,
        sigs,
        preimages,
        sequence,
        lock_time,
    };
    leaf.ms.satisfy(&satisfier).ok()
}

/// The cheapest satisfiable leaf among `leaves`, or the refusals when there is none.
pub(crate) fn choose(
    leaves: Vec<Leaf>,
    assets: &Assets<'_>,
    abi_path: &AbiPath,
    files: &[String],
) -> Result<Result<LeafChoice, Vec<Refusal>>, SpendError> {
    // Dummy signatures for every held key, distinct so the chosen signers can be read back.
    let mut dummies = BTreeMap::new();
    for (i, key) in assets.keys.keys().enumerate() {
        let sig = dummy_signature(i)?;
        dummies.insert(*key, sig);
    }
    let default_lt = default_lock_time(assets.chain);
    let mut best: Option<LeafChoice> = None;
    for leaf in &leaves {
        let mut sequences = vec![RBF_SEQUENCE];
        let mut lock_times = vec![default_lt];
        for atom in &leaf.atoms {
            match atom.kind {
                AtomKind::Older(v) if check_older(v, assets.coin, assets.chain).is_ok() => {
                    sequences.push(Sequence::from_consensus(v));
                }
                AtomKind::After(v) if check_after(v, assets.chain).is_ok() => {
                    lock_times.push(absolute::LockTime::from_consensus(v));
                }
                _ => {}
            }
        }
        let cb_len = leaf.control_block.size();
        for &sequence in &sequences {
            for &lock_time in &lock_times {
                let Some(stack) = satisfy(leaf, &dummies, assets.preimages, sequence, lock_time)
                else {
                    continue;
                };
                let mut full = stack.clone();
                full.push(leaf.script.to_bytes());
                full.push(vec![0u8; cb_len]);
                let witness_bytes = witness_len(&full);
                if best
                    .as_ref()
                    .is_some_and(|b| b.witness_bytes <= witness_bytes)
                {
                    continue;
                }
                // The keys whose dummy signatures the satisfaction uses, in script order.
                let signers: Vec<XOnlyPublicKey> = leaf_keys(leaf)
                    .into_iter()
                    .filter(|k| {
                        dummies
                            .get(k)
                            .is_some_and(|d| stack.iter().any(|item| *item == d.to_vec()))
                    })
                    .collect();
                let revealed = leaf
                    .atoms
                    .iter()
                    .filter_map(|a| match a.kind {
                        AtomKind::Hash(h) => assets
                            .preimages
                            .iter()
                            .find(|(_, p)| h.matches(p) && stack.iter().any(|i| i[..] == p[..]))
                            .map(|(name, _)| (name.clone(), h)),
                        _ => None,
                    })
                    .collect();
                best = Some(LeafChoice {
                    leaf: leaf.clone(),
                    sequence,
                    lock_time,
                    stack,
                    signers,
                    revealed,
                    witness_bytes,
                });
            }
        }
    }
    match best {
        Some(choice) => Ok(Ok(choice)),
        None => Ok(Err(refusals(&leaves, assets, abi_path, files))),
    }
}

/// The keys of a leaf in script order, each once.
pub(crate) fn leaf_keys(leaf: &Leaf) -> Vec<XOnlyPublicKey> {
    let mut out: Vec<XOnlyPublicKey> = Vec::new();
    for atom in &leaf.atoms {
        let keys = match &atom.kind {
            AtomKind::Key(k) => vec![*k],
            AtomKind::Multi { keys, .. } => keys.clone(),
            _ => Vec::new(),
        };
        for k in keys {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// `name (hex…)` of a key.
fn key_label(name: &str, key: &XOnlyPublicKey) -> String {
    let hex = key.to_string();
    if name == hex {
        format!("`{}`", short_hex(&hex))
    } else {
        format!("`{name}` ({})", short_hex(&hex))
    }
}

/// Why each leaf cannot be satisfied, one refusal per unmet atom.
fn refusals(
    leaves: &[Leaf],
    assets: &Assets<'_>,
    abi_path: &AbiPath,
    files: &[String],
) -> Vec<Refusal> {
    let mut out = Vec::new();
    let split = leaves.len() > 1;
    for leaf in leaves {
        let before = out.len();
        let prefix = if split {
            format!("leaf {} (`{}`): ", leaf.index, leaf.ms)
        } else {
            String::new()
        };
        for atom in &leaf.atoms {
            let reason = match &atom.kind {
                AtomKind::Key(k) => {
                    if assets.keys.contains_key(k) {
                        continue;
                    }
                    let name = atom.names.first().map(String::as_str).unwrap_or("");
                    match assets.holder {
                        Holder::Keystore => {
                            format!("no key in the keystore for {}", key_label(name, k))
                        }
                        Holder::Psbt => {
                            format!("the PSBT has no signature of {}", key_label(name, k))
                        }
                    }
                }
                AtomKind::Multi { k, keys } => {
                    let held: Vec<&str> = keys
                        .iter()
                        .zip(&atom.names)
                        .filter(|(key, _)| assets.keys.contains_key(key))
                        .map(|(_, n)| n.as_str())
                        .collect();
                    if held.len() >= *k {
                        continue;
                    }
                    let holds = match (assets.holder, held.is_empty()) {
                        (Holder::Keystore, true) => "the keystore holds none of them".to_string(),
                        (Holder::Keystore, false) => {
                            format!("the keystore holds only {}", held.join(", "))
                        }
                        (Holder::Psbt, true) => "the PSBT has no signature of any".to_string(),
                        (Holder::Psbt, false) => {
                            format!("the PSBT is signed only by {}", held.join(", "))
                        }
                    };
                    format!("needs {k} of {}; {holds}", atom.names.join(", "))
                }
                AtomKind::Hash(h) => {
                    if assets.preimages.iter().any(|(_, p)| h.matches(p)) {
                        continue;
                    }
                    let hash_name = atom.names.first().cloned().unwrap_or_default();
                    let expected = short_hex(&h.expected_hex());
                    if assets.preimages.is_empty() {
                        format!(
                            "no preimage of the contract's `{hash_name}` ({expected}) was given"
                        )
                    } else {
                        assets
                            .preimages
                            .iter()
                            .map(|(arg, p)| {
                                format!(
                                    "{}({arg}) is {}, the contract's `{hash_name}` is {expected}",
                                    h.function(),
                                    short_hex(&h.hash_hex_of(p))
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    }
                }
                AtomKind::Older(v) => match check_older(*v, assets.coin, assets.chain) {
                    Ok(_) => continue,
                    Err(why) => why,
                },
                AtomKind::After(v) => match check_after(*v, assets.chain) {
                    Ok(_) => continue,
                    Err(why) => why,
                },
            };
            out.push(Refusal {
                require: atom
                    .require
                    .and_then(|i| abi_path.requires.get(i))
                    .map(|r| RequireRef::of(r, files)),
                reason: format!("{prefix}{reason}"),
            });
        }
        if out.len() == before {
            out.push(Refusal {
                require: None,
                reason: format!(
                    "{prefix}every atom is available, but no satisfaction uses a consistent \
                     nSequence and nLockTime"
                ),
            });
        }
    }
    out
}

/// Whether `after(v)` is a height lock.
pub(crate) fn is_height_lock(v: u32) -> bool {
    v < LOCK_TIME_THRESHOLD
}
