use serde_json::{Value, json};
use stream_chat_protocol::{Device, MessagePagination};

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
