//! An instance: a contract bound to its arguments, in rust-bitcoin and rust-miniscript types.
//!
//! In: what [`crate::instantiate`] derives. Out: an [`Instance`] that a funder, a wallet and the
//! runtime use as it is (no text to parse back): the descriptor, the network, address,
//! scriptPubKey, internal and output keys, merkle root and tweak, the [`KeyPath`], and per
//! leaf its Miniscript, tapscript, leaf hash and control block.
//!
//! The JSON form (what `biscol instantiate --format json` and `biscol deploy` print) is made by
//! [`Instance`]'s `Serialize` at that edge only: hex for scripts, hashes and control blocks,
//! `single`/`musig`/`nums` for the key path kind, every field in a fixed order. It is not read
//! back: an instance is always derived again from its artifact and arguments.

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{Parity, PublicKey, XOnlyPublicKey};
use bitcoin::taproot::{ControlBlock, TapLeafHash, TapNodeHash, TapTweakHash};
use bitcoin::{Address, Network, ScriptBuf};
use miniscript::descriptor::DefiniteDescriptorKey;
use miniscript::{Descriptor, Miniscript, Tap};
use serde::ser::{Serialize, Serializer};

use crate::finding::Finding;
use crate::taproot::Needs;

/// How an instance's internal key was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPath {
    /// One key, the internal key itself (its x coordinate).
    Single(PublicKey),
    /// A BIP327 KeyAgg aggregate of the keys, in the order written.
    MuSig(Vec<PublicKey>),
    /// BIP341's NUMS point H: no key path.
    Nums,
}

impl KeyPath {
    /// `single`, `musig` or `nums`, as the JSON form writes it.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyPath::Single(_) => "single",
            KeyPath::MuSig(_) => "musig",
            KeyPath::Nums => "nums",
        }
    }

    /// The keys bound to the key path, in the order written (none for NUMS).
    pub fn keys(&self) -> &[PublicKey] {
        match self {
            KeyPath::Single(k) => std::slice::from_ref(k),
            KeyPath::MuSig(ks) => ks,
            KeyPath::Nums => &[],
        }
    }

    /// True when the coins can be spent with a key-path signature.
    pub fn is_spendable(&self) -> bool {
        !matches!(self, KeyPath::Nums)
    }
}

/// One leaf of an instance.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceLeaf {
    /// The spend path.
    pub path: String,
    /// The branch of the path, when split.
    pub branch: Option<usize>,
    /// The leaf's Miniscript with the bound keys, hashes and lock values.
    pub miniscript: Miniscript<bitcoin::PublicKey, Tap>,
    /// The tapscript.
    pub script: ScriptBuf,
    /// Depth in the tree.
    pub depth: u8,
    /// BIP341 leaf hash.
    pub leaf_hash: TapLeafHash,
    /// The control block that proves the script is in the output key's tree.
    pub control_block: ControlBlock,
    /// What a spend needs, with nSequence/nLockTime values.
    pub needs: Needs,
}

/// Everything a funder needs, and what the runtime spends with.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// The `tr(...)` descriptor (BIP380/386), keys at their fixed derivation paths.
    pub descriptor: Descriptor<DefiniteDescriptorKey>,
    /// The network the address is for.
    pub network: Network,
    /// The BIP350 address.
    pub address: Address,
    /// The scriptPubKey, `OP_1 <output key>`.
    pub script_pubkey: ScriptBuf,
    /// The internal key.
    pub internal_key: XOnlyPublicKey,
    /// How the internal key was made.
    pub key_path: KeyPath,
    /// The merkle root; `None` without leaves.
    pub merkle_root: Option<TapNodeHash>,
    /// The BIP341 tweak.
    pub tweak: TapTweakHash,
    /// The output key.
    pub output_key: XOnlyPublicKey,
    /// The output key's parity.
    pub output_key_parity: Parity,
    /// The leaves in tree order.
    pub leaves: Vec<InstanceLeaf>,
    /// Warnings (W0101 for rounded durations).
    pub warnings: Vec<Finding>,
}

/// The JSON form of [`KeyPath`].
#[derive(serde::Serialize)]
struct KeyPathJson {
    kind: &'static str,
    keys: Vec<String>,
}

/// The JSON form of [`InstanceLeaf`].
#[derive(serde::Serialize)]
struct LeafJson<'a> {
    path: &'a str,
    branch: Option<usize>,
    miniscript: String,
    script: String,
    depth: u8,
    leaf_hash: String,
    control_block: String,
    needs: &'a Needs,
}

/// The JSON form of [`Instance`], field for field.
#[derive(serde::Serialize)]
struct InstanceJson<'a> {
    descriptor: String,
    network: &'static str,
    address: String,
    script_pubkey: String,
    internal_key: String,
    key_path: KeyPathJson,
    merkle_root: Option<String>,
    tweak: String,
    output_key: String,
    output_key_parity: u8,
    leaves: Vec<LeafJson<'a>>,
    warnings: &'a [Finding],
}

impl Serialize for Instance {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        InstanceJson {
            descriptor: self.descriptor.to_string(),
            network: self.network.to_core_arg(),
            address: self.address.to_string(),
            script_pubkey: self.script_pubkey.to_hex_string(),
            internal_key: self.internal_key.to_string(),
            key_path: KeyPathJson {
                kind: self.key_path.kind(),
                keys: self.key_path.keys().iter().map(|k| k.to_string()).collect(),
            },
            merkle_root: self.merkle_root.map(|r| r.to_string()),
            tweak: hex::encode(self.tweak.to_byte_array()),
            output_key: self.output_key.to_string(),
            output_key_parity: match self.output_key_parity {
                Parity::Even => 0,
                Parity::Odd => 1,
            },
            leaves: self
                .leaves
                .iter()
                .map(|l| LeafJson {
                    path: &l.path,
                    branch: l.branch,
                    miniscript: l.miniscript.to_string(),
                    script: l.script.to_hex_string(),
                    depth: l.depth,
                    leaf_hash: l.leaf_hash.to_string(),
                    control_block: hex::encode(l.control_block.serialize()),
                    needs: &l.needs,
                })
                .collect(),
            warnings: &self.warnings,
        }
        .serialize(serializer)
    }
}
