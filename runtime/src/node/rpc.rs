//! The node's Bitcoin Core JSON-RPC methods.
//!
//! In: a request body (one JSON-RPC 1.0 or 2.0 request, or a batch). Out: Core's response: for
//! JSON-RPC 1.0 `{"result", "error", "id"}` with HTTP 500 on errors (404 for an unknown
//! method), for 2.0 `{"jsonrpc": "2.0", "result" | "error", "id"}` with HTTP 200; a batch is an
//! array of responses with HTTP 200. Positional and named parameters are accepted.
//!
//! Methods: `getblockchaininfo`, `getblockcount`, `getbestblockhash`, `getblockhash`,
//! `getblockheader`, `getblock` (verbosity 0, 1, 2), `sendrawtransaction`, `testmempoolaccept`,
//! `getrawtransaction`, `gettxout`, `scantxoutset` (`start` with `raw(<hex>)` and
//! `addr(<address>)` descriptors, `status`, `abort`), `generatetoaddress`, `getrawmempool`,
//! `getmempoolentry`, `gettxspendingprevout`, and the extension
//! `biscol_generate(nblocks, address, advance_seconds)`: `generatetoaddress` whose first
//! block's timestamp is `advance_seconds` later than it would otherwise be (the embedded
//! chain's time advance), for testing time-based locks. The advance is bounded: at most
//! [`MAX_TIME_ADVANCE`] (ten years) per call, and the block time it leads to at most
//! [`MAX_BLOCK_TIME`] (`u32::MAX` minus ten years, in 2096), so that block time (a `u32`) never
//! overflows or gets pinned at its maximum; a larger advance is refused with -8 and nothing is
//! mined.
//!
//! Errors are Core's codes: -32700 parse error, -32600 invalid request, -32601 method not
//! found, -1 wrong number of parameters, -3 wrong parameter type, -8 invalid parameter, -5
//! unknown block, transaction or address, -22 undecodable transaction, -25 missing or spent
//! inputs, -26 policy or consensus rejection (Core's reject reasons, from the embedded chain's
//! [`TxReject`]), -27 already in the chain. Every transaction the embedded chain knows is indexed,
//! so `getrawtransaction` works as with Core's `-txindex`.
//!
//! `testmempoolaccept` never changes the mempool: it is the embedded chain's dry run,
//! [`EmbeddedChain::test_accept`](crate::chain::embedded::EmbeddedChain::test_accept), which validates against the chain and a copy of the mempool
//! in memory and writes nothing. Several transactions are tried in order, each on top of the
//! ones before it (Core validates them as a package; the results agree when every transaction
//! is accepted, and the first refusal is reported the same way).

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{Address, Block, BlockHash, Network, OutPoint, Script, ScriptBuf, Transaction, Txid};
use serde_json::{json, Map, Value};

use super::{btc, format_money, Reply, State};
use crate::chain::embedded::rules;
use crate::chain::{ChainBackend, ChainError, ReplacementRule, TxReject, TxStatus};

/// Regtest's difficulty as Core prints it.
pub const REGTEST_DIFFICULTY: f64 = 4.656_542_373_906_925e-10;
/// The most blocks one `generatetoaddress` call mines.
const MAX_GENERATE: u64 = 10_000;

// The bounds of `biscol_generate`'s `advance_seconds` are the embedded chain's own.
pub use crate::chain::embedded::{MAX_BLOCK_TIME, MAX_TIME_ADVANCE};

/// A JSON-RPC error: Core's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// Core's error code.
    pub code: i32,
    /// Core's message.
    pub message: String,
}

fn err(code: i32, message: impl Into<String>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
    }
}

fn internal(e: ChainError) -> RpcError {
    err(-1, e.to_string())
}

/// Answers an HTTP body holding one request or a batch.
pub(crate) fn handle(state: &mut State, body: &[u8]) -> Reply {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return Reply::json(
                500,
                &json!({"result": null, "error": {"code": -32700, "message": "Parse error"}, "id": null}),
            )
        }
    };
    match parsed {
        Value::Array(requests) => {
            let out: Vec<Value> = requests
                .iter()
                .filter_map(|r| one(state, r).map(|(_, v)| v))
                .collect();
            Reply::json(200, &Value::Array(out))
        }
        request => match one(state, &request) {
            Some((status, v)) => Reply::json(status, &v),
            None => Reply {
                status: 204,
                content_type: "application/json",
                body: Vec::new(),
                headers: Vec::new(),
            },
        },
    }
}

/// One request: the HTTP status a single request would get and the response object; `None`
/// for a JSON-RPC 2.0 notification (no `id`), which gets no response.
fn one(state: &mut State, request: &Value) -> Option<(u16, Value)> {
    let Some(obj) = request.as_object() else {
        return Some((
            400,
            json!({"result": null, "error": {"code": -32600, "message": "Invalid Request object"}, "id": null}),
        ));
    };
    let v2 = obj.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let id = obj.get("id").cloned();
    if v2 && id.is_none() {
        // A notification: run it, answer nothing.
        if let Some(method) = obj.get("method").and_then(Value::as_str) {
            let _ = call(
                state,
                method,
                obj.get("params").cloned().unwrap_or(Value::Null),
            );
        }
        return None;
    }
    let id = id.unwrap_or(Value::Null);
    let result = match obj.get("method").and_then(Value::as_str) {
        Some(method) => call(
            state,
            method,
            obj.get("params").cloned().unwrap_or(Value::Null),
        ),
        None => Err(err(-32600, "Method must be a string")),
    };
    Some(match (result, v2) {
        (Ok(r), true) => (200, json!({"jsonrpc": "2.0", "result": r, "id": id})),
        (Ok(r), false) => (200, json!({"result": r, "error": null, "id": id})),
        (Err(e), true) => (
            200,
            json!({"jsonrpc": "2.0", "error": {"code": e.code, "message": e.message}, "id": id}),
        ),
        (Err(e), false) => {
            let status = match e.code {
                -32601 => 404,
                -32600 => 400,
                _ => 500,
            };
            (
                status,
                json!({"result": null, "error": {"code": e.code, "message": e.message}, "id": id}),
            )
        }
    })
}

/// Parameter names and how many are required, per method.
fn signature(method: &str) -> Option<(&'static [&'static str], usize)> {
    Some(match method {
        "getblockchaininfo" | "getblockcount" | "getbestblockhash" => (&[], 0),
        "getblockhash" => (&["height"], 1),
        "getblockheader" => (&["blockhash", "verbose"], 1),
        "getblock" => (&["blockhash", "verbosity"], 1),
        "sendrawtransaction" => (&["hexstring", "maxfeerate", "maxburnamount"], 1),
        "testmempoolaccept" => (&["rawtxs", "maxfeerate"], 1),
        "getrawtransaction" => (&["txid", "verbose", "blockhash"], 1),
        "gettxout" => (&["txid", "n", "include_mempool"], 2),
        "scantxoutset" => (&["action", "scanobjects"], 1),
        "generatetoaddress" => (&["nblocks", "address", "maxtries"], 2),
        "biscol_generate" => (&["nblocks", "address", "advance_seconds"], 2),
        "getrawmempool" => (&["verbose", "mempool_sequence"], 0),
        "getmempoolentry" => (&["txid"], 1),
        "gettxspendingprevout" => (&["outputs"], 1),
        _ => return None,
    })
}

/// The parameters of one call, positional, `Null` where absent.
struct Params {
    values: Vec<Value>,
    names: &'static [&'static str],
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_error(v: &Value, expected: &str) -> RpcError {
    err(
        -3,
        format!(
            "JSON value of type {} is not of expected type {expected}",
            type_name(v)
        ),
    )
}

impl Params {
    fn new(method: &str, raw: Value) -> Result<Params, RpcError> {
        let Some((names, required)) = signature(method) else {
            return Err(err(-32601, "Method not found"));
        };
        let mut values = vec![Value::Null; names.len()];
        match raw {
            Value::Null => {}
            Value::Array(a) => {
                if a.len() > names.len() {
                    return Err(usage(method, names, required));
                }
                for (slot, v) in values.iter_mut().zip(a) {
                    *slot = v;
                }
            }
            Value::Object(o) => {
                for (k, v) in o {
                    let Some(i) = names.iter().position(|n| *n == k) else {
                        return Err(err(-8, format!("Unknown named parameter {k}")));
                    };
                    if let Some(slot) = values.get_mut(i) {
                        *slot = v;
                    }
                }
            }
            other => return Err(type_error(&other, "array")),
        }
        if values.iter().take(required).any(Value::is_null) {
            return Err(usage(method, names, required));
        }
        Ok(Params { values, names })
    }

    fn get(&self, i: usize) -> &Value {
        self.values.get(i).unwrap_or(&Value::Null)
    }

    fn name(&self, i: usize) -> &'static str {
        self.names.get(i).copied().unwrap_or("?")
    }

    fn is_null(&self, i: usize) -> bool {
        self.get(i).is_null()
    }

    fn u64(&self, i: usize) -> Result<u64, RpcError> {
        let v = self.get(i);
        match v {
            Value::Number(n) => n
                .as_u64()
                .ok_or_else(|| err(-8, format!("{} out of range", self.name(i)))),
            _ => Err(type_error(v, "number")),
        }
    }

    fn str(&self, i: usize) -> Result<&str, RpcError> {
        let v = self.get(i);
        v.as_str().ok_or_else(|| type_error(v, "string"))
    }

    fn bool_or(&self, i: usize, default: bool) -> Result<bool, RpcError> {
        match self.get(i) {
            Value::Null => Ok(default),
            Value::Bool(b) => Ok(*b),
            // Core accepts 0/1 for the verbose flags of some methods.
            Value::Number(n) => Ok(n.as_u64().unwrap_or(0) != 0),
            v => Err(type_error(v, "bool")),
        }
    }

    fn hash<T: std::str::FromStr>(&self, i: usize) -> Result<T, RpcError> {
        let s = self.str(i)?;
        if s.len() != 64 {
            return Err(err(
                -8,
                format!(
                    "{} must be of length 64 (not {}, for '{}')",
                    self.name(i),
                    s.len(),
                    s.chars().take(80).collect::<String>()
                ),
            ));
        }
        s.parse().map_err(|_| {
            err(
                -8,
                format!(
                    "{} must be hexadecimal string (not '{}')",
                    self.name(i),
                    s.chars().take(80).collect::<String>()
                ),
            )
        })
    }
}

fn usage(method: &str, names: &[&str], required: usize) -> RpcError {
    let args: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i < required {
                n.to_string()
            } else {
                format!("( {n} )")
            }
        })
        .collect();
    err(
        -1,
        format!("{method} {}", args.join(" ")).trim().to_string(),
    )
}

/// Runs one method.
pub(crate) fn call(state: &mut State, method: &str, params: Value) -> Result<Value, RpcError> {
    let p = Params::new(method, params)?;
    state.sync_index();
    match method {
        "getblockchaininfo" => getblockchaininfo(state),
        "getblockcount" => Ok(json!(state.chain.height())),
        "getbestblockhash" => Ok(json!(tip_hash(state)?.to_string())),
        "getblockhash" => {
            let h = p.u64(0)?;
            u32::try_from(h)
                .ok()
                .and_then(|h| state.chain.block_hash(h))
                .map(|hash| json!(hash.to_string()))
                .ok_or_else(|| err(-8, "Block height out of range"))
        }
        "getblockheader" => {
            let hash: BlockHash = p.hash(0)?;
            let height = state
                .height_of(&hash)
                .ok_or_else(|| err(-5, "Block not found"))?;
            let block = block_at(state, height)?;
            if p.bool_or(1, true)? {
                Ok(header_json(state, height, &block, false))
            } else {
                Ok(json!(serialize_hex(&block.header)))
            }
        }
        "getblock" => {
            let hash: BlockHash = p.hash(0)?;
            let height = state
                .height_of(&hash)
                .ok_or_else(|| err(-5, "Block not found"))?;
            let block = block_at(state, height)?;
            let verbosity = match p.get(1) {
                Value::Null => 1,
                Value::Bool(b) => u64::from(*b),
                _ => p.u64(1)?,
            };
            match verbosity {
                0 => Ok(json!(serialize_hex(&block))),
                1..=3 => {
                    let mut v = header_json(state, height, &block, true);
                    let txs: Vec<Value> = if verbosity == 1 {
                        block
                            .txdata
                            .iter()
                            .map(|t| json!(t.compute_txid().to_string()))
                            .collect()
                    } else {
                        block.txdata.iter().map(tx_json).collect()
                    };
                    if let Some(o) = v.as_object_mut() {
                        o.insert("tx".into(), Value::Array(txs));
                    }
                    Ok(v)
                }
                _ => Err(err(-8, "Verbosity must be in range 0 to 3")),
            }
        }
        "sendrawtransaction" => {
            let tx = decode_tx(p.str(0)?)?;
            let txid = tx.compute_txid();
            match state.chain.broadcast(&tx) {
                Ok(txid) => Ok(json!(txid.to_string())),
                Err(ChainError::Rejected {
                    reason: TxReject::AlreadyKnown,
                    ..
                }) => {
                    // Core answers a transaction it already has in its mempool with its id.
                    if state.chain.mempool_txids().contains(&txid) {
                        Ok(json!(txid.to_string()))
                    } else {
                        Err(err(-27, "Transaction outputs already in utxo set"))
                    }
                }
                Err(ChainError::Rejected { reason, .. }) => {
                    let r = core_reject(&reason, &tx);
                    Err(err(r.code, r.message()))
                }
                Err(e) => Err(internal(e)),
            }
        }
        "testmempoolaccept" => testmempoolaccept(state, &p),
        "getrawtransaction" => getrawtransaction(state, &p),
        "gettxout" => gettxout(state, &p),
        "scantxoutset" => scantxoutset(state, &p),
        "generatetoaddress" | "biscol_generate" => {
            let n = p.u64(0)?;
            if n > MAX_GENERATE {
                return Err(err(-8, format!("at most {MAX_GENERATE} blocks per call")));
            }
            let address = parse_address(p.str(1)?)?;
            let advance = if method == "biscol_generate" && !p.is_null(2) {
                Some(checked_advance(state, p.u64(2)?)?)
            } else {
                None
            };
            let hashes = state
                .chain
                .mine(n as u32, &address.script_pubkey(), advance)
                .map_err(internal)?;
            state.sync_index();
            Ok(Value::Array(
                hashes.iter().map(|h| json!(h.to_string())).collect(),
            ))
        }
        "getrawmempool" => {
            let txids = state.chain.mempool_txids();
            if p.bool_or(0, false)? {
                let mut o = Map::new();
                for t in &txids {
                    o.insert(t.to_string(), mempool_entry(state, t)?);
                }
                Ok(Value::Object(o))
            } else {
                Ok(Value::Array(
                    txids.iter().map(|t| json!(t.to_string())).collect(),
                ))
            }
        }
        "getmempoolentry" => {
            let txid: Txid = p.hash(0)?;
            if !state.chain.mempool_txids().contains(&txid) {
                return Err(err(-5, "Transaction not in mempool"));
            }
            mempool_entry(state, &txid)
        }
        "gettxspendingprevout" => {
            let outputs = p
                .get(0)
                .as_array()
                .ok_or_else(|| type_error(p.get(0), "array"))?;
            let mempool: Vec<Transaction> = state
                .chain
                .mempool_txids()
                .iter()
                .filter_map(|t| state.chain.transaction(t).ok().flatten())
                .collect();
            let mut out = Vec::new();
            for o in outputs {
                let txid: Txid = o
                    .get("txid")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| err(-8, "txid must be hexadecimal string of length 64"))?;
                let vout = o
                    .get("vout")
                    .and_then(Value::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| err(-8, "Invalid parameter, vout cannot be negative"))?;
                let op = OutPoint { txid, vout };
                let mut entry = json!({"txid": txid.to_string(), "vout": vout});
                if let Some(spender) = mempool
                    .iter()
                    .find(|t| t.input.iter().any(|i| i.previous_output == op))
                {
                    entry["spendingtxid"] = json!(spender.compute_txid().to_string());
                }
                out.push(entry);
            }
            Ok(Value::Array(out))
        }
        _ => Err(err(-32601, "Method not found")),
    }
}

/// `advance` when the block time it leads to stays within [`MAX_BLOCK_TIME`], else -8.
///
/// The embedded chain times the next block at the latest of the tip's time, the median time
/// past plus one and the clock, plus the advance; later blocks of the same call keep that time.
fn checked_advance(state: &State, advance: u64) -> Result<u32, RpcError> {
    if advance > u64::from(MAX_TIME_ADVANCE) {
        return Err(err(
            -8,
            format!(
                "advance_seconds {advance} is more than {MAX_TIME_ADVANCE} (ten years) per call"
            ),
        ));
    }
    let height = state.chain.height();
    let tip_time = block_at(state, height)?.header.time;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = u64::from(tip_time)
        .max(u64::from(state.chain.median_time_past(height)) + 1)
        .max(now);
    let time = base + advance;
    if time > u64::from(MAX_BLOCK_TIME) {
        return Err(err(
            -8,
            format!(
                "advance_seconds {advance} would set block time to {time}, past the latest \
                 allowed, {MAX_BLOCK_TIME} (block time is a u32)"
            ),
        ));
    }
    // Both bounds hold, so the advance fits a u32.
    u32::try_from(advance).map_err(|_| err(-8, "advance_seconds out of range"))
}

fn tip_hash(state: &State) -> Result<BlockHash, RpcError> {
    state
        .chain
        .block_hash(state.chain.height())
        .ok_or_else(|| err(-1, "the chain has no blocks"))
}

fn block_at(state: &State, height: u32) -> Result<Block, RpcError> {
    state
        .chain
        .block(height)
        .map_err(internal)?
        .ok_or_else(|| err(-1, format!("block {height} is missing from the store")))
}

/// Core's `chainwork`: regtest blocks each add 2 units of work.
pub(crate) fn chainwork(height: u32) -> String {
    format!("{:064x}", (u64::from(height) + 1) * 2)
}

fn getblockchaininfo(state: &State) -> Result<Value, RpcError> {
    let tip = state.chain.tip().map_err(internal)?;
    Ok(json!({
        "chain": "regtest",
        "blocks": tip.height,
        "headers": tip.height,
        "bestblockhash": tip.hash.to_string(),
        "bits": "207fffff",
        "target": "7fffff0000000000000000000000000000000000000000000000000000000000",
        "difficulty": REGTEST_DIFFICULTY,
        "time": tip.time,
        "mediantime": tip.median_time_past,
        "verificationprogress": 1.0,
        "initialblockdownload": false,
        "chainwork": chainwork(tip.height),
        "size_on_disk": 0,
        "pruned": false,
        "warnings": [],
    }))
}

/// `getblockheader`'s verbose object (and the header part of `getblock`'s).
fn header_json(state: &State, height: u32, block: &Block, with_sizes: bool) -> Value {
    let tip = state.chain.height();
    let h = &block.header;
    let mut v = json!({
        "hash": block.block_hash().to_string(),
        "confirmations": tip - height + 1,
        "height": height,
        "version": h.version.to_consensus(),
        "versionHex": format!("{:08x}", h.version.to_consensus()),
        "merkleroot": h.merkle_root.to_string(),
        "time": h.time,
        "mediantime": state.chain.median_time_past(height),
        "nonce": h.nonce,
        "bits": format!("{:08x}", h.bits.to_consensus()),
        "difficulty": REGTEST_DIFFICULTY,
        "chainwork": chainwork(height),
        "nTx": block.txdata.len(),
    });
    if let Some(o) = v.as_object_mut() {
        if height > 0 {
            o.insert(
                "previousblockhash".into(),
                json!(h.prev_blockhash.to_string()),
            );
        }
        if let Some(next) = state.chain.block_hash(height + 1) {
            o.insert("nextblockhash".into(), json!(next.to_string()));
        }
        if with_sizes {
            let size = bitcoin::consensus::encode::serialize(block).len();
            o.insert("size".into(), json!(size));
            o.insert(
                "strippedsize".into(),
                json!(block.weight().to_wu().saturating_sub(size as u64) / 3),
            );
            o.insert("weight".into(), json!(block.weight().to_wu()));
        }
    }
    v
}

fn decode_tx(hex: &str) -> Result<Transaction, RpcError> {
    deserialize_hex::<Transaction>(hex).map_err(|_| {
        err(
            -22,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    })
}

fn parse_address(s: &str) -> Result<Address, RpcError> {
    s.parse::<Address<bitcoin::address::NetworkUnchecked>>()
        .ok()
        .and_then(|a| a.require_network(Network::Regtest).ok())
        .ok_or_else(|| err(-5, "Error: Invalid address"))
}

/// A test of whether a script is of one type.
type ScriptTest = fn(&Script) -> bool;

/// Core's script type names, each with its test, in the order Core tries them.
const SCRIPT_TYPES: &[(ScriptTest, &str)] = &[
    (Script::is_p2tr, "witness_v1_taproot"),
    (Script::is_p2wpkh, "witness_v0_keyhash"),
    (Script::is_p2wsh, "witness_v0_scripthash"),
    (Script::is_p2pkh, "pubkeyhash"),
    (Script::is_p2sh, "scripthash"),
    (Script::is_op_return, "nulldata"),
    (Script::is_p2pk, "pubkey"),
    (Script::is_multisig, "multisig"),
    (|spk| spk.as_bytes() == [0x51, 0x02, 0x4e, 0x73], "anchor"),
    (|spk| spk.witness_version().is_some(), "witness_unknown"),
];

/// Core's script type name of `spk` (`nonstandard` when no type fits).
pub(crate) fn script_type(spk: &Script) -> &'static str {
    SCRIPT_TYPES
        .iter()
        .find(|(is, _)| is(spk))
        .map_or("nonstandard", |(_, name)| name)
}

/// A descriptor with its checksum: `addr(<address>)` when the script has a regtest address,
/// `raw(<hex>)` otherwise.
pub(crate) fn descriptor(spk: &Script) -> String {
    let body = match Address::from_script(spk, Network::Regtest) {
        Ok(a) => format!("addr({a})"),
        Err(_) => format!("raw({})", hex::encode(spk.as_bytes())),
    };
    with_checksum(&body)
}

fn with_checksum(body: &str) -> String {
    let mut engine = miniscript::descriptor::checksum::Engine::new();
    match engine.input(body) {
        Ok(()) => format!("{body}#{}", engine.checksum()),
        Err(_) => body.to_string(),
    }
}

fn script_pubkey_json(spk: &Script) -> Value {
    let mut v = json!({
        "asm": spk.to_asm_string(),
        "desc": descriptor(spk),
        "hex": hex::encode(spk.as_bytes()),
        "type": script_type(spk),
    });
    if let Ok(a) = Address::from_script(spk, Network::Regtest) {
        v["address"] = json!(a.to_string());
    }
    v
}

/// Core's decoded transaction (`decoderawtransaction`'s object plus `hex`).
fn tx_json(tx: &Transaction) -> Value {
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|i| {
            let mut v = if tx.is_coinbase() {
                json!({"coinbase": hex::encode(i.script_sig.as_bytes())})
            } else {
                json!({
                    "txid": i.previous_output.txid.to_string(),
                    "vout": i.previous_output.vout,
                    "scriptSig": {
                        "asm": i.script_sig.to_asm_string(),
                        "hex": hex::encode(i.script_sig.as_bytes()),
                    },
                })
            };
            if !i.witness.is_empty() {
                v["txinwitness"] =
                    Value::Array(i.witness.iter().map(|w| json!(hex::encode(w))).collect());
            }
            v["sequence"] = json!(i.sequence.0);
            v
        })
        .collect();
    let vout: Vec<Value> = tx
        .output
        .iter()
        .enumerate()
        .map(|(n, o)| {
            json!({
                "value": btc(o.value.to_sat()),
                "n": n,
                "scriptPubKey": script_pubkey_json(&o.script_pubkey),
            })
        })
        .collect();
    json!({
        "txid": tx.compute_txid().to_string(),
        "hash": tx.compute_wtxid().to_string(),
        "version": tx.version.0,
        "size": tx.total_size(),
        "vsize": rules::vsize(tx),
        "weight": tx.weight().to_wu(),
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": vout,
        "hex": serialize_hex(tx),
    })
}

fn getrawtransaction(state: &State, p: &Params) -> Result<Value, RpcError> {
    let txid: Txid = p.hash(0)?;
    let verbose = match p.get(1) {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_u64().unwrap_or(0) != 0,
        v => return Err(type_error(v, "number")),
    };
    let in_block: Option<BlockHash> = if p.is_null(2) { None } else { Some(p.hash(2)?) };
    let status = state.chain.tx_status(&txid).map_err(internal)?;
    if let Some(bh) = in_block {
        if state.height_of(&bh).is_none() {
            return Err(err(-5, "Block hash not found"));
        }
        match status {
            TxStatus::Confirmed { block_hash, .. } if block_hash == bh => {}
            _ => {
                return Err(err(
                    -5,
                    "No such transaction found in the provided block. Use gettransaction for wallet transactions.",
                ))
            }
        }
    }
    let tx = state.chain.transaction(&txid).map_err(internal)?.ok_or_else(|| {
        err(
            -5,
            "No such mempool or blockchain transaction. Use gettransaction for wallet transactions.",
        )
    })?;
    if !verbose {
        return Ok(json!(serialize_hex(&tx)));
    }
    let mut v = tx_json(&tx);
    if in_block.is_some() {
        v["in_active_chain"] = json!(true);
    }
    if let TxStatus::Confirmed {
        height,
        block_hash,
        confirmations,
    } = status
    {
        let time = block_at(state, height)?.header.time;
        v["blockhash"] = json!(block_hash.to_string());
        v["confirmations"] = json!(confirmations);
        v["time"] = json!(time);
        v["blocktime"] = json!(time);
    }
    Ok(v)
}

fn gettxout(state: &State, p: &Params) -> Result<Value, RpcError> {
    let txid: Txid = p.hash(0)?;
    let vout = u32::try_from(p.u64(1)?).map_err(|_| err(-8, "vout out of range"))?;
    let include_mempool = p.bool_or(2, true)?;
    let op = OutPoint { txid, vout };
    let tip = state.chain.tip().map_err(internal)?;
    let mempool = state.chain.mempool_txids();
    if include_mempool {
        // Spent by a mempool transaction: Core answers null.
        for t in &mempool {
            if let Ok(Some(tx)) = state.chain.transaction(t) {
                if tx.input.iter().any(|i| i.previous_output == op) {
                    return Ok(Value::Null);
                }
            }
        }
        if mempool.contains(&txid) {
            let tx = state.chain.transaction(&txid).map_err(internal)?;
            return Ok(
                match tx.as_ref().and_then(|t| t.output.get(vout as usize)) {
                    Some(o) => json!({
                        "bestblock": tip.hash.to_string(),
                        "confirmations": 0,
                        "value": btc(o.value.to_sat()),
                        "scriptPubKey": script_pubkey_json(&o.script_pubkey),
                        "coinbase": false,
                    }),
                    None => Value::Null,
                },
            );
        }
    }
    Ok(
        match state.chain.utxo_set().into_iter().find(|(o, _)| *o == op) {
            Some((_, coin)) => json!({
                "bestblock": tip.hash.to_string(),
                "confirmations": tip.height - coin.height + 1,
                "value": btc(coin.txout.value.to_sat()),
                "scriptPubKey": script_pubkey_json(&coin.txout.script_pubkey),
                "coinbase": coin.coinbase,
            }),
            None => Value::Null,
        },
    )
}

/// Parses a `scantxoutset` descriptor: `raw(<hex>)` or `addr(<address>)`, with an optional
/// checksum that must then be right.
fn scan_descriptor(desc: &str) -> Result<ScriptBuf, RpcError> {
    let body = if desc.contains('#') {
        miniscript::descriptor::checksum::verify_checksum(desc)
            .map_err(|e| err(-5, format!("{e}")))?
    } else {
        desc
    };
    if let Some(h) = body.strip_prefix("raw(").and_then(|s| s.strip_suffix(')')) {
        let bytes = hex::decode(h).map_err(|_| err(-5, format!("Raw script is not hex: {h}")))?;
        return Ok(ScriptBuf::from_bytes(bytes));
    }
    if let Some(a) = body.strip_prefix("addr(").and_then(|s| s.strip_suffix(')')) {
        return parse_address(a)
            .map(|a| a.script_pubkey())
            .map_err(|_| err(-5, format!("Address is not valid: {a}")));
    }
    Err(err(
        -5,
        format!("this node scans only raw(<hex>) and addr(<address>) descriptors, not '{body}'"),
    ))
}

fn scantxoutset(state: &State, p: &Params) -> Result<Value, RpcError> {
    match p.str(0)? {
        "status" => return Ok(Value::Null),
        "abort" => return Ok(json!(false)),
        "start" => {}
        other => return Err(err(-8, format!("Invalid action '{other}'"))),
    }
    let objects = p
        .get(1)
        .as_array()
        .ok_or_else(|| err(-8, "scanobjects argument is required for the start action"))?;
    let mut scripts = Vec::new();
    for o in objects {
        let desc = match o {
            Value::String(s) => s.as_str(),
            Value::Object(m) => m
                .get("desc")
                .and_then(Value::as_str)
                .ok_or_else(|| err(-8, "Scan object needs to be either a string or an object"))?,
            _ => {
                return Err(err(
                    -8,
                    "Scan object needs to be either a string or an object",
                ))
            }
        };
        scripts.push((scan_descriptor(desc)?, desc.to_string()));
    }
    let tip = state.chain.tip().map_err(internal)?;
    let set = state.chain.utxo_set();
    let mut total = 0u64;
    let mut unspents = Vec::new();
    for (op, coin) in &set {
        if scripts.iter().any(|(s, _)| *s == coin.txout.script_pubkey) {
            total += coin.txout.value.to_sat();
            let block_hash = state
                .chain
                .block_hash(coin.height)
                .map(|h| h.to_string())
                .unwrap_or_default();
            unspents.push(json!({
                "txid": op.txid.to_string(),
                "vout": op.vout,
                "scriptPubKey": hex::encode(coin.txout.script_pubkey.as_bytes()),
                "desc": descriptor(&coin.txout.script_pubkey),
                "amount": btc(coin.txout.value.to_sat()),
                "coinbase": coin.coinbase,
                "height": coin.height,
                "blockhash": block_hash,
                "confirmations": tip.height - coin.height + 1,
            }));
        }
    }
    Ok(json!({
        "success": true,
        "txouts": set.len(),
        "height": tip.height,
        "bestblock": tip.hash.to_string(),
        "unspents": unspents,
        "total_amount": btc(total),
    }))
}

fn mempool_entry(state: &State, txid: &Txid) -> Result<Value, RpcError> {
    let tx = state
        .chain
        .transaction(txid)
        .map_err(internal)?
        .ok_or_else(|| err(-5, "Transaction not in mempool"))?;
    let fee = state.chain.mempool_fee(txid).unwrap_or(0);
    let mempool = state.chain.mempool_txids();
    let depends: Vec<Value> = tx
        .input
        .iter()
        .map(|i| i.previous_output.txid)
        .filter(|t| mempool.contains(t))
        .map(|t| json!(t.to_string()))
        .collect();
    let spentby: Vec<Value> = mempool
        .iter()
        .filter(|t| {
            state
                .chain
                .transaction(t)
                .ok()
                .flatten()
                .is_some_and(|c| c.input.iter().any(|i| i.previous_output.txid == *txid))
        })
        .map(|t| json!(t.to_string()))
        .collect();
    Ok(json!({
        "vsize": rules::vsize(&tx),
        "weight": tx.weight().to_wu(),
        "height": state.chain.height(),
        "fees": {"base": btc(fee), "modified": btc(fee), "ancestor": btc(fee), "descendant": btc(fee)},
        "depends": depends,
        "spentby": spentby,
        "bip125-replaceable": true,
        "unbroadcast": false,
        "wtxid": tx.compute_wtxid().to_string(),
    }))
}

fn testmempoolaccept(state: &State, p: &Params) -> Result<Value, RpcError> {
    let raw = p
        .get(0)
        .as_array()
        .ok_or_else(|| type_error(p.get(0), "array"))?;
    if raw.is_empty() || raw.len() > 25 {
        return Err(err(-8, "Array must contain between 1 and 25 transactions."));
    }
    let mut txs = Vec::with_capacity(raw.len());
    for r in raw {
        let s = r.as_str().ok_or_else(|| type_error(r, "string"))?;
        txs.push(decode_tx(s)?);
    }
    let results = state.chain.test_accept(&txs);
    let mut out = Vec::with_capacity(txs.len());
    for (tx, result) in txs.iter().zip(results) {
        let txid = tx.compute_txid();
        let mut v = json!({"txid": txid.to_string(), "wtxid": tx.compute_wtxid().to_string()});
        match result {
            Ok(accepted) => {
                let fee = accepted.fee.to_sat();
                v["allowed"] = json!(true);
                v["vsize"] = json!(accepted.vsize);
                v["fees"] = json!({"base": btc(fee), "effective-feerate": btc(fee * 1000 / accepted.vsize.max(1)), "effective-includes": [tx.compute_wtxid().to_string()]});
            }
            Err(reason) => {
                let r = if reason == TxReject::AlreadyKnown {
                    if state.chain.mempool_txids().contains(&txid) {
                        CoreReject::new(-26, "txn-already-in-mempool", "")
                    } else {
                        CoreReject::new(-27, "txn-already-known", "")
                    }
                } else {
                    core_reject(&reason, tx)
                };
                v["allowed"] = json!(false);
                v["reject-reason"] = json!(r.reason);
                v["reject-details"] = json!(r.message());
            }
        }
        out.push(v);
    }
    Ok(Value::Array(out))
}

/// A rejection as Bitcoin Core reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreReject {
    /// The RPC error code (-25 missing inputs, -26 rejected, -27 already in the chain).
    pub code: i32,
    /// Core's reject reason (`testmempoolaccept`'s `reject-reason`).
    pub reason: String,
    /// Core's debug message after the reason (may be empty).
    pub debug: String,
}

impl CoreReject {
    fn new(code: i32, reason: impl Into<String>, debug: impl Into<String>) -> CoreReject {
        CoreReject {
            code,
            reason: reason.into(),
            debug: debug.into(),
        }
    }

    /// `reason, debug` as Core's `ValidationState::ToString` (the RPC error message).
    pub fn message(&self) -> String {
        if self.debug.is_empty() {
            self.reason.clone()
        } else {
            format!("{}, {}", self.reason, self.debug)
        }
    }
}

fn btc_per_kvb(sat_per_kvb: u64) -> String {
    format!(
        "{}.{:08} BTC/kvB",
        sat_per_kvb / 100_000_000,
        sat_per_kvb % 100_000_000
    )
}

/// The Core reject reason and message for an embedded chain rejection of `tx`.
pub fn core_reject(reason: &TxReject, tx: &Transaction) -> CoreReject {
    let txid = tx.compute_txid();
    match reason {
        TxReject::CheckTransaction { reason } => CoreReject::new(-26, *reason, ""),
        TxReject::Coinbase => CoreReject::new(-26, "coinbase", ""),
        TxReject::AlreadyKnown => CoreReject::new(-27, "txn-already-known", ""),
        TxReject::MissingInput { .. } | TxReject::SpentInChain { .. } => {
            CoreReject::new(-25, "bad-txns-inputs-missingorspent", "")
        }
        TxReject::ReplacementRefused { conflict, rule } => match rule {
            ReplacementRule::FeeRate {
                new_sat_per_kvb,
                old_sat_per_kvb,
            } => CoreReject::new(
                -26,
                "insufficient fee",
                format!(
                    "rejecting replacement {conflict}; new feerate {} <= old feerate {}",
                    btc_per_kvb(*new_sat_per_kvb),
                    btc_per_kvb(*old_sat_per_kvb)
                ),
            ),
            ReplacementRule::AbsoluteFee { new_fee, needs } => {
                let relay = rules::vsize(tx) * rules::MIN_RELAY_FEE_SAT_PER_KVB / 1000;
                let evicted = needs.saturating_sub(relay);
                if *new_fee < evicted {
                    CoreReject::new(
                        -26,
                        "insufficient fee",
                        format!(
                            "rejecting replacement {txid}, less fees than conflicting txs; {} < {}",
                            format_money(*new_fee),
                            format_money(evicted)
                        ),
                    )
                } else {
                    CoreReject::new(
                        -26,
                        "insufficient fee",
                        format!(
                            "rejecting replacement {txid}, not enough additional fees to relay; {} < {}",
                            format_money(new_fee - evicted),
                            format_money(relay)
                        ),
                    )
                }
            }
            ReplacementRule::TooManyConflictingClusters { count } => CoreReject::new(
                -26,
                "too many potential replacements",
                format!(
                    "rejecting replacement {txid}; too many conflicting clusters ({count} > 100)"
                ),
            ),
            ReplacementRule::SpendsConflict => CoreReject::new(
                -26,
                "bad-txns-spends-conflicting-tx",
                format!("{txid} spends conflicting transaction {conflict}"),
            ),
        },
        TxReject::ValueCreation { inputs, outputs } => CoreReject::new(
            -26,
            "bad-txns-in-belowout",
            format!(
                "value in ({}) < value out ({})",
                format_money(*inputs),
                format_money(*outputs)
            ),
        ),
        TxReject::CoinbaseMaturity { has, .. } => CoreReject::new(
            -26,
            "bad-txns-premature-spend-of-coinbase",
            format!("tried to spend coinbase at depth {has}"),
        ),
        TxReject::RelativeHeightLock { .. } | TxReject::RelativeTimeLock { .. } => {
            CoreReject::new(-26, "non-BIP68-final", "")
        }
        TxReject::NonFinal { .. } => CoreReject::new(-26, "non-final", ""),
        TxReject::Script { input, error } => CoreReject::new(
            -26,
            format!("mandatory-script-verify-flag-failed ({})", error.name()),
            format!("input {input}"),
        ),
        TxReject::SigopCost { cost, .. } => {
            CoreReject::new(-26, "bad-txns-too-many-sigops", cost.to_string())
        }
        TxReject::Version { .. } => CoreReject::new(-26, "version", ""),
        TxReject::Weight { .. } => CoreReject::new(-26, "tx-size", ""),
        TxReject::TooSmall { .. } => CoreReject::new(-26, "tx-size-small", ""),
        TxReject::ScriptSig { detail, .. } => CoreReject::new(
            -26,
            if detail.contains("push") {
                "scriptsig-not-pushonly"
            } else {
                "scriptsig-size"
            },
            "",
        ),
        TxReject::NonstandardOutput { .. } => CoreReject::new(-26, "scriptpubkey", ""),
        TxReject::Dust { .. } => CoreReject::new(-26, "dust", ""),
        TxReject::FeeTooLow { fee, min } => {
            CoreReject::new(-26, "min relay fee not met", format!("{fee} < {min}"))
        }
    }
}
