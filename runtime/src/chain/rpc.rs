//! A chain backend over Bitcoin Core's JSON-RPC: [`CoreRpcChain`].
//!
//! In: a node's URL, its credentials ([`Auth`]: a cookie file or a user and password) and the
//! network the caller expects; transactions to broadcast and scripts to look up. Out: the
//! [`ChainBackend`] views, read from the node with `getblockchaininfo`, `getblockheader`,
//! `getblockhash`, `getrawtransaction`, `scantxoutset`, `gettxout`, `gettxspendingprevout`,
//! `getblock` and `sendrawtransaction`; mining with
//! `generatetoaddress` on regtest. A time advance uses `biscol_generate` on `biscol node`; on
//! Bitcoin Core, which lacks it, `setmocktime` moves the node's clock to the advanced time
//! before `generatetoaddress` (regtest only; the clock then stays mocked, see
//! `mock_clock_ahead`).
//!
//! What a Core node cannot tell, and so this backend does not:
//! * [`ChainBackend::utxos`] uses `scantxoutset`, which sees the UTXO set of the chain only:
//!   outputs of mempool transactions are missing (every [`Utxo`] returned has a height). Outputs
//!   a mempool transaction spends are dropped with one `gettxout` (mempool included) per output.
//! * [`ChainBackend::tx_status`] and [`ChainBackend::transaction`] use `getrawtransaction`,
//!   which finds a confirmed transaction only when the node runs with `-txindex` (a
//!   `biscol node` indexes everything); otherwise a confirmed transaction is `Unknown`.
//! * [`ChainBackend::spending_tx`] finds a mempool spender with `gettxspendingprevout`; a
//!   confirmed one (Core keeps no index of spends unless `-txospenderindex`) by reading every
//!   block from the output's own, once per spent output.
//! * Core accepts again a transaction already in its mempool: broadcasting it returns its id.
//!
//! Rejections: Core's reject reason is mapped to a [`TxReject`]. Core's messages carry few
//! numbers, so the ones a variant needs (input index, heights, fees, sizes) are recomputed
//! from the transaction and the chain (`check_transaction`, the standardness rules, script
//! verification, the inputs' confirmations). A reason no variant fits becomes
//! [`ChainError::Io`] whose message is Core's. Transport failures (connection, HTTP 401 for
//! wrong credentials, unreadable cookie) are [`ChainError::Io`] with the URL in the context;
//! other RPC errors are [`ChainError::Io`] with the method, the code and Core's message.

use bitcoin::consensus::encode::{deserialize_hex, serialize_hex};
use bitcoin::{
    Address, Amount, BlockHash, Network, OutPoint, Script, Sequence, Transaction, TxOut, Txid,
};
use bitcoincore_rpc::RpcApi;
use serde_json::{json, Value};

pub use bitcoincore_rpc::Auth;

use super::embedded::{rules, Acceptance};
use super::{ChainBackend, ChainError, ReplacementRule, Spending, Tip, TxReject, TxStatus, Utxo};

/// A Bitcoin Core (or `biscol node`) JSON-RPC chain backend.
pub struct CoreRpcChain {
    client: bitcoincore_rpc::Client,
    url: String,
    network: Network,
}

impl std::fmt::Debug for CoreRpcChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreRpcChain")
            .field("url", &self.url)
            .field("network", &self.network)
            .finish()
    }
}

/// Core's name for a network in `getblockchaininfo`'s `chain`.
pub fn core_chain_name(network: Network) -> &'static str {
    match network {
        Network::Bitcoin => "main",
        Network::Testnet => "test",
        Network::Testnet4 => "testnet4",
        Network::Signet => "signet",
        _ => "regtest",
    }
}

/// A failed call: Core's error or a transport failure (already a [`ChainError`]).
enum CallError {
    Rpc { code: i32, message: String },
    Other(ChainError),
}

fn io(context: String, message: impl Into<String>) -> ChainError {
    ChainError::Io {
        context,
        source: std::io::Error::other(message.into()),
    }
}

impl CoreRpcChain {
    /// Connects to the node at `url` (e.g. `http://127.0.0.1:18443`) and checks that its
    /// chain is `network`.
    pub fn connect(url: &str, auth: Auth, network: Network) -> Result<CoreRpcChain, ChainError> {
        let cookie = match &auth {
            Auth::CookieFile(p) => Some(p.display().to_string()),
            _ => None,
        };
        let client = bitcoincore_rpc::Client::new(url, auth).map_err(|e| match cookie {
            Some(path) => ChainError::Io {
                context: format!("reading the cookie file {path}"),
                source: match e {
                    bitcoincore_rpc::Error::Io(e) => e,
                    other => std::io::Error::other(other.to_string()),
                },
            },
            None => io(format!("connecting to {url}"), e.to_string()),
        })?;
        let chain = CoreRpcChain {
            client,
            url: url.to_string(),
            network,
        };
        let info: Value = chain.call("getblockchaininfo", &[])?;
        let name = info.get("chain").and_then(Value::as_str).unwrap_or("");
        let expected = core_chain_name(network);
        if name != expected {
            return Err(ChainError::InvalidArgument {
                detail: format!(
                    "the node at {url} runs chain '{name}', but the network is configured as '{expected}'"
                ),
            });
        }
        Ok(chain)
    }

    /// The URL of the node.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The network the node was checked to be on.
    pub fn network(&self) -> Network {
        self.network
    }

    fn try_call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        args: &[Value],
    ) -> Result<T, CallError> {
        use bitcoincore_rpc::jsonrpc;
        self.client.call(method, args).map_err(|e| match e {
            bitcoincore_rpc::Error::JsonRpc(jsonrpc::Error::Rpc(r)) => CallError::Rpc {
                code: r.code,
                message: r.message,
            },
            bitcoincore_rpc::Error::JsonRpc(jsonrpc::Error::Transport(t)) => {
                let text = t.to_string();
                if text.contains("401") {
                    CallError::Other(ChainError::Io {
                        context: format!("calling {method} on {}", self.url),
                        source: std::io::Error::new(
                            std::io::ErrorKind::PermissionDenied,
                            "the node refused the credentials (HTTP 401): wrong user, password or cookie",
                        ),
                    })
                } else {
                    CallError::Other(io(format!("calling {method} on {}", self.url), text))
                }
            }
            other => CallError::Other(io(
                format!("calling {method} on {}", self.url),
                other.to_string(),
            )),
        })
    }

    fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        args: &[Value],
    ) -> Result<T, ChainError> {
        self.try_call(method, args)
            .map_err(|e| self.fail(method, e))
    }

    fn fail(&self, method: &str, e: CallError) -> ChainError {
        match e {
            CallError::Rpc { code, message } => io(
                format!("{method} on {} failed", self.url),
                format!("RPC error {code}: {message}"),
            ),
            CallError::Other(e) => e,
        }
    }

    fn header(&self, hash: &BlockHash) -> Result<Value, ChainError> {
        self.call("getblockheader", &[json!(hash.to_string()), json!(true)])
    }

    /// Asks the node whether it would accept `tx` into its mempool now (`testmempoolaccept`,
    /// no maximum fee rate), writing nothing: what it pays, or the refusal as
    /// [`ChainBackend::broadcast`] reports it (Core's reason mapped to a [`TxReject`], the
    /// numbers recomputed). The dry run of [`EmbeddedChain::test_accept`] for one transaction.
    ///
    /// [`EmbeddedChain::test_accept`]: super::embedded::EmbeddedChain::test_accept
    pub fn test_accept(&self, tx: &Transaction) -> Result<Acceptance, ChainError> {
        let r: Value = self.call("testmempoolaccept", &[json!([serialize_hex(tx)]), json!(0)])?;
        let what = "testmempoolaccept";
        let entry = r.get(0).ok_or_else(|| ChainError::Corrupt {
            detail: format!("{what}: no result"),
        })?;
        if entry.get("allowed").and_then(Value::as_bool) == Some(true) {
            let fee = entry
                .get("fees")
                .and_then(|f| f.get("base"))
                .and_then(btc_to_sat)
                .ok_or_else(|| ChainError::Corrupt {
                    detail: format!("{what}: no 'fees.base'"),
                })?;
            let vsize =
                entry
                    .get("vsize")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| ChainError::Corrupt {
                        detail: format!("{what}: no 'vsize'"),
                    })?;
            return Ok(Acceptance {
                txid: tx.compute_txid(),
                fee: Amount::from_sat(fee),
                vsize,
            });
        }
        let reason = entry
            .get("reject-details")
            .or_else(|| entry.get("reject-reason"))
            .and_then(Value::as_str)
            .unwrap_or("");
        // `missing-inputs` is what sendrawtransaction reports as RPC_VERIFY_ERROR (-25).
        let code = if reason == "missing-inputs" { -25 } else { -26 };
        Err(rejection(self, tx, code, reason, &|op| self.spender(op)))
    }

    /// Sets a Bitcoin Core regtest node's clock (`setmocktime`) `advance` seconds past the
    /// time its next block would otherwise get, `max(tip time, median time past + 1, now)` (the
    /// embedded chain's rule), so that `generatetoaddress` stamps the next block with it. The
    /// clock stays there (Core's blocks take `max(median time past + 1, clock)`), so later
    /// blocks carry that time too until the median time past passes it, as on the embedded
    /// chain, whose blocks never go below the previous block's time.
    fn mock_clock_ahead(&self, advance: u32) -> Result<(), ChainError> {
        let tip = self.tip()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
            .unwrap_or(0);
        let target = tip
            .time
            .max(tip.median_time_past.saturating_add(1))
            .max(now)
            .saturating_add(advance);
        self.try_call::<Value>("setmocktime", &[json!(target)])
            .map(|_| ())
            .map_err(|e| match e {
                CallError::Rpc { code, message } => ChainError::Mining {
                    detail: format!(
                        "the node has no biscol_generate and refused setmocktime (RPC error {code}): {message}"
                    ),
                },
                CallError::Other(e) => e,
            })
    }

    fn spender(&self, op: &OutPoint) -> Option<Txid> {
        let r: Value = self
            .try_call(
                "gettxspendingprevout",
                &[json!([{"txid": op.txid.to_string(), "vout": op.vout}])],
            )
            .ok()?;
        r.get(0)?.get("spendingtxid")?.as_str()?.parse().ok()
    }
}

fn field_u32(v: &Value, name: &str, what: &str) -> Result<u32, ChainError> {
    v.get(name)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| ChainError::Corrupt {
            detail: format!("{what}: field '{name}' is missing or not a number"),
        })
}

fn field_parse<T: std::str::FromStr>(v: &Value, name: &str, what: &str) -> Result<T, ChainError> {
    v.get(name)
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ChainError::Corrupt {
            detail: format!("{what}: field '{name}' is missing or malformed"),
        })
}

fn btc_to_sat(v: &Value) -> Option<u64> {
    let f = v.as_f64()?;
    if !(0.0..=21_000_000.0).contains(&f) {
        return None;
    }
    Some((f * 100_000_000.0).round() as u64)
}

impl ChainBackend for CoreRpcChain {
    fn broadcast(&mut self, tx: &Transaction) -> Result<Txid, ChainError> {
        let txid = tx.compute_txid();
        match self.try_call::<Value>("sendrawtransaction", &[json!(serialize_hex(tx))]) {
            Ok(v) => v
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| ChainError::Corrupt {
                    detail: "sendrawtransaction did not return a txid".into(),
                }),
            Err(CallError::Rpc { code, message }) if matches!(code, -27..=-25) => {
                Err(rejection(&*self, tx, code, &message, &|op| {
                    self.spender(op)
                }))
            }
            Err(e) => {
                let _ = txid;
                Err(self.fail("sendrawtransaction", e))
            }
        }
    }

    fn utxos(&self, script_pubkey: &Script) -> Result<Vec<Utxo>, ChainError> {
        let desc = format!("raw({})", hex::encode(script_pubkey.as_bytes()));
        let r: Value = self.call("scantxoutset", &[json!("start"), json!([desc])])?;
        let what = "scantxoutset";
        let mut out = Vec::new();
        for u in r
            .get("unspents")
            .and_then(Value::as_array)
            .ok_or_else(|| ChainError::Corrupt {
                detail: "scantxoutset: no 'unspents'".into(),
            })?
        {
            let txid: Txid = field_parse(u, "txid", what)?;
            let vout = field_u32(u, "vout", what)?;
            let value =
                u.get("amount")
                    .and_then(btc_to_sat)
                    .ok_or_else(|| ChainError::Corrupt {
                        detail: "scantxoutset: bad 'amount'".into(),
                    })?;
            // Drop what a mempool transaction spends (gettxout with the mempool says null).
            let live: Value = self.call(
                "gettxout",
                &[json!(txid.to_string()), json!(vout), json!(true)],
            )?;
            if live.is_null() {
                continue;
            }
            out.push(Utxo {
                outpoint: OutPoint { txid, vout },
                txout: TxOut {
                    value: Amount::from_sat(value),
                    script_pubkey: script_pubkey.to_owned(),
                },
                height: Some(field_u32(u, "height", what)?),
                is_coinbase: u.get("coinbase").and_then(Value::as_bool).unwrap_or(false),
            });
        }
        out.sort_by_key(|u| u.outpoint);
        Ok(out)
    }

    fn tx_status(&self, txid: &Txid) -> Result<TxStatus, ChainError> {
        let r: Value =
            match self.try_call("getrawtransaction", &[json!(txid.to_string()), json!(true)]) {
                Ok(v) => v,
                Err(CallError::Rpc { code: -5, .. }) => return Ok(TxStatus::Unknown),
                Err(e) => return Err(self.fail("getrawtransaction", e)),
            };
        let confirmations = r.get("confirmations").and_then(Value::as_u64).unwrap_or(0);
        let Some(block_hash) = r
            .get("blockhash")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<BlockHash>().ok())
        else {
            return Ok(TxStatus::Mempool);
        };
        if confirmations == 0 {
            // In a block that is no longer on the best chain.
            return Ok(TxStatus::Unknown);
        }
        let header = self.header(&block_hash)?;
        Ok(TxStatus::Confirmed {
            height: field_u32(&header, "height", "getblockheader")?,
            block_hash,
            confirmations: u32::try_from(confirmations).unwrap_or(u32::MAX),
        })
    }

    fn transaction(&self, txid: &Txid) -> Result<Option<Transaction>, ChainError> {
        match self.try_call::<String>(
            "getrawtransaction",
            &[json!(txid.to_string()), json!(false)],
        ) {
            Ok(hex) => deserialize_hex(&hex)
                .map(Some)
                .map_err(|e| ChainError::Corrupt {
                    detail: format!("getrawtransaction returned an undecodable transaction: {e}"),
                }),
            Err(CallError::Rpc { code: -5, .. }) => Ok(None),
            Err(e) => Err(self.fail("getrawtransaction", e)),
        }
    }

    fn spending_tx(
        &self,
        outpoint: &OutPoint,
        created_at: u32,
    ) -> Result<Option<Spending>, ChainError> {
        let live: Value = self.call(
            "gettxout",
            &[
                json!(outpoint.txid.to_string()),
                json!(outpoint.vout),
                json!(true),
            ],
        )?;
        if !live.is_null() {
            return Ok(None);
        }
        // The mempool first (and, on a Core 31 node with `-txospenderindex`, the chain too).
        if let Some(txid) = self.spender(outpoint) {
            if let Some(tx) = self.transaction(&txid)? {
                let input = tx.input.iter().position(|i| i.previous_output == *outpoint);
                let status = self.tx_status(&txid)?;
                if let (Some(input), TxStatus::Mempool | TxStatus::Confirmed { .. }) =
                    (input, status)
                {
                    return Ok(Some(Spending { tx, input, status }));
                }
            }
        }
        // Core keeps no index of spends by default: search the blocks since the output's.
        let tip: u32 = self.call("getblockcount", &[])?;
        for height in created_at..=tip {
            let hash: BlockHash = self.call("getblockhash", &[json!(height)])?;
            let hex: String = self.call("getblock", &[json!(hash.to_string()), json!(0)])?;
            let block: bitcoin::Block = deserialize_hex(&hex).map_err(|e| ChainError::Corrupt {
                detail: format!("getblock returned an undecodable block {hash}: {e}"),
            })?;
            for tx in block.txdata {
                if let Some(input) = tx.input.iter().position(|i| i.previous_output == *outpoint) {
                    return Ok(Some(Spending {
                        tx,
                        input,
                        status: TxStatus::Confirmed {
                            height,
                            block_hash: hash,
                            confirmations: tip - height + 1,
                        },
                    }));
                }
            }
        }
        Ok(None)
    }

    fn tip(&self) -> Result<Tip, ChainError> {
        let info: Value = self.call("getblockchaininfo", &[])?;
        let what = "getblockchaininfo";
        let hash: BlockHash = field_parse(&info, "bestblockhash", what)?;
        let header = self.header(&hash)?;
        Ok(Tip {
            height: field_u32(&info, "blocks", what)?,
            hash,
            time: field_u32(&header, "time", "getblockheader")?,
            median_time_past: field_u32(&header, "mediantime", "getblockheader")?,
        })
    }

    fn median_time_past_at(&self, height: u32) -> Result<u32, ChainError> {
        let hash: String = match self.try_call("getblockhash", &[json!(height)]) {
            Ok(h) => h,
            Err(CallError::Rpc { code: -8, .. }) => {
                return Err(ChainError::InvalidArgument {
                    detail: format!("no block at height {height} on {}", self.url),
                })
            }
            Err(e) => return Err(self.fail("getblockhash", e)),
        };
        let hash: BlockHash = hash.parse().map_err(|_| ChainError::Corrupt {
            detail: "getblockhash returned a malformed hash".into(),
        })?;
        field_u32(&self.header(&hash)?, "mediantime", "getblockheader")
    }

    fn mine(
        &mut self,
        count: u32,
        script_pubkey: &Script,
        time_advance: Option<u32>,
    ) -> Result<Vec<BlockHash>, ChainError> {
        if self.network != Network::Regtest {
            return Err(ChainError::Unsupported {
                operation: "mining outside regtest",
            });
        }
        let address = Address::from_script(script_pubkey, Network::Regtest).map_err(|_| {
            ChainError::InvalidArgument {
                detail: "generatetoaddress needs a script that has an address".into(),
            }
        })?;
        let r: Result<Vec<String>, CallError> = match time_advance {
            Some(advance) if advance > 0 => {
                let r = self.try_call(
                    "biscol_generate",
                    &[json!(count), json!(address.to_string()), json!(advance)],
                );
                if let Err(CallError::Rpc { code: -32601, .. }) = r {
                    // Bitcoin Core: move its clock, then mine.
                    self.mock_clock_ahead(advance)?;
                    self.try_call(
                        "generatetoaddress",
                        &[json!(count), json!(address.to_string())],
                    )
                } else {
                    r
                }
            }
            _ => self.try_call(
                "generatetoaddress",
                &[json!(count), json!(address.to_string())],
            ),
        };
        let hashes = r.map_err(|e| match e {
            CallError::Rpc { code, message } => ChainError::Mining {
                detail: format!("the node refused to mine (RPC error {code}): {message}"),
            },
            CallError::Other(e) => e,
        })?;
        hashes
            .iter()
            .map(|h| {
                h.parse().map_err(|_| ChainError::Corrupt {
                    detail: "generatetoaddress returned a malformed hash".into(),
                })
            })
            .collect()
    }
}

/// Parses a `FormatMoney` amount (`0.0001`) into satoshis.
fn parse_money(s: &str) -> Option<u64> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 8 || int.is_empty() {
        return None;
    }
    let int: u64 = int.parse().ok()?;
    let frac_sats: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<8}").parse().ok()?
    };
    int.checked_mul(100_000_000)?.checked_add(frac_sats)
}

/// Parses `"<a> < <b>"`, the tail of Core's fee messages.
fn two_numbers(s: &str, parse: impl Fn(&str) -> Option<u64>) -> Option<(u64, u64)> {
    let (a, b) = s.split_once(" < ")?;
    Some((parse(a.rsplit(' ').next()?)?, parse(b.split(' ').next()?)?))
}

/// The first 64-hex-digit word after `after` in `s`.
fn txid_after(s: &str, after: &str) -> Option<Txid> {
    let rest = &s[s.find(after)? + after.len()..];
    rest.trim_start()
        .get(..64)
        .and_then(|h| h.parse::<Txid>().ok())
}

fn fee_rate_sat_per_kvb(s: &str) -> Option<u64> {
    // "0.00002000 BTC/kvB"
    parse_money(s.split_whitespace().next()?)
}

/// The fee `tx` pays, from its inputs' transactions.
fn fee_of(chain: &dyn ChainBackend, tx: &Transaction) -> Option<u64> {
    let mut in_value = 0u64;
    for i in &tx.input {
        let prev = chain.transaction(&i.previous_output.txid).ok()??;
        in_value += prev
            .output
            .get(i.previous_output.vout as usize)?
            .value
            .to_sat();
    }
    let out: u64 = tx.output.iter().map(|o| o.value.to_sat()).sum();
    in_value.checked_sub(out)
}

/// The coins `tx` spends with their confirmation height (`None` in the mempool).
fn spent_coins(
    chain: &dyn ChainBackend,
    tx: &Transaction,
) -> Option<Vec<(TxOut, Option<u32>, bool)>> {
    let mut v = Vec::with_capacity(tx.input.len());
    for i in &tx.input {
        let prev = chain.transaction(&i.previous_output.txid).ok()??;
        let out = prev.output.get(i.previous_output.vout as usize)?.clone();
        let height = match chain.tx_status(&i.previous_output.txid).ok()? {
            TxStatus::Confirmed { height, .. } => Some(height),
            _ => None,
        };
        v.push((out, height, prev.is_coinbase()));
    }
    Some(v)
}

/// Which input is missing or spent in a block.
fn missing_or_spent(chain: &dyn ChainBackend, tx: &Transaction) -> Option<TxReject> {
    for (input, i) in tx.input.iter().enumerate() {
        let outpoint = i.previous_output;
        let Some(prev) = chain.transaction(&outpoint.txid).ok()? else {
            return Some(TxReject::MissingInput { input, outpoint });
        };
        let Some(out) = prev.output.get(outpoint.vout as usize) else {
            return Some(TxReject::MissingInput { input, outpoint });
        };
        if let Ok(TxStatus::Confirmed { .. }) = chain.tx_status(&outpoint.txid) {
            let unspent = chain
                .utxos(&out.script_pubkey)
                .ok()?
                .iter()
                .any(|u| u.outpoint == outpoint);
            if !unspent {
                return Some(TxReject::SpentInChain { input, outpoint });
            }
        }
    }
    None
}

/// The BIP68 lock that fails, recomputed from the inputs' confirmations.
fn relative_lock(chain: &dyn ChainBackend, tx: &Transaction) -> Option<TxReject> {
    if tx.version.0 < 2 {
        return None;
    }
    let tip = chain.tip().ok()?;
    let next = tip.height + 1;
    let coins = spent_coins(chain, tx)?;
    for (input, (i, (_, height, _))) in tx.input.iter().zip(&coins).enumerate() {
        let seq: Sequence = i.sequence;
        if !seq.is_relative_lock_time() {
            continue;
        }
        let coin_height = height.unwrap_or(next);
        let value = seq.0 & 0xffff;
        if seq.is_time_locked() {
            let base = chain
                .median_time_past_at(coin_height.saturating_sub(1))
                .ok()?;
            let has_seconds = tip.median_time_past.saturating_sub(base);
            let needs_seconds = value * 512;
            if has_seconds < needs_seconds {
                return Some(TxReject::RelativeTimeLock {
                    input,
                    needs_seconds,
                    has_seconds,
                });
            }
        } else {
            let has = next.saturating_sub(coin_height);
            if has < value {
                return Some(TxReject::RelativeHeightLock {
                    input,
                    needs: value,
                    has,
                });
            }
        }
    }
    None
}

/// Maps a node's rejection of `tx` (Core's RPC error `code` and `message`) to a
/// [`ChainError`], recomputing the numbers Core's message leaves out. `spender` finds the
/// mempool transaction spending an outpoint (for replacement conflicts).
pub(crate) fn rejection(
    chain: &dyn ChainBackend,
    tx: &Transaction,
    code: i32,
    message: &str,
    spender: &dyn Fn(&OutPoint) -> Option<Txid>,
) -> ChainError {
    let txid = tx.compute_txid();
    let rejected = |reason: TxReject| ChainError::Rejected { txid, reason };
    let reason_token = message
        .split([',', ' ', '('])
        .next()
        .unwrap_or(message)
        .trim();
    let generic = || {
        io(
            format!("the node refused transaction {txid} (RPC error {code})"),
            message.to_string(),
        )
    };
    if code == -27
        || matches!(reason_token, "txn-already-in-mempool" | "txn-already-known")
        || message.starts_with("Transaction already in block chain")
        || message.starts_with("Transaction outputs already in utxo set")
    {
        return rejected(TxReject::AlreadyKnown);
    }
    if code == -25 || message.contains("missingorspent") || message.contains("Missing inputs") {
        return match missing_or_spent(chain, tx) {
            Some(r) => rejected(r),
            None => generic(),
        };
    }
    if message.starts_with("insufficient fee") {
        let conflict_from_inputs = || tx.input.iter().find_map(|i| spender(&i.previous_output));
        if let Some(tail) = message.split("; new feerate ").nth(1) {
            let conflict = txid_after(message, "rejecting replacement ")
                .filter(|c| *c != txid)
                .or_else(conflict_from_inputs);
            let mut rates = tail.split(" <= old feerate ");
            if let (Some(conflict), Some(new), Some(old)) = (
                conflict,
                rates.next().and_then(fee_rate_sat_per_kvb),
                rates.next().and_then(fee_rate_sat_per_kvb),
            ) {
                return rejected(TxReject::ReplacementRefused {
                    conflict,
                    rule: ReplacementRule::FeeRate {
                        new_sat_per_kvb: new,
                        old_sat_per_kvb: old,
                    },
                });
            }
        }
        let relay = rules::vsize(tx) * rules::MIN_RELAY_FEE_SAT_PER_KVB / 1000;
        if let (Some(conflict), Some(tail)) = (
            conflict_from_inputs(),
            message
                .rsplit("; ")
                .next()
                .filter(|_| message.contains(" < ")),
        ) {
            if let Some((a, b)) = two_numbers(tail, parse_money) {
                let rule = if message.contains("less fees than conflicting") {
                    // a = new fee, b = fees of the replaced transactions.
                    Some(ReplacementRule::AbsoluteFee {
                        new_fee: a,
                        needs: b + relay,
                    })
                } else {
                    // a = additional fee, b = the relay fee the new size needs.
                    fee_of(chain, tx).map(|new_fee| ReplacementRule::AbsoluteFee {
                        new_fee,
                        needs: new_fee + b.saturating_sub(a),
                    })
                };
                if let Some(rule) = rule {
                    return rejected(TxReject::ReplacementRefused { conflict, rule });
                }
            }
        }
        return generic();
    }
    if reason_token == "replacement-failed" {
        // Bitcoin Core 31+ (cluster mempool): the replacement does not improve the feerate
        // diagram, which for one replaced transaction means a feerate not above its feerate
        // (rule 6 as the embedded chain applies it).
        let conflict = tx.input.iter().find_map(|i| spender(&i.previous_output));
        let rates = conflict.and_then(|c| {
            let old = chain.transaction(&c).ok()??;
            let rate = |t: &Transaction| Some(fee_of(chain, t)? * 1000 / rules::vsize(t).max(1));
            Some((c, rate(tx)?, rate(&old)?))
        });
        return match rates {
            Some((conflict, new, old)) => rejected(TxReject::ReplacementRefused {
                conflict,
                rule: ReplacementRule::FeeRate {
                    new_sat_per_kvb: new,
                    old_sat_per_kvb: old,
                },
            }),
            None => generic(),
        };
    }
    if reason_token == "too" && message.starts_with("too many potential replacements") {
        let count = message
            .rsplit('(')
            .next()
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok());
        let conflict = tx.input.iter().find_map(|i| spender(&i.previous_output));
        if let (Some(count), Some(conflict)) = (count, conflict) {
            return rejected(TxReject::ReplacementRefused {
                conflict,
                rule: ReplacementRule::TooManyConflictingClusters { count },
            });
        }
        return generic();
    }
    match reason_token {
        "bad-txns-spends-conflicting-tx" => {
            match txid_after(message, "spends conflicting transaction") {
                Some(conflict) => rejected(TxReject::ReplacementRefused {
                    conflict,
                    rule: ReplacementRule::SpendsConflict,
                }),
                None => generic(),
            }
        }
        "coinbase" => rejected(TxReject::Coinbase),
        "bad-txns-in-belowout" => {
            let nums: Vec<u64> = message
                .split(['(', ')'])
                .skip(1)
                .step_by(2)
                .filter_map(parse_money)
                .collect();
            match nums.as_slice() {
                [inputs, outputs] => rejected(TxReject::ValueCreation {
                    inputs: *inputs,
                    outputs: *outputs,
                }),
                _ => generic(),
            }
        }
        "bad-txns-premature-spend-of-coinbase" => {
            let has = message
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse::<u32>().ok());
            let input = spent_coins(chain, tx)
                .and_then(|c| c.iter().position(|(_, _, coinbase)| *coinbase));
            match (has, input) {
                (Some(has), Some(input)) => rejected(TxReject::CoinbaseMaturity {
                    input,
                    needs: 100,
                    has,
                }),
                _ => generic(),
            }
        }
        "non-BIP68-final" => match relative_lock(chain, tx) {
            Some(r) => rejected(r),
            None => generic(),
        },
        "non-final" => match chain.tip() {
            Ok(tip) => rejected(TxReject::NonFinal {
                lock_time: tx.lock_time.to_consensus_u32(),
                next_height: tip.height + 1,
                median_time_past: tip.median_time_past,
            }),
            Err(_) => generic(),
        },
        "bad-txns-too-many-sigops" => {
            match message.rsplit(", ").next().and_then(|n| n.parse().ok()) {
                Some(cost) => rejected(TxReject::SigopCost {
                    cost,
                    max: rules::MAX_STANDARD_TX_SIGOPS_COST,
                }),
                None => generic(),
            }
        }
        "min" | "mempool"
            if message.contains("min fee not met") || message.contains("min relay fee not met") =>
        {
            match message
                .rsplit(", ")
                .next()
                .and_then(|t| two_numbers(t, |n| n.parse().ok()))
            {
                Some((fee, min)) => rejected(TxReject::FeeTooLow { fee, min }),
                None => generic(),
            }
        }
        t if t.contains("script-verify-flag") => {
            // Reproduce the failure locally to name the input and the error.
            let prevouts: Option<Vec<TxOut>> =
                spent_coins(chain, tx).map(|c| c.into_iter().map(|(o, _, _)| o).collect());
            if let Some(prevouts) = prevouts {
                if let Err((input, error)) =
                    biscol_script::verify_tx(tx, &prevouts, biscol_script::VerifyFlags::CONSENSUS)
                {
                    return rejected(TxReject::Script {
                        input: input.unwrap_or(0),
                        error,
                    });
                }
            }
            // Else take the error name a biscol node puts in the parentheses.
            let name = message
                .split(['(', ')'])
                .nth(1)
                .and_then(biscol_script::ScriptError::from_name);
            let input = message
                .rsplit("input ")
                .next()
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            match name {
                Some(e) => rejected(TxReject::Script {
                    input,
                    error: biscol_script::VerifyError::Script(e),
                }),
                None => generic(),
            }
        }
        t if t.starts_with("bad-txns-") || t.starts_with("bad-cb-") => {
            match biscol_script::check_transaction(tx) {
                Err(reason) => rejected(TxReject::CheckTransaction { reason }),
                Ok(()) => generic(),
            }
        }
        "version"
        | "tx-size"
        | "tx-size-small"
        | "scriptsig-size"
        | "scriptsig-not-pushonly"
        | "scriptpubkey"
        | "dust" => match rules::check_standard(tx) {
            Err(r) => rejected(r),
            Ok(()) => generic(),
        },
        _ => generic(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_parses() {
        assert_eq!(parse_money("0.0001"), Some(10_000));
        assert_eq!(parse_money("50.00"), Some(5_000_000_000));
        assert_eq!(parse_money("0.00000001"), Some(1));
        assert_eq!(parse_money("x"), None);
        assert_eq!(
            two_numbers("min relay fee not met, 100 < 141", |n| n.parse().ok()),
            Some((100, 141))
        );
    }
}
