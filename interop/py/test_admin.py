"""Channel administration, members, read state and moderation with the official Python server
SDK stream-chat==4.33.0: update, update_partial, add_members, remove_members, query_members,
ban_user, mute_user, truncate, delete, mark_read."""

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException


@pytest.fixture
def room(client: StreamChat):
    client.upsert_users(
        [
            {"id": "ann", "name": "Ann"},
            {"id": "ben", "name": "Ben"},
            {"id": "cat", "name": "Cat"},
            {"id": "dan", "name": "Dan"},
            {"id": "mod", "name": "Mod", "role": "moderator"},
        ]
    )
    ch = client.channel("messaging", "py-admin", {"created_by_id": "ann", "members": ["ann", "ben"]})
    ch.create("ann")
    return ch


def member_ids(res) -> list:
    return sorted(m["user_id"] for m in res["members"])


def code_of(e: StreamAPIException) -> int:
    return e.error_code


def test_update_replaces_the_data_and_posts_the_message(client: StreamChat, room):
    res = room.update({"name": "Py Room", "color": "green"}, {"text": "renamed", "user_id": "ann"})
    assert res["channel"]["name"] == "Py Room"
    assert res["channel"]["color"] == "green"
    assert res["message"]["type"] == "system"
    assert res["message"]["user"]["id"] == "ann"
    assert member_ids(res) == ["ann", "ben"]
    state = room.query(messages={"limit": 10})
    assert [m["text"] for m in state["messages"]] == ["renamed"]
    # a second update replaces the custom data
    res = room.update({"name": "Py Room 2"})
    assert res["channel"]["name"] == "Py Room 2"
    assert "color" not in res["channel"]


def test_update_partial_sets_and_unsets(client: StreamChat, room):
    room.update({"name": "N", "color": "red"})
    res = room.update_partial({"topic": "py", "frozen": True}, ["color"])
    assert res["channel"]["topic"] == "py"
    assert res["channel"]["frozen"] is True
    assert "color" not in res["channel"]
    assert res["channel"]["name"] == "N"
    # server-side sends are not limited by a frozen channel (users' sends are: see the SDK and
    # JS suites)
    room.send_message({"text": "server side"}, "ben")
    res = room.update_partial({"frozen": False})
    assert res["channel"]["frozen"] is False
    room.send_message({"text": "thawed"}, "ben")
    with pytest.raises(StreamAPIException) as e:
        room.update_partial({"cooldown": 500})
    assert code_of(e.value) == 4


def test_add_remove_and_query_members(client: StreamChat, room):
    res = room.add_members(["cat", "dan"])
    assert member_ids(res) == ["ann", "ben", "cat", "dan"]
    res = room.remove_members(["dan"])
    assert member_ids(res) == ["ann", "ben", "cat"]
    members = room.query_members({"name": {"$in": ["Ben", "Cat"]}}, [{"field": "user_id", "direction": -1}])
    assert [m["user_id"] for m in members] == ["cat", "ben"]
    members = room.query_members({}, limit=1, offset=1)
    assert [m["user_id"] for m in members] == ["ben"]
    room.add_moderators(["cat"])
    members = room.query_members({"is_moderator": True})
    assert [m["user_id"] for m in members] == ["cat"]
    assert members[0]["channel_role"] == "channel_moderator"
    with pytest.raises(StreamAPIException) as e:
        room.remove_members(["nobody"])
    assert code_of(e.value) == 4


def test_ban_user_in_a_channel_refuses_sends_until_unbanned(client: StreamChat, room):
    room.ban_user("ben", user_id="mod", reason="spam", timeout=30)
    with pytest.raises(StreamAPIException) as e:
        room.send_message({"text": "let me"}, "ben")
    assert code_of(e.value) == 17
    bans = client.query_banned_users({"filter_conditions": {"channel_cid": "messaging:py-admin"}})
    assert [(b["user"]["id"], b["reason"]) for b in bans["bans"]] == [("ben", "spam")]
    assert bans["bans"][0]["expires"]
    state = room.query()
    ben = next(m for m in state["members"] if m["user_id"] == "ben")
    assert ben["banned"] is True
    room.unban_user("ben")
    room.send_message({"text": "back"}, "ben")
    # app-wide ban, negative timeout, banning oneself
    client.ban_user("cat", user_id="mod")
    assert client.query_users({"id": "cat"})["users"][0]["banned"] is True
    client.unban_user("cat")
    with pytest.raises(StreamAPIException) as e:
        client.ban_user("ben", user_id="mod", timeout=-5)
    assert code_of(e.value) == 4
    with pytest.raises(StreamAPIException) as e:
        client.ban_user("mod", user_id="mod")
    assert code_of(e.value) == 4
    with pytest.raises(StreamAPIException) as e:
        client.ban_user("ben")
    assert code_of(e.value) == 4, "a server-side ban names the moderator"


def test_mute_user_and_its_effect_on_unread_counts(client: StreamChat, room):
    res = client.mute_user("ann", "ben")
    assert res["mute"]["user"]["id"] == "ben"
    assert res["mute"]["target"]["id"] == "ann"
    assert [m["target"]["id"] for m in res["own_user"]["mutes"]] == ["ann"]
    room.send_message({"text": "muted"}, "ann")
    assert client.unread_counts("ben")["total_unread_count"] == 0, "a muted user's messages do not count"
    client.unmute_user("ann", "ben")
    assert client.unread_counts("ben")["total_unread_count"] == 1
    with pytest.raises(StreamAPIException) as e:
        client.mute_user("ben", "ben")
    assert code_of(e.value) == 4


def test_mark_read_and_unread_counts(client: StreamChat, room):
    for text in ("a", "b", "c"):
        room.send_message({"text": text}, "ann")
    counts = client.unread_counts("ben")
    assert counts["total_unread_count"] == 3
    assert [(c["channel_id"], c["unread_count"]) for c in counts["channels"]] == [("messaging:py-admin", 3)]
    res = room.mark_read("ben")
    assert res["event"]["type"] == "message.read"
    assert res["event"]["user"]["id"] == "ben"
    assert client.unread_counts("ben")["total_unread_count"] == 0
    state = room.query()
    ben = next(r for r in state["read"] if r["user"]["id"] == "ben")
    assert ben["unread_messages"] == 0
    assert ben["last_read_message_id"] == state["messages"][-1]["id"]


def test_truncate_then_delete(client: StreamChat, room):
    for text in ("old 1", "old 2"):
        room.send_message({"text": text}, "ann")
    res = room.truncate(message={"text": "cleared", "user_id": "ann"})
    assert res["channel"]["truncated_at"]
    assert res["message"]["type"] == "system"
    state = room.query(messages={"limit": 10})
    assert [m["text"] for m in state["messages"]] == ["cleared"]
    assert client.unread_counts("ben")["total_unread_count"] == 0

    res = room.delete()
    assert res["channel"]["deleted_at"]
    assert res["channel"]["cid"] == "messaging:py-admin"
    found = client.query_channels({"cid": "messaging:py-admin"})
    assert found["channels"] == []
    with pytest.raises(StreamAPIException) as e:
        client.channel("messaging", "py-admin").update({"name": "gone"})
    assert code_of(e.value) == 16
