//! An in-memory LSP client for tests and benchmarks.
//!
//! [`TestClient::start`] runs the real server (the same [`crate::serve`] as `biscol lsp`) on
//! one end of a [`tokio::io::duplex`] pipe and speaks JSON-RPC on the other, with
//! `Content-Length` framing, so tests exercise exactly what an editor would.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let mut client = biscol_lsp::testing::TestClient::start().await;
//! client.open("file:///t.bsc", "contract C(k: PubKey) { spend s() { require sig(k); } }").await;
//! let diags = client.diagnostics_for("file:///t.bsc").await;
//! assert_eq!(diags["diagnostics"].as_array().map(Vec::len), Some(0));
//! client.shutdown().await;
//! # });
//! ```

use std::collections::VecDeque;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};

/// A client connected to an in-process server.
pub struct TestClient {
    writer: tokio::io::WriteHalf<DuplexStream>,
    reader: BufReader<tokio::io::ReadHalf<DuplexStream>>,
    next_id: i64,
    /// Notifications received while waiting for something else.
    pending: VecDeque<Value>,
    server: tokio::task::JoinHandle<()>,
}

impl TestClient {
    /// Starts a server and completes the `initialize` handshake.
    pub async fn start() -> TestClient {
        let (client_end, server_end) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_end);
        let server = tokio::spawn(crate::serve(server_read, server_write));
        let (read, writer) = tokio::io::split(client_end);
        let mut client = TestClient {
            writer,
            reader: BufReader::new(read),
            next_id: 0,
            pending: VecDeque::new(),
            server,
        };
        client
            .request("initialize", json!({ "capabilities": {} }))
            .await;
        client.notify("initialized", json!({})).await;
        client
    }

    async fn send(&mut self, message: Value) {
        let body = message.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.writer
            .write_all(frame.as_bytes())
            .await
            .expect("the server reads");
    }

    /// Reads one message.
    pub async fn read(&mut self) -> Value {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.expect("body");
        serde_json::from_slice(&body).expect("JSON")
    }

    /// Sends a notification.
    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }))
            .await;
    }

    /// Sends a request and waits for its response (the whole response object).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        loop {
            let message = self.read().await;
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            self.pending.push_back(message);
        }
    }

    /// The `result` of a request (`null` on error).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.request(method, params)
            .await
            .get("result")
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Opens a document.
    pub async fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "biscol", "version": 1, "text": text } }),
        )
        .await;
    }

    /// Sends one ranged edit.
    pub async fn change(&mut self, uri: &str, version: i64, range: [(u32, u32); 2], text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{
                    "range": {
                        "start": { "line": range[0].0, "character": range[0].1 },
                        "end": { "line": range[1].0, "character": range[1].1 },
                    },
                    "text": text,
                }],
            }),
        )
        .await;
    }

    /// Waits for the next `publishDiagnostics` for `uri`; returns its params.
    pub async fn diagnostics_for(&mut self, uri: &str) -> Value {
        if let Some(at) = self.pending.iter().position(|m| is_diagnostics_for(m, uri)) {
            if let Some(m) = self.pending.remove(at) {
                return m["params"].clone();
            }
        }
        loop {
            let message = self.read().await;
            if is_diagnostics_for(&message, uri) {
                return message["params"].clone();
            }
            self.pending.push_back(message);
        }
    }

    /// A position parameter object.
    pub fn at(uri: &str, line: u32, character: u32) -> Value {
        json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
    }

    /// Shuts the server down and waits for it to stop.
    pub async fn shutdown(mut self) {
        self.request("shutdown", Value::Null).await;
        self.notify("exit", Value::Null).await;
        let _ = self.server.await;
    }
}

fn is_diagnostics_for(message: &Value, uri: &str) -> bool {
    message.get("method") == Some(&json!("textDocument/publishDiagnostics"))
        && message["params"]["uri"] == json!(uri)
}
