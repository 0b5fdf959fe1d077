//! Interop tests: the **official** Stream clients, unmodified, against the real
//! `stream-chat-server` binary.
//!
//! * `official_js_client` runs `node --test` on `interop/js/*.test.mjs` (npm `stream-chat@9.53.0`).
//! * `official_python_client` runs `pytest` on `interop/py` (PyPI `stream-chat==4.33.0`).
//!
//! On first use the pinned packages are installed into ignored folders (`npm ci` into
//! `interop/node_modules`, a venv in `interop/.venv`); a marker file `interop/.installed-*` keyed on
//! the lock/requirements content (and the tool version) lets later runs skip the install. Each
//! suite starts a fresh server per test from `STREAM_CHAT_SERVER_BIN`, which this file points at
//! the binary cargo built for this package.
//!
//! A missing Node.js/npm or Python is a failure that says what to install. The only way to skip is
//! the explicit opt-out `STREAM_CHAT_SKIP_INTEROP=1`, which prints a loud notice.
//! Run with `-- --nocapture` to watch the suites' output live.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

const SKIP_VAR: &str = "STREAM_CHAT_SKIP_INTEROP";
/// Upper bound for one install step (npm ci, venv, pip install).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Upper bound for one whole suite; each test inside has its own, much shorter timeouts.
const SUITE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Environment variables that would redirect the official clients away from our server.
const SCRUBBED_ENV: &[&str] = &[
    "STREAM_LOCAL_TEST_RUN",
    "STREAM_LOCAL_TEST_HOST",
    "STREAM_CHAT_URL",
    "STREAM_CHAT_TIMEOUT",
    "STREAM_KEY",
    "STREAM_SECRET",
];

/// Serialises installs and suite runs between the test threads of this process: both suites
/// start servers and install packages, and the machine may have only two cores.
static INTEROP_LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    // a panicking suite must not poison the other one
    INTEROP_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ lives inside the workspace")
        .to_path_buf()
}

fn interop_dir() -> PathBuf {
    repo_root().join("interop")
}

fn server_binary() -> PathBuf {
    match option_env!("CARGO_BIN_EXE_stream-chat-server") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "cargo did not build a `stream-chat-server` binary for this package \
             (server/src/main.rs missing?); the interop suites need it"
        ),
    }
}

/// Returns true (after a loud notice) when the user opted out.
fn skipped(suite: &str) -> bool {
    let value = std::env::var(SKIP_VAR).unwrap_or_default();
    if value.is_empty() || value == "0" {
        return false;
    }
    let notice = format!(
        "\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! {SKIP_VAR}={value}: the {suite} interop suite was NOT run.\n\
         !! The official client was not checked against the server.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    // straight to the process's stderr so the notice shows even though the test passes
    let _ = std::io::stderr().write_all(notice.as_bytes());
    true
}

/// Output of a finished child process, interleaved stdout/stderr lines.
struct Outcome {
    status: ExitStatus,
    output: String,
}

/// Run `cmd`, echoing each output line (captured by the test harness unless `--nocapture`), and
/// kill it if it outlives `timeout`.
fn run(mut cmd: Command, what: &str, timeout: Duration) -> Outcome {
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    eprintln!("== interop: {what}: {cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: could not start {cmd:?}: {e}"));

    let (tx, rx) = mpsc::channel::<String>();
    let pumps: Vec<_> = [
        Box::new(child.stdout.take().expect("piped stdout")) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().expect("piped stderr")),
    ]
    .into_iter()
    .map(|stream| {
        let tx = tx.clone();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                match line {
                    Ok(line) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        })
    })
    .collect();
    drop(tx);

    let deadline = std::time::Instant::now() + timeout;
    let mut output = String::new();
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                eprintln!("{line}");
                output.push_str(&line);
                output.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                let _ = child.kill();
                break;
            }
        }
    }
    let status = child
        .wait()
        .unwrap_or_else(|e| panic!("{what}: wait failed: {e}"));
    for p in pumps {
        let _ = p.join();
    }
    for line in rx.try_iter() {
        output.push_str(&line);
        output.push('\n');
    }
    if timed_out {
        panic!(
            "{what}: still running after {timeout:?}, killed.\n--- output ---\n{output}--- end ---"
        );
    }
    Outcome { status, output }
}

fn require_success(outcome: &Outcome, what: &str) {
    if !outcome.status.success() {
        panic!(
            "{what} failed ({}).\n--- output ---\n{}--- end ---",
            outcome.status, outcome.output
        );
    }
}

/// `tool --version`-style probe: Some(trimmed stdout) if the program runs.
fn probe(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Leading numeric components of a version string such as `v20.11.1` or `Python 3.11.7`.
fn version_numbers(v: &str) -> Vec<u32> {
    v.trim_start_matches(|c: char| !c.is_ascii_digit())
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map_while(|p| p.parse().ok())
        .collect()
}

/// FNV-1a 64: a stable content key for the install markers (no hashing crate needed).
fn content_key(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(&[0xffu8]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn marker_matches(marker: &Path, key: &str) -> bool {
    std::fs::read_to_string(marker).is_ok_and(|s| s.trim() == key)
}

fn write_marker(marker: &Path, key: &str) {
    std::fs::write(marker, format!("{key}\n"))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
}

// ---------------------------------------------------------------------------------------------
// JavaScript: npm stream-chat@9.53.0
// ---------------------------------------------------------------------------------------------

struct Node {
    node: String,
    npm: String,
    version: String,
    major: u32,
    minor: u32,
}

fn find_node() -> Node {
    const HOW: &str = "install Node.js 18+ with npm (Debian/Ubuntu: apt-get install nodejs npm; \
                       or https://nodejs.org), or set STREAM_CHAT_SKIP_INTEROP=1 to skip loudly";
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
    let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".into());
    let version = probe(&node, &["--version"]).unwrap_or_else(|| {
        panic!("the JS interop suite needs Node.js, but `{node} --version` did not run: {HOW}")
    });
    let v = version_numbers(&version);
    let (major, minor) = (
        v.first().copied().unwrap_or(0),
        v.get(1).copied().unwrap_or(0),
    );
    assert!(
        major >= 18,
        "Node.js {version} is too old for stream-chat@9.53.0 and `node --test`: {HOW}"
    );
    probe(&npm, &["--version"]).unwrap_or_else(|| {
        panic!("the JS interop suite needs npm, but `{npm} --version` did not run: {HOW}")
    });
    Node {
        node,
        npm,
        version,
        major,
        minor,
    }
}

fn install_js(node: &Node) {
    let dir = interop_dir();
    let key = content_key(&[
        &read(&dir.join("package.json")),
        &read(&dir.join("package-lock.json")),
        node.version.as_bytes(),
    ]);
    let marker = dir.join(".installed-npm");
    let installed = dir.join("node_modules/stream-chat/package.json");
    if marker_matches(&marker, &key) && installed.exists() {
        return;
    }
    if shared_install(&dir.join("node_modules"), &installed) {
        return;
    }
    let _ = std::fs::remove_file(&marker);
    let mut cmd = Command::new(&node.npm);
    cmd.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir);
    let outcome = run(cmd, "npm ci (interop/node_modules)", INSTALL_TIMEOUT);
    require_success(&outcome, "npm ci in interop/");
    let pkg = String::from_utf8_lossy(&read(&installed)).to_string();
    assert!(
        pkg.contains("\"version\": \"9.53.0\""),
        "npm ci did not install stream-chat 9.53.0:\n{pkg}"
    );
    write_marker(&marker, &key);
}

/// Whether `dir` is a symlink to another checkout's install (a git worktree sharing main's
/// `node_modules` or `.venv`): it is used as it is when `probe` exists there, and never
/// reinstalled through the link, which would wipe the other checkout's copy.
fn shared_install(dir: &Path, probe: &Path) -> bool {
    let linked = std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
    if linked {
        assert!(
            probe.exists(),
            "{} is a symlink to an install that lacks {}: install there, or replace the link \
             with a directory of its own",
            dir.display(),
            probe.display()
        );
    }
    linked
}

fn js_test_files() -> Vec<PathBuf> {
    let dir = interop_dir().join("js");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".test.mjs") || n.ends_with(".test.cjs"))
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no *.test.mjs files in {}",
        dir.display()
    );
    files
}

/// Whether the JS interop parts of other tests are skipped (`STREAM_CHAT_SKIP_INTEROP`,
/// after the loud notice naming `what`).
pub(crate) fn js_skipped(what: &str) -> bool {
    skipped(what)
}

/// Runs the script `interop/js/<script>` with Node.js and the official client (installed as
/// for the suite), with `args` and `env`; its output lines (stdout and stderr interleaved).
/// A failed or hung script fails the test with its output.
pub(crate) fn run_js_script(
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> String {
    let node = {
        let _guard = lock();
        let node = find_node();
        install_js(&node);
        node
    };
    let mut cmd = Command::new(&node.node);
    cmd.arg(interop_dir().join("js").join(script))
        .args(args)
        .current_dir(interop_dir())
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let what = format!("node interop/js/{script} {}", args.join(" "));
    let outcome = run(cmd, &what, timeout);
    require_success(&outcome, &what);
    outcome.output
}

#[test]
fn official_js_client() {
    if skipped("JS (npm stream-chat@9.53.0)") {
        return;
    }
    let _guard = lock();
    let node = find_node();
    install_js(&node);
    let bin = server_binary();

    let mut cmd = Command::new(&node.node);
    cmd.arg("--test");
    // the spec reporter is readable in captured logs; it exists from Node 18.15 on
    if node.major > 18 || node.minor >= 15 {
        cmd.arg("--test-reporter=spec");
    }
    // stream-chat@9.53.0 leaves its 15 s connect-timeout timer (connection.ts `_waitForHealthy`)
    // armed after a successful connect, which keeps each test file's process alive for 15 s
    // after its last test; exit as soon as the tests are done where Node supports it.
    if node.major > 20 || (node.major == 20 && node.minor >= 14) {
        cmd.arg("--test-force-exit");
    }
    cmd.args(js_test_files())
        .current_dir(interop_dir())
        .env("STREAM_CHAT_SERVER_BIN", &bin)
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0");
    let outcome = run(cmd, "node --test interop/js", SUITE_TIMEOUT);
    report(&outcome, "JS interop suite (node --test interop/js)", |l| {
        let t = l.trim_start();
        t.starts_with('✖') || t.starts_with("not ok")
    });
}

// ---------------------------------------------------------------------------------------------
// Python: PyPI stream-chat==4.33.0
// ---------------------------------------------------------------------------------------------

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

fn find_python() -> (String, String) {
    const HOW: &str = "install Python 3.8+ with venv (Debian/Ubuntu: apt-get install python3 \
                       python3-venv), or set STREAM_CHAT_SKIP_INTEROP=1 to skip loudly";
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let version = probe(&python, &["--version"]).unwrap_or_else(|| {
        panic!(
            "the Python interop suite needs Python 3, but `{python} --version` did not run: {HOW}"
        )
    });
    let v = version_numbers(&version);
    assert!(
        v.first() == Some(&3) && v.get(1).copied().unwrap_or(0) >= 8,
        "{python} is {version}; stream-chat==4.33.0 needs Python 3.8+: {HOW}"
    );
    probe(&python, &["-c", "import venv, ensurepip"])
        .unwrap_or_else(|| panic!("{python} ({version}) lacks the venv/ensurepip modules: {HOW}"));
    (python, version)
}

fn install_python(python: &str, version: &str) -> PathBuf {
    let dir = interop_dir();
    let venv = dir.join(".venv");
    let py = venv_python(&venv);
    let key = content_key(&[&read(&dir.join("requirements.txt")), version.as_bytes()]);
    let marker = dir.join(".installed-venv");
    if marker_matches(&marker, &key) && py.exists() {
        return py;
    }
    if shared_install(&venv, &py) {
        return py;
    }
    let _ = std::fs::remove_file(&marker);
    let mut cmd = Command::new(python);
    cmd.args(["-m", "venv", "--clear"]).arg(&venv);
    require_success(
        &run(cmd, "python3 -m venv interop/.venv", INSTALL_TIMEOUT),
        "creating interop/.venv",
    );
    let mut cmd = Command::new(&py);
    cmd.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
        "-r",
    ])
    .arg(dir.join("requirements.txt"));
    require_success(
        &run(
            cmd,
            "pip install -r interop/requirements.txt",
            INSTALL_TIMEOUT,
        ),
        "pip install -r interop/requirements.txt",
    );
    let check = probe(
        py.to_str().expect("utf-8 path"),
        &[
            "-c",
            "import importlib.metadata as m, stream_chat, pytest; print(m.version(\"stream-chat\"))",
        ],
    );
    assert_eq!(
        check.as_deref(),
        Some("4.33.0"),
        "interop/.venv does not hold stream-chat 4.33.0 and pytest"
    );
    write_marker(&marker, &key);
    py
}

#[test]
fn official_python_client() {
    if skipped("Python (PyPI stream-chat==4.33.0)") {
        return;
    }
    let _guard = lock();
    let (python, version) = find_python();
    let py = install_python(&python, &version);
    let bin = server_binary();

    let mut cmd = Command::new(&py);
    cmd.args(["-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"])
        .arg(interop_dir().join("py"))
        .current_dir(repo_root())
        .env("STREAM_CHAT_SERVER_BIN", &bin)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    let outcome = run(cmd, "pytest interop/py", SUITE_TIMEOUT);
    report(&outcome, "Python interop suite (pytest interop/py)", |l| {
        l.starts_with("FAILED") || l.starts_with("ERROR")
    });
}

/// Fail with the failing test names up front and the whole output below.
fn report(outcome: &Outcome, what: &str, is_failure_line: impl Fn(&str) -> bool) {
    if outcome.status.success() {
        return;
    }
    let mut summary = String::new();
    for line in outcome.output.lines().filter(|l| is_failure_line(l)) {
        let _ = writeln!(summary, "  {}", line.trim());
    }
    panic!(
        "{what} failed ({}).\nfailing:\n{summary}--- full output ---\n{}--- end ---",
        outcome.status, outcome.output
    );
}
