//! Raw bytes as an HTTP request over TCP to a `biscol node` (JSON-RPC at `/`, Esplora at
//! `/esplora/...`) serving an embedded regtest chain in a temporary folder. The node is started
//! once per process; every `HEALTH_EVERY` inputs, and after any input whose answer did not come
//! within `READ_TIMEOUT`, the target asserts that the node still answers `getblockcount`.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use biscol_runtime::chain::embedded::EmbeddedChain;
use biscol_runtime::node::{Auth, Node, NodeConfig};
use libfuzzer_sys::fuzz_target;

/// User `u`, password `p` (`dTpw` in base64), the same as runtime/tests/rpc.rs.
const BASIC_UP: &str = "dTpw";
const READ_TIMEOUT: Duration = Duration::from_millis(1500);
/// The health check's patience: a fuzzed `generatetoaddress` may keep the node busy a while.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(60);
const HEALTH_EVERY: u64 = 500;
/// The largest answer read back (the rest is dropped with the connection).
const MAX_ANSWER: usize = 1 << 20;

static NODE: OnceLock<SocketAddr> = OnceLock::new();
static RUNS: AtomicU64 = AtomicU64::new(0);

fn node() -> SocketAddr {
    *NODE.get_or_init(|| {
        // Both live as long as the process: the folder is kept (in the system's temp folder),
        // the node never shut down.
        let dir = tempfile::Builder::new()
            .prefix("biscol-fuzz-node-")
            .tempdir()
            .expect("temp folder")
            .keep();
        let chain = EmbeddedChain::open(dir.join("chain")).expect("embedded chain");
        let config = NodeConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            auth: Auth::UserPass {
                user: "u".into(),
                password: "p".into(),
            },
        };
        let node = Node::start(chain, config).expect("node starts");
        let addr = node.local_addr();
        std::mem::forget(node);
        addr
    })
}

/// Sends `bytes`, closes the write side and reads the answer until EOF, `timeout` or
/// `MAX_ANSWER`. `None` when the read timed out; any I/O error (refused, reset) is an answer.
fn exchange(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> Option<Vec<u8>> {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, timeout) else {
        return Some(Vec::new());
    };
    let _ = s.set_write_timeout(Some(timeout));
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_nodelay(true);
    if s.write_all(bytes).is_err() {
        return Some(Vec::new());
    }
    let _ = s.shutdown(Shutdown::Write);
    let start = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(answer),
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                if answer.len() >= MAX_ANSWER {
                    return Some(answer);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Some(answer),
        }
        if start.elapsed() > timeout {
            return None;
        }
    }
}

fn health(addr: SocketAddr) {
    let body = r#"{"jsonrpc":"2.0","method":"getblockcount","params":[],"id":1}"#;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {BASIC_UP}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(addr, request.as_bytes(), HEALTH_TIMEOUT)
        .expect("the node no longer answers getblockcount (hang)");
    let text = String::from_utf8_lossy(&answer);
    // 429: the node's failed-login limiter (fuzzed wrong credentials from 127.0.0.1) refuses
    // every request from this address for 30 s; it is an answer, so the node is alive.
    assert!(
        (text.starts_with("HTTP/1.1 200") && text.contains("\"result\":"))
            || text.starts_with("HTTP/1.1 429"),
        "the node answered getblockcount with: {text:.400}"
    );
}

fuzz_target!(|data: &[u8]| {
    let addr = node();
    let runs = RUNS.fetch_add(1, Ordering::Relaxed);
    if runs == 0 {
        health(addr);
    }
    let answered = exchange(addr, data, READ_TIMEOUT).is_some();
    if !answered || runs % HEALTH_EVERY == HEALTH_EVERY - 1 {
        health(addr);
    }
});
