//! The Taproot section of the artifact, from a compiled contract.
//!
//! In: a [`Compiled`] contract. Out: [`TaprootArtifact`] (the types live in
//! `biscol-artifact`, which the runtime reads without the compiler): the key path, the leaves
//! in tree order, a report per path, timelock parameters, the BIP388 wallet policy from
//! [`crate::policy388`] and the warnings.
//!
//! Invariants: the same [`Compiled`] gives byte-identical JSON (no maps iterated in hash order;
//! floats rounded to fixed decimals; no paths, times or machine data).

pub use biscol_artifact::taproot::*;

use crate::compile::{template_text, Compiled, Split};
use crate::input::KeyPath;
use crate::policy388::wallet_policy;
use crate::tree::TreeNode;

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn tree_text(node: &TreeNode, leaves: &[LeafArtifact]) -> String {
    match node {
        TreeNode::Leaf(i) => leaves
            .get(*i)
            .map(|l| l.template.clone())
            .unwrap_or_default(),
        TreeNode::Branch(l, r) => format!("{{{},{}}}", tree_text(l, leaves), tree_text(r, leaves)),
    }
}

/// The artifact section of a compiled contract.
pub fn from_compiled(c: &Compiled) -> TaprootArtifact {
    let key_path = match &c.key_path {
        KeyPath::Single(k) => KeyPathArtifact {
            kind: KeyPathKind::Single,
            keys: vec![k.to_string()],
            template: k.to_string(),
        },
        KeyPath::MuSig(ks) => {
            let keys: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
            KeyPathArtifact {
                kind: KeyPathKind::Musig,
                template: format!("musig({})", keys.join(",")),
                keys,
            }
        }
        KeyPath::Nums => KeyPathArtifact {
            kind: KeyPathKind::Nums,
            keys: vec![],
            template: "nums".into(),
        },
    };
    let leaves: Vec<LeafArtifact> = c
        .leaves
        .iter()
        .map(|l| LeafArtifact {
            path: c.paths[l.path].name.clone(),
            branch: l.branch,
            template: template_text(&l.template, &c.timelocks),
            depth: l.depth,
            probability: round6(l.probability),
            script_size: l.script_size,
            witness: l.witness,
            needs: needs_of(&l.template, &c.timelocks),
            source_map: l.source_map.clone(),
        })
        .collect();
    let paths = c
        .paths
        .iter()
        .map(|p| PathArtifact {
            name: p.name.clone(),
            weight: p.weight,
            split: match p.split {
                Split::Whole => "whole",
                Split::TopLevel => "top_level",
                Split::Full => "full",
            }
            .into(),
            depths: p.leaves.iter().map(|i| c.leaves[*i].depth).collect(),
            leaves: p.leaves.clone(),
            expected_vbytes: p.expected_vbytes,
            worst: p.worst,
        })
        .collect();
    TaprootArtifact {
        format: FORMAT.into(),
        contract: c.name.clone(),
        key_path,
        tree: c.tree.as_ref().map(|t| tree_text(t, &leaves)),
        leaves,
        paths,
        timelock_params: c.timelocks.params().to_vec(),
        expected_vbytes: c.expected_vbytes,
        wallet_policy: wallet_policy(c),
        findings: c.findings.clone(),
    }
}
