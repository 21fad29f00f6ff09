//! The statuses and kinds the state store keeps: [`InstanceStatus`], [`TransactionStatus`]
//! and [`TxKind`].
//!
//! In: stored names (text). Out: the enums, and back: each value is stored as its lower-case
//! name ([`InstanceStatus::as_str`] and friends), bound to SQL statements as a parameter
//! (each enum is [`rusqlite::ToSql`]) or, where SQL needs a literal (the schema's `CHECK`
//! constraints and partial index), quoted by [`sql_list`]. No SQL text of the store spells a
//! status by hand. Reading back any other name is an [`UnknownName`], which the store reports
//! as [`super::StateError::Corrupt`].
//!
//! This module depends on no other module of the store, so the error type can name the
//! statuses without a circle.

use std::fmt;

use rusqlite::types::{ToSql, ToSqlOutput};
use serde::Serialize;

/// A stored name that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// The enum (`InstanceStatus`, `TransactionStatus`, `TxKind`).
    pub kind: &'static str,
    /// The text found.
    pub text: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.kind, self.text)
    }
}

impl std::error::Error for UnknownName {}

/// The values as an SQL list of string literals, `'a', 'b'`, for the places where SQL takes no
/// parameters (a `CHECK` constraint, the condition of a partial index, a query that must match
/// that condition to use the index).
pub(crate) fn sql_list<T: Copy + Into<&'static str>>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", (*v).into()))
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name stored in the database and printed.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// Reads a stored name back.
            pub fn parse(text: &str) -> Result<$name, UnknownName> {
                match text {
                    $($text => Ok($name::$variant),)*
                    other => Err(UnknownName {
                        kind: stringify!($name),
                        text: other.to_string(),
                    }),
                }
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.as_str()
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// Where a contract instance is in its life.
    ///
    /// `funding` → `deployed` → `spending` → `spent`; `funding` → `failed` when the funding
    /// transaction never makes it; `spending` → `deployed` when a spend is abandoned.
    InstanceStatus {
        /// The funding transaction is recorded (and maybe broadcast) but not confirmed.
        Funding = "funding",
        /// The funding transaction is confirmed: the contract holds the coins.
        Deployed = "deployed",
        /// A spend transaction is recorded (and maybe broadcast) but not confirmed.
        Spending = "spending",
        /// A spend transaction is confirmed.
        Spent = "spent",
        /// The funding transaction was abandoned.
        Failed = "failed",
    }
}

string_enum! {
    /// Why a transaction was made.
    TxKind {
        /// Pays the contract's output.
        Fund = "fund",
        /// Spends the contract's output.
        Spend = "spend",
        /// Replaces an unconfirmed `fund` or `spend` (or an earlier `bump`) with a higher fee.
        Bump = "bump",
    }
}

string_enum! {
    /// Where a recorded transaction is.
    TransactionStatus {
        /// Written to the store, not yet handed to the network.
        Recorded = "recorded",
        /// Handed to the network (mempool).
        Broadcast = "broadcast",
        /// In a block.
        Confirmed = "confirmed",
        /// Replaced by a fee bump (or made moot because a conflicting version confirmed).
        Replaced = "replaced",
        /// Given up on.
        Abandoned = "abandoned",
    }
}
