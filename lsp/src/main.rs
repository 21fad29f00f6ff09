//! `biscol-lsp`: the language server as its own executable (the same as `biscol lsp`), for
//! editors configured with it directly and for the Neovim end-to-end test.

fn main() -> std::process::ExitCode {
    match biscol_lsp::run_stdio() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot start the language server: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
