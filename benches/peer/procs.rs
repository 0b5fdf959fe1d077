//! Processes of the bench: the open-files limit, the pinned JS client (installed on first use
//! like `server/tests/server/interop.rs` does), and the workers, each run with a deadline and
//! killed if the bench stops (a guard on every exit path, and `PR_SET_PDEATHSIG` where the
//! bench itself is killed).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{MARK_WATCHED, RESULT_PREFIX};

/// Upper bound for `npm ci`.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The pinned official client.
pub const JS_CLIENT: &str = "stream-chat@9.53.0";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Raises this process's open-files limit to at least `wanted` (children inherit it):
/// the soft limit up to the hard one, and the hard one too where we may (root).
pub fn raise_open_files(wanted: u64) -> Result<u64, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
    }
    if limit.rlim_cur >= wanted {
        return Ok(limit.rlim_cur);
    }
    let raised = libc::rlimit {
        rlim_cur: wanted.max(limit.rlim_cur),
        rlim_max: wanted.max(limit.rlim_max),
    };
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        return Ok(raised.rlim_cur);
    }
    // not allowed to raise the hard limit: take what the hard limit allows
    let soft = libc::rlimit {
        rlim_cur: limit.rlim_max,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &soft) } != 0 {
        return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
    }
    if soft.rlim_cur < wanted {
        return Err(format!(
            "the open-files limit is {} and may not be raised to {wanted} (run as root, or \
             `ulimit -Hn {wanted}` first, or fewer --clients)",
            soft.rlim_cur
        ));
    }
    Ok(soft.rlim_cur)
}

/// Makes this process die with its parent (Linux), so a killed bench leaves no workers.
pub fn die_with_parent() {
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and nothing else.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}

/// Kills the child when dropped (panics, early returns, deadlines).
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a worker: its stderr goes to ours (progress), its stdout is read line by line:
/// [`MARK_WATCHED`] calls `on_mark`, the [`RESULT_PREFIX`] line is the result; anything
/// else is echoed. Killed after `deadline`.
pub fn run_worker(
    mut cmd: Command,
    what: &str,
    deadline: Duration,
    mut on_mark: impl FnMut(),
) -> Result<Value, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: the closure only calls prctl, which is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = Reaper(
        cmd.spawn()
            .map_err(|e| format!("{what}: could not start {cmd:?}: {e}"))?,
    );
    let stdout = child.0.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let pump = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let until = Instant::now() + deadline;
    let mut result = None;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line == MARK_WATCHED => on_mark(),
            Ok(line) => match line.strip_prefix(RESULT_PREFIX) {
                Some(json) => {
                    result = Some(
                        serde_json::from_str::<Value>(json)
                            .map_err(|e| format!("{what}: bad result line: {e}"))?,
                    )
                }
                None => eprintln!("  [{what}] {line}"),
            },
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!("{what}: still running after {deadline:?}, killed"));
            }
        }
    }
    let status = child.0.wait().map_err(|e| format!("{what}: wait: {e}"))?;
    let _ = pump.join();
    match result {
        Some(value) if status.success() => Ok(value),
        _ => Err(format!("{what}: exited with {status} without a result")),
    }
}

/// Node.js and the folder whose `node_modules` holds the pinned client.
pub struct Node {
    pub node: String,
    pub modules_parent: PathBuf,
}

fn probe(program: &str, arg: &str) -> Option<String> {
    let out = Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The `version` field of `<dir>/node_modules/<package>/package.json`.
fn installed_version(dir: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules").join(package).join("package.json"))
        .ok()?;
    let json: Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_owned)
}

/// Whether `dir/node_modules` holds exactly the versions of `lock` (a package-lock v3).
fn matches_lock(dir: &Path, lock: &Value) -> bool {
    let Some(packages) = lock["packages"].as_object() else {
        return false;
    };
    packages.iter().all(|(path, entry)| {
        let Some(name) = path.strip_prefix("node_modules/") else {
            return true; // the root entry
        };
        installed_version(dir, name).as_deref() == entry["version"].as_str()
    })
}

/// Finds Node.js and the pinned client: `benches/peer/js/node_modules` if installed,
/// else `interop/node_modules` when it holds exactly the versions of our lock file, else
/// `npm ci` into `benches/peer/js` (the npm registry, once).
pub fn node() -> Result<Node, String> {
    const HOW: &str = "install Node.js 18+ with npm (Debian/Ubuntu: apt-get install nodejs npm)";
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
    let npm = std::env::var("NPM").unwrap_or_else(|_| "npm".into());
    let version = probe(&node, "--version").ok_or_else(|| {
        format!("the JS side needs Node.js, but `{node} --version` failed: {HOW}")
    })?;
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if major < 18 {
        return Err(format!("Node.js {version} is too old: {HOW}"));
    }
    let js = repo_root().join("benches/peer/js");
    let lock_text = std::fs::read_to_string(js.join("package-lock.json"))
        .map_err(|e| format!("benches/peer/js/package-lock.json: {e}"))?;
    let lock: Value = serde_json::from_str(&lock_text).map_err(|e| e.to_string())?;
    for dir in [js.clone(), repo_root().join("interop")] {
        if matches_lock(&dir, &lock) {
            return Ok(Node {
                node,
                modules_parent: dir,
            });
        }
    }
    probe(&npm, "--version").ok_or_else(|| format!("`{npm} --version` failed: {HOW}"))?;
    eprintln!("== installing {JS_CLIENT} into benches/peer/js/node_modules (npm ci, first use)");
    let mut cmd = Command::new(&npm);
    cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(&js);
    let status = run_with_deadline(cmd, INSTALL_TIMEOUT)?;
    if !status || !matches_lock(&js, &lock) {
        return Err("npm ci in benches/peer/js did not install the locked packages".into());
    }
    Ok(Node {
        node,
        modules_parent: js,
    })
}

/// Runs `cmd` with inherited output; false on failure, an error (and a kill) past `deadline`.
fn run_with_deadline(mut cmd: Command, deadline: Duration) -> Result<bool, String> {
    cmd.stdin(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| format!("{cmd:?}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let outcome = match rx.recv_timeout(deadline) {
        Ok(status) => status
            .map(|s| s.success())
            .map_err(|e| format!("{cmd:?}: wait: {e}")),
        Err(_) => {
            // SAFETY: kill takes a pid and a signal; the child is not reaped yet (its waiter
            // still waits), so the pid is still ours.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            Err(format!("{cmd:?} still running after {deadline:?}, killed"))
        }
    };
    let _ = waiter.join();
    outcome
}
