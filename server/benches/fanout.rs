//! Fan-out load check (not a test): N WebSocket watchers on one `livestream` channel of an
//! in-process server, M messages posted over REST, one at a time.
//!
//! ```sh
//! cargo bench -p stream-chat-server --bench fanout                 # N=1000, M=200
//! cargo bench -p stream-chat-server --bench fanout -- --watchers 200 --messages 50
//! cargo bench -p stream-chat-server --bench fanout --profile dev  # without the release build
//! cargo test -p stream-chat-server --bench fanout                 # smoke run: N=20, M=5
//! ```
//!
//! Prints the time to open N sockets, the time to watch the channel from each of them, the
//! p50/p99 latency from posting a message until every watcher has its `message.new`, and the
//! process RSS. The server runs inside this process, so the RSS includes the N client threads
//! (small stacks and buffers) and their sockets, not only the server. Everything stays on loopback; each phase has a
//! deadline, so a run ends within about a minute even when something goes wrong.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stream_chat_server::{Server, ServerHandle};
use tungstenite::Message;
use tungstenite::protocol::WebSocketConfig;

const CHANNEL: &str = "fanout";
/// Budget per phase; the whole run stays around a minute.
const PHASE_BUDGET: Duration = Duration::from_secs(20);
/// How long one message may take to reach every watcher.
const MESSAGE_BUDGET: Duration = Duration::from_secs(5);

struct Args {
    watchers: usize,
    messages: usize,
}

/// `--watchers N --messages M`. Without `--bench` (passed by `cargo bench`, not by
/// `cargo test --benches`) it is a quick smoke run of 20 watchers and 5 messages.
fn args() -> Args {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    let mut parsed = Args {
        watchers: if full { 1000 } else { 20 },
        messages: if full { 200 } else { 5 },
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let target = match arg.as_str() {
            "--watchers" => &mut parsed.watchers,
            "--messages" => &mut parsed.messages,
            _ => continue,
        };
        match it.next().and_then(|v| v.parse().ok()) {
            Some(n) if n > 0 => *target = n,
            _ => panic!("{arg} needs a positive number"),
        }
    }
    parsed
}

/// `VmRSS` and `VmHWM` of this process, in MiB (Linux only; `None` elsewhere).
fn rss_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn print_rss(label: &str) {
    match rss_mib() {
        Some((rss, peak)) => {
            println!("  RSS {label:<22} {rss:8.1} MiB (peak so far {peak:.1} MiB)")
        }
        None => println!("  RSS {label:<22} unavailable (no /proc/self/status)"),
    }
}

/// What watcher threads report to the main thread.
enum Report {
    Connected {
        user: usize,
        connection_id: String,
    },
    Failed(String),
    /// Every watcher has received message `k`.
    Delivered {
        k: usize,
        at: Instant,
    },
    /// Every `user.watching.start` frame of the watch phase has arrived.
    AllWatching,
}

/// Shared between the watcher threads.
struct Shared {
    watchers: usize,
    /// Per message: how many watchers have received it.
    received: Vec<AtomicUsize>,
    /// `user.watching.start` frames received, summed over all watchers.
    watching_frames: AtomicUsize,
    /// How many the watch phase produces: joining user k is announced to the k watchers
    /// present, itself included.
    watching_expected: usize,
    stop: AtomicBool,
}

/// The message number of a `message.new` frame for one of our messages, read without a full
/// JSON parse (the client threads share the two cores with the server).
fn message_number(text: &str) -> Option<usize> {
    if !text.starts_with(r#"{"type":"message.new""#) {
        return None;
    }
    let rest = &text[text.find(r#""id":"fanout-"#)? + r#""id":"fanout-"#.len()..];
    rest[..rest.find('"')?].parse().ok()
}

/// One watcher: connect, report the connection id, then count frames until the server closes
/// the socket or the run stops. Returns when each message arrived.
fn watcher(
    user: usize,
    server_addr: std::net::SocketAddr,
    url: String,
    shared: Arc<Shared>,
    reports: mpsc::Sender<Report>,
) -> Vec<(usize, Instant)> {
    let mut arrivals = Vec::new();
    let connected = TcpStream::connect_timeout(&server_addr, PHASE_BUDGET)
        .map_err(|e| e.to_string())
        .and_then(|tcp| {
            // Small client buffers (the default read buffer is 128 KiB), so that the RSS
            // reflects the server more than the clients sharing its process.
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0);
            tungstenite::client::client_with_config(url, tcp, Some(config))
                .map_err(|e| e.to_string())
        });
    let mut ws = match connected {
        Ok((ws, _)) => ws,
        Err(e) => {
            let _ = reports.send(Report::Failed(e));
            return arrivals;
        }
    };
    let first = match ws.read() {
        Ok(Message::Text(t)) => serde_json::from_str::<Value>(t.as_str()).unwrap_or_default(),
        other => {
            let _ = reports.send(Report::Failed(format!("first frame: {other:?}")));
            return arrivals;
        }
    };
    let Some(connection_id) = first["connection_id"].as_str().map(str::to_owned) else {
        let _ = reports.send(Report::Failed(format!("no connection_id in {first}")));
        return arrivals;
    };
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(250)));
    let _ = reports.send(Report::Connected {
        user,
        connection_id,
    });
    while !shared.stop.load(Ordering::Relaxed) {
        match ws.read() {
            Ok(Message::Text(text)) => {
                let text = text.as_str();
                if let Some(k) = message_number(text) {
                    let at = Instant::now();
                    arrivals.push((k, at));
                    let seen = shared.received[k].fetch_add(1, Ordering::AcqRel) + 1;
                    if seen == shared.watchers {
                        let _ = reports.send(Report::Delivered { k, at });
                    }
                } else if text.starts_with(r#"{"type":"user.watching.start""#) {
                    let seen = shared.watching_frames.fetch_add(1, Ordering::AcqRel) + 1;
                    if seen == shared.watching_expected {
                        let _ = reports.send(Report::AllWatching);
                    }
                }
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    arrivals
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Rest {
    agent: ureq::Agent,
    base: String,
    key: String,
    token: String,
}

impl Rest {
    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.post_as(&self.token, path, body)
    }

    fn post_as(&self, token: &str, path: &str, body: Value) -> Result<Value, String> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{sep}api_key={}", self.base, self.key);
        let mut response = self
            .agent
            .post(&url)
            .header("Authorization", token)
            .send_json(body)
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        if status == 200 {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            Err(format!("HTTP {status}: {text}"))
        }
    }
}

fn main() {
    let Args { watchers, messages } = args();
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "fanout: {watchers} watchers on livestream:{CHANNEL}, {messages} messages, {build} build, in-process server"
    );
    let server = Server::builder().start().expect("server starts");
    print_rss("after server start");
    let rest = Rest {
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(PHASE_BUDGET))
            .build()
            .into(),
        base: server.base_url(),
        key: server.api_key().to_owned(),
        token: server.server_token(),
    };
    rest.post(
        &format!("/channels/livestream/{CHANNEL}/query"),
        json!({"data": {"created_by_id": "host"}}),
    )
    .expect("channel created");

    let shared = Arc::new(Shared {
        watchers,
        received: (0..messages).map(|_| AtomicUsize::new(0)).collect(),
        watching_frames: AtomicUsize::new(0),
        watching_expected: watchers * (watchers + 1) / 2,
        stop: AtomicBool::new(false),
    });
    let (reports_tx, reports) = mpsc::channel();
    let outcome = run(
        &server, &rest, &shared, watchers, messages, reports_tx, &reports,
    );
    if let Err(e) = &outcome {
        println!("  stopped early: {e}");
    }
    print_rss("at the end");
    println!(
        "  slow-consumer disconnects: {}",
        server.slow_consumer_disconnects()
    );
    shared.stop.store(true, Ordering::Relaxed);
    server.shutdown();
    if outcome.is_err() {
        std::process::exit(1);
    }
}

/// Waits for the next report until `deadline`.
fn next_report(reports: &mpsc::Receiver<Report>, deadline: Instant) -> Result<Report, String> {
    reports
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .map_err(|_| "deadline passed".to_owned())
}

fn run(
    server: &ServerHandle,
    rest: &Rest,
    shared: &Arc<Shared>,
    watchers: usize,
    messages: usize,
    reports_tx: mpsc::Sender<Report>,
    reports: &mpsc::Receiver<Report>,
) -> Result<(), String> {
    // Phase 1: open N sockets in parallel, each as its own user.
    let started = Instant::now();
    let mut threads = Vec::with_capacity(watchers);
    for i in 0..watchers {
        let user = format!("w{i}");
        let payload = json!({"user_id": user, "user_details": {"id": user}}).to_string();
        let url = format!(
            "ws://{}/connect?json={}&api_key={}&authorization={}&stream-auth-type=jwt",
            server.addr(),
            encode(&payload),
            server.api_key(),
            server.create_token(&user, None),
        );
        let (addr, shared, tx) = (server.addr(), shared.clone(), reports_tx.clone());
        let spawned = thread::Builder::new()
            .name(format!("watcher-{i}"))
            .stack_size(256 * 1024)
            .spawn(move || watcher(i, addr, url, shared, tx))
            .map_err(|e| format!("cannot spawn watcher thread {i}: {e}"))?;
        threads.push(spawned);
    }
    drop(reports_tx);
    let deadline = Instant::now() + PHASE_BUDGET;
    let mut connection_ids = Vec::with_capacity(watchers);
    while connection_ids.len() < watchers {
        match next_report(reports, deadline)? {
            Report::Connected {
                user,
                connection_id,
            } => connection_ids.push((user, connection_id)),
            Report::Failed(e) => return Err(format!("a watcher failed to connect: {e}")),
            Report::Delivered { .. } | Report::AllWatching => {}
        }
    }
    let connect = started.elapsed();
    println!(
        "  connect {watchers} sockets (TCP + WebSocket handshake + connected event): {} ({:.0}/s)",
        ms(connect),
        watchers as f64 / connect.as_secs_f64()
    );
    print_rss("after connecting");

    // Phase 2: each connection watches the channel (REST, one request at a time).
    let started = Instant::now();
    for (user, connection_id) in &connection_ids {
        // As the watcher's own user: server tokens do not subscribe connections.
        rest.post_as(
            &server.create_token(&format!("w{user}"), None),
            &format!("/channels/livestream/{CHANNEL}/query?connection_id={connection_id}"),
            json!({"data": {}, "state": true, "watch": true, "presence": false}),
        )?;
    }
    let watch = started.elapsed();
    let deadline = Instant::now() + PHASE_BUDGET;
    loop {
        match next_report(reports, deadline) {
            Ok(Report::AllWatching) => break,
            Ok(_) => {}
            Err(_) => {
                return Err(format!(
                    "only {} of {} user.watching.start frames arrived",
                    shared.watching_frames.load(Ordering::Relaxed),
                    shared.watching_expected
                ));
            }
        }
    }
    println!(
        "  watch from {watchers} connections (sequential REST): {}; all {} user.watching.start frames delivered after {}",
        ms(watch),
        shared.watching_expected,
        ms(started.elapsed())
    );
    let usage = server.usage();
    println!(
        "  server: {} open connections, {} monthly active users",
        usage.concurrent_connections, usage.monthly_active_users
    );

    // Phase 3: post messages one at a time; each must reach every watcher.
    let mut fanout = Vec::with_capacity(messages);
    let mut post_times = Vec::with_capacity(messages);
    let mut posted_at = Vec::with_capacity(messages);
    let run_deadline = Instant::now() + PHASE_BUDGET;
    for k in 0..messages {
        if Instant::now() >= run_deadline {
            return Err(format!("message phase over budget after {k} messages"));
        }
        let t0 = Instant::now();
        posted_at.push(t0);
        rest.post(
            &format!("/channels/livestream/{CHANNEL}/message"),
            json!({"message": {"id": format!("fanout-{k}"), "text": format!("message {k}"), "user_id": "host"}}),
        )?;
        post_times.push(t0.elapsed());
        let deadline = t0 + MESSAGE_BUDGET;
        loop {
            match next_report(reports, deadline)
                .map_err(|_| format!("message {k} did not reach all watchers"))?
            {
                Report::Delivered { k: done, at } if done == k => {
                    fanout.push(at - t0);
                    break;
                }
                _ => {}
            }
        }
    }
    fanout.sort();
    post_times.sort();
    println!(
        "  POST message response time: p50 {}, p99 {}",
        ms(percentile(&post_times, 50.0)),
        ms(percentile(&post_times, 99.0))
    );
    println!(
        "  message.new fan-out, post -> all {watchers} watchers received: p50 {}, p99 {}, max {}",
        ms(percentile(&fanout, 50.0)),
        ms(percentile(&fanout, 99.0)),
        ms(fanout.last().copied().unwrap_or_default())
    );
    shared.stop.store(true, Ordering::Relaxed);
    let mut each = Vec::with_capacity(watchers * messages);
    for t in threads {
        let arrivals = t
            .join()
            .map_err(|_| "a watcher thread panicked".to_owned())?;
        each.extend(arrivals.into_iter().map(|(k, at)| at - posted_at[k]));
    }
    each.sort();
    println!(
        "  per delivery (post -> one watcher): p50 {}, p99 {} over {} deliveries",
        ms(percentile(&each, 50.0)),
        ms(percentile(&each, 99.0)),
        each.len()
    );
    Ok(())
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
