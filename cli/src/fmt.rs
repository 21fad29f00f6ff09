//! `biscol fmt [--check] [PATH]...`: formats `.bsc` files in place with the compiler's
//! formatter (`biscol_compiler::format`), the same one the language server uses.
//!
//! PATHs are files or folders (searched recursively for `.bsc`); the default is the current
//! folder. A file with syntax errors is left as it is. Exit codes: 0 every file is (now)
//! formatted, 1 `--check` found files that are not (they are listed), 2 a path cannot be
//! read or written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `biscol fmt`.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Files or folders to format (default: the current folder).
    pub paths: Vec<PathBuf>,
    /// Do not write: list the files that are not formatted and exit with 1 if there are any.
    #[arg(long)]
    pub check: bool,
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if entry.is_dir() && !hidden && !entry.ends_with("target") {
                collect(&entry, out)?;
            } else if entry.extension().is_some_and(|e| e == "bsc") {
                out.push(entry);
            }
        }
        Ok(())
    } else {
        std::fs::metadata(path)?;
        out.push(path.to_path_buf());
        Ok(())
    }
}

/// Runs the command.
pub fn run(args: &FmtArgs) -> ExitCode {
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    let mut io_error = false;
    for root in &roots {
        if let Err(e) = collect(root, &mut files) {
            eprintln!("error: {}: {e}", root.display());
            io_error = true;
        }
    }
    let mut unformatted = Vec::new();
    for file in &files {
        let text = match std::fs::read(file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                // Invalid UTF-8: `biscol check` reports it (E0004); there is nothing to format.
                Err(_) => continue,
            },
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                io_error = true;
                continue;
            }
        };
        let formatted = biscol_compiler::format::format(&text);
        if formatted == text {
            continue;
        }
        if args.check {
            println!("{}", file.display());
            unformatted.push(file);
        } else if let Err(e) = std::fs::write(file, formatted) {
            eprintln!("error: {}: {e}", file.display());
            io_error = true;
        }
    }
    if io_error {
        ExitCode::from(2)
    } else if !unformatted.is_empty() {
        eprintln!(
            "{} file(s) not formatted; run `biscol fmt` to format them",
            unformatted.len()
        );
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
