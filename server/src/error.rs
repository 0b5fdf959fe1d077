//! Stream-shaped errors: a code, its HTTP status and a message. The domain returns them;
//! the HTTP side (`routes`) renders them as Stream's error JSON.

use stream_chat_protocol::{ApiErrorBody, codes};

/// An error answered as Stream's error JSON with the matching HTTP status.
#[derive(Debug, Clone)]
pub(crate) struct ApiError(pub Box<ApiErrorBody>);

impl ApiError {
    /// `code` with its usual status and a plain message.
    pub(crate) fn plain(code: i32, message: impl Into<String>) -> Self {
        ApiError(Box::new(ApiErrorBody::new(code, message)))
    }

    /// Stream's form: `<op> failed with error: "<detail>"`.
    pub(crate) fn op(op: &str, code: i32, detail: impl AsRef<str>) -> Self {
        Self::plain(
            code,
            format!("{op} failed with error: \"{}\"", detail.as_ref()),
        )
    }

    /// Input error (code 4, HTTP 400).
    pub(crate) fn input(op: &str, detail: impl AsRef<str>) -> Self {
        Self::op(op, codes::INPUT, detail)
    }

    /// An error with an explicit HTTP status.
    pub(crate) fn with_status(code: i32, status: u16, message: impl Into<String>) -> Self {
        ApiError(Box::new(ApiErrorBody::with_status(code, status, message)))
    }

    /// Not found (code 16, HTTP 404).
    pub(crate) fn not_found(op: &str, detail: impl AsRef<str>) -> Self {
        Self::op(op, codes::DOES_NOT_EXIST, detail)
    }

    /// Not allowed (code 17, HTTP 403).
    pub(crate) fn forbidden(op: &str, detail: impl AsRef<str>) -> Self {
        Self::op(op, codes::NOT_ALLOWED, detail)
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;
