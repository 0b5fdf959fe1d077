//! Connects always resolve: against a peer that accepts TCP and never answers (within
//! the connect timeout), a refused port, a TLS mismatch, a cancelled call, and a
//! disconnect in the middle of connecting.

use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::jwt;
use stream_chat_client::{ChatClient, ConnectionState, ErrorKind, User};

#[test]
fn connect_to_a_silent_server_times_out_within_the_connect_timeout() {
    let (url, accepted) = silent_peer();
    let timeout = Duration::from_millis(1500);
    let client = ChatClient::builder("key")
        .base_url(url)
        .connect_timeout(timeout)
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    let started = Instant::now();
    let result =
        enqueue_and_wait(&client.connect_user(User::new("bender"), jwt::dev_token("bender")));
    let elapsed = started.elapsed();
    eprintln!("silent server: connect resolved after {elapsed:?} (connect_timeout {timeout:?})");
    let err = result.into_result().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        elapsed >= timeout - Duration::from_millis(50),
        "{elapsed:?}"
    );
    assert!(
        elapsed < timeout + Duration::from_millis(700),
        "{elapsed:?}"
    );
    // Held to the end: dropping it would close the peer's side, and the client would see
    // EOF where the test means silence.
    let held = accepted.recv_timeout(WAIT);
    assert!(held.is_ok(), "the TCP connection was accepted");
    recorder.wait_state(ConnectionState::Connecting, WAIT);
    let (_, error) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::Timeout));
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    assert!(client.current_user().is_none());
}

#[test]
fn the_default_connect_timeout_is_fifteen_seconds() {
    let (url, _accepted) = silent_peer();
    let client = ChatClient::builder("key").base_url(url).build().unwrap();
    let started = Instant::now();
    let err = client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap_err();
    let elapsed = started.elapsed();
    eprintln!("silent server, default timeout: resolved after {elapsed:?}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        elapsed >= Duration::from_millis(14_900) && elapsed < Duration::from_millis(16_000),
        "{elapsed:?}"
    );
}

#[test]
fn a_refused_connection_fails_fast_with_a_network_error() {
    let client = ChatClient::builder("key")
        .base_url(format!("http://127.0.0.1:{}", closed_port()))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .connect_user(User::new("bender"), jwt::dev_token("bender"))
        .execute()
        .into_result()
        .unwrap_err();
    eprintln!("refused: resolved after {:?}: {err}", started.elapsed());
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(started.elapsed() < Duration::from_secs(2));
    let err = client
        .connect_guest_user("bender", "Bender")
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
}

/// `https://` against a plain-HTTP server: the peer does not speak TLS, so the same request
/// fails the same way every time (`Protocol`, not retried), and the advice names the scheme.
#[test]
fn https_against_a_plain_server_is_a_protocol_error_that_names_the_scheme() {
    let server = server();
    let tls_url = server.base_url().replace("http://", "https://");
    let client = ChatClient::builder(server.api_key())
        .base_url(tls_url)
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let err = client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap_err();
    eprintln!("wss against plain ws: {err}");
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("http:// base URL"), "{err}");
    let err = client
        .connect_guest_user("bender", "Bender")
        .execute()
        .into_result()
        .unwrap_err();
    eprintln!("https against plain http: {err}");
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("http:// base URL"), "{err}");
}

#[test]
fn cancelling_the_connect_call_aborts_the_attempt_without_a_callback() {
    let (url, accepted) = silent_peer();
    let client = ChatClient::builder("key")
        .base_url(url)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    let call = client.connect_user(User::new("bender"), jwt::dev_token("bender"));
    let (tx, rx) = crossbeam_channel::unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    let peer_side = accepted
        .recv_timeout(WAIT)
        .expect("the attempt reached the server");
    let started = Instant::now();
    call.cancel();
    let (at, _) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    eprintln!("cancel -> disconnected in {:?}", at.duration_since(started));
    assert!(at.duration_since(started) < Duration::from_secs(1));
    // The client closed its socket: the peer reads EOF (no sleep: a blocking read with a limit).
    peer_side
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match std::io::Read::read(&mut &peer_side, &mut buf) {
            Ok(0) => break true,
            Ok(_) => continue, // the upgrade request
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(closed, "the aborted attempt's socket was closed");
    assert_silent(&rx); // the cancelled call's callback is dropped unrun
    assert!(client.current_user().is_none());
    // A new connect starts afresh.
    let again = client.connect_user(User::new("bender"), jwt::dev_token("bender"));
    again.enqueue(|_| {});
    let _held_again = accepted
        .recv_timeout(WAIT)
        .expect("a new attempt reached the server");
    again.cancel();
}

#[test]
fn disconnect_while_connecting_resolves_the_connect_at_once() {
    let (url, accepted) = silent_peer();
    let client = ChatClient::builder("key")
        .base_url(url)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let call = client.connect_anonymous_user();
    let (tx, rx) = crossbeam_channel::unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    // Held open: a dropped stream reads as EOF and ends the attempt on its own.
    let _held = accepted.recv_timeout(WAIT).unwrap();
    assert_eq!(client.connection_state(), ConnectionState::Connecting);
    let started = Instant::now();
    client.disconnect().execute().into_result().unwrap();
    let err = rx.recv_timeout(WAIT).unwrap().into_result().unwrap_err();
    eprintln!(
        "disconnect while connecting: connect resolved after {:?}",
        started.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::NotConnected);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_guest_connect_frees_its_worker_at_the_connect_deadline_when_post_guest_hangs() {
    let (url, accepted) = silent_peer();
    let timeout = Duration::from_secs(1);
    // One worker and the default 30 s request timeout: only the connect deadline can free it.
    let client = ChatClient::builder("key")
        .base_url(url)
        .worker_threads(1)
        .connect_timeout(timeout)
        .build()
        .unwrap();
    let started = Instant::now();
    let (tx, rx) = crossbeam_channel::unbounded();
    client
        .connect_guest_user("bender", "Bender")
        .enqueue(move |r| tx.send(r).unwrap());
    let peer_side = accepted.recv_timeout(WAIT).expect("POST /guest arrives");
    let err = rx.recv_timeout(WAIT).unwrap().into_result().unwrap_err();
    let resolved = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_silent(&rx);
    // The next call runs on the same single worker: it starts once /guest is abandoned.
    let (tx, rx) = crossbeam_channel::unbounded();
    client
        .query_users(Default::default())
        .enqueue(move |r| tx.send(r).unwrap());
    let next = rx.recv_timeout(WAIT).expect("the worker is free");
    let freed = started.elapsed();
    assert_eq!(next.error().kind(), ErrorKind::NotConnected);
    // The abandoned request's connection is closed: the peer reads EOF.
    peer_side.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match std::io::Read::read(&mut &peer_side, &mut buf) {
            Ok(0) => break true,
            Ok(_) => continue, // the request itself
            Err(e) => break e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    };
    eprintln!(
        "POST /guest never answered: connect resolved after {resolved:?}, worker free after \
         {freed:?}, peer saw the close after {:?} (connect_timeout {timeout:?})",
        started.elapsed()
    );
    assert!(closed, "the /guest request was abandoned");
    assert!(
        freed < timeout + Duration::from_millis(500),
        "{freed:?}: the worker stayed in POST /guest past the connect deadline"
    );
}
