//! The script tree: a deterministic Huffman tree over leaf weights, and the BIP341 output
//! (merkle root, tweak, output key, scriptPubKey, control blocks) of a tree given by depths.
//!
//! In: leaf weights (for [`huffman`]), or an internal key and leaves in depth-first order with
//! their depths (for [`build_output`]). Out: a [`TreeNode`] shape, or a [`TaprootOutput`].
//!
//! **Tie-breaking rule.** Every leaf gets a sequence number: its position in the input (the
//! front end orders leaves by spend path in source order, then by branch order inside the
//! path). Every merged node gets the next sequence number after all leaves and earlier merges.
//! Huffman repeatedly removes the two nodes with the smallest `(weight, sequence)` pair,
//! comparing weights with `f64::total_cmp`, and makes the first removed the left child. The
//! same weights in the same order therefore always give the same tree, on every machine
//! (IEEE-754 arithmetic is deterministic).
//!
//! BIP341 sorts the two child hashes of every branch, so left/right never changes the merkle
//! root; which leaves are paired does, and that is what the rule fixes.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;

use bitcoin::taproot::{
    ControlBlock, LeafVersion, TapLeafHash, TapNodeHash, TapTweakHash, TaprootBuilder,
};
use bitcoin::{Address, Network, ScriptBuf, XOnlyPublicKey};
use secp256k1::SECP256K1;

/// BIP341's limit on the depth of a leaf.
pub const MAX_DEPTH: u8 = 128;

/// The shape of a script tree; leaves hold indices into the caller's leaf list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeNode {
    /// A leaf: the index of the leaf in the list given to [`huffman`].
    Leaf(usize),
    /// A branch with its two children.
    Branch(Box<TreeNode>, Box<TreeNode>),
}

impl TreeNode {
    /// The leaves in depth-first order (left before right), with their depths.
    pub fn leaves(&self) -> Vec<(usize, u8)> {
        let mut out = Vec::new();
        // An explicit stack: the tree can be as deep as the number of leaves.
        let mut stack: Vec<(&TreeNode, u32)> = vec![(self, 0)];
        while let Some((node, depth)) = stack.pop() {
            match node {
                TreeNode::Leaf(i) => out.push((*i, depth.min(u8::MAX as u32) as u8)),
                TreeNode::Branch(l, r) => {
                    stack.push((r, depth + 1));
                    stack.push((l, depth + 1));
                }
            }
        }
        out
    }

    /// The greatest leaf depth.
    pub fn max_depth(&self) -> u32 {
        self.leaves()
            .iter()
            .map(|(_, d)| *d as u32)
            .max()
            .unwrap_or(0)
    }

    /// A compact display: leaf indices in braces, as descriptors nest them (`{0,{1,2}}`).
    pub fn shape(&self) -> String {
        match self {
            TreeNode::Leaf(i) => i.to_string(),
            TreeNode::Branch(l, r) => format!("{{{},{}}}", l.shape(), r.shape()),
        }
    }
}

struct HeapItem {
    weight: f64,
    seq: usize,
    node: TreeNode,
}

impl PartialEq for HeapItem {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for HeapItem {}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapItem {
    // Reversed, so that `BinaryHeap` (a max-heap) pops the smallest (weight, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .weight
            .total_cmp(&self.weight)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A Huffman tree over `weights` (one per leaf, in tie-breaking order); `None` when empty.
/// Weights should be positive and finite; others are treated as given by `total_cmp`.
pub fn huffman(weights: &[f64]) -> Option<TreeNode> {
    let mut heap: BinaryHeap<HeapItem> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| HeapItem {
            weight: *w,
            seq: i,
            node: TreeNode::Leaf(i),
        })
        .collect();
    let mut seq = weights.len();
    while heap.len() > 1 {
        let (a, b) = match (heap.pop(), heap.pop()) {
            (Some(a), Some(b)) => (a, b),
            _ => break,
        };
        heap.push(HeapItem {
            weight: a.weight + b.weight,
            seq,
            node: TreeNode::Branch(Box::new(a.node), Box::new(b.node)),
        });
        seq += 1;
    }
    heap.pop().map(|item| item.node)
}

/// One leaf of a built Taproot output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafOutput {
    /// The leaf's script.
    pub script: ScriptBuf,
    /// Its leaf version.
    pub version: LeafVersion,
    /// Its depth in the tree.
    pub depth: u8,
    /// BIP341 leaf hash.
    pub leaf_hash: TapLeafHash,
    /// Its control block.
    pub control_block: ControlBlock,
}

/// A BIP341 output: everything that follows from an internal key and a script tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaprootOutput {
    /// The internal key.
    pub internal_key: XOnlyPublicKey,
    /// The merkle root, `None` without a script tree.
    pub merkle_root: Option<TapNodeHash>,
    /// The tweak `t = hash_TapTweak(P || root)`.
    pub tweak: TapTweakHash,
    /// The output key `Q = P + tG`.
    pub output_key: XOnlyPublicKey,
    /// The parity of `Q`.
    pub output_key_parity: secp256k1::Parity,
    /// `OP_1 <Q>`.
    pub script_pubkey: ScriptBuf,
    /// The leaves, in the order given.
    pub leaves: Vec<LeafOutput>,
}

impl TaprootOutput {
    /// The BIP350 address on `network`.
    pub fn address(&self, network: Network) -> Result<Address, TreeError> {
        Address::from_script(&self.script_pubkey, network).map_err(|_| TreeError::NotAnAddress)
    }
}

/// Why a tree could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// The depths do not describe a complete binary tree in depth-first order.
    InvalidDepths {
        /// The leaf (in the order given) where the problem was found.
        leaf: usize,
    },
    /// A leaf deeper than BIP341's 128.
    TooDeep {
        /// The deepest depth found.
        actual: u32,
        /// The limit.
        expected: u8,
    },
    /// The scriptPubKey has no address form (unreachable for Taproot outputs).
    NotAnAddress,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::InvalidDepths { leaf } => {
                write!(
                    f,
                    "leaf depths do not form a complete binary tree (at leaf {leaf})"
                )
            }
            TreeError::TooDeep { actual, expected } => {
                write!(
                    f,
                    "script tree too deep: expected at most {expected}, got {actual}"
                )
            }
            TreeError::NotAnAddress => f.write_str("scriptPubKey has no address form"),
        }
    }
}

impl std::error::Error for TreeError {}

/// Build the BIP341 output for `internal_key` and `leaves` given in depth-first order as
/// `(depth, script, version)`. An empty list means a key-path-only output.
pub fn build_output(
    internal_key: XOnlyPublicKey,
    leaves: &[(u8, ScriptBuf, LeafVersion)],
) -> Result<TaprootOutput, TreeError> {
    if let Some(actual) = leaves.iter().map(|(d, _, _)| *d).max() {
        if actual > MAX_DEPTH {
            return Err(TreeError::TooDeep {
                actual: actual as u32,
                expected: MAX_DEPTH,
            });
        }
    }
    let mut builder = TaprootBuilder::new();
    for (leaf, (depth, script, version)) in leaves.iter().enumerate() {
        builder = builder
            .add_leaf_with_ver(*depth, script.clone(), *version)
            .map_err(|_| TreeError::InvalidDepths { leaf })?;
    }
    let info = if leaves.is_empty() {
        bitcoin::taproot::TaprootSpendInfo::new_key_spend(SECP256K1, internal_key, None)
    } else {
        builder
            .finalize(SECP256K1, internal_key)
            .map_err(|_| TreeError::InvalidDepths { leaf: leaves.len() })?
    };
    let output_key = info.output_key().to_x_only_public_key();
    let mut out_leaves = Vec::with_capacity(leaves.len());
    for (leaf, (depth, script, version)) in leaves.iter().enumerate() {
        let cb = info
            .control_block(&(script.clone(), *version))
            .ok_or(TreeError::InvalidDepths { leaf })?;
        out_leaves.push(LeafOutput {
            script: script.clone(),
            version: *version,
            depth: *depth,
            leaf_hash: TapLeafHash::from_script(script, *version),
            control_block: cb,
        });
    }
    Ok(TaprootOutput {
        internal_key,
        merkle_root: info.merkle_root(),
        tweak: info.tap_tweak(),
        output_key,
        output_key_parity: info.output_key_parity(),
        script_pubkey: ScriptBuf::new_p2tr_tweaked(info.output_key()),
        leaves: out_leaves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huffman_8_1_1() {
        let t = huffman(&[8.0, 1.0, 1.0]).unwrap();
        // 1 and 2 merge first (weight 2, popped before 8), so the pair is the left child.
        assert_eq!(t.shape(), "{{1,2},0}");
        assert_eq!(t.leaves(), vec![(1, 2), (2, 2), (0, 1)]);
    }

    #[test]
    fn huffman_ties_follow_sequence() {
        let t = huffman(&[1.0, 1.0, 1.0, 1.0]).unwrap();
        assert_eq!(t.shape(), "{{0,1},{2,3}}");
        let t = huffman(&[1.0, 1.0, 1.0]).unwrap();
        // 0 and 1 merge first (seq 3); then 2 (weight 1) is smaller than the merge (2).
        assert_eq!(t.shape(), "{2,{0,1}}");
        assert!(huffman(&[]).is_none());
        assert_eq!(huffman(&[5.0]).unwrap(), TreeNode::Leaf(0));
    }
}
