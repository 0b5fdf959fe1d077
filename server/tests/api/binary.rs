//! The `stream-chat-server` binary: `--help`, bad arguments, and the first stdout line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::common::WITHIN;

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
    ] {
        assert!(text.contains(flag), "{flag} missing from --help");
    }
    assert!(
        !text.contains(stream_chat_server::DEFAULT_API_SECRET),
        "help never prints the secret"
    );
}

#[test]
fn bad_arguments_fail_with_a_message() {
    for args in [
        &["--bogus"][..],
        &["--addr", "not-an-addr"],
        &["--health-check-interval", "-1"],
        &["--api-key"],
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
    let json = crate::common::encode(r#"{"user_id":"alice","user_details":{"id":"alice"}}"#);
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
