//! Stream's API error codes (the `code` field of an error body), as named constants, with
//! what they mean for a client.
//!
//! The HTTP status that goes with each code is given by [`http_status`]. How a client treats
//! a code: [`is_auth_error`] (5 and 40–43: the credentials were rejected),
//! [`is_token_error`] (40–43), [`should_refresh_token`] (40: load a new token and retry),
//! [`is_retryable`] (-1, 9, 23: the same request may succeed later) and
//! [`is_terminal_for_socket`] (2, 4, 6: a WebSocket connect can never succeed as sent).
//! [`hint`] is the advice an error message adds for a code (a development token refused
//! with 43: start the local server with `--disable-auth-checks`).
//! Retrying by HTTP status alone (408, 429, 5xx) is HTTP, not Stream, and lives with the
//! SDK's error type (`ChatError::is_retryable`).
//!
//! ```
//! use stream_chat_protocol::codes;
//! assert_eq!(codes::TOKEN_EXPIRED, 40);
//! assert_eq!(codes::http_status(codes::NOT_ALLOWED), 403);
//! assert!(codes::is_auth_error(codes::TOKEN_SIGNATURE_INVALID));
//! assert!(codes::is_retryable(codes::RATE_LIMIT));
//! ```

/// Internal system error (HTTP 500).
pub const INTERNAL: i32 = -1;
/// Access key error: unknown or missing `api_key` (HTTP 401).
pub const ACCESS_KEY: i32 = 2;
/// Authentication failed (client-side code in the JS SDK).
pub const AUTHENTICATION_FAILED: i32 = 3;
/// Input error: wrong data or parameter (HTTP 400).
pub const INPUT: i32 = 4;
/// Authentication error, e.g. a malformed JWT (HTTP 401).
pub const AUTHENTICATION: i32 = 5;
/// Duplicate username (HTTP 400).
pub const DUPLICATE_USERNAME: i32 = 6;
/// Rate limited (HTTP 429).
pub const RATE_LIMIT: i32 = 9;
/// Resource does not exist (HTTP 404).
pub const DOES_NOT_EXIST: i32 = 16;
/// Not allowed: permission failure (HTTP 403).
pub const NOT_ALLOWED: i32 = 17;
/// Event not supported (HTTP 400).
pub const EVENT_NOT_SUPPORTED: i32 = 18;
/// Channel feature not supported (HTTP 400).
pub const CHANNEL_FEATURE_NOT_SUPPORTED: i32 = 19;
/// Message too long (HTTP 400).
pub const MESSAGE_TOO_LONG: i32 = 20;
/// Replies nested more than one level (HTTP 400).
pub const MULTIPLE_NESTING_LEVEL: i32 = 21;
/// Payload too big (HTTP 413).
pub const PAYLOAD_TOO_BIG: i32 = 22;
/// Request timeout (HTTP 408).
pub const REQUEST_TIMEOUT: i32 = 23;
/// Request headers too large (HTTP 431).
pub const MAX_HEADER_SIZE_EXCEEDED: i32 = 24;
/// Token expired, `exp` in the past (HTTP 401). The only code that makes clients refresh the token.
pub const TOKEN_EXPIRED: i32 = 40;
/// Token not valid yet, `nbf` in the future (HTTP 401).
pub const TOKEN_NOT_VALID_YET: i32 = 41;
/// Token used before its issue date, `iat` in the future (HTTP 401).
pub const TOKEN_USED_BEFORE_ISSUED_AT: i32 = 42;
/// Token signature invalid (HTTP 401).
pub const TOKEN_SIGNATURE_INVALID: i32 = 43;
/// Custom command endpoint missing (HTTP 400).
pub const CUSTOM_COMMAND_ENDPOINT_MISSING: i32 = 44;
/// Custom command endpoint call failed (HTTP 400).
pub const CUSTOM_COMMAND_ENDPOINT_CALL: i32 = 45;
/// Connection id not found: a request named a connection the server does not know (any
/// more), e.g. a watch sent on a connection that was just replaced.
pub const CONNECTION_ID_NOT_FOUND: i32 = 46;
/// Slow-mode cooldown (HTTP 403).
pub const COOLDOWN: i32 = 60;
/// Wrong region.
pub const WRONG_REGION: i32 = 69;
/// No access to the requested channels (HTTP 403).
pub const QUERY_CHANNEL_PERMISSIONS: i32 = 70;
/// Too many connections.
pub const TOO_MANY_CONNECTIONS: i32 = 71;
/// Message did not pass moderation (HTTP 400).
pub const MESSAGE_MODERATION_FAILED: i32 = 73;
/// App suspended (HTTP 403).
pub const APP_SUSPENDED: i32 = 99;

/// The HTTP status Stream answers with for `code` (400 for codes it does not document).
///
/// ```
/// use stream_chat_protocol::codes::{http_status, PAYLOAD_TOO_BIG, TOKEN_EXPIRED};
/// assert_eq!(http_status(TOKEN_EXPIRED), 401);
/// assert_eq!(http_status(PAYLOAD_TOO_BIG), 413);
/// ```
pub fn http_status(code: i32) -> u16 {
    match code {
        INTERNAL => 500,
        ACCESS_KEY
        | AUTHENTICATION
        | TOKEN_EXPIRED
        | TOKEN_NOT_VALID_YET
        | TOKEN_USED_BEFORE_ISSUED_AT
        | TOKEN_SIGNATURE_INVALID => 401,
        RATE_LIMIT => 429,
        DOES_NOT_EXIST => 404,
        NOT_ALLOWED | COOLDOWN | QUERY_CHANNEL_PERMISSIONS | APP_SUSPENDED => 403,
        PAYLOAD_TOO_BIG => 413,
        REQUEST_TIMEOUT => 408,
        MAX_HEADER_SIZE_EXCEEDED => 431,
        _ => 400,
    }
}

/// Whether `code` is one of the token errors (40–43): the token was read but not accepted.
///
/// ```
/// assert!(stream_chat_protocol::codes::is_token_error(41));
/// assert!(!stream_chat_protocol::codes::is_token_error(17));
/// ```
pub fn is_token_error(code: i32) -> bool {
    (TOKEN_EXPIRED..=TOKEN_SIGNATURE_INVALID).contains(&code)
}

/// Whether `code` says the credentials were rejected: a [token error](is_token_error) or
/// the general [`AUTHENTICATION`] error (a malformed JWT). A different token may help.
///
/// ```
/// use stream_chat_protocol::codes::{self, is_auth_error};
/// assert!(is_auth_error(codes::AUTHENTICATION) && is_auth_error(codes::TOKEN_EXPIRED));
/// assert!(!is_auth_error(codes::ACCESS_KEY) && !is_auth_error(codes::NOT_ALLOWED));
/// ```
pub fn is_auth_error(code: i32) -> bool {
    code == AUTHENTICATION || is_token_error(code)
}

/// Whether a client that can load tokens should load a new one and try again: only for
/// [`TOKEN_EXPIRED`], as the JS client does. Other auth errors would fail the same way.
///
/// ```
/// use stream_chat_protocol::codes::{self, should_refresh_token};
/// assert!(should_refresh_token(codes::TOKEN_EXPIRED));
/// assert!(!should_refresh_token(codes::TOKEN_SIGNATURE_INVALID));
/// ```
pub fn should_refresh_token(code: i32) -> bool {
    code == TOKEN_EXPIRED
}

/// Whether the same request may succeed later: [`INTERNAL`], [`RATE_LIMIT`] and
/// [`REQUEST_TIMEOUT`].
///
/// ```
/// use stream_chat_protocol::codes::{self, is_retryable};
/// assert!(is_retryable(codes::INTERNAL) && is_retryable(codes::REQUEST_TIMEOUT));
/// assert!(!is_retryable(codes::NOT_ALLOWED) && !is_retryable(codes::TOKEN_EXPIRED));
/// ```
pub fn is_retryable(code: i32) -> bool {
    matches!(code, INTERNAL | RATE_LIMIT | REQUEST_TIMEOUT)
}

/// Whether a WebSocket connect that failed with `code` can never succeed as sent, so a
/// client stops reconnecting: [`ACCESS_KEY`] (unknown API key), [`INPUT`] (a malformed
/// connect request) and [`DUPLICATE_USERNAME`].
///
/// ```
/// use stream_chat_protocol::codes::{self, is_terminal_for_socket};
/// assert!(is_terminal_for_socket(codes::ACCESS_KEY));
/// assert!(!is_terminal_for_socket(codes::INTERNAL));
/// ```
pub fn is_terminal_for_socket(code: i32) -> bool {
    matches!(code, ACCESS_KEY | INPUT | DUPLICATE_USERNAME)
}

/// What to do about `code`, for error messages, when the code alone tells (`None`
/// otherwise). `dev_token` says whether the rejected token was a development token
/// (signature `devtoken`, see [`crate::jwt::dev_token`]): servers refuse those unless auth
/// checks are disabled, which is the usual reason for a [`TOKEN_SIGNATURE_INVALID`] while
/// trying things out.
///
/// ```
/// use stream_chat_protocol::codes::{self, hint};
/// assert!(hint(codes::TOKEN_SIGNATURE_INVALID, true).unwrap().contains("--disable-auth-checks"));
/// assert!(hint(codes::TOKEN_SIGNATURE_INVALID, false).unwrap().contains("secret"));
/// assert!(hint(codes::ACCESS_KEY, false).unwrap().contains("API key"));
/// assert_eq!(hint(codes::NOT_ALLOWED, false), None);
/// ```
pub fn hint(code: i32, dev_token: bool) -> Option<&'static str> {
    Some(match code {
        TOKEN_SIGNATURE_INVALID if dev_token => {
            "development tokens are accepted only with auth checks disabled: start the local \
             server with --disable-auth-checks (on Stream's service, the app's \"Disable Auth \
             Checks\" setting), or use a token signed with the server's API secret"
        }
        TOKEN_SIGNATURE_INVALID => {
            "the token was not signed with the server's API secret (the local server's \
             `stream-chat-server token USER` prints one that is)"
        }
        ACCESS_KEY => {
            "the server does not know this API key: use the key it was started with (the local \
             server prints its key at start; its default is in `stream-chat-server --help`)"
        }
        TOKEN_EXPIRED => {
            "the token expired: connect with a TokenProvider that returns fresh tokens"
        }
        _ => return None,
    })
}
