//! Webhooks as Stream sends them: the headers of each delivery and the `X-Signature`, a
//! lowercase hex HMAC-SHA256 of the exact request body keyed with the app's API secret.
//!
//! ```
//! use stream_chat_protocol::webhook::{sign, verify_webhook};
//!
//! let body = br#"{"type":"message.new"}"#;
//! let signature = sign(body, b"secret");
//! assert!(verify_webhook(body, &signature, b"secret"));
//! assert!(!verify_webhook(b"{}", &signature, b"secret"));
//! ```

use hmac::{Hmac, KeyInit, Mac};

type HmacSha256 = Hmac<sha2::Sha256>;

/// Header: hex HMAC-SHA256 of the body with the API secret.
pub const SIGNATURE_HEADER: &str = "X-Signature";
/// Header: the delivery's id, the same on every attempt (a receiver's de-duplication key).
pub const WEBHOOK_ID_HEADER: &str = "X-Webhook-Id";
/// Header: the attempt number, from 1.
pub const WEBHOOK_ATTEMPT_HEADER: &str = "X-Webhook-Attempt";
/// Header: the app's API key.
pub const API_KEY_HEADER: &str = "X-Api-Key";

/// The `X-Signature` of `body`: lowercase hex HMAC-SHA256 keyed with `secret`.
///
/// ```
/// assert_eq!(
///     stream_chat_protocol::webhook::sign(b"", b"key"),
///     "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0"
/// );
/// ```
pub fn sign(body: &[u8], secret: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `signature` (the `X-Signature` header, hex, either case) is the HMAC-SHA256 of
/// `body` with `secret` (the official SDKs' `verifyWebhook`). The comparison takes the same
/// time whichever byte differs; a signature that is not 64 hex digits is simply wrong.
///
/// ```
/// use stream_chat_protocol::webhook::{sign, verify_webhook};
/// let sig = sign(b"{}", b"s");
/// assert!(verify_webhook(b"{}", &sig.to_uppercase(), b"s"));
/// assert!(!verify_webhook(b"{}", &sig, b"other secret"));
/// assert!(!verify_webhook(b"{}", "not hex", b"s"));
/// ```
pub fn verify_webhook(body: &[u8], signature: &str, secret: &[u8]) -> bool {
    let Some(expected) = decode_hex(signature.trim()) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}
