//! The test API for contract authors: a throw-away embedded regtest chain with a keystore, a
//! wallet and a store, and short calls to deploy, spend, mine and expect refusals.
//!
//! In: artifacts (the JSON `biscol build` writes; the runtime does not compile, so a test
//! reads what the compiler built), argument lists, key names. Out: [`Deployment`]s, [`SpendOutcome`]s and
//! [`Refusal`]s, or a [`SessionError`] that says what went wrong. Everything runs through the
//! same [`Session`] the command line uses, so a test exercises exactly what a person runs.
//!
//! ```no_run
//! use biscol_runtime::testing::TestChain;
//! use bitcoin::Amount;
//!
//! let mut t = TestChain::new().unwrap();
//! // Written by `biscol build htlc.bsc`.
//! let artifact = std::fs::read_to_string("build/Htlc.json").unwrap();
//! let (alice, bob) = (t.key("alice").unwrap(), t.key("bob").unwrap());
//! let preimage = "00".repeat(32);
//! let hash = TestChain::sha256_hex(&preimage);
//! let htlc = t
//!     .deploy(&artifact, &[("sender", &alice), ("receiver", &bob), ("hash", &hash), ("timeout", "10")], Amount::from_sat(100_000))
//!     .unwrap();
//! t.expect_refusal(&htlc.instance, "refund", &[], "refund only after the timeout").unwrap();
//! t.mine(10).unwrap();
//! t.spend(&htlc.instance, "refund", &[]).unwrap();
//! ```
//!
//! Invariants: the state folder is a fresh folder under the system's temporary folder, removed
//! when the [`TestChain`] is dropped (kept with [`TestChain::keep`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bitcoin::hashes::{sha256, Hash};
use bitcoin::Amount;

use crate::keystore::KeystoreError;
use crate::project::StateLayout;
use crate::session::{
    Deployment, Session, SessionError, SessionOptions, SpendOptions, SpendOutcome,
};
use crate::spend::{Refusal, SpendError};

/// A regtest chain for one test.
#[derive(Debug)]
pub struct TestChain {
    session: Session,
    dir: PathBuf,
    keep: bool,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn pairs(args: &[(&str, &str)]) -> Vec<(String, String)> {
    args.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

impl TestChain {
    /// A fresh chain in a new temporary folder.
    pub fn new() -> Result<TestChain, SessionError> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "biscol-test-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let mut chain = TestChain::in_dir(&dir)?;
        chain.keep = false;
        Ok(chain)
    }

    /// A chain in `dir` (created or reopened; kept after the test).
    pub fn in_dir(dir: &Path) -> Result<TestChain, SessionError> {
        let session = Session::open(StateLayout::new(dir), SessionOptions::default())?;
        Ok(TestChain {
            session,
            dir: dir.to_path_buf(),
            keep: true,
        })
    }

    /// Keeps the state folder after the test (to look at it with `biscol --state-dir`).
    pub fn keep(&mut self) -> &Path {
        self.keep = true;
        &self.dir
    }

    /// The session underneath, for anything this API does not cover.
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The public key (compressed hex) of keystore key `name`, created when missing.
    pub fn key(&mut self, name: &str) -> Result<String, SessionError> {
        let keystore = self.session.keystore();
        let info = match keystore.show(name) {
            Err(KeystoreError::NotFound { .. }) => keystore.create(name)?,
            other => other?,
        };
        Ok(info.public_key.to_string())
    }

    /// The SHA-256 of a hex string's bytes, as hex (for hash-lock arguments).
    pub fn sha256_hex(preimage_hex: &str) -> String {
        let bytes = hex::decode(preimage_hex).unwrap_or_default();
        sha256::Hash::hash(&bytes).to_string()
    }

    /// Deploys `artifact` with `args` (`@NAME` allowed) and waits for one confirmation.
    pub fn deploy(
        &mut self,
        artifact: &str,
        args: &[(&str, &str)],
        amount: Amount,
    ) -> Result<Deployment, SessionError> {
        self.session
            .deploy(artifact, &pairs(args), amount, None, true)
    }

    /// Spends `instance` through `path` to the wallet and waits for one confirmation.
    pub fn spend(
        &mut self,
        instance: &str,
        path: &str,
        args: &[(&str, &str)],
    ) -> Result<SpendOutcome, SessionError> {
        self.session
            .spend(instance, path, &pairs(args), &SpendOptions::default())
    }

    /// Mines `count` blocks.
    pub fn mine(&mut self, count: u32) -> Result<u32, SessionError> {
        Ok(self.session.mine(count, None)?.height)
    }

    /// Mines one block whose time is `seconds` later than it would be (to reach time locks;
    /// the median time past follows over the next blocks).
    pub fn advance(&mut self, seconds: u32) -> Result<u32, SessionError> {
        Ok(self.session.mine(1, Some(seconds))?.height)
    }

    /// Tries the spend and expects it refused by the `require` whose message is `message`;
    /// returns the refusals. Fails when the spend would succeed or fails for another reason.
    pub fn expect_refusal(
        &mut self,
        instance: &str,
        path: &str,
        args: &[(&str, &str)],
        message: &str,
    ) -> Result<Vec<Refusal>, String> {
        let dry_run = SpendOptions {
            dry_run: true,
            wait: false,
            ..SpendOptions::default()
        };
        match self.session.spend(instance, path, &pairs(args), &dry_run) {
            Ok(_) => Err(format!(
                "{instance} {path}: expected a refusal by \"{message}\", but the spend is possible"
            )),
            Err(SessionError::Spend(SpendError::Refused(refusals))) => {
                if refusals
                    .iter()
                    .any(|r| r.require.as_ref().and_then(|q| q.message.as_deref()) == Some(message))
                {
                    Ok(refusals)
                } else {
                    Err(format!(
                        "{instance} {path}: refused, but not by \"{message}\": {}",
                        refusals
                            .iter()
                            .map(|r| r.to_string())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ))
                }
            }
            Err(e) => Err(format!("{instance} {path}: {e}")),
        }
    }
}

impl Drop for TestChain {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
