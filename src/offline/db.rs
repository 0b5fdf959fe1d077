//! The SQLite file: opening it (a corrupt or newer-schema file is moved aside and a fresh one
//! created), the versioned schema and its migrations, and the rows the offline store reads
//! and writes. Everything is JSON of the wire models beside the few columns we look up by.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::{ChannelState as ChannelResponse, Message, User};

use crate::state::{CachedChannel, QueryChannelsState, SyncStatus};

/// The schema this build writes (`PRAGMA user_version`). A file with a higher version was
/// written by a newer SDK: it is moved aside, never read or downgraded.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE channels (cid TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        cid TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX messages_by_channel ON messages (cid, created_at);
    CREATE TABLE queries (key TEXT PRIMARY KEY, position INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE TABLE pending (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        cid TEXT NOT NULL,
        id TEXT NOT NULL UNIQUE,
        data TEXT NOT NULL
    );
"];

/// How long a statement waits for the other connection's write (the writer thread and a
/// call's own connection share the file).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens `path`, migrating it to [`SCHEMA_VERSION`]. A file that is not a database, fails
/// SQLite's `quick_check`, has a newer schema or cannot be migrated is renamed to
/// `<path>.corrupt-<unix seconds>` (logged at WARN) and replaced by a fresh database.
pub(crate) fn open(path: &Path) -> Result<Connection, ChatError> {
    match try_open(path) {
        Ok(conn) => Ok(conn),
        Err(Unusable::Io(err)) => Err(db_error(path, err)),
        Err(Unusable::Bad(why)) => {
            let aside = PathBuf::from(format!("{}.corrupt-{}", path.display(), unix_secs()));
            log::warn!(
                "offline database {} is unusable ({why}): moved aside to {} and replaced by a fresh one",
                path.display(),
                aside.display()
            );
            if let Err(err) = std::fs::rename(path, &aside) {
                log::warn!("cannot move {} aside ({err}); deleting it", path.display());
                std::fs::remove_file(path).map_err(|e| {
                    ChatError::new(
                        ErrorKind::InvalidArgument,
                        format!("cannot replace the offline database {}", path.display()),
                    )
                    .with_source(e)
                })?;
            }
            for suffix in ["-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            match try_open(path) {
                Ok(conn) => Ok(conn),
                Err(Unusable::Io(err)) => Err(db_error(path, err)),
                Err(Unusable::Bad(why)) => Err(ChatError::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "a fresh offline database at {} is unusable: {why}",
                        path.display()
                    ),
                )),
            }
        }
    }
}

/// Why a file cannot be used: it cannot be opened at all (a missing directory, no
/// permission: the caller's error), or its content is bad (moved aside).
enum Unusable {
    Io(rusqlite::Error),
    Bad(String),
}

fn try_open(path: &Path) -> Result<Connection, Unusable> {
    let mut conn = Connection::open(path).map_err(Unusable::Io)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(Unusable::Io)?;
    let bad = |e: rusqlite::Error| Unusable::Bad(e.to_string());
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(bad)?;
    if version > SCHEMA_VERSION {
        return Err(Unusable::Bad(format!(
            "schema version {version} is newer than this SDK's {SCHEMA_VERSION}"
        )));
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(bad)?;
    if check != "ok" {
        return Err(Unusable::Bad(format!("quick_check: {check}")));
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(bad)?;
        tx.execute_batch(sql).map_err(bad)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)
            .map_err(bad)?;
        tx.commit().map_err(bad)?;
    }
    Ok(conn)
}

fn db_error(path: &Path, err: rusqlite::Error) -> ChatError {
    ChatError::new(
        ErrorKind::InvalidArgument,
        format!("cannot open the offline database {}", path.display()),
    )
    .with_source(err)
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn status_code(status: SyncStatus) -> i64 {
    match status {
        SyncStatus::Synced => 0,
        SyncStatus::Pending => 1,
        SyncStatus::Failed => 2,
    }
}

fn status_of(code: i64) -> SyncStatus {
    match code {
        0 => SyncStatus::Synced,
        1 => SyncStatus::Pending,
        _ => SyncStatus::Failed,
    }
}

// Rows.

pub(crate) fn set_meta(tx: &Transaction<'_>, key: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .map(drop)
}

/// Sets the file's user (`user` as JSON) outside a transaction.
pub(crate) fn set_user(conn: &Connection, user: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('user', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [user],
    )
    .map(drop)
}

pub(crate) fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

/// The user the cached data belongs to (the last connected one).
pub(crate) fn user(conn: &Connection) -> rusqlite::Result<Option<User>> {
    Ok(meta(conn, "user")?.and_then(|json| serde_json::from_str(&json).ok()))
}

/// Deletes every cached row (the schema stays).
pub(crate) fn clear(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "BEGIN;
         DELETE FROM meta; DELETE FROM channels; DELETE FROM messages;
         DELETE FROM queries; DELETE FROM pending;
         COMMIT;",
    )
}

pub(crate) fn put_channel(tx: &Transaction<'_>, cid: &str, data: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO channels (cid, data) VALUES (?1, ?2)
         ON CONFLICT (cid) DO UPDATE SET data = excluded.data",
        params![cid, data],
    )
    .map(drop)
}

pub(crate) fn delete_channel(tx: &Transaction<'_>, cid: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM channels WHERE cid = ?1", [cid])?;
    tx.execute("DELETE FROM messages WHERE cid = ?1", [cid])?;
    Ok(())
}

pub(crate) fn put_message(
    tx: &Transaction<'_>,
    cid: &str,
    at: i128,
    status: SyncStatus,
    data: &str,
    id: &str,
) -> rusqlite::Result<()> {
    let at = i64::try_from(at).unwrap_or(i64::MAX);
    tx.execute(
        "INSERT INTO messages (id, cid, created_at, status, data) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET cid = excluded.cid, created_at = excluded.created_at,
             status = excluded.status, data = excluded.data",
        params![id, cid, at, status_code(status), data],
    )
    .map(drop)
}

pub(crate) fn delete_message(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM messages WHERE id = ?1", [id])
        .map(drop)
}

pub(crate) fn put_queries(
    tx: &Transaction<'_>,
    queries: &[QueryChannelsState],
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM queries", [])?;
    for (position, q) in queries.iter().enumerate() {
        let key = serde_json::json!({"filter": q.filter, "sort": q.sort}).to_string();
        let data = serde_json::json!({"filter": q.filter, "sort": q.sort, "cids": q.cids});
        tx.execute(
            "INSERT OR REPLACE INTO queries (key, position, data) VALUES (?1, ?2, ?3)",
            params![key, position as i64, data.to_string()],
        )?;
    }
    Ok(())
}

/// A message queued to be sent when connected.
pub(crate) struct Queued {
    pub(crate) seq: i64,
    pub(crate) cid: String,
    pub(crate) message: Message,
}

/// Queues `message` at `seq` (when its send was made: the queue is sent in that order).
pub(crate) fn queue(
    conn: &Connection,
    seq: i64,
    cid: &str,
    message: &Message,
) -> rusqlite::Result<()> {
    let data = serde_json::to_string(message).unwrap_or_default();
    conn.execute(
        "INSERT INTO pending (seq, cid, id, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data",
        params![seq, cid, message.id, data],
    )
    .map(drop)
}

pub(crate) fn has_queued(conn: &Connection, cid: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pending WHERE cid = ?1)",
        [cid],
        |r| r.get(0),
    )
}

/// The oldest queued message.
pub(crate) fn first_queued(conn: &Connection) -> rusqlite::Result<Option<Queued>> {
    conn.query_row(
        "SELECT seq, cid, data FROM pending ORDER BY seq LIMIT 1",
        [],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    )
    .optional()
    .map(|row| {
        row.and_then(|(seq, cid, data)| {
            let message = serde_json::from_str(&data).ok()?;
            Some(Queued { seq, cid, message })
        })
    })
}

pub(crate) fn unqueue(conn: &Connection, seq: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM pending WHERE seq = ?1", [seq])
        .map(drop)
}

/// Drops a queued message that cannot be read back (written by a broken build).
pub(crate) fn drop_unreadable(conn: &Connection) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = conn.prepare("SELECT seq, data FROM pending ORDER BY seq")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    for (seq, data) in rows {
        if serde_json::from_str::<Message>(&data).is_err() {
            log::warn!("offline: dropping an unreadable queued message (row {seq})");
            unqueue(conn, seq)?;
        }
    }
    Ok(())
}

/// What the file holds, to load into the store when the client is built.
pub(crate) struct Cached {
    pub(crate) me: Option<User>,
    /// Each channel (without messages), with its messages in order and their status.
    pub(crate) channels: Vec<CachedChannel>,
    pub(crate) queries: Vec<QueryChannelsState>,
}

pub(crate) fn load(conn: &Connection) -> rusqlite::Result<Cached> {
    let me = user(conn)?;
    let queued: std::collections::HashSet<String> = {
        let mut stmt = conn.prepare("SELECT id FROM pending")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut channels = Vec::new();
    {
        let mut stmt = conn.prepare("SELECT cid, data FROM channels ORDER BY cid")?;
        let mut messages = conn.prepare(
            "SELECT data, status, created_at FROM messages WHERE cid = ?1 ORDER BY created_at, id",
        )?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (cid, data) in rows {
            let Ok(channel) = serde_json::from_str::<ChannelResponse>(&data) else {
                log::warn!("offline: skipping unreadable cached channel {cid}");
                continue;
            };
            let list: Vec<(Message, SyncStatus, i128)> = messages
                .query_map([&cid], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?
                .filter_map(|row| {
                    let (data, status, at) = row.ok()?;
                    let message: Message = serde_json::from_str(&data).ok()?;
                    let mut status = status_of(status);
                    // Pending with nothing left to send it: it never reached the server.
                    if status == SyncStatus::Pending && !queued.contains(&message.id) {
                        status = SyncStatus::Failed;
                    }
                    Some((message, status, i128::from(at)))
                })
                .collect();
            channels.push((channel, list));
        }
    }
    let queries = {
        let mut stmt = conn.prepare("SELECT data FROM queries ORDER BY position")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        rows.iter()
            .filter_map(|data| {
                let v: serde_json::Value = serde_json::from_str(data).ok()?;
                Some(QueryChannelsState {
                    filter: serde_json::from_value(v["filter"].clone()).ok()?,
                    sort: serde_json::from_value(v["sort"].clone()).ok()?,
                    cids: serde_json::from_value(v["cids"].clone()).ok()?,
                })
            })
            .collect()
    };
    Ok(Cached {
        me,
        channels,
        queries,
    })
}
