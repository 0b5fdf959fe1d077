//! `--data-dir` costs (issue 13; not a test, not run by CI): the real binary on loopback.
//!
//! ```sh
//! cargo bench -p stream-chat-server --bench persistence             # 1,000 sends, 100,000 seeded
//! cargo bench -p stream-chat-server --bench persistence -- 200 10000
//! ```
//!
//! Prints a table: the p50/p99 latency of `POST /channels/messaging/{id}/message` in memory
//! and with `--data-dir` (each write on disk before the answer); then, for a database seeded
//! with N messages (straight into SQLite in one transaction), its size, the time from spawning
//! the binary to its first answer with the newest page, and the server's RSS then (bounded:
//! messages are read page by page, not loaded).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stream_chat_protocol::jwt;
use stream_chat_server::{DEFAULT_API_KEY, DEFAULT_API_SECRET};

const BIN: &str = env!("CARGO_BIN_EXE_stream-chat-server");

struct Proc {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl Proc {
    fn start(dir: Option<&std::path::Path>) -> Proc {
        let mut cmd = Command::new(BIN);
        cmd.args(["--addr", "127.0.0.1:0", "--rate-limits", "off"]);
        if let Some(dir) = dir {
            cmd.arg("--data-dir").arg(dir);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("banner");
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("a URL in the banner")
            .to_owned();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Proc { child, base, agent }
    }

    fn post(&self, path: &str, user: Option<&str>, body: Value) -> Value {
        let secret = DEFAULT_API_SECRET.as_bytes();
        let token = match user {
            Some(id) => jwt::user_token(secret, id, None),
            None => jwt::server_token(secret),
        };
        self.agent
            .post(format!("{}{path}?api_key={DEFAULT_API_KEY}", self.base))
            .header("Authorization", &token)
            .header("stream-auth-type", "jwt")
            .send_json(body)
            .expect("request succeeds")
            .body_mut()
            .read_json()
            .expect("JSON")
    }

    /// Resident set size in KiB (Linux; 0 elsewhere).
    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stream-bench-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// p50 and p99 of `sends` messages posted one at a time, in milliseconds.
fn send_latency(dir: Option<&std::path::Path>, sends: usize) -> (f64, f64) {
    let p = Proc::start(dir);
    p.post("/users", None, json!({"users": {"w": {"id": "w"}}}));
    let data = json!({"data": {"created_by_id": "w", "members": ["w"]}});
    p.post("/channels/messaging/lat/query", None, data);
    let mut ms: Vec<f64> = (0..sends)
        .map(|i| {
            let t = Instant::now();
            let body = json!({"message": {"text": format!("message {i}")}});
            p.post("/channels/messaging/lat/message", Some("w"), body);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
    (at(0.50), at(0.99))
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sends = args.first().copied().unwrap_or(1_000);
    let seeded = args.get(1).copied().unwrap_or(100_000);

    let (mem50, mem99) = send_latency(None, sends);
    let dir = temp_dir("latency");
    let (disk50, disk99) = send_latency(Some(&dir), sends);
    let _ = std::fs::remove_dir_all(&dir);

    let dir = temp_dir("seeded");
    let t = Instant::now();
    stream_chat_server::bench_hooks::seed_messages(&dir, "w", "big", seeded).expect("seed");
    let seed_time = t.elapsed();
    let size: u64 = std::fs::read_dir(&dir)
        .expect("data dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    let t = Instant::now();
    let p = Proc::start(Some(&dir));
    let listening = t.elapsed();
    let page = json!({"state": true, "messages": {"limit": 25}});
    let answer = p.post("/channels/messaging/big/query", Some("w"), page);
    let first_answer = t.elapsed();
    let newest = answer["messages"][24]["id"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    assert_eq!(
        newest,
        format!("seed-{}", seeded - 1),
        "the newest page is served"
    );
    let rss = p.rss_kib();
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);

    println!("| measurement                                    | value |");
    println!("|------------------------------------------------|-------|");
    println!("| send p50, in memory ({sends} sends)             | {mem50:.2} ms |");
    println!("| send p99, in memory                            | {mem99:.2} ms |");
    println!("| send p50, --data-dir (SQLite, synchronous=FULL) | {disk50:.2} ms |");
    println!("| send p99, --data-dir                           | {disk99:.2} ms |");
    println!(
        "| database with {seeded} messages (seeded in {:.1} s) | {:.1} MB |",
        seed_time.as_secs_f64(),
        size as f64 / 1e6
    );
    println!(
        "| restart: spawn to listening                    | {:.0} ms |",
        listening.as_secs_f64() * 1e3
    );
    println!(
        "| restart: spawn to the newest page answered     | {:.0} ms |",
        first_answer.as_secs_f64() * 1e3
    );
    println!(
        "| server RSS after restart and one page          | {:.1} MB |",
        rss as f64 / 1024.0
    );
}
