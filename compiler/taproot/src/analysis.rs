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

use std::fmt;

use miniscript::policy::{Concrete, Liftable, Semantic};
use miniscript::{Miniscript, MiniscriptKey, Tap};
use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The contract is rejected.
    Error,
    /// The contract compiles, but the user should look.
    Warning,
}

/// A stable finding code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Code {
    /// A leaf is malleable: a third party could change its witness.
    E0100,
    /// A leaf exceeds tapscript resource limits (stack size, script or witness size).
    E0101,
    /// The same key appears twice in one leaf.
    E0102,
    /// A path mixes block heights with times.
    E0103,
    /// A path can never be satisfied.
    E0104,
    /// Nobody can spend the contract: no key path and no satisfiable spend path.
    E0105,
    /// A path cannot be compiled to Miniscript.
    E0106,
    /// A path needs no signature.
    W0100,
    /// A duration was rounded up to BIP68's 512-second units.
    W0101,
}

impl Code {
    /// The code as text (`"E0100"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E0100 => "E0100",
            Code::E0101 => "E0101",
            Code::E0102 => "E0102",
            Code::E0103 => "E0103",
            Code::E0104 => "E0104",
            Code::E0105 => "E0105",
            Code::E0106 => "E0106",
            Code::W0100 => "W0100",
            Code::W0101 => "W0101",
        }
    }

    /// Its severity.
    pub fn severity(self) -> Severity {
        match self {
            Code::W0100 | Code::W0101 => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// A short title, the same as the first line of its explain file.
    pub fn title(self) -> &'static str {
        match self {
            Code::E0100 => "malleable spend path",
            Code::E0101 => "spend path exceeds tapscript resource limits",
            Code::E0102 => "duplicate key in one leaf",
            Code::E0103 => "heights mixed with times in one path",
            Code::E0104 => "unsatisfiable spend path",
            Code::E0105 => "nobody can spend this contract",
            Code::E0106 => "spend path cannot be compiled to Miniscript",
            Code::W0100 => "spend path needs no signature",
            Code::W0101 => "duration rounded up to 512-second units",
        }
    }

    /// Every code, in order.
    pub const ALL: [Code; 9] = [
        Code::E0100,
        Code::E0101,
        Code::E0102,
        Code::E0103,
        Code::E0104,
        Code::E0105,
        Code::E0106,
        Code::W0100,
        Code::W0101,
    ];
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding of the analysis.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Finding {
    /// Its code.
    pub code: Code,
    /// Its severity (always `code.severity()`).
    pub severity: Severity,
    /// The spend path it is about, if any; `None` for the contract or an argument.
    pub path: Option<String>,
    /// The leaf template it is about, if any.
    pub leaf: Option<String>,
    /// A one-sentence message.
    pub message: String,
}

impl Finding {
    /// A finding with `code` about `path`.
    pub fn new(code: Code, path: Option<&str>, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity: code.severity(),
            path: path.map(str::to_string),
            leaf: None,
            message: message.into(),
        }
    }

    /// The same finding, about one leaf.
    pub fn with_leaf(mut self, leaf: impl Into<String>) -> Self {
        self.leaf = Some(leaf.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]: {}", self.code, self.message)?;
        if let Some(p) = &self.path {
            write!(f, " (path `{p}`)")?;
        }
        Ok(())
    }
}

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
