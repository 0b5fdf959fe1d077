//! Tokens in logs. Every record of every target is captured down to TRACE while users
//! connect with a JWT, with a provider (reloaded after code 40) and as a guest, and make
//! REST calls. Guaranteed: no token in any record of the SDK (any level) or of any
//! dependency at DEBUG and above. The known exception, which the SDK cannot filter:
//! TRACE records of `tungstenite` (the upgrade request, whose URL carries the token) and
//! `ureq_proto` (hex dumps of REST requests, `Authorization` header included); the SDK
//! warns once when those are enabled, and the README says to cap them at DEBUG. In a
//! process of its own (`own_process!`): it checks every record of the process, which it
//! raises to TRACE, and the SDK's warning comes once per process.

use crate::support::process::own_process;
use crate::support::*;
use stream_chat_client::jwt;
use stream_chat_client::{Message, TokenError, User};

/// Dependencies whose TRACE records dump raw requests, tokens included.
const WIRE_TRACE_TARGETS: [&str; 2] = ["tungstenite", "ureq_proto"];

/// A TRACE record of a dependency that dumps raw requests.
fn is_known_exception(r: &logs::Line) -> bool {
    r.level == log::Level::Trace
        && WIRE_TRACE_TARGETS
            .iter()
            .any(|t| r.target == *t || r.target.starts_with(&format!("{t}::")))
}

#[test]
fn no_token_appears_in_log_records_except_dependency_wire_traces() {
    own_process!(no_token_appears_in_log_records_except_dependency_wire_traces);
    let capture = logs::capture(log::LevelFilter::Trace, |_| true);
    let server = server();
    let client = client(&server);
    let token = server.create_token("bender", None);
    client
        .connect_user(User::new("bender"), token.as_str())
        .execute()
        .into_result()
        .unwrap();
    let channel = client.channel("messaging", "logs").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    channel
        .send_message(Message::with_text("hi"))
        .execute()
        .into_result()
        .unwrap();
    client.disconnect().execute().into_result().unwrap();

    // A provider whose first token is expired: reloaded after code 40.
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
    channel.mark_read().execute().into_result().unwrap();
    client.disconnect().execute().into_result().unwrap();
    let guest = client
        .connect_guest_user("visitor", "Visitor")
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(guest.user.role.as_deref(), Some("guest"));
    client.disconnect().execute().into_result().unwrap();

    let records: Vec<logs::Line> = capture.rx.try_iter().collect();
    let from = |prefix: &str, level: log::Level| {
        records
            .iter()
            .filter(|r| r.target.starts_with(prefix) && r.level == level)
            .count()
    };
    assert!(
        from("stream_chat_client", log::Level::Info) > 0,
        "the SDK logs"
    );
    // Dependencies really were captured at TRACE, so the check below covers them.
    for target in WIRE_TRACE_TARGETS {
        assert!(
            from(target, log::Level::Trace) > 0,
            "no TRACE from {target}"
        );
    }
    assert!(
        records
            .iter()
            .any(|r| r.target.starts_with("stream_chat_client")
                && r.level == log::Level::Warn
                && r.text.contains("TRACE logging is on")),
        "the SDK warns that wire traces are on"
    );

    let mut exceptions_with_token = 0;
    for secret_value in [&token, &expired, &fresh] {
        // The signature part is what makes a token usable.
        let signature = secret_value.rsplit('.').next().unwrap();
        for r in records.iter() {
            if !r.text.contains(signature) {
                continue;
            }
            assert!(
                is_known_exception(r),
                "a token leaked into a {} record of {}: {}",
                r.level,
                r.target,
                r.text
            );
            exceptions_with_token += 1;
        }
    }
    eprintln!(
        "{} records checked; {exceptions_with_token} TRACE records of {WIRE_TRACE_TARGETS:?} \
         show a token whole (ureq_proto's hex rows split it further)",
        records.len()
    );
}
