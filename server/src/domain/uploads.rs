//! Uploads: who may upload to or delete from a channel, the stored files behind the URLs,
//! and removing a channel's files. The bytes stream through an [`Upload`] outside the
//! world's lock (the routes feed it block by block); the lock is held only to check
//! permissions.
//!
//! Blocking: with `--data-dir` these calls touch the disk. The routes run them off the
//! async workers.

use std::io;
use std::ops::Range;

use bytes::Bytes;
use stream_chat_protocol::uploads::image_type;

use super::caller::Actor;
use super::channels::ChannelKey;
use super::permissions::Action;
pub(crate) use super::store::files::FileKind;
use super::store::files::{ChunkReader, FileMeta, FileSink};
use super::{Chat, random_id};
use crate::error::{ApiError, ApiResult};

/// An upload in progress: its id, its sink and what it has seen so far.
pub(crate) struct Upload {
    id: String,
    cid: String,
    kind: FileKind,
    owner: String,
    sink: Box<dyn FileSink>,
    size: u64,
    /// The first bytes, to recognise an image.
    head: Vec<u8>,
}

impl Upload {
    /// Bytes written so far.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The image type of the first bytes written, if they are an image's.
    pub(crate) fn image_type(&self) -> Option<&'static str> {
        image_type(&self.head)
    }

    /// Whether enough bytes were seen to tell an image, or the file ended.
    pub(crate) fn has_head(&self) -> bool {
        self.head.len() >= stream_chat_protocol::uploads::IMAGE_SNIFF_LEN
    }

    /// Appends a block.
    pub(crate) fn write(&mut self, block: Bytes) -> io::Result<()> {
        let want = stream_chat_protocol::uploads::IMAGE_SNIFF_LEN.saturating_sub(self.head.len());
        self.head.extend_from_slice(&block[..want.min(block.len())]);
        self.size += block.len() as u64;
        self.sink.write(block)
    }

    /// Sets the owner when a server-side upload names its user after the file.
    pub(crate) fn set_owner(&mut self, owner: &str) {
        if self.owner.is_empty() {
            owner.clone_into(&mut self.owner);
        }
    }

    /// Makes the file visible under `name` with `content_type`.
    pub(crate) fn commit(
        self,
        chat: &Chat,
        name: &str,
        content_type: &str,
    ) -> io::Result<FileMeta> {
        let meta = FileMeta {
            id: self.id,
            cid: self.cid,
            kind: self.kind,
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            size: self.size,
            owner: self.owner,
            created_at: chat.lock().now(),
        };
        self.sink.commit(meta.clone())?;
        Ok(meta)
    }
}

/// The id in a file URL this server handed out (`…/uploads/{id}/{name}`).
pub(crate) fn id_from_url(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let rest = &path[path.find("/uploads/")? + "/uploads/".len()..];
    rest.split('/').next().filter(|id| !id.is_empty())
}

impl Chat {
    /// Starts an upload to `key` as `actor` (code 16 for an unknown channel, 17 when the
    /// caller may not upload there: anonymous users never may). `user` is the acting user a
    /// server-side upload names, when known yet.
    pub(crate) fn begin_upload(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        kind: FileKind,
        user: Option<&str>,
    ) -> ApiResult<Upload> {
        let owner = {
            let (world, caller) = self.enter(actor)?;
            let channel = world.existing_channel(op, &key.cid)?;
            channel.require(op, &caller, Action::UploadAttachment)?;
            if caller.is_server() {
                user.unwrap_or_default().to_owned()
            } else {
                caller.id.clone()
            }
        };
        let id = random_id();
        let sink = self.files.create(&id).map_err(|e| storage_error(op, &e))?;
        Ok(Upload {
            id,
            cid: key.cid.clone(),
            kind,
            owner,
            sink,
            size: 0,
            head: Vec::new(),
        })
    }

    /// `DELETE /channels/{type}/{id}/file|image?url=`: removes a file of this channel. Its
    /// uploader, moderators and admins may (code 17 otherwise); an unknown URL, or one of
    /// another channel, is code 16.
    pub(crate) fn delete_upload(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        url: Option<&str>,
    ) -> ApiResult<()> {
        let url = url.ok_or_else(|| ApiError::input(op, "url is a required parameter"))?;
        let not_found = || ApiError::not_found(op, format!("file '{url}' does not exist"));
        let id = id_from_url(url).ok_or_else(not_found)?;
        let meta = self
            .files
            .meta(id)
            .map_err(|e| storage_error(op, &e))?
            .filter(|m| m.cid == key.cid)
            .ok_or_else(not_found)?;
        {
            let (world, caller) = self.enter(actor)?;
            let channel = world.existing_channel(op, &key.cid)?;
            let mut rel = channel.relation(&caller);
            rel.author = !caller.is_server() && meta.owner == caller.id;
            caller.check_team(op, &key.kind, channel.record.team.as_deref())?;
            caller.require(op, &key.kind, rel, Action::DeleteAttachment)?;
        }
        self.files.remove(id).map_err(|e| storage_error(op, &e))?;
        Ok(())
    }

    /// A stored file's metadata (for serving it).
    pub(crate) fn uploaded_file(&self, id: &str) -> io::Result<Option<FileMeta>> {
        self.files.meta(id)
    }

    /// Reads `range` of a stored file.
    pub(crate) fn read_upload(
        &self,
        id: &str,
        range: Range<u64>,
    ) -> io::Result<Option<Box<dyn ChunkReader>>> {
        self.files.read(id, range)
    }

    /// Removes every file uploaded to channel `cid` (a channel's deletion calls it);
    /// returns how many.
    pub(crate) fn delete_channel_files(&self, cid: &str) -> io::Result<usize> {
        let removed = self.files.remove_channel(cid)?;
        if removed > 0 {
            tracing::info!(%cid, removed, "deleted the channel's uploaded files");
        }
        Ok(removed)
    }
}

/// A storage failure, answered as Stream's internal error.
pub(crate) fn storage_error(op: &str, e: &io::Error) -> ApiError {
    tracing::error!(error = %e, "the file store failed");
    ApiError::op(
        op,
        stream_chat_protocol::codes::INTERNAL,
        format!("the server could not store the file: {e}"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_ids_come_from_the_urls_this_server_hands_out() {
        let id = super::id_from_url;
        assert_eq!(
            id("http://127.0.0.1:1/uploads/ab-12/cat.png"),
            Some("ab-12")
        );
        assert_eq!(id("http://h/uploads/ab/c.png?x=1"), Some("ab"));
        assert_eq!(id("https://cdn.example/other/ab"), None);
        assert_eq!(id("http://h/uploads/"), None);
    }
}
