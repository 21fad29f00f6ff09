//! Findings: the typed messages of the Taproot back end's safety analysis, with stable codes.
//!
//! In: nothing; the analysis (in `biscol-taproot`) and instantiation make them. Out:
//! [`Finding`]s, each with a [`Code`] and its [`Severity`]; the codes' `explain` texts live in
//! `compiler/src/diagnostic/explain/<CODE>.md`.
//!
//! Codes are stable: a code is never reused for another meaning. The Taproot back end owns
//! `E0100`–`E0199` and `W0100`–`W0199`; the table is in `biscol_taproot::analysis`.

use std::fmt;

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
#[serde(deny_unknown_fields)]
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
