//! BiSCOL's contract boundary: what the compiler produces and the runtime consumes.
//!
//! In: an artifact's JSON (or the compiler's in-memory [`format::Artifact`]) and arguments as
//! text. Out: a typed [`instance::Instance`] in rust-bitcoin and rust-miniscript types, which
//! the runtime spends from without parsing anything back. The crate is below both the
//! compiler and the runtime and depends on neither; it has no file system, no network, no
//! clocks and no randomness, and the same input gives the same output bytes everywhere.
//!
//! Modules:
//! - [`format`]: the artifact (format `biscol-artifact/2`), JSON in and out, instantiation
//!   with defaults and literal constants;
//! - [`taproot`]: the artifact's Taproot section, its leaf templates and key path read back;
//! - [`template`]: leaf templates over [`key::ParamKey`] placeholders, their atoms, and the
//!   timelock parameter table;
//! - [`key`]: parameter placeholders and their binding; [`keypath`]: single, MuSig2 KeyAgg
//!   and NUMS internal keys; [`tree`]: the Huffman tree and the BIP341 output;
//! - [`value`]: the one argument value type; [`instantiate`]: binding and deriving;
//!   [`instance`]: the typed result and its JSON form;
//! - [`finding`]: typed findings with stable codes; [`fees`]: what each spend path costs;
//! - [`units`]: the lock-time threshold, compact sizes, amounts, durations and dates;
//! - [`redact`]: argument text for messages, with private keys described, never shown.
//!
//! ```
//! use biscol_artifact::units::{parse_amount, AmountSyntax, LOCK_TIME_THRESHOLD};
//!
//! assert_eq!(LOCK_TIME_THRESHOLD, 500_000_000);
//! let amount = parse_amount("0.1btc", AmountSyntax::UnitRequired).unwrap();
//! assert_eq!(amount.to_sat(), 10_000_000);
//! ```

#![deny(missing_docs)]

pub mod commitments;
pub mod fees;
pub mod finding;
pub mod format;
pub mod instance;
pub mod instantiate;
pub mod key;
pub mod keypath;
pub mod redact;
pub mod taproot;
pub mod template;
pub mod tree;
pub mod units;
pub mod value;
