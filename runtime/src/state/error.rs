//! The one error type of the state store.
//!
//! In: failures of SQLite, of the file system, of the caller's requests (unknown ids, illegal
//! status transitions, transactions that do not match what they claim to be). Out:
//! [`StateError`], with a message that says what was being done and why it failed.

use std::fmt;

use super::status::{InstanceStatus, TransactionStatus, UnknownName};

/// Everything that can go wrong in the state store.
#[derive(Debug)]
pub enum StateError {
    /// A file-system operation failed.
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    Sqlite {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// Another process (or another [`super::Store`] in this one) has the store open.
    InUse {
        /// The store's folder.
        path: String,
    },
    /// The store was written by a newer version of BiSCOL.
    NewerSchema {
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build reads.
        supported: i64,
    },
    /// The file is an SQLite database, but not a state store.
    NotAStateStore {
        /// The file.
        path: String,
    },
    /// Stored data does not decode (a value no version of the store writes).
    Corrupt {
        /// What is wrong.
        detail: String,
    },
    /// No instance has this id.
    UnknownInstance(String),
    /// No artifact has this id.
    UnknownArtifact(String),
    /// No recorded transaction has this txid.
    UnknownTransaction(String),
    /// No checkpoint has this id.
    UnknownCheckpoint(u64),
    /// A transaction with this txid is already recorded.
    DuplicateTransaction(String),
    /// The instance is not in a status that allows the operation.
    IllegalTransition {
        /// The instance.
        instance: String,
        /// What was asked, as a phrase ("confirm the spend").
        action: &'static str,
        /// The instance's status.
        status: InstanceStatus,
        /// The statuses that would have allowed it.
        allowed: &'static [InstanceStatus],
    },
    /// The transaction is not in a status that allows the operation.
    IllegalTransactionStatus {
        /// The transaction.
        txid: String,
        /// What was asked, as a phrase.
        action: &'static str,
        /// Its status.
        status: TransactionStatus,
    },
    /// The request contradicts itself or the store (for example a funding transaction whose
    /// output does not pay the instance's script).
    Invalid {
        /// What is wrong.
        detail: String,
    },
}

fn or_list(statuses: &[InstanceStatus]) -> String {
    let names: Vec<String> = statuses.iter().map(|s| format!("`{s}`")).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Io { context, source } => write!(f, "{context}: {source}"),
            StateError::Sqlite { context, source } => write!(f, "{context}: {source}"),
            StateError::InUse { path } => write!(
                f,
                "the state store in {path} is in use by another process (or another handle)"
            ),
            StateError::NewerSchema { found, supported } => write!(
                f,
                "the state store has schema version {found}, but this build of BiSCOL reads \
                 versions up to {supported}; upgrade BiSCOL to open it"
            ),
            StateError::NotAStateStore { path } => {
                write!(
                    f,
                    "{path} is an SQLite database but not a BiSCOL state store"
                )
            }
            StateError::Corrupt { detail } => write!(f, "the state store is corrupt: {detail}"),
            StateError::UnknownInstance(id) => write!(f, "no contract instance `{id}`"),
            StateError::UnknownArtifact(id) => write!(f, "no artifact `{id}`"),
            StateError::UnknownTransaction(txid) => write!(f, "no recorded transaction {txid}"),
            StateError::UnknownCheckpoint(id) => write!(f, "no checkpoint {id}"),
            StateError::DuplicateTransaction(txid) => {
                write!(f, "transaction {txid} is already recorded")
            }
            StateError::IllegalTransition {
                instance,
                action,
                status,
                allowed,
            } => write!(
                f,
                "cannot {action} of `{instance}`: it is `{status}`, not {}",
                or_list(allowed)
            ),
            StateError::IllegalTransactionStatus {
                txid,
                action,
                status,
            } => write!(f, "cannot {action} transaction {txid}: it is `{status}`"),
            StateError::Invalid { detail } => f.write_str(detail),
        }
    }
}

impl std::error::Error for StateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StateError::Io { source, .. } => Some(source),
            StateError::Sqlite { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A stored name no status has means a corrupt store.
impl From<UnknownName> for StateError {
    fn from(e: UnknownName) -> StateError {
        corrupt(e.to_string())
    }
}

/// Wraps a rusqlite error with what was being done.
pub(crate) fn sql(context: &'static str) -> impl Fn(rusqlite::Error) -> StateError {
    move |source| StateError::Sqlite {
        context: context.to_string(),
        source,
    }
}

/// Wraps an IO error with what was being done.
pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StateError {
    let context = context.into();
    move |source| StateError::Io { context, source }
}

/// A [`StateError::Corrupt`].
pub(crate) fn corrupt(detail: impl Into<String>) -> StateError {
    StateError::Corrupt {
        detail: detail.into(),
    }
}

/// A [`StateError::Invalid`].
pub(crate) fn invalid(detail: impl Into<String>) -> StateError {
    StateError::Invalid {
        detail: detail.into(),
    }
}
