//! `biscol node`: an [`EmbeddedChain`] served on loopback over HTTP.
//!
//! In: an open [`EmbeddedChain`] and a [`NodeConfig`] (address to bind, authentication). Out: a
//! [`Node`] serving, on one background thread,
//!
//! * Bitcoin Core's JSON-RPC (1.0 and 2.0, single and batch requests) on `POST /` and
//!   `POST /wallet/<name>`, with HTTP basic authentication (a user and password, or a cookie file
//!   `.cookie` written in the chain folder like Core's, `__cookie__:<64 hex digits>`, mode 0600,
//!   removed on shutdown). Methods and result shapes follow Core; see [`rpc`] for the list and
//!   the one extension, `biscol_generate` (mining with a time advance, bounded: see
//!   [`rpc::MAX_TIME_ADVANCE`] and [`rpc::MAX_BLOCK_TIME`]);
//! * a subset of the Esplora REST API under `/esplora/`, enough for `esplora-client`'s blocking
//!   client and [`crate::chain::esplora::EsploraChain`]; see [`esplora`]. Reads (`GET`) are open
//!   to anyone who can reach the loopback address, like Esplora; every write (`POST /tx`, any
//!   method but `GET`) needs the same HTTP basic credentials as JSON-RPC.
//!
//! Authentication: a user and password are refused at start-up when either is empty or the user
//! holds a `:` (HTTP basic cannot carry it). Failed logins are counted per peer address: after
//! [`LoginLimit::max_failures`] failures within [`LoginLimit::window`], that peer is answered
//! HTTP 429 (with `Retry-After`) for [`LoginLimit::lockout`], without its credentials being
//! checked, even correct ones; a successful login clears its count. At most
//! [`MAX_TRACKED_PEERS`] peers are tracked (stale entries are dropped first).
//!
//! Invariants: no request, however malformed, panics or stops the server; request bodies above
//! [`MAX_BODY`] bytes are refused with HTTP 413 without being read, after authentication, and
//! nothing is allocated from a size a client merely claims (see [`http`] for the connection
//! limits); the password and the cookie's contents are never logged; the chain is owned by the
//! serving thread, so requests are served one at a time, in order. [`Node::shutdown`] stops
//! the server, removes the cookie and hands the chain back.

pub mod esplora;
pub mod http;
pub mod rpc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

use bitcoin::BlockHash;

use crate::chain::embedded::EmbeddedChain;

/// The largest request body the node reads (4 MiB).
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// The default address: loopback, Bitcoin Core's regtest RPC port.
pub const DEFAULT_BIND: &str = "127.0.0.1:18443";
/// The cookie file's name in the chain folder.
pub const COOKIE_FILE: &str = ".cookie";
/// The user name in the cookie file, as Core writes it.
pub const COOKIE_USER: &str = "__cookie__";

/// The most peer addresses whose failed logins are remembered at once.
pub const MAX_TRACKED_PEERS: usize = 1024;

/// How clients authenticate to the JSON-RPC endpoint and to the Esplora writes.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// A fixed user and password.
    UserPass {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// A random password written to `<chain folder>/.cookie` for user `__cookie__`.
    Cookie,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password is a secret: it is never printed.
        match self {
            Auth::UserPass { user, .. } => f
                .debug_struct("UserPass")
                .field("user", user)
                .field("password", &"<hidden>")
                .finish(),
            Auth::Cookie => f.write_str("Cookie"),
        }
    }
}

/// Where and how the node serves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The address to bind, a loopback one (default `127.0.0.1:18443`, Core's regtest RPC
    /// port); port 0 picks a free port ([`Node::local_addr`] tells which).
    pub bind: SocketAddr,
    /// The JSON-RPC authentication (default: the cookie file).
    pub auth: Auth,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 18443)),
            auth: Auth::Cookie,
        }
    }
}

/// How failed logins are rate-limited, per peer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    /// Failures that lock a peer out (at least 1).
    pub max_failures: u32,
    /// The window the failures are counted in.
    pub window: Duration,
    /// How long a locked-out peer is answered HTTP 429.
    pub lockout: Duration,
}

impl Default for LoginLimit {
    /// Five failures within a minute lock a peer out for 30 seconds.
    fn default() -> Self {
        LoginLimit {
            max_failures: 5,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(30),
        }
    }
}

/// One peer's failed logins.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// The failed-login counts of the peers, and the verdicts drawn from them.
#[derive(Debug)]
struct LoginGuard {
    limit: LoginLimit,
    peers: HashMap<IpAddr, Failures>,
}

impl LoginGuard {
    fn new(limit: LoginLimit) -> LoginGuard {
        LoginGuard {
            limit: LoginLimit {
                max_failures: limit.max_failures.max(1),
                ..limit
            },
            peers: HashMap::new(),
        }
    }

    /// How long `peer` stays locked out, or `None` when it may try to log in.
    fn locked(&mut self, peer: IpAddr, now: Instant) -> Option<Duration> {
        let until = self.peers.get(&peer)?.locked_until?;
        if until > now {
            Some(until - now)
        } else {
            self.peers.remove(&peer);
            None
        }
    }

    /// Counts a failed login of `peer`; locks it out when the count reaches the limit.
    fn failed(&mut self, peer: IpAddr, now: Instant) {
        if !self.peers.contains_key(&peer) && self.peers.len() >= MAX_TRACKED_PEERS {
            self.prune(now);
        }
        let limit = self.limit;
        let entry = self.peers.entry(peer).or_insert(Failures {
            count: 0,
            since: now,
            locked_until: None,
        });
        if now.duration_since(entry.since) > limit.window {
            entry.count = 0;
            entry.since = now;
        }
        entry.count = entry.count.saturating_add(1);
        if entry.count >= limit.max_failures {
            // A lockout too long for the clock locks the peer out for a day at a time.
            let until = now
                .checked_add(limit.lockout)
                .or_else(|| now.checked_add(Duration::from_secs(24 * 60 * 60)))
                .unwrap_or(now);
            entry.locked_until = Some(until);
        }
    }

    /// Forgets `peer`'s failures after a successful login.
    fn succeeded(&mut self, peer: IpAddr) {
        self.peers.remove(&peer);
    }

    /// Drops the entries that no longer count; if none is stale, the oldest one.
    fn prune(&mut self, now: Instant) {
        let limit = self.limit;
        self.peers.retain(|_, f| match f.locked_until {
            Some(until) => until > now,
            None => now.duration_since(f.since) <= limit.window,
        });
        if self.peers.len() >= MAX_TRACKED_PEERS {
            if let Some(oldest) = self
                .peers
                .iter()
                .min_by_key(|(_, f)| f.since)
                .map(|(ip, _)| *ip)
            {
                self.peers.remove(&oldest);
            }
        }
    }
}

/// What the server checks requests against: the expected `Authorization` header and the
/// failed-login counts.
struct Gate {
    expected_header: String,
    guard: LoginGuard,
}

/// The verdict on a request that needs authentication.
enum Verdict {
    /// The credentials are right.
    Allowed,
    /// Missing or wrong credentials: HTTP 401.
    Refused,
    /// The peer is locked out for this long: HTTP 429.
    Locked(Duration),
}

impl Gate {
    /// The verdict on a request from `peer` whose `Authorization` header is `authorization`.
    fn check(&mut self, peer: IpAddr, authorization: Option<&[u8]>) -> Verdict {
        let now = Instant::now();
        if let Some(left) = self.guard.locked(peer, now) {
            return Verdict::Locked(left);
        }
        let expected = self.expected_header.as_bytes();
        let authorized = authorization.is_some_and(|given| bool::from(given.ct_eq(expected)));
        if authorized {
            self.guard.succeeded(peer);
            Verdict::Allowed
        } else {
            self.guard.failed(peer, now);
            Verdict::Refused
        }
    }
}

/// Why a user and password cannot be used, or `None` when they can.
fn user_pass_problem(user: &str, password: &str) -> Option<&'static str> {
    if user.is_empty() {
        Some("the RPC user is empty")
    } else if password.is_empty() {
        Some("the RPC password is empty")
    } else if user.contains(':') {
        Some("the RPC user contains `:`, which HTTP basic authentication cannot carry")
    } else {
        None
    }
}

/// Why the node could not start or stop.
#[derive(Debug)]
pub enum NodeError {
    /// The address could not be bound (in use, not permitted...).
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the HTTP server said.
        detail: String,
    },
    /// The cookie file could not be written or removed.
    Cookie {
        /// The cookie file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The credentials cannot be used (an empty user or password...).
    Auth {
        /// What is wrong with them (never the password itself).
        detail: String,
    },
    /// The worker thread died (a bug: it should never panic).
    Worker,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeError::Bind { addr, detail } => write!(f, "cannot listen on {addr}: {detail}"),
            NodeError::Cookie { path, source } => {
                write!(f, "cookie file {}: {source}", path.display())
            }
            NodeError::Auth { detail } => write!(f, "cannot authenticate clients: {detail}"),
            NodeError::Worker => write!(f, "the node's worker thread stopped unexpectedly"),
        }
    }
}

impl std::error::Error for NodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NodeError::Cookie { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A running node. Dropping it shuts it down too (without handing the chain back).
pub struct Node {
    addr: SocketAddr,
    cookie: Option<PathBuf>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Option<State>>>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("addr", &self.addr)
            .field("cookie", &self.cookie)
            .finish()
    }
}

/// The chain plus what the server derives from it: a block-hash index.
pub(crate) struct State {
    pub(crate) chain: EmbeddedChain,
    index: HashMap<BlockHash, u32>,
}

impl State {
    fn new(chain: EmbeddedChain) -> State {
        let mut s = State {
            chain,
            index: HashMap::new(),
        };
        s.sync_index();
        s
    }

    /// Brings the hash index up to the tip (blocks are only ever appended).
    pub(crate) fn sync_index(&mut self) {
        let tip = self.chain.height();
        let from = self.index.len() as u32;
        for h in from..=tip {
            if let Some(hash) = self.chain.block_hash(h) {
                self.index.insert(hash, h);
            }
        }
    }

    /// The height of a block on the chain.
    pub(crate) fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.index.get(hash).copied()
    }
}

/// `bytes` bytes of operating-system randomness, in hex.
fn random_hex(bytes: usize) -> String {
    use bitcoin::secp256k1::rand::RngCore;
    let mut buf = vec![0u8; bytes];
    bitcoin::secp256k1::rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Writes the cookie file with owner-only permissions, replacing an old one.
fn write_cookie(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(format!("{COOKIE_USER}:{secret}").as_bytes())?;
    f.sync_all()
}

impl Node {
    /// Binds `config.bind` (a loopback address; others are refused), writes the cookie when
    /// asked to, and starts serving `chain` on a background thread, with the default
    /// [`LoginLimit`].
    pub fn start(chain: EmbeddedChain, config: NodeConfig) -> Result<Node, NodeError> {
        Node::start_with_limit(chain, config, LoginLimit::default())
    }

    /// [`Node::start`] with failed logins rate-limited by `limit`.
    pub fn start_with_limit(
        chain: EmbeddedChain,
        config: NodeConfig,
        limit: LoginLimit,
    ) -> Result<Node, NodeError> {
        if let Auth::UserPass { user, password } = &config.auth {
            if let Some(problem) = user_pass_problem(user, password) {
                return Err(NodeError::Auth {
                    detail: problem.into(),
                });
            }
        }
        if !config.bind.ip().is_loopback() {
            // The Esplora reads have no authentication and the RPC password travels in clear
            // text: the node stays on the local machine.
            return Err(NodeError::Bind {
                addr: config.bind,
                detail: "the node serves only on a loopback address (127.0.0.1 or ::1)".into(),
            });
        }
        let listener = std::net::TcpListener::bind(config.bind).map_err(|e| NodeError::Bind {
            addr: config.bind,
            detail: e.to_string(),
        })?;
        let addr = listener.local_addr().map_err(|e| NodeError::Bind {
            addr: config.bind,
            detail: e.to_string(),
        })?;
        let (expected, cookie) = match &config.auth {
            Auth::UserPass { user, password } => (format!("{user}:{password}"), None),
            Auth::Cookie => {
                let secret = random_hex(32);
                let path = chain.path().join(COOKIE_FILE);
                write_cookie(&path, &secret).map_err(|source| NodeError::Cookie {
                    path: path.clone(),
                    source,
                })?;
                (format!("{COOKIE_USER}:{secret}"), Some(path))
            }
        };
        let gate = Gate {
            expected_header: format!("Basic {}", BASE64.encode(expected.as_bytes())),
            guard: LoginGuard::new(limit),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("biscol-node".into())
            .spawn(move || http::run(listener, State::new(chain), gate, stopped))
            .map_err(|e| NodeError::Bind {
                addr: config.bind,
                detail: format!("cannot start the worker thread: {e}"),
            })?;
        Ok(Node {
            addr,
            cookie,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Starts a node, calls `ready` with it (to print the address), serves until `stop`
    /// returns true (polled every 100 ms), then shuts down. For a foreground `biscol node`.
    pub fn run_until(
        chain: EmbeddedChain,
        config: NodeConfig,
        ready: impl FnOnce(&Node),
        stop: impl Fn() -> bool,
    ) -> Result<EmbeddedChain, NodeError> {
        let node = Node::start(chain, config)?;
        ready(&node);
        while !stop() {
            std::thread::sleep(Duration::from_millis(100));
        }
        node.shutdown()
    }

    /// The address the node listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The JSON-RPC URL, `http://<addr>`.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Esplora base URL, `http://<addr>/esplora`.
    pub fn esplora_url(&self) -> String {
        format!("http://{}/esplora", self.addr)
    }

    /// The cookie file, when the node authenticates with one.
    pub fn cookie_path(&self) -> Option<&Path> {
        self.cookie.as_deref()
    }

    fn stop_worker(&mut self) -> Result<EmbeddedChain, NodeError> {
        if let Some(stop) = self.stop.take() {
            // The worker may have ended already (a bug); then there is no one to tell.
            let _ = stop.send(());
        }
        let joined = match self.thread.take() {
            Some(t) => t.join().ok().flatten().ok_or(NodeError::Worker),
            None => Err(NodeError::Worker),
        };
        let removed = match self.cookie.take() {
            Some(path) => match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(NodeError::Cookie { path, source }),
            },
            None => Ok(()),
        };
        let state = joined?;
        removed?;
        Ok(state.chain)
    }

    /// Stops serving, waits for the worker, removes the cookie and returns the chain.
    pub fn shutdown(mut self) -> Result<EmbeddedChain, NodeError> {
        self.stop_worker()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop_worker();
        }
    }
}

/// An HTTP answer before it becomes a hyper response.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
    /// Headers beyond `Content-Type` and `Content-Length`.
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(crate) fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain",
            body: body.into().into_bytes(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Reply {
        let mut body = value.to_string().into_bytes();
        body.push(b'\n');
        Reply {
            status,
            content_type: "application/json",
            body,
            headers: Vec::new(),
        }
    }

    pub(crate) fn binary(body: Vec<u8>) -> Reply {
        Reply {
            status: 200,
            content_type: "application/octet-stream",
            body,
            headers: Vec::new(),
        }
    }
}

/// Formats satoshis as a BTC JSON number.
pub(crate) fn btc(sats: u64) -> serde_json::Value {
    serde_json::Number::from_f64(sats as f64 / 100_000_000.0)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// Formats satoshis as Core's `FormatMoney` does (at least two decimals, trailing zeros cut).
pub(crate) fn format_money(sats: u64) -> String {
    let mut s = format!("{}.{:08}", sats / 100_000_000, sats % 100_000_000);
    while s.ends_with('0') && s.len() > s.find('.').map_or(0, |p| p + 3) {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_guard_counts_within_the_window_and_locks_for_the_lockout() {
        let limit = LoginLimit {
            max_failures: 2,
            window: Duration::from_secs(10),
            lockout: Duration::from_secs(5),
        };
        let mut g = LoginGuard::new(limit);
        let peer = IpAddr::from([127, 0, 0, 1]);
        let other = IpAddr::from([127, 0, 0, 2]);
        let t0 = Instant::now();
        // Failures further apart than the window do not add up.
        g.failed(peer, t0);
        g.failed(peer, t0 + Duration::from_secs(11));
        assert_eq!(g.locked(peer, t0 + Duration::from_secs(11)), None);
        // Two within the window lock the peer out, not the others, for the lockout.
        let t1 = t0 + Duration::from_secs(12);
        g.failed(peer, t1);
        assert_eq!(g.locked(peer, t1), Some(Duration::from_secs(5)));
        assert_eq!(g.locked(other, t1), None);
        assert_eq!(g.locked(peer, t1 + Duration::from_secs(5)), None);
        // A full table drops stale entries first.
        let mut g = LoginGuard::new(limit);
        for i in 0..MAX_TRACKED_PEERS {
            let ip = IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]);
            g.failed(ip, t0);
        }
        g.failed(peer, t0 + Duration::from_secs(11));
        assert_eq!(g.peers.len(), 1);
        // A zero limit still locks out after one failure.
        let mut g = LoginGuard::new(LoginLimit {
            max_failures: 0,
            ..limit
        });
        g.failed(peer, t0);
        assert!(g.locked(peer, t0).is_some());
    }

    #[test]
    fn money_formats_like_core() {
        assert_eq!(format_money(5_000_000_000), "50.00");
        assert_eq!(format_money(1), "0.00000001");
        assert_eq!(format_money(10_000), "0.0001");
    }
}
