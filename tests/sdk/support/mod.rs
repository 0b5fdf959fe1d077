//! Helpers of the SDK's integration tests: a local server, clients pointed at it, and
//! waiting on events with deadlines (never sleeping to synchronise). The peers and the
//! proxy are in [`net`]; the binary's one logger in [`logs`]; this process's threads and
//! tests that need a process of their own in [`process`]; waiting for the server's counters
//! and the one bounded poll, for facts nothing notifies, in [`wait`].
#![allow(dead_code)]

pub mod logs;
pub mod net;
pub mod process;
pub mod tls;
pub mod wait;

pub use net::*;
pub use process::threads_named;
pub use tls::{TEST_CA, tls_front};
pub use wait::{assert_server, poll_external};

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};
use stream_chat_client::{
    ChatClient, ChatClientBuilder, ChatEvent, ChatResult, ConnectionState, Message,
    QueryUsersRequest, Subscription, TokenError, TokenSource,
};
use stream_chat_server::{Server, ServerHandle};

/// Generous upper bound for anything that should happen "soon".
pub const WAIT: Duration = Duration::from_secs(20);

pub fn server() -> ServerHandle {
    Server::builder().start().expect("local server starts")
}

pub fn builder(server: &ServerHandle) -> ChatClientBuilder {
    ChatClient::builder(server.api_key()).base_url(server.base_url())
}

pub fn client(server: &ServerHandle) -> ChatClient {
    builder(server).build().expect("client builds")
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Runs `call.enqueue` and waits for its single callback; fails the test after `WAIT`.
pub fn enqueue_and_wait<T: Send + 'static>(call: &stream_chat_client::Call<T>) -> ChatResult<T> {
    let (tx, rx) = crossbeam_channel::unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    let result = rx.recv_timeout(WAIT).expect("the callback fires");
    assert_silent(&rx);
    result
}

/// Asserts that nothing more arrives on `rx` and that all its senders are gone: a
/// callback owning the `Sender` is dropped once it ran or was discarded, which
/// disconnects the channel. Fails on a message or on a sender still alive after `WAIT`.
#[track_caller]
pub fn assert_silent<T>(rx: &Receiver<T>) {
    match rx.recv_timeout(WAIT) {
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {}
        Ok(_) => panic!("expected no more messages, got one (a second callback?)"),
        Err(err) => panic!("a sender (an undelivered callback?) stayed alive for {WAIT:?}: {err}"),
    }
}

/// A token provider that counts its calls and hands out the tokens `make(n)` returns for
/// the n-th call (0-based).
pub fn counting_provider(
    make: impl Fn(usize) -> String + Send + Sync + 'static,
) -> (TokenSource, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let source = TokenSource::provider(move || -> Result<String, TokenError> {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Ok(make(n))
    });
    (source, calls)
}

/// Records every event of a client into a channel.
pub struct Recorder {
    pub rx: Receiver<(Instant, ChatEvent)>,
    _subscription: Subscription,
}

impl Recorder {
    pub fn new(client: &ChatClient) -> Self {
        let (tx, rx): (Sender<(Instant, ChatEvent)>, _) = crossbeam_channel::unbounded();
        let subscription = client.subscribe(move |e| {
            let _ = tx.send((Instant::now(), e.clone()));
        });
        Recorder {
            rx,
            _subscription: subscription,
        }
    }

    /// Waits for the next `connection.changed` to `state` (skipping others); returns when
    /// it was delivered and the error it carried.
    pub fn wait_state(
        &self,
        state: ConnectionState,
        limit: Duration,
    ) -> (Instant, Option<stream_chat_client::ChatError>) {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((at, ChatEvent::ConnectionChanged { state: s, error })) if s == state => {
                    return (at, error);
                }
                Ok(_) => {}
                Err(_) => panic!("no connection.changed to {state} within {limit:?}"),
            }
        }
    }

    /// The states of the `connection.changed` events received so far.
    pub fn states_so_far(&self) -> Vec<ConnectionState> {
        self.rx
            .try_iter()
            .filter_map(|(_, e)| match e {
                ChatEvent::ConnectionChanged { state, .. } => Some(state),
                _ => None,
            })
            .collect()
    }
}

/// Connects `id` as a regular user with a token from the server.
pub fn connect_as(
    client: &ChatClient,
    server: &ServerHandle,
    id: &str,
) -> stream_chat_client::ConnectionData {
    client
        .connect_user(
            stream_chat_client::User::new(id),
            server.create_token(id, None),
        )
        .execute()
        .into_result()
        .unwrap_or_else(|e| panic!("connect {id}: {e}"))
}

/// A client of `server` with `id` connected.
pub fn connected(server: &ServerHandle, id: &str) -> ChatClient {
    let client = client(server);
    connect_as(&client, server, id);
    client
}

/// Waits until `channel`'s state satisfies `fact` (checked on each observed snapshot, the
/// current one first); fails the test after [`WAIT`] with the state it had.
#[track_caller]
pub fn state_until(
    channel: &stream_chat_client::ChannelClient,
    what: &str,
    fact: impl Fn(&stream_chat_client::state::ChannelState) -> bool + Send + Sync + 'static,
) -> std::sync::Arc<stream_chat_client::state::ChannelState> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let _o = channel.observe(move |s| {
        if fact(s) {
            let _ = tx.send(std::sync::Arc::clone(s));
        }
    });
    rx.recv_timeout(WAIT).unwrap_or_else(|_| {
        panic!(
            "{}: no state where {what} within {WAIT:?}: {:#?}",
            channel.cid(),
            channel.state()
        )
    })
}

/// Typed events of one kind, collected into a channel as they are delivered.
pub struct Events<T> {
    pub rx: Receiver<T>,
    _subscription: Subscription,
}

impl<T: stream_chat_client::EventKind> Events<T> {
    /// Every `T` of the client.
    pub fn of(client: &ChatClient) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let sub = client.subscribe_for_type::<T>(move |e| {
            let _ = tx.send(e.clone());
        });
        Events {
            rx,
            _subscription: sub,
        }
    }

    /// The `T`s of one channel.
    pub fn on(channel: &stream_chat_client::ChannelClient) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let sub = channel.subscribe_for_type::<T>(move |e| {
            let _ = tx.send(e.clone());
        });
        Events {
            rx,
            _subscription: sub,
        }
    }

    /// The next event; fails the test after `WAIT`.
    pub fn next(&self) -> T {
        self.rx
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no {} within {WAIT:?}", T::TYPE))
    }

    /// The next event that `wanted` accepts, skipping others (events of an earlier step
    /// can still be on their way when the collector subscribes); fails after `WAIT`.
    pub fn next_where(&self, wanted: impl Fn(&T) -> bool) -> T {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(event) if wanted(&event) => return event,
                Ok(_) => {}
                Err(_) => panic!("no wanted {} within {WAIT:?}", T::TYPE),
            }
        }
    }

    /// The events received so far and not yet taken, without waiting.
    pub fn received(&self) -> Vec<T> {
        self.rx.try_iter().collect()
    }

    /// The next `n` events.
    pub fn take(&self, n: usize) -> Vec<T> {
        (0..n).map(|_| self.next()).collect()
    }
}

/// Holds `client`'s event delivery on the first event after this call, until
/// [`release`](HeldEvents::release) or the drop (at most `WAIT`): the socket's events then
/// reach neither its state store nor its listeners, so what the state shows meanwhile came
/// from call answers.
pub fn hold_events(client: &ChatClient) -> HeldEvents {
    let (release, released) = crossbeam_channel::bounded::<()>(1);
    let released = std::sync::Mutex::new(Some(released));
    let subscription = client.subscribe(move |_| {
        let first = released.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(rx) = first {
            let _ = rx.recv_timeout(WAIT);
        }
    });
    HeldEvents {
        release,
        _subscription: subscription,
    }
}

/// See [`hold_events`].
pub struct HeldEvents {
    release: Sender<()>,
    _subscription: Subscription,
}

impl HeldEvents {
    /// Lets the held events go.
    pub fn release(&self) {
        let _ = self.release.try_send(());
    }
}

impl Drop for HeldEvents {
    fn drop(&mut self) {
        self.release();
    }
}

/// Sends `text` to `channel` and returns the message the server stored.
pub fn post(channel: &stream_chat_client::ChannelClient, text: &str) -> Message {
    channel
        .send_message(Message::with_text(text))
        .execute()
        .into_result()
        .unwrap()
}

/// A `queryUsers` request for the users with these ids.
pub fn users_by_id(ids: &[&str]) -> QueryUsersRequest {
    let mut request = QueryUsersRequest::default();
    request
        .filter_conditions
        .insert("id".into(), serde_json::json!({ "$in": ids }));
    request
}

/// The texts of new-message events, in order.
pub fn texts(events: &[stream_chat_client::NewMessageEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.message.text.clone().unwrap_or_default())
        .collect()
}
