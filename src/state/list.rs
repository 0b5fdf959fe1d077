//! [`MessageList`]: a channel's (or a thread's) messages in order, as a persistent list of
//! `Arc`-shared chunks. A snapshot clones one `Arc`; the writer changes the list with
//! `Arc::make_mut`, which copies only what a snapshot still shares: the chunk table (one
//! pointer per [`CHUNK`] messages) and the one chunk it touches. Appending message 10,001
//! to a list an observer holds copies ~157 pointers and one chunk, never 10,000 messages.

use std::sync::Arc;

use stream_chat_protocol::Message;
use stream_chat_protocol::time::{now_nanos, parse_rfc3339};

/// Messages per chunk. A chunk splits in two past twice this.
pub(crate) const CHUNK: usize = 64;

/// Where a message is in its trip to the server (Android's `SyncStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// On the server: received from it, or sent and acknowledged.
    Synced,
    /// Sent by this client, not acknowledged yet.
    Pending,
    /// Sent by this client and refused or not delivered: retry with the same id (the server
    /// refuses a duplicate id, so a retry can never post it twice).
    Failed,
}

/// A message in the store: the message and its [`SyncStatus`].
///
/// ```
/// use stream_chat_client::state::{MessageItem, SyncStatus};
/// use stream_chat_client::Message;
/// let item = MessageItem::synced(Message { id: "m1".into(), ..Message::with_text("hi") });
/// assert_eq!((item.message.id.as_str(), item.status), ("m1", SyncStatus::Synced));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MessageItem {
    /// The message as last seen (sent, received or edited).
    pub message: Message,
    /// Whether the server has it.
    pub status: SyncStatus,
    /// Order key: `created_at` in ns since the epoch (a pending message: when it was sent).
    at: i128,
}

impl MessageItem {
    /// A message the server has.
    pub fn synced(message: Message) -> Self {
        Self::with_status(message, SyncStatus::Synced)
    }

    pub(crate) fn with_status(message: Message, status: SyncStatus) -> Self {
        let at = message
            .created_at
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or_else(now_nanos);
        MessageItem {
            message,
            status,
            at,
        }
    }

    /// A message ordered at `at` (ns since the epoch), whatever its `created_at`.
    pub(crate) fn at(message: Message, status: SyncStatus, at: i128) -> Self {
        MessageItem {
            message,
            status,
            at,
        }
    }

    /// `created_at` in ns since the Unix epoch (the order of the list), or, for a pending
    /// message without one, when it was sent.
    pub fn created_at_nanos(&self) -> i128 {
        self.at
    }

    fn key(&self) -> (i128, &str) {
        (self.at, &self.message.id)
    }
}

type Chunk = Arc<Vec<Arc<MessageItem>>>;

/// Messages ordered by `created_at` (then id), shared between snapshots in chunks.
///
/// ```
/// use stream_chat_client::state::MessageList;
/// let list = MessageList::default();
/// assert!(list.is_empty());
/// assert_eq!(list.iter().count(), 0);
/// ```
#[derive(Clone, Default)]
pub struct MessageList {
    chunks: Arc<Vec<Chunk>>,
    len: usize,
}

impl std::fmt::Debug for MessageList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|m| (&m.message.id, m.status)))
            .finish()
    }
}

impl PartialEq for MessageList {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl MessageList {
    /// How many messages.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The messages, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &MessageItem> + '_ {
        self.chunks.iter().flat_map(|c| c.iter()).map(|m| &**m)
    }

    /// Whether both share every chunk (nothing changed between two snapshots).
    #[cfg(feature = "offline")]
    pub(crate) fn shares(&self, other: &MessageList) -> bool {
        Arc::ptr_eq(&self.chunks, &other.chunks)
    }

    /// The newest message.
    pub fn last(&self) -> Option<&MessageItem> {
        self.chunks.last().and_then(|c| c.last()).map(|m| &**m)
    }

    /// The message with this id (searched from the newest).
    pub fn get(&self, id: &str) -> Option<&MessageItem> {
        self.iter().rev().find(|m| m.message.id == id)
    }

    /// The message `id` whose order key is `at` (a binary search, no scan).
    pub(crate) fn get_at(&self, at: i128, id: &str) -> Option<&MessageItem> {
        let (chunk, i, found) = self.locate(at, id);
        found.then(|| &*self.chunks[chunk][i])
    }

    /// Where `(at, id)` is or would go: (chunk, index in chunk, found).
    fn locate(&self, at: i128, id: &str) -> (usize, usize, bool) {
        let key = (at, id);
        let chunk = self
            .chunks
            .partition_point(|c| c.last().is_some_and(|m| m.key() < key))
            .min(self.chunks.len().saturating_sub(1));
        let Some(c) = self.chunks.get(chunk) else {
            return (0, 0, false);
        };
        let i = c.partition_point(|m| m.key() < key);
        (chunk, i, c.get(i).is_some_and(|m| m.key() == key))
    }

    /// Inserts `item` in order, or replaces the message with the same id (found by a scan
    /// from the newest: for short lists such as a thread).
    pub(crate) fn upsert(&mut self, item: MessageItem) {
        let old_at = self.get(&item.message.id).map(|m| m.at);
        self.upsert_known(item, old_at);
    }

    /// [`upsert`](Self::upsert) when the caller's index knows the order key the list holds
    /// for this id (`None`: it is not in the list). No scan.
    pub(crate) fn upsert_known(&mut self, item: MessageItem, old_at: Option<i128>) {
        let id = item.message.id.clone();
        if let Some(old_at) = old_at {
            if old_at == item.at {
                let (chunk, i, found) = self.locate(old_at, &id);
                if found {
                    let chunks = Arc::make_mut(&mut self.chunks);
                    Arc::make_mut(&mut chunks[chunk])[i] = Arc::new(item);
                    return;
                }
            }
            self.remove_at(old_at, &id);
        }
        self.insert(item);
    }

    fn insert(&mut self, item: MessageItem) {
        let (chunk, i, _) = self.locate(item.at, &item.message.id);
        let chunks = Arc::make_mut(&mut self.chunks);
        if chunks.is_empty() {
            // Grown as needed: most channels a client holds have a few messages.
            chunks.push(Arc::default());
        }
        let c = Arc::make_mut(&mut chunks[chunk]);
        c.insert(i, Arc::new(item));
        if c.len() > 2 * CHUNK {
            let tail = c.split_off(CHUNK);
            chunks.insert(chunk + 1, Arc::new(tail));
        }
        self.len += 1;
    }

    /// Removes the message `id` whose order key is `at`; false if it is not there.
    pub(crate) fn remove_at(&mut self, at: i128, id: &str) -> bool {
        let (chunk, i, found) = self.locate(at, id);
        if !found {
            return false;
        }
        let chunks = Arc::make_mut(&mut self.chunks);
        let c = Arc::make_mut(&mut chunks[chunk]);
        c.remove(i);
        if c.is_empty() {
            chunks.remove(chunk);
        }
        self.len -= 1;
        true
    }

    /// Removes the message `id`, wherever it is.
    pub(crate) fn remove(&mut self, id: &str) -> Option<MessageItem> {
        let item = self.get(id)?.clone();
        self.remove_at(item.at, id);
        Some(item)
    }

    /// Keeps the messages `keep` approves (rebuilds the list: truncation and clears only).
    pub(crate) fn retain(&mut self, keep: impl Fn(&MessageItem) -> bool) {
        let kept: Vec<Arc<MessageItem>> = self
            .chunks
            .iter()
            .flat_map(|c| c.iter())
            .filter(|m| keep(m))
            .cloned()
            .collect();
        self.len = kept.len();
        self.chunks = Arc::new(kept.chunks(CHUNK).map(|c| Arc::new(c.to_vec())).collect());
    }

    /// Every message's id and order key (to rebuild an index).
    pub(crate) fn keys(&self) -> impl Iterator<Item = (&str, i128)> + '_ {
        self.iter().map(|m| (m.message.id.as_str(), m.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, secs: u32) -> MessageItem {
        MessageItem::synced(Message {
            id: id.into(),
            created_at: Some(format!(
                "2024-01-01T00:00:{:02}.{:06}Z",
                secs / 1000,
                secs % 1000
            )),
            ..Message::default()
        })
    }

    #[test]
    fn keeps_order_across_chunk_splits_and_shares_untouched_chunks() {
        let mut list = MessageList::default();
        // Out of order, and more than a few chunks' worth.
        let mut order: Vec<u32> = (0..1000).collect();
        fastrand::Rng::with_seed(7).shuffle(&mut order);
        for &n in &order {
            list.upsert(item(&format!("m{n:04}"), n));
        }
        let ids: Vec<_> = list.iter().map(|m| m.message.id.clone()).collect();
        let expected: Vec<_> = (0..1000).map(|n| format!("m{n:04}")).collect();
        assert_eq!(ids, expected);
        assert_eq!(list.len(), 1000);
        let snapshot = list.clone();
        list.upsert(item("m1000", 1000));
        // Every chunk but the last is still shared with the snapshot.
        let shared = list
            .chunks
            .iter()
            .zip(snapshot.chunks.iter())
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count();
        assert_eq!(shared, snapshot.chunks.len() - 1);
        assert_eq!(snapshot.len(), 1000);
        assert!(list.remove("m0500").is_some());
        assert!(list.get("m0500").is_none() && snapshot.get("m0500").is_some());
        list.retain(|m| m.message.id.as_str() < "m0100");
        assert_eq!(list.len(), 100);
    }
}
