//! The lexer adapter between logos and the lalrpop parser.
//!
//! In: a file's text. Out: the token stream the grammar reads (comments dropped) and the
//! lexical errors found on the way. Errors never stop lexing: an invalid character is
//! reported and skipped, an unterminated string becomes a string token that runs to the end
//! of its line, an unterminated block comment swallows the rest of the file. Adjacent invalid
//! characters are reported once, so a run of binary garbage is one diagnostic, not thousands.

use logos::Logos;

use super::token::{RawLexError, RawToken};
use crate::span::{FileId, Span};

/// A token with its byte range, as the generated parser wants it.
pub type SpannedToken = (usize, RawToken, usize);

/// What the lexer found wrong, and where.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LexError {
    /// The kind of problem.
    pub kind: LexErrorKind,
    /// Where it is.
    pub span: Span,
}

/// Lexical error kinds, refined from logos' with what the adapter knows about the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LexErrorKind {
    /// Characters that start no token (a run of them is one error).
    InvalidCharacters,
    /// One or more NUL bytes.
    NulByte,
    /// Bytes that were not valid UTF-8 (shown as U+FFFD).
    InvalidUtf8,
    /// A string with no closing quote on its line.
    UnterminatedString,
    /// A block comment with no closing `*/`.
    UnterminatedBlockComment,
    /// An unknown escape in a string.
    InvalidEscape,
}

/// Lexes `text` (the contents of `file`) into tokens and errors.
pub fn lex(file: FileId, text: &str) -> (Vec<SpannedToken>, Vec<LexError>) {
    let mut tokens = Vec::new();
    let mut errors: Vec<LexError> = Vec::new();
    let mut lexer = RawToken::lexer(text);
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        if matches!(
            result,
            Ok(RawToken::LineComment
                | RawToken::BlockComment
                | RawToken::DocComment
                | RawToken::Str)
                | Err(RawLexError::UnterminatedString | RawLexError::UnterminatedBlockComment)
        ) {
            check_invalid_utf8(file, text, range.clone(), &mut errors);
        }
        match result {
            Ok(RawToken::LineComment | RawToken::BlockComment) => {}
            Ok(RawToken::Str) => {
                check_escapes(file, text, range.clone(), &mut errors);
                tokens.push((range.start, RawToken::Str, range.end));
            }
            Ok(token) => tokens.push((range.start, token, range.end)),
            Err(RawLexError::UnterminatedString) => {
                errors.push(LexError {
                    kind: LexErrorKind::UnterminatedString,
                    span: Span::new(file, range.start, range.end),
                });
                check_escapes(file, text, range.clone(), &mut errors);
                tokens.push((range.start, RawToken::Str, range.end));
            }
            Err(RawLexError::UnterminatedBlockComment) => errors.push(LexError {
                kind: LexErrorKind::UnterminatedBlockComment,
                span: Span::new(file, range.start, (range.start + 2).min(text.len())),
            }),
            Err(RawLexError::InvalidEscape) => errors.push(LexError {
                kind: LexErrorKind::InvalidEscape,
                span: Span::new(file, range.start, range.end),
            }),
            Err(RawLexError::InvalidCharacter) => {
                let kind = classify_invalid(&text[range.clone()]);
                // Merge with the previous error when it is the same kind and touches this one.
                if let Some(last) = errors.last_mut() {
                    if last.kind == kind && last.span.end as usize == range.start {
                        last.span.end = range.end as u32;
                        continue;
                    }
                }
                errors.push(LexError {
                    kind,
                    span: Span::new(file, range.start, range.end),
                });
            }
        }
    }
    (tokens, errors)
}

fn classify_invalid(text: &str) -> LexErrorKind {
    if text.chars().all(|c| c == '\0') {
        LexErrorKind::NulByte
    } else if text.chars().all(|c| c == char::REPLACEMENT_CHARACTER) {
        LexErrorKind::InvalidUtf8
    } else {
        LexErrorKind::InvalidCharacters
    }
}

/// Reports the bytes that were not valid UTF-8 (read as U+FFFD) inside a comment or a
/// string, which would otherwise hide them: one error per run.
fn check_invalid_utf8(
    file: FileId,
    text: &str,
    range: std::ops::Range<usize>,
    errors: &mut Vec<LexError>,
) {
    let mut run: Option<(usize, usize)> = None;
    for (offset, c) in text[range.clone()].char_indices() {
        let at = range.start + offset;
        if c != char::REPLACEMENT_CHARACTER {
            continue;
        }
        let end = at + c.len_utf8();
        match &mut run {
            Some((_, run_end)) if *run_end == at => *run_end = end,
            _ => {
                if let Some((start, run_end)) = run.take() {
                    errors.push(LexError {
                        kind: LexErrorKind::InvalidUtf8,
                        span: Span::new(file, start, run_end),
                    });
                }
                run = Some((at, end));
            }
        }
    }
    if let Some((start, run_end)) = run {
        errors.push(LexError {
            kind: LexErrorKind::InvalidUtf8,
            span: Span::new(file, start, run_end),
        });
    }
}

fn check_escapes(
    file: FileId,
    text: &str,
    range: std::ops::Range<usize>,
    errors: &mut Vec<LexError>,
) {
    let bytes = &text.as_bytes()[range.clone()];
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            match bytes.get(i + 1) {
                Some(b'\\' | b'"' | b'n' | b't') => {}
                _ => {
                    let start = range.start + i;
                    let mut end = (start + 2).min(range.end);
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    errors.push(LexError {
                        kind: LexErrorKind::InvalidEscape,
                        span: Span::new(file, start, end),
                    });
                }
            }
            i += 2;
        } else {
            i += 1;
        }
    }
}

/// The value of a string literal's source text (quotes included, the closing one optional).
/// Unknown escapes are kept as written; the lexer has reported them.
pub fn unescape(raw: &str) -> String {
    let inner = raw.strip_prefix('"').unwrap_or(raw);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<LexErrorKind> {
        lex(FileId(0), text).1.into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn garbage_is_one_error_per_run() {
        assert_eq!(kinds("a $$$$ b"), vec![LexErrorKind::InvalidCharacters]);
        assert_eq!(kinds("a \0\0 b"), vec![LexErrorKind::NulByte]);
    }

    #[test]
    fn invalid_utf8_in_comments_and_strings_is_reported() {
        assert_eq!(
            kinds("// caf\u{FFFD}\u{FFFD} x \u{FFFD}\nkey"),
            vec![LexErrorKind::InvalidUtf8; 2]
        );
        assert_eq!(kinds("/// \u{FFFD}\nkey"), vec![LexErrorKind::InvalidUtf8]);
        assert_eq!(kinds("\"a\u{FFFD}\""), vec![LexErrorKind::InvalidUtf8]);
    }

    #[test]
    fn unterminated_forms_are_reported_and_lexing_goes_on() {
        let (tokens, errors) = lex(FileId(0), "\"abc\nkey");
        assert_eq!(errors[0].kind, LexErrorKind::UnterminatedString);
        assert_eq!(tokens.last().map(|t| t.1), Some(RawToken::Key));
        assert_eq!(
            kinds("key /* /* */"),
            vec![LexErrorKind::UnterminatedBlockComment]
        );
    }

    #[test]
    fn comments_are_dropped_and_doc_comments_kept() {
        let (tokens, errors) = lex(FileId(0), "// x\n/// doc\n/* a /* b */ c */ key");
        assert!(errors.is_empty());
        let kinds: Vec<_> = tokens.iter().map(|t| t.1).collect();
        assert_eq!(kinds, vec![RawToken::DocComment, RawToken::Key]);
    }

    #[test]
    fn unescape_handles_known_escapes() {
        assert_eq!(unescape(r#""a\"b\\c\n""#), "a\"b\\c\n");
        assert_eq!(unescape(r#""open"#), "open");
    }
}
