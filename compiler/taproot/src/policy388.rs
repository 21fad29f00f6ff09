//! The BIP388 wallet policy of a compiled contract: `tr(@0/**,{...})` and its key vector.
//!
//! In: a [`Compiled`] contract. Out: [`WalletPolicy`]: the descriptor template, in which each
//! key parameter becomes `@i/**` (numbered in order of first appearance: key path first, then
//! the leaves in tree order, left to right), and the key vector naming the parameter behind
//! each `@i`.
//!
//! - A MuSig2 key path is written as BIP390's `musig(@0,@1)/**`.
//! - A NUMS key path has no key parameter; it is `@0` with the key vector entry `nums`, which
//!   the signer's software must fill with an unspendable extended key whose public key is
//!   BIP341's H (how wallets do this is not yet standard; see the README).
//! - Hash and timelock parameters are printed by name: BIP388 has no placeholders for them,
//!   so a policy registered with a device must have them filled in from the instance.

use std::collections::BTreeMap;
use std::fmt;

use miniscript::{MiniscriptKey, Translator};

use crate::compile::{template_text_str, Compiled};
use crate::input::KeyPath;
use crate::key::ParamKey;
use crate::tree::TreeNode;

pub use biscol_artifact::taproot::{WalletKey, WalletPolicy};

/// A BIP388 key placeholder `@i/**`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Placeholder(pub usize);

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}/**", self.0)
    }
}

impl MiniscriptKey for Placeholder {
    type Sha256 = ParamKey;
    type Hash256 = ParamKey;
    type Ripemd160 = ParamKey;
    type Hash160 = ParamKey;
}

struct Numbering<'a> {
    index: &'a BTreeMap<ParamKey, usize>,
}

impl Translator<ParamKey> for Numbering<'_> {
    type TargetPk = Placeholder;
    type Error = ();
    fn pk(&mut self, pk: &ParamKey) -> Result<Placeholder, ()> {
        self.index.get(pk).copied().map(Placeholder).ok_or(())
    }
    fn sha256(&mut self, h: &ParamKey) -> Result<ParamKey, ()> {
        Ok(h.clone())
    }
    fn hash256(&mut self, h: &ParamKey) -> Result<ParamKey, ()> {
        Ok(h.clone())
    }
    fn ripemd160(&mut self, h: &ParamKey) -> Result<ParamKey, ()> {
        Ok(h.clone())
    }
    fn hash160(&mut self, h: &ParamKey) -> Result<ParamKey, ()> {
        Ok(h.clone())
    }
}

/// The wallet policy of `c`.
pub fn wallet_policy(c: &Compiled) -> WalletPolicy {
    let mut keys: Vec<WalletKey> = Vec::new();
    let mut index: BTreeMap<ParamKey, usize> = BTreeMap::new();
    let mut add = |k: &ParamKey, keys: &mut Vec<WalletKey>| {
        if !index.contains_key(k) {
            index.insert(k.clone(), keys.len());
            keys.push(WalletKey::Param {
                name: k.to_string(),
            });
        }
    };
    let internal = match &c.key_path {
        KeyPath::Single(k) => {
            add(k, &mut keys);
            "@0/**".to_string()
        }
        KeyPath::MuSig(ks) => {
            let start = keys.len();
            for k in ks {
                add(k, &mut keys);
            }
            let list: Vec<String> = (start..keys.len()).map(|i| format!("@{i}")).collect();
            format!("musig({})/**", list.join(","))
        }
        KeyPath::Nums => {
            keys.push(WalletKey::Nums);
            "@0/**".to_string()
        }
    };
    for leaf in &c.leaves {
        for atom in crate::compile::atoms(&leaf.template) {
            if let crate::input::Atom::Key(k) = atom {
                add(&k, &mut keys);
            }
        }
    }
    let texts: Vec<String> = c
        .leaves
        .iter()
        .map(|l| {
            let mut t = Numbering { index: &index };
            match l.template.translate_pk(&mut t) {
                Ok(ms) => template_text_str(ms.to_string(), &c.timelocks),
                Err(_) => String::new(),
            }
        })
        .collect();
    fn tree(node: &TreeNode, texts: &[String]) -> String {
        match node {
            TreeNode::Leaf(i) => texts.get(*i).cloned().unwrap_or_default(),
            TreeNode::Branch(l, r) => format!("{{{},{}}}", tree(l, texts), tree(r, texts)),
        }
    }
    let template = match &c.tree {
        Some(t) => format!("tr({internal},{})", tree(t, &texts)),
        None => format!("tr({internal})"),
    };
    WalletPolicy { template, keys }
}
