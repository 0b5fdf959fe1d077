//! [`Store`] for [`SqliteStore`]: every method one SQL statement or one transaction.

use std::collections::HashSet;

use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, params};
use stream_chat_protocol::{Device, Message, Reaction, User, time};

use super::super::{
    BanRecord, BlockRecord, ChannelMuteRecord, ChannelRecord, FlagRecord, MemberRecord,
    MessagePage, MuteRecord, ReadRecord, Store, StoreResult, ThreadUnread, UnreadCounts, in_force,
};
use super::{SqliteStore, db, decode, encode, message_keys, nanos};

/// The condition selecting a channel's shown messages.
const SHOWN: &str = "cid = ? AND in_channel = 1";
/// The condition selecting a thread's replies.
const REPLIES: &str = "parent_id = ?";

impl Store for SqliteStore {
    fn user(&self, id: &str) -> StoreResult<Option<User>> {
        Ok(self
            .records("SELECT json FROM users WHERE id = ?", [id])?
            .pop())
    }

    fn users(&self) -> StoreResult<Vec<User>> {
        self.records("SELECT json FROM users ORDER BY id", [])
    }

    fn put_user(&mut self, user: User) -> StoreResult<()> {
        let json = encode(&user)?;
        self.execute(
            "INSERT INTO users (id, json) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET json = excluded.json",
            params![user.id, json],
        )?;
        Ok(())
    }

    fn channel(&self, cid: &str) -> StoreResult<Option<ChannelRecord>> {
        Ok(self
            .records("SELECT json FROM channels WHERE cid = ?", [cid])?
            .pop())
    }

    fn channels(&self) -> StoreResult<Vec<ChannelRecord>> {
        self.records("SELECT json FROM channels ORDER BY cid", [])
    }

    fn put_channel(&mut self, channel: ChannelRecord) -> StoreResult<()> {
        let json = encode(&channel)?;
        self.execute(
            "INSERT INTO channels (cid, json) VALUES (?1, ?2)
             ON CONFLICT (cid) DO UPDATE SET json = excluded.json",
            params![channel.cid, json],
        )?;
        Ok(())
    }

    fn members(&self, cid: &str) -> StoreResult<Vec<MemberRecord>> {
        self.records("SELECT json FROM members WHERE cid = ? ORDER BY seq", [cid])
    }

    fn put_member(&mut self, cid: &str, member: MemberRecord) -> StoreResult<()> {
        if !self.channel_exists(cid)? {
            return Ok(());
        }
        let json = encode(&member)?;
        self.execute(
            "INSERT INTO members (cid, user_id, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (cid, user_id) DO UPDATE SET json = excluded.json",
            params![cid, member.user_id, json],
        )?;
        Ok(())
    }

    fn remove_member(&mut self, cid: &str, user_id: &str) -> StoreResult<()> {
        self.execute(
            "DELETE FROM members WHERE cid = ? AND user_id = ?",
            [cid, user_id],
        )?;
        Ok(())
    }

    fn reads(&self, cid: &str) -> StoreResult<Vec<(String, ReadRecord)>> {
        self.read_rows(
            "SELECT user_id, last_read, last_read_message_id, unread FROM reads
             WHERE cid = ? ORDER BY user_id",
            cid,
        )
    }

    fn put_read(&mut self, cid: &str, user_id: &str, read: ReadRecord) -> StoreResult<()> {
        if !self.channel_exists(cid)? {
            return Ok(());
        }
        self.execute(
            "INSERT INTO reads (cid, user_id, last_read, last_read_message_id, unread)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (cid, user_id) DO UPDATE SET last_read = excluded.last_read,
                 last_read_message_id = excluded.last_read_message_id, unread = excluded.unread",
            params![
                cid,
                user_id,
                read.last_read,
                read.last_read_message_id,
                i64::try_from(read.unread).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(())
    }

    fn count_unread(&mut self, cid: &str, readers: &[String]) -> StoreResult<()> {
        if readers.is_empty() || !self.channel_exists(cid)? {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(db)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO reads (cid, user_id, last_read, last_read_message_id, unread)
                     VALUES (?1, ?2, '', NULL, 1)
                     ON CONFLICT (cid, user_id) DO UPDATE SET unread = unread + 1",
                )
                .map_err(db)?;
            for reader in readers {
                stmt.execute(params![cid, reader]).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    fn unread_counts(&self, user_id: &str) -> StoreResult<UnreadCounts> {
        let now = time::now_nanos();
        let muted: HashSet<String> = self
            .channel_mutes(user_id)?
            .into_iter()
            .filter(|m| in_force(m.expires.as_deref(), now))
            .map(|m| m.cid)
            .collect();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.cid, r.unread, m.json FROM reads r
                 JOIN members m ON m.cid = r.cid AND m.user_id = r.user_id
                 JOIN channels c ON c.cid = r.cid
                 WHERE r.user_id = ? AND r.unread > 0",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([user_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(db)?;
        let mut counts = UnreadCounts::default();
        for row in rows {
            let (cid, unread, member) = row.map_err(db)?;
            let member: MemberRecord = decode(&member)?;
            if !member.hidden && !muted.contains(&cid) {
                counts.messages += unread.max(0) as u64;
                counts.channels += 1;
            }
        }
        Ok(counts)
    }

    fn message(&self, id: &str) -> StoreResult<Option<Message>> {
        Ok(self
            .records("SELECT json FROM messages WHERE id = ?", [id])?
            .pop())
    }

    fn messages(&self, cid: &str, page: &MessagePage) -> StoreResult<Vec<Message>> {
        self.page(SHOWN, vec![Sql::Text(cid.to_owned())], page)
    }

    fn append_message(&mut self, message: Message) -> StoreResult<()> {
        let cid = message.cid.clone().unwrap_or_default();
        if !self.channel_exists(&cid)? {
            return Ok(());
        }
        let json = encode(&message)?;
        let (parent, shown, shadowed, author, created, pinned) = message_keys(&message);
        self.execute(
            "INSERT INTO messages (id, cid, parent_id, in_channel, shadowed, user_id, created_ns,
                 pinned, json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                message.id, cid, parent, shown, shadowed, author, created, pinned, json
            ],
        )?;
        Ok(())
    }

    fn put_message(&mut self, message: Message) -> StoreResult<()> {
        let json = encode(&message)?;
        let (parent, shown, shadowed, author, created, pinned) = message_keys(&message);
        self.execute(
            "UPDATE messages SET parent_id = ?2, in_channel = ?3, shadowed = ?4, user_id = ?5,
                 created_ns = ?6, pinned = ?7, json = ?8
             WHERE id = ?1",
            params![
                message.id, parent, shown, shadowed, author, created, pinned, json
            ],
        )?;
        Ok(())
    }

    fn remove_message(&mut self, id: &str) -> StoreResult<()> {
        let tx = self.conn.transaction().map_err(db)?;
        tx.execute("DELETE FROM messages WHERE id = ?", [id])
            .and_then(|_| tx.execute("DELETE FROM reactions WHERE message_id = ?", [id]))
            .and_then(|_| tx.execute("DELETE FROM thread_reads WHERE parent_id = ?", [id]))
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn remove_channel(&mut self, cid: &str) -> StoreResult<()> {
        let tx = self.conn.transaction().map_err(db)?;
        for table in ["channels", "members", "reads", "messages"] {
            tx.execute(&format!("DELETE FROM {table} WHERE cid = ?"), [cid])
                .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn messages_since(&self, cid: &str, since: i128) -> StoreResult<Vec<Message>> {
        self.query_messages(
            "SELECT json FROM messages WHERE cid = ? AND created_ns > ? ORDER BY seq",
            vec![Sql::Text(cid.to_owned()), Sql::Integer(nanos(since))],
        )
    }

    fn remove_messages_before(&mut self, cid: &str, before: i128) -> StoreResult<usize> {
        self.execute(
            "DELETE FROM messages WHERE cid = ? AND created_ns < ?",
            params![cid, nanos(before)],
        )
    }

    fn mutes(&self, user_id: &str) -> StoreResult<Vec<MuteRecord>> {
        self.records(
            "SELECT json FROM mutes WHERE user_id = ? ORDER BY seq",
            [user_id],
        )
    }

    fn put_mute(&mut self, mute: MuteRecord) -> StoreResult<()> {
        let json = encode(&mute)?;
        self.execute(
            "INSERT INTO mutes (user_id, target_id, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, target_id) DO UPDATE SET json = excluded.json",
            params![mute.user_id, mute.target_id, json],
        )?;
        Ok(())
    }

    fn remove_mute(&mut self, user_id: &str, target_id: &str) -> StoreResult<bool> {
        let n = self.execute(
            "DELETE FROM mutes WHERE user_id = ? AND target_id = ?",
            [user_id, target_id],
        )?;
        Ok(n > 0)
    }

    fn channel_mutes(&self, user_id: &str) -> StoreResult<Vec<ChannelMuteRecord>> {
        self.records(
            "SELECT json FROM channel_mutes WHERE user_id = ? ORDER BY seq",
            [user_id],
        )
    }

    fn put_channel_mute(&mut self, mute: ChannelMuteRecord) -> StoreResult<()> {
        let json = encode(&mute)?;
        self.execute(
            "INSERT INTO channel_mutes (user_id, cid, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, cid) DO UPDATE SET json = excluded.json",
            params![mute.user_id, mute.cid, json],
        )?;
        Ok(())
    }

    fn remove_channel_mute(&mut self, user_id: &str, cid: &str) -> StoreResult<bool> {
        let n = self.execute(
            "DELETE FROM channel_mutes WHERE user_id = ? AND cid = ?",
            [user_id, cid],
        )?;
        Ok(n > 0)
    }

    fn bans(&self) -> StoreResult<Vec<BanRecord>> {
        self.records("SELECT json FROM bans ORDER BY seq", [])
    }

    fn put_ban(&mut self, ban: BanRecord) -> StoreResult<()> {
        let json = encode(&ban)?;
        // Replaced bans move to the end, as the memory store's do.
        let tx = self.conn.transaction().map_err(db)?;
        tx.execute(
            "DELETE FROM bans WHERE target_id = ? AND cid IS ?",
            params![ban.target_id, ban.cid],
        )
        .and_then(|_| {
            tx.execute(
                "INSERT INTO bans (target_id, cid, json) VALUES (?, ?, ?)",
                params![ban.target_id, ban.cid, json],
            )
        })
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn remove_ban(&mut self, target_id: &str, cid: Option<&str>) -> StoreResult<bool> {
        let n = self.execute(
            "DELETE FROM bans WHERE target_id = ? AND cid IS ?",
            params![target_id, cid],
        )?;
        Ok(n > 0)
    }

    fn flags(&self) -> StoreResult<Vec<FlagRecord>> {
        self.records("SELECT json FROM flags ORDER BY seq", [])
    }

    fn put_flag(&mut self, flag: FlagRecord) -> StoreResult<()> {
        let json = encode(&flag)?;
        let tx = self.conn.transaction().map_err(db)?;
        tx.execute(
            "DELETE FROM flags WHERE user_id = ? AND message_id IS ? AND target_user_id IS ?",
            params![flag.user_id, flag.target_message_id, flag.target_user_id],
        )
        .and_then(|_| {
            tx.execute(
                "INSERT INTO flags (user_id, message_id, target_user_id, json) VALUES (?, ?, ?, ?)",
                params![
                    flag.user_id,
                    flag.target_message_id,
                    flag.target_user_id,
                    json
                ],
            )
        })
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn remove_flag(
        &mut self,
        user_id: &str,
        message_id: Option<&str>,
        target_user_id: Option<&str>,
    ) -> StoreResult<Option<FlagRecord>> {
        let tx = self.conn.transaction().map_err(db)?;
        let found: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, json FROM flags
                 WHERE user_id = ? AND message_id IS ? AND target_user_id IS ?
                 ORDER BY seq LIMIT 1",
                params![user_id, message_id, target_user_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        let Some((seq, json)) = found else {
            return Ok(None);
        };
        tx.execute("DELETE FROM flags WHERE seq = ?", [seq])
            .map_err(db)?;
        tx.commit().map_err(db)?;
        decode(&json).map(Some)
    }

    fn blocks(&self, user_id: &str) -> StoreResult<Vec<BlockRecord>> {
        self.records(
            "SELECT json FROM blocks WHERE user_id = ? ORDER BY seq",
            [user_id],
        )
    }

    fn blockers_of(&self, blocked_user_id: &str) -> StoreResult<Vec<String>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT user_id FROM blocks WHERE blocked_user_id = ? ORDER BY seq")
            .map_err(db)?;
        let rows = statement
            .query_map([blocked_user_id], |row| row.get::<_, String>(0))
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    fn put_block(&mut self, block: BlockRecord) -> StoreResult<()> {
        let json = encode(&block)?;
        self.execute(
            "INSERT INTO blocks (user_id, blocked_user_id, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, blocked_user_id) DO UPDATE SET json = excluded.json",
            params![block.user_id, block.blocked_user_id, json],
        )?;
        Ok(())
    }

    fn remove_block(&mut self, user_id: &str, blocked_user_id: &str) -> StoreResult<bool> {
        let n = self.execute(
            "DELETE FROM blocks WHERE user_id = ? AND blocked_user_id = ?",
            [user_id, blocked_user_id],
        )?;
        Ok(n > 0)
    }

    fn record_active_user(&mut self, month: &str, user_id: &str) -> StoreResult<()> {
        self.execute(
            "INSERT OR IGNORE INTO active_users (month, user_id) VALUES (?, ?)",
            [month, user_id],
        )?;
        Ok(())
    }

    fn active_users(&self, month: &str) -> StoreResult<u64> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM active_users WHERE month = ?")
            .and_then(|mut s| s.query_row([month], |row| row.get(0)))
            .map_err(db)?;
        Ok(n.max(0) as u64)
    }

    fn remove_user(&mut self, id: &str) -> StoreResult<()> {
        let tx = self.conn.transaction().map_err(db)?;
        tx.execute("DELETE FROM users WHERE id = ?", [id])
            .and_then(|_| tx.execute("DELETE FROM devices WHERE user_id = ?", [id]))
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn devices(&self, user_id: &str) -> StoreResult<Vec<Device>> {
        self.records(
            "SELECT json FROM devices WHERE user_id = ? ORDER BY seq",
            [user_id],
        )
    }

    fn device(&self, id: &str) -> StoreResult<Option<Device>> {
        Ok(self
            .records("SELECT json FROM devices WHERE id = ?", [id])?
            .pop())
    }

    fn put_device(&mut self, device: Device) -> StoreResult<()> {
        let json = encode(&device)?;
        self.execute(
            "INSERT INTO devices (id, user_id, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, json = excluded.json",
            params![
                device.id,
                device.user_id.as_deref().unwrap_or_default(),
                json
            ],
        )?;
        Ok(())
    }

    fn remove_device(&mut self, id: &str) -> StoreResult<bool> {
        Ok(self.execute("DELETE FROM devices WHERE id = ?", [id])? > 0)
    }

    fn reactions(&self, message_id: &str) -> StoreResult<Vec<Reaction>> {
        self.records(
            "SELECT json FROM reactions WHERE message_id = ? ORDER BY seq",
            [message_id],
        )
    }

    fn put_reaction(&mut self, reaction: Reaction) -> StoreResult<()> {
        if !self.message_exists(&reaction.message_id)? {
            return Ok(());
        }
        let json = encode(&reaction)?;
        self.execute(
            "INSERT INTO reactions (message_id, user_id, kind, json) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (message_id, user_id, kind) DO UPDATE SET json = excluded.json",
            params![reaction.message_id, reaction.user_id, reaction.kind, json],
        )?;
        Ok(())
    }

    fn remove_reaction(
        &mut self,
        message_id: &str,
        user_id: &str,
        kind: &str,
    ) -> StoreResult<Option<Reaction>> {
        let tx = self.conn.transaction().map_err(db)?;
        let found: Option<String> = tx
            .query_row(
                "SELECT json FROM reactions WHERE message_id = ? AND user_id = ? AND kind = ?",
                [message_id, user_id, kind],
                |row| row.get(0),
            )
            .optional()
            .map_err(db)?;
        let Some(json) = found else {
            return Ok(None);
        };
        tx.execute(
            "DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND kind = ?",
            [message_id, user_id, kind],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        decode(&json).map(Some)
    }

    fn replies(&self, parent_id: &str, page: &MessagePage) -> StoreResult<Vec<Message>> {
        if !self.message_exists(parent_id)? {
            return Ok(Vec::new());
        }
        self.page(REPLIES, vec![Sql::Text(parent_id.to_owned())], page)
    }

    fn all_messages(&self, cid: &str) -> StoreResult<Vec<Message>> {
        self.query_messages(
            "SELECT json FROM messages WHERE cid = ? ORDER BY seq",
            vec![Sql::Text(cid.to_owned())],
        )
    }

    fn pinned_messages(&self, cid: &str) -> StoreResult<Vec<Message>> {
        self.query_messages(
            "SELECT json FROM messages WHERE cid = ? AND pinned = 1 ORDER BY seq",
            vec![Sql::Text(cid.to_owned())],
        )
    }

    fn thread_reads(&self, parent_id: &str) -> StoreResult<Vec<(String, ReadRecord)>> {
        self.read_rows(
            "SELECT user_id, last_read, last_read_message_id, unread FROM thread_reads
             WHERE parent_id = ? ORDER BY user_id",
            parent_id,
        )
    }

    fn put_thread_read(
        &mut self,
        parent_id: &str,
        user_id: &str,
        read: ReadRecord,
    ) -> StoreResult<()> {
        if !self.message_exists(parent_id)? {
            return Ok(());
        }
        self.execute(
            "INSERT INTO thread_reads (parent_id, user_id, last_read, last_read_message_id, unread)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (parent_id, user_id) DO UPDATE SET last_read = excluded.last_read,
                 last_read_message_id = excluded.last_read_message_id, unread = excluded.unread",
            params![
                parent_id,
                user_id,
                read.last_read,
                read.last_read_message_id,
                i64::try_from(read.unread).unwrap_or(i64::MAX)
            ],
        )?;
        Ok(())
    }

    fn unread_threads(&self, user_id: &str) -> StoreResult<ThreadUnread> {
        let (threads, messages): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT count(*), coalesce(sum(unread), 0) FROM thread_reads
                 WHERE user_id = ? AND unread > 0",
            )
            .and_then(|mut s| s.query_row([user_id], |row| Ok((row.get(0)?, row.get(1)?))))
            .map_err(db)?;
        Ok(ThreadUnread {
            threads: threads.max(0) as u64,
            messages: messages.max(0) as u64,
        })
    }
}
