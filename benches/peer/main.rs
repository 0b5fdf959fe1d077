//! The Rust SDK side by side with the official JS client (`stream-chat@9.53.0`) against ONE
//! local server (issue 14, item 4). See docs/performance.md for what each row means.
//!
//! ```sh
//! cargo bench --bench peer                                  # the full run (~5 min), one table
//! cargo bench --bench peer -- --clients 200 --sides rust    # a part of it
//! cargo test --release --bench peer                         # a smoke run: small numbers
//! ```
//!
//! The server runs in this process (`Server::builder()`); each side's clients run in a
//! child process of their own (this binary with `--worker`, and `node js/peer.mjs`), so
//! the memory and threads each side reports are its own. Workloads: (a) sequential
//! connects, (b) send→receive round trips, (c) K connected watching clients in one
//! process, (d) the floors: a raw tungstenite echo and the server's `POST …/message`
//! under a bare HTTP client. Writes `target/peer/{table.md,results.json,latency.svg}`.

mod chart;
mod common;
mod floor;
mod procs;
mod rust_side;
mod table;

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stream_chat_server::{RateLimits, Server, ServerHandle};

use crate::common::{percentile, proc_status};
use crate::table::{Limit, Row, Unit};

const API_KEY: &str = "peer-bench-key";
const API_SECRET: &str = "peer-bench-secret-0123456789-abcdef";
/// Upper bound for the latency worker of one side.
const LATENCY_DEADLINE: Duration = Duration::from_secs(600);
/// Upper bound for one fleet worker (its phases have their own, shorter deadlines).
const FLEET_DEADLINE: Duration = Duration::from_secs(900);
/// How long the server may take to close a finished worker's sockets.
const DRAIN_DEADLINE: Duration = Duration::from_secs(180);
/// Frames the server queues per socket before dropping a slow reader. The watch storm of
/// K = 1,000 queues up to 1,000 frames per socket at once; the bench measures the clients,
/// so it must not lose any.
const MAX_QUEUED_FRAMES: usize = 1 << 16;

/// Issue 14's limits.
const CONNECT_VS_JS: f64 = 0.5;
const RTT_VS_ECHO: f64 = 2.0;
const SERVER_POST_P50_MS: f64 = 0.15;
const BYTES_VS_JS: f64 = 0.2;
const RSS_AT_1000_MIB: f64 = 200.0;
const THREADS_AT_1000: f64 = 16.0;
const WATCH_AT_1000_MS: f64 = 1000.0;
const TO_ALL_AT_10000_MS: f64 = 100.0;

struct Args {
    worker: Option<Vec<String>>,
    sides: Vec<&'static str>,
    clients: Vec<usize>,
    connects: usize,
    round_trips: usize,
    messages: usize,
    server_posts: usize,
    floors_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some("--worker") {
        return Ok(Args {
            worker: Some(raw[1..].to_vec()),
            sides: vec![],
            clients: vec![],
            connects: 0,
            round_trips: 0,
            messages: 0,
            server_posts: 0,
            floors_only: false,
        });
    }
    // `cargo bench` passes --bench; `cargo test --bench peer` does not: a smoke run.
    let full = raw.iter().any(|a| a == "--bench");
    let mut args = Args {
        worker: None,
        sides: vec!["rust", "js"],
        clients: if full { vec![200, 1000] } else { vec![10] },
        connects: if full { 200 } else { 10 },
        round_trips: if full { 500 } else { 20 },
        messages: if full { 20 } else { 3 },
        server_posts: if full { 2000 } else { 50 },
        floors_only: false,
    };
    let mut it = raw.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        let number = |v: &str| -> Result<usize, String> {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(format!("{arg}: {v} is not a positive number"))
        };
        match arg.as_str() {
            "--clients" => {
                args.clients = value()?.split(',').map(number).collect::<Result<_, _>>()?
            }
            "--connects" => args.connects = number(value()?)?,
            "--round-trips" => args.round_trips = number(value()?)?,
            "--messages" => args.messages = number(value()?)?,
            "--server-posts" => args.server_posts = number(value()?)?,
            // only the echo and the server's POST, e.g. to profile the server
            "--floors-only" => args.floors_only = true,
            "--sides" => {
                let v = value()?;
                args.sides = ["rust", "js"]
                    .into_iter()
                    .filter(|s| v.split(',').any(|p| p == *s))
                    .collect();
                if args.sides.is_empty() {
                    return Err("--sides takes rust, js or rust,js".into());
                }
            }
            _ => {} // --bench and libtest's flags
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("peer bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match &args.worker {
        Some(worker) => run_worker(worker),
        None => run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peer bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The Rust side, in a child process: `--worker latency|fleet <n> <m> <prefix>`.
fn run_worker(worker: &[String]) -> Result<(), String> {
    procs::die_with_parent();
    let env = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let target = rust_side::Target {
        base_url: env("PEER_BASE_URL")?,
        api_key: env("PEER_API_KEY")?,
        api_secret: env("PEER_API_SECRET")?,
    };
    let [workload, n, m, prefix] = worker else {
        return Err(format!("bad worker arguments {worker:?}"));
    };
    let number = |v: &str| v.parse::<usize>().map_err(|e| format!("{v}: {e}"));
    let result = match workload.as_str() {
        "latency" => rust_side::latency(&target, prefix, number(n)?, number(m)?)?,
        "fleet" => rust_side::fleet(&target, prefix, number(n)?, number(m)?)?,
        other => return Err(format!("unknown workload {other}")),
    };
    println!("{}{result}", common::RESULT_PREFIX);
    // Exit without tearing the clients down one by one: the server sees the sockets close.
    std::process::exit(0);
}

/// A worker command for `side`.
fn worker_command(
    side: &str,
    node: Option<&procs::Node>,
    server: &ServerHandle,
    args: &[String],
) -> Result<Command, String> {
    let mut cmd = match (side, node) {
        ("rust", _) => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let mut cmd = Command::new(exe);
            cmd.arg("--worker");
            cmd
        }
        (_, Some(node)) => {
            let mut cmd = Command::new(&node.node);
            cmd.arg("--expose-gc")
                .arg(procs::repo_root().join("benches/peer/js/peer.mjs"))
                .env("PEER_NODE_MODULES", &node.modules_parent);
            cmd
        }
        _ => return Err("the JS side needs Node.js".into()),
    };
    cmd.args(args)
        .env("PEER_BASE_URL", server.base_url())
        .env("PEER_API_KEY", server.api_key())
        .env("PEER_API_SECRET", server.api_secret());
    Ok(cmd)
}

/// Waits until the server has closed every socket of the last worker (it announces each
/// close to the remaining watchers, which takes a while after a large fleet).
fn wait_drained(server: &ServerHandle) -> Result<(), String> {
    let deadline = Instant::now() + DRAIN_DEADLINE;
    while server.usage().concurrent_connections > 0 {
        if Instant::now() > deadline {
            return Err(format!(
                "{} sockets still open {DRAIN_DEADLINE:?} after the worker ended",
                server.usage().concurrent_connections
            ));
        }
        // nothing notifies a drained server from outside: a bounded poll
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The first three fields of `/proc/loadavg`: other work on the machine skews every number.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| procs::repo_root().join("target"))
        .join("peer")
}

fn run(args: &Args) -> Result<(), String> {
    let largest = args.clients.iter().copied().max().unwrap_or(0) as u64;
    let limit = procs::raise_open_files(4 * largest + 1024)?;
    let server = Server::builder()
        .api_key(API_KEY)
        .api_secret(API_SECRET)
        .max_queued_frames(MAX_QUEUED_FRAMES)
        // A load test: Stream's 60 requests a minute per user would measure the limiter.
        .rate_limits(RateLimits::off())
        .start()
        .map_err(|e| format!("start the server: {e}"))?;
    eprintln!(
        "== peer bench: server {} (in this process), open-files limit {limit}",
        server.base_url()
    );
    let load_before = loadavg();
    let node = if args.sides.contains(&"js") && !args.floors_only {
        Some(procs::node()?)
    } else {
        None
    };
    if let Some(node) = &node {
        eprintln!(
            "== JS side: {} ({}) with {}/node_modules",
            procs::JS_CLIENT,
            node.node,
            node.modules_parent.display()
        );
    }

    eprintln!(
        "== (d) raw tungstenite echo, {} round trips",
        args.round_trips
    );
    let echo = floor::tungstenite_echo(args.round_trips)?;
    eprintln!(
        "== server POST …/message under a bare HTTP client, {} posts",
        args.server_posts
    );
    let server_post = floor::server_post(&server, "floor", args.server_posts, 0)?;
    eprintln!("== the same, with two raw WebSocket watchers on the channel (as in (b))");
    let server_post_watched = floor::server_post(&server, "floorw", args.server_posts, 2)?;

    let sides: &[&str] = if args.floors_only { &[] } else { &args.sides };
    let mut latency = serde_json::Map::new();
    for side in sides {
        eprintln!(
            "== (a)+(b) {side}: {} connects, {} round trips",
            args.connects, args.round_trips
        );
        let worker_args = [
            "latency".to_owned(),
            args.connects.to_string(),
            args.round_trips.to_string(),
            format!("{side}l"),
        ];
        let cmd = worker_command(side, node.as_ref(), &server, &worker_args)?;
        let value = procs::run_worker(cmd, &format!("{side} latency"), LATENCY_DEADLINE, || {})?;
        wait_drained(&server)?;
        latency.insert((*side).to_owned(), value);
    }

    let mut fleets = Vec::new();
    let clients: &[usize] = if args.floors_only { &[] } else { &args.clients };
    for &k in clients {
        for side in sides {
            eprintln!("== (c) {side}: {k} watching clients in one process");
            let worker_args = [
                "fleet".to_owned(),
                k.to_string(),
                args.messages.to_string(),
                format!("{side}{k}x"),
            ];
            let cmd = worker_command(side, node.as_ref(), &server, &worker_args)?;
            let (server_base_kib, _) = proc_status();
            let mut server_watched_kib = 0;
            let mut value =
                procs::run_worker(cmd, &format!("{side} K={k}"), FLEET_DEADLINE, || {
                    server_watched_kib = proc_status().0;
                })?;
            value["server_rss_delta_kib"] =
                json!(server_watched_kib.saturating_sub(server_base_kib));
            value["side"] = json!(side);
            wait_drained(&server)?;
            fleets.push(value);
        }
    }
    let dropped = server.slow_consumer_disconnects();
    server.shutdown();

    let results = json!({
        "echo_ms": echo,
        "server_post_ms": server_post,
        "server_post_watched_ms": server_post_watched,
        "latency": latency,
        "fleets": fleets,
        "slow_consumer_disconnects": dropped,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
    });
    let rows = rows(&results);
    let table = table::markdown(&rows);
    println!("\n{table}");
    println!(
        "{} cores; load average (1, 5, 15 min) before the run {}, after it {}",
        results["cores"],
        load_before,
        results["loadavg_after"].as_str().unwrap_or("?")
    );
    if dropped > 0 {
        println!("warning: the server dropped {dropped} slow sockets during the run");
    }
    let dir = out_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    write("table.md", table)?;
    write(
        "results.json",
        serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?,
    )?;
    draw_chart(&results, &dir.join("latency.svg"))?;
    eprintln!(
        "wrote {}/{{table.md,results.json,latency.svg}}",
        dir.display()
    );
    Ok(())
}

/// The samples under `key` of `value` as floats.
fn samples(value: &Value, key: &str) -> Vec<f64> {
    value[key]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn fleet<'a>(results: &'a Value, side: &str, k: u64) -> Option<&'a Value> {
    results["fleets"]
        .as_array()?
        .iter()
        .find(|f| f["side"] == side && f["k"].as_u64() == Some(k))
}

fn rows(results: &Value) -> Vec<Row> {
    let echo = samples(results, "echo_ms");
    let post = samples(results, "server_post_ms");
    let watched = samples(results, "server_post_watched_ms");
    let echo_p50 = percentile(&echo, 50.0).unwrap_or(f64::NAN);
    let mut rows = vec![
        Row::new("(d) raw tungstenite echo p50 (floor)", Unit::Ms).rust(percentile(&echo, 50.0)),
        Row::new("(d) raw tungstenite echo p99", Unit::Ms).rust(percentile(&echo, 99.0)),
        Row::new("server POST …/message p50 (bare HTTP client)", Unit::Ms)
            .rust(percentile(&post, 50.0))
            .limit(Limit::AtMost(SERVER_POST_P50_MS)),
        Row::new("server POST …/message p99", Unit::Ms).rust(percentile(&post, 99.0)),
        Row::new("server POST p50, 2 raw watchers on the channel", Unit::Ms)
            .rust(percentile(&watched, 50.0))
            .limit(Limit::AtMost(SERVER_POST_P50_MS)),
    ];
    let side = |s: &str| &results["latency"][s];
    let both = |key: &str, f: &dyn Fn(&Value, &str) -> Option<f64>| {
        (f(side("rust"), key), f(side("js"), key))
    };
    let p = |pct: f64| move |v: &Value, key: &str| percentile(&samples(v, key), pct);
    let pair = |row: Row, (r, j): (Option<f64>, Option<f64>)| row.rust(r).js(j);
    let connects = samples(side("rust"), "connect_ms")
        .len()
        .max(samples(side("js"), "connect_ms").len());
    let trips = samples(side("rust"), "rtt_ms")
        .len()
        .max(samples(side("js"), "rtt_ms").len());
    let share = |key: &'static str| {
        move |v: &Value, _: &str| {
            let n = samples(v, "rtt_ms").len() as f64;
            v[key].as_f64().filter(|_| n > 0.0).map(|c| 100.0 * c / n)
        }
    };
    let measured = results["latency"]
        .as_object()
        .is_some_and(|m| !m.is_empty());
    let latency_rows = [
        pair(
            Row::new("(a) connect p50", Unit::Ms).limit(Limit::TimesJs(CONNECT_VS_JS)),
            both("connect_ms", &p(50.0)),
        ),
        pair(
            Row::new("(a) connect p99", Unit::Ms),
            both("connect_ms", &p(99.0)),
        ),
        pair(
            Row::new(
                format!("(a) {connects} sequential connects, wall (with disconnects)"),
                Unit::Ms,
            ),
            both("connect_total_ms", &|v, k| v[k].as_f64()),
        ),
        pair(
            Row::new(
                format!("(b) send→receive p50 ({trips} round trips)"),
                Unit::Ms,
            )
            .limit(Limit::TimesFloor(RTT_VS_ECHO, "echo p50", echo_p50)),
            both("rtt_ms", &p(50.0)),
        ),
        pair(
            Row::new("(b) send→receive p99", Unit::Ms),
            both("rtt_ms", &p(99.0)),
        ),
        pair(
            Row::new("(b) the send call alone (HTTP response) p50", Unit::Ms),
            both("http_ms", &p(50.0)),
        ),
        pair(
            Row::new(
                "(b) receiver's event before the HTTP response",
                Unit::Percent,
            ),
            both("", &share("peer_event_first")),
        ),
        pair(
            Row::new(
                "(b) sender's own event before the HTTP response",
                Unit::Percent,
            ),
            both("", &share("own_event_first")),
        ),
    ];
    if measured {
        rows.extend(latency_rows);
    }

    let mut ks: Vec<u64> = results["fleets"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["k"].as_u64()).collect())
        .unwrap_or_default();
    ks.dedup();
    for k in ks {
        let get = |f: &dyn Fn(&Value) -> Option<f64>| {
            (
                fleet(results, "rust", k).and_then(f),
                fleet(results, "js", k).and_then(f),
            )
        };
        let num = |key: &'static str| move |v: &Value| v[key].as_f64();
        let per_client = |v: &Value| {
            let delta = v["rss_watched_kib"].as_f64()? - v["rss_base_kib"].as_f64()?;
            Some(delta / k as f64)
        };
        let at = |limit: Limit, when: bool| if when { limit } else { Limit::None };
        let c = |text: &str| format!("(c) K={k}: {text}");
        rows.extend([
            pair(
                Row::new(c("connect all"), Unit::Ms),
                get(&num("connect_all_ms")),
            ),
            pair(
                Row::new(c("watch all, until every frame is in"), Unit::Ms)
                    .limit(at(Limit::AtMost(WATCH_AT_1000_MS), k >= 1000)),
                get(&num("watch_all_ms")),
            ),
            pair(
                Row::new(c("RSS per connected watching client"), Unit::KiB)
                    .limit(Limit::TimesJs(BYTES_VS_JS)),
                get(&per_client),
            ),
            pair(
                Row::new(c("process RSS, all connected and watching"), Unit::MiB)
                    .limit(at(Limit::AtMost(RSS_AT_1000_MIB), k == 1000)),
                get(&|v| v["rss_watched_kib"].as_f64().map(|kib| kib / 1024.0)),
            ),
            pair(
                Row::new(c("threads in the process"), Unit::Count)
                    .limit(at(Limit::AtMost(THREADS_AT_1000), k == 1000)),
                get(&num("threads_watched")),
            ),
            pair(
                Row::new(c("fan-out p50, post → each receiver"), Unit::Ms),
                get(&|v| percentile(&samples(v, "fanout_ms"), 50.0)),
            ),
            pair(
                Row::new(c("post → all received p50"), Unit::Ms)
                    .limit(at(Limit::AtMost(TO_ALL_AT_10000_MS), k >= 10_000)),
                get(&|v| percentile(&samples(v, "to_all_ms"), 50.0)),
            ),
            pair(
                Row::new(c("user.watching.start frames received"), Unit::Count),
                get(&num("watching_frames")),
            ),
        ]);
    }
    rows
}

fn draw_chart(results: &Value, path: &std::path::Path) -> Result<(), String> {
    use chart::{FLOOR, JS, Panel, RUST, SERVER, Series, WATCHED};
    let echo = samples(results, "echo_ms");
    let post = samples(results, "server_post_ms");
    let watched = samples(results, "server_post_watched_ms");
    let lat = |side: &str, key: &str| samples(&results["latency"][side], key);
    let (rc, jc) = (lat("rust", "connect_ms"), lat("js", "connect_ms"));
    let (rr, jr) = (lat("rust", "rtt_ms"), lat("js", "rtt_ms"));
    let series = |label: &str, color, samples| Series {
        label: label.to_owned(),
        color,
        samples,
    };
    let mut panels = vec![
        Panel {
            title: "(a) connect_user → connected".into(),
            series: vec![
                series("Rust SDK", RUST, &rc),
                series("JS stream-chat", JS, &jc),
            ],
        },
        Panel {
            title: "(b) send → receive, and the floors".into(),
            series: vec![
                series("Rust SDK round trip", RUST, &rr),
                series("JS round trip", JS, &jr),
                series("server POST …/message", SERVER, &post),
                series("server POST, 2 watchers", WATCHED, &watched),
                series("raw tungstenite echo", FLOOR, &echo),
            ],
        },
    ];
    let fleets: Vec<(String, u64, Vec<f64>)> = results["fleets"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["side"].as_str().unwrap_or("?").to_owned(),
                        f["k"].as_u64().unwrap_or(0),
                        samples(f, "fanout_ms"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut ks: Vec<u64> = fleets.iter().map(|f| f.1).collect();
    ks.dedup();
    for k in ks {
        let lines = fleets
            .iter()
            .filter(|f| f.1 == k)
            .map(|(side, _, s)| {
                let (label, color) = if side == "rust" {
                    ("Rust SDK", RUST)
                } else {
                    ("JS stream-chat", JS)
                };
                series(label, color, s)
            })
            .collect();
        panels.push(Panel {
            title: format!("(c) fan-out, post → each of {k} receivers"),
            series: lines,
        });
    }
    chart::draw(
        path,
        "Rust SDK vs JS stream-chat 9.53.0, one local server (cumulative)",
        &panels,
    )
}
