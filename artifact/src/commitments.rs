//! What an address commits to, in the contract's words: for a funder to read before funding.
//!
//! In: an [`Instance`], the artifact's key path, and the arguments it was bound with. Out: for
//! the key path and every spend path, the keys that sign (parameter name and the actual key),
//! the timelocks (the consensus number and what it means: blocks, a duration, a height or a
//! date) and the hash locks (kind, parameter, hash). Everything is read from the instance's
//! own leaves and keys, never from text that describes them, so what is shown is what the
//! address holds.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::instance::{Instance, KeyPath};
use crate::taproot::KeyPathArtifact;
use crate::template::TimelockKind;
use crate::units::{format_date_time, format_duration};

/// Everything an instance's address commits to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Commitments {
    /// The key path.
    pub key_path: KeyPathCommitment,
    /// The spend paths, in tree order of their first leaf.
    pub paths: Vec<PathCommitment>,
}

/// The key path: who can spend without revealing any script.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyPathCommitment {
    /// `single`, `musig` or `nums` (no key path).
    pub kind: &'static str,
    /// The keys, by parameter name (all of them sign together for `musig`).
    pub keys: Vec<KeyCommitment>,
}

/// A key by its parameter name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyCommitment {
    /// The parameter (`receiver`, `heirs[1]`).
    pub param: String,
    /// The key, hex.
    pub key: String,
}

/// One spend path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathCommitment {
    /// Its name.
    pub name: String,
    /// The keys its leaves name (which of them must sign is the path's condition).
    pub keys: Vec<KeyCommitment>,
    /// Its timelocks.
    pub timelocks: Vec<TimelockCommitment>,
    /// Its hash locks.
    pub hash_locks: Vec<HashLockCommitment>,
}

/// A timelock with its number and what it means.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelockCommitment {
    /// `older` or `after`.
    pub op: String,
    /// The parameter, when the lock is one.
    pub param: Option<String>,
    /// The consensus value (blocks, 512-second units, a height or a unix time).
    pub value: Option<u32>,
    /// The value in words: `144 blocks after the coin confirms`, `not before 2027-01-01T00:00:00Z`.
    pub meaning: String,
}

/// A hash lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HashLockCommitment {
    /// `sha256`, `hash256`, `ripemd160` or `hash160`.
    pub kind: String,
    /// The hash parameter.
    pub param: String,
    /// The hash, as bound.
    pub hash: String,
}

impl Commitments {
    /// The commitments of `instance`, whose key path the artifact writes as `key_path` and
    /// whose parameters were bound to `args` (name, value text).
    pub fn of(instance: &Instance, key_path: &KeyPathArtifact, args: &[(String, String)]) -> Self {
        let args: BTreeMap<&str, &str> = args
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let key_keys: Vec<String> = match &instance.key_path {
            KeyPath::Single(key) => vec![key.to_string()],
            KeyPath::MuSig(keys) => keys.iter().map(ToString::to_string).collect(),
            KeyPath::Nums => Vec::new(),
        };
        let key_path = KeyPathCommitment {
            kind: instance.key_path.kind(),
            keys: key_path
                .keys
                .iter()
                .zip(key_keys)
                .map(|(param, key)| KeyCommitment {
                    param: param.clone(),
                    key,
                })
                .collect(),
        };
        let mut paths: Vec<PathCommitment> = Vec::new();
        for leaf in &instance.leaves {
            let index = match paths.iter().position(|p| p.name == leaf.path) {
                Some(index) => index,
                None => {
                    paths.push(PathCommitment {
                        name: leaf.path.clone(),
                        keys: Vec::new(),
                        timelocks: Vec::new(),
                        hash_locks: Vec::new(),
                    });
                    paths.len() - 1
                }
            };
            let path = &mut paths[index];
            let keys: Vec<String> = leaf.miniscript.iter_pk().map(|k| k.to_string()).collect();
            for (param, key) in leaf.needs.signatures.iter().zip(keys) {
                let key = KeyCommitment {
                    param: param.clone(),
                    key,
                };
                if !path.keys.contains(&key) {
                    path.keys.push(key);
                }
            }
            for lock in &leaf.needs.timelocks {
                let value = lock
                    .value
                    .or(lock.n_lock_time)
                    .or(lock.n_sequence.map(|n| n & 0xffff));
                let lock = TimelockCommitment {
                    op: lock.op.clone(),
                    param: lock.param.clone(),
                    value,
                    meaning: meaning(lock.kind, value),
                };
                if !path.timelocks.contains(&lock) {
                    path.timelocks.push(lock);
                }
            }
            for need in &leaf.needs.preimages {
                let lock = HashLockCommitment {
                    kind: need.kind.clone(),
                    param: need.hash.clone(),
                    hash: args
                        .get(need.hash.as_str())
                        .copied()
                        .unwrap_or("")
                        .to_string(),
                };
                if !path.hash_locks.contains(&lock) {
                    path.hash_locks.push(lock);
                }
            }
        }
        Commitments { key_path, paths }
    }

    /// The commitments as lines for people, indented under a heading.
    pub fn lines(&self) -> Vec<String> {
        let keys = |keys: &[KeyCommitment]| -> String {
            keys.iter()
                .map(|k| format!("{} = {}", k.param, k.key))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = vec!["this address commits to:".to_string()];
        out.push(match self.key_path.kind {
            "nums" => "  key path: none (an unspendable key)".to_string(),
            "musig" => format!(
                "  key path: all of {} together (MuSig2)",
                keys(&self.key_path.keys)
            ),
            _ => format!("  key path: {}", keys(&self.key_path.keys)),
        });
        for path in &self.paths {
            out.push(format!("  spend {}: keys {}", path.name, keys(&path.keys)));
            for lock in &path.timelocks {
                out.push(format!(
                    "    {}({}): {}",
                    lock.op,
                    lock.param.as_deref().unwrap_or("literal"),
                    lock.meaning
                ));
            }
            for lock in &path.hash_locks {
                out.push(format!(
                    "    {}(preimage) == {} = {}",
                    lock.kind, lock.param, lock.hash
                ));
            }
        }
        out
    }
}

/// A timelock's value in words.
fn meaning(kind: TimelockKind, value: Option<u32>) -> String {
    let Some(value) = value else {
        return "a value fixed at instantiation".to_string();
    };
    match kind {
        TimelockKind::Blocks => format!("{value} blocks after the coin confirms"),
        TimelockKind::Duration => format!(
            "{value} x 512 s ({}) after the coin confirms",
            format_duration(u64::from(value) * 512)
        ),
        TimelockKind::Height => format!("not before block height {value}"),
        TimelockKind::Time => format!(
            "not before {} (unix {value}, by median time past)",
            format_date_time(i64::from(value))
        ),
    }
}
