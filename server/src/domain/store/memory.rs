//! The in-memory [`Store`]: everything in maps, gone when the server stops. The default.

use std::collections::{BTreeMap, HashMap, HashSet};

use stream_chat_protocol::{Device, Message, Reaction, User, time};

use super::{
    BanRecord, BlockRecord, Bound, ChannelMuteRecord, ChannelRecord, FlagRecord, MemberRecord,
    MessagePage, MuteRecord, ReadRecord, Store, StoreResult, ThreadUnread, UnreadCounts, in_force,
};

/// Users, channels and usage in maps; each channel holds its members, reads and messages
/// (in posting order). Never fails.
#[derive(Default)]
pub(crate) struct MemoryStore {
    users: BTreeMap<String, User>,
    channels: BTreeMap<String, StoredChannel>,
    /// Message id to the cid of its channel.
    message_cids: HashMap<String, String>,
    /// Month (`YYYY-MM`) to the users who connected in it.
    active: HashMap<String, HashSet<String>>,
    /// Moderation state: mutes by muter, channel mutes by user, bans, flags, blocks by
    /// blocker.
    mutes: BTreeMap<String, Vec<MuteRecord>>,
    channel_mutes: BTreeMap<String, Vec<ChannelMuteRecord>>,
    bans: Vec<BanRecord>,
    flags: Vec<FlagRecord>,
    blocks: BTreeMap<String, Vec<BlockRecord>>,
    /// Message id to its reactions, in the order they were first sent.
    reactions: HashMap<String, Vec<Reaction>>,
    /// Thread (parent message id) to its readers' states.
    thread_reads: HashMap<String, BTreeMap<String, ReadRecord>>,
    /// Push devices of every user, in the order they were first registered.
    devices: Vec<Device>,
}

struct StoredChannel {
    record: ChannelRecord,
    members: Vec<MemberRecord>,
    reads: BTreeMap<String, ReadRecord>,
    messages: Vec<Message>,
}

impl MemoryStore {
    /// The channel holding message `id` and the message's index there.
    fn locate(&mut self, id: &str) -> Option<(&mut StoredChannel, usize)> {
        let cid = self.message_cids.get(id)?;
        let channel = self.channels.get_mut(cid)?;
        let index = channel.messages.iter().position(|m| m.id == id)?;
        Some((channel, index))
    }
}

impl Store for MemoryStore {
    fn user(&self, id: &str) -> StoreResult<Option<User>> {
        Ok(self.users.get(id).cloned())
    }

    fn users(&self) -> StoreResult<Vec<User>> {
        Ok(self.users.values().cloned().collect())
    }

    fn put_user(&mut self, user: User) -> StoreResult<()> {
        self.users.insert(user.id.clone(), user);
        Ok(())
    }

    fn channel(&self, cid: &str) -> StoreResult<Option<ChannelRecord>> {
        Ok(self.channels.get(cid).map(|c| c.record.clone()))
    }

    fn channels(&self) -> StoreResult<Vec<ChannelRecord>> {
        Ok(self.channels.values().map(|c| c.record.clone()).collect())
    }

    fn put_channel(&mut self, record: ChannelRecord) -> StoreResult<()> {
        match self.channels.get_mut(&record.cid) {
            Some(stored) => stored.record = record,
            None => {
                let stored = StoredChannel {
                    record: record.clone(),
                    members: Vec::new(),
                    reads: BTreeMap::new(),
                    messages: Vec::new(),
                };
                self.channels.insert(record.cid, stored);
            }
        }
        Ok(())
    }

    fn members(&self, cid: &str) -> StoreResult<Vec<MemberRecord>> {
        Ok(self
            .channels
            .get(cid)
            .map(|c| c.members.clone())
            .unwrap_or_default())
    }

    fn put_member(&mut self, cid: &str, member: MemberRecord) -> StoreResult<()> {
        if let Some(channel) = self.channels.get_mut(cid) {
            match channel
                .members
                .iter_mut()
                .find(|m| m.user_id == member.user_id)
            {
                Some(stored) => *stored = member,
                None => channel.members.push(member),
            }
        }
        Ok(())
    }

    fn remove_member(&mut self, cid: &str, user_id: &str) -> StoreResult<()> {
        if let Some(channel) = self.channels.get_mut(cid) {
            channel.members.retain(|m| m.user_id != user_id);
        }
        Ok(())
    }

    fn reads(&self, cid: &str) -> StoreResult<Vec<(String, ReadRecord)>> {
        Ok(self
            .channels
            .get(cid)
            .map(|c| {
                c.reads
                    .iter()
                    .map(|(id, r)| (id.clone(), r.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn put_read(&mut self, cid: &str, user_id: &str, read: ReadRecord) -> StoreResult<()> {
        if let Some(channel) = self.channels.get_mut(cid) {
            channel.reads.insert(user_id.to_owned(), read);
        }
        Ok(())
    }

    fn count_unread(&mut self, cid: &str, readers: &[String]) -> StoreResult<()> {
        if let Some(channel) = self.channels.get_mut(cid) {
            for reader in readers {
                channel.reads.entry(reader.clone()).or_default().unread += 1;
            }
        }
        Ok(())
    }

    fn unread_counts(&self, user_id: &str) -> StoreResult<UnreadCounts> {
        let now = time::now_nanos();
        let muted: HashSet<&str> = self
            .channel_mutes
            .get(user_id)
            .into_iter()
            .flatten()
            .filter(|m| in_force(m.expires.as_deref(), now))
            .map(|m| m.cid.as_str())
            .collect();
        let mut counts = UnreadCounts::default();
        for (cid, channel) in &self.channels {
            let shown = channel
                .members
                .iter()
                .any(|m| m.user_id == user_id && !m.hidden);
            if let Some(read) = channel.reads.get(user_id)
                && read.unread > 0
                && shown
                && !muted.contains(cid.as_str())
            {
                counts.messages += read.unread;
                counts.channels += 1;
            }
        }
        Ok(counts)
    }

    fn message(&self, id: &str) -> StoreResult<Option<Message>> {
        Ok(self
            .message_cids
            .get(id)
            .and_then(|cid| self.channels.get(cid))
            .and_then(|c| c.messages.iter().find(|m| m.id == id))
            .cloned())
    }

    fn messages(&self, cid: &str, page: &MessagePage) -> StoreResult<Vec<Message>> {
        let Some(channel) = self.channels.get(cid) else {
            return Ok(Vec::new());
        };
        let shown: Vec<&Message> = channel
            .messages
            .iter()
            .filter(|m| m.parent_id.is_none() || m.show_in_channel == Some(true))
            .filter(|m| visible(page, m))
            .collect();
        Ok(select(page, &shown))
    }

    fn append_message(&mut self, message: Message) -> StoreResult<()> {
        let cid = message.cid.clone().unwrap_or_default();
        if let Some(channel) = self.channels.get_mut(&cid) {
            self.message_cids.insert(message.id.clone(), cid);
            channel.messages.push(message);
        }
        Ok(())
    }

    fn put_message(&mut self, message: Message) -> StoreResult<()> {
        if let Some((channel, index)) = self.locate(&message.id) {
            channel.messages[index] = message;
        }
        Ok(())
    }

    fn remove_message(&mut self, id: &str) -> StoreResult<()> {
        if let Some((channel, index)) = self.locate(id) {
            channel.messages.remove(index);
            self.message_cids.remove(id);
            self.reactions.remove(id);
            self.thread_reads.remove(id);
        }
        Ok(())
    }

    fn remove_channel(&mut self, cid: &str) -> StoreResult<()> {
        if let Some(channel) = self.channels.remove(cid) {
            for message in &channel.messages {
                self.message_cids.remove(&message.id);
            }
        }
        Ok(())
    }

    fn messages_since(&self, cid: &str, nanos: i128) -> StoreResult<Vec<Message>> {
        let Some(channel) = self.channels.get(cid) else {
            return Ok(Vec::new());
        };
        let first = channel
            .messages
            .partition_point(|m| message_time(m) <= nanos);
        Ok(channel.messages[first..].to_vec())
    }

    fn remove_messages_before(&mut self, cid: &str, nanos: i128) -> StoreResult<usize> {
        let Some(channel) = self.channels.get_mut(cid) else {
            return Ok(0);
        };
        let end = channel
            .messages
            .partition_point(|m| message_time(m) < nanos);
        for message in channel.messages.drain(..end) {
            self.message_cids.remove(&message.id);
        }
        Ok(end)
    }

    fn mutes(&self, user_id: &str) -> StoreResult<Vec<MuteRecord>> {
        Ok(self.mutes.get(user_id).cloned().unwrap_or_default())
    }

    fn put_mute(&mut self, mute: MuteRecord) -> StoreResult<()> {
        let list = self.mutes.entry(mute.user_id.clone()).or_default();
        match list.iter_mut().find(|m| m.target_id == mute.target_id) {
            Some(stored) => *stored = mute,
            None => list.push(mute),
        }
        Ok(())
    }

    fn remove_mute(&mut self, user_id: &str, target_id: &str) -> StoreResult<bool> {
        let list = self.mutes.entry(user_id.to_owned()).or_default();
        let before = list.len();
        list.retain(|m| m.target_id != target_id);
        Ok(list.len() != before)
    }

    fn channel_mutes(&self, user_id: &str) -> StoreResult<Vec<ChannelMuteRecord>> {
        Ok(self.channel_mutes.get(user_id).cloned().unwrap_or_default())
    }

    fn put_channel_mute(&mut self, mute: ChannelMuteRecord) -> StoreResult<()> {
        let list = self.channel_mutes.entry(mute.user_id.clone()).or_default();
        match list.iter_mut().find(|m| m.cid == mute.cid) {
            Some(stored) => *stored = mute,
            None => list.push(mute),
        }
        Ok(())
    }

    fn remove_channel_mute(&mut self, user_id: &str, cid: &str) -> StoreResult<bool> {
        let list = self.channel_mutes.entry(user_id.to_owned()).or_default();
        let before = list.len();
        list.retain(|m| m.cid != cid);
        Ok(list.len() != before)
    }

    fn bans(&self) -> StoreResult<Vec<BanRecord>> {
        Ok(self.bans.clone())
    }

    fn put_ban(&mut self, ban: BanRecord) -> StoreResult<()> {
        self.bans
            .retain(|b| !(b.target_id == ban.target_id && b.cid == ban.cid));
        self.bans.push(ban);
        Ok(())
    }

    fn remove_ban(&mut self, target_id: &str, cid: Option<&str>) -> StoreResult<bool> {
        let before = self.bans.len();
        self.bans
            .retain(|b| !(b.target_id == target_id && b.cid.as_deref() == cid));
        Ok(self.bans.len() != before)
    }

    fn flags(&self) -> StoreResult<Vec<FlagRecord>> {
        Ok(self.flags.clone())
    }

    fn put_flag(&mut self, flag: FlagRecord) -> StoreResult<()> {
        self.flags.retain(|f| {
            !(f.user_id == flag.user_id
                && f.target_message_id == flag.target_message_id
                && f.target_user_id == flag.target_user_id)
        });
        self.flags.push(flag);
        Ok(())
    }

    fn remove_flag(
        &mut self,
        user_id: &str,
        message_id: Option<&str>,
        target_user_id: Option<&str>,
    ) -> StoreResult<Option<FlagRecord>> {
        let found = self.flags.iter().position(|f| {
            f.user_id == user_id
                && f.target_message_id.as_deref() == message_id
                && f.target_user_id.as_deref() == target_user_id
        });
        Ok(found.map(|i| self.flags.remove(i)))
    }

    fn blocks(&self, user_id: &str) -> StoreResult<Vec<BlockRecord>> {
        Ok(self.blocks.get(user_id).cloned().unwrap_or_default())
    }

    fn blockers_of(&self, blocked_user_id: &str) -> StoreResult<Vec<String>> {
        Ok(self
            .blocks
            .iter()
            .filter(|(_, list)| list.iter().any(|b| b.blocked_user_id == blocked_user_id))
            .map(|(user_id, _)| user_id.clone())
            .collect())
    }

    fn put_block(&mut self, block: BlockRecord) -> StoreResult<()> {
        let list = self.blocks.entry(block.user_id.clone()).or_default();
        match list
            .iter_mut()
            .find(|b| b.blocked_user_id == block.blocked_user_id)
        {
            Some(stored) => *stored = block,
            None => list.push(block),
        }
        Ok(())
    }

    fn remove_block(&mut self, user_id: &str, blocked_user_id: &str) -> StoreResult<bool> {
        let list = self.blocks.entry(user_id.to_owned()).or_default();
        let before = list.len();
        list.retain(|b| b.blocked_user_id != blocked_user_id);
        Ok(list.len() != before)
    }

    fn record_active_user(&mut self, month: &str, user_id: &str) -> StoreResult<()> {
        self.active
            .entry(month.to_owned())
            .or_default()
            .insert(user_id.to_owned());
        Ok(())
    }

    fn active_users(&self, month: &str) -> StoreResult<u64> {
        Ok(self.active.get(month).map_or(0, |s| s.len() as u64))
    }

    // Reactions, threads, pins, search (messages surface).

    fn reactions(&self, message_id: &str) -> StoreResult<Vec<Reaction>> {
        Ok(self.reactions.get(message_id).cloned().unwrap_or_default())
    }

    fn put_reaction(&mut self, reaction: Reaction) -> StoreResult<()> {
        if !self.message_cids.contains_key(&reaction.message_id) {
            return Ok(());
        }
        let list = self
            .reactions
            .entry(reaction.message_id.clone())
            .or_default();
        match list
            .iter_mut()
            .find(|r| r.user_id == reaction.user_id && r.kind == reaction.kind)
        {
            Some(stored) => *stored = reaction,
            None => list.push(reaction),
        }
        Ok(())
    }

    fn remove_reaction(
        &mut self,
        message_id: &str,
        user_id: &str,
        kind: &str,
    ) -> StoreResult<Option<Reaction>> {
        let Some(list) = self.reactions.get_mut(message_id) else {
            return Ok(None);
        };
        let found = list
            .iter()
            .position(|r| r.user_id == user_id && r.kind == kind);
        Ok(found.map(|i| list.remove(i)))
    }

    fn replies(&self, parent_id: &str, page: &MessagePage) -> StoreResult<Vec<Message>> {
        let Some(channel) = self
            .message_cids
            .get(parent_id)
            .and_then(|cid| self.channels.get(cid))
        else {
            return Ok(Vec::new());
        };
        let replies: Vec<&Message> = channel
            .messages
            .iter()
            .filter(|m| m.parent_id.as_deref() == Some(parent_id))
            .filter(|m| visible(page, m))
            .collect();
        Ok(select(page, &replies))
    }

    fn all_messages(&self, cid: &str) -> StoreResult<Vec<Message>> {
        Ok(self
            .channels
            .get(cid)
            .map(|c| c.messages.clone())
            .unwrap_or_default())
    }

    fn pinned_messages(&self, cid: &str) -> StoreResult<Vec<Message>> {
        Ok(self
            .channels
            .get(cid)
            .map(|c| {
                c.messages
                    .iter()
                    .filter(|m| m.pinned == Some(true))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    fn thread_reads(&self, parent_id: &str) -> StoreResult<Vec<(String, ReadRecord)>> {
        Ok(self
            .thread_reads
            .get(parent_id)
            .map(|reads| {
                reads
                    .iter()
                    .map(|(id, r)| (id.clone(), r.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn put_thread_read(
        &mut self,
        parent_id: &str,
        user_id: &str,
        read: ReadRecord,
    ) -> StoreResult<()> {
        if self.message_cids.contains_key(parent_id) {
            self.thread_reads
                .entry(parent_id.to_owned())
                .or_default()
                .insert(user_id.to_owned(), read);
        }
        Ok(())
    }

    fn unread_threads(&self, user_id: &str) -> StoreResult<ThreadUnread> {
        let mut counts = ThreadUnread::default();
        for reads in self.thread_reads.values() {
            if let Some(read) = reads.get(user_id)
                && read.unread > 0
            {
                counts.threads += 1;
                counts.messages += read.unread;
            }
        }
        Ok(counts)
    }
    // Uploads, the server-side client and webhooks.
    fn remove_user(&mut self, id: &str) -> StoreResult<()> {
        self.users.remove(id);
        self.devices.retain(|d| d.user_id.as_deref() != Some(id));
        Ok(())
    }

    fn devices(&self, user_id: &str) -> StoreResult<Vec<Device>> {
        Ok(self
            .devices
            .iter()
            .filter(|d| d.user_id.as_deref() == Some(user_id))
            .cloned()
            .collect())
    }

    fn device(&self, id: &str) -> StoreResult<Option<Device>> {
        Ok(self.devices.iter().find(|d| d.id == id).cloned())
    }

    fn put_device(&mut self, device: Device) -> StoreResult<()> {
        match self.devices.iter_mut().find(|d| d.id == device.id) {
            Some(stored) => *stored = device,
            None => self.devices.push(device),
        }
        Ok(())
    }

    fn remove_device(&mut self, id: &str) -> StoreResult<bool> {
        let before = self.devices.len();
        self.devices.retain(|d| d.id != id);
        Ok(self.devices.len() < before)
    }
}

/// The page of `messages` (in channel order) that `page` selects, oldest first.
fn select(page: &MessagePage, messages: &[&Message]) -> Vec<Message> {
    let slice = |range: std::ops::Range<usize>| -> Vec<Message> {
        messages[range].iter().map(|m| (*m).clone()).collect()
    };
    if let Some(anchor) = &page.around {
        let Some(i) = position(anchor, messages, true) else {
            return Vec::new();
        };
        let i = i.min(messages.len().saturating_sub(1));
        let start = i.saturating_sub(page.limit / 2);
        return slice(start..(start + page.limit).min(messages.len()).max(start));
    }
    let mut lo = 0;
    for bound in &page.lower {
        match position(bound, messages, true) {
            Some(i) => lo = lo.max(i),
            None => return Vec::new(),
        }
    }
    let mut hi = messages.len();
    for bound in &page.upper {
        match position(bound, messages, false) {
            Some(i) => hi = hi.min(i),
            None => return Vec::new(),
        }
    }
    if page.lower.is_empty() && page.upper.is_empty() {
        hi = hi.saturating_sub(page.offset);
    }
    if lo >= hi {
        return Vec::new();
    }
    if page.lower.is_empty() {
        slice(hi.saturating_sub(page.limit).max(lo)..hi)
    } else {
        slice(lo..(lo + page.limit).min(hi))
    }
}

/// Index of the first message after `bound` (lower bounds) or the end of the messages
/// before it (upper bounds, exclusive); `None` when the id is unknown.
fn position(bound: &Bound, messages: &[&Message], lower: bool) -> Option<usize> {
    match bound {
        Bound::Id { id, inclusive } => {
            let i = messages.iter().position(|m| m.id == *id)?;
            // Lower: past it unless inclusive. Upper: up to it, or through it if inclusive.
            Some(if lower != *inclusive { i + 1 } else { i })
        }
        Bound::Time { nanos, inclusive } => {
            // Messages are stored in time order: count those before the bound.
            let before = |m: &&Message| {
                let t = message_time(m);
                if lower == *inclusive {
                    t < *nanos
                } else {
                    t <= *nanos
                }
            };
            Some(messages.partition_point(before))
        }
    }
}

/// Whether the page's viewer sees `m`: not a message shadowed for everyone but its author
/// (unless the viewer wrote it), nor one before the viewer's history floor.
fn visible(page: &MessagePage, m: &Message) -> bool {
    let shadowed = m.shadowed == Some(true)
        && page
            .viewer
            .as_deref()
            .is_some_and(|v| m.user.as_ref().is_none_or(|u| u.id != v));
    !shadowed && page.floor.is_none_or(|floor| message_time(m) > floor)
}

fn message_time(m: &Message) -> i128 {
    m.created_at
        .as_deref()
        .and_then(time::parse_rfc3339_or_naive)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};
    use stream_chat_protocol::{Message, MessagePagination};

    use super::*;

    const CID: &str = "messaging:paging";

    /// A store holding one channel with ten messages whose ids sort backwards (`m9` … `m0`
    /// in channel order), one second apart from 2025-01-01T00:00:00Z.
    fn store() -> MemoryStore {
        let mut store = MemoryStore::default();
        store
            .put_channel(ChannelRecord {
                kind: "messaging".into(),
                id: "paging".into(),
                cid: CID.into(),
                created_by: "a".into(),
                custom: Map::new(),
                ..ChannelRecord::default()
            })
            .unwrap();
        for i in 0..10 {
            let message = Message {
                id: format!("m{}", 9 - i),
                cid: Some(CID.into()),
                created_at: Some(format!("2025-01-01T00:00:{i:02}.000000000Z")),
                ..Message::default()
            };
            store.append_message(message).unwrap();
        }
        store
    }

    /// The ids of the page that pagination `v` selects.
    fn page_ids(store: &MemoryStore, v: Value) -> Vec<String> {
        let p = serde_json::from_value::<MessagePagination>(v).unwrap();
        let page = MessagePage::parse(&p, 100).unwrap();
        ids(store, &page)
    }

    fn ids(store: &MemoryStore, page: &MessagePage) -> Vec<String> {
        let messages = store.messages(CID, page).unwrap();
        messages.into_iter().map(|m| m.id).collect()
    }

    #[test]
    fn pagination_is_positional_not_lexicographic() {
        let store = store();
        let page = |v: Value| page_ids(&store, v);
        let newest = MessagePage::parse(&MessagePagination::default(), 3).unwrap();
        assert_eq!(ids(&store, &newest), ["m2", "m1", "m0"]);
        assert_eq!(page(json!({"limit": 2, "id_lt": "m4"})), ["m6", "m5"]);
        assert_eq!(page(json!({"limit": 2, "id_lte": "m4"})), ["m5", "m4"]);
        assert_eq!(page(json!({"limit": 2, "id_gt": "m4"})), ["m3", "m2"]);
        assert_eq!(page(json!({"limit": 2, "id_gte": "m4"})), ["m4", "m3"]);
        assert_eq!(
            page(json!({"limit": 3, "id_around": "m4"})),
            ["m5", "m4", "m3"]
        );
        assert_eq!(page(json!({"limit": 2, "offset": 1})), ["m2", "m1"]);
        // Both bounds: the range between them, from its start.
        assert_eq!(
            page(json!({"limit": 5, "id_gt": "m8", "id_lt": "m5"})),
            ["m7", "m6"]
        );
        assert!(page(json!({"id_lt": "nope"})).is_empty());
        assert!(page(json!({"id_gt": "m0"})).is_empty());
        assert!(page(json!({"limit": 0})).is_empty());
        let huge = json!({"limit": u32::MAX, "offset": u32::MAX, "id_around": "m0"});
        assert_eq!(page(huge).len(), 10, "capped at 300, no overflow");
        let around_last = page(json!({"limit": 4, "id_around": "m0"}));
        assert_eq!(around_last, ["m2", "m1", "m0"]);
    }

    #[test]
    fn pagination_by_time() {
        let store = store();
        let page = |v: Value| page_ids(&store, v);
        // m5 is at 00:04; JS sends millisecond precision.
        let t = "2025-01-01T00:00:04.000Z";
        let key = |k: &str| json!({"limit": 2, k: t});
        assert_eq!(page(key("created_at_before")), ["m7", "m6"]);
        assert_eq!(page(key("created_at_before_or_equal")), ["m6", "m5"]);
        assert_eq!(page(key("created_at_after")), ["m4", "m3"]);
        assert_eq!(page(key("created_at_after_or_equal")), ["m5", "m4"]);
        assert_eq!(page(key("created_at_around")), ["m6", "m5"]);
        assert_eq!(
            page(json!({"created_at_after": "2025-01-01T02:00:06+02:00"})),
            ["m2", "m1", "m0"]
        );
        for key in ["created_at_before", "created_at_around"] {
            let p = serde_json::from_value::<MessagePagination>(json!({key: "yesterday"})).unwrap();
            assert_eq!(MessagePage::parse(&p, 100), Err(key), "names the key");
        }
        // A time that is not a string does not parse at all (the body is code 4).
        assert!(
            serde_json::from_value::<MessagePagination>(json!({"created_at_before": 12})).is_err()
        );
    }
}
