//! A throw-away regtest Bitcoin Core node for the tests that check BiSCOL against real Core.
//!
//! In: the `bitcoind` binary, from `BITCOIND_EXE` or else the cache `.ci/build-bitcoind` fills
//! (`$HOME/.cache/biscol-bitcoind/<source version>/bitcoind`, the highest version when several).
//! Out: a running node ([`CoreNode`]) on a free loopback port with its own temporary data
//! folder, cookie authentication, `-txindex` and no wallet, answering RPC; it is stopped (and
//! its folder removed) when the value is dropped, also when a test panics. The process handling
//! is `corepc-node`'s (without its download feature).
//!
//! When no binary is found, [`CoreNode::start`] returns `None` after printing why, so the test
//! is skipped; with `BISCOL_REQUIRE_BITCOIND=1` (CI) a missing binary is a failure instead.
//!
//! The node runs with the embedded chain's relay policy (`-minrelaytxfee` and
//! `-incrementalrelayfee` at 1 sat/vB, Core's default before 29.1; 31.x defaults to 0.1 sat/vB),
//! so that both refuse the same low fees.
//!
//! This file is shared by path with the `tests/` crate: it depends only on `corepc-node` and
//! `serde_json`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Where a `bitcoind` binary comes from: `BITCOIND_EXE`, else the build script's cache.
pub fn bitcoind_exe() -> Result<PathBuf, String> {
    if let Some(exe) = std::env::var_os("BITCOIND_EXE").filter(|v| !v.is_empty()) {
        let exe = PathBuf::from(exe);
        return if exe.is_file() {
            Ok(exe)
        } else {
            Err(format!("BITCOIND_EXE={} is not a file", exe.display()))
        };
    }
    let home = std::env::var_os("HOME").ok_or("neither BITCOIND_EXE nor HOME is set")?;
    let cache = std::env::var_os("BISCOL_BITCOIND_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&home).join(".cache/biscol-bitcoind"));
    let mut found: Vec<PathBuf> = std::fs::read_dir(&cache)
        .map_err(|e| {
            format!(
                "BITCOIND_EXE is not set and the cache {} cannot be read ({e}); run .ci/build-bitcoind",
                cache.display()
            )
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bitcoind"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        format!(
            "BITCOIND_EXE is not set and {} holds no bitcoind; run .ci/build-bitcoind",
            cache.display()
        )
    })
}

/// Whether a missing `bitcoind` fails the test (`BISCOL_REQUIRE_BITCOIND=1`, set by CI).
pub fn bitcoind_required() -> bool {
    std::env::var("BISCOL_REQUIRE_BITCOIND").is_ok_and(|v| v == "1")
}

/// An RPC call Core refused: its error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RPC error {}: {}", self.code, self.message)
    }
}

/// A running regtest `bitcoind`; stopped on drop.
pub struct CoreNode {
    node: corepc_node::Node,
    exe: PathBuf,
}

impl CoreNode {
    /// Starts a node, or returns `None` (after printing why) when no binary is found and CI
    /// does not require one. `test` names the caller in the message.
    pub fn start(test: &str) -> Option<CoreNode> {
        let exe = match bitcoind_exe() {
            Ok(exe) => exe,
            Err(why) if bitcoind_required() => {
                panic!("{test}: BISCOL_REQUIRE_BITCOIND=1 but no bitcoind: {why}")
            }
            Err(why) => {
                eprintln!("{test}: skipped, no bitcoind: {why}");
                return None;
            }
        };
        Some(CoreNode::start_exe(&exe).unwrap_or_else(|e| panic!("{test}: {e}")))
    }

    /// Starts the node from `exe`.
    pub fn start_exe(exe: &Path) -> Result<CoreNode, String> {
        let mut conf = corepc_node::Conf::default();
        conf.args = vec![
            "-regtest",
            "-txindex",
            "-server",
            "-minrelaytxfee=0.00001",
            "-incrementalrelayfee=0.00001",
            // Quiet and small: no peers, no debug log on disk beyond the default.
            "-dnsseed=0",
            "-fixedseeds=0",
            "-printtoconsole=0",
        ];
        conf.wallet = None;
        conf.p2p = corepc_node::P2P::No;
        let node = corepc_node::Node::with_conf(exe, &conf)
            .map_err(|e| format!("starting {}: {e:#}", exe.display()))?;
        Ok(CoreNode {
            node,
            exe: exe.to_path_buf(),
        })
    }

    /// The binary the node runs.
    pub fn exe(&self) -> &Path {
        &self.exe
    }

    /// `http://127.0.0.1:<port>`.
    pub fn rpc_url(&self) -> String {
        self.node.rpc_url()
    }

    /// The node's cookie file.
    pub fn cookie_file(&self) -> &Path {
        &self.node.params.cookie_file
    }

    /// Calls `method` with `args`; Core's refusal as an [`RpcError`], anything else (transport,
    /// decoding) as a panic, since the node is ours.
    pub fn call(&self, method: &str, args: &[Value]) -> Result<Value, RpcError> {
        use corepc_node::client::client_sync::Error;
        match self.node.client.call::<Value>(method, args) {
            Ok(v) => Ok(v),
            Err(Error::JsonRpc(jsonrpc_corepc::Error::Rpc(e))) => Err(RpcError {
                code: i64::from(e.code),
                message: e.message,
            }),
            Err(e) => panic!("{method}: {e}"),
        }
    }

    /// Calls `method`, panicking with Core's message when it refuses.
    pub fn must(&self, method: &str, args: &[Value]) -> Value {
        self.call(method, args)
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// The node's version number (`310000`-style, from `getnetworkinfo`).
    pub fn version(&self) -> u64 {
        self.must("getnetworkinfo", &[])
            .get("version")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }
}
