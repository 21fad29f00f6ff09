//! Rendering diagnostics: for people with codespan-reporting, for programs as JSON.
//!
//! In: diagnostics and the texts of the files they point into ([`SourceFiles`]). Out: text
//! written to a `WriteColor` (colour is the caller's choice), or JSON values with 1-based
//! lines and columns. Columns count Unicode scalar values, not bytes.
//!
//! Invariant: what is written for one diagnostic stays a few kilobytes whatever the input:
//! each message, label and note is cut at [`MAX_TEXT`] characters (saying how much was cut),
//! and a diagnostic that points into a line longer than [`MAX_SHOWN_LINE`] characters is shown
//! without its source snippet, its labels as positions.

use std::collections::BTreeMap;
use std::ops::Range;

use codespan_reporting::diagnostic::{self as cs, LabelStyle};
use codespan_reporting::files::{self, Files};
use codespan_reporting::term::{self, termcolor::WriteColor};

/// A colourless writer, for rendering into memory.
pub use codespan_reporting::term::termcolor::NoColor;
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::span::FileId;

/// The texts of the files diagnostics point into, keyed by file id.
#[derive(Clone, Debug, Default)]
pub struct SourceFiles {
    files: BTreeMap<FileId, SourceText>,
}

#[derive(Clone, Debug)]
struct SourceText {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFiles {
    /// An empty set.
    pub fn new() -> SourceFiles {
        SourceFiles::default()
    }

    /// Adds (or replaces) a file's name and text.
    pub fn insert(&mut self, id: FileId, name: impl Into<String>, text: impl Into<String>) {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.insert(
            id,
            SourceText {
                name: name.into(),
                text,
                line_starts,
            },
        );
    }

    /// The file's display name.
    pub fn name_of(&self, id: FileId) -> Option<&str> {
        self.files.get(&id).map(|f| f.name.as_str())
    }

    /// The 1-based line and column of a byte offset (clamped into the file).
    pub fn line_col(&self, id: FileId, offset: usize) -> (usize, usize) {
        let Some(file) = self.files.get(&id) else {
            return (1, 1);
        };
        let offset = floor_char_boundary(&file.text, offset.min(file.text.len()));
        let line = file.line_starts.partition_point(|&s| s <= offset) - 1;
        let col = file.text[file.line_starts[line]..offset].chars().count();
        (line + 1, col + 1)
    }

    fn get(&self, id: FileId) -> Result<&SourceText, files::Error> {
        self.files.get(&id).ok_or(files::Error::FileMissing)
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl<'a> Files<'a> for SourceFiles {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        Ok(self.get(id)?.name.as_str())
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        Ok(self.get(id)?.text.as_str())
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, files::Error> {
        let file = self.get(id)?;
        Ok(file
            .line_starts
            .partition_point(|&s| s <= byte_index)
            .saturating_sub(1))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, files::Error> {
        let file = self.get(id)?;
        let start = *file
            .line_starts
            .get(line_index)
            .ok_or(files::Error::LineTooLarge {
                given: line_index,
                max: file.line_starts.len() - 1,
            })?;
        let end = file
            .line_starts
            .get(line_index + 1)
            .copied()
            .unwrap_or(file.text.len());
        Ok(start..end)
    }
}

/// The most characters of a message, label or note that are shown.
pub const MAX_TEXT: usize = 1_000;
/// The longest source line shown in a snippet; a diagnostic pointing into a longer one is
/// shown with positions instead.
pub const MAX_SHOWN_LINE: usize = 1_000;

/// `text`, cut after [`MAX_TEXT`] characters with a word on how much was left out.
pub fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        None => text.to_string(),
        Some((cut, _)) => format!(
            "{}… ({} more characters)",
            &text[..cut],
            text[cut..].chars().count()
        ),
    }
}

/// The length in characters of the line holding `offset` in `file` (0 for an unknown file).
fn line_length(files: &SourceFiles, file: FileId, offset: usize) -> usize {
    let Ok(source) = files.get(file) else {
        return 0;
    };
    let offset = floor_char_boundary(&source.text, offset.min(source.text.len()));
    let start = source.text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = source.text[offset..]
        .find('\n')
        .map_or(source.text.len(), |i| offset + i);
    source.text[start..end].chars().count()
}

/// Converts to codespan's form, clamping spans into their files so rendering cannot fail on
/// a stale span.
fn to_codespan(files: &SourceFiles, diag: &Diagnostic) -> cs::Diagnostic<FileId> {
    let severity = match diag.severity {
        Severity::Bug => cs::Severity::Bug,
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let all_labels = std::iter::once(&diag.primary).chain(&diag.secondary);
    let longest = all_labels
        .clone()
        .flat_map(|l| {
            [
                line_length(files, l.span.file, l.span.start as usize),
                line_length(files, l.span.file, l.span.end as usize),
            ]
        })
        .max()
        .unwrap_or(0);
    let mut notes: Vec<String> = Vec::new();
    if longest > MAX_SHOWN_LINE {
        for l in all_labels {
            let (line, column) = files.line_col(l.span.file, l.span.start as usize);
            let name = files.name_of(l.span.file).unwrap_or("<unknown>");
            notes.push(format!("at {name}:{line}:{column}: {}", clip(&l.message)));
        }
        notes.push(format!(
            "the source line is {longest} characters long, too long to show"
        ));
        notes.extend(diag.notes.iter().map(|n| clip(n)));
        if let Some(help) = &diag.help {
            notes.push(format!("help: {}", clip(help)));
        }
        return cs::Diagnostic::new(severity)
            .with_code(diag.code)
            .with_message(clip(&diag.message))
            .with_notes(notes);
    }
    let label = |style, l: &super::Label| {
        let len = files.files.get(&l.span.file).map_or(0, |f| f.text.len());
        let text = files
            .files
            .get(&l.span.file)
            .map_or("", |f| f.text.as_str());
        let start = floor_char_boundary(text, (l.span.start as usize).min(len));
        let end = floor_char_boundary(text, (l.span.end as usize).min(len)).max(start);
        cs::Label::new(style, l.span.file, start..end).with_message(clip(&l.message))
    };
    let mut labels = vec![label(LabelStyle::Primary, &diag.primary)];
    labels.extend(
        diag.secondary
            .iter()
            .map(|l| label(LabelStyle::Secondary, l)),
    );
    notes.extend(diag.notes.iter().map(|n| clip(n)));
    if let Some(help) = &diag.help {
        notes.push(format!("help: {}", clip(help)));
    }
    cs::Diagnostic::new(severity)
        .with_code(diag.code)
        .with_message(clip(&diag.message))
        .with_labels(labels)
        .with_notes(notes)
}

/// Writes diagnostics for people, in rustc's style.
pub fn render_human(
    writer: &mut dyn WriteColor,
    files: &SourceFiles,
    diagnostics: &[Diagnostic],
) -> std::io::Result<()> {
    let config = term::Config::default();
    for diag in diagnostics {
        term::emit_to_write_style(writer, &config, files, &to_codespan(files, diag))
            .map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// A diagnostic as the JSON output shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct JsonDiagnostic {
    /// The stable code.
    pub code: &'static str,
    /// `error`, `warning` or `bug`.
    pub severity: Severity,
    /// The message.
    pub message: String,
    /// The file's name as given to the compiler.
    pub file: String,
    /// 1-based line of the primary label's start.
    pub line: usize,
    /// 1-based column of the primary label's start.
    pub column: usize,
    /// 1-based line of the primary label's end.
    pub end_line: usize,
    /// 1-based column of the primary label's end.
    pub end_column: usize,
    /// The primary label's text.
    pub label: String,
    /// Secondary labels with their positions.
    pub secondary: Vec<JsonLabel>,
    /// Notes.
    pub notes: Vec<String>,
    /// Help, if any.
    pub help: Option<String>,
}

/// A secondary label in JSON.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct JsonLabel {
    /// The file's name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The label's text.
    pub message: String,
}

/// Converts diagnostics to their JSON form.
pub fn to_json(files: &SourceFiles, diagnostics: &[Diagnostic]) -> Vec<JsonDiagnostic> {
    diagnostics
        .iter()
        .map(|d| {
            let span = d.primary.span;
            let (line, column) = files.line_col(span.file, span.start as usize);
            let (end_line, end_column) = files.line_col(span.file, span.end as usize);
            JsonDiagnostic {
                code: d.code,
                severity: d.severity,
                message: clip(&d.message),
                file: files.name_of(span.file).unwrap_or("<unknown>").to_string(),
                line,
                column,
                end_line,
                end_column,
                label: clip(&d.primary.message),
                secondary: d
                    .secondary
                    .iter()
                    .map(|l| {
                        let (line, column) = files.line_col(l.span.file, l.span.start as usize);
                        JsonLabel {
                            file: files
                                .name_of(l.span.file)
                                .unwrap_or("<unknown>")
                                .to_string(),
                            line,
                            column,
                            message: clip(&l.message),
                        }
                    })
                    .collect(),
                notes: d.notes.iter().map(|n| clip(n)).collect(),
                help: d.help.as_deref().map(clip),
            }
        })
        .collect()
}
