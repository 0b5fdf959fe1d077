//! Uploads: what to upload ([`Upload`]: a path or any reader, with or without a known
//! length), how progress is reported ([`ProgressCallback`], Android's `ProgressCallback`),
//! and the streamed multipart body that carries it without ever holding the file whole.
//!
//! Progress runs on the client's callback executor: at most one report every 100 ms while
//! the bytes go out, then a final one with every byte, then `on_success` or `on_error` (a
//! cancelled upload gets `on_error` with [`ErrorKind::Cancelled`] once). Reports never
//! overlap and arrive in order, whatever the executor: a newer count replaces one not yet
//! delivered.

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use stream_chat_callbacks::{CancelToken, ChatError, ErrorKind, Executor};
use stream_chat_protocol::UploadedFile;
use stream_chat_protocol::uploads::{FILE_PART, USER_PART};

use crate::rest::{StreamRequest, new_request_id};

/// The shortest time between two progress reports.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Android's `ProgressCallback`: told how an upload goes. Any `Fn(u64, Option<u64>)` closure
/// is one (`on_progress` only).
///
/// ```
/// use stream_chat_client::{ChatError, ProgressCallback, UploadedFile};
///
/// struct Bar;
/// impl ProgressCallback for Bar {
///     fn on_progress(&self, sent: u64, total: Option<u64>) {
///         println!("{sent} of {total:?} bytes");
///     }
///     fn on_success(&self, file: &UploadedFile) {
///         println!("at {}", file.file);
///     }
///     fn on_error(&self, error: &ChatError) {
///         eprintln!("{error}");
///     }
/// }
/// let _as_a_closure = |sent: u64, total: Option<u64>| println!("{sent}/{total:?}");
/// ```
pub trait ProgressCallback: Send + Sync {
    /// `bytes_sent` of the file's `total` bytes (`None` when the length is unknown) are out.
    fn on_progress(&self, bytes_sent: u64, total: Option<u64>);

    /// The upload finished: the server stored the file.
    fn on_success(&self, _file: &UploadedFile) {}

    /// The upload failed or was cancelled ([`ChatError::is_cancelled`]).
    fn on_error(&self, _error: &ChatError) {}
}

impl<F: Fn(u64, Option<u64>) + Send + Sync> ProgressCallback for F {
    fn on_progress(&self, bytes_sent: u64, total: Option<u64>) {
        self(bytes_sent, total)
    }
}

/// What to upload: a file by path (opened again on each run of the call) or a reader (used
/// once), its name and content type, and a progress callback.
///
/// ```
/// use stream_chat_client::Upload;
///
/// let from_disk = Upload::from_path("/tmp/report.pdf").content_type("application/pdf");
/// assert_eq!(from_disk.file_name(), "report.pdf");
///
/// let streamed = Upload::from_reader(std::io::repeat(0).take(1024), "zeros.bin", Some(1024))
///     .on_progress(|sent, total| println!("{sent}/{total:?}"));
/// assert_eq!(streamed.length(), Some(1024));
/// # use std::io::Read;
/// ```
pub struct Upload {
    source: Source,
    name: String,
    content_type: Option<String>,
    progress: Option<Arc<dyn ProgressCallback>>,
    /// Whether a run started and whether the progress callback heard its end (once per
    /// call, even when the call is cancelled before a run starts).
    ends: Arc<Ends>,
}

#[derive(Default)]
struct Ends {
    started: AtomicBool,
    ended: AtomicBool,
}

enum Source {
    Path(PathBuf),
    /// Taken by the first run.
    Reader {
        reader: Mutex<Option<Box<dyn Read + Send>>>,
        length: Option<u64>,
    },
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Path(p) => format!("{}", p.display()),
            Source::Reader { length, .. } => format!("reader of {length:?} bytes"),
        };
        f.debug_struct("Upload")
            .field("source", &source)
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Upload {
    /// The file at `path`; its name is the path's file name.
    ///
    /// ```
    /// assert_eq!(stream_chat_client::Upload::from_path("a/b/cat.png").file_name(), "cat.png");
    /// ```
    pub fn from_path(path: impl Into<PathBuf>) -> Upload {
        let path = path.into();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        Upload {
            source: Source::Path(path),
            name,
            content_type: None,
            progress: None,
            ends: Arc::default(),
        }
    }

    /// The bytes `reader` gives, named `name`. With `length` the request says how long it
    /// is (and a reader that gives more or fewer bytes fails the upload); without, it is
    /// sent chunked. A reader is used once: a second run of the call fails.
    ///
    /// ```
    /// let u = stream_chat_client::Upload::from_reader(&b"hello"[..], "hello.txt", None);
    /// assert_eq!(u.length(), None);
    /// ```
    pub fn from_reader(
        reader: impl Read + Send + 'static,
        name: impl Into<String>,
        length: Option<u64>,
    ) -> Upload {
        Upload {
            source: Source::Reader {
                reader: Mutex::new(Some(Box::new(reader))),
                length,
            },
            name: name.into(),
            content_type: None,
            progress: None,
            ends: Arc::default(),
        }
    }

    /// Bytes in memory, named `name`.
    ///
    /// ```
    /// assert_eq!(stream_chat_client::Upload::from_bytes(vec![1, 2, 3], "x.bin").length(), Some(3));
    /// ```
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, name: impl Into<String>) -> Upload {
        let bytes = bytes.into();
        let length = bytes.len() as u64;
        Upload::from_reader(Cursor::new(bytes), name, Some(length))
    }

    /// The content type to declare (guessed from the name otherwise; an image's type is
    /// always taken from its bytes by the server).
    ///
    /// ```
    /// let u = stream_chat_client::Upload::from_bytes(vec![], "x").content_type("text/plain");
    /// # drop(u);
    /// ```
    pub fn content_type(mut self, content_type: impl Into<String>) -> Upload {
        self.content_type = Some(content_type.into());
        self
    }

    /// Another file name than the path's.
    ///
    /// ```
    /// assert_eq!(stream_chat_client::Upload::from_path("tmp.bin").name("final.bin").file_name(), "final.bin");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Upload {
        self.name = name.into();
        self
    }

    /// Reports progress to `callback` (see the module documentation for when).
    ///
    /// ```
    /// let u = stream_chat_client::Upload::from_bytes(vec![0; 10], "x").on_progress(|sent, _| assert!(sent <= 10));
    /// # drop(u);
    /// ```
    pub fn on_progress(mut self, callback: impl ProgressCallback + 'static) -> Upload {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// The file name sent.
    pub fn file_name(&self) -> &str {
        &self.name
    }

    /// The length, when known before reading (a reader's declared length; a path's is
    /// read when the upload starts).
    pub fn length(&self) -> Option<u64> {
        match &self.source {
            Source::Path(_) => None,
            Source::Reader { length, .. } => *length,
        }
    }

    /// The reader and length for one run.
    fn open(&self) -> Result<(Box<dyn Read + Send>, Option<u64>), ChatError> {
        match &self.source {
            Source::Path(path) => open_path(path),
            Source::Reader { reader, length } => {
                let taken = reader.lock().unwrap_or_else(PoisonError::into_inner).take();
                let reader = taken.ok_or_else(|| {
                    ChatError::new(
                        ErrorKind::InvalidArgument,
                        "this upload's reader was used by an earlier run of the call; \
                         upload from a path to send the same file again",
                    )
                })?;
                Ok((reader, *length))
            }
        }
    }

    fn content_type_or_guess(&self) -> String {
        self.content_type
            .clone()
            .unwrap_or_else(|| guess_type(&self.name).to_owned())
    }
}

impl From<&Path> for Upload {
    fn from(path: &Path) -> Upload {
        Upload::from_path(path)
    }
}

impl From<PathBuf> for Upload {
    fn from(path: PathBuf) -> Upload {
        Upload::from_path(path)
    }
}

impl From<&str> for Upload {
    /// A path.
    fn from(path: &str) -> Upload {
        Upload::from_path(path)
    }
}

fn open_path(path: &Path) -> Result<(Box<dyn Read + Send>, Option<u64>), ChatError> {
    let fail = |e: io::Error| {
        let kind = if e.kind() == io::ErrorKind::NotFound {
            ErrorKind::InvalidArgument
        } else {
            ErrorKind::Network
        };
        ChatError::new(kind, format!("cannot read {}: {e}", path.display())).with_source(e)
    };
    let file = File::open(path).map_err(fail)?;
    let length = file.metadata().map_err(fail)?.len();
    Ok((Box::new(file), Some(length)))
}

/// A content type from a file name's extension.
fn guess_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("heic") => "image/heic",
        Some("avif") => "image/avif",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("json") => "application/json",
        Some("mp4") => "video/mp4",
        Some("mp3") => "audio/mpeg",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// One run of an upload: the body to send, its length and content type, and the progress
/// relay.
pub(crate) struct Prepared {
    pub(crate) body: MultipartBody,
    pub(crate) length: Option<u64>,
    pub(crate) content_type: String,
    pub(crate) relay: Option<Arc<Relay>>,
    /// File bytes read so far (the body updates it), and the file's length if known.
    sent: Arc<AtomicU64>,
    file_length: Option<u64>,
}

/// The hook that makes a call tell `upload`'s progress callback of a cancel that comes
/// before a run started (a run's own relay reports a later one): `on_error` with
/// [`ErrorKind::Cancelled`], once, on `executor`. Register it with `Call::on_cancel`.
pub(crate) fn early_cancel_hook(
    upload: &Upload,
    executor: &Executor,
) -> Option<impl FnOnce() + Send + 'static> {
    let callback = upload.progress.clone()?;
    let (ends, executor) = (Arc::clone(&upload.ends), executor.clone());
    Some(move || {
        if ends.started.load(Ordering::SeqCst) || ends.ended.swap(true, Ordering::SeqCst) {
            return;
        }
        executor.execute(Box::new(move || {
            callback.on_error(&ChatError::cancelled());
        }));
    })
}

/// Runs one upload of `upload` to `path` (as `user` for server-side uploads): frames it,
/// sends it with `send`, then reports the final count and the end to the progress callback.
pub(crate) fn run(
    upload: &Upload,
    path: &str,
    user: Option<&str>,
    executor: &Executor,
    cancel: &CancelToken,
    send: impl FnOnce(&StreamRequest<'_>, MultipartBody) -> Result<UploadedFile, ChatError>,
) -> Result<UploadedFile, ChatError> {
    let prepared = upload.prepare(executor, cancel, user)?;
    let request = StreamRequest {
        path,
        content_type: prepared.content_type,
        length: prepared.length,
    };
    let result = send(&request, prepared.body);
    if let Some(relay) = prepared.relay {
        if result.is_ok() {
            let sent = prepared.sent.load(Ordering::Relaxed);
            relay.progress(sent, prepared.file_length.or(Some(sent)));
        }
        relay.finish(result.clone());
    }
    result
}

impl Upload {
    /// Opens the source and frames it as `multipart/form-data`: the `file` part, then a
    /// `user` part naming the acting user when given (server-side uploads).
    pub(crate) fn prepare(
        &self,
        executor: &Executor,
        cancel: &CancelToken,
        user: Option<&str>,
    ) -> Result<Prepared, ChatError> {
        self.ends.started.store(true, Ordering::SeqCst);
        let relay = self.progress.as_ref().map(|cb| {
            Arc::new(Relay::new(
                Arc::clone(cb),
                executor.clone(),
                Arc::clone(&self.ends),
            ))
        });
        if let Some(relay) = &relay {
            let relay = Arc::clone(relay);
            cancel.on_cancel(move || relay.finish(Err(ChatError::cancelled())));
        }
        let (reader, length) = match self.open() {
            Ok(opened) => opened,
            Err(e) => {
                if let Some(relay) = &relay {
                    relay.finish(Err(e.clone()));
                }
                return Err(e);
            }
        };
        let boundary = format!("stream-rust-{}", new_request_id());
        let name: String = self
            .name
            .chars()
            .map(|c| {
                if matches!(c, '"' | '\r' | '\n' | '\\') {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{FILE_PART}\"; \
             filename=\"{name}\"\r\nContent-Type: {}\r\n\r\n",
            self.content_type_or_guess()
        )
        .into_bytes();
        let user_part = user
            .map(|id| {
                format!(
                    "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{USER_PART}\"\r\n\r\n{}",
                    serde_json::json!({ "id": id })
                )
            })
            .unwrap_or_default();
        let tail = format!("{user_part}\r\n--{boundary}--\r\n").into_bytes();
        let framing = (head.len() + tail.len()) as u64;
        let sent = Arc::new(AtomicU64::new(0));
        let file = Counted {
            inner: reader,
            sent: 0,
            shared: Arc::clone(&sent),
            length,
            last_report: Instant::now(),
            relay: relay.clone(),
            cancel: cancel.clone(),
        };
        Ok(Prepared {
            body: MultipartBody {
                head: Cursor::new(head),
                file,
                tail: Cursor::new(tail),
            },
            length: length.map(|l| l + framing),
            content_type: format!("multipart/form-data; boundary={boundary}"),
            relay,
            sent,
            file_length: length,
        })
    }
}

/// The request body: the part's header, the file's bytes as they are read, the closing
/// boundary. Never more than the reader's current read in memory.
pub(crate) struct MultipartBody {
    head: Cursor<Vec<u8>>,
    file: Counted,
    tail: Cursor<Vec<u8>>,
}

impl Read for MultipartBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        let n = self.file.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        self.tail.read(buf)
    }
}

/// The file's bytes: counts them, reports progress, stops at a cancel, checks the length.
struct Counted {
    inner: Box<dyn Read + Send>,
    sent: u64,
    /// `sent`, for the final report once the body was handed to the transport.
    shared: Arc<AtomicU64>,
    length: Option<u64>,
    last_report: Instant,
    relay: Option<Arc<Relay>>,
    cancel: CancelToken,
}

/// A read that fails with `error` (ureq hands it back, see `rest::send_stream`).
fn fail(error: ChatError) -> io::Error {
    io::Error::other(error)
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_canceled() {
            return Err(fail(ChatError::cancelled()));
        }
        let n = self.inner.read(buf).map_err(|e| {
            fail(
                ChatError::new(
                    ErrorKind::InvalidArgument,
                    format!("reading the file failed: {e}"),
                )
                .with_source(e),
            )
        })?;
        self.sent += n as u64;
        self.shared.store(self.sent, Ordering::Relaxed);
        match self.length {
            Some(length) if self.sent > length => {
                return Err(fail(ChatError::new(
                    ErrorKind::InvalidArgument,
                    format!("the reader gave more than its declared {length} bytes"),
                )));
            }
            Some(length) if n == 0 && self.sent < length => {
                return Err(fail(ChatError::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "the reader ended after {} of its declared {length} bytes",
                        self.sent
                    ),
                )));
            }
            _ => {}
        }
        if n > 0
            && let Some(relay) = &self.relay
            && self.last_report.elapsed() >= PROGRESS_INTERVAL
        {
            self.last_report = Instant::now();
            relay.progress(self.sent, self.length);
        }
        Ok(n)
    }
}

/// Delivers an upload's reports through the executor in order, one at a time.
pub(crate) struct Relay {
    callback: Arc<dyn ProgressCallback>,
    executor: Executor,
    ends: Arc<Ends>,
    state: Mutex<RelayState>,
}

#[derive(Default)]
struct RelayState {
    /// The newest count not yet delivered.
    progress: Option<(u64, Option<u64>)>,
    /// The last count handed in (the same count is not reported twice).
    last: Option<(u64, Option<u64>)>,
    /// The end, once known; delivered after every count.
    end: Option<Result<UploadedFile, ChatError>>,
    /// `finish` was called (later calls are ignored).
    finished: bool,
    /// A delivery task is queued or running.
    running: bool,
}

impl Relay {
    fn new(callback: Arc<dyn ProgressCallback>, executor: Executor, ends: Arc<Ends>) -> Relay {
        Relay {
            callback,
            executor,
            ends,
            state: Mutex::new(RelayState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RelayState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A count, replacing one not delivered yet (ignored once finished).
    pub(crate) fn progress(self: &Arc<Self>, sent: u64, total: Option<u64>) {
        let mut state = self.lock();
        if state.finished || state.last == Some((sent, total)) {
            return;
        }
        state.last = Some((sent, total));
        state.progress = Some((sent, total));
        self.schedule(state);
    }

    /// The end: success or failure, delivered once after the last count.
    pub(crate) fn finish(self: &Arc<Self>, end: Result<UploadedFile, ChatError>) {
        let mut state = self.lock();
        if std::mem::replace(&mut state.finished, true)
            || self.ends.ended.swap(true, Ordering::SeqCst)
        {
            return;
        }
        state.end = Some(end);
        self.schedule(state);
    }

    fn schedule(self: &Arc<Self>, mut state: std::sync::MutexGuard<'_, RelayState>) {
        if std::mem::replace(&mut state.running, true) {
            return;
        }
        drop(state);
        let relay = Arc::clone(self);
        self.executor.execute(Box::new(move || relay.deliver()));
    }

    /// Runs on the executor: delivers what is pending, counts first, until nothing is.
    fn deliver(&self) {
        loop {
            let mut state = self.lock();
            if let Some((sent, total)) = state.progress.take() {
                drop(state);
                self.callback.on_progress(sent, total);
                continue;
            }
            let Some(end) = state.end.take() else {
                state.running = false;
                return;
            };
            drop(state);
            match &end {
                Ok(file) => self.callback.on_success(file),
                Err(e) => self.callback.on_error(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_framed_and_lengths_are_checked() {
        let executor = Executor::from_fn(|task| task());
        let cancel = CancelToken::new();
        let upload = Upload::from_bytes(b"abc".to_vec(), "a \"b\".txt");
        let mut prepared = upload.prepare(&executor, &cancel, None).unwrap();
        let mut text = String::new();
        prepared.body.read_to_string(&mut text).unwrap();
        assert_eq!(prepared.length, Some(text.len() as u64));
        assert!(
            text.contains("filename=\"a _b_.txt\"\r\nContent-Type: text/plain\r\n\r\nabc\r\n--")
        );
        assert!(
            prepared
                .content_type
                .starts_with("multipart/form-data; boundary=stream-rust-")
        );
        assert!(
            upload.prepare(&executor, &cancel, None).is_err(),
            "a reader is used once"
        );
        let short = Upload::from_reader(&b"ab"[..], "s", Some(3));
        let mut body = short.prepare(&executor, &cancel, None).unwrap().body;
        assert!(body.read_to_end(&mut Vec::new()).is_err());
        cancel.cancel();
        let mut body = Upload::from_bytes(vec![1], "c")
            .prepare(&executor, &cancel, None)
            .unwrap()
            .body;
        let err = body.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(
            err.get_ref()
                .unwrap()
                .downcast_ref::<ChatError>()
                .unwrap()
                .is_cancelled()
        );
    }
}
