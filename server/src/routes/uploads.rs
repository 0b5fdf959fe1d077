//! Upload endpoints: `POST /channels/{type}/{id}/file|image` (multipart, streamed to the
//! file store block by block), `DELETE` of the same paths with `?url=`, and
//! `GET /uploads/{id}/{name}`, which serves the bytes back with range requests.
//!
//! An upload's body is read as it arrives and never held whole: multer splits the parts,
//! each block of the `file` part goes to the store (one copy from the socket's buffers).
//! Its size is capped by the server's `max_upload_bytes` (code 22, HTTP 413 beyond) while
//! every other route keeps its 1 MiB. A request refused before its end (bad auth, no
//! permission, too large, not an image) still has the rest of its body read and discarded,
//! within limits, so the client, which is usually still sending, gets the answer rather
//! than a reset connection.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Json;
use axum::body::{Body, HttpBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use serde_json::{Value, json};
use stream_chat_protocol::uploads::{FILE_PART, USER_PART};
use stream_chat_protocol::{UploadFileResponse, UploadedFile, codes};

use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::config::{
    UPLOAD_BLOCK_BYTES, UPLOAD_DRAIN_BYTES, UPLOAD_DRAIN_TIMEOUT, UPLOAD_FORM_OVERHEAD_BYTES,
};
use crate::domain::channels::ChannelKey;
use crate::domain::uploads::FileKind;
use crate::domain::uploads::{Upload, storage_error};
use crate::error::{ApiError, ApiResult};

/// The path parameters `{type}` and `{id}`.
type ChannelPath = Result<Path<(String, String)>, PathRejection>;

/// The longest `user` part read.
const MAX_USER_PART_BYTES: usize = 64 * 1024;

/// `POST /channels/{type}/{id}/file`.
pub(super) async fn upload_file(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    request: Request,
) -> Response {
    upload(state, FileKind::File, path, request).await
}

/// `POST /channels/{type}/{id}/image`.
pub(super) async fn upload_image(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    request: Request,
) -> Response {
    upload(state, FileKind::Image, path, request).await
}

/// `DELETE /channels/{type}/{id}/file?url=`.
pub(super) async fn delete_file(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    delete(state, "DeleteFile", path, req).await
}

/// `DELETE /channels/{type}/{id}/image?url=`.
pub(super) async fn delete_image(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    delete(state, "DeleteImage", path, req).await
}

async fn delete(
    state: Arc<AppState>,
    op: &str,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    let actor = req.auth(&state, op)?;
    let (kind, id) = path_params(op, path)?;
    let key = ChannelKey::new(op, kind, id)?;
    let url = req.param("url");
    tokio::task::block_in_place(|| state.chat.delete_upload(op, actor, &key, url))?;
    Ok(Json(json!({"duration": DURATION})))
}

async fn upload(
    state: Arc<AppState>,
    kind: FileKind,
    path: ChannelPath,
    request: Request,
) -> Response {
    let op = match kind {
        FileKind::File => "SendFile",
        FileKind::Image => "SendImage",
    };
    let (parts, mut body) = request.into_parts();
    let query = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let cap = state
        .config
        .max_upload_bytes
        .saturating_add(UPLOAD_FORM_OVERHEAD_BYTES);
    let result = {
        let stream = Capped {
            body: &mut body,
            seen: 0,
            cap,
            over: false,
            paused: false,
        };
        let incoming = Incoming {
            state: &state,
            op,
            kind,
            query: &query,
            headers: &parts.headers,
        };
        incoming.receive(path, stream).await
    };
    match result {
        Ok(file) => Json(UploadFileResponse::new(file, DURATION)).into_response(),
        Err(e) => {
            drain(&mut body).await;
            e.into_response()
        }
    }
}

/// One upload request being received.
struct Incoming<'a> {
    state: &'a AppState,
    op: &'static str,
    kind: FileKind,
    query: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
}

impl Incoming<'_> {
    async fn receive(&self, path: ChannelPath, stream: Capped<'_>) -> ApiResult<UploadedFile> {
        let op = self.op;
        let actor = super::authenticate(self.state, self.query, self.headers, op)?;
        let (kind, id) = path_params(op, path)?;
        let key = ChannelKey::new(op, kind, id)?;
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let boundary = multer::parse_boundary(content_type).map_err(|_| {
            ApiError::input(op, "the body must be multipart/form-data with a boundary")
        })?;
        let mut form = multer::Multipart::new(stream, boundary);
        let mut user: Option<String> = None;
        let mut stored: Option<(Upload, String, String)> = None;
        while let Some(mut field) = form.next_field().await.map_err(|e| form_error(op, &e))? {
            match field.name() {
                Some(FILE_PART) if stored.is_none() => {
                    let name = field.file_name().unwrap_or("file").to_owned();
                    let declared = field.content_type().map(|m| m.essence_str().to_owned());
                    let actor = actor.clone();
                    let chat = &self.state.chat;
                    let upload = tokio::task::block_in_place(|| {
                        chat.begin_upload(op, actor, &key, self.kind, user.as_deref())
                    })?;
                    let upload = self.store(upload, &mut field).await?;
                    let content_type = self.content_type(&upload, &name, declared.as_deref())?;
                    stored = Some((upload, name, content_type));
                }
                Some(USER_PART) => {
                    let text = read_small(op, &mut field).await?;
                    user = acting_user(&text);
                }
                _ => {
                    while field
                        .chunk()
                        .await
                        .map_err(|e| form_error(op, &e))?
                        .is_some()
                    {}
                }
            }
        }
        let Some((mut upload, name, content_type)) = stored else {
            return Err(ApiError::input(op, "the multipart field 'file' is missing"));
        };
        if let Some(user) = &user {
            upload.set_owner(user);
        }
        let chat = &self.state.chat;
        let meta = tokio::task::block_in_place(|| upload.commit(chat, &name, &content_type))
            .map_err(|e| storage_error(op, &e))?;
        tracing::debug!(id = %meta.id, size = meta.size, cid = %meta.cid, "file uploaded");
        Ok(UploadedFile::new(format!(
            "{}/uploads/{}/{}",
            self.base_url(),
            meta.id,
            encode_segment(&name)
        )))
    }

    /// Streams the `file` part into `upload` in blocks; checks an image's magic as soon as
    /// its first bytes are in, and the size against the limit as it grows.
    async fn store(&self, mut upload: Upload, field: &mut multer::Field<'_>) -> ApiResult<Upload> {
        let op = self.op;
        let limit = self.state.config.max_upload_bytes;
        let mut block = BytesMut::new();
        loop {
            let chunk = field.chunk().await.map_err(|e| form_error(op, &e))?;
            let end = chunk.is_none();
            if let Some(chunk) = chunk {
                if upload.size() + (block.len() + chunk.len()) as u64 > limit {
                    return Err(too_large(op, limit));
                }
                block.extend_from_slice(&chunk);
            }
            if block.len() >= UPLOAD_BLOCK_BYTES || (end && !block.is_empty()) {
                let full = block.split().freeze();
                tokio::task::block_in_place(|| upload.write(full))
                    .map_err(|e| storage_error(op, &e))?;
                if self.kind == FileKind::Image && upload.has_head() {
                    self.check_image(&upload)?;
                }
            }
            if end {
                return Ok(upload);
            }
        }
    }

    fn check_image(&self, upload: &Upload) -> ApiResult<&'static str> {
        upload.image_type().ok_or_else(|| {
            ApiError::input(
                self.op,
                "the file is not an image of a supported type (png, jpeg, gif, webp, bmp, \
                 heic, heif, avif): its first bytes are not an image's",
            )
        })
    }

    /// An image's type comes from its bytes; a file's from the part, or its name.
    fn content_type(
        &self,
        upload: &Upload,
        name: &str,
        declared: Option<&str>,
    ) -> ApiResult<String> {
        if self.kind == FileKind::Image {
            return self.check_image(upload).map(str::to_owned);
        }
        let declared = declared.filter(|t| !t.starts_with("multipart/") && t.contains('/'));
        Ok(declared
            .map(str::to_owned)
            .or_else(|| upload.image_type().map(str::to_owned))
            .unwrap_or_else(|| type_from_name(name).to_owned()))
    }

    /// `http://<Host>`, as the client reached us.
    fn base_url(&self) -> String {
        let host = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| self.state.config.addr.to_string());
        format!("http://{host}")
    }
}

/// The user id of a `user` part: a user object (`{"id": …}`), or a bare id.
fn acting_user(text: &str) -> Option<String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(user)) => user.get("id").and_then(Value::as_str).map(str::to_owned),
        Ok(Value::String(id)) => Some(id),
        _ => Some(text.trim().to_owned()).filter(|id| !id.is_empty()),
    }
}

async fn read_small(op: &str, field: &mut multer::Field<'_>) -> ApiResult<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| form_error(op, &e))? {
        if bytes.len() + chunk.len() > MAX_USER_PART_BYTES {
            return Err(ApiError::input(op, "the 'user' field is too large"));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn too_large(op: &str, limit: u64) -> ApiError {
    ApiError::op(
        op,
        codes::PAYLOAD_TOO_BIG,
        format!("the file is larger than the server's limit of {limit} bytes"),
    )
}

fn form_error(op: &str, e: &multer::Error) -> ApiError {
    match e {
        multer::Error::StreamReadFailed(inner) if inner.is::<TooLarge>() => ApiError::op(
            op,
            codes::PAYLOAD_TOO_BIG,
            "the request body is larger than the server's upload limit",
        ),
        other => ApiError::input(op, format!("invalid multipart body: {other}")),
    }
}

/// The body grew past the upload cap.
#[derive(Debug)]
struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body is larger than the upload limit")
    }
}

impl std::error::Error for TooLarge {}

/// The request body as a stream of blocks, failing once it grows past `cap`. It borrows
/// the body, so what is left of it can be drained after a refusal.
///
/// It hands out one block per poll: after each it answers `Pending` once (waking itself at
/// once), because multer reads its stream until `Pending` into a buffer of its own; without
/// the pause a fast sender would have the whole body buffered there before a byte is stored.
struct Capped<'a> {
    body: &'a mut Body,
    seen: u64,
    cap: u64,
    over: bool,
    /// A block was just handed out: pause before the next.
    paused: bool,
}

impl Stream for Capped<'_> {
    type Item = Result<Bytes, TooLarge>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.over {
            return Poll::Ready(None);
        }
        if std::mem::take(&mut self.paused) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        loop {
            let frame = match Pin::new(&mut *self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                // A broken connection ends the form early; multer reports it incomplete.
                Poll::Ready(Some(Err(_))) => return Poll::Ready(None),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            self.seen += data.len() as u64;
            if self.seen > self.cap {
                self.over = true;
                return Poll::Ready(Some(Err(TooLarge)));
            }
            self.paused = true;
            return Poll::Ready(Some(Ok(data)));
        }
    }
}

/// Reads and discards what is left of a refused request's body, at most
/// [`UPLOAD_DRAIN_BYTES`] within [`UPLOAD_DRAIN_TIMEOUT`].
async fn drain(body: &mut Body) {
    let discard = async {
        let mut total = 0u64;
        while let Some(Ok(frame)) =
            std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
        {
            total += frame.data_ref().map_or(0, |d| d.len() as u64);
            if total > UPLOAD_DRAIN_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(UPLOAD_DRAIN_TIMEOUT, discard).await;
}

/// `GET /uploads/{id}/{name}`: the stored bytes, with `Content-Type`, `Content-Length`,
/// `Accept-Ranges: bytes`; a single `Range` gets 206 with `Content-Range`, an unsatisfiable
/// one 416. Public, like Stream's CDN URLs.
pub(super) async fn serve(
    State(state): State<Arc<AppState>>,
    Path((id, _name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let op = "GetFile";
    let meta = match tokio::task::block_in_place(|| state.chat.uploaded_file(&id)) {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            return ApiError::not_found(op, format!("file '{id}' does not exist")).into_response();
        }
        Err(e) => return storage_error(op, &e).into_response(),
    };
    let size = meta.size;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(spec) => match parse_range(spec, size) {
            RangeSpec::Satisfiable(range) => Some(range),
            RangeSpec::Ignored => None,
            RangeSpec::Unsatisfiable => {
                let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                let h = response.headers_mut();
                h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
                insert(h, header::CONTENT_RANGE, &format!("bytes */{size}"));
                return response;
            }
        },
    };
    let span = range.clone().unwrap_or(0..size);
    let reader = match tokio::task::block_in_place(|| state.chat.read_upload(&id, span.clone())) {
        Ok(Some(reader)) => reader,
        Ok(None) => {
            return ApiError::not_found(op, format!("file '{id}' does not exist")).into_response();
        }
        Err(e) => return storage_error(op, &e).into_response(),
    };
    let chunks = futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let (next, reader) = tokio::task::spawn_blocking(move || (reader.next_chunk(), reader))
            .await
            .ok()?;
        match next {
            Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk), Some(reader))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = Body::from_stream(chunks).into_response();
    let h = response.headers_mut();
    insert(h, header::CONTENT_TYPE, &meta.content_type);
    insert(
        h,
        header::CONTENT_LENGTH,
        &(span.end - span.start).to_string(),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    if range.is_some() {
        let last = span.end.saturating_sub(1);
        insert(
            h,
            header::CONTENT_RANGE,
            &format!("bytes {}-{last}/{size}", span.start),
        );
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    response
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq)]
enum RangeSpec {
    Satisfiable(std::ops::Range<u64>),
    /// Not one byte range we serve (another unit, several ranges): the whole file.
    Ignored,
    /// A byte range outside the file, or malformed: 416.
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` (RFC 9110 §14.1.2).
fn parse_range(spec: &str, size: u64) -> RangeSpec {
    let Some(set) = spec.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignored;
    };
    if set.contains(',') {
        return RangeSpec::Ignored;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeSpec::Unsatisfiable;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| s.parse::<u64>().ok();
    let range = match (first.is_empty(), last.is_empty()) {
        (true, true) => None,
        // The last n bytes.
        (true, false) => number(last)
            .filter(|n| *n > 0 && size > 0)
            .map(|n| size.saturating_sub(n)..size),
        (false, true) => number(first).filter(|a| *a < size).map(|a| a..size),
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a <= b && a < size => Some(a..b.min(size - 1) + 1),
            _ => None,
        },
    };
    range.map_or(RangeSpec::Unsatisfiable, RangeSpec::Satisfiable)
}

/// A path segment with everything but unreserved characters percent-encoded.
fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() { "file".into() } else { out }
}

/// A content type from a file name's extension (`application/octet-stream` otherwise).
fn type_from_name(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("csv") => "text/csv",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("mp4") => "video/mp4",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        use RangeSpec::*;
        assert_eq!(parse_range("bytes=0-0", 10), Satisfiable(0..1));
        assert_eq!(parse_range("bytes=2-5", 10), Satisfiable(2..6));
        assert_eq!(parse_range("bytes=8-100", 10), Satisfiable(8..10));
        assert_eq!(parse_range("bytes=7-", 10), Satisfiable(7..10));
        assert_eq!(parse_range("bytes=-3", 10), Satisfiable(7..10));
        assert_eq!(parse_range("bytes=-30", 10), Satisfiable(0..10));
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-2", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=x-1", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,4-5", 10), Ignored);
        assert_eq!(parse_range("items=0-1", 10), Ignored);
    }

    #[test]
    fn file_names_are_safe_path_segments() {
        assert_eq!(encode_segment("a b/c.png"), "a%20b%2Fc.png");
        assert_eq!(encode_segment(""), "file");
        assert_eq!(
            acting_user(r#"{"id":"bob","name":"B"}"#).as_deref(),
            Some("bob")
        );
        assert_eq!(acting_user("bob").as_deref(), Some("bob"));
        assert_eq!(type_from_name("Report.PDF"), "application/pdf");
    }
}
