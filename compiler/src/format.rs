//! The formatter: `.bsc` text in, formatted `.bsc` text out.
//!
//! Pure and total: [`format`] never fails. It works on the token stream of
//! [`crate::syntax::token::RawToken`] *with* comments (the parser's lexer drops them), so every
//! comment and doc comment is kept, and it only ever changes whitespace. A file that does not
//! lex or parse cleanly is returned unchanged: the formatter never guesses at broken code.
//!
//! Rules:
//! - four spaces per level of nesting; the bodies of contracts and spend paths get one
//!   statement per line, `fn` bodies (`{ expr }`) stay as written;
//! - the user's line breaks are kept, but runs of blank lines become one, and blank lines
//!   right after `{` or before `}` are dropped;
//! - a line that continues an unfinished statement or list element is indented one more level;
//! - spaces around binary operators, `=`, `->` and `{`, after `,` and `:`, none inside
//!   brackets, before `,`, `;`, `:`, around `::`, between a name and `(` or `[`, nor in
//!   `Type<Arg>`;
//! - a comment after code on the same line keeps the whitespace before it (so aligned
//!   trailing comments stay aligned); trailing whitespace is removed; one final newline.
//!
//! Guarantees, checked in `compiler/tests/format.rs` on every fixture: idempotence
//! (`format(format(x)) == format(x)`) and meaning (the formatted file parses to the same AST,
//! spans aside). As a last line of defence, [`format`] compares the token streams of its
//! input and output and returns the input unchanged if they differ.
//!
//! ```
//! let src = "contract C(k:PubKey){spend s(){require sig( k );}}";
//! assert_eq!(
//!     biscol_compiler::format::format(src),
//!     "contract C(k: PubKey) {\n    spend s() {\n        require sig(k);\n    }\n}\n"
//! );
//! ```

use logos::Logos;

use crate::span::FileId;
use crate::syntax::parser;
use crate::syntax::token::RawToken as T;

/// One space per indentation level is this many spaces.
const INDENT: &str = "    ";

/// A token with its text and the whitespace before it.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    kind: T,
    text: &'a str,
    /// Newlines in the whitespace before this token.
    newlines: usize,
    /// The whitespace before it, as written.
    gap: &'a str,
}

/// What an open bracket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FrameKind {
    /// The file itself, or the `{ }` body of a contract or spend path: one statement per line.
    Block,
    /// The `{ expr }` body of a `fn`.
    ExprBrace,
    /// `( )` of an attribute.
    AttrParen,
    /// Any other `( )`.
    Paren,
    /// `[ ]`.
    Bracket,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    kind: FrameKind,
    /// Indentation of the line the bracket was opened on.
    base: usize,
    /// Indentation of lines inside it.
    inner: usize,
    /// Whether a statement or list element has begun and not ended.
    mid: bool,
    /// Whether we are inside a type (`<`, `>` take no spaces).
    in_type: bool,
}

/// Formats `text`. Returns it unchanged if it has lexical or syntax errors.
pub fn format(text: &str) -> String {
    let Some(tokens) = tokenize(text) else {
        return text.to_string();
    };
    let (_, errors) = parser::parse(FileId(0), text);
    if !errors.is_empty() {
        return text.to_string();
    }
    let out = layout(&tokens);
    // Last line of defence: only whitespace may change.
    match tokenize(&out) {
        Some(again) if same_tokens(&tokens, &again) => out,
        _ => text.to_string(),
    }
}

/// Whether `text` is already formatted.
pub fn is_formatted(text: &str) -> bool {
    format(text) == text
}

fn tokenize(text: &str) -> Option<Vec<Tok<'_>>> {
    let mut lexer = T::lexer(text);
    let mut out = Vec::new();
    let mut last_end = 0;
    while let Some(result) = lexer.next() {
        let kind = result.ok()?;
        let range = lexer.span();
        let gap = &text[last_end..range.start];
        out.push(Tok {
            kind,
            text: &text[range.clone()],
            newlines: gap.matches('\n').count(),
            gap,
        });
        last_end = range.end;
    }
    Some(out)
}

fn same_tokens(a: &[Tok<'_>], b: &[Tok<'_>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.kind == y.kind
                && match x.kind {
                    T::LineComment | T::DocComment => x.text.trim_end() == y.text.trim_end(),
                    T::BlockComment => x
                        .text
                        .lines()
                        .map(str::trim_end)
                        .eq(y.text.lines().map(str::trim_end)),
                    _ => x.text == y.text,
                }
        })
}

fn is_comment(kind: T) -> bool {
    matches!(kind, T::LineComment | T::BlockComment | T::DocComment)
}

fn is_closer(kind: T) -> bool {
    matches!(kind, T::RParen | T::RBracket | T::RBrace)
}

/// Whether a space goes between `prev` and `next` on one line.
fn space_between(prev: T, next: T, in_type: bool) -> bool {
    if in_type && (matches!(next, T::Lt | T::Gt) || prev == T::Lt) {
        return false;
    }
    if is_comment(next) {
        return true;
    }
    !matches!(
        (prev, next),
        (T::LParen | T::LBracket | T::At | T::ColonColon, _)
            | (
                _,
                T::RParen | T::RBracket | T::Comma | T::Semi | T::Colon | T::ColonColon
            )
            | (T::LBrace, T::RBrace)
            | (T::Ident, T::LParen | T::LBracket)
            | (T::RParen | T::RBracket, T::LBracket)
    )
}

/// Lays the tokens out.
fn layout(tokens: &[Tok<'_>]) -> String {
    let mut out = String::new();
    let mut stack = vec![Frame {
        kind: FrameKind::Block,
        base: 0,
        inner: 0,
        mid: false,
        in_type: false,
    }];
    // The indentation of the line being written.
    let mut line_indent = 0usize;
    // A line break the rules require before the next token.
    let mut force_break = false;
    let mut prev: Option<Tok<'_>> = None;
    // The last two non-comment tokens, to recognise `@name(` and `fn ... {`.
    let mut last_code: [Option<T>; 2] = [None, None];
    // Whether the current item or member started with `fn` (its `{` is an expression brace).
    let mut saw_fn = false;

    for (i, tok) in tokens.iter().enumerate() {
        let top = *stack.last().unwrap_or(&Frame {
            kind: FrameKind::Block,
            base: 0,
            inner: 0,
            mid: false,
            in_type: false,
        });
        let at_start = prev.is_none();
        let same_line_comment = is_comment(tok.kind) && tok.newlines == 0 && !at_start;
        let want_break = !at_start && (tok.newlines > 0 || (force_break && !same_line_comment));
        if want_break {
            let mut breaks = tok.newlines.clamp(1, 2);
            // No blank line right after `{` or before `}`.
            if prev.map(|p| p.kind) == Some(T::LBrace) || tok.kind == T::RBrace {
                breaks = 1;
            }
            for _ in 0..breaks {
                out.push('\n');
            }
            line_indent = if is_closer(tok.kind) {
                top.base
            } else if top.mid && tok.kind != T::LBrace {
                top.inner + 1
            } else {
                top.inner
            };
            for _ in 0..line_indent {
                out.push_str(INDENT);
            }
            force_break = false;
        } else if let Some(p) = prev {
            if same_line_comment {
                // Keep the user's spacing before a trailing comment (at least one space).
                let gap = tok.gap.trim_end_matches(['\n', '\r']);
                if gap.is_empty() {
                    out.push(' ');
                } else {
                    out.push_str(gap);
                }
            } else if space_between(p.kind, tok.kind, top.in_type) {
                out.push(' ');
            }
        }
        match tok.kind {
            T::LineComment | T::DocComment => out.push_str(tok.text.trim_end()),
            _ => out.push_str(tok.text),
        }

        // Update the structure.
        let next_kind = tokens.get(i + 1).map(|t| t.kind);
        match tok.kind {
            T::LParen | T::LBracket | T::LBrace => {
                let kind = match tok.kind {
                    T::LParen if last_code == [Some(T::At), Some(T::Ident)] => FrameKind::AttrParen,
                    T::LParen => FrameKind::Paren,
                    T::LBracket => FrameKind::Bracket,
                    _ if saw_fn => FrameKind::ExprBrace,
                    _ => FrameKind::Block,
                };
                if let Some(f) = stack.last_mut() {
                    f.mid = true;
                }
                let in_type = tok.kind == T::LBracket && top.in_type;
                stack.push(Frame {
                    kind,
                    base: line_indent,
                    inner: line_indent + 1,
                    mid: false,
                    in_type,
                });
                if kind == FrameKind::Block && next_kind != Some(T::RBrace) {
                    force_break = true;
                }
                if kind == FrameKind::ExprBrace {
                    saw_fn = false;
                }
            }
            T::RParen | T::RBracket | T::RBrace => {
                let closed = if stack.len() > 1 { stack.pop() } else { None };
                if let Some(parent) = stack.last_mut() {
                    match closed.map(|f| f.kind) {
                        Some(FrameKind::Block | FrameKind::ExprBrace | FrameKind::AttrParen) => {
                            parent.mid = false;
                            if closed.map(|f| f.kind) != Some(FrameKind::AttrParen) {
                                parent.in_type = false;
                                if parent.kind == FrameKind::Block {
                                    force_break = true;
                                }
                            }
                        }
                        _ => parent.mid = true,
                    }
                }
            }
            T::LineComment | T::BlockComment | T::DocComment => {}
            _ => {
                if let Some(f) = stack.last_mut() {
                    match tok.kind {
                        T::Semi => {
                            if f.kind == FrameKind::Block {
                                f.mid = false;
                                f.in_type = false;
                                force_break = true;
                            } else {
                                f.mid = true;
                            }
                        }
                        T::Comma => {
                            f.mid = false;
                            f.in_type = false;
                        }
                        T::Colon | T::Arrow => {
                            f.mid = true;
                            f.in_type = true;
                        }
                        T::Eq => {
                            f.mid = true;
                            f.in_type = false;
                        }
                        T::Fn => {
                            f.mid = true;
                            saw_fn = true;
                        }
                        T::Contract | T::Spend | T::Const | T::Use | T::Key => {
                            f.mid = true;
                            saw_fn = false;
                        }
                        _ => f.mid = true,
                    }
                }
            }
        }
        if !is_comment(tok.kind) {
            last_code = [last_code[1], Some(tok.kind)];
            // `@name` with no arguments ends the attribute.
            if tok.kind == T::Ident && last_code[0] == Some(T::At) && next_kind != Some(T::LParen) {
                if let Some(f) = stack.last_mut() {
                    f.mid = false;
                }
            }
        }
        if same_line_comment && matches!(tok.kind, T::LineComment | T::DocComment) {
            // A line comment always ends its line.
            force_break = true;
        }
        prev = Some(*tok);
    }
    // Drop trailing whitespace on every line, end with one newline.
    let mut result: String = out
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    let trimmed_len = result.trim_end().len();
    result.truncate(trimmed_len);
    if !result.is_empty() {
        result.push('\n');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn formats_a_compact_contract() {
        let src = "const D:Blocks=2*144 blocks;\nfn f(k:PubKey)->Cond{sig(k)&&older(D)}\ncontract C(k:PubKey,ks:[PubKey;2],v:Commitment<u64>){key musig(ks);@weight(3) spend s(){require f(k)||threshold(1,ks),\"m\";}}";
        let out = format(src);
        assert_eq!(
            out,
            "const D: Blocks = 2 * 144 blocks;\nfn f(k: PubKey) -> Cond { sig(k) && older(D) }\ncontract C(k: PubKey, ks: [PubKey; 2], v: Commitment<u64>) {\n    key musig(ks);\n    @weight(3) spend s() {\n        require f(k) || threshold(1, ks), \"m\";\n    }\n}\n"
        );
        assert_eq!(format(&out), out);
    }

    #[test]
    fn keeps_comments_and_broken_files() {
        let src = "// a\ncontract C(\n/// doc\nk: PubKey,\n) { /* b */\n  spend s() { require sig(k); } // c\n}\n";
        let out = format(src);
        assert_eq!(
            out,
            "// a\ncontract C(\n    /// doc\n    k: PubKey,\n) { /* b */\n    spend s() {\n        require sig(k);\n    } // c\n}\n"
        );
        assert_eq!(format(&out), out);
        let broken = "contract C( {";
        assert_eq!(format(broken), broken);
    }

    #[test]
    fn continuation_lines_are_indented() {
        let src =
            "contract C(a: PubKey, b: PubKey) {\n@weight(2)\nspend s() {\nrequire sig(a)\n|| sig(b);\n}\n}\n";
        let out = format(src);
        assert_eq!(
            out,
            "contract C(a: PubKey, b: PubKey) {\n    @weight(2)\n    spend s() {\n        require sig(a)\n            || sig(b);\n    }\n}\n"
        );
    }
}
