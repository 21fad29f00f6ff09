//! `biscol check`: check files and folders, print every diagnostic.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use biscol_compiler::db::{self, Database};
use biscol_loader::DiskLoader;

use crate::output::{self, Format};

/// Arguments of `biscol check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or folders to check (folders are searched for `.bsc` files).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub use biscol_loader::read_source;

/// Expands folders into the `.bsc` files below them, sorted, so output order is stable.
pub fn collect_sources(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if meta.is_dir() {
            let mut stack = vec![path.clone()];
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir)
                    .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
                for entry in entries.flatten() {
                    let p = entry.path();
                    let name = entry.file_name();
                    let hidden = name.to_string_lossy().starts_with('.') || name == "target";
                    if p.is_dir() && !hidden {
                        stack.push(p);
                    } else if p.extension().is_some_and(|e| e == "bsc") {
                        out.push(p);
                    }
                }
            }
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A path as the compiler and the user see it: relative to the current folder when possible,
/// with `/` separators.
pub fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf));
    let shown = relative.unwrap_or_else(|| path.to_path_buf());
    let text = shown.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// Loads `paths` into a fresh database; returns it with the files given (not their imports).
pub fn load(paths: &[PathBuf]) -> Result<(Database, Vec<db::SourceFile>), String> {
    let sources = collect_sources(paths)?;
    let mut database = Database::new();
    let mut files = Vec::new();
    for path in &sources {
        let text =
            read_source(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        files.push(database.set_file(&display_path(path), text));
    }
    database.load_imports(&DiskLoader::new());
    Ok((database, files))
}

/// Runs the command.
pub fn run(args: &CheckArgs) -> ExitCode {
    let (database, files) = match load(&args.paths) {
        Ok(loaded) => loaded,
        Err(message) => return output::usage_error(&message),
    };
    let mut all = Vec::new();
    for file in &files {
        all.extend(db::diagnostics(&database, *file).iter().cloned());
    }
    output::print_diagnostics(args.format, &database.source_files(), &all);
    if all.iter().any(|d| d.is_error()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
