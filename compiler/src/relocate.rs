//! Moving the spans of a result by a fixed offset, so results computed for an item can be
//! reused after the text above it grew or shrank.
//!
//! In: a value (IR contract, diagnostic, Taproot compilation) and a [`Shift`]: a file and a
//! signed byte offset. Out: the same value with every span in that file moved by the offset;
//! spans in other files are left alone. [`Shift::base_of`] picks the offset that makes a
//! contract's IR position-independent (its smallest span start in the file becomes 0), so two
//! copies of an unchanged contract at different places of a file relocate to equal values.
//!
//! Invariant: relocating by `s` and then by `s.inverse()` gives back the original value, and
//! relocation keeps the order of spans in one file (every offset stays non-negative when the
//! shift comes from [`Shift::base_of`]).

use biscol_taproot::compile::Compiled;

use crate::diagnostic::Diagnostic;
use crate::ir::{Cond, CondKind, Contract, KeyPath};
use crate::span::{FileId, Span};

/// A move of every span in `file` by `delta` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shift {
    /// The file whose spans move.
    pub file: FileId,
    /// How far (negative: towards the start of the file).
    pub delta: i64,
}

impl Shift {
    /// The shift that moves `contract`'s first span in `file` to offset 0 (the identity when
    /// no span of the contract is in `file`).
    pub fn base_of(contract: &Contract, file: FileId) -> Shift {
        let mut min: Option<u32> = None;
        visit_contract(contract, &mut |s: Span| {
            if s.file == file {
                min = Some(min.map_or(s.start, |m| m.min(s.start)));
            }
        });
        Shift {
            file,
            delta: -i64::from(min.unwrap_or(0)),
        }
    }

    /// The shift that undoes this one.
    pub fn inverse(self) -> Shift {
        Shift {
            file: self.file,
            delta: -self.delta,
        }
    }

    /// `span` moved, if it is in the shifted file.
    pub fn span(self, span: Span) -> Span {
        if span.file != self.file {
            return span;
        }
        let moved = |offset: u32| {
            u32::try_from(i64::from(offset) + self.delta).expect("a relocated span stays in range")
        };
        Span {
            file: span.file,
            start: moved(span.start),
            end: moved(span.end),
        }
    }

    /// A contract's IR with its spans moved.
    pub fn contract(self, contract: &Contract) -> Contract {
        let mut out = contract.clone();
        out.span = self.span(out.span);
        match &mut out.key {
            KeyPath::Nums => {}
            KeyPath::Single(_, span) | KeyPath::MuSig(_, span) => *span = self.span(*span),
        }
        for path in &mut out.paths {
            path.span = self.span(path.span);
            for require in &mut path.requires {
                require.span = self.span(require.span);
                self.cond(&mut require.cond);
            }
            for prove in &mut path.proves {
                prove.span = self.span(prove.span);
            }
        }
        out
    }

    fn cond(self, cond: &mut Cond) {
        let mut stack = vec![cond];
        while let Some(c) = stack.pop() {
            c.span = self.span(c.span);
            match &mut c.kind {
                CondKind::And(items) | CondKind::Or(items) | CondKind::Thresh(_, items) => {
                    stack.extend(items.iter_mut())
                }
                CondKind::True
                | CondKind::False
                | CondKind::Sig(_)
                | CondKind::Older(_)
                | CondKind::After(_)
                | CondKind::Hash { .. } => {}
            }
        }
    }

    /// A diagnostic with its labels moved.
    pub fn diagnostic(self, diagnostic: &Diagnostic) -> Diagnostic {
        let mut out = diagnostic.clone();
        out.primary.span = self.span(out.primary.span);
        for label in &mut out.secondary {
            label.span = self.span(label.span);
        }
        out
    }

    /// A Taproot compilation with the spans of its source maps moved.
    pub fn compiled(self, compiled: &Compiled) -> Compiled {
        let mut out = compiled.clone();
        for leaf in &mut out.leaves {
            for entry in &mut leaf.source_map {
                if entry.span.file == self.file.0 {
                    let moved = self.span(Span {
                        file: self.file,
                        start: entry.span.start,
                        end: entry.span.end,
                    });
                    entry.span.start = moved.start;
                    entry.span.end = moved.end;
                }
            }
        }
        out
    }
}

/// Calls `f` on every span of `contract`.
fn visit_contract(contract: &Contract, f: &mut dyn FnMut(Span)) {
    f(contract.span);
    if let KeyPath::Single(_, span) | KeyPath::MuSig(_, span) = &contract.key {
        f(*span);
    }
    for path in &contract.paths {
        f(path.span);
        for require in &path.requires {
            f(require.span);
            let mut stack = vec![&require.cond];
            while let Some(c) = stack.pop() {
                f(c.span);
                if let CondKind::And(items) | CondKind::Or(items) | CondKind::Thresh(_, items) =
                    &c.kind
                {
                    stack.extend(items.iter());
                }
            }
        }
        for prove in &path.proves {
            f(prove.span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Require, SpendPath};

    fn contract_at(file: FileId, at: u32) -> Contract {
        let span = |s: u32, e: u32| Span {
            file,
            start: at + s,
            end: at + e,
        };
        Contract {
            name: "C".to_string(),
            params: Vec::new(),
            key: KeyPath::Nums,
            confidentials: Vec::new(),
            paths: vec![SpendPath {
                name: "p".to_string(),
                weight: 1,
                args: Vec::new(),
                requires: vec![Require {
                    cond: Cond {
                        kind: CondKind::And(vec![Cond {
                            kind: CondKind::True,
                            span: span(20, 24),
                        }]),
                        span: span(18, 30),
                    },
                    message: None,
                    span: span(10, 31),
                }],
                proves: Vec::new(),
                span: span(5, 40),
            }],
            span: span(0, 41),
        }
    }

    #[test]
    fn the_same_contract_at_two_places_relocates_to_one_value_and_back() {
        let file = FileId(3);
        let (a, b) = (contract_at(file, 100), contract_at(file, 7000));
        let (sa, sb) = (Shift::base_of(&a, file), Shift::base_of(&b, file));
        let relative = sa.contract(&a);
        assert_eq!(relative, sb.contract(&b));
        assert_eq!(relative.span.start, 0);
        assert_eq!(sb.inverse().contract(&relative), b);
        let other = Shift {
            file: FileId(4),
            delta: 50,
        };
        assert_eq!(other.contract(&a), a, "spans of other files stay");
    }
}
