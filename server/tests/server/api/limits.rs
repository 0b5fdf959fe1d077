//! Issue 15, the server's side: user ids in tokens, custom-data sizes, rate limits, HTTP
//! timeouts, the connection cap and the 1013 close frame of a stalled reader.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stream_chat_server::Server;

use crate::support::*;

/// A short server-side timeout for the tests below: reached well within [`WITHIN`] (20×).
const SHORT: Duration = Duration::from_millis(250);
/// A timeout the tests never reach.
const LONG: Duration = Duration::from_secs(600);

/// Reads from `tcp` until the server closes it (EOF or reset) and returns what arrived and
/// when the connection ended; fails the test when it is still open after [`WITHIN`].
fn read_until_closed(tcp: &mut TcpStream) -> (Vec<u8>, Instant) {
    tcp.set_read_timeout(Some(WITHIN)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => return (got, Instant::now()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return (got, Instant::now());
            }
            Err(e) => panic!("the server kept the connection open ({e}); got {got:?}"),
        }
    }
}

fn status_of(answer: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(answer);
    text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// User ids `POST /users` refuses: 10,000 bytes, spaces, `*`, a control character.
fn bad_user_ids() -> Vec<String> {
    vec![
        "a".repeat(10_000),
        "two words".into(),
        "star*".into(),
        "tab\tbed".into(),
    ]
}

#[test]
fn a_token_whose_user_id_post_users_refuses_is_refused_on_rest_and_websocket() {
    let env = Env::start();
    for id in bad_user_ids() {
        // The same id through POST /users: code 4.
        let (status, body) = env.call(
            "POST",
            "/users",
            Auth::Server,
            Some(json!({"users": {id.clone(): {"id": id.clone()}}})),
        );
        assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
        // A token signed for it, on REST: the same code, nothing created.
        let token = env.token(&id);
        let (status, body) = env.call("POST", "/channels", Auth::Token(&token), None);
        assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
        assert!(body["message"].as_str().unwrap().contains("user id"), "{body}");
        assert!(body["message"].as_str().unwrap().len() < 1000, "the id is not echoed");
        // Over WebSocket: a connection.error with code 4, no user created.
        let params = vec![
            (
                "json",
                json!({"user_id": id, "user_details": {"id": id}}).to_string(),
            ),
            ("authorization", token),
            ("stream-auth-type", "jwt".into()),
        ];
        let (mut ws, first) = env.connect_with(&params);
        assert_eq!(first["type"], "connection.error", "{first}");
        assert_eq!(first["error"]["code"], 4, "{first}");
        assert_eq!(ws.read_until_closed(), Some(1000));
    }
    let (status, body) = env.call(
        "GET",
        &format!(
            "/users?payload={}",
            encode(&json!({"filter_conditions": {}}).to_string())
        ),
        Auth::Server,
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["users"], Value::Array(vec![]), "no user was created");
}

#[test]
fn a_request_head_never_finished_is_cut_off_after_the_header_timeout() {
    let env = Env::with(
        Server::builder()
            .header_timeout(SHORT)
            .idle_timeout(LONG)
            .body_timeout(LONG),
    );
    // Half a head, then nothing; and a socket that sends nothing at all.
    let mut half = TcpStream::connect(env.server.addr()).unwrap();
    let mut silent = TcpStream::connect(env.server.addr()).unwrap();
    let start = Instant::now();
    half.write_all(b"GET /hi HTTP/1.1\r\nHost: x\r\n").unwrap();
    for tcp in [&mut half, &mut silent] {
        let (_, ended) = read_until_closed(tcp);
        assert!(ended - start >= SHORT, "closed before the timeout");
    }
    // A whole request on a fresh connection is still answered.
    let (status, _) = env.call("GET", "/hi", Auth::Anonymous, None);
    assert_eq!(status, 200);
}

#[test]
fn a_body_never_sent_is_answered_408_after_the_body_timeout() {
    let env = Env::with(
        Server::builder()
            .header_timeout(LONG)
            .idle_timeout(LONG)
            .body_timeout(SHORT),
    );
    let mut tcp = TcpStream::connect(env.server.addr()).unwrap();
    let start = Instant::now();
    write!(
        tcp,
        "POST /channels?api_key={} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"filter",
        env.server.api_key(),
        env.server.server_token()
    )
    .unwrap();
    let (answer, ended) = read_until_closed(&mut tcp);
    assert!(ended - start >= SHORT, "answered before the timeout");
    assert_eq!(status_of(&answer), 408, "{}", String::from_utf8_lossy(&answer));
    let text = String::from_utf8_lossy(&answer);
    let body: Value = serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap();
    assert_eq!(body["code"], 4, "{body}");
}

#[test]
fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let env = Env::with(
        Server::builder()
            .header_timeout(LONG)
            .idle_timeout(SHORT)
            .body_timeout(LONG),
    );
    let mut tcp = TcpStream::connect(env.server.addr()).unwrap();
    tcp.write_all(b"GET /hi HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let answered = Instant::now();
    let (answer, ended) = read_until_closed(&mut tcp);
    assert_eq!(status_of(&answer), 200, "{}", String::from_utf8_lossy(&answer));
    assert!(ended - answered >= SHORT, "closed before the idle timeout");
    // A WebSocket is not an idle HTTP connection: it outlives the idle timeout.
    let (mut ws, _) = env.connect("alice");
    let marker = Instant::now() + SHORT * 4;
    while Instant::now() < marker {
        ws.send_text("{}");
        assert_eq!(ws.next_json(WITHIN)["type"], "health.check");
    }
}

/// Opens `n` TCP connections that send nothing.
fn idle_sockets(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            TcpStream::connect_timeout(&addr, WITHIN)
                .unwrap_or_else(|e| panic!("idle connect #{i}: {e}"))
        })
        .collect()
}

/// `GET /hi` on a fresh connection: the status, or the error.
fn hi(addr: SocketAddr) -> Result<u16, String> {
    let mut tcp = TcpStream::connect_timeout(&addr, WITHIN).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(WITHIN)).unwrap();
    tcp.write_all(b"GET /hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    Ok(status_of(&answer))
}

#[test]
fn over_the_connection_cap_the_longest_idle_connection_is_shed() {
    let env = Env::with(Server::builder().max_connections(20).header_timeout(LONG).idle_timeout(LONG));
    let mut idle = idle_sockets(env.server.addr(), 60);
    assert_eq!(hi(env.server.addr()), Ok(200));
    // The oldest idle ones were closed to make room; the newest are still open.
    let (_, _) = read_until_closed(&mut idle[0]);
    // A WebSocket counts too, and is never shed.
    let (mut ws, _) = env.connect("alice");
    let _more = idle_sockets(env.server.addr(), 40);
    assert_eq!(hi(env.server.addr()), Ok(200));
    ws.send_text("{}");
    assert_eq!(ws.next_json(WITHIN)["type"], "health.check");
}

/// The server binary in a shell that lowered its file-descriptor limit to `nofile`.
fn spawn_with_nofile(nofile: u32) -> (Child, SocketAddr) {
    let bin = env!("CARGO_BIN_EXE_stream-chat-server");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n {nofile} && exec \"$0\" --addr 127.0.0.1:0 --exit-on-stdin-close"
        ))
        .arg(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    (child, url.trim_start_matches("http://").parse().unwrap())
}

#[test]
fn three_hundred_idle_sockets_do_not_stop_a_server_with_256_descriptors() {
    let (mut child, addr) = spawn_with_nofile(256);
    let idle = idle_sockets(addr, 300);
    let answered = hi(addr);
    let again = hi(addr);
    child.kill().unwrap();
    child.wait().unwrap();
    drop(idle);
    assert_eq!(answered, Ok(200));
    assert_eq!(again, Ok(200));
}

#[test]
fn a_reader_stalled_past_the_old_close_timeout_still_gets_1013() {
    let env = Env::with(Server::builder().max_queued_frames(4));
    let (mut slow, first) = env.connect("slow");
    let conn = first["connection_id"].as_str().unwrap().to_owned();
    let (status, body) = env.watch(Auth::User("slow"), "livestream:flood", &conn);
    assert_eq!(status, 200, "{body}");
    // `slow` stops reading. Large frames fill the kernel's buffers, then its queue.
    let mut sent = 0;
    while env.server.slow_consumer_disconnects() == 0 {
        assert!(sent < 400, "not disconnected after {sent} messages");
        let (status, body) = env.call(
            "POST",
            "/channels/livestream/flood/message",
            Auth::Server,
            Some(json!({"message": {"text": format!("m{sent}"), "user_id": "host", "pad": "x".repeat(256 * 1024)}})),
        );
        assert_eq!(status, 200, "{body}");
        sent += 1;
    }
    // The scenario: it stays stalled longer than the server used to try its close frame
    // (2 s), still sending (as the JS client's health checks do), then reads again.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(slow.try_send_text("{\"type\":\"health.check\"}"));
    assert_eq!(slow.read_until_closed(), Some(stream_chat_server::LAGGING_CLOSE_CODE));
}
