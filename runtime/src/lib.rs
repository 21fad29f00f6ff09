//! The BiSCOL runtime: chain backends, keys, the wallet, the spend engine, the contract store,
//! and the sessions that deploy and spend contracts.
//!
//! * [`chain`]: the [`chain::ChainBackend`] trait and its backends: [`chain::embedded`] (an
//!   in-process regtest chain persisted in a state folder that validates every transaction with
//!   `biscol-script` and Bitcoin's consensus rules), [`chain::rpc`] (Bitcoin Core's JSON-RPC) and
//!   [`chain::esplora`] (an Esplora HTTP API).
//! * [`node`]: serves the embedded chain over Core's JSON-RPC and Esplora's REST API.
//! * [`keystore`]: named BIP32 keys stored with owner-only permissions, secrets zeroized.
//! * [`wallet`]: mines coins to a keystore key, selects coins, pays fees, signs P2TR key-path
//!   inputs, signals RBF and bumps fees.
//! * [`spend`]: plans, signs and verifies the spend of a contract path, or explains at the
//!   source's `require` why it cannot work.
//! * [`state`]: the contract store (artifacts, instances, transactions, executions, events).
//! * [`project`]: `Biscol.toml` and the state folder's layout.
//! * [`session`]: deploy, spend, mine, bump, checkpoint and restore over all of the above.
//! * [`testing`]: the test API for contract authors.
//!
//! Nothing here panics on external input: every failure is a documented error enum.
#![deny(missing_docs)]

pub mod chain;
pub mod keystore;
pub mod node;
pub mod owner_only;
pub mod project;
pub mod session;
pub mod spend;
pub mod state;
pub mod state_folder;
pub mod testing;
pub mod wallet;
pub mod writer_lock;

pub use chain::embedded::EmbeddedChain;
pub use chain::{ChainBackend, ChainError, Tip, TxReject, TxStatus, Utxo};
pub use keystore::{KeyInfo, Keystore, KeystoreError};
pub use wallet::{Funding, Wallet, WalletError};
