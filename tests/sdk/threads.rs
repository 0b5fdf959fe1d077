//! A connection adds no thread (its socket runs on the shared reactor) and `disconnect()`
//! stops it promptly wherever it is: connected, backing off, or in a TCP connect that
//! hangs. In a process of its own (`own_process!`): it counts every `stream-chat-*` thread
//! of the process (their names do not tell clients apart), which no other test's threads
//! may pollute. Threads end with no notification to wait on: `poll_external` checks until
//! they do (the server's socket count is waited for).

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::support::process::{own_process, sdk_threads, shared_set};
use crate::support::{Recorder, WAIT, assert_server, poll_external, threads_named};
use stream_chat_client::{ChatClient, ConnectionState, ErrorKind, User};
use stream_chat_server::Server;

/// The threads of `clients` idle clients with 2 workers of their own: their pools, plus
/// the set every client shares (pool, event dispatchers, timer), once.
fn idle_threads(clients: usize) -> Vec<String> {
    let mut names = shared_set();
    names.extend(std::iter::repeat_n(
        "stream-chat-wor".to_owned(),
        2 * clients,
    ));
    names.sort();
    names
}

/// Asserts that within `limit` of `since` only the idle threads (the client's pool and
/// the shared set) are left: `baseline`.
#[track_caller]
fn assert_back_to(baseline: &[String], since: Instant, limit: Duration, what: &str) {
    let took = poll_external(WAIT, || sdk_threads() == baseline).map(|_| since.elapsed());
    eprintln!("{what}: connection threads gone {took:?} after disconnect() started");
    let took = took.unwrap_or_else(|| panic!("{what}: threads left: {:?}", sdk_threads()));
    assert!(took < limit, "{what}: took {took:?}");
}

/// A loopback listener whose accept queue is full: connects to it hang in SYN-SENT.
fn full_listener() -> (TcpListener, Vec<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    while let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
        queued.push(stream);
        assert!(queued.len() < 10_000, "the accept queue never filled");
    }
    (listener, queued)
}

#[test]
fn disconnect_stops_every_connection_within_a_second() {
    own_process!(disconnect_stops_every_connection_within_a_second);
    if threads_named("stream-chat-").is_none() {
        eprintln!("no /proc: thread counting skipped");
        return;
    }
    let server = Server::builder().start().unwrap();
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .max_reconnect_delay(Duration::from_secs(25))
        .worker_threads(2)
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    // The client's own threads (they name themselves once running).
    let baseline = idle_threads(1);
    let up = poll_external(WAIT, || sdk_threads() == baseline);
    assert!(up.is_some(), "client threads: {:?}", sdk_threads());

    // Connected: the socket is on the shared reactor, no thread is added.
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(sdk_threads(), baseline, "a connection adds no thread");
    let started = Instant::now();
    client.disconnect().execute().into_result().unwrap();
    let took = started.elapsed();
    eprintln!("disconnect (connected) returned after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    // The socket was closed: the server sees its connection go.
    assert_server(&server, "the server dropped the connection", WAIT, |c| {
        c.usage.concurrent_connections == 0
    });
    assert_back_to(&baseline, started, Duration::from_secs(1), "connected");

    // Reconnecting: the connection alternates between refused dials and back-off waits
    // (`Reconnecting` is emitted after a back-off, right before a dial).
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    server.shutdown();
    recorder.wait_state(ConnectionState::Reconnecting, WAIT);
    let started = Instant::now();
    client.disconnect().execute().into_result().unwrap();
    let took = started.elapsed();
    eprintln!("disconnect (reconnecting) returned after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_back_to(&baseline, started, Duration::from_secs(1), "reconnecting");

    // A dial in progress: the TCP connect hangs (full accept queue) when disconnect() runs;
    // the non-blocking connect is dropped at once, long before the connect timeout.
    let (listener, _queued) = full_listener();
    let timeout = Duration::from_secs(20);
    let hanging = ChatClient::builder("key")
        .base_url(format!("http://{}", listener.local_addr().unwrap()))
        .connect_timeout(timeout)
        .worker_threads(2)
        .build()
        .unwrap();
    let baseline = idle_threads(2);
    let up = poll_external(WAIT, || sdk_threads() == baseline);
    assert!(up.is_some(), "client threads: {:?}", sdk_threads());
    let states = Recorder::new(&hanging);
    let (tx, rx) = crossbeam_channel::unbounded();
    hanging
        .connect_user(User::new("bender"), hanging.dev_token("bender"))
        .enqueue(move |r| tx.send(r).unwrap());
    states.wait_state(ConnectionState::Connecting, WAIT);
    assert_eq!(sdk_threads(), baseline, "a dial adds no thread");
    let started = Instant::now();
    hanging.disconnect().execute().into_result().unwrap();
    let result = rx.recv_timeout(WAIT).unwrap();
    let took = started.elapsed();
    eprintln!("dial in progress: disconnect() and the connect's failure after {took:?}");
    assert_eq!(result.error().kind(), ErrorKind::NotConnected, "{result:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_back_to(&baseline, started, Duration::from_secs(1), "dialling");
    hanging.shutdown();
    client.shutdown();
}
