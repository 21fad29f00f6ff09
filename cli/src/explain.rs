//! `biscol explain CODE`: the long explanation of a diagnostic code.

use std::process::ExitCode;

use biscol_compiler::diagnostic::codes;

use crate::output;

/// Arguments of `biscol explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The code, e.g. `E0020` (case does not matter).
    #[arg(required_unless_present = "list")]
    pub code: Option<String>,
    /// List every code with its title instead.
    #[arg(long)]
    pub list: bool,
}

/// Runs the command.
pub fn run(args: &ExplainArgs) -> ExitCode {
    if args.list {
        for info in codes::CODES {
            println!("{}  {}", info.code, info.title);
        }
        return ExitCode::SUCCESS;
    }
    let code = args.code.as_deref().unwrap_or_default();
    match codes::explain(code) {
        Some(text) => {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            ExitCode::SUCCESS
        }
        None => output::usage_error(&format!(
            "`{code}` is not a BiSCOL diagnostic code (see `biscol explain --list`)"
        )),
    }
}
