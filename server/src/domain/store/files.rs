//! Uploaded files: a narrow [`FileStore`] (write a file block by block, read a byte range
//! chunk by chunk, remove one or a channel's), kept apart from [`super::Store`] because
//! files are large and streamed outside the world's lock. Two backends: [`MemoryFiles`]
//! (the default) and [`DirFiles`] (`--data-dir`: one data file and one metadata file per
//! upload). A durable store may implement it too.
//!
//! Neither backend copies a block it is handed: an upload costs its size once (in memory)
//! or a block at a time (on disk).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::config::UPLOAD_BLOCK_BYTES;

/// Which route a file came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FileKind {
    File,
    Image,
}

/// What is known of a stored file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileMeta {
    pub id: String,
    /// The channel it was uploaded to.
    pub cid: String,
    pub kind: FileKind,
    /// The file name the client gave.
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// The uploader's user id (empty for a server token without a `user`).
    pub owner: String,
    pub created_at: String,
}

/// Uploaded files. Blocking calls: the routes run them off the async workers.
pub(crate) trait FileStore: Send + Sync {
    /// Starts writing file `id`; nothing is visible until [`FileSink::commit`], and a sink
    /// dropped before it leaves nothing behind.
    fn create(&self, id: &str) -> io::Result<Box<dyn FileSink>>;
    /// A file's metadata.
    fn meta(&self, id: &str) -> io::Result<Option<FileMeta>>;
    /// Reads `range` of file `id` (within its size) chunk by chunk.
    fn read(&self, id: &str, range: Range<u64>) -> io::Result<Option<Box<dyn ChunkReader>>>;
    /// Removes a file; its metadata if it existed.
    fn remove(&self, id: &str) -> io::Result<Option<FileMeta>>;
    /// Removes every file of channel `cid`; how many there were.
    fn remove_channel(&self, cid: &str) -> io::Result<usize>;
}

/// A file being written.
pub(crate) trait FileSink: Send {
    /// Appends a block (kept as is by the memory backend).
    fn write(&mut self, block: Bytes) -> io::Result<()>;
    /// Makes the file visible with `meta`.
    fn commit(self: Box<Self>, meta: FileMeta) -> io::Result<()>;
}

/// A byte range being read.
pub(crate) trait ChunkReader: Send {
    /// The next chunk, `None` at the end of the range.
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>>;
}

/// Stored files by id: metadata and the shared blocks.
type FileMap = HashMap<String, (FileMeta, Arc<Vec<Bytes>>)>;
type MemoryMap = Arc<Mutex<FileMap>>;

/// Files in memory, each a list of shared blocks.
#[derive(Default)]
pub(crate) struct MemoryFiles {
    files: MemoryMap,
}

fn lock(map: &MemoryMap) -> std::sync::MutexGuard<'_, FileMap> {
    map.lock().unwrap_or_else(PoisonError::into_inner)
}

struct MemorySink {
    id: String,
    blocks: Vec<Bytes>,
    files: MemoryMap,
}

impl FileSink for MemorySink {
    fn write(&mut self, block: Bytes) -> io::Result<()> {
        self.blocks.push(block);
        Ok(())
    }

    fn commit(self: Box<Self>, meta: FileMeta) -> io::Result<()> {
        let sink = *self;
        lock(&sink.files).insert(sink.id, (meta, Arc::new(sink.blocks)));
        Ok(())
    }
}

/// Walks the blocks, slicing the first and last to the range (no copies).
struct MemoryReader {
    blocks: Arc<Vec<Bytes>>,
    index: usize,
    /// Offset of `blocks[index]` in the file.
    offset: u64,
    range: Range<u64>,
}

impl ChunkReader for MemoryReader {
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        while let Some(block) = self.blocks.get(self.index) {
            let (start, end) = (self.offset, self.offset + block.len() as u64);
            self.index += 1;
            self.offset = end;
            if end <= self.range.start {
                continue;
            }
            if start >= self.range.end {
                return Ok(None);
            }
            let from = self.range.start.saturating_sub(start) as usize;
            let to = (self.range.end.min(end) - start) as usize;
            return Ok(Some(block.slice(from..to)));
        }
        Ok(None)
    }
}

impl FileStore for MemoryFiles {
    fn create(&self, id: &str) -> io::Result<Box<dyn FileSink>> {
        Ok(Box::new(MemorySink {
            id: id.to_owned(),
            blocks: Vec::new(),
            files: Arc::clone(&self.files),
        }))
    }

    fn meta(&self, id: &str) -> io::Result<Option<FileMeta>> {
        Ok(lock(&self.files).get(id).map(|(meta, _)| meta.clone()))
    }

    fn read(&self, id: &str, range: Range<u64>) -> io::Result<Option<Box<dyn ChunkReader>>> {
        let Some((_, blocks)) = lock(&self.files).get(id).cloned() else {
            return Ok(None);
        };
        Ok(Some(Box::new(MemoryReader {
            blocks,
            index: 0,
            offset: 0,
            range,
        })))
    }

    fn remove(&self, id: &str) -> io::Result<Option<FileMeta>> {
        Ok(lock(&self.files).remove(id).map(|(meta, _)| meta))
    }

    fn remove_channel(&self, cid: &str) -> io::Result<usize> {
        let mut files = lock(&self.files);
        let before = files.len();
        files.retain(|_, (meta, _)| meta.cid != cid);
        Ok(before - files.len())
    }
}

/// Files in a directory: `<id>` holds the bytes, `<id>.json` the metadata (written last,
/// so a file without one is an unfinished upload and is ignored).
pub(crate) struct DirFiles {
    dir: PathBuf,
}

impl DirFiles {
    /// Files under `dir`, which exists.
    pub(crate) fn new(dir: PathBuf) -> Self {
        DirFiles { dir }
    }

    /// The path of `id` with `suffix`; ids are the server's own (hex and dashes), anything
    /// else names no file.
    fn path(&self, id: &str, suffix: &str) -> Option<PathBuf> {
        let safe = !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        safe.then(|| self.dir.join(format!("{id}{suffix}")))
    }

    fn invalid(id: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("'{id}' is not a file id"),
        )
    }
}

fn read_meta(path: &Path) -> io::Result<Option<FileMeta>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

struct DirSink {
    file: fs::File,
    part: PathBuf,
    data: PathBuf,
    meta: PathBuf,
    committed: bool,
}

impl FileSink for DirSink {
    fn write(&mut self, block: Bytes) -> io::Result<()> {
        self.file.write_all(&block)
    }

    fn commit(mut self: Box<Self>, meta: FileMeta) -> io::Result<()> {
        self.file.flush()?;
        fs::rename(&self.part, &self.data)?;
        let json = serde_json::to_vec(&meta).map_err(io::Error::other)?;
        fs::write(&self.meta, json)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for DirSink {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.part);
        }
    }
}

struct DirReader {
    file: fs::File,
    left: u64,
}

impl ChunkReader for DirReader {
    fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if self.left == 0 {
            return Ok(None);
        }
        let want = self.left.min(UPLOAD_BLOCK_BYTES as u64) as usize;
        let mut buf = vec![0; want];
        let mut filled = 0;
        while filled < want {
            match self.file.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the stored file is shorter than its metadata says",
            ));
        }
        buf.truncate(filled);
        self.left -= filled as u64;
        Ok(Some(Bytes::from(buf)))
    }
}

impl FileStore for DirFiles {
    fn create(&self, id: &str) -> io::Result<Box<dyn FileSink>> {
        let (Some(part), Some(data), Some(meta)) = (
            self.path(id, ".part"),
            self.path(id, ""),
            self.path(id, ".json"),
        ) else {
            return Err(Self::invalid(id));
        };
        Ok(Box::new(DirSink {
            file: fs::File::create(&part)?,
            part,
            data,
            meta,
            committed: false,
        }))
    }

    fn meta(&self, id: &str) -> io::Result<Option<FileMeta>> {
        match self.path(id, ".json") {
            Some(path) => read_meta(&path),
            None => Ok(None),
        }
    }

    fn read(&self, id: &str, range: Range<u64>) -> io::Result<Option<Box<dyn ChunkReader>>> {
        let Some(path) = self.path(id, "") else {
            return Ok(None);
        };
        if self.meta(id)?.is_none() {
            return Ok(None);
        }
        let mut file = match fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        file.seek(SeekFrom::Start(range.start))?;
        Ok(Some(Box::new(DirReader {
            file,
            left: range.end.saturating_sub(range.start),
        })))
    }

    fn remove(&self, id: &str) -> io::Result<Option<FileMeta>> {
        let (Some(data), Some(meta_path)) = (self.path(id, ""), self.path(id, ".json")) else {
            return Ok(None);
        };
        let meta = read_meta(&meta_path)?;
        if meta.is_some() {
            remove_if_present(&meta_path)?;
            remove_if_present(&data)?;
        }
        Ok(meta)
    }

    fn remove_channel(&self, cid: &str) -> io::Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if read_meta(&path)?.is_some_and(|m| m.cid == cid) && self.remove(id)?.is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, cid: &str, size: u64) -> FileMeta {
        FileMeta {
            id: id.into(),
            cid: cid.into(),
            kind: FileKind::File,
            name: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            size,
            owner: "u".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn read_all(store: &dyn FileStore, id: &str, range: Range<u64>) -> Vec<u8> {
        let mut reader = store.read(id, range).unwrap().unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = reader.next_chunk().unwrap() {
            out.extend_from_slice(&chunk);
        }
        out
    }

    fn exercise(store: &dyn FileStore) {
        let mut sink = store.create("0a-1").unwrap();
        for block in [&b"hello "[..], b"wide ", b"world"] {
            sink.write(Bytes::copy_from_slice(block)).unwrap();
        }
        assert_eq!(store.meta("0a-1").unwrap(), None, "invisible before commit");
        sink.commit(meta("0a-1", "messaging:a", 16)).unwrap();
        assert_eq!(read_all(store, "0a-1", 0..16), b"hello wide world");
        assert_eq!(read_all(store, "0a-1", 4..13), b"o wide wo");
        assert_eq!(read_all(store, "0a-1", 15..16), b"d");
        drop(store.create("0b").unwrap()); // abandoned: leaves nothing
        assert_eq!(store.meta("0b").unwrap(), None);
        let mut other = store.create("0c").unwrap();
        other.write(Bytes::from_static(b"x")).unwrap();
        other.commit(meta("0c", "messaging:b", 1)).unwrap();
        assert_eq!(store.remove_channel("messaging:a").unwrap(), 1);
        assert!(store.read("0a-1", 0..1).unwrap().is_none());
        assert_eq!(store.remove("0c").unwrap().unwrap().cid, "messaging:b");
        assert_eq!(store.remove("0c").unwrap(), None);
    }

    #[test]
    fn memory_files_write_read_ranges_and_remove() {
        exercise(&MemoryFiles::default());
    }

    #[test]
    fn directory_files_write_read_ranges_and_remove() {
        let dir = std::env::temp_dir().join(format!("stream-files-{}", fastrand::u64(..)));
        fs::create_dir_all(&dir).unwrap();
        exercise(&DirFiles::new(dir.clone()));
        assert!(DirFiles::new(dir.clone()).create("../x").is_err());
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            0,
            "nothing left behind"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
