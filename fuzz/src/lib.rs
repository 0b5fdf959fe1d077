//! The checks each fuzz target runs on one input, written once: the `fuzz_targets/` call
//! them under libFuzzer, and `scripts/fuzz.sh --replay` runs the seed corpus through the
//! same binaries. A check panics when an input breaks a promise: a panic in our code is a
//! crash, and so is a broken property (a round trip that changes a value, a 500 answer).
#![forbid(unsafe_code)]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use arbitrary::Arbitrary;
use serde_json::{Map, Value, json};
use stream_chat_protocol::events::AnyEvent;
use stream_chat_protocol::jwt::{self, VerifyOptions};

/// Event decoding: a WebSocket text frame through `AnyEvent::from_json` (the one decode
/// the SDK and the server share) and the SDK's `ChatEvent` mapping. A decoded event
/// encodes, and that encoding decodes to the same event.
pub fn event_decoding(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = stream_chat_client::fuzzing::chat_event(text);
    let Ok(event) = AnyEvent::from_json(text) else {
        return;
    };
    let _ = event.kind();
    let _ = event.error();
    let encoded = serde_json::to_string(&event).expect("a decoded event encodes");
    let again = AnyEvent::from_json(&encoded).unwrap_or_else(|e| {
        panic!("the encoding of a decoded event does not decode: {e}\n{encoded}")
    });
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&event).unwrap(),
        "an event changed through encode/decode"
    );
}

/// What a REST error answer carries.
#[derive(Debug, Arbitrary)]
pub struct RestError<'a> {
    pub status: u16,
    pub dev_token: bool,
    pub retry_after: Option<&'a str>,
    pub rate_limit_reset: Option<&'a str>,
    pub now_secs: u32,
    pub body: &'a [u8],
}

/// REST error decoding: the SDK's error-body path and its reading of the requested wait.
/// The error keeps a status that is never 0, its text renders, and a wait is at most a day.
pub fn rest_error(input: &RestError<'_>) {
    let status = input.status.clamp(400, 599);
    let err = stream_chat_client::fuzzing::error_from_body(status, input.body, input.dev_token);
    assert_ne!(err.status_code(), Some(0), "status 0 in {err:?}");
    let _ = err.to_string();
    let _ = format!("{err:?}");
    let _ = err.is_retryable();
    let now = UNIX_EPOCH + Duration::from_secs(u64::from(input.now_secs));
    if let Some(wait) =
        stream_chat_client::fuzzing::requested_wait(input.retry_after, input.rate_limit_reset, now)
    {
        assert!(wait <= Duration::from_secs(86_400), "a wait of {wait:?}");
    }
}

/// What a JWT check gets.
#[derive(Debug, Arbitrary)]
pub struct JwtInput<'a> {
    pub token: &'a str,
    pub secret: &'a [u8],
    pub now: i64,
    pub allow_dev_tokens: bool,
    pub user_id: &'a str,
    pub exp_in: Option<i32>,
}

/// JWT decode and verify on any string (never a panic; a verified token's claims are the
/// ones `decode_unverified` reads), and sign → verify round trips for any user id.
pub fn jwt(input: &JwtInput<'_>) {
    let opts = VerifyOptions {
        allow_dev_tokens: input.allow_dev_tokens,
        ..VerifyOptions::default()
    };
    let unverified = jwt::decode_unverified(input.token);
    if let Ok(claims) = jwt::verify(input.token, input.secret, input.now, &opts) {
        assert_eq!(
            unverified.as_ref().ok(),
            Some(&claims),
            "verify and decode disagree"
        );
    }
    if input.secret.is_empty() {
        return;
    }
    let now = input.now.clamp(0, 4_000_000_000);
    let exp = input.exp_in.map(|d| now + i64::from(d.unsigned_abs()) + 1);
    let token = jwt::user_token(input.secret, input.user_id, exp);
    let claims = jwt::verify(&token, input.secret, now, &VerifyOptions::default())
        .unwrap_or_else(|e| panic!("a token we signed does not verify: {e:?} ({token})"));
    assert_eq!(claims.user_id.as_deref(), Some(input.user_id));
    assert_eq!(claims.exp, exp);
    assert_eq!(jwt::decode_unverified(&token).ok(), Some(claims));
}

/// Documents the filters are matched against: a channel-like and a user-like one.
fn docs() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        vec![
            json!({"type": "messaging", "id": "general", "cid": "messaging:general",
                   "members": ["bender", "fry"], "created_at": "2026-01-01T00:00:00Z",
                   "member_count": 2, "frozen": false, "custom": {"color": "red"}}),
            json!({"id": "bender", "name": "Bender", "role": "user", "teams": ["blue"],
                   "online": true, "age": 4.5, "banned": null}),
        ]
    })
}

/// The server's query filter parser: any JSON object is validated, and a filter that
/// validates matches every document without an error (validation promises that an
/// invalid filter is refused whatever the data, so no query fails half way).
pub fn query_filter(data: &[u8]) {
    let Ok(filter) = serde_json::from_slice::<Map<String, Value>>(data) else {
        return;
    };
    let valid = stream_chat_server::fuzzing::validate_filter(&filter);
    for doc in docs() {
        let matched = stream_chat_server::fuzzing::filter_matches(doc, &filter);
        if valid.is_ok() {
            assert!(
                matched.is_ok(),
                "a validated filter fails on {doc}: {matched:?}\nfilter: {}",
                Value::Object(filter.clone())
            );
        }
    }
}

/// The endpoints whose bodies the request-body target sends.
pub const ENDPOINTS: [(&str, &str); 12] = [
    ("POST", "/channels/messaging/general/message"),
    ("POST", "/channels/messaging/general/query"),
    ("POST", "/channels/messaging/fresh/query"),
    ("POST", "/channels/messaging/query"),
    ("POST", "/channels"),
    ("POST", "/channels/messaging/general"),
    ("POST", "/channels/messaging/general/read"),
    ("POST", "/channels/messaging/general/event"),
    ("POST", "/users"),
    ("PATCH", "/users"),
    ("POST", "/guest"),
    ("POST", "/messages/seed-message"),
];

struct Harness {
    runtime: tokio::runtime::Runtime,
    token: String,
    api_key: String,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let secret = stream_chat_server::DEFAULT_API_SECRET;
        Harness {
            runtime,
            token: jwt::user_token(secret.as_bytes(), "bender", None),
            api_key: stream_chat_server::DEFAULT_API_KEY.to_owned(),
        }
    })
}

/// One request to a router; its status and body.
fn send(
    router: &axum::Router,
    method: &str,
    path_and_query: &str,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    use tower::ServiceExt;
    let h = harness();
    let sep = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let uri = format!("{path_and_query}{sep}api_key={}&user_id=bender", h.api_key);
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("Authorization", &h.token)
        .header("stream-auth-type", "jwt")
        .header("Content-Type", "application/json")
        .body(axum::body::Body::from(body))
        .expect("a request");
    h.runtime.block_on(async {
        let response = router.clone().oneshot(request).await.expect("infallible");
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("the body");
        (status, body.to_vec())
    })
}

/// Request bodies: any bytes sent to one of [`ENDPOINTS`] (the first byte picks it) of a
/// fresh server with a channel and a message in it. The answer is never a 500 (a panic or
/// an internal error) and an error answer is Stream's error JSON.
pub fn request_bodies(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (method, path) = ENDPOINTS[usize::from(pick) % ENDPOINTS.len()];
    let router = stream_chat_server::fuzzing::router(stream_chat_server::Server::builder());
    let setup = json!({"data": {"members": ["bender"]}, "state": true});
    let (status, _) = send(
        &router,
        "POST",
        "/channels/messaging/general/query",
        setup.to_string().into_bytes(),
    );
    assert!((200..300).contains(&status), "setup failed: {status}");
    let message = json!({"message": {"id": "seed-message", "text": "hello"}});
    let (status, _) = send(
        &router,
        "POST",
        "/channels/messaging/general/message",
        message.to_string().into_bytes(),
    );
    assert!(status < 300, "setup message failed: {status}");
    // `GET /users` (a pick of 128 or more that lands on `/users`) carries its request in
    // the query string.
    let (status, answer) = if method == "POST" && path == "/users" && pick >= 128 {
        let payload: String = url_encode(body);
        send(
            &router,
            "GET",
            &format!("/users?payload={payload}"),
            Vec::new(),
        )
    } else {
        send(&router, method, path, body.to_vec())
    };
    assert!(
        status != 500,
        "{method} {path} answered 500: {}",
        String::from_utf8_lossy(&answer)
    );
    if status >= 400 {
        let error: Value = serde_json::from_slice(&answer).unwrap_or_else(|e| {
            panic!("{method} {path}: a {status} answer is not JSON ({e}): {answer:?}")
        });
        assert!(error.get("code").is_some_and(Value::is_i64), "{error}");
    }
}

fn url_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(*b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
