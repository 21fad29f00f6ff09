//! Lowering to Taproot: contract IR in, a compiled Taproot contract (from `biscol-taproot`) and
//! diagnostics out.
//!
//! Each spend path's `require`s become one `policy::Concrete<ParamKey>` (their conjunction);
//! parameters stay placeholders (`ParamKey` for keys and hashes, reserved values for timelock
//! parameters, see `biscol_taproot::input::Timelocks`). Every key, hash and timelock atom is
//! given the span of the condition it came from, for the artifact's source map. The back
//! end's safety findings become diagnostics with their codes (E0100–E0106, W0100) at the spend
//! path they are about; its W0101 (duration rounding) is dropped because the front end already
//! reports it as W0001, at the exact literal. A path with `prove` statements is refused with
//! E0107: proofs cannot be made or checked yet, so such a path would be enforced by nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use biscol_taproot::analysis::{Finding, Severity as FindingSeverity};
use biscol_taproot::compile::{self, CompileError, Compiled};
use biscol_taproot::input::{self as tin, Atom, SourceAtom, SpanRef, TimelockKind, Timelocks};
use biscol_taproot::key::ParamKey;
use miniscript::policy::Concrete;
use miniscript::{AbsLockTime, RelLockTime, Threshold};

use crate::diagnostic::Diagnostic;
use crate::hir::HashFn;
use crate::ir::{AbsLock, Cond, CondKind, Contract, KeyPath, KeyRef, RelLock};
use crate::span::Span;
use crate::types::Ty;

/// A contract compiled to Taproot, with the diagnostics its lowering and analysis gave.
#[derive(Clone, Debug)]
pub struct TaprootOutput {
    /// The compiled contract, when it has no errors.
    pub compiled: Option<Compiled>,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// Literal keys and hashes, as placeholders: (name, BiSCOL type, hex value), by name.
    pub literals: Vec<(String, String, String)>,
}

/// E0107: a `prove` statement, which nothing can prove or verify yet. Until the proof engine
/// exists, a path with `prove` is refused here, so no artifact (and so no address, and no
/// signed spend) is ever made for a condition that would not be enforced.
fn unsupported_prove(path: &str, count: usize, span: Span) -> Diagnostic {
    let statements = if count == 1 {
        "a `prove` statement".to_string()
    } else {
        format!("{count} `prove` statements")
    };
    Diagnostic::error(
        "E0107",
        format!("spend path `{path}` has {statements}, and this biscol cannot make or check proofs yet"),
        span,
    )
    .with_label("not enforced by anything yet")
    .with_note("a `prove` is enforced off chain by the co-signers verifying a zero-knowledge proof; until that engine exists, such a path would be signed with no proof at all")
    .with_help("remove the `prove` statements, or leave this path out until proofs are supported")
}

/// Lowers and compiles one contract.
pub fn compile_contract(contract: &Contract) -> TaprootOutput {
    let mut lowering = Lowering {
        timelocks: Timelocks::default(),
        literals: BTreeMap::new(),
        diagnostics: Vec::new(),
        atoms: Vec::new(),
    };
    let key_path = match &contract.key {
        KeyPath::Nums => tin::KeyPath::Nums,
        KeyPath::Single(k, span) => match lowering.key(k, &Ty::PubKey, *span) {
            Some(k) => tin::KeyPath::Single(k),
            None => tin::KeyPath::Nums,
        },
        KeyPath::MuSig(keys, span) => tin::KeyPath::MuSig(
            keys.iter()
                .filter_map(|k| lowering.key(k, &Ty::PubKey, *span))
                .collect(),
        ),
    };
    let mut paths = Vec::new();
    for path in &contract.paths {
        if let Some(first) = path.proves.first() {
            lowering
                .diagnostics
                .push(unsupported_prove(&path.name, path.proves.len(), first.span));
            continue;
        }
        let atoms: usize = path.requires.iter().map(|r| count_atoms(&r.cond)).sum();
        if atoms > MAX_ATOMS_PER_PATH {
            lowering.diagnostics.push(
                Diagnostic::error(
                    "E0106",
                    format!(
                        "spend path `{}` has {atoms} keys, hashes and timelocks; the compiler handles at most {MAX_ATOMS_PER_PATH} in one path",
                        path.name
                    ),
                    path.span,
                )
                .with_label("too large to compile")
                .with_help("split the condition over several spend paths"),
            );
            continue;
        }
        lowering.atoms.clear();
        let conds: Vec<Arc<Concrete<ParamKey>>> = path
            .requires
            .iter()
            .map(|r| Arc::new(lowering.cond(&r.cond)))
            .collect();
        let policy = match conds.len() {
            0 => Concrete::Trivial,
            1 => Arc::unwrap_or_clone(
                conds
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| Arc::new(Concrete::Trivial)),
            ),
            _ => Concrete::And(conds),
        };
        paths.push(tin::SpendPath {
            name: path.name.clone(),
            weight: path.weight,
            policy,
            source_map: std::mem::take(&mut lowering.atoms),
        });
    }
    if lowering.diagnostics.iter().any(Diagnostic::is_error) {
        return TaprootOutput {
            compiled: None,
            diagnostics: lowering.diagnostics,
            literals: Vec::new(),
        };
    }
    let input = tin::Contract {
        name: contract.name.clone(),
        key_path,
        paths,
        timelocks: lowering.timelocks,
    };
    let literals = lowering
        .literals
        .into_iter()
        .map(|(name, (ty, hex))| (name, ty, hex))
        .collect();
    let mut diagnostics = lowering.diagnostics;
    let compiled = match compile::compile(&input) {
        Ok(compiled) => {
            diagnostics.extend(
                compiled
                    .findings
                    .iter()
                    .filter_map(|f| finding(contract, f)),
            );
            Some(compiled)
        }
        Err(CompileError::Rejected { findings }) => {
            diagnostics.extend(findings.iter().filter_map(|f| finding(contract, f)));
            if !diagnostics.iter().any(Diagnostic::is_error) {
                diagnostics.push(Diagnostic::error(
                    "E0106",
                    "the contract cannot be compiled to Taproot",
                    contract.span,
                ));
            }
            None
        }
        Err(other) => {
            diagnostics.push(
                Diagnostic::error(
                    "E0106",
                    format!("the contract cannot be compiled to Taproot: {other}"),
                    contract.span,
                )
                .with_label("in this contract"),
            );
            None
        }
    };
    TaprootOutput {
        compiled,
        diagnostics,
        literals,
    }
}

/// The most keys, hashes and timelocks one spend path may have. rust-miniscript's policy
/// compiler is super-linear in the size of a policy (and recursive in its depth); past this
/// size compiling takes seconds and deep trees risk the stack. Tapscript itself would allow
/// more (`multi_a` takes up to 999 keys).
pub const MAX_ATOMS_PER_PATH: usize = 100;

/// The number of atoms (sig, older, after, hash locks) in a condition, counted without
/// recursion.
fn count_atoms(c: &Cond) -> usize {
    let mut n = 0;
    let mut stack = vec![c];
    while let Some(c) = stack.pop() {
        match &c.kind {
            CondKind::And(items) | CondKind::Or(items) | CondKind::Thresh(_, items) => {
                stack.extend(items)
            }
            CondKind::True | CondKind::False => {}
            _ => n += 1,
        }
    }
    n
}

fn finding(contract: &Contract, f: &Finding) -> Option<Diagnostic> {
    if f.code.as_str() == "W0101" {
        return None;
    }
    let path = f
        .path
        .as_deref()
        .and_then(|name| contract.paths.iter().find(|p| p.name == name));
    let span = path.map_or(contract.span, |p| p.span);
    let label = match path {
        Some(p) => format!("in spend path `{}`", p.name),
        None => format!("in contract `{}`", contract.name),
    };
    let code: &'static str = f.code.as_str();
    let mut d = match f.severity {
        FindingSeverity::Error => Diagnostic::error(code, f.message.clone(), span),
        FindingSeverity::Warning => Diagnostic::warning(code, f.message.clone(), span),
    }
    .with_label(label);
    if let Some(leaf) = &f.leaf {
        d = d.with_note(format!("the leaf: {leaf}"));
    }
    Some(d)
}

struct Lowering {
    timelocks: Timelocks,
    literals: BTreeMap<String, (String, String)>,
    diagnostics: Vec<Diagnostic>,
    atoms: Vec<SourceAtom>,
}

fn span_ref(span: Span) -> SpanRef {
    SpanRef {
        file: span.file.0,
        start: span.start,
        end: span.end,
    }
}

impl Lowering {
    fn key(&mut self, k: &KeyRef, ty: &Ty, span: Span) -> Option<ParamKey> {
        match k {
            KeyRef::Param { name, index: None } => Some(ParamKey::new(name.clone())),
            KeyRef::Param {
                name,
                index: Some(i),
            } => Some(ParamKey::element(name.clone(), *i)),
            KeyRef::Literal(hex) => {
                // A literal becomes a placeholder named after its bytes, bound to them at
                // instantiation (the artifact lists it under `abi.constants`).
                let name = format!("_{hex}");
                self.literals
                    .insert(name.clone(), (ty.to_string(), hex.clone()));
                let _ = span;
                Some(ParamKey::new(name))
            }
        }
    }

    fn atom(&mut self, atom: Atom, span: Span) {
        self.atoms.push(SourceAtom {
            atom,
            span: span_ref(span),
        });
    }

    fn timelock_param(
        &mut self,
        name: &str,
        index: Option<u32>,
        ty: &Ty,
        span: Span,
    ) -> Concrete<ParamKey> {
        let kind = match ty {
            Ty::Blocks => TimelockKind::Blocks,
            Ty::Duration => TimelockKind::Duration,
            Ty::Height => TimelockKind::Height,
            _ => TimelockKind::Time,
        };
        let full = match index {
            Some(i) => format!("{name}[{i}]"),
            None => name.to_string(),
        };
        match self.timelocks.param(&full, kind) {
            Ok(policy) => {
                match &policy {
                    Concrete::Older(l) => self.atom(Atom::Older(l.to_consensus_u32()), span),
                    Concrete::After(l) => self.atom(Atom::After(l.to_consensus_u32()), span),
                    _ => {}
                }
                policy
            }
            Err(e) => {
                self.diagnostics.push(Diagnostic::error(
                    "E0106",
                    format!("timelock parameter `{full}`: {e}"),
                    span,
                ));
                Concrete::Unsatisfiable
            }
        }
    }

    /// Recursion follows the condition's depth, bounded by `typeck::MAX_COND_DEPTH`.
    fn cond(&mut self, c: &Cond) -> Concrete<ParamKey> {
        match &c.kind {
            CondKind::True => Concrete::Trivial,
            CondKind::False => Concrete::Unsatisfiable,
            CondKind::Sig(k) => match self.key(k, &Ty::PubKey, c.span) {
                Some(pk) => {
                    self.atom(Atom::Key(pk.clone()), c.span);
                    Concrete::Key(pk)
                }
                None => Concrete::Unsatisfiable,
            },
            CondKind::Older(lock) => match lock {
                RelLock::Blocks(n) => self.older(RelLockTime::from_height(clamp16(*n)), c.span),
                RelLock::Time512(n) => {
                    self.older(RelLockTime::from_512_second_intervals(clamp16(*n)), c.span)
                }
                RelLock::Param { name, index, ty } => self.timelock_param(name, *index, ty, c.span),
            },
            CondKind::After(lock) => match lock {
                AbsLock::Height(n) | AbsLock::Time(n) => match AbsLockTime::from_consensus(*n) {
                    Ok(l) => {
                        self.atom(Atom::After(*n), c.span);
                        Concrete::After(l)
                    }
                    Err(e) => {
                        self.diagnostics.push(Diagnostic::error(
                            "E0041",
                            format!("invalid absolute timelock: {e}"),
                            c.span,
                        ));
                        Concrete::Unsatisfiable
                    }
                },
                AbsLock::Param { name, index, ty } => self.timelock_param(name, *index, ty, c.span),
            },
            CondKind::Hash { func, hash, .. } => {
                let ty = func.output();
                let Some(h) = self.key(hash, &ty, c.span) else {
                    return Concrete::Unsatisfiable;
                };
                let (atom, policy) = match func {
                    HashFn::Sha256 => (Atom::Sha256(h.clone()), Concrete::Sha256(h)),
                    HashFn::Hash256 => (Atom::Hash256(h.clone()), Concrete::Hash256(h)),
                    HashFn::Ripemd160 => (Atom::Ripemd160(h.clone()), Concrete::Ripemd160(h)),
                    HashFn::Hash160 => (Atom::Hash160(h.clone()), Concrete::Hash160(h)),
                };
                self.atom(atom, c.span);
                policy
            }
            CondKind::And(items) => match items.len() {
                0 => Concrete::Trivial,
                1 => self.cond(&items[0]),
                _ => Concrete::And(items.iter().map(|i| Arc::new(self.cond(i))).collect()),
            },
            CondKind::Or(items) => match items.len() {
                0 => Concrete::Unsatisfiable,
                1 => self.cond(&items[0]),
                _ => Concrete::Or(items.iter().map(|i| (1, Arc::new(self.cond(i)))).collect()),
            },
            CondKind::Thresh(k, items) => {
                let subs: Vec<Arc<Concrete<ParamKey>>> =
                    items.iter().map(|i| Arc::new(self.cond(i))).collect();
                match Threshold::new(*k as usize, subs) {
                    Ok(t) => Concrete::Thresh(t),
                    Err(e) => {
                        self.diagnostics.push(Diagnostic::error(
                            "E0042",
                            format!("invalid threshold: {e}"),
                            c.span,
                        ));
                        Concrete::Unsatisfiable
                    }
                }
            }
        }
    }

    fn older(&mut self, lock: RelLockTime, span: Span) -> Concrete<ParamKey> {
        self.atom(Atom::Older(lock.to_consensus_u32()), span);
        Concrete::Older(lock)
    }
}

fn clamp16(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}
