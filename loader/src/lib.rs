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

/// The largest source file read: 1 MiB (about 17,000 small contracts), a hundred times the
/// largest contract file anyone writes, and small enough that checking or building one stays
/// within about 150 MB and seconds (figures in the closing note of issue 18). A larger file is
/// refused before it is read; without this bound a 50 MB file took over 3 GB.
pub const MAX_SOURCE_BYTES: u64 = 1024 * 1024;

/// Reads a file as text; invalid UTF-8 is replaced (and diagnosed by the compiler). A file
/// larger than [`MAX_SOURCE_BYTES`] is an `InvalidData` error that says so.
pub fn read_source(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let too_large = |size: u64| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file has {size} bytes or more; a source file may have at most {MAX_SOURCE_BYTES} bytes (1 MiB)"
            ),
        )
    };
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > MAX_SOURCE_BYTES {
        return Err(too_large(size));
    }
    // The file may grow while it is read: never take more than the limit.
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = std::env::temp_dir().join(format!("biscol-loader-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let big = dir.join("big.bsc");
        let file = std::fs::File::create(&big).expect("create");
        file.set_len(MAX_SOURCE_BYTES + 1).expect("sparse file");
        let e = read_source(&big).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("at most 1048576 bytes"), "{e}");
        let ok = dir.join("ok.bsc");
        std::fs::File::create(&ok)
            .and_then(|f| f.set_len(MAX_SOURCE_BYTES))
            .expect("file at the limit");
        assert_eq!(
            read_source(&ok).expect("at the limit").len() as u64,
            MAX_SOURCE_BYTES
        );
        std::fs::remove_dir_all(&dir).ok();
    }

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
