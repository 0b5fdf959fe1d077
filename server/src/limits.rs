//! What one client may ask of the server: the user-id rule shared by `POST /users` and
//! token claims, the custom-data size of users, channels and messages, and the per-user
//! per-endpoint rate limits (issue 15). No axum here: the HTTP side is `routes/limits.rs`.

use crate::config::MAX_USER_ID_BYTES;

/// Why `id` is not a valid user id, if it is not: the one rule for `POST /users`, members
/// and the `user_id` claim of tokens (REST and WebSocket). A long id is not echoed back.
pub(crate) fn user_id_problem(id: &str) -> Option<String> {
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '*';
    if id.is_empty() || id.len() > MAX_USER_ID_BYTES {
        return Some(format!(
            "user id is not valid: it has {} bytes, use 1 to {MAX_USER_ID_BYTES}",
            id.len()
        ));
    }
    if id.chars().any(bad_char) {
        return Some(format!(
            "user id '{}' is not valid: use 1 to {MAX_USER_ID_BYTES} characters without spaces, control characters or '*'",
            id.escape_debug()
        ));
    }
    None
}
