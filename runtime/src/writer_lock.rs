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
//!
//! Both stores open their SQLite connections through this module: a writer's with
//! [`configure_writer`] once it holds the lock, a reader's with [`open_reader`].

use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How long a statement waits for SQLite's own short-lived locks (a reader recovering the
/// write-ahead log, a checkpoint) before it fails. Writers never wait for each other there:
/// the [`WriterLock`] lets one in at a time.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets up a writer's connection: [`BUSY_TIMEOUT`], the WAL journal (which lets readers in
/// beside it) and `synchronous=FULL` (every commit is on disk before it returns).
pub fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))?;
    conn.execute_batch("PRAGMA synchronous=FULL;")
}

/// Opens the existing database `file` to read it beside its writer: writes refused
/// (`query_only`) and a read transaction begun, so that from the caller's first read on every
/// query of the connection sees the same snapshot. Opened read-write without create: SQLite's
/// WAL index (`-shm`) needs a writable handle, and a missing file is an error.
pub fn open_reader(file: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch("PRAGMA query_only=1; BEGIN;")?;
    Ok(conn)
}

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
