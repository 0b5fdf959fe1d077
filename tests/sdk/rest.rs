//! Errors from peers: a proxy's HTML 403 / 503 keeps its status and is retried (or not) by
//! that status, an oversized body is a parse error, a Stream error's details reach the
//! message, and a WebSocket error frame without `StatusCode` has no status. A cancelled
//! REST call stops waiting for its token at once; the request timeout bounds a whole call.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;
use crossbeam_channel::Receiver;
use stream_chat_client::FixedRetry;
use stream_chat_client::{ChatClient, ErrorKind, TokenError, User};

/// A tiny HTTP/1.1 peer standing in for a proxy: every request gets `head` (status line
/// and headers, without the blank line) and `body`, then the connection is closed. Each
/// request line is reported before the answer is written.
fn http_peer(head: &str, body: Vec<u8>) -> (String, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = crossbeam_channel::unbounded();
    let head = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let Some(line) = read_request(&stream) else {
                continue;
            };
            if tx.send(line).is_err() {
                return;
            }
            let mut out = &stream;
            // The client may stop reading an oversized body half way.
            let _ = out
                .write_all(head.as_bytes())
                .and_then(|()| out.write_all(&body));
        }
    });
    (url, rx)
}

/// Reads one request (head and `Content-Length` body) and returns its request line.
fn read_request(stream: &TcpStream) -> Option<String> {
    let head = read_head(stream)?;
    let mut body = vec![0; content_length(&head)];
    (&*stream).read_exact(&mut body).ok()?;
    head.lines().next().map(str::to_owned)
}

const HTML_403: &str = "<html>\n<head><title>403 Forbidden</title></head>\n<body>\n<center><h1>403 Forbidden</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n";
const HTML_503: &str =
    "<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>";

fn client_of(url: &str) -> ChatClient {
    ChatClient::builder("key").base_url(url).build().unwrap()
}

#[test]
fn a_proxys_html_403_keeps_its_status_and_is_not_retried() {
    let (url, requests) = http_peer(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html",
        HTML_403.into(),
    );
    let client = client_of(&url);
    let retry = FixedRetry {
        max_attempts: 2,
        delay: Duration::ZERO,
    };
    let call = client.connect_guest_user("bender", "Bender").retry(retry);
    let err = enqueue_and_wait(&call).into_result().unwrap_err();
    eprintln!("html 403: {err}");
    assert_eq!(err.kind(), ErrorKind::Api, "{err:?}");
    assert_eq!((err.stream_code(), err.status_code()), (None, Some(403)));
    assert!(!err.is_retryable());
    assert!(
        err.message().contains("<title>403 Forbidden</title>"),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 403"), "{err}");
    assert_eq!(requests.try_iter().count(), 1, "a 403 is not retried");
}

#[test]
fn a_proxys_html_503_keeps_its_status_and_is_retried() {
    let (url, requests) = http_peer(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html",
        HTML_503.into(),
    );
    let client = client_of(&url);
    let retry = FixedRetry {
        max_attempts: 2,
        delay: Duration::ZERO,
    };
    let err = client
        .connect_guest_user("bender", "Bender")
        .retry(retry)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api, "{err:?}");
    assert_eq!((err.stream_code(), err.status_code()), (None, Some(503)));
    assert!(err.is_retryable());
    assert!(err.message().contains("No server is available."), "{err}");
    let lines: Vec<_> = requests.try_iter().collect();
    assert_eq!(lines.len(), 3, "the first try and two retries: {lines:?}");
    assert!(
        lines.iter().all(|l| l.starts_with("POST /guest?")),
        "{lines:?}"
    );
}

#[test]
fn a_plain_text_error_without_a_body_or_over_the_size_limit() {
    let (url, _requests) = http_peer("HTTP/1.1 401 Unauthorized", Vec::new());
    let err = client_of(&url)
        .connect_guest_user("bender", "Bender")
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!((err.kind(), err.status_code()), (ErrorKind::Api, Some(401)));
    assert!(err.message().contains("empty body"), "{err}");

    // 10 MiB is the limit; the peer declares and sends one byte more.
    let (url, _requests) = http_peer(
        "HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain",
        vec![b'x'; 10 * 1024 * 1024 + 1],
    );
    let err = client_of(&url)
        .connect_guest_user("bender", "Bender")
        .execute()
        .into_result()
        .unwrap_err();
    eprintln!("oversized: {err}");
    assert_eq!(
        (err.kind(), err.status_code()),
        (ErrorKind::Parse, Some(413))
    );
    assert!(!err.is_retryable());
}

#[test]
fn cancelling_a_call_that_waits_for_a_token_reload_frees_its_worker_at_once() {
    let server = server();
    let proxy = proxy(&server, Upgrades::Forward, Rest::TokenExpired);
    // The first token connects the socket; the reload after code 40 hangs until the end.
    let valid = server.create_token("bender", None);
    let (reload_tx, reload_rx) = crossbeam_channel::unbounded();
    let (_hold, hang) = crossbeam_channel::bounded::<()>(0);
    let loads = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&loads);
    let provider = move || -> Result<String, TokenError> {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            return Ok(valid.clone());
        }
        let _ = reload_tx.send(());
        let _ = hang.recv();
        Err("the test is over".into())
    };
    let client = ChatClient::builder(server.api_key())
        .base_url(&proxy.url)
        .worker_threads(1)
        .request_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();

    let call = client.channel("messaging", "general").unwrap().mark_read();
    let (tx, rx) = crossbeam_channel::unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    // The call got code 40 and is waiting for the reload it started.
    reload_rx
        .recv_timeout(WAIT)
        .expect("the call reloads the token");
    let cancelled_at = Instant::now();
    call.cancel();
    // The only worker runs the next call once the cancelled one has let go of it.
    let probe = enqueue_and_wait(&client.connect_anonymous_user());
    let freed = cancelled_at.elapsed();
    eprintln!("cancel during a token reload: the worker was free after {freed:?}");
    assert_eq!(probe.error().kind(), ErrorKind::AlreadyConnected);
    assert!(freed < Duration::from_secs(1), "{freed:?}");
    assert_silent(&rx); // no callback for the cancelled call
    assert_eq!(proxy.rest.try_iter().count(), 1, "no attempt after cancel");
    assert_eq!(loads.load(Ordering::SeqCst), 2);
}

#[test]
fn the_request_timeout_bounds_the_whole_call_token_wait_included() {
    let (url, _held) = silent_peer();
    let timeout = Duration::from_millis(1200);
    // A slow token backend: the first load takes 800 ms (nothing is ever sent on `never`).
    let (_never_tx, never) = crossbeam_channel::bounded::<()>(0);
    let (loading_tx, loading) = crossbeam_channel::unbounded();
    let token = stream_chat_client::jwt::dev_token("bender");
    let provider = move || -> Result<String, TokenError> {
        let _ = loading_tx.send(());
        let _ = never.recv_timeout(Duration::from_millis(800));
        Ok(token.clone())
    };
    let client = ChatClient::builder("key")
        .base_url(url)
        .request_timeout(timeout)
        .build()
        .unwrap();
    client
        .connect_user(User::new("bender"), provider)
        .enqueue(|_| {});
    loading
        .recv_timeout(WAIT)
        .expect("the socket loads the token");
    // The user is set (connecting): the REST call waits for the same load, then the
    // silent peer never answers.
    let started = Instant::now();
    let err = client
        .channel("messaging", "general")
        .unwrap()
        .mark_read()
        .execute()
        .into_result()
        .unwrap_err();
    let elapsed = started.elapsed();
    eprintln!(
        "800 ms token wait + silent server: failed after {elapsed:?} (timeout {timeout:?}): {err}"
    );
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        elapsed >= timeout - Duration::from_millis(50),
        "{elapsed:?}"
    );
    assert!(
        elapsed < timeout + Duration::from_millis(400),
        "{elapsed:?}"
    );
    client.disconnect().execute().into_result().unwrap();
}

#[test]
fn a_stream_errors_details_and_exception_fields_reach_the_message() {
    let body = r#"{"code":4,"message":"CreateGuest failed with error: \"user.id is invalid\"","StatusCode":400,"duration":"0.01ms","more_info":"https://getstream.io/chat/docs/api_errors_response","details":[{"code":4,"messages":["id may only contain letters and digits"]}],"exception_fields":{"user.id":"invalid characters"}}"#;
    let (url, _requests) = http_peer(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json",
        body.into(),
    );
    let err = client_of(&url)
        .connect_guest_user("bender", "Bender")
        .execute()
        .into_result()
        .unwrap_err();
    eprintln!("{err}");
    assert_eq!(
        (err.kind(), err.stream_code(), err.status_code()),
        (ErrorKind::Api, Some(4), Some(400))
    );
    assert_eq!(
        err.message(),
        "CreateGuest failed with error: \"user.id is invalid\"\nError details: \
         id may only contain letters and digits (code 4); user.id: invalid characters"
    );
    assert!(err.more_info().is_some());
}

#[test]
fn a_websocket_error_frame_without_status_code_has_no_status() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let peer = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(stream).unwrap();
        let frame = r#"{"type":"connection.error","error":{"code":43,"message":"JWTAuth error: signature is not valid"}}"#;
        ws.send(tungstenite::Message::text(frame)).unwrap();
        // Until the client closes.
        while ws.read().is_ok() {}
    });
    let err = client_of(&url)
        .connect_user(
            User::new("bender"),
            stream_chat_client::jwt::dev_token("bender"),
        )
        .execute()
        .into_result()
        .unwrap_err();
    eprintln!("{err}");
    assert_eq!((err.kind(), err.stream_code()), (ErrorKind::Api, Some(43)));
    assert_eq!(err.status_code(), None);
    assert!(!err.to_string().contains("HTTP"), "{err}");
    peer.join().unwrap();
}
