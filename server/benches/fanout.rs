//! Fan-out load check (not a test): K WebSocket watchers on one `livestream` channel of an
//! in-process server, held by child processes (this same binary, `--child`), and M messages
//! posted over REST, one at a time.
//!
//! ```sh
//! cargo bench -p stream-chat-server --bench fanout                    # K=1000, M=200
//! cargo bench -p stream-chat-server --bench fanout -- --watchers 10000 --messages 50
//! cargo bench -p stream-chat-server --bench fanout --profile dev      # without the release build
//! cargo test -p stream-chat-server --bench fanout                    # smoke run: K=20, M=5
//! ```
//!
//! Prints the time to open K sockets, the time until every watch of the channel (REST, from
//! the watcher's own user) is answered, the p50/p99 latency from posting a message until the
//! last of the K watchers has its `message.new`, and the RSS of this process: the server and
//! the REST driver only, since the clients live in the children (up to `--per-child`, 1,000 by
//! default, tasks of one single-threaded event loop). The open-file limit is raised to its hard
//! limit in every process. Everything stays on loopback; each phase has a deadline, so a run
//! ends within a few minutes even when something goes wrong.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stream_chat_server::{RateLimits, Server, ServerHandle};
use tungstenite::Message;
use tungstenite::protocol::WebSocketConfig;

const CHANNEL: &str = "fanout";
/// Budget of the connect phase and of the watch phase each.
const PHASE_BUDGET: Duration = Duration::from_secs(60);
/// Budget of the whole message phase.
const MESSAGES_BUDGET: Duration = Duration::from_secs(60);
/// How long one message may take to reach every watcher.
const MESSAGE_BUDGET: Duration = Duration::from_secs(5);
/// Concurrent REST watch requests.
const WATCH_THREADS: usize = 4;

struct Args {
    watchers: usize,
    messages: usize,
    per_child: usize,
}

/// `--watchers K --messages M --per-child C`. Without `--bench` (passed by `cargo bench`, not
/// by `cargo test --benches`) it is a quick smoke run of 20 watchers and 5 messages.
fn args(args: &[String]) -> Args {
    let full = args.iter().any(|a| a == "--bench");
    let mut parsed = Args {
        watchers: if full { 1000 } else { 20 },
        messages: if full { 200 } else { 5 },
        per_child: 1000,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let target = match arg.as_str() {
            "--watchers" => &mut parsed.watchers,
            "--messages" => &mut parsed.messages,
            "--per-child" => &mut parsed.per_child,
            _ => continue,
        };
        match it.next().and_then(|v| v.parse().ok()) {
            Some(n) if n > 0 => *target = n,
            _ => panic!("{arg} needs a positive number"),
        }
    }
    parsed
}

/// Raises the soft open-file limit to the hard one; returns the soft limit now in force.
fn raise_open_files() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
        limit.rlim_cur
    }
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

fn print_rss(label: &str) -> Option<f64> {
    match rss_mib() {
        Some((rss, peak)) => {
            println!("  server RSS {label:<26} {rss:8.1} MiB (peak so far {peak:.1} MiB)");
            Some(rss)
        }
        None => {
            println!("  server RSS {label:<26} unavailable (no /proc/self/status)");
            None
        }
    }
}

/// The message number of a `message.new` frame for one of our messages, read without a full
/// JSON parse (the client threads share the cores with the server).
fn message_number(text: &str) -> Option<usize> {
    if !text.starts_with(r#"{"type":"message.new""#) {
        return None;
    }
    let rest = &text[text.find(r#""id":"fanout-"#)? + r#""id":"fanout-"#.len()..];
    rest[..rest.find('"')?].parse().ok()
}

// ---- child: holds some of the watchers ------------------------------------------------

/// A child process: reads `<user> <address> <url>` lines from stdin and opens one watcher
/// per line; writes `C <user> <connection id>` when one is connected, `F <why>` when one
/// fails, and `D <k>` once all of its watchers have message `k`. Exits when stdin closes.
///
/// The watchers are tasks of one single-threaded event loop (tokio's), not a thread each:
/// what is measured is the server's fan-out, and 10,000 receiving threads on the same two
/// cores would mostly measure their own wake-ups.
fn child(clients: usize, messages: usize) {
    raise_open_files();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            println!("F cannot start the event loop: {e}");
            std::process::exit(1);
        }
    };
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let received: Arc<Vec<AtomicUsize>> = Arc::new((0..messages).map(|_| 0.into()).collect());
    let (lines_tx, mut lines) =
        tokio::sync::mpsc::unbounded_channel::<(usize, SocketAddr, String)>();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let mut parts = line.splitn(3, ' ');
            let (Some(user), Some(addr), Some(url)) = (parts.next(), parts.next(), parts.next())
            else {
                break;
            };
            let (Ok(user), Ok(addr)) = (user.parse::<usize>(), addr.parse::<SocketAddr>()) else {
                break;
            };
            if lines_tx.send((user, addr, url.to_owned())).is_err() {
                break;
            }
        }
        // Dropping the sender ends the loop below: the parent closed stdin, the run is over.
    });
    runtime.block_on(async move {
        while let Some((user, addr, url)) = lines.recv().await {
            let (out, received) = (out.clone(), received.clone());
            tokio::spawn(async move {
                if let Err(e) = child_watcher(user, addr, &url, clients, &out, &received).await {
                    say(&out, &format!("F {e}"));
                }
            });
        }
    });
    std::process::exit(0);
}

fn say(out: &Mutex<std::io::Stdout>, line: &str) {
    let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A socket of the event loop as tungstenite's stream: a read or write that would block
/// says so (`WouldBlock`), and the task then awaits the socket's readiness.
struct Nonblocking(Arc<tokio::net::TcpStream>);

impl std::io::Read for Nonblocking {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl std::io::Write for Nonblocking {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The next frame, awaiting the socket while there is none; `None` once it is closed.
async fn next_frame(
    ws: &mut tungstenite::WebSocket<Nonblocking>,
    tcp: &tokio::net::TcpStream,
) -> Result<Option<Message>, String> {
    loop {
        match ws.read() {
            Ok(message) => return Ok(Some(message)),
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                tcp.readable().await.map_err(|e| e.to_string())?;
            }
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::Interrupted => {}
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return Ok(None);
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// One watcher: connect, report the connection id, then count frames until the socket
/// closes. Errors before it is connected are reported; after, the socket just ends.
async fn child_watcher(
    user: usize,
    addr: SocketAddr,
    url: &str,
    clients: usize,
    out: &Mutex<std::io::Stdout>,
    received: &[AtomicUsize],
) -> Result<(), String> {
    let tcp = tokio::time::timeout(PHASE_BUDGET, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| "connect: timed out".to_owned())?
        .map_err(|e| format!("connect: {e}"))?;
    let tcp = Arc::new(tcp);
    // Small client buffers (the default read buffer is 128 KiB).
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let mut handshake =
        tungstenite::client::client_with_config(url, Nonblocking(tcp.clone()), Some(config));
    let mut ws = loop {
        match handshake {
            Ok((ws, _)) => break ws,
            Err(tungstenite::HandshakeError::Interrupted(mid)) => {
                // The request is a few hundred bytes on a fresh socket: what remains is
                // waiting for the answer.
                tcp.readable().await.map_err(|e| format!("connect: {e}"))?;
                handshake = mid.handshake();
            }
            Err(tungstenite::HandshakeError::Failure(e)) => return Err(format!("connect: {e}")),
        }
    };
    let first = match next_frame(&mut ws, &tcp).await? {
        Some(Message::Text(t)) => serde_json::from_str::<Value>(t.as_str()).unwrap_or_default(),
        other => return Err(format!("first frame: {other:?}")),
    };
    let Some(connection_id) = first["connection_id"].as_str() else {
        return Err(format!("no connection_id in {first}"));
    };
    say(out, &format!("C {user} {connection_id}"));
    while let Ok(Some(frame)) = next_frame(&mut ws, &tcp).await {
        if let Message::Text(text) = frame
            && let Some(k) = message_number(text.as_str())
            && let Some(count) = received.get(k)
            && count.fetch_add(1, Ordering::AcqRel) + 1 == clients
        {
            say(out, &format!("D {k}"));
        }
    }
    Ok(())
}

// ---- parent: the server, the REST driver, the measurements ----------------------------

/// What the children report to the main thread.
enum Report {
    Connected {
        user: usize,
        connection_id: String,
    },
    Failed(String),
    /// Every watcher of one child has message `k`.
    Delivered {
        k: usize,
        at: Instant,
    },
}

/// Spawns a child holding `clients` watchers; its reports go to `reports`.
fn spawn_child(
    clients: usize,
    messages: usize,
    reports: mpsc::Sender<Report>,
) -> Result<(Child, ChildStdin), String> {
    let exe = std::env::current_exe().map_err(|e| format!("no current exe: {e}"))?;
    let mut child = Command::new(exe)
        .args([
            "--child",
            &clients.to_string(),
            "--messages",
            &messages.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a client process: {e}"))?;
    let stdin = child.stdin.take().ok_or("no child stdin")?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let at = Instant::now();
            let mut parts = line.splitn(3, ' ');
            let report = match (parts.next(), parts.next(), parts.next()) {
                (Some("C"), Some(user), Some(id)) => match user.parse() {
                    Ok(user) => Report::Connected {
                        user,
                        connection_id: id.to_owned(),
                    },
                    Err(_) => Report::Failed(line.clone()),
                },
                (Some("D"), Some(k), None) => match k.parse() {
                    Ok(k) => Report::Delivered { k, at },
                    Err(_) => Report::Failed(line.clone()),
                },
                _ => Report::Failed(line.clone()),
            };
            if reports.send(report).is_err() {
                break;
            }
        }
    });
    Ok((child, stdin))
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

#[derive(Clone)]
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
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = argv.iter().position(|a| a == "--child") {
        let clients = argv.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(0);
        return child(clients, args(&argv).messages);
    }
    let Args {
        watchers,
        messages,
        per_child,
    } = args(&argv);
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let open_files = raise_open_files();
    let children = watchers.div_ceil(per_child);
    println!(
        "fanout: {watchers} watchers on livestream:{CHANNEL} in {children} client processes, {messages} messages, {build} build, server in this process (open-file limit {open_files})"
    );
    let server = Server::builder()
        .rate_limits(RateLimits::off())
        .start()
        .expect("server starts");
    let base_rss = print_rss("after server start");
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

    let (reports_tx, reports) = mpsc::channel();
    let mut procs = Vec::with_capacity(children);
    let outcome = (0..children)
        .try_for_each(|c| {
            let clients = per_child.min(watchers - c * per_child);
            procs.push((spawn_child(clients, messages, reports_tx.clone())?, clients));
            Ok::<(), String>(())
        })
        .and_then(|()| {
            drop(reports_tx);
            run(
                &server, &rest, &mut procs, base_rss, watchers, messages, &reports,
            )
        });
    if let Err(e) = &outcome {
        println!("  stopped early: {e}");
    }
    print_rss("at the end");
    println!(
        "  slow-consumer disconnects: {}",
        server.slow_consumer_disconnects()
    );
    // Closing stdin ends a child; kill the ones that do not go on their own.
    for ((mut child, stdin), _) in procs {
        drop(stdin);
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
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
    procs: &mut [((Child, ChildStdin), usize)],
    base_rss: Option<f64>,
    watchers: usize,
    messages: usize,
    reports: &mpsc::Receiver<Report>,
) -> Result<(), String> {
    // Phase 1: open K sockets, each as its own user, from the children in parallel.
    let started = Instant::now();
    let mut next_user = 0;
    for ((_, stdin), clients) in procs.iter_mut() {
        for _ in 0..*clients {
            let user = format!("w{next_user}");
            let payload = json!({"user_id": user, "user_details": {"id": user}}).to_string();
            writeln!(
                stdin,
                "{next_user} {} ws://{}/connect?json={}&api_key={}&authorization={}&stream-auth-type=jwt",
                server.addr(),
                server.addr(),
                encode(&payload),
                server.api_key(),
                server.create_token(&user, None),
            )
            .map_err(|e| format!("a client process is gone: {e}"))?;
            next_user += 1;
        }
        stdin.flush().map_err(|e| e.to_string())?;
    }
    let deadline = Instant::now() + PHASE_BUDGET;
    let mut connection_ids = Vec::with_capacity(watchers);
    while connection_ids.len() < watchers {
        match next_report(reports, deadline).map_err(|_| {
            format!(
                "only {} of {watchers} sockets connected in {PHASE_BUDGET:?}",
                connection_ids.len()
            )
        })? {
            Report::Connected {
                user,
                connection_id,
            } => connection_ids.push((user, connection_id)),
            Report::Failed(e) => return Err(format!("a watcher failed: {e}")),
            Report::Delivered { .. } => {}
        }
    }
    let connect = started.elapsed();
    println!(
        "  connect {watchers} sockets (TCP + WebSocket handshake + connected event): {} ({:.0}/s)",
        ms(connect),
        watchers as f64 / connect.as_secs_f64()
    );
    if let (Some(idle), Some(base)) = (print_rss("with the idle sockets"), base_rss) {
        println!(
            "  server RSS per idle socket: {:.1} KiB",
            (idle - base) * 1024.0 / watchers as f64
        );
    }

    // Phase 2: each connection watches the channel, as its own user (server tokens do not
    // subscribe connections), from a few REST clients at once.
    let work: Vec<(String, String)> = connection_ids
        .into_iter()
        .map(|(user, id)| (server.create_token(&format!("w{user}"), None), id))
        .collect();
    let started = Instant::now();
    let deadline = started + PHASE_BUDGET;
    let queue = Arc::new(Mutex::new(work));
    let answered = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..WATCH_THREADS)
        .map(|_| {
            let (queue, answered, rest) = (queue.clone(), answered.clone(), rest.clone());
            thread::spawn(move || -> Result<(), String> {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    let Some((token, connection_id)) = next else {
                        return Ok(());
                    };
                    if Instant::now() >= deadline {
                        return Err("watch phase over budget".to_owned());
                    }
                    let state = rest.post_as(
                        &token,
                        &format!(
                            "/channels/livestream/{CHANNEL}/query?connection_id={connection_id}"
                        ),
                        json!({"data": {}, "state": true, "watch": true, "presence": false}),
                    )?;
                    if state["watcher_count"].as_u64().unwrap_or(0) == 0 {
                        return Err(format!("a watch answered without watchers: {state}"));
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join()
            .map_err(|_| "a watch thread panicked".to_owned())??;
    }
    let watch = started.elapsed();
    println!(
        "  watch from {watchers} connections ({WATCH_THREADS} REST clients): every watch answered after {} ({} answered)",
        ms(watch),
        answered.load(Ordering::Relaxed)
    );
    let usage = server.usage();
    println!(
        "  server: {} open connections, {} monthly active users",
        usage.concurrent_connections, usage.monthly_active_users
    );
    print_rss("with K watching sockets");

    // Phase 3: post messages one at a time; each must reach every watcher (every child
    // reports when all of its watchers have it).
    let children = procs.len();
    let mut fanout = Vec::with_capacity(messages);
    let mut post_times = Vec::with_capacity(messages);
    let run_deadline = Instant::now() + MESSAGES_BUDGET;
    for k in 0..messages {
        if Instant::now() >= run_deadline {
            return Err(format!("message phase over budget after {k} messages"));
        }
        let t0 = Instant::now();
        rest.post(
            &format!("/channels/livestream/{CHANNEL}/message"),
            json!({"message": {"id": format!("fanout-{k}"), "text": format!("message {k}"), "user_id": "host"}}),
        )?;
        post_times.push(t0.elapsed());
        let deadline = t0 + MESSAGE_BUDGET;
        let mut done = 0;
        let mut last = t0;
        while done < children {
            match next_report(reports, deadline)
                .map_err(|_| format!("message {k} did not reach all watchers"))?
            {
                Report::Delivered { k: j, at } if j == k => {
                    done += 1;
                    last = last.max(at);
                }
                Report::Failed(e) => return Err(format!("a watcher failed: {e}")),
                _ => {}
            }
        }
        fanout.push(last - t0);
    }
    fanout.sort();
    post_times.sort();
    println!(
        "  POST message response time: p50 {}, p99 {}",
        ms(percentile(&post_times, 50.0)),
        ms(percentile(&post_times, 99.0))
    );
    println!(
        "  message.new fan-out, post -> the last of {watchers} watchers received: p50 {}, p99 {}, max {}",
        ms(percentile(&fanout, 50.0)),
        ms(percentile(&fanout, 99.0)),
        ms(fanout.last().copied().unwrap_or_default())
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
