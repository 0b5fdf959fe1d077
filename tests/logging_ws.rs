//! The wire-trace warning also covers a session that makes no REST call: it is logged
//! before the WebSocket handshake, whose TRACE record (tungstenite) carries the token in
//! the request line. Its own binary because the logger and the warning are process-wide.

mod common;

use std::sync::Mutex;

use common::*;

/// (target, text) of every record, in order.
static RECORDS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let entry = (record.target().to_owned(), record.args().to_string());
        RECORDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(entry);
    }
    fn flush(&self) {}
}

#[test]
fn the_wire_trace_warning_comes_before_the_first_websocket_handshake() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let server = server();
    let client = client(&server);
    // An anonymous connect makes no REST call: only the WebSocket can trigger the warning.
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    client.disconnect().execute().into_result().unwrap();

    let records = RECORDS.lock().unwrap();
    let position = |found: &dyn Fn(&(String, String)) -> bool| records.iter().position(found);
    let warning = position(&|(target, text)| {
        target.starts_with("stream_chat_client") && text.contains("TRACE logging is on")
    })
    .expect("the SDK warns that wire traces are on");
    let handshake = position(&|(target, _)| target.starts_with("tungstenite"))
        .expect("tungstenite logged the handshake at TRACE");
    assert!(
        warning < handshake,
        "the warning (record {warning}) must precede tungstenite's first record ({handshake})"
    );
}
