//! The one [`FileLoader`] that reads from disk, shared by the drivers (CLI, language server,
//! golden tests). The compiler stays pure: it defines the trait and never touches the file
//! system; this crate is the edge where that IO happens.
//!
//! In: a path as the compiler names it (the path given to `Database::set_file`, or a `use`
//! target joined to it). Out: the file's text, invalid UTF-8 replaced by U+FFFD (the compiler
//! then diagnoses the replacement character), or the IO error's message.

use std::path::{Path, PathBuf};

use biscol_compiler::db::FileLoader;

/// Reads files from disk, either as named or below a root folder.
#[derive(Clone, Debug, Default)]
pub struct DiskLoader {
    root: Option<PathBuf>,
}

impl DiskLoader {
    /// A loader that reads paths as given (relative ones from the current folder).
    pub fn new() -> DiskLoader {
        DiskLoader { root: None }
    }

    /// A loader that reads every path relative to `root`.
    pub fn under(root: impl Into<PathBuf>) -> DiskLoader {
        DiskLoader {
            root: Some(root.into()),
        }
    }
}

impl FileLoader for DiskLoader {
    fn load(&self, path: &str) -> Result<String, String> {
        let full = match &self.root {
            Some(root) => root.join(path),
            None => PathBuf::from(path),
        };
        read_source(&full).map_err(|e| e.to_string())
    }
}

/// Reads a file as text; invalid UTF-8 is replaced (and diagnosed by the compiler).
pub fn read_source(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_relative_to_the_root_and_reports_missing_files() {
        let dir = std::env::temp_dir().join(format!("biscol-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("a.bsc"), b"const A: Int = 1;\n\xff").expect("write");
        let loader = DiskLoader::under(&dir);
        assert_eq!(
            loader.load("a.bsc").as_deref(),
            Ok("const A: Int = 1;\n\u{fffd}")
        );
        assert!(loader.load("missing.bsc").is_err());
        let absolute = dir.join("a.bsc");
        assert!(DiskLoader::new()
            .load(absolute.to_str().expect("utf-8 path"))
            .is_ok());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
