//! Every fault gets the kind that says what to do about it. A peer that breaks the protocol
//! (a malformed, oversize or absurd WebSocket frame, invalid UTF-8, an HTTP head that
//! cannot be read or is 20 MB long, an untrusted TLS certificate) is `ErrorKind::Protocol`:
//! not retryable, so a retry policy sends the request once, and its advice does not say
//! "check that the server is reachable". A reconnecting socket gives a peer that garbles
//! every connection `MAX_PROTOCOL_FAULTS` (3) attempts, then stops. A refused development
//! token says how to start the local server.
//!
//! Before this change every fault here was `Network`, retryable, with the hint "check that
//! the server is reachable": the retry policies sent 4 requests where 1 is right, and the
//! socket reconnected to a garbling peer forever.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;
use stream_chat_client::{
    ChatClient, ChatError, ConnectionState, ErrorKind, FixedRetry, User, jwt,
};
use stream_chat_server::Server;

/// A retry policy that would retry anything retryable three times, quickly.
const RETRY_3: FixedRetry = FixedRetry {
    max_attempts: 3,
    delay: Duration::from_millis(10),
};

/// Asserts the error is a protocol fault with advice that does not blame reachability.
#[track_caller]
fn assert_protocol_fault(err: &ChatError, what: &str) {
    assert_eq!(err.kind(), ErrorKind::Protocol, "{what}: {err:?}");
    assert!(!err.is_retryable(), "{what}: {err}");
    let text = err.to_string();
    assert!(!text.contains("reachable"), "{what}: {text}");
    assert!(err.hint().is_some(), "{what}: {text}");
}

/// A proxy in front of `server` whose WebSocket upgrades go to `peer` (a count of them is
/// returned) and whose REST requests are forwarded.
fn garbling_proxy(
    server: &stream_chat_server::ServerHandle,
    peer: impl Fn(String, TcpStream) + Send + Sync + 'static,
) -> (Proxy, Arc<AtomicUsize>) {
    let upgrades = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&upgrades);
    let peer: Arc<dyn Fn(String, TcpStream) + Send + Sync> = Arc::new(peer);
    let proxy = Proxy::start(server, move |path| {
        if path == "/connect" {
            counted.fetch_add(1, Ordering::SeqCst);
            Route::Raw(Arc::clone(&peer))
        } else {
            Route::Forward
        }
    });
    (proxy, upgrades)
}

/// The WebSocket frames (after a good handshake) that break the protocol, by name.
fn bad_frames() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "invalid UTF-8 in a text frame",
            vec![0x81, 0x02, 0xC3, 0x28],
        ),
        (
            "a 2^63-byte frame header",
            vec![0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
        ),
        (
            "a 17 MiB frame (over the 16 MiB limit)",
            vec![0x81, 0x7F, 0, 0, 0, 0, 0x01, 0x10, 0, 0],
        ),
        ("reserved bits set", vec![0xF1, 0x00]),
        (
            "a masked frame from the server",
            vec![0x81, 0x80, 1, 2, 3, 4],
        ),
        ("an unknown opcode", vec![0x83, 0x00]),
    ]
}

#[test]
fn malformed_frames_fail_a_connect_as_protocol_faults_sent_once() {
    let server = server();
    for (what, frame) in bad_frames() {
        let (proxy, upgrades) = garbling_proxy(&server, move |head, stream| {
            if accept_upgrade(&head, &stream) {
                let _ = (&stream).write_all(&frame);
            }
            // Kept open until the client gives up on it.
            let _ = std::io::copy(&mut &stream, &mut std::io::sink());
        });
        let client = ChatClient::builder(server.api_key())
            .base_url(&proxy.url)
            .build()
            .unwrap();
        let err = client
            .connect_user(User::new("bender"), server.create_token("bender", None))
            .retry(RETRY_3)
            .execute()
            .into_result()
            .unwrap_err();
        assert_protocol_fault(&err, what);
        assert_eq!(upgrades.load(Ordering::SeqCst), 1, "{what}: {err}");
        assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    }
}

#[test]
fn unreadable_or_huge_handshake_answers_are_protocol_faults() {
    let server = server();
    type Answer = Arc<dyn Fn(&TcpStream) + Send + Sync>;
    let answers: Vec<(&str, Answer)> = vec![
        (
            "a 20 MB response header",
            Arc::new(|stream| {
                let mut out = stream;
                let _ = out.write_all(b"HTTP/1.1 101 Switching Protocols\r\nX-Padding: ");
                let chunk = vec![b'a'; 64 * 1024];
                for _ in 0..(20 * 16) {
                    if out.write_all(&chunk).is_err() {
                        return;
                    }
                }
                let _ = out.write_all(b"\r\n\r\n");
            }),
        ),
        (
            "not HTTP at all",
            Arc::new(|stream| {
                let _ = (&*stream).write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
            }),
        ),
    ];
    for (what, answer) in answers {
        let (proxy, upgrades) = garbling_proxy(&server, move |_head, stream| {
            answer(&stream);
            let _ = std::io::copy(&mut &stream, &mut std::io::sink());
        });
        let client = ChatClient::builder(server.api_key())
            .base_url(&proxy.url)
            .build()
            .unwrap();
        let err = client
            .connect_user(User::new("bender"), server.create_token("bender", None))
            .retry(RETRY_3)
            .execute()
            .into_result()
            .unwrap_err();
        assert_protocol_fault(&err, what);
        assert_eq!(upgrades.load(Ordering::SeqCst), 1, "{what}: {err}");
    }
}

#[test]
fn broken_rest_answers_are_protocol_faults_sent_once() {
    let server = server();
    let answers: Vec<(&str, &'static [u8])> = vec![
        ("not HTTP at all", b"SSH-2.0-OpenSSH_9.6\r\n\r\n"),
        (
            "a broken chunked body",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        ),
        (
            "an unreadable status line",
            b"HTTP/1.1 two hundred OK\r\nContent-Length: 2\r\n\r\n{}",
        ),
    ];
    for (what, answer) in answers {
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        let proxy = Proxy::start(&server, move |path| {
            if path == "/users" {
                counted.fetch_add(1, Ordering::SeqCst);
                Route::Raw(Arc::new(move |_head, stream| {
                    let _ = (&stream).write_all(answer);
                    let _ = stream.shutdown(std::net::Shutdown::Write);
                    let _ = std::io::copy(&mut &stream, &mut std::io::sink());
                }))
            } else {
                Route::Forward
            }
        });
        let client = ChatClient::builder(server.api_key())
            .base_url(&proxy.url)
            .build()
            .unwrap();
        connect_as(&client, &server, "bender");
        let err = client
            .query_users(users_by_id(&["bender"]))
            .retry(RETRY_3)
            .execute()
            .into_result()
            .unwrap_err();
        assert_protocol_fault(&err, what);
        assert_eq!(requests.load(Ordering::SeqCst), 1, "{what}: {err}");
    }
    // 20 MB of response header: the REST client reads 16 KiB of it and stops.
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    let proxy = Proxy::start(&server, move |path| {
        if path == "/users" {
            counted.fetch_add(1, Ordering::SeqCst);
            Route::Raw(Arc::new(|_head, stream| {
                let mut out = &stream;
                let _ = out.write_all(b"HTTP/1.1 200 OK\r\nX-Padding: ");
                let chunk = vec![b'a'; 64 * 1024];
                for _ in 0..(20 * 16) {
                    if out.write_all(&chunk).is_err() {
                        return;
                    }
                }
            }))
        } else {
            Route::Forward
        }
    });
    let client = ChatClient::builder(server.api_key())
        .base_url(&proxy.url)
        .build()
        .unwrap();
    connect_as(&client, &server, "bender");
    let err = client
        .query_users(users_by_id(&["bender"]))
        .retry(RETRY_3)
        .execute()
        .into_result()
        .unwrap_err();
    assert_protocol_fault(&err, "a 20 MB response header");
    assert!(err.message().contains("larger than"), "{err}");
    assert_eq!(requests.load(Ordering::SeqCst), 1, "{err}");
}

#[test]
fn an_untrusted_tls_certificate_is_a_protocol_fault_on_rest_and_websocket() {
    let (url, handshakes) = untrusted_tls_peer();
    let client = ChatClient::builder("key").base_url(&url).build().unwrap();
    // REST: a guest connect starts with `POST /guest`.
    let rest = client
        .connect_guest_user("guest", "Guest")
        .retry(RETRY_3)
        .execute()
        .into_result()
        .unwrap_err();
    assert_protocol_fault(&rest, "REST over TLS");
    assert!(rest.to_string().contains("certificate"), "{rest}");
    let refused = handshakes.recv_timeout(WAIT).expect("a TLS handshake");
    assert!(
        refused.is_err(),
        "the client accepted a self-signed certificate"
    );
    // WebSocket: the connect dials wss:// at once.
    let ws = client
        .connect_user(User::new("bender"), jwt::dev_token("bender"))
        .retry(RETRY_3)
        .execute()
        .into_result()
        .unwrap_err();
    assert_protocol_fault(&ws, "WebSocket over TLS");
    assert!(ws.to_string().contains("certificate"), "{ws}");
    assert!(
        handshakes
            .recv_timeout(WAIT)
            .expect("a TLS handshake")
            .is_err()
    );
    // One handshake each: nothing was retried.
    assert!(
        handshakes.try_recv().is_err(),
        "a protocol fault was retried"
    );
}

#[test]
fn a_peer_that_garbles_every_reconnect_gets_three_attempts_then_the_session_ends() {
    let server = server();
    // The first upgrade reaches the server; every later one gets invalid UTF-8.
    let upgrades = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&upgrades);
    let proxy = Proxy::start(&server, move |path| {
        if path != "/connect" {
            return Route::Forward;
        }
        if counted.fetch_add(1, Ordering::SeqCst) == 0 {
            return Route::Forward;
        }
        Route::Raw(Arc::new(|head, stream| {
            if accept_upgrade(&head, &stream) {
                let _ = (&stream).write_all(&[0x81, 0x02, 0xC3, 0x28]);
            }
            let _ = std::io::copy(&mut &stream, &mut std::io::sink());
        }))
    });
    let client = ChatClient::builder(server.api_key())
        .base_url(&proxy.url)
        .max_reconnect_delay(Duration::from_millis(300))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    connect_as(&client, &server, "bender");
    recorder.wait_state(ConnectionState::Connected, WAIT);
    assert_eq!(server.kick_connections("bender"), 1);
    // The kick: `Disconnected` with the close, then `Reconnecting`.
    let (_, kicked) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    assert_eq!(kicked.map(|e| e.kind()), Some(ErrorKind::Network));
    recorder.wait_state(ConnectionState::Reconnecting, WAIT);
    let (_, error) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    let error = error.expect("the session ends with its error");
    assert_protocol_fault(&error, "reconnects to a garbling peer");
    // The first connection, then MAX_PROTOCOL_FAULTS (3) garbled attempts: no more.
    assert_eq!(upgrades.load(Ordering::SeqCst), 1 + 3, "{error}");
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
}

#[test]
fn a_refused_development_token_says_how_to_start_the_local_server() {
    // Auth checks on (the default): development tokens are refused with code 43.
    let server = Server::builder().start().unwrap();
    let client = client(&server);
    let err = client
        .connect_user(User::new("x"), client.dev_token("x"))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(43), "{err:?}");
    assert!(err.to_string().contains("--disable-auth-checks"), "{err}");
    // A signed token refused for its signature gets the other advice.
    let forged = jwt::user_token(b"another secret", "x", None);
    let err = client
        .connect_user(User::new("x"), forged)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(43), "{err:?}");
    assert!(!err.to_string().contains("--disable-auth-checks"), "{err}");
    assert!(err.to_string().contains("secret"), "{err}");
}
