//! Tokens, and the logos lexer that finds them.
//!
//! In: source text. Out: [`RawToken`]s with byte ranges, or a [`RawLexError`] for a byte
//! range that is not a token. Whitespace and comments are skipped here; `///` doc comments
//! are tokens, because the grammar attaches them to items. The lexer never panics: every
//! input, however broken, becomes tokens and errors (see [`super::lexer`] for recovery).

use logos::{Lexer, Logos};

/// What is wrong with a piece of text that is not a token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RawLexError {
    /// A character that starts no token.
    #[default]
    InvalidCharacter,
    /// A `"` with no closing `"` before the end of the line.
    UnterminatedString,
    /// A `/*` with no matching `*/`.
    UnterminatedBlockComment,
    /// A string escape other than `\\`, `\"`, `\n`, `\t`.
    InvalidEscape,
}

/// A token as logos finds it. Text is kept as a range into the source, not copied.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[logos(error = RawLexError)]
#[logos(skip r"[ \t\r\n\f\u{feff}]+")]
pub enum RawToken {
    /// `///` doc comment.
    #[regex(r"///[^\n]*", allow_greedy = true)]
    DocComment,
    /// `//` line comment (skipped by the adapter).
    #[regex(r"//[^\n]*", allow_greedy = true, priority = 1)]
    LineComment,
    /// `/* ... */` block comment, nested (skipped by the adapter).
    #[token("/*", block_comment)]
    BlockComment,

    /// `contract`
    #[token("contract")]
    Contract,
    /// `spend`
    #[token("spend")]
    Spend,
    /// `require`
    #[token("require")]
    Require,
    /// `key`
    #[token("key")]
    Key,
    /// `const`
    #[token("const")]
    Const,
    /// `fn`
    #[token("fn")]
    Fn,
    /// `use`
    #[token("use")]
    Use,
    /// `confidential`
    #[token("confidential")]
    Confidential,
    /// `prove`
    #[token("prove")]
    Prove,
    /// `true`
    #[token("true")]
    True,
    /// `false`
    #[token("false")]
    False,

    /// An identifier.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    /// A decimal integer, `_` allowed between digits.
    #[regex(r"[0-9][0-9_]*")]
    Int,
    /// A hex byte string, `0x...`.
    #[regex(r"0[xX][0-9A-Za-z_]*")]
    Hex,
    /// A string literal.
    #[token("\"", string_literal)]
    Str,

    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `,`
    #[token(",")]
    Comma,
    /// `;`
    #[token(";")]
    Semi,
    /// `:`
    #[token(":")]
    Colon,
    /// `::`
    #[token("::")]
    ColonColon,
    /// `->`
    #[token("->")]
    Arrow,
    /// `=`
    #[token("=")]
    Eq,
    /// `==`
    #[token("==")]
    EqEq,
    /// `!=`
    #[token("!=")]
    NotEq,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    Le,
    /// `>`
    #[token(">")]
    Gt,
    /// `>=`
    #[token(">=")]
    Ge,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `&&`
    #[token("&&")]
    AndAnd,
    /// `||`
    #[token("||")]
    OrOr,
    /// `@`
    #[token("@")]
    At,
    /// `!`
    #[token("!")]
    Bang,
}

/// Skips a block comment, allowing nesting; an unterminated one is an error that covers the
/// rest of the file.
fn block_comment(lex: &mut Lexer<'_, RawToken>) -> Result<(), RawLexError> {
    let rest = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == b'/' && rest.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if rest[i] == b'*' && rest.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                lex.bump(i);
                return Ok(());
            }
        } else {
            i += 1;
        }
    }
    lex.bump(rest.len());
    Err(RawLexError::UnterminatedBlockComment)
}

/// Finds the end of a string literal. Strings do not span lines: a newline before the
/// closing quote ends an unterminated string there, so the next line still lexes.
fn string_literal(lex: &mut Lexer<'_, RawToken>) -> Result<(), RawLexError> {
    let rest = lex.remainder().as_bytes();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'"' => {
                lex.bump(i + 1);
                return Ok(());
            }
            b'\\' if i + 1 < rest.len() && rest[i + 1] != b'\n' => i += 2,
            b'\n' => break,
            _ => i += 1,
        }
    }
    // Step back to a char boundary in case an escape's second byte started a multi-byte char.
    let text = lex.remainder();
    let mut end = i.min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    lex.bump(end);
    Err(RawLexError::UnterminatedString)
}
