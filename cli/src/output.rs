//! Output helpers shared by commands: the `--format` flag, colour choice, and diagnostics.

use std::io::{IsTerminal, Write};

use biscol_compiler::diagnostic::render::{self, SourceFiles};
use biscol_compiler::Diagnostic;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};

/// How a command prints its results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people (colour on a terminal, none with `NO_COLOR` or when piped).
    #[default]
    Human,
    /// JSON for programs.
    Json,
}

/// The colour choice for standard error: none when `NO_COLOR` is set or it is not a terminal.
pub fn stderr_color() -> ColorChoice {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if no_color || !std::io::stderr().is_terminal() {
        ColorChoice::Never
    } else {
        ColorChoice::Auto
    }
}

/// Prints diagnostics: for people on standard error, as a JSON array on standard output.
pub fn print_diagnostics(format: Format, files: &SourceFiles, diagnostics: &[Diagnostic]) {
    match format {
        Format::Human => {
            let mut stream = StandardStream::stderr(stderr_color());
            // A closed stderr leaves nothing useful to do with the error.
            let _ = render::render_human(&mut stream, files, diagnostics);
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = diagnostics.len() - errors;
            if !diagnostics.is_empty() {
                let _ = writeln!(stream, "{}", summary(errors, warnings));
            }
        }
        Format::Json => {
            let json = render::to_json(files, diagnostics);
            let text = serde_json::to_string_pretty(&json).unwrap_or_else(|_| "[]".to_string());
            println!("{text}");
        }
    }
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => format!("{} emitted", plural(w, "warning")),
        (e, 0) => format!("could not compile: {}", plural(e, "error")),
        (e, w) => format!(
            "could not compile: {}, {}",
            plural(e, "error"),
            plural(w, "warning")
        ),
    }
}

/// Prints an error about the command's input (not about a contract) and returns exit code 2.
/// A private key in the message (an argument repeated back) is described, not shown.
pub fn usage_error(message: &str) -> std::process::ExitCode {
    eprintln!("error: {}", biscol_artifact::redact::scrub(message));
    std::process::ExitCode::from(2)
}
