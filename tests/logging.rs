//! Tokens never reach the logs: every record the SDK emits (down to TRACE) and every
//! record of its HTTP stack at DEBUG and above is captured while users connect with a
//! JWT, a provider (reloaded after code 40) and as a guest. Its own binary because the
//! logger is process-wide.

mod common;

use std::sync::Mutex;

use common::*;
use stream_chat_client::{TokenError, User};
use stream_chat_protocol::jwt;

static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        // ureq and tungstenite document their TRACE output as raw wire dumps.
        meta.target().starts_with("stream_chat") || meta.level() <= log::Level::Debug
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {} {}", record.level(), record.target(), record.args());
            RECORDS.lock().unwrap().push(line);
        }
    }
    fn flush(&self) {}
}

#[test]
fn no_token_appears_in_log_records() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let server = server();
    let client = client(&server);
    let token = server.create_token("bender", None);
    client
        .connect_user(User::new("bender"), token.as_str())
        .execute()
        .into_result()
        .unwrap();
    client.disconnect().execute().into_result().unwrap();

    let secret = server.api_secret().to_owned();
    let expired = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() - 60));
    let fresh = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 3600));
    let handed_out = [expired.clone(), fresh.clone()];
    let (tx, rx) = crossbeam_channel::unbounded();
    let provider = move || -> Result<String, TokenError> {
        let n = rx.try_recv().map_or(1, |()| 0);
        Ok(handed_out[n].clone())
    };
    tx.send(()).unwrap();
    client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    client.disconnect().execute().into_result().unwrap();
    let guest = client
        .connect_guest_user("visitor", "Visitor")
        .execute()
        .into_result()
        .unwrap();
    client.disconnect().execute().into_result().unwrap();

    let records = RECORDS.lock().unwrap();
    assert!(
        records.iter().any(|r| r.contains("stream_chat_client")),
        "the SDK logged something"
    );
    assert_eq!(guest.user.role.as_deref(), Some("guest"));
    for secret_value in [&token, &expired, &fresh] {
        // The signature part is what makes a token usable.
        let signature = secret_value.rsplit('.').next().unwrap();
        for r in records.iter() {
            assert!(!r.contains(signature), "a token leaked into the log: {r}");
        }
    }
    eprintln!("{} log records checked", records.len());
}
