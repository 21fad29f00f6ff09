//! Whether a state folder is whole, and whose its parts are: the contract store, the chain
//! (the embedded chain's folder) and the wallet key must all be there and belong together, or
//! the session refuses to open. Nothing is ever replaced by a new, empty part: a store, chain
//! folder or wallet key that was deleted, emptied or swapped would otherwise be silently
//! recreated, and the contracts it knew forgotten.
//!
//! In: a [`StateLayout`] looked at before anything in it is opened ([`Presence::of`]), then
//! the opened store, chain and wallet key ([`bind`]). Out: `Ok` with the parts bound together
//! (a new state folder's identity recorded), or a [`FolderError`] that says what is missing or
//! foreign and how to restore it.
//!
//! Invariants: only a session asked to create state (`SessionOptions::create_state`, the
//! command line's `biscol init` and `--new`) creates one, and only where no part exists yet (a
//! store that records no identity but holds nothing either, a creation cut short, is given one); a
//! store records its chain's genesis hash and the wallet's public key, and the embedded chain
//! records the store's id, so any part from another state folder is found.

use std::fmt;
use std::path::{Path, PathBuf};

use bitcoin::BlockHash;

use crate::chain::embedded::{EmbeddedChain, CHAIN_FILE};
use crate::project::StateLayout;
use crate::state::{Binding, Store, StoreIdentity, STATE_FILE};

/// Which parts of a state folder exist, looked at before any is opened (opening creates
/// files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// `store/state.sqlite`, not empty.
    pub store: bool,
    /// `chain/chain.sqlite`, not empty; `None` on a remote chain.
    pub chain: Option<bool>,
    /// `keys/wallet.key`, not empty.
    pub wallet: bool,
    root: PathBuf,
}

/// Whether `path` is a file with something in it.
fn has_content(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0)
}

impl Presence {
    /// Looks at `layout`; `embedded` when the session uses the embedded chain.
    pub fn of(layout: &StateLayout, embedded: bool, wallet_key: &str) -> Presence {
        Presence {
            store: has_content(&layout.store().join(STATE_FILE)),
            chain: embedded.then(|| has_content(&layout.chain().join(CHAIN_FILE))),
            wallet: has_content(&layout.keys().join(format!("{wallet_key}.key"))),
            root: layout.root.clone(),
        }
    }

    /// No part exists: a state folder to create.
    pub fn is_empty(&self) -> bool {
        !self.store && self.chain != Some(true) && !self.wallet
    }

    /// The first part that is missing while others exist.
    fn missing(&self) -> Option<Part> {
        if self.is_empty() {
            None
        } else if !self.store {
            Some(Part::Store)
        } else if self.chain == Some(false) {
            Some(Part::Chain)
        } else if !self.wallet {
            Some(Part::Wallet)
        } else {
            None
        }
    }

    /// Refuses a folder with a part missing, and an absent one unless `create`.
    pub fn check(&self, create: bool) -> Result<(), FolderError> {
        if self.is_empty() && !create {
            return Err(FolderError::NoState {
                root: self.root.clone(),
            });
        }
        match self.missing() {
            Some(part) => Err(FolderError::Missing {
                part,
                root: self.root.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// A part of a state folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `store/state.sqlite`: instances, transactions, events.
    Store,
    /// `chain/chain.sqlite`: the embedded chain.
    Chain,
    /// `keys/wallet.key`: the wallet's key.
    Wallet,
}

impl Part {
    fn path(self) -> &'static str {
        match self {
            Part::Store => "store/state.sqlite",
            Part::Chain => "chain/chain.sqlite",
            Part::Wallet => "keys/wallet.key",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Part::Store => "the contract store (every instance, transaction and event)",
            Part::Chain => "the embedded chain (every block and coin)",
            Part::Wallet => "the wallet key (it holds the wallet's coins)",
        }
    }
}

/// Why a state folder cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderError {
    /// Nothing is there, and the session was not asked to create state.
    NoState {
        /// The state folder.
        root: PathBuf,
    },
    /// A part is missing or empty while the others exist.
    Missing {
        /// Which.
        part: Part,
        /// The state folder.
        root: PathBuf,
    },
    /// The parts do not belong together.
    Foreign {
        /// What differs, in words.
        detail: String,
        /// The state folder.
        root: PathBuf,
    },
}

impl fmt::Display for FolderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FolderError::NoState { root } => write!(
                f,
                "no state folder at {}: `biscol init` makes a project with one, or add `--new` to create it here",
                root.display()
            ),
            FolderError::Missing { part, root } => write!(
                f,
                "{} is missing or empty in the state folder {} ({}); biscol will not replace it with a new one, which would forget what it held: put back a backup of it, or a checkpoint's copy (store/checkpoints/ID/state.sqlite and store/checkpoints/ID/chain/chain.sqlite, together), or restore the whole state folder from a backup",
                part.path(),
                root.display(),
                part.what()
            ),
            FolderError::Foreign { detail, root } => write!(
                f,
                "the parts of the state folder {} do not belong together: {detail}; put back the original, or restore the whole state folder from a backup",
                root.display()
            ),
        }
    }
}

impl std::error::Error for FolderError {}

/// Binds the opened parts: records a new state folder's identity (`created`), adopts the chain
/// and wallet of a store migrated from before identities, or checks that the store's records
/// match the chain (`genesis`, and the embedded chain's owner) and the wallet key.
///
/// A reader (`store` opened read-only) only checks: where binding would write, the folder is
/// being created or migrated by the writer that holds it, and the answer is
/// [`crate::state::StateError::InUse`] (it can be read once that writer is done).
pub fn bind(
    store: &Store,
    chain: Option<&mut EmbeddedChain>,
    genesis: BlockHash,
    wallet: bitcoin::secp256k1::XOnlyPublicKey,
    created: bool,
    root: &Path,
) -> Result<(), BindError> {
    let binding = Binding { genesis, wallet };
    let writing = || {
        if store.is_writable() {
            Ok(())
        } else {
            Err(BindError::State(crate::state::StateError::InUse {
                path: root.display().to_string(),
            }))
        }
    };
    let foreign = |detail: String| {
        BindError::Folder(FolderError::Foreign {
            detail,
            root: root.to_path_buf(),
        })
    };
    // `adopting`: the store's identity is new (a new folder, or a store migrated from before
    // identities), so the chain beside it is taken as its own.
    let (store_id, adopting) = match store.identity()? {
        // A new folder, or one whose creation was cut short before the identity was written
        // (a store that holds nothing: no instance, no event).
        None if created || (store.instances()?.is_empty() && store.last_event_seq()? == 0) => {
            writing()?;
            (store.create_identity(binding)?.store_id, true)
        }
        None => return Err(foreign("the contract store records no identity".into())),
        Some(StoreIdentity {
            store_id,
            bound: None,
        }) => {
            writing()?;
            store.adopt(binding)?;
            (store_id, true)
        }
        Some(StoreIdentity {
            store_id,
            bound: Some(recorded),
        }) => {
            if recorded.genesis != genesis {
                return Err(foreign(format!(
                    "the contract store follows the chain with genesis block {}, the chain here starts with {genesis}",
                    recorded.genesis
                )));
            }
            if recorded.wallet != wallet {
                return Err(foreign(format!(
                    "the contract store was made with wallet key {}, keys/wallet.key is {wallet}",
                    recorded.wallet
                )));
            }
            (store_id, false)
        }
    };
    if let Some(chain) = chain {
        match chain.owner()? {
            Some(owner) if owner == store_id => {}
            Some(owner) => {
                return Err(foreign(format!(
                    "the chain belongs with contract store {owner}, the store here is {store_id}"
                )))
            }
            // A chain from before identities, or from a creation cut short: bound now only
            // when its store is adopted too, or holds nothing it could lose.
            None if adopting || store.instances()?.is_empty() => {
                writing()?;
                chain.bind_owner(&store_id)?
            }
            None => {
                return Err(foreign(
                    "the chain folder belongs with no contract store (a new chain was put in place of the old one)".into(),
                ))
            }
        }
    }
    Ok(())
}

/// [`bind`]'s failures: the folder's, or the store's or chain's own.
#[derive(Debug)]
pub enum BindError {
    /// The parts do not belong together.
    Folder(FolderError),
    /// The store failed.
    State(crate::state::StateError),
    /// The chain failed.
    Chain(crate::chain::ChainError),
}

impl From<crate::state::StateError> for BindError {
    fn from(e: crate::state::StateError) -> Self {
        BindError::State(e)
    }
}

impl From<crate::chain::ChainError> for BindError {
    fn from(e: crate::chain::ChainError) -> Self {
        BindError::Chain(e)
    }
}
