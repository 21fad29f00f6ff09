//! The BiSCOL compiler: `.bsc` source in, checked contracts and their IR out.
//!
//! The compiler is pure: it reads no files and opens no sockets. Source texts come in as
//! salsa inputs (see [`db`]); everything else is a query over them. The pipeline:
//!
//! ```text
//! text ─ syntax::lexer ─ syntax::parser ─ ast ─ resolve + typeck ─ hir ─ ir::lower ─ ir
//! ```
#![deny(missing_docs)]

pub mod artifact;
pub mod build;
pub mod builtins;
pub mod db;
pub mod diagnostic;
pub mod format;
pub mod hir;
pub mod ir;
pub mod names;
pub mod relocate;
pub mod resolve;
pub mod span;
pub mod suggest;
pub mod syntax;
pub mod taproot;
pub mod tree_view;
pub mod typeck;
pub mod types;
pub mod verify;

pub use db::Database;
pub use diagnostic::{Diagnostic, Severity};
pub use span::{FileId, Span};
