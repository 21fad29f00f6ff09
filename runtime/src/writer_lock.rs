//! The writer lock of a state folder part: at most one process writes the contract store, and at
//! most one the embedded chain, while any number read them.
//!
//! In: the folder of a part (`store/`, `chain/`). Out: a [`WriterLock`] held until it is
//! dropped, or `Ok(None)` when another open handle (in this process or another) holds it.
//!
//! The lock is an advisory `flock` on a separate, empty file ([`LOCK_FILE`]) beside the
//! database, never on the SQLite file itself: SQLite locks its files with `fcntl`, and a second
//! descriptor on the same file that another part of the process closes would drop SQLite's own
//! locks. SQLite's WAL mode then lets readers open the database while the writer holds this
//! lock, each reader seeing the last committed state. The operating system releases the lock
//! when the process ends, however it ends, so a killed writer never leaves the folder locked.

use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;

/// The lock file's name in the part's folder.
pub const LOCK_FILE: &str = "writer.lock";

/// A held writer lock; dropping it lets the next writer in.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the writer lock of `dir` (which must exist), creating the owner-only lock file when
    /// it is missing; `Ok(None)` when another handle holds it.
    pub fn try_take(dir: &Path) -> io::Result<Option<WriterLock>> {
        let path = dir.join(LOCK_FILE);
        crate::owner_only::create_file(&path)?;
        let file = File::options().read(true).write(true).open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(WriterLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_writer_at_a_time_and_the_next_after_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::try_take(dir.path()).unwrap();
        assert!(first.is_some());
        assert!(WriterLock::try_take(dir.path()).unwrap().is_none());
        drop(first);
        assert!(WriterLock::try_take(dir.path()).unwrap().is_some());
    }
}
