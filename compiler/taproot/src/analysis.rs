//! Safety analysis: typed findings with stable codes.
//!
//! In: a path's policy (before compilation), its compiled leaves (Miniscript in the Tap
//! context), and the contract as a whole. Out: [`Finding`]s, each with a [`Code`] whose
//! `explain` text lives in `compiler/src/diagnostic/explain/<CODE>.md`.
//!
//! Codes are stable: a code is never reused for another meaning. This crate owns
//! `E0100`–`E0199` and `W0100`–`W0199`.
//!
//! | code | severity | meaning |
//! |---|---|---|
//! | E0100 | error | a leaf is malleable (a third party can change its witness) |
//! | E0101 | error | a leaf exceeds tapscript resource limits |
//! | E0102 | error | a key appears twice in one leaf |
//! | E0103 | error | a path mixes block heights with times |
//! | E0104 | error | a path can never be satisfied |
//! | E0105 | error | nobody can spend the contract |
//! | E0106 | error | a path cannot be compiled to Miniscript |
//! | W0100 | warning | a path needs no signature |
//! | W0101 | warning | a duration was rounded up to BIP68's 512-second units |
//!
//! [`leaf_facts`] gives the raw properties Bitcoin Core's Miniscript tests check
//! (non-malleable, needs a signature, timelock mix), so the analysis can be held against
//! Core's table.

use miniscript::policy::{Concrete, Liftable, Semantic};
use miniscript::{Miniscript, MiniscriptKey, Tap};

pub use biscol_artifact::finding::{Code, Finding, Severity};

/// The properties of one Tap-context Miniscript that the analysis and Core's tests use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeafFacts {
    /// No third party can change a valid witness into another valid one (Core's
    /// `IsNonMalleable`).
    pub non_malleable: bool,
    /// Every satisfaction needs a signature (Core's `NeedsSignature`, type property `s`).
    pub needs_signature: bool,
    /// Some conjunction mixes heights with times (Core: type lacks property `k`).
    pub timelock_mix: bool,
    /// Within tapscript resource limits.
    pub within_limits: bool,
    /// A key appears more than once.
    pub repeated_keys: bool,
}

/// The facts of `ms`.
pub fn leaf_facts<Pk: MiniscriptKey>(ms: &Miniscript<Pk, Tap>) -> LeafFacts {
    LeafFacts {
        non_malleable: ms.is_non_malleable(),
        needs_signature: ms.requires_sig(),
        timelock_mix: ms.has_mixed_timelocks(),
        within_limits: ms.within_resource_limits(),
        repeated_keys: ms.has_repeated_keys(),
    }
}

/// Findings for one compiled leaf of `path`: everything that makes it not sane for Tap.
/// A missing signature is reported per path by [`check_policy`], not here.
pub fn check_leaf<Pk: MiniscriptKey>(path: &str, ms: &Miniscript<Pk, Tap>) -> Vec<Finding> {
    let facts = leaf_facts(ms);
    let leaf = ms.to_string();
    let mut out = Vec::new();
    if !facts.non_malleable {
        out.push(
            Finding::new(
                Code::E0100,
                Some(path),
                "this leaf is malleable: a third party can change its witness",
            )
            .with_leaf(leaf.clone()),
        );
    }
    if !facts.within_limits {
        out.push(
            Finding::new(
                Code::E0101,
                Some(path),
                "this leaf exceeds tapscript resource limits",
            )
            .with_leaf(leaf.clone()),
        );
    }
    if facts.repeated_keys {
        out.push(
            Finding::new(
                Code::E0102,
                Some(path),
                "a key appears more than once in this leaf",
            )
            .with_leaf(leaf.clone()),
        );
    }
    if facts.timelock_mix {
        out.push(
            Finding::new(
                Code::E0103,
                Some(path),
                "this leaf mixes a block-height lock with a time lock in one branch",
            )
            .with_leaf(leaf),
        );
    }
    out
}

/// Findings about a path's policy before it is compiled: unsatisfiable, needs no signature,
/// mixes heights with times.
pub fn check_policy<Pk: MiniscriptKey>(path: &str, policy: &Concrete<Pk>) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Err(miniscript::policy::concrete::PolicyError::HeightTimelockCombination) =
        policy.check_timelocks()
    {
        out.push(Finding::new(
            Code::E0103,
            Some(path),
            "this path requires a block-height lock and a time lock together, which no \
             transaction can satisfy",
        ));
        return out;
    }
    if is_unsatisfiable(policy) {
        out.push(Finding::new(
            Code::E0104,
            Some(path),
            "this path can never be satisfied",
        ));
        return out;
    }
    let (safe, _) = policy.is_safe_nonmalleable();
    if !safe {
        out.push(Finding::new(
            Code::W0100,
            Some(path),
            "this path can be taken without any signature: whoever learns the preimage or \
             sees the transaction can spend the coins first",
        ));
    }
    out
}

/// True when no witness can ever satisfy `policy`.
pub fn is_unsatisfiable<Pk: MiniscriptKey>(policy: &Concrete<Pk>) -> bool {
    match policy.lift() {
        Ok(semantic) => semantic.normalized() == Semantic::Unsatisfiable,
        Err(_) => false,
    }
}
