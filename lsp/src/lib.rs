//! The BiSCOL language server: `biscol lsp` speaks LSP over stdio.
//!
//! This is the only crate that knows LSP types. It translates between LSP messages and the
//! compiler's salsa database ([`biscol_compiler::db`]): an edit sets a file's text, and
//! diagnostics, hover, definitions and the rest are computed from the compiler's queries,
//! so only what an edit affects runs again.
//!
//! - [`line_index`]: byte offsets to LSP positions (UTF-16) and back;
//! - [`analysis`]: the editor features in the compiler's terms (byte spans, Markdown);
//! - [`server`]: the `tower-lsp-server` [`LanguageServer`](tower_lsp_server::LanguageServer)
//!   implementation, with every handler guarded against panics;
//! - [`testing`]: an in-memory client over a duplex pipe, for tests and benchmarks.
//!
//! ```no_run
//! // What `biscol lsp` does:
//! biscol_lsp::run_stdio().expect("the server ran");
//! ```
#![deny(missing_docs)]

pub mod analysis;
pub mod line_index;
pub mod server;
pub mod testing;

use tower_lsp_server::{LspService, Server};

/// Serves LSP on the given byte streams until the client exits.
pub async fn serve<I, O>(input: I, output: O)
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite,
{
    let (service, socket) = LspService::new(server::Backend::new);
    Server::new(input, output, socket).serve(service).await;
}

/// Runs the server on stdin and stdout (blocks until the client sends `exit`).
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    Ok(())
}
