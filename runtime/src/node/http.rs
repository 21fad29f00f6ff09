//! The node's HTTP layer: connections, request limits and routing, on hyper.
//!
//! In: a bound loopback [`std::net::TcpListener`], the node's [`State`] and [`Gate`], and a stop
//! signal. Out: [`run`] serves until the signal fires (or its sender is dropped) and hands the
//! state back.
//!
//! Everything runs on one thread (a current-thread tokio runtime with a `LocalSet`): the chain is
//! reached only between `await`s, so requests are answered one at a time, in the order their
//! bodies arrive, as before. What a client can make the node hold is bounded: at most
//! [`MAX_CONNECTIONS`] open connections (more are closed on accept), headers within
//! [`HEADER_TIMEOUT`] and hyper's header-buffer limit, and a body of at most [`MAX_BODY`] bytes
//! (a larger `Content-Length` is answered 413 without reading the body; a body that grows past
//! the limit is cut off the same way). Nothing is allocated from what a client merely claims.

use std::cell::RefCell;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body as _;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::oneshot;

use super::{esplora, rpc, Gate, Reply, State, Verdict, MAX_BODY};

/// The most connections served at once; one more is closed as soon as it is accepted.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The node's state and its gate, shared by the connections of the serving thread.
struct Shared {
    state: State,
    gate: Gate,
}

/// Serves `listener` until `stop` fires or its sender is dropped; returns the state, or `None`
/// when the runtime cannot be built or a connection still holds the state (both bugs).
pub(super) fn run(
    listener: std::net::TcpListener,
    state: State,
    gate: Gate,
    stop: oneshot::Receiver<()>,
) -> Option<State> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let shared = Rc::new(RefCell::new(Shared { state, gate }));
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, accept_until(listener, Rc::clone(&shared), stop));
    // Dropping the set drops the connections still open, and with them their handles.
    drop(local);
    Rc::try_unwrap(shared)
        .ok()
        .map(|shared| shared.into_inner().state)
}

async fn accept_until(
    listener: std::net::TcpListener,
    shared: Rc<RefCell<Shared>>,
    mut stop: oneshot::Receiver<()>,
) {
    let Ok(listener) = listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
    else {
        return;
    };
    let open = Rc::new(());
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(connection) => connection,
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Each connection task holds a clone of `open`, so its count is the connections open.
        if Rc::strong_count(&open) > MAX_CONNECTIONS {
            drop(stream);
            continue;
        }
        let token = Rc::clone(&open);
        let shared = Rc::clone(&shared);
        tokio::task::spawn_local(async move {
            let service = hyper::service::service_fn(move |request| {
                answer(Rc::clone(&shared), peer, request)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                // Header names as Core writes them (`Content-Type`), for clients that care.
                .title_case_headers(true)
                // A client may shut its write side once its request is sent; it still gets the
                // answer (hyper otherwise drops the connection on that end of input).
                .half_close(true)
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(token);
        });
    }
}

/// Answers one request. Every failure becomes an HTTP answer; a panic in a handler (a bug)
/// becomes HTTP 500 and serving goes on.
async fn answer(
    shared: Rc<RefCell<Shared>>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let peer = peer.ip();
    // A body left unread (a refusal, or one cut off at the limit) ends the connection after the
    // answer: otherwise hyper would wait for the rest of it before reading the next request.
    let has_body = !request.body().is_end_stream();
    let mut body_read = false;
    let reply = if let Some(rest) = path.strip_prefix("/esplora") {
        if method == Method::GET {
            // Reads are open, like Esplora's.
            guarded(|| esplora::get(&mut shared.borrow_mut().state, rest))
        } else {
            // Every write needs the RPC credentials, checked before the body is read.
            let refusal = "Esplora writes need the node's RPC credentials (HTTP basic: the \
                           user and password, or the cookie file)";
            match authenticate(&shared, peer, &request, refusal) {
                Err(refused) => refused,
                Ok(()) if method != Method::POST => Reply::text(405, "Method not allowed"),
                Ok(()) => match read_body(request).await {
                    Ok(body) => {
                        body_read = true;
                        guarded(|| esplora::post(&mut shared.borrow_mut().state, rest, &body))
                    }
                    Err(refused) => refused,
                },
            }
        }
    } else if path == "/" || path.starts_with("/wallet/") {
        match authenticate(&shared, peer, &request, "") {
            Err(refused) => refused,
            Ok(()) if method != Method::POST => {
                Reply::text(405, "JSONRPC server handles only POST requests")
            }
            Ok(()) => match read_body(request).await {
                Ok(body) => {
                    body_read = true;
                    guarded(|| rpc::handle(&mut shared.borrow_mut().state, &body))
                }
                Err(refused) => refused,
            },
        }
    } else {
        Reply::text(404, "Not found")
    };
    let reply = if has_body && !body_read {
        reply.with_header("Connection", "close".into())
    } else {
        reply
    };
    Ok(reply.into_response())
}

/// Runs a handler; a panic (a bug) becomes HTTP 500 instead of ending the connection's task.
fn guarded(handler: impl FnOnce() -> Reply) -> Reply {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(handler))
        .unwrap_or_else(|_| Reply::text(500, "Internal error"))
}

/// Checks a request's credentials; `Err` is the answer (401 or 429) when they do not let it
/// through. `refusal` is the 401's body: empty for JSON-RPC, as Core answers, else an
/// explanation.
fn authenticate(
    shared: &RefCell<Shared>,
    peer: IpAddr,
    request: &Request<Incoming>,
    refusal: &str,
) -> Result<(), Reply> {
    let authorization = request.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
    match shared.borrow_mut().gate.check(peer, authorization) {
        Verdict::Allowed => Ok(()),
        // Core answers 401 with a challenge; so does this node.
        Verdict::Refused => Err(Reply::text(401, refusal)
            .with_header("WWW-Authenticate", "Basic realm=\"jsonrpc\"".into())),
        Verdict::Locked(left) => {
            // Whole seconds, rounded up, so that a client retrying on time is let through.
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            Err(Reply::text(
                429,
                format!("Too many failed logins from this address; retry in {secs} s"),
            )
            .with_header("Retry-After", secs.to_string()))
        }
    }
}

/// Reads a body of at most [`MAX_BODY`] bytes; `Err` is the answer otherwise (413 when it is
/// larger, claimed or sent; 400 when it cannot be read).
async fn read_body(request: Request<Incoming>) -> Result<Bytes, Reply> {
    let too_large = || Reply::text(413, "Request body too large");
    let claimed = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if claimed.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(_) => Err(Reply::text(400, "The request body could not be read")),
    }
}

impl Reply {
    /// The reply with one more header (skipped when it is not a valid header).
    fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// The hyper response: always a `Content-Length`, never chunked (Core's clients,
    /// rust-jsonrpc among them, refuse chunked answers).
    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() = hyper::StatusCode::from_u16(self.status)
            .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
        response
    }
}
