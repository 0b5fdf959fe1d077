"""Channels and messages with the official Python server SDK stream-chat==4.33.0."""

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException


@pytest.fixture
def people(client: StreamChat):
    client.upsert_users([{"id": i, "name": i.capitalize()} for i in ("ann", "ben", "cat", "dan")])
    return client


def member_ids(state) -> list:
    return sorted(m.get("user_id") or m["user"]["id"] for m in state["members"])


def test_create_a_channel_with_members(people: StreamChat):
    ch = people.channel("messaging", "py-room", {"created_by_id": "ann", "members": ["ann", "ben"], "topic": "py"})
    res = ch.create("ann")
    assert res["channel"]["cid"] == "messaging:py-room"
    assert res["channel"]["id"] == "py-room"
    assert res["channel"]["type"] == "messaging"
    assert res["channel"]["created_by"]["id"] == "ann"
    assert res["channel"]["topic"] == "py"

    state = ch.query()
    assert member_ids(state) == ["ann", "ben"]
    assert state["messages"] == []
    assert state["channel"]["member_count"] == 2


def test_add_members(people: StreamChat):
    ch = people.channel("messaging", "py-room", {"created_by_id": "ann", "members": ["ann"]})
    ch.create("ann")
    res = ch.add_members(["ben", "cat"])
    assert member_ids(res) == ["ann", "ben", "cat"]
    assert member_ids(ch.query()) == ["ann", "ben", "cat"]


def test_send_messages_and_read_them_back(people: StreamChat):
    ch = people.channel("messaging", "py-room", {"created_by_id": "ann", "members": ["ann", "ben"]})
    ch.create("ann")
    first = ch.send_message({"text": "hello from python"}, "ann")
    second = ch.send_message({"text": "hi ann", "mood": "cheerful"}, "ben")

    m = first["message"]
    assert m["text"] == "hello from python"
    assert m["user"]["id"] == "ann"
    assert m["type"] == "regular"
    assert m["cid"] == "messaging:py-room"
    assert isinstance(m["id"], str) and m["id"]
    assert isinstance(m["created_at"], str)
    assert second["message"]["mood"] == "cheerful", "custom message fields are kept"

    state = ch.query(messages={"limit": 10})
    assert [(x["text"], x["user"]["id"]) for x in state["messages"]] == [
        ("hello from python", "ann"),
        ("hi ann", "ben"),
    ]
    assert state["channel"]["last_message_at"], "last_message_at is set after a message"


def test_query_channels_by_cid_and_members(people: StreamChat):
    for cid, members in (("py-a", ["ann", "ben"]), ("py-b", ["ben", "cat"]), ("py-c", ["cat", "dan"])):
        people.channel("messaging", cid, {"created_by_id": members[0], "members": members}).create(members[0])
    people.channel("messaging", "py-a").send_message({"text": "in a"}, "ann")

    res = people.query_channels({"cid": {"$in": ["messaging:py-a", "messaging:py-c"]}})
    assert isinstance(res["channels"], list)
    assert sorted(c["channel"]["cid"] for c in res["channels"]) == ["messaging:py-a", "messaging:py-c"]
    by_cid = {c["channel"]["cid"]: c for c in res["channels"]}
    assert [x["text"] for x in by_cid["messaging:py-a"]["messages"]] == ["in a"]
    assert by_cid["messaging:py-c"]["messages"] == []
    assert sorted(m.get("user_id") or m["user"]["id"] for m in by_cid["messaging:py-a"]["members"]) == ["ann", "ben"]

    res = people.query_channels({"members": {"$in": ["ben"]}})
    assert sorted(c["channel"]["id"] for c in res["channels"]) == ["py-a", "py-b"]

    res = people.query_channels({"members": {"$in": ["dan"]}})
    assert [c["channel"]["id"] for c in res["channels"]] == ["py-c"]

    res = people.query_channels({"type": "messaging", "members": {"$in": ["nobody"]}})
    assert res["channels"] == []

    res = people.query_channels({"cid": {"$eq": "messaging:py-b"}})
    assert [c["channel"]["id"] for c in res["channels"]] == ["py-b"]


def test_query_channels_sort_limit_offset(people: StreamChat):
    for cid in ("py-1", "py-2", "py-3"):
        people.channel("messaging", cid, {"created_by_id": "ann", "members": ["ann"]}).create("ann")
    # last_message_at order: py-2 oldest, then py-3, then py-1 newest
    for cid in ("py-2", "py-3", "py-1"):
        people.channel("messaging", cid).send_message({"text": cid}, "ann")

    def ids(**opts):
        res = people.query_channels({"members": {"$in": ["ann"]}}, {"last_message_at": -1}, **opts)
        return [c["channel"]["id"] for c in res["channels"]]

    assert ids() == ["py-1", "py-3", "py-2"]
    assert ids(limit=2) == ["py-1", "py-3"]
    assert ids(limit=2, offset=1) == ["py-3", "py-2"]
    res = people.query_channels({"members": {"$in": ["ann"]}}, {"last_message_at": 1})
    assert [c["channel"]["id"] for c in res["channels"]] == ["py-2", "py-3", "py-1"]


def test_server_side_create_needs_created_by(people: StreamChat):
    with pytest.raises(StreamAPIException) as info:
        people.channel("messaging", "py-orphan").query()
    e = info.value
    assert e.status_code == 400, e.response_text
    assert e.error_code == 4, e.response_text
    assert "created_by" in e.error_message
