//! Owner-only files and folders: how the state folder and everything in it are kept private.
//!
//! In: paths inside a state folder. Out: folders with mode 0700 and files with mode 0600 on
//! Unix (elsewhere these functions create what they are asked to and change nothing else).
//!
//! The state folder holds the keystore, the wallet's coins and every contract's arguments, so
//! nobody but its owner should read it. The rules:
//! - a folder the runtime creates is created 0700 (with its missing parents), so there is no
//!   moment when others could enter it ([`create_dir_all`]);
//! - a file the runtime creates is created 0600 before anything is written to it
//!   ([`create_file`]), or, when a library writes it (SQLite's `VACUUM INTO`), restricted right
//!   after ([`restrict`]); SQLite gives its `-wal` and `-shm` files the mode of their database;
//! - opening a state folder tightens what an older version left wider, path by known path
//!   (`StateLayout::secure`): never a walk of whatever a mistyped `--state-dir ~` points at; the
//!   keystore folder is not tightened but refused ([`crate::keystore::Keystore::open`]).
//!
//! Symbolic links are never followed or changed.

use std::io;
use std::path::Path;

/// The mode of every folder in a state folder.
pub const FOLDER_MODE: u32 = 0o700;
/// The mode of every file in a state folder.
pub const FILE_MODE: u32 = 0o600;

/// Creates `path` and its missing parents, each created one with mode 0700.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(FOLDER_MODE);
    }
    builder.create(path)
}

/// Creates file `path` with mode 0600 when it is missing (an existing file keeps its contents
/// and is restricted to 0600).
pub fn create_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options.open(path)?;
    restrict(path)
}

/// Sets a folder to 0700 and a file to 0600; leaves a symbolic link, and what it points at,
/// alone.
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(path)?;
        let wanted = if meta.is_dir() {
            FOLDER_MODE
        } else if meta.is_file() {
            FILE_MODE
        } else {
            return Ok(());
        };
        if meta.permissions().mode() & 0o777 != wanted {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// [`restrict`], when `path` exists (a missing path is not an error).
pub fn restrict_if_present(path: &Path) -> io::Result<()> {
    match restrict(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn created_private_and_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        create_dir_all(&deep).unwrap();
        for p in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode(&dir.path().join(p)), 0o700, "{p}");
        }
        let file = deep.join("f");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "x",
            "contents kept"
        );

        std::fs::set_permissions(
            dir.path().join("a/b"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        restrict_if_present(&dir.path().join("a/b")).unwrap();
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        restrict_if_present(&dir.path().join("missing")).unwrap();

        let outside = dir.path().join("outside");
        std::fs::write(&outside, "y").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = deep.join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        restrict(&link).unwrap();
        assert_eq!(mode(&outside), 0o644, "links are not followed");
    }
}
