//! REST error mapping against peers that are not Stream: a proxy's HTML 403 / 503 keeps
//! its status and is retried (or not) by that status, an oversized body is a parse error.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use crossbeam_channel::Receiver;
use stream_chat_callbacks::FixedRetry;
use stream_chat_client::{ChatClient, ErrorKind};

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
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(request_line.trim_end().to_owned())
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
