//! BiSCOL's Taproot back end: from spend-path policies to a path-optimised script tree, a
//! key path, a safety analysis, an artifact section, and instances with addresses.
//!
//! The crate is pure: no file system, no network, no printing, no randomness, no clocks.
//! The same input gives the same output bytes on every machine and every run.
//!
//! Pipeline (each step is a module):
//! - [`input`]: what the front end gives: a [`input::Contract`] of spend paths, each a
//!   rust-miniscript `policy::Concrete<`[`key::ParamKey`]`>` with a weight;
//! - [`compile`]: leaves (`Miniscript<ParamKey, Tap>`), split of top-level ors, Huffman
//!   tree ([`tree`]), witness sizes; [`analysis`]: findings with stable codes;
//! - [`artifact`]: the serialisable Taproot section of the artifact, with
//!   [`policy388`]'s BIP388 wallet policy;
//! - [`instantiate`]: bind argument values, derive the descriptor, keys, scriptPubKey,
//!   address, and per-leaf scripts and control blocks; [`keypath`] does the MuSig2 KeyAgg
//!   and NUMS internal keys.
//!
//! The types that cross into the runtime (the artifact section, templates, placeholders, key
//! paths, the tree, instances and argument values) live in `biscol-artifact` and are
//! re-exported here under their old paths; this crate keeps policy compilation, the analysis
//! and the BIP388 policy.
//!
//! ```
//! use biscol_taproot::input::{Contract, KeyPath, SpendPath, Timelocks};
//! use biscol_taproot::key::ParamKey;
//!
//! let contract = Contract {
//!     name: "Vault".into(),
//!     key_path: KeyPath::Single(ParamKey::new("cold")),
//!     paths: vec![SpendPath::new("withdraw", 1, "and(pk(hot),older(144))".parse().unwrap())],
//!     timelocks: Timelocks::default(),
//! };
//! let compiled = biscol_taproot::compile::compile(&contract).unwrap();
//! let artifact = biscol_taproot::artifact::from_compiled(&compiled);
//! assert_eq!(artifact.leaves[0].template, "and_v(v:pk(hot),older(144))");
//! ```

#![deny(missing_docs)]

pub mod analysis;
pub mod artifact;
pub mod compile;
pub mod input;
pub mod instantiate;
pub mod policy388;

pub use biscol_artifact::{key, keypath, tree};

pub use analysis::{Code, Finding, Severity};
pub use compile::{compile, CompileError, Compiled};
pub use input::{Contract, KeyPath, SpanRef, SpendPath, TimelockKind, Timelocks};
pub use key::ParamKey;
