//! The durable [`Store`] behind `--data-dir`: one SQLite database, `DIR/chat.sqlite3`.
//!
//! Records are JSON text columns beside the keys the store queries on (cid, user ids,
//! parent ids, a message's time and its place in its channel). Messages are read page by
//! page with SQL: nothing is held in memory beyond what one call returns.
//!
//! **Durability.** WAL journal with `synchronous=FULL`, and every write method is one
//! transaction committed before it returns, so a request is answered only after its writes
//! are on disk: `kill -9` at any moment loses nothing that was acknowledged.
//!
//! **Start.** A lock file (`DIR/chat.lock`, locked for the store's life) refuses a second
//! server on the same directory. The schema is versioned by `PRAGMA user_version` and
//! brought up to date by [`MIGRATIONS`]; a database from a newer server, or a file that is
//! not a database, is an `io::Error` naming the file, never a panic.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::path::Path;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use stream_chat_protocol::{Device, Message, Reaction, User, time};

use super::{
    BanRecord, BlockRecord, Bound, ChannelMuteRecord, ChannelRecord, FlagRecord, MemberRecord,
    MessagePage, MuteRecord, ReadRecord, Store, StoreError, StoreResult, ThreadUnread,
    UnreadCounts, in_force,
};

/// The database file's name in the data directory.
pub(crate) const DATABASE_FILE: &str = "chat.sqlite3";
/// The lock file's name in the data directory.
pub(crate) const LOCK_FILE: &str = "chat.lock";

/// The schema, one step per version: step `i` takes `user_version` from `i` to `i + 1`.
/// Append new steps; never edit a released one.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE users (id TEXT PRIMARY KEY, json TEXT NOT NULL);
     CREATE TABLE channels (cid TEXT PRIMARY KEY, json TEXT NOT NULL);
     CREATE TABLE members (seq INTEGER PRIMARY KEY, cid TEXT NOT NULL, user_id TEXT NOT NULL,
         json TEXT NOT NULL, UNIQUE (cid, user_id));
     CREATE TABLE reads (cid TEXT NOT NULL, user_id TEXT NOT NULL, last_read TEXT NOT NULL,
         last_read_message_id TEXT, unread INTEGER NOT NULL, PRIMARY KEY (cid, user_id));
     CREATE INDEX reads_by_user ON reads (user_id);
     CREATE TABLE messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
         cid TEXT NOT NULL, parent_id TEXT, in_channel INTEGER NOT NULL,
         shadowed INTEGER NOT NULL, user_id TEXT, created_ns INTEGER NOT NULL,
         pinned INTEGER NOT NULL, json TEXT NOT NULL);
     CREATE INDEX messages_by_channel ON messages (cid, seq);
     CREATE INDEX messages_shown ON messages (cid, in_channel, seq);
     CREATE INDEX messages_by_parent ON messages (parent_id, seq);
     CREATE INDEX messages_pinned ON messages (cid, pinned, seq);
     CREATE TABLE reactions (seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL,
         user_id TEXT NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL,
         UNIQUE (message_id, user_id, kind));
     CREATE TABLE thread_reads (parent_id TEXT NOT NULL, user_id TEXT NOT NULL,
         last_read TEXT NOT NULL, last_read_message_id TEXT, unread INTEGER NOT NULL,
         PRIMARY KEY (parent_id, user_id));
     CREATE INDEX thread_reads_by_user ON thread_reads (user_id);
     CREATE TABLE mutes (seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL,
         target_id TEXT NOT NULL, json TEXT NOT NULL, UNIQUE (user_id, target_id));
     CREATE TABLE channel_mutes (seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL,
         cid TEXT NOT NULL, json TEXT NOT NULL, UNIQUE (user_id, cid));
     CREATE TABLE bans (seq INTEGER PRIMARY KEY, target_id TEXT NOT NULL, cid TEXT,
         json TEXT NOT NULL);
     CREATE TABLE flags (seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL, message_id TEXT,
         target_user_id TEXT, json TEXT NOT NULL);
     CREATE TABLE blocks (seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL,
         blocked_user_id TEXT NOT NULL, json TEXT NOT NULL, UNIQUE (user_id, blocked_user_id));
     CREATE TABLE active_users (month TEXT NOT NULL, user_id TEXT NOT NULL,
         PRIMARY KEY (month, user_id));",
    // 2: push devices (a device id belongs to one user at a time).
    "CREATE TABLE devices (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
         user_id TEXT NOT NULL, json TEXT NOT NULL);
     CREATE INDEX devices_by_user ON devices (user_id, seq);",
];

/// The chat state in an SQLite database. See the module documentation.
pub(crate) struct SqliteStore {
    conn: Connection,
    /// Locked while the store lives; the OS releases it when the process dies.
    _lock: File,
}

impl SqliteStore {
    /// Opens (creating if missing) the store of data directory `dir`: locks it, opens
    /// `dir/chat.sqlite3` and migrates its schema.
    pub(crate) fn open(dir: &Path) -> io::Result<SqliteStore> {
        std::fs::create_dir_all(dir)?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| named(&lock_path, "cannot open the lock file", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!(
                        "the data directory {} is in use by another server (its lock file {} is held)",
                        dir.display(),
                        lock_path.display()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(named(&lock_path, "cannot lock", e));
            }
        }
        let path = dir.join(DATABASE_FILE);
        let conn = open_database(&path).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("cannot open the database {}: {e}", path.display()),
            )
        })?;
        Ok(SqliteStore { conn, _lock: lock })
    }

    /// Every message of `cid` in channel order matching `filter` (SQL over `messages`).
    fn query_messages(&self, sql: &str, params: Vec<Sql>) -> StoreResult<Vec<Message>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        let rows = stmt
            .query_map(params_from_iter(params), |row| row.get::<_, String>(0))
            .map_err(db)?;
        let mut out = Vec::new();
        for json in rows {
            out.push(decode(&json.map_err(db)?)?);
        }
        Ok(out)
    }

    /// One page of the messages `base` (an SQL condition over `messages`, with `params`)
    /// selects, by [`MessagePage`]'s positional rules (those of the memory store).
    fn page(
        &self,
        base: &str,
        mut params: Vec<Sql>,
        page: &MessagePage,
    ) -> StoreResult<Vec<Message>> {
        let mut list = base.to_owned();
        if let Some(viewer) = &page.viewer {
            list.push_str(" AND NOT (shadowed = 1 AND (user_id IS NULL OR user_id <> ?))");
            params.push(Sql::Text(viewer.clone()));
        }
        if let Some(floor) = page.floor {
            list.push_str(" AND created_ns > ?");
            params.push(Sql::Integer(nanos(floor)));
        }
        if let Some(anchor) = &page.around {
            let before = match anchor {
                Bound::Id { id, .. } => match self.seq_in(&list, &params, id)? {
                    Some(seq) => self.count(&format!("{list} AND seq < ?"), &params, seq)?,
                    None => return Ok(Vec::new()),
                },
                Bound::Time { nanos: t, .. } => {
                    self.count(&format!("{list} AND created_ns < ?"), &params, nanos(*t))?
                }
            };
            let len = self.count_all(&list, &params)?;
            let i = before.min(len.saturating_sub(1));
            let start = i.saturating_sub(page.limit as i64 / 2);
            let sql =
                format!("SELECT json FROM messages WHERE {list} ORDER BY seq LIMIT ? OFFSET ?");
            params.push(Sql::Integer(page.limit as i64));
            params.push(Sql::Integer(start));
            return self.query_messages(&sql, params);
        }
        let mut range = String::new();
        let mut range_params = Vec::new();
        for (bounds, lower) in [(&page.lower, true), (&page.upper, false)] {
            for bound in bounds {
                let (column, value, inclusive) = match bound {
                    Bound::Id { id, inclusive } => match self.seq_in(&list, &params, id)? {
                        Some(seq) => ("seq", seq, *inclusive),
                        None => return Ok(Vec::new()),
                    },
                    Bound::Time {
                        nanos: t,
                        inclusive,
                    } => ("created_ns", nanos(*t), *inclusive),
                };
                let op = match (lower, inclusive) {
                    (true, true) => ">=",
                    (true, false) => ">",
                    (false, true) => "<=",
                    (false, false) => "<",
                };
                range.push_str(&format!(" AND {column} {op} ?"));
                range_params.push(Sql::Integer(value));
            }
        }
        params.extend(range_params);
        let limit = page.limit as i64;
        if page.lower.is_empty() {
            // The newest `limit` before the upper bounds (or `offset` from the newest).
            let offset = if page.upper.is_empty() {
                i64::try_from(page.offset).unwrap_or(i64::MAX)
            } else {
                0
            };
            let sql = format!(
                "SELECT json FROM messages WHERE {list}{range} ORDER BY seq DESC LIMIT ? OFFSET ?"
            );
            params.push(Sql::Integer(limit));
            params.push(Sql::Integer(offset));
            let mut newest_first = self.query_messages(&sql, params)?;
            newest_first.reverse();
            Ok(newest_first)
        } else {
            let sql = format!("SELECT json FROM messages WHERE {list}{range} ORDER BY seq LIMIT ?");
            params.push(Sql::Integer(limit));
            self.query_messages(&sql, params)
        }
    }

    /// The place (`seq`) of message `id` among those `list` selects.
    fn seq_in(&self, list: &str, params: &[Sql], id: &str) -> StoreResult<Option<i64>> {
        let sql = format!("SELECT seq FROM messages WHERE {list} AND id = ?");
        let mut all = params.to_vec();
        all.push(Sql::Text(id.to_owned()));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db)?;
        stmt.query_row(params_from_iter(all), |row| row.get(0))
            .optional()
            .map_err(db)
    }

    /// How many messages `list` (ending in a `?` for `value`) selects.
    fn count(&self, list: &str, params: &[Sql], value: i64) -> StoreResult<i64> {
        let mut all = params.to_vec();
        all.push(Sql::Integer(value));
        self.count_all(list, &all)
    }

    fn count_all(&self, list: &str, params: &[Sql]) -> StoreResult<i64> {
        let sql = format!("SELECT count(*) FROM messages WHERE {list}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db)?;
        stmt.query_row(params_from_iter(params.iter()), |row| row.get(0))
            .map_err(db)
    }

    /// Runs one write statement, committed when it returns.
    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<usize> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        stmt.execute(params).map_err(db)
    }

    /// Whether a row matches (`sql` selects anything).
    fn exists(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<bool> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        stmt.exists(params).map_err(db)
    }

    /// The JSON records `sql` selects, decoded.
    fn records<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        let rows = stmt
            .query_map(params, |row| row.get::<_, String>(0))
            .map_err(db)?;
        let mut out = Vec::new();
        for json in rows {
            out.push(decode(&json.map_err(db)?)?);
        }
        Ok(out)
    }

    /// The read states `sql` selects (`user_id, last_read, last_read_message_id, unread`).
    fn read_rows(&self, sql: &str, key: &str) -> StoreResult<Vec<(String, ReadRecord)>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        let rows = stmt
            .query_map([key], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    ReadRecord {
                        last_read: row.get(1)?,
                        last_read_message_id: row.get(2)?,
                        unread: row.get::<_, i64>(3)?.max(0) as u64,
                    },
                ))
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    fn channel_exists(&self, cid: &str) -> StoreResult<bool> {
        self.exists("SELECT 1 FROM channels WHERE cid = ?", [cid])
    }

    fn message_exists(&self, id: &str) -> StoreResult<bool> {
        self.exists("SELECT 1 FROM messages WHERE id = ?", [id])
    }
}

/// Benchmarks only (`benches/persistence.rs`): writes user `user`, channel
/// `messaging:{channel}` with that member and `count` messages of theirs, one second
/// apart, into the data directory `dir` in one transaction (fast, unlike `count` requests).
pub(crate) fn seed(dir: &Path, user: &str, channel: &str, count: usize) -> io::Result<()> {
    let mut store = SqliteStore::open(dir)?;
    let cid = format!("messaging:{channel}");
    let err = |e: StoreError| io::Error::other(e.0);
    store
        .conn
        .execute_batch("BEGIN")
        .map_err(io::Error::other)?;
    let start = time::now_nanos() - count as i128 * 1_000_000_000;
    let now = time::format_rfc3339(time::now_nanos());
    store.put_user(User::new(user)).map_err(err)?;
    let record = ChannelRecord {
        kind: "messaging".into(),
        id: channel.into(),
        cid: cid.clone(),
        created_by: user.into(),
        created_at: now.clone(),
        updated_at: now,
        ..ChannelRecord::default()
    };
    store.put_channel(record).map_err(err)?;
    let member = MemberRecord {
        user_id: user.into(),
        ..MemberRecord::default()
    };
    store.put_member(&cid, member).map_err(err)?;
    for i in 0..count {
        let at = time::format_rfc3339(start + i as i128 * 1_000_000_000);
        let message = Message {
            id: format!("seed-{i}"),
            text: Some(format!("seeded message {i}: some text of a typical length")),
            kind: Some("regular".into()),
            user: Some(User::new(user)),
            cid: Some(cid.clone()),
            created_at: Some(at.clone()),
            updated_at: Some(at),
            ..Message::default()
        };
        store.append_message(message).map_err(err)?;
    }
    store.conn.execute_batch("COMMIT").map_err(io::Error::other)
}

/// Opens the database at `path` with the store's settings and migrates its schema.
fn open_database(path: &Path) -> Result<Connection, String> {
    let mut conn = Connection::open(path).map_err(|e| e.to_string())?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF;",
    )
    .map_err(|e| e.to_string())?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| e.to_string())?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(format!(
            "its schema version is {version}, newer than this server's {known}: use a newer stream-chat-server"
        ));
    }
    if version < 0 {
        return Err(format!("its schema version {version} is not one of ours"));
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", step as i64 + 1))
            .and_then(|()| tx.commit())
            .map_err(|e| format!("migrating to schema version {}: {e}", step + 1))?;
    }
    // Reading a table proves the file is a database we can use.
    conn.query_row("SELECT count(*) FROM channels", [], |row| {
        row.get::<_, i64>(0)
    })
    .map_err(|e| e.to_string())?;
    Ok(conn)
}

fn named(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError(format!("database: {e}"))
}

fn encode<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError(format!("encoding a record: {e}")))
}

fn decode<T: DeserializeOwned>(json: &str) -> StoreResult<T> {
    serde_json::from_str(json).map_err(|e| StoreError(format!("a stored record is corrupt: {e}")))
}

/// Unix nanoseconds as SQLite's integer (saturating: i64 nanoseconds end in 2262).
fn nanos(n: i128) -> i64 {
    n.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn message_time(m: &Message) -> i64 {
    nanos(
        m.created_at
            .as_deref()
            .and_then(time::parse_rfc3339_or_naive)
            .unwrap_or_default(),
    )
}

/// The keys a message is queried by: parent, shown in the channel, shadowed, author, time,
/// pinned.
fn message_keys(m: &Message) -> (Option<&str>, bool, bool, Option<&str>, i64, bool) {
    (
        m.parent_id.as_deref(),
        m.parent_id.is_none() || m.show_in_channel == Some(true),
        m.shadowed == Some(true),
        m.user.as_ref().map(|u| u.id.as_str()),
        message_time(m),
        m.pinned == Some(true),
    )
}

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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use stream_chat_protocol::MessagePagination;

    use super::super::MemoryStore;
    use super::*;

    const CID: &str = "messaging:paging";

    struct Dir(std::path::PathBuf);

    impl Dir {
        fn new(label: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!(
                "stream-chat-sqlite-unit-{label}-{}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Twelve messages in `CID` whose ids sort backwards, one second apart; two are thread
    /// replies (one also shown in the channel), one is shadowed (by "b").
    fn fill(store: &mut dyn Store) {
        let channel = ChannelRecord {
            kind: "messaging".into(),
            id: "paging".into(),
            cid: CID.into(),
            ..ChannelRecord::default()
        };
        store.put_channel(channel).unwrap();
        for i in 0..12 {
            let mut m = Message {
                id: format!("m{:02}", 11 - i),
                cid: Some(CID.into()),
                created_at: Some(format!("2025-01-01T00:00:{i:02}.000000000Z")),
                user: Some(User::new(if i % 2 == 0 { "a" } else { "b" })),
                ..Message::default()
            };
            if i == 4 || i == 6 {
                m.parent_id = Some("m11".into());
                m.show_in_channel = Some(i == 6);
            }
            if i == 7 {
                m.shadowed = Some(true);
            }
            store.append_message(m).unwrap();
        }
    }

    fn ids(messages: Vec<Message>) -> Vec<String> {
        messages.into_iter().map(|m| m.id).collect()
    }

    #[test]
    fn pages_like_the_memory_store() {
        let dir = Dir::new("pages");
        let mut sqlite = SqliteStore::open(&dir.0).unwrap();
        let mut memory = MemoryStore::default();
        fill(&mut sqlite);
        fill(&mut memory);
        let t = "2025-01-01T00:00:05.000Z";
        let mut pages: Vec<Value> = vec![
            json!({}),
            json!({"limit": 0}),
            json!({"limit": 3, "offset": 2}),
        ];
        for key in ["id_lt", "id_lte", "id_gt", "id_gte", "id_around"] {
            for id in ["m00", "m05", "m04", "m07", "m11", "nope"] {
                for limit in [1, 2, 3, 4, 300] {
                    pages.push(json!({"limit": limit, key: id}));
                }
            }
        }
        for key in [
            "created_at_before",
            "created_at_before_or_equal",
            "created_at_after",
            "created_at_after_or_equal",
            "created_at_around",
        ] {
            for limit in [1, 2, 5] {
                pages.push(json!({"limit": limit, key: t}));
            }
        }
        pages.push(json!({"limit": 5, "id_gt": "m10", "id_lt": "m03"}));
        pages.push(json!({"limit": 5, "id_gt": "m03", "id_lt": "m10"}));
        pages.push(json!({"limit": 5, "id_gte": "m09", "created_at_before": t}));
        for p in &pages {
            let parsed = serde_json::from_value::<MessagePagination>(p.clone()).unwrap();
            let mut page = MessagePage::parse(&parsed, 4).unwrap();
            for (viewer, floor) in [
                (None, None),
                (Some("a"), None),
                (Some("b"), Some(1_735_689_602_000_000_000)),
            ] {
                page.viewer = viewer.map(str::to_owned);
                page.floor = floor;
                let want = ids(memory.messages(CID, &page).unwrap());
                assert_eq!(
                    ids(sqlite.messages(CID, &page).unwrap()),
                    want,
                    "{p} {viewer:?}"
                );
                let want = ids(memory.replies("m11", &page).unwrap());
                assert_eq!(
                    ids(sqlite.replies("m11", &page).unwrap()),
                    want,
                    "replies {p}"
                );
            }
        }
        assert_eq!(
            ids(sqlite
                .messages_since(CID, 1_735_689_608_000_000_000)
                .unwrap()),
            ids(memory
                .messages_since(CID, 1_735_689_608_000_000_000)
                .unwrap())
        );
        assert_eq!(
            sqlite
                .remove_messages_before(CID, 1_735_689_603_000_000_000)
                .unwrap(),
            memory
                .remove_messages_before(CID, 1_735_689_603_000_000_000)
                .unwrap()
        );
        assert_eq!(
            ids(sqlite.all_messages(CID).unwrap()),
            ids(memory.all_messages(CID).unwrap())
        );
    }

    #[test]
    fn a_newer_schema_is_refused_with_the_file_named() {
        let dir = Dir::new("newer");
        drop(SqliteStore::open(&dir.0).unwrap());
        let conn = Connection::open(dir.0.join(DATABASE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteStore::open(&dir.0).err().unwrap().to_string();
        assert!(
            err.contains(DATABASE_FILE) && err.contains("newer"),
            "{err}"
        );
    }

    #[test]
    fn state_survives_reopening() {
        let dir = Dir::new("reopen");
        let mut store = SqliteStore::open(&dir.0).unwrap();
        fill(&mut store);
        store.record_active_user("2025-01", "a").unwrap();
        store.record_active_user("2025-01", "a").unwrap();
        store.count_unread(CID, &["b".into()]).unwrap();
        let member = MemberRecord {
            user_id: "b".into(),
            ..MemberRecord::default()
        };
        store.put_member(CID, member).unwrap();
        drop(store);
        let store = SqliteStore::open(&dir.0).unwrap();
        assert_eq!(store.active_users("2025-01").unwrap(), 1);
        assert_eq!(store.unread_counts("b").unwrap().messages, 1);
        assert_eq!(store.all_messages(CID).unwrap().len(), 12);
    }

    #[test]
    fn a_first_version_database_migrates_and_keeps_its_rows() {
        let dir = Dir::new("migrate-v1");
        std::fs::create_dir_all(&dir.0).unwrap();
        let conn = Connection::open(dir.0.join(DATABASE_FILE)).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO users (id, json) VALUES ('a', '{\"id\":\"a\"}')",
            [],
        )
        .unwrap();
        drop(conn);
        let mut store = SqliteStore::open(&dir.0).unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        assert_eq!(store.user("a").unwrap().unwrap().id, "a");
        assert!(store.devices("a").unwrap().is_empty());
        let device = |id: &str, user: &str| Device {
            user_id: Some(user.into()),
            ..Device::new(id, stream_chat_protocol::PushProvider::Firebase)
        };
        let mut memory = MemoryStore::default();
        for s in [&mut store as &mut dyn Store, &mut memory] {
            s.put_device(device("d1", "a")).unwrap();
            s.put_device(device("d2", "a")).unwrap();
            s.put_device(device("d3", "b")).unwrap();
            // Re-registering d1 for b moves it, keeping its place.
            s.put_device(device("d1", "b")).unwrap();
            assert!(s.remove_device("d2").unwrap());
            assert!(!s.remove_device("d2").unwrap());
        }
        let ids = |s: &dyn Store, user: &str| -> Vec<String> {
            s.devices(user).unwrap().into_iter().map(|d| d.id).collect()
        };
        assert_eq!(ids(&store, "b"), ["d1", "d3"]);
        assert_eq!(ids(&store, "b"), ids(&memory, "b"));
        assert!(ids(&store, "a").is_empty());
        store.remove_user("b").unwrap();
        drop(store);
        let store = SqliteStore::open(&dir.0).unwrap();
        assert!(store.device("d3").unwrap().is_none());
    }
}
