//! File and image uploads (`POST /channels/{type}/{id}/file|image`): the response, the
//! multipart field names, and the image formats recognised by their first bytes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The multipart part carrying the file's bytes.
pub const FILE_PART: &str = "file";
/// The optional multipart part with the acting user as JSON (server-side uploads).
pub const USER_PART: &str = "user";

/// An uploaded file as the server answers it (Android's `UploadedFile`): the URL the bytes
/// are served at, and a thumbnail URL when the server made one.
///
/// ```
/// let f: stream_chat_protocol::UploadedFile =
///     serde_json::from_str(r#"{"file":"http://h/uploads/1/a.png","duration":"1ms"}"#).unwrap();
/// assert_eq!(f.file, "http://h/uploads/1/a.png");
/// assert_eq!(f.thumb_url, None);
/// assert!(f.extra.is_empty(), "duration is not custom data");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// Where the uploaded bytes are served (`GET`, range requests allowed).
    pub file: String,
    /// A thumbnail (videos on Stream's CDN); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    /// Server-side processing time; not kept when decoding.
    #[serde(default, skip_serializing)]
    duration: Option<String>,
    /// Any other field of the response.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UploadedFile {
    /// An uploaded file served at `url`.
    ///
    /// ```
    /// let f = stream_chat_protocol::UploadedFile::new("http://h/f");
    /// assert_eq!(serde_json::to_value(&f).unwrap(), serde_json::json!({"file": "http://h/f"}));
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        UploadedFile {
            file: url.into(),
            ..UploadedFile::default()
        }
    }

    /// A message attachment for this file (`{"type": "file", "asset_url", "title",
    /// "mime_type", "file_size"}`), as the official clients send it.
    ///
    /// ```
    /// let a = stream_chat_protocol::UploadedFile::new("http://h/f.pdf").file_attachment("f.pdf", "application/pdf", 12);
    /// assert_eq!(a["type"], "file");
    /// assert_eq!(a["asset_url"], "http://h/f.pdf");
    /// assert_eq!(a["file_size"], 12);
    /// ```
    pub fn file_attachment(&self, title: &str, mime_type: &str, file_size: u64) -> Value {
        serde_json::json!({
            "type": "file",
            "asset_url": self.file,
            "title": title,
            "mime_type": mime_type,
            "file_size": file_size,
        })
    }

    /// A message attachment for this image (`{"type": "image", "image_url", "fallback"}`,
    /// with `thumb_url` when there is one).
    ///
    /// ```
    /// let a = stream_chat_protocol::UploadedFile::new("http://h/cat.png").image_attachment("cat.png");
    /// assert_eq!((a["type"].as_str(), a["image_url"].as_str()), (Some("image"), Some("http://h/cat.png")));
    /// ```
    pub fn image_attachment(&self, title: &str) -> Value {
        let mut a = serde_json::json!({
            "type": "image",
            "image_url": self.file,
            "fallback": title,
        });
        if let Some(thumb) = &self.thumb_url {
            a["thumb_url"] = Value::String(thumb.clone());
        }
        a
    }

    /// The same with the response's `duration` field, as a server writes it.
    ///
    /// ```
    /// let f = stream_chat_protocol::UploadedFile::new("u").with_duration("2ms");
    /// assert_eq!(serde_json::to_value(&f).unwrap()["file"], "u");
    /// ```
    pub fn with_duration(mut self, duration: impl Into<String>) -> Self {
        self.duration = Some(duration.into());
        self
    }
}

/// The response body a server writes for an upload: the file and `duration`.
///
/// ```
/// let body = stream_chat_protocol::UploadFileResponse::new(stream_chat_protocol::UploadedFile::new("u"), "0ms");
/// assert_eq!(serde_json::to_value(&body).unwrap(), serde_json::json!({"file": "u", "duration": "0ms"}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UploadFileResponse {
    /// The uploaded file.
    #[serde(flatten)]
    pub file: UploadedFile,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

impl UploadFileResponse {
    /// The response for `file`.
    ///
    /// ```
    /// let r = stream_chat_protocol::UploadFileResponse::new(stream_chat_protocol::UploadedFile::new("u"), "1ms");
    /// assert_eq!(r.duration, "1ms");
    /// ```
    pub fn new(file: UploadedFile, duration: impl Into<String>) -> Self {
        UploadFileResponse {
            file,
            duration: duration.into(),
        }
    }
}

/// How many leading bytes [`image_type`] needs to recognise every format it knows.
pub const IMAGE_SNIFF_LEN: usize = 16;

/// The MIME type of an image recognised by its first bytes (its "magic"): PNG, JPEG, GIF,
/// WebP, BMP, HEIC/HEIF and AVIF. `None` for anything else, an empty file included.
///
/// ```
/// use stream_chat_protocol::uploads::image_type;
/// assert_eq!(image_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
/// assert_eq!(image_type(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
/// assert_eq!(image_type(b"GIF89a"), Some("image/gif"));
/// assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
/// assert_eq!(image_type(b"\0\0\0\x1cftypavif"), Some("image/avif"));
/// assert_eq!(image_type(b"%PDF-1.7"), None);
/// assert_eq!(image_type(b""), None);
/// ```
pub fn image_type(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if starts(b"\xff\xd8\xff") {
        return Some("image/jpeg");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("image/gif");
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if head.len() >= 14 && starts(b"BM") {
        return Some("image/bmp");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b"avif" | b"avis" => Some("image/avif"),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => Some("image/heic"),
            b"mif1" | b"msf1" => Some("image/heif"),
            _ => None,
        };
    }
    None
}
