//! The dashboard (issue 13) in a real browser: Debian's `chromium`, headless. `--dump-dom`
//! for the page as rendered, the DevTools protocol (over a WebSocket) for the live parts: a
//! connection and a message appear without a reload, and the kick button closes a client's
//! socket. Without chromium these tests fail, saying how to install it, unless
//! `STREAM_CHAT_SKIP_BROWSER=1`. Plus the access rules, over plain HTTP.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stream_chat_server::{DEFAULT_API_SECRET, KICK_CLOSE_CODE, Server};
use tungstenite::{Message, WebSocket};

use crate::support::{Auth, Env};

const CHROMIUM: &str = "chromium";
/// How long the browser gets to start, load a page or see a change.
const BROWSER_WITHIN: Duration = Duration::from_secs(20);

/// Whether to run the browser tests: chromium is installed, or the test fails with how to
/// install it; `STREAM_CHAT_SKIP_BROWSER=1` skips them.
fn browser_available() -> bool {
    if std::env::var("STREAM_CHAT_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("STREAM_CHAT_SKIP_BROWSER=1: skipping the dashboard's browser test");
        return false;
    }
    let found = Command::new(CHROMIUM)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "the dashboard's browser tests need Debian's chromium: `apt-get install -y chromium` \
         (or set STREAM_CHAT_SKIP_BROWSER=1 to skip them)"
    );
    true
}

/// The flags every headless run gets (root in CI containers needs `--no-sandbox`).
fn chromium(profile: &std::path::Path) -> Command {
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--window-size=1280,1000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

fn profile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stream-chromium-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A headless chromium driven over the DevTools protocol, one page attached. Killed on drop.
struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    profile: std::path::PathBuf,
}

impl Browser {
    fn launch() -> Browser {
        let profile = profile_dir("cdp");
        let mut child = chromium(&profile)
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        // Chromium announces its DevTools endpoint on stderr.
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(BROWSER_WITHIN)
            .expect("chromium prints its DevTools endpoint");
        let addr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let tcp = TcpStream::connect(&addr).unwrap();
        tcp.set_read_timeout(Some(BROWSER_WITHIN)).unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), tcp).unwrap();
        let mut browser = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({}));
        browser
    }

    /// Sends a command (to the attached page once there is one) and returns its result,
    /// skipping the events that arrive meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            command["sessionId"] = Value::from(self.session.clone());
        }
        self.ws.send(Message::text(command.to_string())).unwrap();
        loop {
            let reply = self.read();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method} failed: {reply}");
                return reply["result"].clone();
            }
        }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().expect("the DevTools socket reads") {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(_) => panic!("chromium closed the DevTools socket"),
                _ => {}
            }
        }
    }

    /// Opens `url` and returns once its load event fired.
    fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        let deadline = Instant::now() + BROWSER_WITHIN;
        loop {
            assert!(Instant::now() < deadline, "{url} did not load");
            if self.read()["method"] == "Page.loadEventFired" {
                return;
            }
        }
    }

    /// Evaluates `js` in the page; a promise is awaited. The value, or a panic with the
    /// page's exception.
    fn eval(&mut self, js: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "awaitPromise": true, "returnByValue": true}),
        );
        if let Some(e) = result.get("exceptionDetails") {
            panic!("the page threw: {}", e["exception"]["description"]);
        }
        result["result"]["value"].clone()
    }

    /// Waits until the expression `condition` is truthy in the page (checked on every DOM
    /// change, by a MutationObserver, not by polling) and returns its value; fails with the
    /// page's text after [`BROWSER_WITHIN`].
    fn wait_until(&mut self, condition: &str) -> Value {
        let ms = BROWSER_WITHIN.as_millis();
        self.eval(&format!(
            "new Promise((resolve, reject) => {{
                const holds = () => {{ try {{ return ({condition}); }} catch (e) {{ return null; }} }};
                let observer = null;
                const timer = setTimeout(() => {{
                    if (observer) observer.disconnect();
                    reject(new Error('timed out waiting for ' + {cond} + '; the page shows: ' + document.body.innerText));
                }}, {ms});
                const check = () => {{
                    const value = holds();
                    if (value) {{ if (observer) observer.disconnect(); clearTimeout(timer); resolve(value); return true; }}
                    return false;
                }};
                if (!check()) {{
                    observer = new MutationObserver(check);
                    observer.observe(document, {{subtree: true, childList: true, attributes: true, characterData: true}});
                }}
            }})",
            cond = serde_json::to_string(condition).unwrap()
        ))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `chromium --dump-dom` of `url`, once its scripts had five seconds of virtual time.
fn dump_dom(url: &str) -> String {
    let profile = profile_dir("dump");
    let out = chromium(&profile)
        .args(["--virtual-time-budget=5000", "--dump-dom", url])
        .stderr(Stdio::null())
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(out.status.success(), "chromium --dump-dom failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_page_renders_the_state_without_any_secret() {
    if !browser_available() {
        return;
    }
    let env = Env::with(
        Server::builder().import(concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/sample.json")),
    );
    let (_alice, _) = env.connect("alice");
    let dom = dump_dom(&env.server.dashboard_url());
    assert!(dom.contains(r#"data-loaded="true""#), "{dom}");
    // Usage: alice connected this month.
    assert!(dom.contains(r#"<b id="usage-mau">1</b>"#), "{dom}");
    assert!(dom.contains(r#"<b id="usage-connections">1</b>"#), "{dom}");
    // Users, channels with member and message counts, the open connection.
    assert!(dom.contains(r#"<tr data-user-id="viewer-24">"#), "{dom}");
    assert!(
        dom.contains(r#"<tr data-cid="messaging:team"><td>messaging:team</td><td>messaging</td><td>4</td><td>10</td></tr>"#),
        "{dom}"
    );
    assert!(
        dom.contains(r#"data-user-id="alice"><td>alice</td><td>user</td>"#),
        "{dom}"
    );
    assert!(
        !dom.contains(DEFAULT_API_SECRET),
        "the page holds the secret"
    );
}

#[test]
fn a_connection_and_a_message_appear_live_and_kick_disconnects_the_client() {
    if !browser_available() {
        return;
    }
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    env.create_channel("messaging:general", "alice", &["alice", "bob"]);
    let (status, body) = env.send(Auth::User("alice"), "messaging:general", "before the page");
    assert_eq!(status, 200, "{body}");

    let mut browser = Browser::launch();
    // The page watches messaging:general as its creator, alice, over /connect.
    browser.open(&format!(
        "{}?channel=messaging:general&as=alice",
        env.server.dashboard_url()
    ));
    browser.wait_until("document.body.dataset.watching === 'messaging:general'");
    browser.wait_until(
        "[...document.querySelectorAll('#messages li .text')].some(e => e.textContent === 'before the page')",
    );

    // bob connects and watches: his row appears, with what he watches.
    let (mut bob, first) = env.connect("bob");
    let conn_id = first["connection_id"].as_str().unwrap().to_owned();
    let (status, body) = env.watch(Auth::User("bob"), "messaging:general", &conn_id);
    assert_eq!(status, 200, "{body}");
    let row = browser.wait_until(&format!(
        "(() => {{ const r = document.querySelector('tr[data-connection-id=\"{conn_id}\"]');
                  return r && r.cells[3].textContent === 'messaging:general' && r.innerText; }})()"
    ));
    assert!(row.as_str().unwrap().starts_with("bob\tuser\t"), "{row}");

    // bob posts: the message appears in the live view.
    let (status, body) = env.send(Auth::User("bob"), "messaging:general", "hello, live view");
    assert_eq!(status, 200, "{body}");
    let who = browser.wait_until(
        "(() => { const li = [...document.querySelectorAll('#messages li')]
                    .find(li => li.querySelector('.text').textContent === 'hello, live view');
                  return li && li.querySelector('.who').textContent; })()",
    );
    assert_eq!(who, "bob");

    // The kick button of bob's row closes his socket with the kick code.
    browser.eval(&format!(
        "document.querySelector('tr[data-connection-id=\"{conn_id}\"] button.kick').click()"
    ));
    assert_eq!(u16::from(bob.expect_close().code), KICK_CLOSE_CODE);
    browser.wait_until(&format!(
        "!document.querySelector('tr[data-connection-id=\"{conn_id}\"]')"
    ));
    // The page's own connection (alice) stays.
    assert_eq!(env.server.usage().concurrent_connections, 1);
}

/// Plain HTTP: the page and its endpoints refuse other hosts and other origins; minted
/// tokens work; `dashboard_public` lifts the host rule.
#[test]
fn the_dashboard_refuses_foreign_hosts_and_origins_and_mints_working_tokens() {
    let env = Env::start();
    let base = env.server.base_url();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let req = headers
            .iter()
            .fold(env.agent().get(&format!("{base}{path}")), |r, (k, v)| {
                r.header(*k, *v)
            });
        let mut res = req.call().unwrap();
        (
            res.status().as_u16(),
            res.body_mut().read_to_string().unwrap(),
        )
    };
    let (status, page) = get("/dashboard", &[]);
    assert_eq!(status, 200);
    assert!(page.contains("<title>stream-chat-server dashboard</title>"));
    let (status, body) = get("/dashboard", &[("Host", "attacker.example:3030")]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("loopback host only"), "{body}");
    let (status, body) = get(
        "/dashboard/api/state",
        &[("Origin", "http://attacker.example")],
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = get("/dashboard/api/state", &[]);
    assert_eq!(status, 200);
    assert!(!body.contains(DEFAULT_API_SECRET));

    // A minted token connects.
    let mut res = env
        .agent()
        .post(&format!("{base}/dashboard/api/token"))
        .send_json(json!({"user_id": "mallory"}))
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let minted: Value = res.body_mut().read_json().unwrap();
    let token = minted["token"].as_str().unwrap();
    let (_ws, first) = env.connect_with(&[
        (
            "json",
            json!({"user_id": "mallory", "user_details": {"id": "mallory"}}).to_string(),
        ),
        ("authorization", token.to_owned()),
        ("stream-auth-type", "jwt".into()),
    ]);
    assert_eq!(first["me"]["id"], "mallory", "{first}");
    let res = env
        .agent()
        .post(&format!("{base}/dashboard/api/token"))
        .send_json(json!({"user_id": "  "}))
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    // An id that token checks refuse is refused before a useless token is minted.
    let res = env
        .agent()
        .post(&format!("{base}/dashboard/api/token"))
        .send_json(json!({"user_id": "two words*"}))
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = env
        .agent()
        .post(&format!("{base}/dashboard/api/kick"))
        .send_json(json!({"connection_id": "nope"}))
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);

    let public = Env::with(Server::builder().dashboard_public(true));
    let res = public
        .agent()
        .get(&public.server.dashboard_url())
        .header("Host", "chat.lan:3030")
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}
