//! The node's Esplora REST subset, served under `/esplora`.
//!
//! In: a path after `/esplora` (and for `POST /tx` a hex body). Out: what Blockstream's Esplora
//! (electrs) answers, with its JSON field names, for the calls `esplora-client`'s blocking client
//! makes:
//!
//! * `GET /blocks/tip/height`, `/blocks/tip/hash`, `/block-height/:height` (text);
//! * `GET /block/:hash` (block info with `mediantime`), `/block/:hash/header` (hex),
//!   `/block/:hash/status`, `/block/:hash/raw`, `/block/:hash/txids`, `/block/:hash/txid/:index`;
//! * `GET /tx/:txid` (JSON), `/tx/:txid/hex`, `/tx/:txid/raw`, `/tx/:txid/status`,
//!   `/tx/:txid/outspend/:vout`;
//! * `POST /tx` (hex body; the txid, or HTTP 400 `sendrawtransaction RPC error: {"code",
//!   "message"}` like electrs);
//! * `GET /scripthash/:sha256/utxo`, `/address/:address/utxo`: confirmed and mempool outputs,
//!   minus those a mempool transaction spends (electrs's semantics);
//! * `GET /mempool/txids`.
//!
//! Unknown transactions and blocks are HTTP 404; `/tx/:txid/status` of an unknown transaction
//! is `{"confirmed": false}`, as electrs answers. Bad path parameters are HTTP 400.

use bitcoin::consensus::encode::{serialize, serialize_hex};
use bitcoin::hashes::{sha256, Hash};
use bitcoin::{Address, BlockHash, Network, OutPoint, Script, Transaction, Txid};
use serde_json::{json, Value};

use super::rpc::{self, REGTEST_DIFFICULTY};
use super::{Reply, State};
use crate::chain::{ChainBackend, TxStatus, Utxo};

fn not_found(what: &str) -> Reply {
    Reply::text(404, format!("{what} not found"))
}

fn bad(what: &str) -> Reply {
    Reply::text(400, format!("Invalid {what}"))
}

/// Answers a GET under `/esplora`.
pub(crate) fn get(state: &mut State, path: &str) -> Reply {
    state.sync_index();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["blocks", "tip", "height"] => Reply::text(200, state.chain.height().to_string()),
        ["blocks", "tip", "hash"] => match state.chain.block_hash(state.chain.height()) {
            Some(h) => Reply::text(200, h.to_string()),
            None => not_found("Block"),
        },
        ["block-height", h] => match h.parse::<u32>() {
            Ok(h) => match state.chain.block_hash(h) {
                Some(hash) => Reply::text(200, hash.to_string()),
                None => not_found("Block"),
            },
            Err(_) => bad("height"),
        },
        ["block", hash, rest @ ..] => block(state, hash, rest),
        ["tx", txid, rest @ ..] => tx(state, txid, rest),
        ["scripthash", hash, "utxo"] => match hash.parse::<sha256::Hash>() {
            Ok(h) => {
                let mut scripts: Vec<bitcoin::ScriptBuf> = state
                    .chain
                    .utxo_set()
                    .into_iter()
                    .map(|(_, c)| c.txout.script_pubkey)
                    .collect();
                for t in state.chain.mempool_txids() {
                    if let Ok(Some(tx)) = state.chain.transaction(&t) {
                        scripts.extend(tx.output.into_iter().map(|o| o.script_pubkey));
                    }
                }
                scripts.sort();
                scripts.dedup();
                let mut all = Vec::new();
                for s in scripts
                    .iter()
                    .filter(|s| sha256::Hash::hash(s.as_bytes()) == h)
                {
                    all.extend(utxos(state, s));
                }
                Reply::json(200, &Value::Array(all))
            }
            Err(_) => bad("scripthash"),
        },
        ["address", addr, "utxo"] => match addr
            .parse::<Address<bitcoin::address::NetworkUnchecked>>()
            .ok()
            .and_then(|a| a.require_network(Network::Regtest).ok())
        {
            Some(a) => Reply::json(200, &Value::Array(utxos(state, &a.script_pubkey()))),
            None => bad("Bitcoin address"),
        },
        ["mempool", "txids"] => Reply::json(
            200,
            &Value::Array(
                state
                    .chain
                    .mempool_txids()
                    .iter()
                    .map(|t| json!(t.to_string()))
                    .collect(),
            ),
        ),
        _ => Reply::text(404, "Not found"),
    }
}

/// Answers a POST under `/esplora`.
pub(crate) fn post(state: &mut State, path: &str, body: &[u8]) -> Reply {
    if path.trim_matches('/') != "tx" {
        return Reply::text(404, "Not found");
    }
    let Ok(hex) = std::str::from_utf8(body) else {
        return bad("transaction hex");
    };
    match rpc::call(state, "sendrawtransaction", json!([hex.trim()])) {
        Ok(v) => Reply::text(200, v.as_str().unwrap_or_default().to_string()),
        Err(e) => Reply::text(
            400,
            format!(
                "sendrawtransaction RPC error: {}",
                json!({"code": e.code, "message": e.message})
            ),
        ),
    }
}

fn status_json(state: &State, status: TxStatus) -> Value {
    match status {
        TxStatus::Confirmed {
            height, block_hash, ..
        } => {
            let time = state
                .chain
                .block(height)
                .ok()
                .flatten()
                .map(|b| b.header.time)
                .unwrap_or(0);
            json!({"confirmed": true, "block_height": height, "block_hash": block_hash.to_string(), "block_time": time})
        }
        _ => json!({"confirmed": false}),
    }
}

fn utxos(state: &State, spk: &Script) -> Vec<Value> {
    let list: Vec<Utxo> = state.chain.utxos(spk).unwrap_or_default();
    list.iter()
        .map(|u| {
            let status = match u.height {
                Some(h) => match state.chain.block_hash(h) {
                    Some(block_hash) => status_json(
                        state,
                        TxStatus::Confirmed {
                            height: h,
                            block_hash,
                            confirmations: state.chain.height() - h + 1,
                        },
                    ),
                    None => json!({"confirmed": false}),
                },
                None => json!({"confirmed": false}),
            };
            json!({
                "txid": u.outpoint.txid.to_string(),
                "vout": u.outpoint.vout,
                "status": status,
                "value": u.txout.value.to_sat(),
            })
        })
        .collect()
}

fn block(state: &State, hash: &str, rest: &[&str]) -> Reply {
    let Ok(hash) = hash.parse::<BlockHash>() else {
        return bad("hex string");
    };
    let Some(height) = state.height_of(&hash) else {
        return not_found("Block");
    };
    let Ok(Some(block)) = state.chain.block(height) else {
        return not_found("Block");
    };
    match rest {
        [] => {
            let h = &block.header;
            let mut v = json!({
                "id": hash.to_string(),
                "height": height,
                "version": h.version.to_consensus(),
                "timestamp": h.time,
                "tx_count": block.txdata.len(),
                "size": serialize(&block).len(),
                "weight": block.weight().to_wu(),
                "merkle_root": h.merkle_root.to_string(),
                "previousblockhash": null,
                "mediantime": state.chain.median_time_past(height),
                "nonce": h.nonce,
                "bits": h.bits.to_consensus(),
                "difficulty": REGTEST_DIFFICULTY,
            });
            if height > 0 {
                v["previousblockhash"] = json!(h.prev_blockhash.to_string());
            }
            Reply::json(200, &v)
        }
        ["header"] => Reply::text(200, serialize_hex(&block.header)),
        ["status"] => {
            let mut v = json!({"in_best_chain": true, "height": height, "next_best": null});
            if let Some(next) = state.chain.block_hash(height + 1) {
                v["next_best"] = json!(next.to_string());
            }
            Reply::json(200, &v)
        }
        ["raw"] => Reply::binary(serialize(&block)),
        ["txids"] => Reply::json(
            200,
            &Value::Array(
                block
                    .txdata
                    .iter()
                    .map(|t| json!(t.compute_txid().to_string()))
                    .collect(),
            ),
        ),
        ["txid", i] => match i.parse::<usize>().ok().and_then(|i| block.txdata.get(i)) {
            Some(t) => Reply::text(200, t.compute_txid().to_string()),
            None => not_found("Transaction"),
        },
        _ => Reply::text(404, "Not found"),
    }
}

fn script_type(spk: &Script) -> &'static str {
    match rpc::script_type(spk) {
        "witness_v1_taproot" => "v1_p2tr",
        "witness_v0_keyhash" => "v0_p2wpkh",
        "witness_v0_scripthash" => "v0_p2wsh",
        "pubkeyhash" => "p2pkh",
        "scripthash" => "p2sh",
        "nulldata" => "op_return",
        "pubkey" => "p2pk",
        "multisig" => "multisig",
        "anchor" => "anchor",
        _ => "unknown",
    }
}

fn output_json(spk: &Script, value: u64) -> Value {
    let mut v = json!({
        "scriptpubkey": hex::encode(spk.as_bytes()),
        "scriptpubkey_asm": spk.to_asm_string(),
        "scriptpubkey_type": script_type(spk),
        "value": value,
    });
    if let Ok(a) = Address::from_script(spk, Network::Regtest) {
        v["scriptpubkey_address"] = json!(a.to_string());
    }
    v
}

fn tx_json(state: &State, tx: &Transaction, status: TxStatus) -> Value {
    let mut in_value = 0u64;
    let mut all_prevouts = true;
    let vin: Vec<Value> = tx
        .input
        .iter()
        .map(|i| {
            let coinbase = tx.is_coinbase();
            let prevout = if coinbase {
                Value::Null
            } else {
                match state
                    .chain
                    .transaction(&i.previous_output.txid)
                    .ok()
                    .flatten()
                    .and_then(|p| p.output.get(i.previous_output.vout as usize).cloned())
                {
                    Some(o) => {
                        in_value += o.value.to_sat();
                        output_json(&o.script_pubkey, o.value.to_sat())
                    }
                    None => {
                        all_prevouts = false;
                        Value::Null
                    }
                }
            };
            json!({
                "txid": i.previous_output.txid.to_string(),
                "vout": i.previous_output.vout,
                "prevout": prevout,
                "scriptsig": hex::encode(i.script_sig.as_bytes()),
                "scriptsig_asm": i.script_sig.to_asm_string(),
                "witness": i.witness.iter().map(hex::encode).collect::<Vec<_>>(),
                "is_coinbase": coinbase,
                "sequence": i.sequence.0,
            })
        })
        .collect();
    let out_value: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
    let fee = if tx.is_coinbase() || !all_prevouts {
        0
    } else {
        in_value.saturating_sub(out_value)
    };
    json!({
        "txid": tx.compute_txid().to_string(),
        "version": tx.version.0,
        "locktime": tx.lock_time.to_consensus_u32(),
        "vin": vin,
        "vout": tx.output.iter().map(|o| output_json(&o.script_pubkey, o.value.to_sat())).collect::<Vec<_>>(),
        "size": tx.total_size(),
        "weight": tx.weight().to_wu(),
        "fee": fee,
        "status": status_json(state, status),
    })
}

fn tx(state: &State, txid: &str, rest: &[&str]) -> Reply {
    let Ok(txid) = txid.parse::<Txid>() else {
        return bad("hex string");
    };
    let status = state.chain.tx_status(&txid).unwrap_or(TxStatus::Unknown);
    if rest == ["status"] {
        return Reply::json(200, &status_json(state, status));
    }
    let Ok(Some(tx)) = state.chain.transaction(&txid) else {
        return not_found("Transaction");
    };
    match rest {
        [] => Reply::json(200, &tx_json(state, &tx, status)),
        ["hex"] => Reply::text(200, serialize_hex(&tx)),
        ["raw"] => Reply::binary(serialize(&tx)),
        ["outspend", vout] => {
            let Ok(vout) = vout.parse::<u32>() else {
                return bad("vout");
            };
            if tx.output.get(vout as usize).is_none() {
                return not_found("Output");
            }
            outspend(state, OutPoint { txid, vout })
        }
        _ => Reply::text(404, "Not found"),
    }
}

/// Whether and by what an output is spent, as electrs answers: the spending transaction, its
/// input and its status, from the mempool or the best chain. A chain that cannot be read
/// answers HTTP 500 rather than a guess.
fn outspend(state: &State, op: OutPoint) -> Reply {
    match state.chain.spender(&op) {
        Ok(Some(s)) => Reply::json(
            200,
            &json!({
                "spent": true,
                "txid": s.tx.compute_txid().to_string(),
                "vin": s.input,
                "status": status_json(state, s.status),
            }),
        ),
        Ok(None) => Reply::json(200, &json!({"spent": false})),
        Err(e) => Reply::text(500, format!("reading the chain: {e}")),
    }
}
