//! Bad input and HTTP plumbing: malformed JSON, oversized bodies, unknown routes, CORS.

use serde_json::json;

use crate::support::*;

#[test]
fn malformed_json_is_an_input_error() {
    let env = Env::start();
    let (status, body) = env.post_raw("/channels", b"{\"filter_conditions\": ");
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("QueryChannels failed with error: \"invalid JSON body")
    );
    let (status, body) = env.post_raw("/channels", b"[1,2,3]");
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
}

#[test]
fn bodies_over_one_mib_are_refused_with_413() {
    let env = Env::start();
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let (status, body) = env.post_raw("/channels", big.as_bytes());
    assert_eq!((status, body["code"].as_i64()), (413, Some(22)), "{body}");
    assert_eq!(body["StatusCode"], 413);
}

#[test]
fn unknown_routes_are_stream_shaped_404s() {
    let env = Env::start();
    let (status, body) = env.call("GET", "/no/such/route", Auth::Server, None);
    assert_eq!((status, body["code"].as_i64()), (404, Some(16)), "{body}");
    assert_eq!(body["details"], json!([]));
    let (status, body) = env.call("PATCH", "/channels", Auth::Server, None);
    assert_eq!((status, body["code"].as_i64()), (405, Some(4)), "{body}");
    // /connect without an upgrade.
    let (status, body) = env.call("GET", "/connect", Auth::Server, None);
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
}

#[test]
fn hi_and_app_settings() {
    let env = Env::start();
    let mut res = env
        .agent()
        .get(&format!("{}/hi", env.server.base_url()))
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.body_mut()
            .read_to_string()
            .unwrap()
            .contains("duration")
    );
    let (status, body) = env.call("GET", "/app", Auth::User("alice"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["app"]["channel_configs"]["livestream"]["name"],
        "livestream"
    );
}

#[test]
fn cors_preflight_allows_the_stream_headers() {
    let env = Env::start();
    let res = env
        .agent()
        .options(&format!(
            "{}/channels/messaging/general/query",
            env.server.base_url()
        ))
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,stream-auth-type,x-stream-client,x-client-request-id,content-type",
        )
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_lowercase()
    };
    assert_eq!(header("access-control-allow-origin"), "*");
    for h in [
        "authorization",
        "stream-auth-type",
        "x-stream-client",
        "x-client-request-id",
        "content-type",
    ] {
        assert!(header("access-control-allow-headers").contains(h), "{h}");
    }
    assert!(header("access-control-allow-methods").contains("post"));
}

#[test]
fn a_body_several_mib_too_large_still_gets_its_413() {
    // The client is still sending when the server knows the answer; the server reads on (and
    // discards) instead of resetting the connection under the client's feet.
    let env = Env::start();
    for size in [3 * 1024 * 1024, 12 * 1024 * 1024] {
        let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(size));
        let (status, body) = env.post_raw("/channels", big.as_bytes());
        assert_eq!((status, body["code"].as_i64()), (413, Some(22)), "{body}");
    }
    // The connection stays usable.
    let (status, _) = env.call("POST", "/channels", Auth::Server, None);
    assert_eq!(status, 200);
}
