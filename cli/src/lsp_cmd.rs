//! `biscol lsp`: the language server on stdin and stdout (see the `biscol-lsp` crate).

use std::process::ExitCode;

/// Runs the server until the client sends `exit`. Exit code 2 if it cannot start.
pub fn run() -> ExitCode {
    match biscol_lsp::run_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot start the language server: {e}");
            ExitCode::from(2)
        }
    }
}
