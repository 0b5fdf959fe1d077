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

use std::fs::File;
use std::io;
use std::path::Path;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use stream_chat_protocol::{Message, User, time};

use super::{
    Bound, ChannelRecord, MemberRecord, MessagePage, ReadRecord, Store, StoreError, StoreResult,
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

mod store_impl;
#[cfg(test)]
mod tests;
