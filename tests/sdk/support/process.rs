//! Facts about this process: its threads, and tests that need the process to themselves.
//!
//! All tests of this binary share one process and run in parallel. A test whose assertion
//! is about the whole process (every thread it has, the global `ChatClient::instance()`,
//! every log record, a once-per-process warning) starts with [`own_process!`]: the test
//! then runs this binary again as a child that runs only that test, on one thread, and
//! passes if the child ran it and it passed.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Set in a child to the name of the one test it runs.
const CHILD_VAR: &str = "STREAM_CHAT_TEST_OWN_PROCESS";
/// How long a child may run before the parent kills it and fails.
const CHILD_LIMIT: Duration = Duration::from_secs(300);

/// Runs the enclosing test in a process of its own (see the module documentation): in the
/// child, the test goes on; in the parent, the test returns once the child passed, and
/// fails with the child's output otherwise. Takes the name of the enclosing test function.
macro_rules! own_process {
    ($test:ident) => {
        if !$crate::support::process::in_own_process(module_path!(), stringify!($test)) {
            return;
        }
    };
}
pub(crate) use own_process;

/// True in the child that runs `module::test` (the test goes on); in the parent, runs
/// that child, asserts that it ran the test and the test passed, and returns false.
pub fn in_own_process(module: &str, test: &str) -> bool {
    // `module_path!()` starts with the crate (`sdk::`); libtest names tests without it.
    let name = match module.split_once("::") {
        Some((_, inner)) => format!("{inner}::{test}"),
        None => test.to_owned(),
    };
    if std::env::var(CHILD_VAR).as_deref() == Ok(name.as_str()) {
        return true;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let child = Command::new(exe)
        .args([name.as_str(), "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD_VAR, &name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts again");
    let pid = child.id();
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output: Output = match rx.recv_timeout(CHILD_LIMIT) {
        Ok(output) => output.expect("the child's output"),
        Err(_) => {
            // Our own child, by its id.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{name} in its own process (pid {pid}) still ran after {CHILD_LIMIT:?}");
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let ran = stdout.contains("test result: ok. 1 passed");
    // The child's output is the test's output (shown with --nocapture or on failure).
    eprint!("{stderr}");
    println!("{stdout}");
    assert!(
        output.status.success() && ran,
        "{name} failed in its own process ({}); its output is above",
        output.status
    );
    false
}

/// The names of the SDK's threads in this process, sorted (not the in-process server's
/// `stream-chat-server..`). Fails the test without `/proc`: check [`threads_named`] first.
pub fn sdk_threads() -> Vec<String> {
    let mut names = threads_named("stream-chat-").expect("checked for /proc first");
    names.retain(|n| !n.starts_with("stream-chat-ser"));
    names.sort();
    names
}

/// The visible (15-byte) names of the threads every client of the process shares, started
/// with the first client and kept: the pool (one per CPU, at least 4), two event
/// dispatchers, the timer and the reactor that runs every WebSocket (one per CPU, at
/// most 4).
pub const SHARED_PREFIXES: [&str; 4] = [
    "stream-chat-poo",
    "stream-chat-eve",
    "stream-chat-tim",
    "stream-chat-io",
];

/// The shared threads' names as [`sdk_threads`] lists them once a client was built.
pub fn shared_set() -> Vec<String> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut names = vec!["stream-chat-poo".to_owned(); cpus.max(4)];
    names.extend(vec!["stream-chat-io".to_owned(); cpus.min(4)]);
    names.extend(["stream-chat-eve", "stream-chat-eve", "stream-chat-tim"].map(String::from));
    names.sort();
    names
}

/// The SDK threads of this process that belong to clients (not the shared set), sorted.
pub fn client_threads() -> Vec<String> {
    let mut names = sdk_threads();
    names.retain(|n| !SHARED_PREFIXES.contains(&n.as_str()));
    names
}

/// Names of this process's threads whose name starts with `prefix` (Linux only; `None`
/// elsewhere). Names are cut to 15 bytes: `stream-chat-tim` is the SDK's timer thread.
pub fn threads_named(prefix: &str) -> Option<Vec<String>> {
    let dir = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        dir.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .map(|name| name.trim_end().to_owned())
            .filter(|name| name.starts_with(prefix))
            .collect(),
    )
}

/// A child that ran no test (a misspelt name) fails the parent: `own_process!` cannot pass
/// without running its test.
#[test]
fn a_child_that_runs_no_test_fails_the_parent() {
    let outcome = std::panic::catch_unwind(|| in_own_process(module_path!(), "no_such_test"));
    assert!(outcome.is_err(), "a child that ran nothing passed");
}

/// A test that fails in its own process fails the parent. In the child, the panic below
/// does not carry the expected text, so the child's test fails; the parent's panic does.
#[test]
#[should_panic(expected = "failed in its own process")]
fn a_test_failing_in_its_own_process_fails_the_parent() {
    own_process!(a_test_failing_in_its_own_process_fails_the_parent);
    panic!("the test fails in the child");
}
