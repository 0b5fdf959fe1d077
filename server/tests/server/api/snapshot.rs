//! Seed and snapshot (issue 13): `GET /emulator/export`, `POST /emulator/import`,
//! `POST /emulator/reset`, the sample seed, and the binary's `--import` and
//! `--export-on-exit`.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use stream_chat_server::Server;

use crate::support::{Auth, Env};

const BIN: &str = env!("CARGO_BIN_EXE_stream-chat-server");
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/sample.json");

/// `GET /emulator/export` with a server token: the document's bytes.
fn export(env: &Env) -> Vec<u8> {
    let url = format!(
        "{}/emulator/export?api_key={}",
        env.server.base_url(),
        env.server.api_key()
    );
    let mut res = env
        .agent()
        .get(&url)
        .header("Authorization", &env.server.server_token())
        .header("stream-auth-type", "jwt")
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.body_mut().read_to_vec().unwrap()
}

/// A state with every kind of record: users, a channel with members, reads, messages, a
/// thread reply, reactions, a pin, an edit, a soft delete.
fn populate(env: &Env) {
    env.upsert(&["alice", "bob", "carol"]);
    env.create_channel("messaging:general", "alice", &["alice", "bob"]);
    env.create_channel("livestream:show", "carol", &[]);
    let post = |cid: &str, user: &str, message: Value| {
        let (kind, id) = cid.split_once(':').unwrap();
        let (status, body) = env.call(
            "POST",
            &format!("/channels/{kind}/{id}/message"),
            Auth::User(user),
            Some(json!({ "message": message })),
        );
        assert_eq!(status, 200, "{body}");
    };
    post(
        "messaging:general",
        "alice",
        json!({"id": "m1", "text": "hello"}),
    );
    post(
        "messaging:general",
        "bob",
        json!({"id": "m2", "text": "re", "parent_id": "m1"}),
    );
    post(
        "messaging:general",
        "bob",
        json!({"id": "m3", "text": "typo"}),
    );
    post(
        "messaging:general",
        "alice",
        json!({"id": "m4", "text": "oops"}),
    );
    post(
        "livestream:show",
        "carol",
        json!({"id": "s1", "text": "live!"}),
    );
    let ok = |(status, body): (u16, Value)| assert_eq!(status, 200, "{body}");
    ok(env.call(
        "POST",
        "/messages/m1/reaction",
        Auth::User("bob"),
        Some(json!({"reaction": {"type": "love"}})),
    ));
    ok(env.call(
        "POST",
        "/messages/m3",
        Auth::User("bob"),
        Some(json!({"message": {"text": "fixed"}})),
    ));
    ok(env.call(
        "PUT",
        "/messages/m1",
        Auth::User("alice"),
        Some(json!({"set": {"pinned": true}})),
    ));
    ok(env.call("DELETE", "/messages/m4", Auth::User("alice"), None));
    ok(env.mark_read(Auth::User("bob"), "messaging:general", None));
}

#[test]
fn import_then_export_gives_the_same_bytes() {
    let source = Env::start();
    populate(&source);
    let first = export(&source);
    let doc: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(doc["version"], 1);
    // Channels in cid order.
    assert_eq!(doc["channels"][0]["id"], "show");
    let general = &doc["channels"][1];
    assert_eq!(general["id"], "general");
    assert_eq!(general["members"].as_array().unwrap().len(), 2);
    let messages: Vec<&Value> = general["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["message"])
        .collect();
    let ids: Vec<&str> = messages.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["m1", "m2", "m3", "m4"]);
    assert_eq!(messages[0]["pinned"], true);
    assert_eq!(messages[0]["reply_count"], 1);
    assert_eq!(messages[1]["parent_id"], "m1");
    assert_eq!(messages[2]["text"], "fixed");
    assert_eq!(messages[3]["type"], "deleted");
    assert_eq!(general["messages"][0]["reactions"][0]["type"], "love");

    let target = Env::start();
    let (status, body) = target.call(
        "POST",
        "/emulator/import",
        Auth::Token(&target.server.server_token()),
        Some(doc),
    );
    assert_eq!(status, 200, "{body}");
    let second = export(&target);
    assert!(
        first == second,
        "the export of the import differs:\n{}\n---\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );

    // The imported state is served: the thread, the reaction, the pin, bob's read state.
    let (status, body) = target.call("GET", "/messages/m1/replies", Auth::User("alice"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["messages"][0]["id"], "m2");
    let (status, body) = target.query_channel(
        Auth::User("bob"),
        "messaging:general",
        Some(json!({"state": true})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pinned_messages"][0]["id"], "m1");
    assert_eq!(body["messages"][0]["reaction_counts"]["love"], 1);
    let bob_read = body["read"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"]["id"] == "bob")
        .unwrap();
    assert_eq!(bob_read["unread_messages"], 0);
}

#[test]
fn the_sample_seed_starts_a_server_with_data() {
    let env = Env::with(Server::builder().import(SAMPLE));
    // The checked-in file is exactly what the server exports.
    let sample = std::fs::read(SAMPLE).unwrap();
    assert!(
        export(&env) == sample,
        "seeds/sample.json is not in export form: regenerate it"
    );

    let (status, body) = env.query_channel(
        Auth::User("viewer-01"),
        "livestream:launch",
        Some(json!({"state": true, "messages": {"limit": 300}})),
    );
    assert_eq!(status, 200, "{body}");
    let messages = body["messages"].as_array().unwrap();
    assert!(messages.len() > 200, "{} messages", messages.len());
    let first = messages.first().unwrap()["created_at"].as_str().unwrap();
    let last = messages.last().unwrap()["created_at"].as_str().unwrap();
    assert_eq!(&first[..13], "2026-01-05T18", "{first}");
    assert_eq!(
        &last[..16],
        "2026-01-05T18:59",
        "an hour of chat: {first} .. {last}"
    );
    assert_eq!(body["pinned_messages"][0]["user"]["id"], "host");
    assert!(messages.iter().any(|m| m["type"] == "deleted"));
    assert!(messages.iter().any(|m| m["reply_count"] == 2));

    let (status, body) = env.call(
        "POST",
        "/channels",
        Auth::User("carol"),
        Some(json!({"filter_conditions": {"members": {"$in": ["carol"]}}, "state": true})),
    );
    assert_eq!(status, 200, "{body}");
    let team = &body["channels"][0];
    assert_eq!(team["channel"]["cid"], "messaging:team");
    assert_eq!(team["members"].as_array().unwrap().len(), 4);
    assert_eq!(team["messages"].as_array().unwrap().len(), 10);
    // carol has four unread messages in the seed.
    let (_, body) = env.call("GET", "/unread", Auth::User("carol"), None);
    assert_eq!(body["total_unread_count"], 4, "{body}");
}

#[test]
fn a_bad_document_is_refused_and_changes_nothing() {
    let env = Env::start();
    env.upsert(&["alice"]);
    let before = export(&env);
    let token = env.server.server_token();
    for (doc, expect) in [
        (json!({"version": 7}), "unsupported snapshot version 7"),
        (
            json!({"users": []}),
            "unsupported snapshot version (missing)",
        ),
        (
            json!({"version": 1, "users": [{"id": "a"}, {"id": "a"}]}),
            "user 'a' appears twice",
        ),
        (
            json!({"version": 1, "channels": [{"type": "messaging", "id": "x",
                   "members": [{"user_id": "ghost"}]}]}),
            "messaging:x: member 'ghost' is not a user",
        ),
        (
            json!({"version": 1, "users": [], "surprise": true}),
            "unknown field `surprise`",
        ),
    ] {
        let (status, body) = env.call("POST", "/emulator/import", Auth::Token(&token), Some(doc));
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], 4);
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(expect), "{message} lacks {expect}");
    }
    let (status, body) = env.post_raw("/emulator/import", b"{not json");
    assert_eq!(status, 400, "{body}");
    assert!(export(&env) == before, "a refused import changed the state");

    // Server tokens only.
    for path in ["/emulator/import", "/emulator/reset"] {
        let (status, body) = env.call("POST", path, Auth::User("alice"), None);
        assert_eq!(
            (status, body["code"].clone()),
            (403, json!(17)),
            "{path}: {body}"
        );
    }
    let (status, body) = env.call("GET", "/emulator/export", Auth::User("alice"), None);
    assert_eq!((status, body["code"].clone()), (403, json!(17)), "{body}");
}

#[test]
fn reset_empties_the_state_and_closes_every_connection() {
    let env = Env::start();
    populate(&env);
    let (mut alice, _) = env.connect("alice");
    let (mut anon, _) = env.connect_anonymous();
    let (status, body) = env.call("POST", "/emulator/reset", Auth::Server, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        u16::from(alice.expect_close().code),
        stream_chat_server::KICK_CLOSE_CODE
    );
    assert_eq!(
        u16::from(anon.expect_close().code),
        stream_chat_server::KICK_CLOSE_CODE
    );
    env.wait_for("every connection closed", |c| {
        c.usage.concurrent_connections == 0
    });
    let doc: Value = serde_json::from_slice(&export(&env)).unwrap();
    assert_eq!(doc, json!({"version": 1, "users": [], "channels": []}));
    let (status, _) = env.call("GET", "/messages/m1", Auth::Server, None);
    assert_eq!(status, 404);
    // The server goes on: the same ids can be created again.
    populate(&env);
}

#[test]
fn the_binary_imports_at_start_and_exports_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("stream-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.json");
    let (mut child, _server) = super::binary::spawn(
        &[
            "--import",
            SAMPLE,
            "--export-on-exit",
            out.to_str().unwrap(),
        ],
        Stdio::null(),
        Stdio::null(),
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(SAMPLE).unwrap(),
        "--export-on-exit wrote another document than --import read"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_binary_refuses_a_bad_import_file_with_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("stream-bad-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"version": 1, "users": [{"id": ""}]}"#).unwrap();
    for (file, expect) in [
        (
            bad.to_str().unwrap().to_owned(),
            "a user has an empty id".to_owned(),
        ),
        (
            dir.join("missing.json").to_str().unwrap().to_owned(),
            "No such file".to_owned(),
        ),
    ] {
        let out = Command::new(BIN)
            .args(["--addr", "127.0.0.1:0", "--import", &file])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--import"), "{stderr}");
        assert!(stderr.contains(&expect), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "no URL announced for a server that did not start"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
