//! Stream's error object as a [`ChatError`]: REST error bodies and `connection.error`
//! frames carry the same `code`, `message`, `StatusCode` and `more_info`; the code's
//! meaning ([`ErrorClass`]) comes from `protocol::codes`.

use serde_json::Value;
use stream_chat_callbacks::{ChatError, ErrorClass, ErrorKind};
use stream_chat_protocol::{ApiErrorBody, codes};

/// Maps a Stream error body (`code`, `message`, `StatusCode`, `more_info`) to a `ChatError`.
/// Any other body (a proxy's HTML or text page) is still an HTTP answer, not a transport
/// failure: [`ErrorKind::Api`] with the status, no Stream code, and an excerpt of the body,
/// so [`ChatError::is_retryable`] decides by the status.
pub(crate) fn error_from_body(status: u16, body: &[u8]) -> ChatError {
    match serde_json::from_slice::<ApiErrorBody>(body) {
        Ok(e) if e.code != 0 || !e.message.is_empty() => api_error(&e, status),
        _ => ChatError::new(ErrorKind::Api, non_stream_message(body)).with_status_code(status),
    }
}

/// "not a Stream error response" plus the body's first characters, whitespace collapsed.
fn non_stream_message(body: &[u8]) -> String {
    const EXCERPT_CHARS: usize = 200;
    let head = String::from_utf8_lossy(&body[..body.len().min(4 * EXCERPT_CHARS)]);
    let mut excerpt = String::new();
    for word in head.split_whitespace() {
        if !excerpt.is_empty() {
            excerpt.push(' ');
        }
        excerpt.push_str(word);
    }
    if excerpt.is_empty() {
        return "the server answered with an empty body, not a Stream error response".into();
    }
    if excerpt.chars().count() > EXCERPT_CHARS || body.len() > 4 * EXCERPT_CHARS {
        excerpt = excerpt.chars().take(EXCERPT_CHARS).collect();
        excerpt.push('…');
    }
    format!("not a Stream error response: {excerpt}")
}

/// A `ChatError` from Stream's error object. The status is its `StatusCode`, else
/// `fallback_status` (the HTTP status; 0 for a WebSocket frame), else none: never 0.
/// `details` and `exception_fields` are appended to the message, as Android does. The
/// code's meaning ([`ErrorClass`]) comes from `protocol::codes`.
pub(crate) fn api_error(e: &ApiErrorBody, fallback_status: u16) -> ChatError {
    let mut err = ChatError::new(ErrorKind::Api, message_with_details(e))
        .with_stream_code(e.code)
        .with_class(class_of(e.code));
    if let Some(status) = [e.status_code, fallback_status]
        .into_iter()
        .find(|s| *s != 0)
    {
        err = err.with_status_code(status);
    }
    if !e.more_info.is_empty() {
        err = err.with_more_info(e.more_info.clone());
    }
    err
}

/// What a Stream error code means for the caller.
fn class_of(code: i32) -> ErrorClass {
    if codes::is_auth_error(code) {
        ErrorClass::Auth
    } else if codes::is_retryable(code) {
        ErrorClass::Retryable
    } else {
        ErrorClass::Unclassified
    }
}

/// The server's message, plus "\nError details: …" summarising `details` (Stream's
/// `{code, messages}` objects) and `exception_fields` when there are any.
fn message_with_details(e: &ApiErrorBody) -> String {
    const MAX_SUMMARY_CHARS: usize = 1000;
    let as_text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let mut parts: Vec<String> = e.details.iter().map(detail_summary).collect();
    if let Some(fields) = &e.exception_fields {
        parts.extend(fields.iter().map(|(k, v)| format!("{k}: {}", as_text(v))));
    }
    if parts.is_empty() {
        return e.message.clone();
    }
    let summary = parts.join("; ");
    let mut short: String = summary.chars().take(MAX_SUMMARY_CHARS).collect();
    if short.len() < summary.len() {
        short.push('…');
    }
    format!("{}\nError details: {short}", e.message)
}

/// `messages (code N)` for Stream's detail shape, compact JSON for anything else.
fn detail_summary(detail: &Value) -> String {
    let messages: Vec<&str> = detail
        .get("messages")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match detail.get("code").and_then(Value::as_i64) {
        _ if messages.is_empty() => detail.to_string(),
        Some(code) => format!("{} (code {code})", messages.join(", ")),
        None => messages.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_error_bodies_keep_code_status_and_more_info() {
        let body = br#"{"code":40,"message":"JWTAuth error: token is expired (exp)","StatusCode":401,"duration":"","more_info":"https://getstream.io/chat/docs/api_errors_response"}"#;
        let err = error_from_body(401, body);
        assert_eq!(err.kind(), ErrorKind::Api);
        assert_eq!(
            (err.stream_code(), err.status_code()),
            (Some(40), Some(401))
        );
        assert_eq!(err.message(), "JWTAuth error: token is expired (exp)");
        assert!(err.more_info().is_some());
        assert!(err.is_auth_error() && !err.is_retryable());
    }

    #[test]
    fn stream_codes_are_classified_by_the_protocol() {
        let err = |code: i32, status: u16| {
            error_from_body(
                status,
                format!(r#"{{"code":{code},"message":"m"}}"#).as_bytes(),
            )
        };
        for code in [codes::AUTHENTICATION, 40, 41, 42, 43] {
            assert!(err(code, 401).is_auth_error(), "{code}");
            assert!(!err(code, 401).is_retryable(), "{code}");
        }
        // Retryable by code even when the status alone would not say so.
        for code in [codes::INTERNAL, codes::RATE_LIMIT, codes::REQUEST_TIMEOUT] {
            assert_eq!(err(code, 400).class(), ErrorClass::Retryable, "{code}");
            assert!(err(code, 400).is_retryable(), "{code}");
        }
        for code in [
            codes::ACCESS_KEY,
            codes::INPUT,
            codes::NOT_ALLOWED,
            codes::CONNECTION_ID_NOT_FOUND,
        ] {
            assert_eq!(err(code, 400).class(), ErrorClass::Unclassified, "{code}");
            assert!(!err(code, 400).is_auth_error() && !err(code, 400).is_retryable());
        }
    }

    #[test]
    fn details_and_exception_fields_are_appended_to_the_message() {
        let body = br#"{"code":4,"message":"SendMessage failed with error: \"bad input\"","StatusCode":400,
            "details":[{"code":4,"messages":["text is too long","id is taken"]},"odd"],
            "exception_fields":{"text":"too long"}}"#;
        let err = error_from_body(400, body);
        assert_eq!(
            err.message(),
            "SendMessage failed with error: \"bad input\"\nError details: \
             text is too long, id is taken (code 4); \"odd\"; text: too long"
        );
        let plain = error_from_body(400, br#"{"code":4,"message":"bad","details":[]}"#);
        assert_eq!(plain.message(), "bad");
    }

    #[test]
    fn a_missing_status_is_none_never_zero() {
        let frame = ApiErrorBody {
            code: 43,
            message: "JWTAuth error: signature is not valid".into(),
            ..ApiErrorBody::default()
        };
        let err = api_error(&frame, 0);
        assert_eq!((err.stream_code(), err.status_code()), (Some(43), None));
        assert!(!err.to_string().contains("HTTP"), "{err}");
        assert_eq!(api_error(&frame, 401).status_code(), Some(401));
    }

    #[test]
    fn other_error_bodies_keep_the_status_and_an_excerpt() {
        let err = error_from_body(502, b"<html>\n  <b>bad   gateway</b>\n</html>");
        assert_eq!(err.kind(), ErrorKind::Api);
        assert_eq!((err.stream_code(), err.status_code()), (None, Some(502)));
        assert_eq!(
            err.message(),
            "not a Stream error response: <html> <b>bad gateway</b> </html>"
        );
        let long = error_from_body(403, "x".repeat(5000).as_bytes());
        assert_eq!(long.message().chars().filter(|c| *c == 'x').count(), 200);
        assert!(long.message().ends_with('…'));
        assert!(error_from_body(401, b"").message().contains("empty body"));
    }
}
