//! The accept loop and each HTTP connection's life (issue 15): hyper's HTTP/1 server with a
//! header-read timeout, an idle timeout, and a connection cap that sheds the longest-idle
//! connection so that the server keeps answering new clients when file descriptors run
//! short. `axum::serve` has none of these.
//!
//! A connection counts against the cap from its accept until it closes; after a WebSocket
//! upgrade it is counted by the socket's task (`AppState::connections_open`) instead.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use stream_chat_protocol::{ApiErrorBody, codes};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::app::AppState;
use crate::config::{ACCEPT_RETRY_DELAY, REFUSE_WRITE_TIMEOUT, default_max_connections};

/// Serves `app` on `listener` until the server shuts down, then stops accepting, drops the
/// listener (freeing the port), asks every connection to finish its request and close, and
/// returns once they have.
pub(crate) async fn serve(listener: TcpListener, app: Router, state: Arc<AppState>) {
    let tracker = Arc::new(Tracker::default());
    let cap = state
        .config
        .max_connections
        .unwrap_or_else(default_max_connections);
    tracing::debug!(cap, "connection cap");
    let mut down = state.shutdown.subscribe();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = down.wait_for(|d| *d) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let open = tracker.len() + *state.connections_open.borrow();
                if open >= cap && !tracker.shed_one() {
                    tracing::warn!(open, "connection cap reached, nothing to shed: refusing");
                    tokio::spawn(refuse(stream));
                    continue;
                }
                let conn = tracker.add();
                tokio::spawn(run(
                    stream,
                    conn,
                    tracker.clone(),
                    app.clone(),
                    state.clone(),
                ));
            }
            Err(e) if out_of_descriptors(&e) => {
                // Free a descriptor by closing the longest-idle connection; if none can go,
                // wait a little (the pending connects stay in the kernel's backlog).
                tracing::warn!(error = %e, "accept failed: out of file descriptors");
                if !tracker.shed_one() {
                    tokio::select! {
                        _ = down.wait_for(|d| *d) => break,
                        _ = tokio::time::sleep(ACCEPT_RETRY_DELAY) => {}
                    }
                }
            }
            // The peer gave up before we accepted (ECONNABORTED and the like).
            Err(e) => tracing::debug!(error = %e, "accept failed"),
        }
    }
    drop(listener);
    let mut open = tracker.open.subscribe();
    let _ = open.wait_for(|n| *n == 0).await;
}

/// EMFILE, ENFILE (and the buffer shortages that come with them).
fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24 | 105 | 12))
}

/// Answers a connection over the cap with a Stream-shaped 503 and closes it.
async fn refuse(mut stream: TcpStream) {
    let body = ApiErrorBody::with_status(
        codes::INTERNAL,
        503,
        "the server has too many open connections, try again later",
    );
    let body = serde_json::to_string(&body).unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSE_WRITE_TIMEOUT, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// One HTTP connection: served by hyper until it ends, is shed, goes idle too long, or the
/// server shuts down (then it finishes its request in flight and closes).
async fn run(
    stream: TcpStream,
    conn: Arc<Conn>,
    tracker: Arc<Tracker>,
    app: Router,
    state: Arc<AppState>,
) {
    let _gone = Remove {
        tracker: &tracker,
        id: conn.id,
    };
    // Events are small frames written as they happen: without this, a second frame to a
    // socket waits (Nagle) until the peer acknowledges the first, which a delayed ACK can
    // hold for up to 40 ms.
    let _ = stream.set_nodelay(true);
    let config = &state.config;
    let counted = conn.clone();
    // The peer's address, for handlers that answer loopback clients only (the dashboard).
    let peer = stream.peer_addr().ok();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let busy = Busy::start(counted.clone());
        let app = app.clone();
        let mut req = req.map(Body::new);
        if let Some(peer) = peer {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        async move {
            let response = app.oneshot(req).await;
            drop(busy);
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout);
    let served = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(served);
    let mut down = state.shutdown.subscribe();
    let mut draining = false;
    loop {
        let idle_deadline = conn.idle_deadline(config.idle_timeout);
        tokio::select! {
            _ = served.as_mut() => return,
            _ = conn.shed.notified() => {
                tracing::debug!(conn = conn.id, "shedding an idle connection");
                return;
            }
            _ = down.wait_for(|d| *d), if !draining => {
                draining = true;
                served.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(idle_deadline) => {
                if conn.idle_for(config.idle_timeout) {
                    tracing::debug!(conn = conn.id, "closing an idle connection");
                    return;
                }
            }
        }
    }
}

/// One tracked HTTP connection.
struct Conn {
    id: u64,
    /// Requests being handled now.
    busy: AtomicUsize,
    /// When the last request ended (or the connection was accepted).
    idle_since: Mutex<Instant>,
    /// Wakes the connection's task to close it at once.
    shed: Notify,
}

impl Conn {
    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::SeqCst) == 0
    }

    fn idle_since(&self) -> Instant {
        *self
            .idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// When the connection will have been idle for `timeout` if nothing happens meanwhile.
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        if self.is_idle() {
            self.idle_since() + timeout
        } else {
            Instant::now() + timeout
        }
    }

    fn idle_for(&self, timeout: Duration) -> bool {
        self.is_idle() && self.idle_since().elapsed() >= timeout
    }
}

/// Counts a request in flight on its connection while alive.
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: Arc<Conn>) -> Busy {
        conn.busy.fetch_add(1, Ordering::SeqCst);
        Busy(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        *self
            .0
            .idle_since
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The open HTTP connections.
#[derive(Default)]
struct Tracker {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// How many are open (shutdown waits for zero).
    open: watch::Sender<usize>,
}

impl Tracker {
    fn len(&self) -> usize {
        *self.open.borrow()
    }

    fn add(&self) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            shed: Notify::new(),
        });
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        conns.insert(conn.id, conn.clone());
        self.open.send_replace(conns.len());
        conn
    }

    fn remove(&self, id: u64) {
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        conns.remove(&id);
        self.open.send_replace(conns.len());
    }

    /// Closes the connection idle the longest (no request in flight); false if every one is
    /// busy. It leaves the map at once, so the next call picks another.
    fn shed_one(&self) -> bool {
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest = conns
            .values()
            .filter(|c| c.is_idle())
            .min_by_key(|c| c.idle_since())
            .map(|c| c.id);
        let Some(conn) = oldest.and_then(|id| conns.remove(&id)) else {
            return false;
        };
        self.open.send_replace(conns.len());
        conn.shed.notify_one();
        true
    }
}

/// Removes a connection from the tracker when its task ends, however it ends.
struct Remove<'a> {
    tracker: &'a Tracker,
    id: u64,
}

impl Drop for Remove<'_> {
    fn drop(&mut self) {
        self.tracker.remove(self.id);
    }
}
