//! A chain backend over an Esplora HTTP API: [`EsploraChain`].
//!
//! In: the API's base URL (e.g. `https://blockstream.info/api`, or `http://127.0.0.1:18443/esplora`
//! for `biscol node`) and the network the caller expects; transactions and scripts. Out: the
//! [`ChainBackend`] views, through `esplora-client`'s blocking client: `GET /scripthash/:hash/utxo`
//! for unspent outputs (confirmed and mempool, minus mempool-spent, as electrs serves them),
//! `/tx/:txid` for status, `/tx/:txid/raw`, `/tx/:txid/outspend/:vout` for the spender of an
//! output, `/blocks/tip/hash` and `/block/:hash` (height, time, `mediantime`) for the tip and
//! median times past, `POST /tx` to broadcast.
//!
//! Notes: Esplora's UTXO list does not say which outputs are coinbase outputs; this backend asks
//! for each confirming block's first transaction (`/block/:hash/txid/0`) and caches the answer.
//! Mining is [`ChainError::Unsupported`]. Rejections come back as electrs's
//! `sendrawtransaction RPC error: {"code", "message"}` and are mapped to a [`TxReject`] as
//! [`super::rpc::CoreRpcChain`] does. Transport failures are [`ChainError::Io`] with the URL;
//! malformed answers are [`ChainError::Corrupt`].

use std::collections::HashMap;
use std::sync::Mutex;

use bitcoin::blockdata::constants::genesis_block;
use bitcoin::{BlockHash, Network, OutPoint, Script, Transaction, TxOut, Txid};
use esplora_client::{BlockingClient, Builder};

use super::rpc::rejection;
use super::{ChainBackend, ChainError, Spending, Tip, TxStatus, Utxo};

/// An Esplora chain backend.
pub struct EsploraChain {
    client: BlockingClient,
    /// The `Authorization` header sent with every request, when credentials were given.
    authorization: Option<String>,
    url: String,
    network: Network,
    coinbase: Mutex<HashMap<BlockHash, Txid>>,
}

impl std::fmt::Debug for EsploraChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsploraChain")
            .field("url", &self.url)
            .field("network", &self.network)
            .finish()
    }
}

impl EsploraChain {
    /// Connects to the Esplora API at `url` and checks that its genesis block is `network`'s.
    pub fn connect(url: &str, network: Network) -> Result<EsploraChain, ChainError> {
        EsploraChain::connect_with_auth(url, network, None)
    }

    /// [`EsploraChain::connect_with_auth`] with the credentials of a cookie file
    /// (`user:password` on its first line, as `biscol node` and Bitcoin Core write it).
    pub fn connect_with_cookie(
        url: &str,
        network: Network,
        cookie: &std::path::Path,
    ) -> Result<EsploraChain, ChainError> {
        let text = std::fs::read_to_string(cookie).map_err(|source| ChainError::Io {
            context: format!("reading the cookie file {}", cookie.display()),
            source,
        })?;
        let line = text.lines().next().unwrap_or("");
        let Some((user, password)) = line.split_once(':') else {
            return Err(ChainError::InvalidArgument {
                detail: format!(
                    "the cookie file {} holds no `user:password`",
                    cookie.display()
                ),
            });
        };
        EsploraChain::connect_with_auth(url, network, Some((user, password)))
    }

    /// [`EsploraChain::connect`], sending HTTP Basic credentials (`user`, `password`) with
    /// every request: what `biscol node` requires for broadcasts and other writes.
    pub fn connect_with_auth(
        url: &str,
        network: Network,
        credentials: Option<(&str, &str)>,
    ) -> Result<EsploraChain, ChainError> {
        use base64::Engine;
        let url = url.trim_end_matches('/').to_string();
        let mut builder = Builder::new(&url).timeout(30);
        let authorization = credentials.map(|(user, password)| {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("Basic {token}")
        });
        if let Some(value) = &authorization {
            builder = builder.header("Authorization", value);
        }
        let client = builder.build_blocking();
        let chain = EsploraChain {
            client,
            authorization,
            url,
            network,
            coinbase: Mutex::new(HashMap::new()),
        };
        let genesis = chain
            .client
            .get_block_hash(0)
            .map_err(|e| chain.fail("reading the genesis block", e))?;
        if genesis != genesis_block(network).block_hash() {
            return Err(ChainError::InvalidArgument {
                detail: format!(
                    "the Esplora API at {} serves another chain than {network} (genesis {genesis})",
                    chain.url
                ),
            });
        }
        Ok(chain)
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The network the API was checked to serve.
    pub fn network(&self) -> Network {
        self.network
    }

    /// `POST /tx` with the transaction's hex, as `esplora_client` does, but with the
    /// credentials: its blocking client sets its headers on GET requests only (0.12).
    fn post_tx(&self, tx: &Transaction) -> Result<(), esplora_client::Error> {
        let mut request = minreq::post(format!("{}/tx", self.url))
            .with_body(bitcoin::consensus::encode::serialize_hex(tx))
            .with_timeout(30);
        if let Some(value) = &self.authorization {
            request = request.with_header("Authorization", value);
        }
        let response = request.send().map_err(esplora_client::Error::Minreq)?;
        match u16::try_from(response.status_code) {
            Ok(200..=299) => Ok(()),
            Ok(status) => Err(esplora_client::Error::HttpResponse {
                status,
                message: response.as_str().unwrap_or_default().to_string(),
            }),
            Err(e) => Err(esplora_client::Error::StatusCode(e)),
        }
    }

    fn fail(&self, what: &str, e: esplora_client::Error) -> ChainError {
        let message = match &e {
            esplora_client::Error::HttpResponse { status, message } => {
                format!("HTTP {status}: {}", message.trim())
            }
            esplora_client::Error::Minreq(m) => m.to_string(),
            other => format!("{other:?}"),
        };
        ChainError::Io {
            context: format!("{what} from {}", self.url),
            source: std::io::Error::other(message),
        }
    }

    /// Whether `txid` is the coinbase of `block`.
    fn is_coinbase(&self, block: &BlockHash, txid: &Txid) -> Result<bool, ChainError> {
        if let Ok(cache) = self.coinbase.lock() {
            if let Some(cb) = cache.get(block) {
                return Ok(cb == txid);
            }
        }
        let cb = self
            .client
            .get_txid_at_block_index(block, 0)
            .map_err(|e| self.fail("reading a block's coinbase", e))?
            .ok_or_else(|| ChainError::Corrupt {
                detail: format!("block {block} has no first transaction"),
            })?;
        if let Ok(mut cache) = self.coinbase.lock() {
            cache.insert(*block, cb);
        }
        Ok(cb == *txid)
    }

    fn spender(&self, op: &OutPoint) -> Option<Txid> {
        let s = self
            .client
            .get_output_status(&op.txid, u64::from(op.vout))
            .ok()??;
        if s.spent {
            s.txid
        } else {
            None
        }
    }
}

/// Splits electrs's `sendrawtransaction RPC error: {"code":-26,"message":"..."}`.
fn core_error(message: &str) -> Option<(i32, String)> {
    let json = &message[message.find('{')?..];
    let v: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
    let code = i32::try_from(v.get("code")?.as_i64()?).ok()?;
    Some((code, v.get("message")?.as_str()?.to_string()))
}

impl ChainBackend for EsploraChain {
    fn broadcast(&mut self, tx: &Transaction) -> Result<Txid, ChainError> {
        match self.post_tx(tx) {
            Ok(()) => Ok(tx.compute_txid()),
            Err(esplora_client::Error::HttpResponse { status, message })
                if (400..500).contains(&status) =>
            {
                match core_error(&message) {
                    Some((code, msg)) => {
                        Err(rejection(&*self, tx, code, &msg, &|op| self.spender(op)))
                    }
                    None => Err(rejection(&*self, tx, -26, message.trim(), &|op| {
                        self.spender(op)
                    })),
                }
            }
            Err(e) => Err(self.fail("broadcasting a transaction", e)),
        }
    }

    fn utxos(&self, script_pubkey: &Script) -> Result<Vec<Utxo>, ChainError> {
        let list = self
            .client
            .get_scripthash_utxos(script_pubkey)
            .map_err(|e| self.fail("listing unspent outputs", e))?;
        let mut out = Vec::with_capacity(list.len());
        for u in list {
            let (height, is_coinbase) = match (u.status.confirmed, u.status.block_height) {
                (true, Some(h)) => {
                    let cb = match u.status.block_hash {
                        Some(b) => self.is_coinbase(&b, &u.txid)?,
                        None => false,
                    };
                    (Some(h), cb)
                }
                _ => (None, false),
            };
            out.push(Utxo {
                outpoint: OutPoint {
                    txid: u.txid,
                    vout: u.vout,
                },
                txout: TxOut {
                    value: u.value,
                    script_pubkey: script_pubkey.to_owned(),
                },
                height,
                is_coinbase,
            });
        }
        out.sort_by_key(|u| u.outpoint);
        Ok(out)
    }

    fn tx_status(&self, txid: &Txid) -> Result<TxStatus, ChainError> {
        let Some(info) = self
            .client
            .get_tx_info(txid)
            .map_err(|e| self.fail("reading a transaction", e))?
        else {
            return Ok(TxStatus::Unknown);
        };
        match (
            info.status.confirmed,
            info.status.block_height,
            info.status.block_hash,
        ) {
            (true, Some(height), Some(block_hash)) => {
                let tip = self
                    .client
                    .get_height()
                    .map_err(|e| self.fail("reading the tip height", e))?;
                Ok(TxStatus::Confirmed {
                    height,
                    block_hash,
                    confirmations: (tip + 1).saturating_sub(height),
                })
            }
            _ => Ok(TxStatus::Mempool),
        }
    }

    fn transaction(&self, txid: &Txid) -> Result<Option<Transaction>, ChainError> {
        self.client
            .get_tx(txid)
            .map_err(|e| self.fail("reading a transaction", e))
    }

    fn spending_tx(
        &self,
        outpoint: &OutPoint,
        _created_at: u32,
    ) -> Result<Option<Spending>, ChainError> {
        // Esplora indexes spends: `/tx/:txid/outspend/:vout` names the spender.
        let Some(answer) = self
            .client
            .get_output_status(&outpoint.txid, u64::from(outpoint.vout))
            .map_err(|e| self.fail("reading whether an output is spent", e))?
        else {
            return Ok(None);
        };
        if !answer.spent {
            return Ok(None);
        }
        let Some(txid) = answer.txid else {
            return Err(ChainError::Corrupt {
                detail: format!("{outpoint} is spent, the server says, but not by what"),
            });
        };
        // The answer is checked, not trusted: the named transaction must spend the output.
        let Some(tx) = self.transaction(&txid)? else {
            return Ok(None);
        };
        let Some(input) = tx.input.iter().position(|i| i.previous_output == *outpoint) else {
            return Err(ChainError::Corrupt {
                detail: format!("the server says {txid} spends {outpoint}, and it does not"),
            });
        };
        match self.tx_status(&txid)? {
            // Dropped between the two requests: the next look finds what replaced it.
            TxStatus::Unknown => Ok(None),
            status => Ok(Some(Spending { tx, input, status })),
        }
    }

    fn tip(&self) -> Result<Tip, ChainError> {
        let hash = self
            .client
            .get_tip_hash()
            .map_err(|e| self.fail("reading the tip", e))?;
        let info = self
            .client
            .get_block_info(&hash)
            .map_err(|e| self.fail("reading the tip block", e))?;
        Ok(Tip {
            height: info.height,
            hash,
            time: u32::try_from(info.timestamp).unwrap_or(u32::MAX),
            median_time_past: u32::try_from(info.mediantime).unwrap_or(u32::MAX),
        })
    }

    fn median_time_past_at(&self, height: u32) -> Result<u32, ChainError> {
        let hash = match self.client.get_block_hash(height) {
            Ok(h) => h,
            Err(esplora_client::Error::HttpResponse { status: 404, .. }) => {
                return Err(ChainError::InvalidArgument {
                    detail: format!("no block at height {height} on {}", self.url),
                })
            }
            Err(e) => return Err(self.fail("reading a block hash", e)),
        };
        let info = self
            .client
            .get_block_info(&hash)
            .map_err(|e| self.fail("reading a block", e))?;
        Ok(u32::try_from(info.mediantime).unwrap_or(u32::MAX))
    }

    fn mine(
        &mut self,
        _count: u32,
        _script_pubkey: &Script,
        _time_advance: Option<u32>,
    ) -> Result<Vec<bitcoin::BlockHash>, ChainError> {
        Err(ChainError::Unsupported {
            operation: "mining (an Esplora API cannot mine)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn electrs_errors_split() {
        assert_eq!(
            core_error(r#"sendrawtransaction RPC error: {"code":-26,"message":"dust"}"#),
            Some((-26, "dust".to_string()))
        );
        assert_eq!(core_error("plain text"), None);
    }
}
