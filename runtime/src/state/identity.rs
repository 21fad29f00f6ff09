//! The identity a state folder's store records: its own id, the chain it follows (the genesis
//! block's hash) and the wallet key it pays from (its x-only public key).
//!
//! In: the identity the session creates for a new state folder, or adopts from the chain and
//! wallet beside a store migrated from schema version 1. Out: the stored identity, which the
//! session checks the chain and the wallet key against every time it opens
//! (`crate::session`), so that a store, chain folder or wallet key that was deleted, emptied
//! or swapped for another is refused instead of being silently replaced by a new one.
//!
//! Invariants: at most one row; the store id never changes once written (a checkpoint and its
//! restored copy carry the same one); `genesis` and `wallet` are either both set or both unset
//! (unset only in a store migrated from version 1, until the session adopts them).

use std::str::FromStr;

use bitcoin::secp256k1::rand::RngCore;
use bitcoin::secp256k1::XOnlyPublicKey;
use bitcoin::BlockHash;
use rusqlite::OptionalExtension;

use super::error::{corrupt, sql, StateError};
use super::Store;

/// What a store records about the state folder it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreIdentity {
    /// The store's own id: 32 hex digits, random, fixed when the store is created.
    pub store_id: String,
    /// The genesis block of the chain the store follows, and the wallet key's public key;
    /// `None` in a store migrated from schema version 1 that no session has opened yet.
    pub bound: Option<Binding>,
}

/// The chain and the wallet key a store belongs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The chain's genesis block hash.
    pub genesis: BlockHash,
    /// The wallet key's x-only public key.
    pub wallet: XOnlyPublicKey,
}

/// A new random store id.
pub(crate) fn new_store_id() -> String {
    let mut bytes = [0u8; 16];
    bitcoin::secp256k1::rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// The identity this store records; `None` when it records none (a store just created,
    /// before [`Store::create_identity`]).
    pub fn identity(&self) -> Result<Option<StoreIdentity>, StateError> {
        let row: Option<(String, Option<String>, Option<String>)> = self
            .conn
            .query_row(
                "SELECT store_id, genesis, wallet FROM identity WHERE only = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(sql("reading the store's identity"))?;
        let Some((store_id, genesis, wallet)) = row else {
            return Ok(None);
        };
        let bound = match (genesis, wallet) {
            (None, None) => None,
            (Some(genesis), Some(wallet)) => Some(Binding {
                genesis: BlockHash::from_str(&genesis)
                    .map_err(|_| corrupt("the identity's genesis hash does not parse"))?,
                wallet: XOnlyPublicKey::from_str(&wallet)
                    .map_err(|_| corrupt("the identity's wallet key does not parse"))?,
            }),
            _ => return Err(corrupt("the identity records only one of chain and wallet")),
        };
        Ok(Some(StoreIdentity { store_id, bound }))
    }

    /// Records the identity of a new state folder (a new store id, bound to `binding`).
    /// Refused when the store already has one.
    pub fn create_identity(&self, binding: Binding) -> Result<StoreIdentity, StateError> {
        if self.identity()?.is_some() {
            return Err(corrupt("the store already records an identity"));
        }
        let identity = StoreIdentity {
            store_id: new_store_id(),
            bound: Some(binding),
        };
        self.conn
            .execute(
                "INSERT INTO identity (only, store_id, genesis, wallet) VALUES (1, ?1, ?2, ?3)",
                [
                    &identity.store_id,
                    &binding.genesis.to_string(),
                    &binding.wallet.to_string(),
                ],
            )
            .map_err(sql("recording the store's identity"))?;
        Ok(identity)
    }

    /// Binds a migrated store (identity without chain and wallet) to `binding`. Refused when
    /// the store is already bound.
    pub fn adopt(&self, binding: Binding) -> Result<(), StateError> {
        let changed = self
            .conn
            .execute(
                "UPDATE identity SET genesis = ?1, wallet = ?2 WHERE only = 1 AND genesis IS NULL",
                [&binding.genesis.to_string(), &binding.wallet.to_string()],
            )
            .map_err(sql("recording the store's identity"))?;
        if changed != 1 {
            return Err(corrupt(
                "the store has no identity to bind, or is bound already",
            ));
        }
        Ok(())
    }
}
