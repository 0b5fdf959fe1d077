//! The wire-trace warning also covers a session that makes no REST call: it is logged
//! before the WebSocket handshake, whose TRACE record (tungstenite) carries the token in
//! the request line. In a process of its own (`own_process!`): the warning comes once per
//! process, so a test before it would take it, and it raises the process's logging to TRACE.

use crate::support::process::own_process;
use crate::support::*;

#[test]
fn the_wire_trace_warning_comes_before_the_first_websocket_handshake() {
    own_process!(the_wire_trace_warning_comes_before_the_first_websocket_handshake);
    let capture = logs::capture(log::LevelFilter::Trace, |_| true);
    let server = server();
    let client = client(&server);
    // An anonymous connect makes no REST call: only the WebSocket can trigger the warning.
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    client.disconnect().execute().into_result().unwrap();

    // (target, text) of every record, in order.
    let records: Vec<(String, String)> = capture
        .rx
        .try_iter()
        .map(|line| (line.target, line.text))
        .collect();
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
