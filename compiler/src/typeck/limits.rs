//! The numbers the type checker's rules are bounded by.
//!
//! In and out: constants only. The timelock constants are Bitcoin's (BIP65, BIP68) and
//! Miniscript's; the others bound what the compiler accepts so that later phases, which recurse
//! on expressions, stay within a fixed depth.

/// How deep `fn` calls may be inlined inside one another.
pub const MAX_INLINE_DEPTH: usize = 16;

/// The deepest condition a `require` may have after `fn` inlining (the IR and the back ends
/// recurse on it).
pub const MAX_COND_DEPTH: usize = 200;

/// The largest `@weight`.
pub const MAX_WEIGHT: u64 = 1_000_000;

/// The largest array length.
pub const MAX_ARRAY_LEN: u64 = 1000;

/// BIP68: the relative-lock time unit, in seconds.
pub const SEQUENCE_UNIT_SECONDS: u64 = 512;

/// BIP65: lock times below this are heights, at or above it unix times.
pub const LOCKTIME_THRESHOLD: u64 = biscol_artifact::units::LOCK_TIME_THRESHOLD as u64;

/// The largest absolute lock time Miniscript accepts (`after` takes 1..2^31).
pub const MAX_ABSOLUTE_LOCK: u64 = 0x7fff_ffff;
