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
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
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
        assert!(
            body["message"].as_str().unwrap().contains("user id"),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().len() < 1000,
            "the id is not echoed"
        );
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
    // Half a head, then nothing; and a socket that sends nothing at all. The server's clock
    // starts at accept, so the lower bound is taken before the connects.
    let start = Instant::now();
    let mut half = TcpStream::connect(env.server.addr()).unwrap();
    let mut silent = TcpStream::connect(env.server.addr()).unwrap();
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
fn a_body_never_sent_is_answered_408_code_23_after_the_body_timeout() {
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
    assert_eq!(
        status_of(&answer),
        408,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let text = String::from_utf8_lossy(&answer);
    let body: Value = serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap();
    assert_eq!(body["code"], 23, "{body}");
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
    // Taken before the write: the answer (and the idle clock) may come before this thread runs.
    let answered = Instant::now();
    tcp.write_all(b"GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (answer, ended) = read_until_closed(&mut tcp);
    assert_eq!(
        status_of(&answer),
        200,
        "{}",
        String::from_utf8_lossy(&answer)
    );
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
    let env = Env::with(
        Server::builder()
            .max_connections(20)
            .header_timeout(LONG)
            .idle_timeout(LONG),
    );
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
    let opened = Instant::now();
    let idle = idle_sockets(addr, 300);
    let asked = Instant::now();
    let answered = hi(addr);
    let took = asked.elapsed();
    let again = hi(addr);
    eprintln!(
        "300 idle sockets opened in {:?}; GET /hi answered in {took:?}",
        asked - opened
    );
    child.kill().unwrap();
    child.wait().unwrap();
    drop(idle);
    assert_eq!(answered, Ok(200));
    assert_eq!(again, Ok(200));
}

#[test]
fn a_reader_stalled_past_the_old_close_timeout_still_gets_1013() {
    let env = Env::with(
        Server::builder()
            .max_queued_frames(4)
            .max_custom_data(1024 * 1024),
    );
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
    assert_eq!(
        slow.read_until_closed(),
        Some(stream_chat_server::LAGGING_CLOSE_CODE)
    );
}

/// `n` bytes of custom data as one field.
fn pad(n: usize) -> String {
    "x".repeat(n)
}

#[test]
fn custom_data_over_5_kb_is_refused_with_code_22_on_users_channels_and_messages() {
    let env = Env::start();
    let too_big = |(status, body): (u16, Value)| {
        assert_eq!((status, body["code"].as_i64()), (413, Some(22)), "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("custom data"),
            "{body}"
        );
    };
    let ok = |(status, body): (u16, Value)| assert_eq!(status, 200, "{body}");
    // Users: upsert, then partial updates that would grow it past the limit.
    too_big(env.call(
        "POST",
        "/users",
        Auth::Server,
        Some(json!({"users": {"ann": {"id": "ann", "bio": pad(6000)}}})),
    ));
    ok(env.call(
        "POST",
        "/users",
        Auth::Server,
        Some(json!({"users": {"ann": {"id": "ann", "bio": pad(3000)}}})),
    ));
    let grow = json!({"users": [{"id": "ann", "set": {"more": pad(3000)}}]});
    too_big(env.call("PATCH", "/users", Auth::Server, Some(grow)));
    let replace = json!({"users": [{"id": "ann", "set": {"more": pad(3000)}, "unset": ["bio"]}]});
    ok(env.call("PATCH", "/users", Auth::Server, Some(replace)));
    // A connect whose user_details carry too much: a connection.error with code 22.
    let params = vec![
        (
            "json",
            json!({"user_id": "cy", "user_details": {"id": "cy", "bio": pad(6000)}}).to_string(),
        ),
        ("authorization", env.token("cy")),
        ("stream-auth-type", "jwt".into()),
    ];
    let (_ws, first) = env.connect_with(&params);
    assert_eq!(first["type"], "connection.error", "{first}");
    assert_eq!(first["error"]["code"], 22, "{first}");
    // Channels: creation, full update, partial update.
    too_big(env.query_channel(
        Auth::User("ann"),
        "messaging:big",
        Some(json!({"data": {"blob": pad(6000)}})),
    ));
    ok(env.query_channel(
        Auth::User("ann"),
        "messaging:big",
        Some(json!({"data": {"blob": pad(3000)}})),
    ));
    too_big(env.call(
        "POST",
        "/channels/messaging/big",
        Auth::User("ann"),
        Some(json!({"data": {"blob": pad(6000)}})),
    ));
    too_big(env.call(
        "PATCH",
        "/channels/messaging/big",
        Auth::User("ann"),
        Some(json!({"set": {"more": pad(3000)}})),
    ));
    let (_, state) = env.query_channel(Auth::User("ann"), "messaging:big", None);
    assert_eq!(
        state["channel"]["blob"].as_str().map(str::len),
        Some(3000),
        "unchanged"
    );
    assert!(state["channel"].get("more").is_none(), "unchanged");
    // Messages: send and update.
    let send = |extra: usize| {
        env.call(
            "POST",
            "/channels/messaging/big/message",
            Auth::User("ann"),
            Some(json!({"message": {"id": format!("m{extra}"), "text": "hi", "blob": pad(extra)}})),
        )
    };
    too_big(send(6000));
    ok(send(5000));
    too_big(env.call(
        "POST",
        "/messages/m5000",
        Auth::User("ann"),
        Some(json!({"message": {"text": "edited", "blob": pad(6000)}})),
    ));
    // Reactions (issue 9's route) have the same limit.
    too_big(env.call(
        "POST",
        "/messages/m5000/reaction",
        Auth::User("ann"),
        Some(json!({"reaction": {"type": "like", "blob": pad(6000)}})),
    ));
    let (_, got) = env.call("GET", "/messages/m5000", Auth::User("ann"), None);
    assert_eq!(got["message"]["text"], "hi", "unchanged: {got}");
}

/// A request with `auth` as `token`, returning status, the `X-RateLimit-*` headers and body.
fn limited(env: &Env, method: &str, path: &str, token: &str) -> (u16, [Option<i64>; 4], Value) {
    let url = format!(
        "{}{path}?api_key={}",
        env.server.base_url(),
        env.server.api_key()
    );
    let request = match method {
        "GET" => env.agent().get(&url).header("Authorization", token).call(),
        _ => env
            .agent()
            .post(&url)
            .header("Authorization", token)
            .send_json(json!({"message": {"text": "hi"}})),
    };
    let mut res = request.unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    };
    let headers = [
        header("x-ratelimit-limit"),
        header("x-ratelimit-remaining"),
        header("x-ratelimit-reset"),
        header("retry-after"),
    ];
    let status = res.status().as_u16();
    (
        status,
        headers,
        res.body_mut().read_json().unwrap_or(Value::Null),
    )
}

#[test]
fn each_user_has_its_limit_per_endpoint_with_headers_then_429_code_9() {
    // The 4 requests below take a few ms; the window is 3 s so that load cannot end it early.
    let window = Duration::from_secs(3);
    let env = Env::with(
        Server::builder().rate_limits(
            stream_chat_server::RateLimits::stream()
                .with_per_user(3)
                .with_window(window),
        ),
    );
    let (ann, bob) = (env.token("ann"), env.token("bob"));
    let send = "/channels/livestream/rl/message";
    let (status, _, body) = limited(&env, "POST", "/channels/livestream/rl/query", &ann);
    assert_eq!(status, 200, "{body}");
    let started = now();
    for remaining in [2, 1, 0] {
        let (status, [limit, left, reset, _], body) = limited(&env, "POST", send, &ann);
        assert_eq!(status, 200, "{body}");
        assert_eq!((limit, left), (Some(3), Some(remaining)));
        let reset = reset.unwrap();
        assert!(
            (started..=started + 4).contains(&reset),
            "reset {reset} vs now {started}"
        );
    }
    let (status, [limit, left, _, retry], body) = limited(&env, "POST", send, &ann);
    assert_eq!((status, body["code"].as_i64()), (429, Some(9)), "{body}");
    assert_eq!((limit, left), (Some(3), Some(0)));
    assert!(retry.is_some_and(|s| (1..=3).contains(&s)), "{retry:?}");
    // Nothing was sent by the refused request.
    let (_, state) = env.query_channel(Auth::Server, "livestream:rl", None);
    assert_eq!(state["messages"].as_array().unwrap().len(), 3);
    // Another endpoint, another user and the server have their own counters.
    let (status, [_, left, _, _], _) = limited(&env, "GET", "/users", &ann);
    assert_eq!((status, left), (200, Some(2)));
    let (status, [_, left, _, _], _) = limited(&env, "POST", send, &bob);
    assert_eq!((status, left), (200, Some(2)));
    // (Answered 400: a server-side message needs a user_id; counted all the same.)
    let (_, [limit, _, _, _], _) = limited(&env, "POST", send, &env.server.server_token());
    assert_eq!(limit, Some(1000), "Stream's app-wide tier for messages");
    // The window ends: ann may send again (waiting for the window is the scenario).
    std::thread::sleep(window);
    let (status, [_, left, _, _], body) = limited(&env, "POST", send, &ann);
    assert_eq!((status, left), (200, Some(2)), "{body}");
}

#[test]
fn rate_limits_off_sends_no_headers_and_never_429() {
    let env = Env::with(Server::builder().rate_limits(stream_chat_server::RateLimits::off()));
    let ann = env.token("ann");
    for _ in 0..100 {
        let (status, headers, body) = limited(&env, "GET", "/users", &ann);
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers, [None; 4]);
    }
}

/// The resident memory of process `pid`, in KiB (`VmRSS` of `/proc/PID/status`).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// The binary with these extra arguments (and the default secret).
fn spawn_server(extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stream-chat-server"))
        .args(["--addr", "127.0.0.1:0", "--exit-on-stdin-close"])
        .args(extra)
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
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    (child, url)
}

/// Floods the binary from one user token and reports the server's RSS before and after
/// (MiB). The issue measured 5 MB → 314 MB for 300 such messages, 627 MB for 3,000 such
/// channels; this test sends a third of that (the suite's time), docs/reliability.md has the
/// full flood's figures.
#[test]
fn a_flood_from_one_token_leaves_memory_bounded() {
    const MESSAGES: usize = 100;
    const CHANNELS: usize = 1000;
    let key = stream_chat_server::DEFAULT_API_KEY;
    let token = stream_chat_protocol::jwt::user_token(
        stream_chat_server::DEFAULT_API_SECRET.as_bytes(),
        "flooder",
        None,
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let post = |url: &str, body: &Value| -> u16 {
        agent
            .post(url)
            .header("Authorization", &token)
            .send_json(body)
            .unwrap()
            .status()
            .as_u16()
    };
    // With rate limits off, the custom-data limit alone bounds what is kept.
    let (mut child, base) = spawn_server(&["--rate-limits", "off"]);
    let megabyte = pad(1024 * 1024 - 200);
    let hundred_kb = pad(100 * 1024);
    assert_eq!(
        post(
            &format!("{base}/channels/livestream/flood/query?api_key={key}"),
            &json!({})
        ),
        200
    );
    let before = rss_kib(child.id());
    for i in 0..MESSAGES {
        let status = post(
            &format!("{base}/channels/livestream/flood/message?api_key={key}"),
            &json!({"message": {"text": format!("m{i}"), "pad": megabyte}}),
        );
        assert_eq!(status, 413);
    }
    let after_messages = rss_kib(child.id());
    for i in 0..CHANNELS {
        let status = post(
            &format!("{base}/channels/messaging/c{i}/query?api_key={key}"),
            &json!({"data": {"pad": hundred_kb}}),
        );
        assert_eq!(status, 413);
    }
    let after_channels = rss_kib(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    // With Stream's rate limits (the default), under-limit data is kept at 60 a minute.
    let (mut child, base) = spawn_server(&[]);
    let small = pad(4 * 1024);
    post(
        &format!("{base}/channels/livestream/flood/query?api_key={key}"),
        &json!({}),
    );
    let limited_before = rss_kib(child.id());
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..1000 {
        let status = post(
            &format!("{base}/channels/livestream/flood/message?api_key={key}"),
            &json!({"message": {"text": format!("m{i}"), "pad": small}}),
        );
        *statuses.entry(status).or_insert(0) += 1;
    }
    let limited_after = rss_kib(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    let mib = |kib: u64| kib as f64 / 1024.0;
    eprintln!(
        "flood RSS (MiB): {MESSAGES} x 1 MB messages {:.1} -> {:.1}; then {CHANNELS} x 100 KB \
         channels -> {:.1}; rate-limited 1,000 x 4 KB messages {:.1} -> {:.1} ({statuses:?})",
        mib(before),
        mib(after_messages),
        mib(after_channels),
        mib(limited_before),
        mib(limited_after)
    );
    assert_eq!(statuses.get(&200), Some(&60), "{statuses:?}");
    assert_eq!(statuses.get(&429), Some(&940), "{statuses:?}");
    // Bounded: what a few request bodies in flight and the allocator's caches hold, not the
    // 200 MB the flood carried (kept whole before: the issue's +309 MB and +622 MB).
    assert!(
        after_channels < before + 48 * 1024,
        "{before} -> {after_channels} KiB"
    );
    assert!(
        limited_after < limited_before + 32 * 1024,
        "{limited_before} -> {limited_after} KiB"
    );
}
