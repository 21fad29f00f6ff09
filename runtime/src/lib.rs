//! The BiSCOL runtime: chain backends, a keystore of BIP32 keys and a wallet.
//!
//! * [`chain`]: the [`chain::ChainBackend`] trait (broadcast, UTXOs of a script, transaction
//!   status, tip, mining where the chain allows it) and [`chain::embedded::EmbeddedChain`], an
//!   in-process regtest chain persisted in a state folder that validates every transaction with
//!   `biscol-script` and Bitcoin's consensus rules.
//! * [`keystore`]: named BIP32 keys stored with owner-only permissions, secrets zeroized.
//! * [`wallet`]: mines coins to a keystore key, selects coins, pays fees, signs P2TR key-path
//!   inputs, signals RBF and bumps fees.
//!
//! Nothing here panics on external input: every failure is a documented error enum.
#![deny(missing_docs)]

pub mod chain;
pub mod keystore;
pub mod node;
pub mod project;
pub mod session;
pub mod spend;
pub mod state;
pub mod testing;
pub mod wallet;

pub use chain::embedded::EmbeddedChain;
pub use chain::{ChainBackend, ChainError, Tip, TxReject, TxStatus, Utxo};
pub use keystore::{KeyInfo, Keystore, KeystoreError};
pub use wallet::{Funding, Wallet, WalletError};
