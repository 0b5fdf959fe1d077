//! Seed and snapshot (issue 13): the whole chat state as one versioned JSON document
//! ([`Snapshot`]), written by `GET /emulator/export` and `--export-on-exit`, read by
//! `POST /emulator/import` and `--import`; and `POST /emulator/reset`, which empties it.
//!
//! The document holds users, channels with their members, read states and messages (thread
//! replies, pins, edits and soft deletes exactly as stored), each message's reactions, and
//! the users' push devices.
//! Records are written in the store's order (users by id, channels by cid, members in the
//! order they joined, messages in channel order), so importing an export and exporting
//! again gives the same bytes. Not in it: mutes, bans, flags, blocks, uploaded
//! files and the monthly-active-user counters (`docs/local-server.md`).
//!
//! An import is checked whole before anything changes (a bad document is a typed error and
//! leaves the state as it was); then it replaces the state, like a reset followed by a load,
//! under the world's one lock.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stream_chat_protocol::{Device, Message, Reaction, User, time};

use super::caller::Actor;
use super::connections::CloseReason;
use super::store::{ChannelRecord, ChannelRole, MemberRecord, MemberRole, ReadRecord};
use super::{Chat, World};
use crate::error::{ApiError, ApiResult};

/// The version of the document this server writes and reads.
pub(crate) const SNAPSHOT_VERSION: u32 = 1;

/// The exported chat state.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Snapshot {
    /// Always [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// Every user, in id order.
    #[serde(default)]
    pub users: Vec<User>,
    /// Every channel, in cid order.
    #[serde(default)]
    pub channels: Vec<ChannelSnapshot>,
    /// Push devices, by user (in id order), each user's in registration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
}

/// A channel with its members, read states and messages.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelSnapshot {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub custom: Map<String, Value>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cooldown: u32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub frozen: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default)]
    pub members: Vec<MemberSnapshot>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<ReadSnapshot>,
    /// In channel order, thread replies included.
    #[serde(default)]
    pub messages: Vec<MessageSnapshot>,
}

/// A channel member.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberSnapshot {
    pub user_id: String,
    /// `owner` or `member`.
    #[serde(default = "member")]
    pub role: String,
    /// `channel_member` or `channel_moderator`.
    #[serde(default = "channel_member")]
    pub channel_role: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub invited: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_accepted_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_rejected_at: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub custom: Map<String, Value>,
}

/// A user's read state in a channel.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadSnapshot {
    pub user_id: String,
    pub last_read: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_message_id: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub unread: u64,
}

/// A stored message and its reactions (in the order they were first sent).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MessageSnapshot {
    pub message: Message,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn member() -> String {
    MemberRole::Member.as_str().to_owned()
}

fn channel_member() -> String {
    ChannelRole::Member.as_str().to_owned()
}

/// Why a document cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapshotError(pub String);

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Snapshot {
    /// Parses and checks a document: JSON of this shape, version [`SNAPSHOT_VERSION`],
    /// unique ids, members and authors that are users of the document, replies after their
    /// parent in the same channel, RFC 3339 message times.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        let version = serde_json::from_slice::<Value>(bytes)
            .map_err(|e| SnapshotError(format!("not a JSON document: {e}")))?
            .get("version")
            .cloned();
        if version != Some(Value::from(SNAPSHOT_VERSION)) {
            return Err(SnapshotError(format!(
                "unsupported snapshot version {} (this server reads version {SNAPSHOT_VERSION})",
                version.map_or("(missing)".to_owned(), |v| v.to_string())
            )));
        }
        let mut snapshot: Snapshot = serde_json::from_slice(bytes)
            .map_err(|e| SnapshotError(format!("not a snapshot document: {e}")))?;
        snapshot.check()?;
        Ok(snapshot)
    }

    fn check(&mut self) -> Result<(), SnapshotError> {
        let bad = |m: String| Err(SnapshotError(m));
        let mut users = HashSet::new();
        for user in &self.users {
            if user.id.trim().is_empty() {
                return bad("a user has an empty id".into());
            }
            if !users.insert(user.id.as_str()) {
                return bad(format!("user '{}' appears twice", user.id));
            }
        }
        let mut cids = HashSet::new();
        let mut message_ids = HashSet::new();
        for channel in &mut self.channels {
            if channel.kind.is_empty() || channel.id.is_empty() {
                return bad("a channel has an empty type or id".into());
            }
            let cid = format!("{}:{}", channel.kind, channel.id);
            if !cids.insert(cid.clone()) {
                return bad(format!("channel '{cid}' appears twice"));
            }
            let mut members = HashSet::new();
            for m in &channel.members {
                if !users.contains(m.user_id.as_str()) {
                    return bad(format!("{cid}: member '{}' is not a user", m.user_id));
                }
                if !members.insert(m.user_id.as_str()) {
                    return bad(format!("{cid}: member '{}' appears twice", m.user_id));
                }
                if m.role != MemberRole::Owner.as_str() && m.role != MemberRole::Member.as_str() {
                    return bad(format!("{cid}: member role '{}' is unknown", m.role));
                }
                if ChannelRole::parse(&m.channel_role).is_none() {
                    return bad(format!(
                        "{cid}: channel role '{}' is unknown",
                        m.channel_role
                    ));
                }
            }
            let mut in_channel = HashSet::new();
            for entry in &mut channel.messages {
                let m = &mut entry.message;
                if m.id.is_empty() {
                    return bad(format!("{cid}: a message has an empty id"));
                }
                if !message_ids.insert(m.id.clone()) {
                    return bad(format!("message '{}' appears twice", m.id));
                }
                match &m.cid {
                    Some(c) if *c != cid => {
                        return bad(format!(
                            "message '{}' names channel '{c}' but is in {cid}",
                            m.id
                        ));
                    }
                    Some(_) => {}
                    None => m.cid = Some(cid.clone()),
                }
                let created = m
                    .created_at
                    .as_deref()
                    .and_then(time::parse_rfc3339_or_naive);
                if created.is_none() {
                    return bad(format!("message '{}' has no RFC 3339 created_at", m.id));
                }
                let author = m
                    .user
                    .as_ref()
                    .map(|u| u.id.as_str())
                    .or(m.user_id.as_deref());
                match author {
                    Some(a) if users.contains(a) => {}
                    Some(a) => {
                        return bad(format!("message '{}': author '{a}' is not a user", m.id));
                    }
                    None => return bad(format!("message '{}' has no author", m.id)),
                }
                if let Some(parent) = &m.parent_id
                    && !in_channel.contains(parent)
                {
                    return bad(format!(
                        "message '{}': parent '{parent}' is not an earlier message of {cid}",
                        m.id
                    ));
                }
                in_channel.insert(m.id.clone());
                for r in &mut entry.reactions {
                    if r.message_id.is_empty() {
                        r.message_id = m.id.clone();
                    }
                    if r.message_id != m.id {
                        return bad(format!(
                            "a reaction of message '{}' names '{}'",
                            m.id, r.message_id
                        ));
                    }
                    if !users.contains(r.user_id.as_str()) {
                        return bad(format!(
                            "message '{}': reactor '{}' is not a user",
                            m.id, r.user_id
                        ));
                    }
                }
            }
            for read in &channel.reads {
                if !users.contains(read.user_id.as_str()) {
                    return bad(format!(
                        "{cid}: read state of '{}', not a user",
                        read.user_id
                    ));
                }
            }
        }
        let mut device_ids = HashSet::new();
        for d in &self.devices {
            if d.id.trim().is_empty() {
                return bad("a device has an empty id".into());
            }
            if !device_ids.insert(d.id.as_str()) {
                return bad(format!("device '{}' appears twice", d.id));
            }
            match d.user_id.as_deref() {
                Some(u) if users.contains(u) => {}
                Some(u) => return bad(format!("device '{}': user '{u}' is not a user", d.id)),
                None => return bad(format!("device '{}' has no user_id", d.id)),
            }
        }
        Ok(())
    }

    /// The document as pretty-printed JSON (what export writes).
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

fn server_only(op: &str, actor: &Actor) -> ApiResult<()> {
    if *actor != Actor::Server {
        return Err(ApiError::forbidden(
            op,
            "only a server token may export, import or reset the server's state",
        ));
    }
    Ok(())
}

impl Chat {
    /// `GET /emulator/export` (server tokens only): the whole state as a document.
    pub(crate) fn export_request(&self, op: &str, actor: Actor) -> ApiResult<Vec<u8>> {
        server_only(op, &actor)?;
        self.export()
    }

    /// The whole state as a document (JSON bytes).
    pub(crate) fn export(&self) -> ApiResult<Vec<u8>> {
        Ok(self.lock().snapshot()?.to_json())
    }

    /// `POST /emulator/import` (server tokens only): replaces the state with the document's.
    pub(crate) fn import_request(&self, op: &str, actor: Actor, bytes: &[u8]) -> ApiResult<()> {
        server_only(op, &actor)?;
        let snapshot = Snapshot::parse(bytes).map_err(|e| ApiError::input(op, e.0))?;
        self.import(snapshot)
    }

    /// Replaces the state with a checked document's (every connection is closed).
    pub(crate) fn import(&self, snapshot: Snapshot) -> ApiResult<()> {
        let mut world = self.lock();
        let cids = world.reset()?;
        world.load(snapshot)?;
        drop(world);
        self.after_reset(&cids);
        Ok(())
    }

    /// `POST /emulator/reset` (server tokens only): empties the state, closes every
    /// connection.
    pub(crate) fn reset_request(&self, op: &str, actor: Actor) -> ApiResult<()> {
        server_only(op, &actor)?;
        let cids = self.lock().reset()?;
        self.after_reset(&cids);
        Ok(())
    }

    /// Removes the uploaded files of the channels a reset removed.
    fn after_reset(&self, cids: &[String]) {
        for cid in cids {
            if let Err(e) = self.delete_channel_files(cid) {
                tracing::warn!(%cid, error = %e, "a reset could not remove the channel's files");
            }
        }
        self.counters_changed.bump();
    }
}

impl World {
    fn snapshot(&self) -> ApiResult<Snapshot> {
        let users = self.store.users()?;
        let mut channels = Vec::new();
        for c in self.store.channels()? {
            let members = self
                .store
                .members(&c.cid)?
                .into_iter()
                .map(|m| MemberSnapshot {
                    user_id: m.user_id,
                    role: m.role.as_str().to_owned(),
                    channel_role: m.channel_role.as_str().to_owned(),
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    invited: m.invited,
                    invite_accepted_at: m.invite_accepted_at,
                    invite_rejected_at: m.invite_rejected_at,
                    hidden: m.hidden,
                    history_before: m.history_before,
                    pinned_at: m.pinned_at,
                    archived_at: m.archived_at,
                    custom: m.custom,
                })
                .collect();
            let mut reads: Vec<ReadSnapshot> = self
                .store
                .reads(&c.cid)?
                .into_iter()
                .map(|(user_id, r)| ReadSnapshot {
                    user_id,
                    last_read: r.last_read,
                    last_read_message_id: r.last_read_message_id,
                    unread: r.unread,
                })
                .collect();
            reads.sort_by(|a, b| a.user_id.cmp(&b.user_id));
            let mut messages = Vec::new();
            for message in self.store.all_messages(&c.cid)? {
                let reactions = self.store.reactions(&message.id)?;
                messages.push(MessageSnapshot { message, reactions });
            }
            channels.push(ChannelSnapshot {
                kind: c.kind,
                id: c.id,
                created_by: c.created_by,
                created_at: c.created_at,
                updated_at: c.updated_at,
                last_message_at: c.last_message_at,
                custom: c.custom,
                cooldown: c.cooldown,
                frozen: c.frozen,
                truncated_at: c.truncated_at,
                truncated_by: c.truncated_by,
                team: c.team,
                members,
                reads,
                messages,
            });
        }
        let mut devices = Vec::new();
        for user in &users {
            devices.extend(self.store.devices(&user.id)?);
        }
        Ok(Snapshot {
            version: SNAPSHOT_VERSION,
            users,
            channels,
            devices,
        })
    }

    /// Empties the store (users with their devices, channels and everything in them, mutes,
    /// bans, flags, blocks) and asks every connection to close; returns the removed channels' cids.
    /// The monthly-active-user counters stay (the store has no way to forget them).
    fn reset(&mut self) -> ApiResult<Vec<String>> {
        let ids: Vec<String> = self.conns.iter().map(|(id, _)| id.clone()).collect();
        for id in &ids {
            if let Some(conn) = self.conns.get(id) {
                conn.request_close(CloseReason::Kicked);
            }
        }
        let mut cids = Vec::new();
        for channel in self.store.channels()? {
            self.conns.forget_channel(&channel.cid);
            self.store.remove_channel(&channel.cid)?;
            cids.push(channel.cid);
        }
        for ban in self.store.bans()? {
            self.store.remove_ban(&ban.target_id, ban.cid.as_deref())?;
        }
        for flag in self.store.flags()? {
            self.store.remove_flag(
                &flag.user_id,
                flag.target_message_id.as_deref(),
                flag.target_user_id.as_deref(),
            )?;
        }
        for user in self.store.users()? {
            for mute in self.store.mutes(&user.id)? {
                self.store.remove_mute(&user.id, &mute.target_id)?;
            }
            for mute in self.store.channel_mutes(&user.id)? {
                self.store.remove_channel_mute(&user.id, &mute.cid)?;
            }
            for block in self.store.blocks(&user.id)? {
                self.store.remove_block(&user.id, &block.blocked_user_id)?;
            }
            self.store.remove_user(&user.id)?;
        }
        self.last_posts.clear();
        Ok(cids)
    }

    /// Writes a checked document into an empty store.
    fn load(&mut self, snapshot: Snapshot) -> ApiResult<()> {
        for user in snapshot.users {
            self.store.put_user(user)?;
        }
        for c in snapshot.channels {
            let cid = format!("{}:{}", c.kind, c.id);
            self.store.put_channel(ChannelRecord {
                kind: c.kind,
                id: c.id,
                cid: cid.clone(),
                created_by: c.created_by,
                created_at: c.created_at,
                updated_at: c.updated_at,
                last_message_at: c.last_message_at,
                custom: c.custom,
                cooldown: c.cooldown,
                frozen: c.frozen,
                truncated_at: c.truncated_at,
                truncated_by: c.truncated_by,
                team: c.team,
            })?;
            for m in c.members {
                let role = if m.role == MemberRole::Owner.as_str() {
                    MemberRole::Owner
                } else {
                    MemberRole::Member
                };
                self.store.put_member(
                    &cid,
                    MemberRecord {
                        user_id: m.user_id,
                        role,
                        created_at: m.created_at,
                        updated_at: m.updated_at,
                        channel_role: ChannelRole::parse(&m.channel_role).unwrap_or_default(),
                        invited: m.invited,
                        invite_accepted_at: m.invite_accepted_at,
                        invite_rejected_at: m.invite_rejected_at,
                        hidden: m.hidden,
                        history_before: m.history_before,
                        pinned_at: m.pinned_at,
                        archived_at: m.archived_at,
                        custom: m.custom,
                    },
                )?;
            }
            for r in c.reads {
                self.store.put_read(
                    &cid,
                    &r.user_id,
                    ReadRecord {
                        last_read: r.last_read,
                        last_read_message_id: r.last_read_message_id,
                        unread: r.unread,
                    },
                )?;
            }
            let mut latest = self.last_nanos;
            for entry in c.messages {
                if let Some(t) = entry
                    .message
                    .created_at
                    .as_deref()
                    .and_then(time::parse_rfc3339_or_naive)
                {
                    latest = latest.max(t);
                }
                self.store.append_message(entry.message)?;
                for reaction in entry.reactions {
                    self.store.put_reaction(reaction)?;
                }
            }
            // New timestamps sort after every imported one.
            self.last_nanos = latest;
        }
        for device in snapshot.devices {
            self.store.put_device(device)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_of_another_version_is_refused_with_its_version() {
        let e = Snapshot::parse(br#"{"version": 2, "users": []}"#).unwrap_err();
        assert!(e.0.contains("unsupported snapshot version 2"), "{e}");
        let e = Snapshot::parse(br#"{"users": []}"#).unwrap_err();
        assert!(e.0.contains("(missing)"), "{e}");
        let e = Snapshot::parse(b"not json").unwrap_err();
        assert!(e.0.starts_with("not a JSON document"), "{e}");
    }

    #[test]
    fn members_authors_and_parents_must_exist() {
        let doc = |channel: Value| {
            serde_json::to_vec(&serde_json::json!({
                "version": 1,
                "users": [{"id": "alice"}],
                "channels": [channel],
            }))
            .unwrap()
        };
        let e = Snapshot::parse(&doc(serde_json::json!({
            "type": "messaging", "id": "a", "members": [{"user_id": "bob"}]
        })))
        .unwrap_err();
        assert_eq!(e.0, "messaging:a: member 'bob' is not a user");
        let e = Snapshot::parse(&doc(serde_json::json!({
            "type": "messaging", "id": "a", "messages": [{"message": {
                "id": "m2", "user": {"id": "alice"}, "parent_id": "m1",
                "created_at": "2026-01-01T00:00:00Z"
            }}]
        })))
        .unwrap_err();
        assert!(e.0.contains("parent 'm1' is not an earlier message"), "{e}");
        let ok = Snapshot::parse(&doc(serde_json::json!({
            "type": "messaging", "id": "a", "messages": [{"message": {
                "id": "m1", "user": {"id": "alice"}, "created_at": "2026-01-01T00:00:00Z"
            }}]
        })))
        .unwrap();
        assert_eq!(
            ok.channels[0].messages[0].message.cid.as_deref(),
            Some("messaging:a")
        );
    }
}
