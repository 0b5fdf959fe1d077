//! HS256 JSON Web Tokens as Stream uses them: signing, verification, unverified decoding
//! and development tokens.
//!
//! ```
//! use stream_chat_protocol::jwt;
//!
//! let token = jwt::user_token(b"secret", "alice", None);
//! assert_eq!(
//!     token,
//!     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWxpY2UifQ.YbDM4fmZOvvxOWjBdMVV--0AGcSWNENiVdni8bfgD_M"
//! );
//! let claims = jwt::verify(&token, b"secret", 0, &jwt::VerifyOptions::default()).unwrap();
//! assert_eq!(claims.user_id.as_deref(), Some("alice"));
//! ```

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codes;

type HmacSha256 = Hmac<sha2::Sha256>;

/// The base64url header every token here carries: `{"alg":"HS256","typ":"JWT"}`.
pub const HS256_HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
/// The signature segment of development tokens.
pub const DEV_SIGNATURE: &str = "devtoken";
/// Longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Longest encoded header segment accepted, in bytes.
pub const MAX_HEADER_LEN: usize = 512;
/// Default clock leeway for `nbf` and `iat`, in seconds (absorbs clients that round `iat` up).
pub const DEFAULT_LEEWAY_SECS: i64 = 1;
/// Default leeway for `exp`, in seconds: a token is expired once the clock has passed `exp`.
pub const DEFAULT_EXP_LEEWAY_SECS: i64 = 0;

/// The claims Stream reads; anything else is kept in `extra`.
///
/// ```
/// let c: stream_chat_protocol::jwt::Claims = serde_json::from_str(r#"{"user_id":"a","team":"x"}"#).unwrap();
/// assert_eq!(c.user_id.as_deref(), Some("a"));
/// assert_eq!(c.extra["team"], "x");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The user the token acts as (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `true` for server tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<bool>,
    /// Expiry, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not before, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Any other claims.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Claims {
    /// Claims of a user token.
    ///
    /// ```
    /// assert_eq!(stream_chat_protocol::jwt::Claims::user("bob").user_id.as_deref(), Some("bob"));
    /// ```
    pub fn user(user_id: impl Into<String>) -> Self {
        Claims {
            user_id: Some(user_id.into()),
            ..Claims::default()
        }
    }

    /// Whether these are server-token claims (`"server": true`).
    ///
    /// ```
    /// use stream_chat_protocol::jwt::{Claims, decode_unverified, server_token};
    /// assert!(decode_unverified(&server_token(b"s")).unwrap().is_server());
    /// assert!(!Claims::user("a").is_server());
    /// ```
    pub fn is_server(&self) -> bool {
        self.server == Some(true)
    }
}

/// Why a token was rejected. [`JwtError::code`] gives the Stream error code to answer with.
///
/// ```
/// use stream_chat_protocol::jwt::JwtError;
/// assert_eq!(JwtError::Expired.code(), 40);
/// assert_eq!(JwtError::Expired.to_string(), "JWTAuth error: token is expired (exp)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a well-formed JWT (segments, base64, JSON, claim types).
    #[error("JWTAuth error: {0}")]
    Malformed(String),
    /// Larger than [`MAX_TOKEN_LEN`] or with a header over [`MAX_HEADER_LEN`].
    #[error("JWTAuth error: token is too large")]
    TooLarge,
    /// The header's `alg` is not exactly `HS256`.
    #[error("JWTAuth error: signing method {0} is invalid")]
    UnsupportedAlgorithm(String),
    /// The signature does not match the secret.
    #[error("JWTAuth error: signature is not valid")]
    Signature,
    /// `exp` is in the past.
    #[error("JWTAuth error: token is expired (exp)")]
    Expired,
    /// `nbf` is in the future.
    #[error("JWTAuth error: token is not valid yet (nbf)")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("JWTAuth error: token used before issued at (iat)")]
    IssuedInFuture,
}

impl JwtError {
    /// The Stream error code: 40 expired, 41 `nbf`, 42 `iat`, 43 signature, 5 otherwise.
    ///
    /// ```
    /// use stream_chat_protocol::jwt::JwtError;
    /// assert_eq!(JwtError::Signature.code(), 43);
    /// assert_eq!(JwtError::Malformed("x".into()).code(), 5);
    /// ```
    pub fn code(&self) -> i32 {
        match self {
            JwtError::Expired => codes::TOKEN_EXPIRED,
            JwtError::NotYetValid => codes::TOKEN_NOT_VALID_YET,
            JwtError::IssuedInFuture => codes::TOKEN_USED_BEFORE_ISSUED_AT,
            JwtError::Signature => codes::TOKEN_SIGNATURE_INVALID,
            JwtError::Malformed(_) | JwtError::TooLarge | JwtError::UnsupportedAlgorithm(_) => {
                codes::AUTHENTICATION
            }
        }
    }
}

/// Options for [`verify`].
///
/// ```
/// let opts = stream_chat_protocol::jwt::VerifyOptions { allow_dev_tokens: true, ..Default::default() };
/// assert_eq!(opts.leeway_secs, stream_chat_protocol::jwt::DEFAULT_LEEWAY_SECS);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Clock leeway applied to `nbf` and `iat`, in seconds.
    pub leeway_secs: i64,
    /// Clock leeway applied to `exp`, in seconds.
    pub exp_leeway_secs: i64,
    /// Accept tokens whose signature is the literal `devtoken` ("disable auth checks").
    pub allow_dev_tokens: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            leeway_secs: DEFAULT_LEEWAY_SECS,
            exp_leeway_secs: DEFAULT_EXP_LEEWAY_SECS,
            allow_dev_tokens: false,
        }
    }
}

/// Signs `claims` with HS256 (header `{"alg":"HS256","typ":"JWT"}`, base64url segments).
///
/// ```
/// use stream_chat_protocol::jwt::{sign, Claims};
/// assert_eq!(sign(&Claims::user("alice"), b"secret"), stream_chat_protocol::jwt::user_token(b"secret", "alice", None));
/// ```
pub fn sign(claims: &Claims, secret: &[u8]) -> String {
    let payload = serde_json::to_vec(claims).expect("claims always serialize");
    sign_segments(&URL_SAFE_NO_PAD.encode(payload), secret)
}

/// Signs an already encoded payload segment: returns `<header>.<payload>.<signature>`.
///
/// Lets callers choose the exact payload bytes (e.g. to avoid `-`/`_` in the segment).
///
/// ```
/// let t = stream_chat_protocol::jwt::sign_segments("eyJ1c2VyX2lkIjoiYWxpY2UifQ", b"secret");
/// assert_eq!(t, stream_chat_protocol::jwt::user_token(b"secret", "alice", None));
/// ```
pub fn sign_segments(payload_segment: &str, secret: &[u8]) -> String {
    let signing_input = format!("{HS256_HEADER}.{payload_segment}");
    let signature = URL_SAFE_NO_PAD.encode(
        mac(secret, signing_input.as_bytes())
            .finalize()
            .into_bytes(),
    );
    format!("{signing_input}.{signature}")
}

/// A user token for `user_id`, with an optional `exp` (Unix seconds), like `createToken`.
///
/// ```
/// let t = stream_chat_protocol::jwt::user_token(b"secret", "alice", Some(2_000_000_000));
/// assert_eq!(stream_chat_protocol::jwt::decode_unverified(&t).unwrap().exp, Some(2_000_000_000));
/// ```
pub fn user_token(secret: &[u8], user_id: &str, exp: Option<i64>) -> String {
    sign(
        &Claims {
            exp,
            ..Claims::user(user_id)
        },
        secret,
    )
}

/// A user token whose payload segment contains no `-` or `_`, so clients that decode it with
/// the standard base64 alphabet (the JS client does) read it correctly. The claims are the
/// same as [`user_token`]'s (`{"user_id": …}`); only the JSON spelling varies (spaces,
/// `\u` escapes, and as a last resort a filler claim `"n"`).
///
/// ```
/// use stream_chat_protocol::jwt;
/// let t = jwt::js_safe_user_token(b"secret", "u>>>");
/// let payload = t.split('.').nth(1).unwrap();
/// assert!(!payload.contains('-') && !payload.contains('_'));
/// let claims = jwt::verify(&t, b"secret", 0, &jwt::VerifyOptions::default()).unwrap();
/// assert_eq!(claims.user_id.as_deref(), Some("u>>>"));
/// ```
pub fn js_safe_user_token(secret: &[u8], user_id: &str) -> String {
    js_safe_user_token_with_exp(secret, user_id, None)
}

/// [`js_safe_user_token`] with an optional `exp` (Unix seconds): the claims of
/// [`user_token`], a payload segment without `-` or `_`.
///
/// ```
/// use stream_chat_protocol::jwt;
/// let t = jwt::js_safe_user_token_with_exp(b"secret", "alice", Some(2_000_000_000));
/// assert!(!t.split('.').nth(1).unwrap().contains(['-', '_']));
/// let claims = jwt::verify(&t, b"secret", 0, &jwt::VerifyOptions::default()).unwrap();
/// assert_eq!((claims.user_id.as_deref(), claims.exp), (Some("alice"), Some(2_000_000_000)));
/// ```
pub fn js_safe_user_token_with_exp(secret: &[u8], user_id: &str, exp: Option<i64>) -> String {
    let plain = serde_json::to_string(user_id).expect("strings serialize");
    let escaped = escape_json_string(user_id);
    let exp_parts: Vec<String> = match exp {
        None => vec![String::new()],
        Some(exp) => vec![format!(",\"exp\":{exp}"), format!(", \"exp\":{exp}")],
    };
    let mut candidates = Vec::new();
    for id in [&plain, &escaped] {
        for exp_part in &exp_parts {
            for front in 0..3 {
                for back in 0..3 {
                    candidates.push(format!(
                        "{{{}\"user_id\":{id}{exp_part}{}}}",
                        " ".repeat(front),
                        " ".repeat(back)
                    ));
                }
            }
        }
    }
    let last = exp_parts.last().cloned().unwrap_or_default();
    let filler = (0..10_000).map(|n| format!("{{\"user_id\":{escaped}{last},\"n\":{n}}}"));
    let segment = candidates
        .into_iter()
        .chain(filler)
        .map(|payload| URL_SAFE_NO_PAD.encode(payload))
        .find(|seg| !seg.contains(['-', '_']))
        .unwrap_or_else(|| {
            let claims = Claims {
                exp,
                ..Claims::user(user_id)
            };
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"))
        });
    sign_segments(&segment, secret)
}

/// A JSON string literal with every character except ASCII letters and digits `\u`-escaped.
fn escape_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out.push('"');
    out
}

/// A server token: payload `{"server":true}`, no expiry.
///
/// ```
/// assert_eq!(
///     stream_chat_protocol::jwt::server_token(b"secret"),
///     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzZXJ2ZXIiOnRydWV9.DHnfQolWsEGFcTR7ZwVBbIVUFAvxzDJXzB6UlyU-7JQ"
/// );
/// ```
pub fn server_token(secret: &[u8]) -> String {
    sign(
        &Claims {
            server: Some(true),
            ..Claims::default()
        },
        secret,
    )
}

/// A development token, as the JS `devToken`: fixed header, standard padded base64 payload,
/// and the literal signature `devtoken`. Servers accept it only with auth checks disabled.
///
/// ```
/// assert_eq!(
///     stream_chat_protocol::jwt::dev_token("alice"),
///     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWxpY2UifQ==.devtoken"
/// );
/// ```
pub fn dev_token(user_id: &str) -> String {
    let payload = serde_json::to_vec(&Claims::user(user_id)).expect("claims always serialize");
    format!(
        "{HS256_HEADER}.{}.{DEV_SIGNATURE}",
        STANDARD.encode(payload)
    )
}

/// Reads the claims without checking the signature or times (for clients). Accepts base64url
/// and standard base64, padded or not.
///
/// ```
/// let c = stream_chat_protocol::jwt::decode_unverified(&stream_chat_protocol::jwt::dev_token("bob")).unwrap();
/// assert_eq!(c.user_id.as_deref(), Some("bob"));
/// assert!(stream_chat_protocol::jwt::decode_unverified("nope").is_err());
/// ```
pub fn decode_unverified(token: &str) -> Result<Claims, JwtError> {
    let [_, payload, _] = split(token)?;
    parse_claims(payload)
}

/// Verifies an HS256 token against `secret` at time `now_unix` and returns its claims.
///
/// Checks, in order: size, three segments, `alg` exactly `HS256`, the signature (constant
/// time; `devtoken` only with [`VerifyOptions::allow_dev_tokens`]), the claims' JSON, then
/// `exp` (expired once `now_unix > exp`), `iat` and `nbf`, each with its configured leeway.
///
/// ```
/// use stream_chat_protocol::jwt::{self, JwtError, VerifyOptions};
/// let opts = VerifyOptions::default();
/// let expired = jwt::user_token(b"s", "a", Some(100));
/// assert_eq!(jwt::verify(&expired, b"s", 1_000, &opts), Err(JwtError::Expired));
/// assert_eq!(jwt::verify(&expired, b"other", 0, &opts), Err(JwtError::Signature));
/// ```
pub fn verify(
    token: &str,
    secret: &[u8],
    now_unix: i64,
    opts: &VerifyOptions,
) -> Result<Claims, JwtError> {
    let [header, payload, signature] = split(token)?;
    check_header(header)?;
    if !(opts.allow_dev_tokens && signature == DEV_SIGNATURE) {
        let sig = decode_b64(signature)
            .ok_or_else(|| JwtError::Malformed("signature is not valid base64".into()))?;
        let input_len = header.len() + 1 + payload.len();
        mac(secret, &token.as_bytes()[..input_len])
            .verify_slice(&sig)
            .map_err(|_| JwtError::Signature)?;
    }
    let claims = parse_claims(payload)?;
    let leeway = opts.leeway_secs.max(0);
    if claims
        .exp
        .is_some_and(|exp| now_unix > exp.saturating_add(opts.exp_leeway_secs.max(0)))
    {
        return Err(JwtError::Expired);
    }
    if claims
        .iat
        .is_some_and(|iat| iat > now_unix.saturating_add(leeway))
    {
        return Err(JwtError::IssuedInFuture);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now_unix.saturating_add(leeway))
    {
        return Err(JwtError::NotYetValid);
    }
    Ok(claims)
}

fn mac(secret: &[u8], input: &[u8]) -> HmacSha256 {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(input);
    mac
}

fn split(token: &str) -> Result<[&str; 3], JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::TooLarge);
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !p.is_empty() => {
            if h.len() > MAX_HEADER_LEN {
                return Err(JwtError::TooLarge);
            }
            Ok([h, p, s])
        }
        _ => Err(JwtError::Malformed(
            "token contains an invalid number of segments".into(),
        )),
    }
}

fn check_header(segment: &str) -> Result<(), JwtError> {
    let bytes = decode_b64(segment)
        .ok_or_else(|| JwtError::Malformed("header is not valid base64".into()))?;
    let header: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| JwtError::Malformed("header is not a JSON object".into()))?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == "HS256" => Ok(()),
        Some(Value::String(alg)) => Err(JwtError::UnsupportedAlgorithm(alg.clone())),
        _ => Err(JwtError::Malformed("header has no alg".into())),
    }
}

fn parse_claims(segment: &str) -> Result<Claims, JwtError> {
    let bytes = decode_b64(segment)
        .ok_or_else(|| JwtError::Malformed("payload is not valid base64".into()))?;
    match serde_json::from_slice::<Claims>(&bytes) {
        Ok(claims) => Ok(claims),
        // The JS dev-token encoder truncates UTF-16 units to bytes: read such payloads as Latin-1.
        Err(_) if std::str::from_utf8(&bytes).is_err() => {
            let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
            serde_json::from_str(&latin1)
                .map_err(|e| JwtError::Malformed(format!("invalid claims: {e}")))
        }
        Err(e) => Err(JwtError::Malformed(format!("invalid claims: {e}"))),
    }
}

/// Decodes base64url or standard base64, with or without `=` padding.
fn decode_b64(segment: &str) -> Option<Vec<u8>> {
    let normalized: String = segment
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(normalized).ok()
}

#[cfg(test)]
mod tests;
