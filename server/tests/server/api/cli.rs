//! The binary's newcomer surface: `token USER [--exp SECS]`, `--version`, the default secret in
//! `--help`, and the start banner (URL, key, secret, a sample token that works).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use stream_chat_protocol::jwt::{self, VerifyOptions};
use stream_chat_server::{DEFAULT_API_KEY, DEFAULT_API_SECRET};

use crate::support::{Auth, Env, WITHIN, now};

const BIN: &str = env!("CARGO_BIN_EXE_stream-chat-server");

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The token printed by `stream-chat-server token ARGS..`, checked to be alone on stdout.
fn token(args: &[&str]) -> String {
    let mut all = vec!["token"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    assert_eq!(
        stdout.lines().count(),
        1,
        "only the token on stdout: {stdout:?}"
    );
    stdout.trim_end().to_owned()
}

#[test]
fn version_prints_the_package_version() {
    for flag in ["--version", "-V"] {
        let (code, stdout, _) = run(&[flag]);
        assert_eq!(code, Some(0));
        assert_eq!(
            stdout,
            format!("stream-chat-server {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn help_shows_the_default_secret_and_the_token_subcommand() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains(DEFAULT_API_SECRET), "{stdout}");
    assert!(stdout.contains(DEFAULT_API_KEY), "{stdout}");
    assert!(stdout.contains("token USER [--exp SECS]"), "{stdout}");
    assert!(stdout.contains("--version"), "{stdout}");
}

#[test]
fn token_is_accepted_by_a_server_with_the_default_secret() {
    let env = Env::start();
    assert_eq!(env.server.api_secret(), DEFAULT_API_SECRET);
    let token = token(&["bender"]);
    let claims = jwt::verify(
        &token,
        DEFAULT_API_SECRET.as_bytes(),
        now(),
        &VerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(claims.user_id.as_deref(), Some("bender"));
    assert_eq!(claims.exp, None);
    // The JS client decodes the payload with standard base64: no '-' or '_' in it.
    assert!(!token.split('.').nth(1).unwrap().contains(['-', '_']));
    let (status, body) = env.call(
        "POST",
        "/users",
        Auth::Token(&token),
        Some(serde_json::json!({"users": {"bender": {"id": "bender", "name": "Bender"}}})),
    );
    assert!((200..300).contains(&status), "{status}: {body}");
    assert_eq!(body["users"]["bender"]["name"], "Bender", "{body}");
}

#[test]
fn token_exp_and_secret_options() {
    let before = now();
    let minted = token(&["fry", "--exp", "3600", "--api-secret", "my-secret"]);
    let claims = jwt::verify(&minted, b"my-secret", now(), &VerifyOptions::default()).unwrap();
    assert_eq!(claims.user_id.as_deref(), Some("fry"));
    let exp = claims.exp.expect("--exp sets exp");
    assert!((before + 3600..=now() + 3600).contains(&exp), "{exp}");
    assert!(
        jwt::verify(
            &minted,
            DEFAULT_API_SECRET.as_bytes(),
            now(),
            &VerifyOptions::default()
        )
        .is_err()
    );
    // `--flag=value` works as everywhere else.
    let same_user = token(&["--exp=60", "fry"]);
    assert_eq!(
        jwt::decode_unverified(&same_user)
            .unwrap()
            .user_id
            .as_deref(),
        Some("fry")
    );
}

#[test]
fn token_bad_input_fails_with_its_usage() {
    for args in [
        &["token"][..],
        &["token", "a", "b"],
        &["token", "a", "--exp"],
        &["token", "a", "--exp", "0"],
        &["token", "a", "--exp", "soon"],
        &["token", "a", "--api-secret", ""],
        &["token", "a", "--bogus"],
        &["token", ""],
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stdout.is_empty(), "{args:?}: no token on stdout");
        assert!(stderr.starts_with("error: token:"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("stream-chat-server token USER"),
            "{args:?}: {stderr}"
        );
    }
}

/// A running binary, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on a free port and returns its banner (the lines up to `dev tokens:`).
fn banner(flags: &[&str]) -> (Running, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0"])
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(WITHIN)
            .expect("the banner ends with `dev tokens:`");
        let last = line.trim_start().starts_with("dev tokens:");
        lines.push(line);
        if last {
            return (running, lines);
        }
    }
}

fn field<'a>(lines: &'a [String], name: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(name))
        .unwrap_or_else(|| panic!("no `{name}` line in {lines:#?}"))
        .trim()
}

#[test]
fn banner_shows_url_key_secret_and_a_sample_token_the_server_accepts() {
    let (_server, lines) = banner(&[]);
    let first = &lines[0];
    assert!(
        first.starts_with("stream-chat-server listening on http://127.0.0.1:"),
        "{first}"
    );
    let url = field(&lines, "url:")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(first.contains(&url), "{lines:#?}");
    assert_eq!(field(&lines, "api key:"), DEFAULT_API_KEY);
    assert_eq!(field(&lines, "dashboard:"), format!("{url}/dashboard"));
    assert!(
        field(&lines, "api secret:").starts_with(DEFAULT_API_SECRET),
        "{lines:#?}"
    );
    assert!(
        field(&lines, "dev tokens:").starts_with("refused"),
        "{lines:#?}"
    );
    let sample = field(&lines, "sample token:").to_owned();
    let claims = jwt::decode_unverified(&sample).unwrap();
    let user = claims.user_id.unwrap();

    // The sample token works against this very server.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WITHIN))
        .build()
        .into();
    let payload = crate::support::encode(&format!(r#"{{"filter_conditions":{{"id":"{user}"}}}}"#));
    let response = agent
        .get(&format!(
            "{url}/users?api_key={DEFAULT_API_KEY}&payload={payload}"
        ))
        .header("Authorization", &sample)
        .header("stream-auth-type", "jwt")
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[test]
fn banner_hides_a_custom_secret_and_reports_dev_tokens() {
    let (_server, lines) = banner(&["--api-secret", "not-for-your-eyes", "--disable-auth-checks"]);
    let text = lines.join("\n");
    assert!(!text.contains("not-for-your-eyes"), "{text}");
    assert!(
        field(&lines, "dev tokens:").starts_with("accepted"),
        "{text}"
    );
    assert!(
        text.contains("--api-secret SECRET"),
        "says how to mint more tokens: {text}"
    );
    let sample = field(&lines, "sample token:");
    assert!(
        jwt::verify(
            sample,
            b"not-for-your-eyes",
            now(),
            &VerifyOptions::default()
        )
        .is_ok()
    );
}

#[test]
fn the_local_server_guide_shows_the_banner_the_binary_prints() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/local-server.md"),
    )
    .unwrap();
    let running = page
        .split("## Running it")
        .nth(1)
        .expect("docs/local-server.md has a `## Running it` section");
    assert!(
        running.starts_with("\n\n```sh\ncargo run -p stream-chat-server\n```"),
        "the section starts the server with its defaults"
    );
    let shown = running
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("a ```text block with the banner");
    let (_server, lines) = banner(&[]);
    let url = field(&lines, "url:").split_whitespace().next().unwrap();
    let port = url.rsplit(':').next().unwrap();
    let expected: Vec<String> = shown
        .lines()
        .map(|l| l.replace("127.0.0.1:3031", &format!("127.0.0.1:{port}")))
        .collect();
    assert_eq!(lines, expected, "update the banner in docs/local-server.md");
}

/// The README's "started by hand" command and the snippet under it fit together: the server
/// that command starts knows the snippet's key and accepts the development token it sends,
/// at the snippet's URL (the default port; here a free one instead, as 3031 may be taken).
#[test]
fn readme_hand_started_server_serves_the_readme_snippet() {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    let section = readme
        .split("**With a server started by hand**")
        .nth(1)
        .expect("README has the hand-started section");
    let command = section
        .lines()
        .find(|l| l.starts_with("cargo run -p stream-chat-server"))
        .expect("the command to start the server");
    let flags: Vec<&str> = command
        .split_once(" -- ")
        .map(|(_, flags)| flags.split_whitespace().collect())
        .unwrap_or_default();
    let snippet = section
        .split("```rust")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("the Rust snippet after the command");
    let quoted = |after: &str| {
        let start = snippet
            .find(after)
            .unwrap_or_else(|| panic!("{after} in {snippet}"))
            + after.len();
        snippet[start..].split('"').next().unwrap().to_owned()
    };
    let key = quoted("ChatClient::builder(\"");
    let url = quoted(".base_url(\"");
    assert_eq!(
        url,
        format!("http://127.0.0.1:{}", stream_chat_server::DEFAULT_PORT)
    );
    assert!(
        snippet.contains("client.dev_token(\"bender\")"),
        "{snippet}"
    );

    let (_server, lines) = banner(&flags);
    assert_eq!(field(&lines, "api key:"), key, "{lines:#?}");
    assert!(
        field(&lines, "dev tokens:").starts_with("accepted"),
        "{lines:#?}"
    );
    let base = field(&lines, "url:").split_whitespace().next().unwrap();
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let tcp = std::net::TcpStream::connect_timeout(&addr, WITHIN).unwrap();
    tcp.set_read_timeout(Some(WITHIN)).unwrap();
    let json = crate::support::encode(
        r#"{"user_id":"bender","user_details":{"id":"bender","name":"Bender"}}"#,
    );
    let token = jwt::dev_token("bender");
    let ws_url = format!(
        "ws://{addr}/connect?json={json}&api_key={key}&authorization={token}&stream-auth-type=jwt"
    );
    let (mut ws, _) = tungstenite::client(ws_url, tcp).unwrap();
    let first = ws.read().unwrap();
    let first = first.to_text().unwrap();
    assert!(first.contains("\"health.check\""), "{first}");
    assert!(first.contains("\"connection_id\""), "{first}");
}
