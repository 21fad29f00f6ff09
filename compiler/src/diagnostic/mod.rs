//! Diagnostics: the one type every phase reports problems in, and its renderers.
//!
//! Each phase has its own error kind (`SyntaxError`, `ResolveError`, `TypeError`, ...) and
//! writes all its messages in one place: a `to_diagnostic` function next to that kind. They all
//! become a [`Diagnostic`]: severity, a stable code (`E0001`, `W0001`; see [`codes`] and
//! `biscol explain`), a message, a primary label, secondary labels, notes and help. The CLI
//! renders them with codespan-reporting ([`render`]) or as JSON; the language server converts
//! the same struct.

pub mod codes;
pub mod render;

use serde::Serialize;

use crate::span::Span;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A bug in the compiler itself.
    Bug,
    /// The program is wrong; nothing is produced.
    Error,
    /// Probably a mistake; output is still produced.
    Warning,
}

impl Severity {
    /// The word used in output (`error`, `warning`, `bug`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Bug => "bug",
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with a message under it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Label {
    /// What the label points at.
    pub span: Span,
    /// The text shown beside it (may be empty).
    pub message: String,
}

impl Label {
    /// A label at `span` saying `message`.
    pub fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// A problem found in the source.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// How serious.
    pub severity: Severity,
    /// The stable code, e.g. `E0020`.
    pub code: &'static str,
    /// One sentence saying what is wrong.
    pub message: String,
    /// The place to look first.
    pub primary: Label,
    /// Other places that explain it.
    pub secondary: Vec<Label>,
    /// Extra facts.
    pub notes: Vec<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with `code` and `message`, its primary label at `span`.
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message, span)
    }

    /// A warning with `code` and `message`, its primary label at `span`.
    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message, span)
    }

    fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
    ) -> Diagnostic {
        debug_assert!(codes::lookup(code).is_some(), "unregistered code {code}");
        Diagnostic {
            severity,
            code,
            message: message.into(),
            primary: Label::new(span, ""),
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Sets the primary label's text.
    pub fn with_label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label::new(span, message));
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Whether this diagnostic stops compilation.
    pub fn is_error(&self) -> bool {
        matches!(self.severity, Severity::Error | Severity::Bug)
    }
}

/// Sorts diagnostics by position, then code, so output order never depends on the order
/// phases ran in.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (
            a.primary.span.file,
            a.primary.span.start,
            a.code,
            &a.message,
        )
            .cmp(&(
                b.primary.span.file,
                b.primary.span.start,
                b.code,
                &b.message,
            ))
    });
}
