//! Compilation: spend paths → Tap Miniscript leaves → a weighted script tree.
//!
//! In: a [`Contract`]. Out: [`Compiled`], the leaf templates (`Miniscript<ParamKey, Tap>`) in
//! tree order with depths and witness sizes, a report per path, and the analysis findings; or
//! [`CompileError`] with the findings that reject the contract.
//!
//! How a contract is compiled:
//! 1. Every path's policy is made binary ([`crate::input::binarize`]) and checked
//!    ([`crate::analysis::check_policy`]).
//! 2. Every path has up to three *options*: one leaf for the whole policy; one leaf per
//!    branch of its top-level `or` (or `thresh(1, ...)`); and the full split that
//!    rust-miniscript's `compile_tr` makes (recursively through nested top-level ors).
//!    Each leaf is compiled with rust-miniscript's policy compiler (`Concrete::compile::<Tap>`);
//!    a policy that needs no signature, which that compiler refuses, is lowered directly
//!    (`and_v`/`or_i`/`thresh`/`multi_a`), and the analysis warns about it.
//! 3. The options are chosen to lower the *expected witness size*: the sum over leaves of
//!    (leaf probability × worst-case witness bytes at its depth), where a path's probability
//!    is its weight over the total and a branch's share within a path follows the `or`
//!    odds. Start from "whole" everywhere; then, path by path in source order, take the
//!    option that lowers the cost the most (ties keep the earlier option: whole, then one
//!    level, then full), repeating until nothing improves. Finally the all-full-split
//!    assignment (rust-miniscript's own choice of leaves) is evaluated and taken if it is
//!    strictly cheaper. So the result is never heavier than `compile_tr` on the same policy
//!    (see `tests/weights.rs`).
//! 4. The leaves are placed by a Huffman tree over their probabilities, with the
//!    tie-breaking rule of [`crate::tree`].
//!
//! Witness size of a leaf at depth `d` (bytes = weight units; vbytes = bytes / 4):
//! `varint(n+1) + max_sat + varint(|script|) + |script| + varint(33+32d) + 33 + 32d`, where
//! `n` and `max_sat` are rust-miniscript's `max_satisfaction_witness_elements` (the script
//! included) and `max_satisfaction_size` (signatures counted at 65+1 bytes). The same
//! formula as rust-miniscript's `Tr::max_weight_to_satisfy` for one leaf.
//!
//! Everything is deterministic: no hash maps are iterated and floating-point operations are
//! done in a fixed order.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use miniscript::policy::compiler::CompilerError;
use miniscript::policy::concrete::PolicyError;
use miniscript::policy::Concrete;
use miniscript::{Miniscript, Tap, Terminal, Threshold};

use crate::analysis::{check_leaf, check_policy, Code, Finding};
use crate::input::{binarize, Contract, KeyPath, Timelocks};
use crate::key::{is_identifier, ParamKey};
use crate::tree::{huffman, TreeNode, MAX_DEPTH};
pub use biscol_artifact::template::{
    atom_fragment, atoms, template_text, template_text_str, SourceMapEntry, Template, WitnessSize,
};

/// How a path's policy was turned into leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// One leaf for the whole path.
    Whole,
    /// One leaf per branch of the top-level `or`.
    TopLevel,
    /// One leaf per branch of every nested top-level `or` (rust-miniscript's split).
    Full,
}

/// One compiled leaf.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledLeaf {
    /// Index of its path in [`Compiled::paths`].
    pub path: usize,
    /// Which branch of the path (in branch order), `None` for the whole path.
    pub branch: Option<usize>,
    /// Probability of being the leaf used, over all script-path spends.
    pub probability: f64,
    /// Share of its path's spends that use this leaf.
    pub share: f64,
    /// The template.
    pub template: Template,
    /// Depth in the tree.
    pub depth: u8,
    /// Script size in bytes (template; instances are never larger).
    pub script_size: usize,
    /// Worst-case witness size.
    pub witness: WitnessSize,
    /// Source spans of the leaf's atoms.
    pub source_map: Vec<SourceMapEntry>,
}

/// What was compiled for one path.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledPath {
    /// Its name.
    pub name: String,
    /// Its weight.
    pub weight: u32,
    /// How it was split.
    pub split: Split,
    /// Indices of its leaves in [`Compiled::leaves`].
    pub leaves: Vec<usize>,
    /// Expected witness size of a spend through this path, in vbytes (leaf shares applied).
    pub expected_vbytes: f64,
    /// Worst-case witness size over its leaves.
    pub worst: WitnessSize,
}

/// A compiled contract: the Taproot part of the artifact, before instantiation.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    /// The contract's name.
    pub name: String,
    /// The key path.
    pub key_path: KeyPath,
    /// Timelock parameters.
    pub timelocks: Timelocks,
    /// The leaves, in depth-first tree order.
    pub leaves: Vec<CompiledLeaf>,
    /// The tree shape over indices into `leaves`; `None` without spend paths.
    pub tree: Option<TreeNode>,
    /// One entry per spend path, in source order.
    pub paths: Vec<CompiledPath>,
    /// Expected script-path witness size over all spends, in vbytes.
    pub expected_vbytes: f64,
    /// Warnings (errors reject the contract instead).
    pub findings: Vec<Finding>,
}

/// Why a contract was not compiled.
#[derive(Clone, Debug, PartialEq)]
pub enum CompileError {
    /// The analysis found errors (warnings are included too).
    Rejected {
        /// All findings, errors first.
        findings: Vec<Finding>,
    },
    /// A path name is not an identifier or is used twice.
    BadPathName {
        /// The name.
        actual: String,
    },
    /// A path weight of 0.
    ZeroWeight {
        /// The path.
        path: String,
    },
    /// A literal timelock of the contract equals a parameter placeholder.
    TimelockClash {
        /// The literal value.
        actual: u32,
        /// The parameter it clashes with.
        param: String,
    },
    /// The tree would be deeper than BIP341 allows.
    TooDeep {
        /// The depth reached.
        actual: u32,
    },
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Rejected { findings } => {
                let n = findings.iter().filter(|f| f.is_error()).count();
                write!(f, "contract rejected with {n} error(s)")?;
                for finding in findings.iter().filter(|f| f.is_error()) {
                    write!(f, "; {finding}")?;
                }
                Ok(())
            }
            CompileError::BadPathName { actual } => {
                write!(f, "path name `{actual}`: expected a unique identifier")
            }
            CompileError::ZeroWeight { path } => {
                write!(f, "path `{path}` has weight 0: expected at least 1")
            }
            CompileError::TimelockClash { actual, param } => write!(
                f,
                "literal timelock {actual} equals the placeholder of parameter `{param}`"
            ),
            CompileError::TooDeep { actual } => {
                write!(
                    f,
                    "script tree depth {actual}: expected at most {MAX_DEPTH}"
                )
            }
        }
    }
}

impl std::error::Error for CompileError {}

/// A leaf candidate: template, share of its path, branch index.
#[derive(Clone, Debug)]
struct LeafCand {
    share: f64,
    branch: Option<usize>,
    template: Arc<Template>,
    /// Witness bytes without the control block.
    base: u64,
    elems: usize,
}

#[derive(Clone, Debug)]
struct PathOption {
    split: Split,
    leaves: Vec<LeafCand>,
}

fn varint_len(n: usize) -> u64 {
    biscol_artifact::units::compact_size_len(n) as u64
}

fn control_block_len(depth: u8) -> usize {
    33 + 32 * depth as usize
}

/// Worst-case witness bytes for `ms` at `depth`.
pub fn witness_weight(ms: &Template, depth: u8) -> Option<u64> {
    let cand = leaf_cand(Arc::new(ms.clone()), 1.0, None)?;
    Some(leaf_weight(&cand, depth))
}

fn leaf_cand(template: Arc<Template>, share: f64, branch: Option<usize>) -> Option<LeafCand> {
    let elems = template.max_satisfaction_witness_elements().ok()?;
    let sat = template.max_satisfaction_size().ok()? as u64;
    let script = template.script_size();
    let base = sat + varint_len(script) + script as u64;
    Some(LeafCand {
        share,
        branch,
        template,
        base,
        elems,
    })
}

fn leaf_weight(c: &LeafCand, depth: u8) -> u64 {
    let cb = control_block_len(depth);
    varint_len(c.elems + 1) + c.base + varint_len(cb) + cb as u64
}

/// The branches of a top-level `or` (or `thresh(1, ...)`) with their shares; `None` when the
/// policy is not a disjunction. With `recursive`, nested top-level ors are split too, exactly
/// as rust-miniscript's `compile_tr` does.
pub fn disjuncts(
    policy: &Concrete<ParamKey>,
    recursive: bool,
) -> Option<Vec<(f64, Concrete<ParamKey>)>> {
    fn children(p: &Concrete<ParamKey>) -> Option<Vec<(f64, &Concrete<ParamKey>)>> {
        match p {
            Concrete::Or(subs) => {
                let total: usize = subs.iter().map(|(w, _)| *w).sum();
                Some(
                    subs.iter()
                        .map(|(w, s)| (*w as f64 / total as f64, s.as_ref()))
                        .collect(),
                )
            }
            Concrete::Thresh(t) if t.is_or() => {
                let n = t.n() as f64;
                Some(t.iter().map(|s| (1.0 / n, s.as_ref())).collect())
            }
            _ => None,
        }
    }
    let top = children(policy)?;
    let mut out = Vec::new();
    // Depth-first, left to right, with an explicit stack (same order as compile_tr's).
    let mut stack: Vec<(f64, &Concrete<ParamKey>)> = top.into_iter().rev().collect();
    while let Some((prob, p)) = stack.pop() {
        match (recursive, children(p)) {
            (true, Some(subs)) => {
                for (share, s) in subs.into_iter().rev() {
                    stack.push((prob * share, s));
                }
            }
            _ => out.push((prob, p.clone())),
        }
    }
    Some(out)
}

/// Compile one policy to a Tap leaf: rust-miniscript's compiler, or for a policy that needs
/// no signature or has no non-malleable compilation, a direct lowering.
pub fn compile_leaf(policy: &Concrete<ParamKey>) -> Result<Template, (Code, String)> {
    match policy.compile::<Tap>() {
        Ok(ms) => Ok(ms),
        Err(CompilerError::TopLevelNonSafe | CompilerError::ImpossibleNonMalleableCompilation) => {
            lower_direct(policy).ok_or_else(|| {
                (
                    Code::E0106,
                    "no Miniscript expresses this condition in tapscript".to_string(),
                )
            })
        }
        Err(CompilerError::LimitsExceeded) => Err((
            Code::E0101,
            "every compilation of this path exceeds tapscript resource limits".to_string(),
        )),
        Err(CompilerError::PolicyError(PolicyError::DuplicatePubKeys)) => Err((
            Code::E0102,
            "a key appears more than once in this condition".to_string(),
        )),
        Err(CompilerError::PolicyError(PolicyError::HeightTimelockCombination)) => Err((
            Code::E0103,
            "this condition requires a block-height lock and a time lock together".to_string(),
        )),
        Err(e) => Err((Code::E0106, e.to_string())),
    }
}

/// Lower a policy straight to Miniscript, without the compiler's search: `and` → `and_v`,
/// `or` → `or_i`, `thresh` of keys → `multi_a`, other `thresh` → `thresh` with `a:` wrappers.
/// Used for policies the compiler refuses (no signature needed); the result is analysed
/// like any other leaf.
fn lower_direct(policy: &Concrete<ParamKey>) -> Option<Template> {
    fn arc(t: Terminal<ParamKey, Tap>) -> Option<Arc<Template>> {
        Miniscript::from_ast(t).ok().map(Arc::new)
    }
    // Post-order with an explicit stack.
    enum Visit<'a> {
        Enter(&'a Concrete<ParamKey>),
        Exit(&'a Concrete<ParamKey>),
    }
    let mut stack = vec![Visit::Enter(policy)];
    let mut done: Vec<Arc<Template>> = Vec::new();
    while let Some(v) = stack.pop() {
        match v {
            Visit::Enter(p) => {
                stack.push(Visit::Exit(p));
                match p {
                    Concrete::And(subs) => {
                        subs.iter().rev().for_each(|s| stack.push(Visit::Enter(s)))
                    }
                    Concrete::Or(subs) => subs
                        .iter()
                        .rev()
                        .for_each(|(_, s)| stack.push(Visit::Enter(s))),
                    Concrete::Thresh(t) if !t.iter().all(|s| matches!(**s, Concrete::Key(_))) => {
                        t.iter().rev().for_each(|s| stack.push(Visit::Enter(s)))
                    }
                    _ => {}
                }
            }
            Visit::Exit(p) => {
                let node = match p {
                    Concrete::Unsatisfiable => arc(Terminal::False)?,
                    Concrete::Trivial => arc(Terminal::True)?,
                    Concrete::Key(k) => arc(Terminal::Check(arc(Terminal::PkK(k.clone()))?))?,
                    Concrete::After(t) => arc(Terminal::After(*t))?,
                    Concrete::Older(t) => arc(Terminal::Older(*t))?,
                    Concrete::Sha256(h) => arc(Terminal::Sha256(h.clone()))?,
                    Concrete::Hash256(h) => arc(Terminal::Hash256(h.clone()))?,
                    Concrete::Ripemd160(h) => arc(Terminal::Ripemd160(h.clone()))?,
                    Concrete::Hash160(h) => arc(Terminal::Hash160(h.clone()))?,
                    Concrete::And(subs) => {
                        let n = subs.len();
                        let kids = done.split_off(done.len().checked_sub(n)?);
                        let mut iter = kids.into_iter().rev();
                        let mut acc = iter.next()?;
                        for k in iter {
                            acc = arc(Terminal::AndV(arc(Terminal::Verify(k))?, acc))?;
                        }
                        acc
                    }
                    Concrete::Or(subs) => {
                        let n = subs.len();
                        let kids = done.split_off(done.len().checked_sub(n)?);
                        let mut iter = kids.into_iter().rev();
                        let mut acc = iter.next()?;
                        for k in iter {
                            acc = arc(Terminal::OrI(k, acc))?;
                        }
                        acc
                    }
                    Concrete::Thresh(t) if t.iter().all(|s| matches!(**s, Concrete::Key(_))) => {
                        let keys: Vec<ParamKey> = t
                            .iter()
                            .filter_map(|s| match s.as_ref() {
                                Concrete::Key(k) => Some(k.clone()),
                                _ => None,
                            })
                            .collect();
                        arc(Terminal::MultiA(Threshold::new(t.k(), keys).ok()?))?
                    }
                    Concrete::Thresh(t) => {
                        let kids = done.split_off(done.len().checked_sub(t.n())?);
                        let mut subs = Vec::with_capacity(kids.len());
                        for (i, k) in kids.into_iter().enumerate() {
                            if i == 0 {
                                subs.push(k);
                            } else {
                                subs.push(arc(Terminal::Alt(k))?);
                            }
                        }
                        arc(Terminal::Thresh(Threshold::new(t.k(), subs).ok()?))?
                    }
                };
                done.push(node);
            }
        }
    }
    let top = done.pop()?;
    Some((*top).clone())
}

fn options_for(policy: &Concrete<ParamKey>) -> (Vec<PathOption>, Option<(Code, String)>) {
    let mut options = Vec::new();
    let mut first_error = None;
    let mut try_option = |split: Split, parts: Vec<(f64, Concrete<ParamKey>)>| {
        let mut leaves = Vec::new();
        for (i, (share, p)) in parts.iter().enumerate() {
            let branch = if split == Split::Whole { None } else { Some(i) };
            match compile_leaf(p) {
                Ok(ms) => match leaf_cand(Arc::new(ms), *share, branch) {
                    Some(c) => leaves.push(c),
                    None => {
                        first_error.get_or_insert((
                            Code::E0104,
                            "a branch of this path can never be satisfied".to_string(),
                        ));
                        return;
                    }
                },
                Err(e) => {
                    first_error.get_or_insert(e);
                    return;
                }
            }
        }
        options.push(PathOption { split, leaves });
    };
    try_option(Split::Whole, vec![(1.0, policy.clone())]);
    let top = disjuncts(policy, false);
    let full = disjuncts(policy, true);
    if let Some(top) = top.clone() {
        try_option(Split::TopLevel, top);
    }
    if let Some(full) = full {
        let same = top.as_ref().map(|t| t.len() == full.len()).unwrap_or(false);
        if !same {
            try_option(Split::Full, full);
        }
    }
    let err = if options.is_empty() {
        first_error
    } else {
        None
    };
    (options, err)
}

/// Evaluate an assignment: leaf probabilities → Huffman → expected witness bytes.
fn evaluate(
    options: &[Vec<PathOption>],
    weights: &[f64],
    choice: &[usize],
) -> (f64, Option<TreeNode>, Vec<(usize, usize)>) {
    let total: f64 = weights.iter().sum();
    let mut probs = Vec::new();
    let mut index = Vec::new(); // (path, leaf index within option)
    for (p, opts) in options.iter().enumerate() {
        if let Some(opt) = opts.get(choice[p]) {
            for (l, leaf) in opt.leaves.iter().enumerate() {
                probs.push(weights[p] / total * leaf.share);
                index.push((p, l));
            }
        }
    }
    let tree = huffman(&probs);
    let mut cost = 0.0;
    if let Some(t) = &tree {
        for (leaf_idx, depth) in t.leaves() {
            let (p, l) = index[leaf_idx];
            let cand = &options[p][choice[p]].leaves[l];
            cost += probs[leaf_idx] * leaf_weight(cand, depth) as f64;
        }
    }
    (cost, tree, index)
}

fn strictly_less(a: f64, b: f64) -> bool {
    a < b - 1e-9 * b.abs().max(1.0)
}

/// Compile a contract.
pub fn compile(contract: &Contract) -> Result<Compiled, CompileError> {
    // Input checks.
    let mut names = BTreeSet::new();
    for path in &contract.paths {
        if !is_identifier(&path.name) || !names.insert(path.name.as_str()) {
            return Err(CompileError::BadPathName {
                actual: path.name.clone(),
            });
        }
        if path.weight == 0 {
            return Err(CompileError::ZeroWeight {
                path: path.name.clone(),
            });
        }
    }
    let policies: Vec<Concrete<ParamKey>> =
        contract.paths.iter().map(|p| binarize(&p.policy)).collect();
    check_timelock_literals(&policies, &contract.timelocks)?;

    // Policy-level analysis and options.
    let mut findings: Vec<Finding> = Vec::new();
    let mut options: Vec<Vec<PathOption>> = Vec::new();
    let mut unsatisfiable = 0usize;
    for (path, policy) in contract.paths.iter().zip(&policies) {
        let policy_findings = check_policy(&path.name, policy);
        let blocked = policy_findings.iter().any(|f| f.is_error());
        if policy_findings.iter().any(|f| f.code == Code::E0104) {
            unsatisfiable += 1;
        }
        findings.extend(policy_findings);
        if blocked {
            options.push(Vec::new());
            continue;
        }
        let (opts, err) = options_for(policy);
        if let Some((code, msg)) = err {
            if code == Code::E0104 {
                unsatisfiable += 1;
            }
            findings.push(Finding::new(code, Some(&path.name), msg));
        }
        options.push(opts);
    }
    if contract.key_path == KeyPath::Nums && unsatisfiable == contract.paths.len() {
        findings.push(Finding::new(
            Code::E0105,
            None,
            "the contract has no key path and no spend path that can be satisfied: coins sent \
             to it are lost",
        ));
    }

    let weights: Vec<f64> = contract.paths.iter().map(|p| p.weight as f64).collect();
    let mut choice = vec![0usize; options.len()];
    let mut result = None;
    if !findings.iter().any(|f| f.is_error()) {
        // Greedy improvement, path by path in source order.
        let mut best = evaluate(&options, &weights, &choice).0;
        for _round in 0..4 {
            let mut improved = false;
            for p in 0..options.len() {
                let current = choice[p];
                let mut best_here = (best, current);
                for o in 0..options[p].len() {
                    if o == current {
                        continue;
                    }
                    choice[p] = o;
                    let cost = evaluate(&options, &weights, &choice).0;
                    if strictly_less(cost, best_here.0) {
                        best_here = (cost, o);
                    }
                }
                choice[p] = best_here.1;
                if best_here.1 != current {
                    best = best_here.0;
                    improved = true;
                }
            }
            if !improved {
                break;
            }
        }
        // rust-miniscript's own assignment: the full split everywhere.
        let full: Vec<usize> = options.iter().map(|o| o.len().saturating_sub(1)).collect();
        if full != choice && strictly_less(evaluate(&options, &weights, &full).0, best) {
            choice = full;
        }
        result = Some(evaluate(&options, &weights, &choice));
    }

    let Some((cost, tree, index)) = result else {
        findings.sort_by_key(|f| (f.severity, f.path.clone()));
        return Err(CompileError::Rejected { findings });
    };
    if let Some(t) = &tree {
        let d = t.max_depth();
        if d > MAX_DEPTH as u32 {
            return Err(CompileError::TooDeep { actual: d });
        }
    }

    // Lay out the leaves in depth-first order.
    let order: Vec<(usize, u8)> = tree.as_ref().map(|t| t.leaves()).unwrap_or_default();
    let mut position = vec![0usize; index.len()];
    for (pos, (leaf_idx, _)) in order.iter().enumerate() {
        position[*leaf_idx] = pos;
    }
    let total: f64 = weights.iter().sum();
    let mut leaves = Vec::with_capacity(order.len());
    for (leaf_idx, depth) in &order {
        let (p, l) = index[*leaf_idx];
        let cand = &options[p][choice[p]].leaves[l];
        let template = (*cand.template).clone();
        let source_map = source_map_for(&template, contract, p);
        leaves.push(CompiledLeaf {
            path: p,
            branch: cand.branch,
            probability: weights[p] / total * cand.share,
            share: cand.share,
            script_size: template.script_size(),
            witness: WitnessSize::from_weight(leaf_weight(cand, *depth)),
            depth: *depth,
            template,
            source_map,
        });
    }
    let tree = tree.map(|t| renumber(&t, &position));

    // Per-path reports and leaf analysis.
    let mut paths = Vec::with_capacity(contract.paths.len());
    for (p, path) in contract.paths.iter().enumerate() {
        let mine: Vec<usize> = (0..leaves.len()).filter(|i| leaves[*i].path == p).collect();
        let expected_wu: f64 = mine
            .iter()
            .map(|i| leaves[*i].share * leaves[*i].witness.weight as f64)
            .sum();
        let worst = mine
            .iter()
            .map(|i| leaves[*i].witness.weight)
            .max()
            .unwrap_or(0);
        for i in &mine {
            findings.extend(check_leaf(&path.name, &leaves[*i].template));
        }
        paths.push(CompiledPath {
            name: path.name.clone(),
            weight: path.weight,
            split: options[p]
                .get(choice[p])
                .map(|o| o.split)
                .unwrap_or(Split::Whole),
            leaves: mine,
            expected_vbytes: round3(expected_wu / 4.0),
            worst: WitnessSize::from_weight(worst),
        });
    }
    findings.sort_by_key(|f| (f.severity, f.path.clone()));
    findings.dedup();
    if findings.iter().any(|f| f.is_error()) {
        return Err(CompileError::Rejected { findings });
    }
    Ok(Compiled {
        name: contract.name.clone(),
        key_path: contract.key_path.clone(),
        timelocks: contract.timelocks.clone(),
        leaves,
        tree,
        paths,
        expected_vbytes: round3(cost / 4.0),
        findings,
    })
}

/// Round to 3 decimals, so that printed figures do not depend on the last bits.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn renumber(t: &TreeNode, position: &[usize]) -> TreeNode {
    match t {
        TreeNode::Leaf(i) => TreeNode::Leaf(position[*i]),
        TreeNode::Branch(l, r) => TreeNode::Branch(
            Box::new(renumber(l, position)),
            Box::new(renumber(r, position)),
        ),
    }
}

fn check_timelock_literals(
    policies: &[Concrete<ParamKey>],
    timelocks: &Timelocks,
) -> Result<(), CompileError> {
    // A policy holds only numbers, so a literal timelock equal to a placeholder value reads
    // as the parameter (documented in README: placeholders are the top values of each kind,
    // e.g. `older(65535)`, which no real contract writes as a literal). Here we only make sure
    // that the table is consistent: every placeholder stands for one parameter.
    let mut seen = BTreeSet::new();
    for p in timelocks.params() {
        if !seen.insert((p.kind.is_relative(), p.placeholder)) {
            return Err(CompileError::TimelockClash {
                actual: p.placeholder,
                param: p.name.clone(),
            });
        }
    }
    let _ = policies; // Reserved for a literal scan once the front end marks literals.
    Ok(())
}

fn source_map_for(ms: &Template, contract: &Contract, path: usize) -> Vec<SourceMapEntry> {
    let mut out = Vec::new();
    let entries = &contract.paths[path].source_map;
    for atom in atoms(ms) {
        for e in entries.iter().filter(|e| e.atom == atom) {
            let entry = SourceMapEntry {
                fragment: atom_fragment(&atom, &contract.timelocks),
                span: e.span,
            };
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

/// Why [`compile_tr_expected_vbytes`] has no figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileTrError {
    /// rust-miniscript's `compile_tr` failed.
    Compiler(String),
    /// `compile_tr` moved a bare-key branch to the internal key: a different contract.
    KeyExtracted,
    /// A `compile_tr` leaf matched none of the expected sub-policies.
    Unmatched,
}

impl fmt::Display for CompileTrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileTrError::Compiler(m) => write!(f, "compile_tr failed: {m}"),
            CompileTrError::KeyExtracted => {
                f.write_str("compile_tr moved a bare-key branch to the internal key")
            }
            CompileTrError::Unmatched => f.write_str("a compile_tr leaf matched no sub-policy"),
        }
    }
}

impl std::error::Error for CompileTrError {}

/// Every key occurrence gets its own name (`a` → `a__1`, `a__2`, ...): rust-miniscript's
/// `compile_tr` refuses a key that appears twice anywhere in the policy, even in different
/// leaves. All tapscript keys are 32 bytes, so renaming changes no size.
fn rename_apart(p: &Concrete<ParamKey>, n: &mut u32) -> Concrete<ParamKey> {
    match p {
        Concrete::Key(k) => {
            *n += 1;
            Concrete::Key(ParamKey::new(format!("{}__{}", k.name, n)))
        }
        Concrete::And(subs) => {
            Concrete::And(subs.iter().map(|s| Arc::new(rename_apart(s, n))).collect())
        }
        Concrete::Or(subs) => Concrete::Or(
            subs.iter()
                .map(|(w, s)| (*w, Arc::new(rename_apart(s, n))))
                .collect(),
        ),
        Concrete::Thresh(t) => {
            let inner: Vec<_> = t.iter().map(|s| Arc::new(rename_apart(s, n))).collect();
            match Threshold::new(t.k(), inner) {
                Ok(t) => Concrete::Thresh(t),
                Err(_) => Concrete::Unsatisfiable,
            }
        }
        other => other.clone(),
    }
}

/// Expected script-path witness size (vbytes, same formula as [`compile`]) of
/// rust-miniscript's `compile_tr` on the same contract: the `or` of the paths with their
/// weights, internal key = the key path (a placeholder; NUMS when there is none). Keys are
/// renamed apart first (see `rename_apart`). Used by the weight comparison.
pub fn compile_tr_expected_vbytes(contract: &Contract) -> Result<f64, CompileTrError> {
    let mut n = 0;
    let subs: Vec<(usize, Arc<Concrete<ParamKey>>)> = contract
        .paths
        .iter()
        .map(|p| {
            (
                p.weight as usize,
                Arc::new(rename_apart(&binarize(&p.policy), &mut n)),
            )
        })
        .collect();
    let whole = binarize(&Concrete::Or(subs));
    let internal = ParamKey::new("__internal");
    let desc = whole
        .compile_tr(Some(internal.clone()))
        .map_err(|e| CompileTrError::Compiler(e.to_string()))?;
    let miniscript::Descriptor::Tr(tr) = desc else {
        return Err(CompileTrError::Compiler("not a tr descriptor".into()));
    };
    if tr.internal_key() != &internal {
        return Err(CompileTrError::KeyExtracted);
    }
    let mut expected: Vec<(f64, Template, bool)> = disjuncts(&whole, true)
        .unwrap_or_else(|| vec![(1.0, whole.clone())])
        .into_iter()
        .filter_map(|(prob, p)| p.compile::<Tap>().ok().map(|ms| (prob, ms, false)))
        .collect();
    let mut cost = 0.0;
    for leaf in tr.leaves() {
        let ms = leaf.miniscript();
        let slot = expected
            .iter_mut()
            .find(|(_, e, used)| !*used && e == ms.as_ref())
            .ok_or(CompileTrError::Unmatched)?;
        slot.2 = true;
        let w = witness_weight(ms, leaf.depth()).ok_or(CompileTrError::Unmatched)?;
        cost += slot.0 * w as f64;
    }
    Ok(round3(cost / 4.0))
}
