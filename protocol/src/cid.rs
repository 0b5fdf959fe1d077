//! Channel ids: the character rules the JS client checks, the 64-character cap Stream's
//! server enforces on ids, and the `<type>:<id>` form (a "cid").
//!
//! ```
//! use stream_chat_protocol::cid;
//!
//! assert_eq!(cid::parse("messaging:general"), Ok(("messaging", "general")));
//! assert_eq!(cid::format("messaging", "general"), "messaging:general");
//! assert!(cid::validate("messaging", &"x".repeat(65)).is_err());
//! ```

use std::fmt;

/// The longest channel id Stream accepts.
pub const MAX_ID_LEN: usize = 64;

/// Why a channel type, id or cid was rejected. Its `Display` is the message to show.
///
/// ```
/// use stream_chat_protocol::cid::{self, CidError};
/// assert_eq!(cid::parse("general"), Err(CidError::NotACid("general".into())));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CidError {
    /// The cid is empty.
    Empty,
    /// The cid has no `:` between type and id.
    NotACid(String),
    /// The channel type is empty or has characters other than ASCII letters, digits, `_`, `-`.
    InvalidType(String),
    /// The channel id is empty or has characters other than ASCII letters, digits, `!`, `_`, `-`.
    InvalidId(String),
    /// The channel id is longer than [`MAX_ID_LEN`].
    IdTooLong(String),
}

impl fmt::Display for CidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CidError::Empty => f.write_str("cid can not be empty"),
            CidError::NotACid(cid) => write!(
                f,
                "cid '{cid}' needs to be in the format channelType:channelId. For example, messaging:123"
            ),
            CidError::InvalidType(t) => write!(
                f,
                r#"Invalid chat type '{t}', letters, numbers and "_-" are allowed"#
            ),
            CidError::InvalidId(id) => write!(
                f,
                r#"Invalid chat id '{id}', letters, numbers and "!-_" are allowed"#
            ),
            CidError::IdTooLong(id) => write!(
                f,
                "Invalid chat id '{id}', at most {MAX_ID_LEN} characters are allowed (it has {})",
                id.len()
            ),
        }
    }
}

impl std::error::Error for CidError {}

/// Checks a channel type: one or more ASCII letters, digits, `_` or `-` (the JS client's
/// `^[\w_-]+$`). Whether the type exists is the server's business.
///
/// ```
/// use stream_chat_protocol::cid::validate_type;
/// assert!(validate_type("live-stream_2").is_ok());
/// assert!(validate_type("a:b").is_err());
/// ```
pub fn validate_type(channel_type: &str) -> Result<(), CidError> {
    let valid = !channel_type.is_empty()
        && channel_type
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(CidError::InvalidType(channel_type.to_owned()))
    }
}

/// Checks a channel id: 1 to [`MAX_ID_LEN`] ASCII letters, digits, `!`, `_` or `-` (the JS
/// client's `^[\w!_-]+$`, with the server's cap).
///
/// ```
/// use stream_chat_protocol::cid::{validate_id, CidError};
/// assert!(validate_id("!members-a_b").is_ok());
/// assert!(matches!(validate_id("a b"), Err(CidError::InvalidId(_))));
/// assert!(matches!(validate_id(&"a".repeat(65)), Err(CidError::IdTooLong(_))));
/// ```
pub fn validate_id(channel_id: &str) -> Result<(), CidError> {
    let valid = !channel_id.is_empty()
        && channel_id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'!' | b'_' | b'-'));
    if !valid {
        Err(CidError::InvalidId(channel_id.to_owned()))
    } else if channel_id.len() > MAX_ID_LEN {
        Err(CidError::IdTooLong(channel_id.to_owned()))
    } else {
        Ok(())
    }
}

/// Checks a channel type, then its id.
///
/// ```
/// assert!(stream_chat_protocol::cid::validate("messaging", "general").is_ok());
/// ```
pub fn validate(channel_type: &str, channel_id: &str) -> Result<(), CidError> {
    validate_type(channel_type)?;
    validate_id(channel_id)
}

/// Splits a cid `<type>:<id>` at its first `:` and [validates](validate) both halves.
///
/// ```
/// use stream_chat_protocol::cid::{parse, CidError};
/// assert_eq!(parse("livestream:demo"), Ok(("livestream", "demo")));
/// assert_eq!(parse(""), Err(CidError::Empty));
/// assert!(matches!(parse("a:b:c"), Err(CidError::InvalidId(_))));
/// ```
pub fn parse(cid: &str) -> Result<(&str, &str), CidError> {
    if cid.is_empty() {
        return Err(CidError::Empty);
    }
    let (channel_type, channel_id) = cid
        .split_once(':')
        .ok_or_else(|| CidError::NotACid(cid.to_owned()))?;
    validate(channel_type, channel_id)?;
    Ok((channel_type, channel_id))
}

/// The cid of a channel: `<type>:<id>` (not validated: see [`validate`]).
///
/// ```
/// assert_eq!(stream_chat_protocol::cid::format("team", "a"), "team:a");
/// ```
pub fn format(channel_type: &str, channel_id: &str) -> String {
    let mut cid = String::with_capacity(channel_type.len() + 1 + channel_id.len());
    cid.push_str(channel_type);
    cid.push(':');
    cid.push_str(channel_id);
    cid
}

/// Splits a cid at its first `:` without checking the characters: for reading what a
/// server sent. `None` without a `:` or with an empty half.
///
/// ```
/// use stream_chat_protocol::cid::split;
/// assert_eq!(split("messaging:a b"), Some(("messaging", "a b")));
/// assert_eq!(split("*"), None);
/// ```
pub fn split(cid: &str) -> Option<(&str, &str)> {
    cid.split_once(':')
        .filter(|(t, id)| !t.is_empty() && !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The assertions of the SDK's former copy, plus the cap.
    #[test]
    fn types_ids_and_cids() {
        for (t, i) in [("messaging", "general"), ("live-stream_2", "a!b_c-d")] {
            assert!(validate(t, i).is_ok(), "{t}:{i}");
        }
        for (t, i) in [
            ("", "x"),
            ("messaging", ""),
            ("a b", "x"),
            ("messaging", "a:b"),
            ("messaging", "a/b"),
            ("messaging", "ü"),
            ("messaging", &"x".repeat(MAX_ID_LEN + 1)),
        ] {
            assert!(validate(t, i).is_err(), "{t}:{i}");
        }
        assert!(validate_id(&"x".repeat(MAX_ID_LEN)).is_ok());
        assert_eq!(parse("livestream:demo"), Ok(("livestream", "demo")));
        for bad in ["", "livestream", ":demo", "livestream:", "a:b:c"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(
            parse("livestream")
                .unwrap_err()
                .to_string()
                .contains("channelType:channelId")
        );
        assert!(
            validate_id(&"x".repeat(65))
                .unwrap_err()
                .to_string()
                .contains("at most 64")
        );
        assert_eq!(split(":x"), None);
    }
}
