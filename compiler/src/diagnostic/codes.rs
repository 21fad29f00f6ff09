//! The registry of diagnostic codes.
//!
//! Every code a diagnostic can carry is listed here with a short title; its long explanation
//! (with a wrong and a right example) is the Markdown file `explain/<CODE>.md` beside this
//! module, embedded at build time. Codes are stable: once published, a code keeps its meaning;
//! a retired code stays listed. Ranges: `E00xx`/`W00xx` front end, `E01xx`/`W01xx` Taproot
//! back end.

/// A registered code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code, e.g. `E0020`.
    pub code: &'static str,
    /// A few words on what it means.
    pub title: &'static str,
}

macro_rules! codes {
    ($($code:literal => $title:literal,)*) => {
        /// Every registered code, in order.
        pub const CODES: &[CodeInfo] = &[$(CodeInfo { code: $code, title: $title },)*];
    };
}

codes! {
    // Syntax.
    "E0001" => "invalid character in source",
    "E0002" => "unterminated string literal",
    "E0003" => "unterminated block comment",
    "E0004" => "source is not valid UTF-8",
    "E0005" => "unexpected token",
    "E0006" => "unexpected end of file",
    "E0007" => "missing token",
    "E0008" => "expression nests too deeply",
    "E0009" => "invalid escape in string literal",
    "E0010" => "too many syntax errors",
    // Names.
    "E0020" => "unknown name",
    "E0021" => "unknown type",
    "E0022" => "name defined more than once",
    "E0023" => "unresolved `use`",
    "E0024" => "definition refers to itself",
    "E0025" => "unknown attribute",
    "E0026" => "unknown function",
    // Types.
    "E0030" => "mismatched types",
    "E0031" => "values of different types compared",
    "E0032" => "wrong number of arguments",
    "E0033" => "hashed value is not a spend argument",
    "E0034" => "unknown unit",
    "E0035" => "invalid literal",
    "E0036" => "integer too large",
    "E0037" => "value is not known at compile time",
    "E0038" => "index out of bounds",
    "E0039" => "operator not supported for this type",
    // Ranges.
    "E0040" => "relative timelock out of range",
    "E0041" => "absolute timelock out of range",
    "E0042" => "threshold out of range",
    "E0043" => "invalid weight",
    // Contract structure.
    "E0050" => "more than one `key`",
    "E0051" => "contract has no spend path",
    "E0052" => "invalid key expression",
    "E0053" => "`musig` outside a `key` declaration",
    "E0054" => "`prove` in a path that nobody signs",
    "E0055" => "invalid confidential declaration",
    "E0056" => "confidential value used outside `prove`",
    // Taproot back end (`biscol-taproot`'s analysis).
    "E0100" => "malleable spend path",
    "E0101" => "spend path exceeds tapscript resource limits",
    "E0102" => "duplicate key in one leaf",
    "E0103" => "heights mixed with times in one path",
    "E0104" => "unsatisfiable spend path",
    "E0105" => "nobody can spend this contract",
    "E0106" => "spend path cannot be compiled to Miniscript",
    "E0107" => "`prove` is not supported yet",
    // Warnings.
    "W0001" => "duration rounded up to 512-second units",
    "W0002" => "unused contract parameter",
    "W0003" => "unused spend argument",
    "W0004" => "spend path without `require`",
    "W0100" => "spend path needs no signature",
    "W0101" => "duration rounded up to 512-second units (back end)",
}

include!(concat!(env!("OUT_DIR"), "/explanations.rs"));

/// The registered code `code`, if any (case-insensitive).
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

/// The long explanation of `code`, if it has one.
pub fn explain(code: &str) -> Option<&'static str> {
    EXPLANATIONS
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_explained_with_a_wrong_and_a_right_example() {
        for info in CODES {
            let text =
                explain(info.code).unwrap_or_else(|| panic!("{} has no explain file", info.code));
            assert!(
                text.starts_with(&format!("# {}", info.code)),
                "{}: title line",
                info.code
            );
            assert!(text.contains("## Wrong"), "{}: no wrong example", info.code);
            assert!(text.contains("## Right"), "{}: no right example", info.code);
        }
        for (code, _) in EXPLANATIONS {
            assert!(
                lookup(code).is_some(),
                "{code}.md explains an unregistered code"
            );
        }
    }
}
