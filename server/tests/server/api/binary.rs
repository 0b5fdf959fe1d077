//! The `stream-chat-server` binary: `--help`, bad arguments, and the first stdout line.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use crate::support::WITHIN;

const BIN: &str = env!("CARGO_BIN_EXE_stream-chat-server");

#[test]
fn help_lists_the_flags() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--api-key",
        "--api-secret",
        "--disable-auth-checks",
        "--multi-tenant",
        "--health-check-interval",
        "--max-queued-frames",
        "--exit-on-stdin-close",
        // Issue 15.
        "--header-timeout",
        "--body-timeout",
        "--idle-timeout",
        "--max-connections",
        "--rate-limits",
        // Issue 13.
        "--data-dir",
        "--import",
        "--export-on-exit",
        "--dashboard-public",
    ] {
        assert!(text.contains(flag), "{flag} missing from --help");
    }
    // The default secret is a public development value: --help shows it (see cli.rs).
}

#[test]
fn bad_arguments_fail_with_a_message() {
    for args in [
        &["--bogus"][..],
        &["--addr", "not-an-addr"],
        &["--health-check-interval", "-1"],
        &["--max-queued-frames", "0"],
        &["--max-queued-frames", "lots"],
        &["--api-key"],
        // Issue 15.
        &["--header-timeout", "0"],
        &["--body-timeout", "soon"],
        &["--idle-timeout", "-3"],
        &["--max-connections", "0"],
        &["--rate-limits", "sometimes"],
        &["--rate-limits", "0"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("error:"),
            "{args:?}"
        );
    }
}

#[test]
fn first_stdout_line_is_the_base_url() {
    let mut child = Command::new(BIN)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--api-key",
            "bin-key",
            "--api-secret",
            "bin-secret",
            "--health-check-interval",
            "1",
        ])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("URL on the first line")
        .to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WITHIN))
        .build()
        .into();
    let status = agent
        .get(&format!("{url}/hi"))
        .call()
        .unwrap()
        .status()
        .as_u16();
    let unauthorized = agent
        .post(&format!("{url}/channels?api_key=bin-key"))
        .send_empty()
        .unwrap()
        .status()
        .as_u16();
    // A real token over REST and WebSocket must not show up in the (trace-level) logs.
    let token = stream_chat_protocol::jwt::user_token(b"bin-secret", "alice", None);
    let authorized = agent
        .post(&format!("{url}/channels?api_key=bin-key"))
        .header("Authorization", &token)
        .send_empty()
        .unwrap()
        .status()
        .as_u16();
    let addr = url.trim_start_matches("http://").parse().unwrap();
    let tcp = std::net::TcpStream::connect_timeout(&addr, WITHIN).unwrap();
    let json = crate::support::encode(r#"{"user_id":"alice","user_details":{"id":"alice"}}"#);
    let ws_url = format!(
        "ws://{addr}/connect?json={json}&api_key=bin-key&authorization={token}&stream-auth-type=jwt"
    );
    let (mut ws, _) = tungstenite::client(ws_url, tcp).unwrap();
    let first = ws.read().unwrap();
    assert!(first.to_text().unwrap().contains("health.check"));
    ws.close(None).unwrap();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(status, 200);
    assert_eq!(unauthorized, 401);
    assert_eq!(authorized, 200);
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(
        logs.contains("websocket connected"),
        "trace logs are on: {logs}"
    );
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature), "logs never contain a token");
    assert!(
        !logs.contains("bin-secret"),
        "logs never contain the secret"
    );
}

/// A spawned server: its first stdout line (the URL), its pid, and the rest of its stdout.
/// Kills the server by pid if a test ends while it still runs.
pub(crate) struct Spawned {
    pub(crate) url: String,
    pub(crate) pid: u32,
    /// Receives once the server's stdout reaches end-of-file (it exited).
    stdout_closed: std::sync::mpsc::Receiver<()>,
}

impl Spawned {
    /// Reads stdout lines until the URL line and, for a shell wrapper, the `pid N` line.
    fn from(stdout: std::process::ChildStdout, pid: Option<u32>) -> Spawned {
        let (lines_tx, lines) = std::sync::mpsc::channel();
        let (closed_tx, stdout_closed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
            let _ = closed_tx.send(());
        });
        let (mut url, mut pid) = (None, pid);
        while url.is_none() || pid.is_none() {
            let line = lines
                .recv_timeout(WITHIN)
                .expect("the server prints its URL");
            if let Some(p) = line.strip_prefix("pid ") {
                pid = p.trim().parse().ok();
            } else if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                url = Some(u.to_owned());
            }
        }
        Spawned {
            url: url.unwrap(),
            pid: pid.unwrap(),
            stdout_closed,
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.url.trim_start_matches("http://").parse().unwrap()
    }

    /// Whether the server exits (closes its stdout) within [`WITHIN`].
    fn exits(&self) -> bool {
        self.stdout_closed.recv_timeout(WITHIN).is_ok()
    }

    /// Opens a WebSocket as alice.
    fn connect(&self) -> tungstenite::WebSocket<std::net::TcpStream> {
        let tcp = std::net::TcpStream::connect_timeout(&self.addr(), WITHIN).unwrap();
        tcp.set_read_timeout(Some(WITHIN)).unwrap();
        let token = stream_chat_protocol::jwt::user_token(
            stream_chat_server::DEFAULT_API_SECRET.as_bytes(),
            "alice",
            None,
        );
        let json = crate::support::encode(r#"{"user_id":"alice","user_details":{"id":"alice"}}"#);
        let url = format!(
            "ws://{}/connect?json={json}&api_key={}&authorization={token}",
            self.addr(),
            stream_chat_server::DEFAULT_API_KEY
        );
        let (mut ws, _) = tungstenite::client(url, tcp).unwrap();
        assert!(
            ws.read()
                .unwrap()
                .to_text()
                .unwrap()
                .contains("health.check")
        );
        ws
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // Empty: stdout is still open, so the server still runs.
        if let Err(std::sync::mpsc::TryRecvError::Empty) = self.stdout_closed.try_recv() {
            let _ = Command::new("kill")
                .args(["-KILL", &self.pid.to_string()])
                .status();
        }
    }
}

/// Reads until the server closes the socket and answers its close frame; returns the code.
fn close_code(ws: &mut tungstenite::WebSocket<std::net::TcpStream>) -> Option<u16> {
    let mut code = None;
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Close(frame)) => code = frame.map(|f| u16::from(f.code)),
            Ok(_) => {}
            // Reading on after the close frame sends our reply; then the connection ends.
            Err(_) => return code,
        }
    }
}

fn port_is_free(addr: std::net::SocketAddr) -> bool {
    std::net::TcpStream::connect_timeout(&addr, WITHIN).is_err()
}

/// Starts the binary on a free port with `flags`, stdout piped (read by [`Spawned`]).
pub(crate) fn spawn(flags: &[&str], stdin: Stdio, stderr: Stdio) -> (Child, Spawned) {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0"])
        .args(flags)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let server = Spawned::from(child.stdout.take().unwrap(), Some(child.id()));
    (child, server)
}

#[test]
fn exit_on_stdin_close_shuts_down_cleanly_when_stdin_closes() {
    let (mut child, server) = spawn(&["--exit-on-stdin-close"], Stdio::piped(), Stdio::piped());
    let mut ws = server.connect();
    // Writing to stdin is harmless; closing it stops the server.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"anything\n").unwrap();
    stdin.flush().unwrap();
    assert!(ws.send(tungstenite::Message::text("[]")).is_ok());
    drop(stdin);
    assert_eq!(
        close_code(&mut ws),
        Some(1001),
        "sockets are closed cleanly"
    );
    assert!(server.exits(), "the server exits once stdin is closed");
    assert!(child.wait().unwrap().success());
    assert!(port_is_free(server.addr()));
    assert!(logs(child.stderr.take()).contains("stdin closed: shutting down"));
}

/// Everything the (exited) server wrote to stderr.
fn logs(stderr: Option<std::process::ChildStderr>) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stderr.unwrap(), &mut text).unwrap();
    text
}

#[test]
fn without_the_flag_a_closed_stdin_changes_nothing() {
    let (mut child, server) = spawn(&[], Stdio::null(), Stdio::null());
    // Still serving after its (empty) stdin was read to the end.
    let mut ws = server.connect();
    ws.send(tungstenite::Message::text("[]")).unwrap();
    assert!(
        ws.read()
            .unwrap()
            .to_text()
            .unwrap()
            .contains("health.check")
    );
    assert!(child.try_wait().unwrap().is_none());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[cfg(unix)]
#[test]
fn exit_on_stdin_close_shuts_down_when_the_parent_dies() {
    // A shell starts the server with the test's stdin pipe (kept open here) and is killed.
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(r#"exec 3<&0; "$0" --addr 127.0.0.1:0 --exit-on-stdin-close <&3 3<&- & echo "pid $!"; wait"#)
        .arg(BIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin_stays_open = shell.stdin.take().unwrap();
    let server = Spawned::from(shell.stdout.take().unwrap(), None);
    let mut ws = server.connect();
    shell.kill().unwrap();
    shell.wait().unwrap();
    assert_eq!(close_code(&mut ws), Some(1001));
    assert!(server.exits(), "the orphaned server exits");
    assert!(port_is_free(server.addr()));
    assert!(logs(shell.stderr.take()).contains("parent process exited: shutting down"));
}

#[cfg(unix)]
#[test]
fn sigterm_closes_sockets_and_exits_successfully() {
    let (mut child, server) = spawn(&[], Stdio::inherit(), Stdio::piped());
    let mut ws = server.connect();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(close_code(&mut ws), Some(1001));
    assert!(server.exits());
    assert!(child.wait().unwrap().success());
    assert!(port_is_free(server.addr()));
    assert!(logs(child.stderr.take()).contains("SIGTERM: shutting down"));
}
