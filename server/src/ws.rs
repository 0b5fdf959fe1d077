//! The WebSocket endpoint `/connect`: authentication, the connected event, keep-alive,
//! event delivery, kick/freeze and cleanup.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use stream_chat_protocol::{
    ApiErrorBody, ConnectPayload, ConnectionErrorEvent, HealthCheckEvent, codes, time,
};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, timeout};

use stream_chat_protocol::names::auth_type;

use crate::app::AppState;
use crate::auth;
use crate::config::{
    KICK_CLOSE_CODE, LAGGING_CLOSE_CODE, MAX_WS_MESSAGE_BYTES, WS_BUFFER_BYTES, WS_CLOSE_TIMEOUT,
    WS_WRITE_TIMEOUT,
};
use crate::domain::caller::Actor;
use crate::domain::connections::{CloseReason, Frame, Freeze, Inbox};
use crate::domain::sessions::{Identity, Session};
use crate::error::ApiError;

/// `GET /connect`: authenticates, then upgrades. Auth failures are reported in-band
/// (a `connection.error` frame, then close 1000), as Stream does. A user whose connections
/// are refused ([`crate::ServerHandle::refuse_connections`]) gets HTTP 503 without an upgrade.
pub(crate) async fn connect(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Ok(upgrade) = upgrade else {
        return ApiError::input("Connect", "/connect expects a WebSocket upgrade request")
            .into_response();
    };
    let identity = authenticate(&state, &query);
    if let Ok(identity) = &identity
        && state.chat.refuse_connect(identity.user_id())
    {
        tracing::info!("websocket connection refused by the test hook");
        return ApiError::with_status(
            codes::INTERNAL,
            503,
            format!(
                "Connect failed with error: \"connections of user '{}' are refused for now, try again later\"",
                identity.user_id()
            ),
        )
        .into_response();
    }
    upgrade
        .read_buffer_size(WS_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .max_frame_size(MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(socket, state, identity))
}

/// Checks api_key, the `json` payload and the token.
fn authenticate(
    state: &AppState,
    query: &HashMap<String, String>,
) -> Result<Identity, Box<ApiErrorBody>> {
    let plain = |code, msg: &str| Box::new(ApiErrorBody::new(code, msg));
    match query.get("api_key") {
        Some(k) if *k == state.config.api_key => {}
        Some(_) => return Err(plain(codes::ACCESS_KEY, "api_key not found")),
        None => return Err(plain(codes::ACCESS_KEY, "api_key is missing")),
    }
    let Some(json) = query.get("json") else {
        return Err(plain(codes::INPUT, "json is a required query parameter"));
    };
    let payload: ConnectPayload = serde_json::from_str(json).map_err(|e| {
        ApiErrorBody::new(
            codes::INPUT,
            format!("json query parameter is not valid: {e}"),
        )
    })?;
    let Some(details) = payload.user_details.clone() else {
        return Err(plain(codes::INPUT, "user_details is a required field"));
    };
    let kind = query
        .get(auth_type::HEADER)
        .map_or(auth_type::JWT, String::as_str);
    if kind.eq_ignore_ascii_case(auth_type::ANONYMOUS) {
        return Ok(Identity::Anonymous);
    }
    if !kind.eq_ignore_ascii_case(auth_type::JWT) {
        return Err(plain(
            codes::AUTHENTICATION,
            "stream-auth-type must be 'jwt' or 'anonymous'",
        ));
    }
    let token = query
        .get("authorization")
        .filter(|t| !t.is_empty())
        .or(payload.user_token.as_ref())
        .ok_or_else(|| {
            plain(
                codes::AUTHENTICATION,
                "JWTAuth error: the authorization parameter is missing",
            )
        })?;
    let claims = auth::verify_token(&state.config, token)
        .map_err(|e| ApiErrorBody::new(e.code(), e.to_string()))?;
    let claimed = Some(payload.user_id.as_str())
        .filter(|id| !id.is_empty())
        .unwrap_or(details.id.as_str());
    match auth::token_actor(&claims, Some(claimed)) {
        Ok(Actor::User(id)) => Ok(Identity::User {
            id,
            details: Box::new(details),
        }),
        Ok(_) => Err(plain(
            codes::AUTHENTICATION,
            "JWTAuth error: a user token is required to connect",
        )),
        Err((code, reason)) => Err(Box::new(ApiErrorBody::new(code, reason))),
    }
}

/// The task side of a registered connection.
struct Registered {
    conn_id: String,
    /// The first frame: `health.check` with `me`.
    connected: HealthCheckEvent,
    frames: mpsc::Receiver<Frame>,
    /// `(frozen, generation)`; each generation is acknowledged through `freeze`.
    frozen: watch::Receiver<(bool, u64)>,
    freeze: EndsFreeze,
    stop: Stop,
}

impl Registered {
    fn new(session: Session, shutdown: watch::Receiver<bool>) -> Registered {
        let Session {
            conn_id,
            connected,
            inbox:
                Inbox {
                    frames,
                    close,
                    frozen,
                    freeze,
                },
        } = session;
        Registered {
            conn_id,
            connected,
            frames,
            frozen,
            freeze: EndsFreeze(freeze),
            stop: Stop { close, shutdown },
        }
    }
}

/// Tells freeze waiters that the task has ended, however it ends.
struct EndsFreeze(Arc<Freeze>);

impl Drop for EndsFreeze {
    fn drop(&mut self) {
        self.0.ended();
    }
}

/// Removes the connection from the domain when dropped, even if its task panics.
struct Unregister<'a> {
    state: &'a AppState,
    conn_id: &'a str,
}

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        self.state.chat.disconnect(self.conn_id);
    }
}

async fn run(
    mut socket: WebSocket,
    state: Arc<AppState>,
    identity: Result<Identity, Box<ApiErrorBody>>,
) {
    let _running = state.task_guard();
    let session = identity.and_then(|identity| state.chat.connect(identity).map_err(|e| e.0));
    let session = match session {
        Ok(session) => session,
        Err(error) => {
            tracing::info!(code = error.code, "websocket connection refused");
            let frame = ConnectionErrorEvent::new(*error, time::now_rfc3339());
            if send_json(&mut socket, &frame).await {
                close(&mut socket, 1000, "").await;
            }
            return;
        }
    };
    let mut conn = Registered::new(session, state.shutdown.subscribe());
    let conn_id = conn.conn_id.clone();
    let _unregister = Unregister {
        state: &state,
        conn_id: &conn_id,
    };
    tracing::info!(%conn_id, "websocket connected");
    if send_json(&mut socket, &conn.connected).await {
        serve(&mut socket, &state, &mut conn).await;
    }
    tracing::info!(%conn_id, "websocket closed");
}

/// Why the server ends a connection on its own.
enum Ending {
    /// The peer is gone or the socket failed: nothing more to send.
    Gone,
    /// Send a close frame with this code and reason.
    Close(u16, &'static str),
    /// The client fell too far behind.
    Lagging,
}

/// The signals that end a connection from the server side: kick, lagging, shutdown.
struct Stop {
    close: watch::Receiver<Option<CloseReason>>,
    shutdown: watch::Receiver<bool>,
}

impl Stop {
    /// Resolves when the connection must end.
    async fn requested(&mut self) -> Ending {
        tokio::select! {
            biased;
            _ = self.shutdown.wait_for(|down| *down) => Ending::Close(1001, "server shutting down"),
            reason = self.close.wait_for(Option::is_some) => match reason.map(|r| *r) {
                Ok(Some(CloseReason::Lagging)) => Ending::Lagging,
                Ok(_) => Ending::Close(KICK_CLOSE_CODE, "kicked by the server"),
                Err(_) => Ending::Gone,
            },
        }
    }
}

/// Writes a text frame unless the connection is asked to end first.
async fn write(socket: &mut WebSocket, text: Utf8Bytes, stop: &mut Stop) -> Result<(), Ending> {
    tokio::select! {
        biased;
        ending = stop.requested() => Err(ending),
        sent = timeout(WS_WRITE_TIMEOUT, socket.send(Message::Text(text))) => match sent {
            Ok(Ok(())) => Ok(()),
            _ => Err(Ending::Gone),
        },
    }
}

/// Writes a queued event frame (JSON text, shared with its other recipients).
async fn write_frame(socket: &mut WebSocket, frame: Frame, stop: &mut Stop) -> Result<(), Ending> {
    match Utf8Bytes::try_from(frame.into_bytes()) {
        Ok(text) => write(socket, text, stop).await,
        Err(_) => Ok(()), // unreachable: frames are serialized JSON
    }
}

/// Writes the frames queued now (not those queued meanwhile: a busy channel cannot hold
/// the caller here for long). Stops early, returning false, when a freeze is requested:
/// the frozen loop drops the rest, and the freeze is acknowledged no later than after one
/// write.
async fn write_queued(
    socket: &mut WebSocket,
    rx: &mut mpsc::Receiver<Frame>,
    frozen: &watch::Receiver<(bool, u64)>,
    stop: &mut Stop,
) -> Result<bool, Ending> {
    for _ in 0..rx.len() {
        if frozen.borrow().0 {
            return Ok(false);
        }
        match rx.try_recv() {
            Ok(frame) => write_frame(socket, frame, stop).await?,
            Err(_) => break,
        }
    }
    Ok(!frozen.borrow().0)
}

/// The connection loop: client frames, queued events, health checks, freeze, kick, lagging
/// and shutdown.
async fn serve(socket: &mut WebSocket, state: &AppState, conn: &mut Registered) {
    let ending = pump(socket, state, conn).await;
    let conn_id = conn.conn_id.as_str();
    match ending {
        Ending::Gone => {}
        Ending::Close(code, reason) => close(socket, code, reason).await,
        Ending::Lagging => {
            tracing::warn!(
                %conn_id,
                queued = state.config.max_queued_frames,
                "closing a websocket whose client fell too far behind"
            );
            // Stop queueing for it right away; the close frame may take a while.
            state.chat.drop_slow_consumer(conn_id);
            close(
                socket,
                LAGGING_CLOSE_CODE,
                "client too slow: too many queued events",
            )
            .await;
        }
    }
}

/// Moves frames until the connection ends, and says how.
///
/// The freeze state is read once per iteration and acknowledged; every write happens inside
/// one iteration, so once a freeze is acknowledged nothing is written until the thaw.
async fn pump(socket: &mut WebSocket, state: &AppState, conn: &mut Registered) -> Ending {
    let Registered {
        conn_id,
        frames: rx,
        frozen,
        freeze,
        stop,
        ..
    } = conn;
    let conn_id = conn_id.as_str();
    let period = state.config.health_check_interval;
    let mut health = tokio::time::interval_at(Instant::now() + period, period);
    health.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let health_check = || {
        let frame = HealthCheckEvent::new(conn_id, time::now_rfc3339());
        Utf8Bytes::from(serde_json::to_string(&frame).unwrap_or_default())
    };
    let mut acknowledged = 0;
    loop {
        let (is_frozen, generation) = *frozen.borrow_and_update();
        if generation != acknowledged {
            freeze.0.applied(generation);
            acknowledged = generation;
        }
        let result = tokio::select! {
            biased;
            ending = stop.requested() => Err(ending),
            // Ahead of frames and client input: a freeze wins over anything ready with it.
            changed = frozen.changed() => changed.map_err(|_| Ending::Gone),
            incoming = socket.recv(), if !is_frozen => match incoming {
                // Every client frame is treated as a health check, parsable or not. Its
                // answer follows the events queued before it was read, so that "ping, then
                // read up to the answer" is a barrier for clients and tests.
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    match write_queued(socket, rx, frozen, stop).await {
                        Ok(true) => write(socket, health_check(), stop).await,
                        // Frozen meanwhile: unanswered, as on a dead link.
                        Ok(false) => Ok(()),
                        Err(ending) => Err(ending),
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_))) | None => Err(Ending::Gone),
                Some(Err(e)) => {
                    // Oversized or malformed frames: say why, then drop the socket.
                    let code = if e.to_string().contains("too long") { 1009 } else { 1002 };
                    tracing::debug!(%conn_id, error = %e, "bad websocket frame");
                    Err(Ending::Close(code, "invalid or oversized frame"))
                }
            },
            out = rx.recv() => match out {
                Some(_) if is_frozen => Ok(()),
                Some(frame) => write_frame(socket, frame, stop).await,
                None => Err(Ending::Gone),
            },
            _ = health.tick() => {
                if is_frozen { Ok(()) } else { write(socket, health_check(), stop).await }
            }
        };
        if let Err(ending) = result {
            return ending;
        }
    }
}

async fn send_json(socket: &mut WebSocket, event: &impl serde::Serialize) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => send_text(socket, text).await,
        Err(_) => false,
    }
}

/// Sends a text frame; false when the socket is gone or stuck.
async fn send_text(socket: &mut WebSocket, text: String) -> bool {
    matches!(
        timeout(WS_WRITE_TIMEOUT, socket.send(Message::Text(text.into()))).await,
        Ok(Ok(()))
    )
}

/// Sends a close frame and waits (briefly) for the peer to finish the close handshake.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if matches!(
        timeout(WS_CLOSE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await,
        Ok(Ok(()))
    ) {
        let _ = timeout(WS_CLOSE_TIMEOUT, async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    }
}
