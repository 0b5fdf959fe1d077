//! Stream's error object as a [`ChatError`]: REST error bodies and `connection.error`
//! frames carry the same `code`, `message`, `StatusCode` and `more_info`; the code's
//! meaning ([`ErrorClass`]) and the advice for it come from `protocol::codes`. Also the
//! wait a server asks for (`Retry-After`, `X-RateLimit-Reset`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use stream_chat_callbacks::{ChatError, ErrorClass, ErrorKind};
use stream_chat_protocol::{ApiErrorBody, codes, jwt};

/// Whether `token` is a development token (its signature segment is
/// [`jwt::DEV_SIGNATURE`]): servers refuse those unless auth checks are disabled, and
/// the advice for a refused one says so.
pub(crate) fn is_dev_token(token: Option<&str>) -> bool {
    token.is_some_and(|t| t.rsplit('.').next() == Some(jwt::DEV_SIGNATURE))
}

/// Maps a Stream error body (`code`, `message`, `StatusCode`, `more_info`) to a `ChatError`.
/// Any other body (a proxy's HTML or text page) is still an HTTP answer, not a transport
/// failure: [`ErrorKind::Api`] with the status, no Stream code, and an excerpt of the body,
/// so [`ChatError::is_retryable`] decides by the status. `dev_token`: the request carried
/// a development token (it picks the advice for code 43).
pub(crate) fn error_from_body(status: u16, body: &[u8], dev_token: bool) -> ChatError {
    match serde_json::from_slice::<ApiErrorBody>(body) {
        Ok(e) if e.code != 0 || !e.message.is_empty() => api_error(&e, status, dev_token),
        _ => ChatError::new(ErrorKind::Api, non_stream_message(body)).with_status_code(status),
    }
}

/// The longest wait taken from a header: anything longer is as good as "much later" and
/// is kept at this, so that adding it to a clock never overflows.
const MAX_HEADER_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// How long the server asked the client to wait, as of `now`: `Retry-After` (delta
/// seconds, or an HTTP date) first, else `X-RateLimit-Reset` (the Unix time in seconds at
/// which Stream's rate-limit window resets). A time in the past is a wait of zero; an
/// unreadable value is ignored; a wait is at most a day.
pub(crate) fn requested_wait(
    retry_after: Option<&str>,
    rate_limit_reset: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let until = |at: SystemTime| at.duration_since(now).unwrap_or(Duration::ZERO);
    let from_retry_after = retry_after.and_then(|v| {
        let v = v.trim();
        match v.parse::<u64>() {
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => http_date(v).map(until),
        }
    });
    let from_reset = || {
        let secs = rate_limit_reset?.trim().parse::<u64>().ok()?;
        let at = UNIX_EPOCH.checked_add(Duration::from_secs(secs.min(1 << 40)))?;
        Some(until(at))
    };
    from_retry_after
        .or_else(from_reset)
        .map(|wait| wait.min(MAX_HEADER_WAIT))
}

/// An HTTP date in its preferred form (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), the
/// one servers send in `Retry-After`.
fn http_date(v: &str) -> Option<SystemTime> {
    let mut parts = v.split_whitespace();
    let _weekday = parts.next().filter(|d| d.ends_with(','))?;
    let day: u32 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: i64 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next() != Some("GMT") || parts.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    if !(1970..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(h * 3600 + m * 60 + s);
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
/// code's meaning ([`ErrorClass`]) and the advice `Display` adds ([`codes::hint`]; for
/// code 43 it depends on `dev_token`, whether the refused token was a development one)
/// come from `protocol::codes`.
pub(crate) fn api_error(e: &ApiErrorBody, fallback_status: u16, dev_token: bool) -> ChatError {
    let mut err = ChatError::new(ErrorKind::Api, message_with_details(e))
        .with_stream_code(e.code)
        .with_class(class_of(e.code));
    if let Some(hint) = codes::hint(e.code, dev_token) {
        err = err.with_hint(hint);
    }
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
        let err = error_from_body(401, body, false);
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
                false,
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
        let err = error_from_body(400, body, false);
        assert_eq!(
            err.message(),
            "SendMessage failed with error: \"bad input\"\nError details: \
             text is too long, id is taken (code 4); \"odd\"; text: too long"
        );
        let plain = error_from_body(400, br#"{"code":4,"message":"bad","details":[]}"#, false);
        assert_eq!(plain.message(), "bad");
    }

    #[test]
    fn a_missing_status_is_none_never_zero() {
        let frame = ApiErrorBody {
            code: 43,
            message: "JWTAuth error: signature is not valid".into(),
            ..ApiErrorBody::default()
        };
        let err = api_error(&frame, 0, false);
        assert_eq!((err.stream_code(), err.status_code()), (Some(43), None));
        assert!(!err.to_string().contains("HTTP"), "{err}");
        assert_eq!(api_error(&frame, 401, false).status_code(), Some(401));
    }

    #[test]
    fn other_error_bodies_keep_the_status_and_an_excerpt() {
        let err = error_from_body(502, b"<html>\n  <b>bad   gateway</b>\n</html>", false);
        assert_eq!(err.kind(), ErrorKind::Api);
        assert_eq!((err.stream_code(), err.status_code()), (None, Some(502)));
        assert_eq!(
            err.message(),
            "not a Stream error response: <html> <b>bad gateway</b> </html>"
        );
        let long = error_from_body(403, "x".repeat(5000).as_bytes(), false);
        assert_eq!(long.message().chars().filter(|c| *c == 'x').count(), 200);
        assert!(long.message().ends_with('…'));
        assert!(
            error_from_body(401, b"", false)
                .message()
                .contains("empty body")
        );
    }

    #[test]
    fn the_advice_for_a_code_reaches_the_text_and_depends_on_a_dev_token() {
        let body =
            br#"{"code":43,"message":"JWTAuth error: signature is not valid","StatusCode":401}"#;
        let dev = error_from_body(401, body, true);
        assert_eq!(dev.message(), "JWTAuth error: signature is not valid");
        assert!(dev.to_string().contains("--disable-auth-checks"), "{dev}");
        let signed = error_from_body(401, body, false);
        assert!(
            !signed.to_string().contains("--disable-auth-checks"),
            "{signed}"
        );
        assert!(signed.to_string().contains("secret"), "{signed}");
        let frame = ApiErrorBody {
            code: codes::ACCESS_KEY,
            message: "api_key not found".into(),
            ..ApiErrorBody::default()
        };
        assert!(api_error(&frame, 0, false).to_string().contains("API key"));
        let none = error_from_body(403, br#"{"code":17,"message":"no"}"#, true);
        assert_eq!(none.hint(), None);
        assert!(is_dev_token(Some(&jwt::dev_token("x"))));
        assert!(!is_dev_token(Some("a.b.c")) && !is_dev_token(None));
    }

    #[test]
    fn requested_waits_come_from_retry_after_then_the_rate_limit_reset() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let secs = Duration::from_secs;
        assert_eq!(requested_wait(Some("5"), None, now), Some(secs(5)));
        assert_eq!(
            requested_wait(Some(" 0 "), Some("1700000100"), now),
            Some(secs(0))
        );
        assert_eq!(requested_wait(None, Some("1700000007"), now), Some(secs(7)));
        assert_eq!(
            requested_wait(Some("soon"), Some("1700000007"), now),
            Some(secs(7))
        );
        assert_eq!(requested_wait(None, Some("1600000000"), now), Some(secs(0)));
        assert_eq!(requested_wait(None, Some("-3"), now), None);
        assert_eq!(requested_wait(None, None, now), None);
        assert_eq!(
            requested_wait(Some("99999999999999999"), None, now),
            Some(MAX_HEADER_WAIT)
        );
        assert_eq!(
            requested_wait(None, Some("18446744073709551615"), now),
            Some(MAX_HEADER_WAIT)
        );
        // 2023-11-14T22:13:20Z is 1_700_000_000.
        assert_eq!(
            requested_wait(Some("Tue, 14 Nov 2023 22:13:30 GMT"), None, now),
            Some(secs(10))
        );
        assert_eq!(
            requested_wait(Some("Sun, 06 Nov 1994 08:49:37 GMT"), None, now),
            Some(secs(0))
        );
        for bad in [
            "Tue, 14 Nov 2023 22:13:30",
            "Tue, 32 Nov 2023 22:13:30 GMT",
            "14 Nov 2023",
        ] {
            assert_eq!(requested_wait(Some(bad), None, now), None, "{bad}");
        }
    }
}
