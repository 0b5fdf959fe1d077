"""Reactions, replies, search, pins and partial updates with the official Python server SDK
stream-chat==4.33.0: send_reaction / get_reactions / delete_reaction, get_replies,
query_threads, search (text, filters, next cursor), pin_message / unpin_message (with an
expiration in seconds), update_message_partial, send_event, send_user_custom_event."""

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException


@pytest.fixture
def room(client: StreamChat):
    client.upsert_users([{"id": i} for i in ("ann", "ben", "cat")])
    ch = client.channel("messaging", "py-surface", {"created_by_id": "ann", "members": ["ann", "ben"]})
    ch.create("ann")
    return ch


def api_error(call) -> StreamAPIException:
    with pytest.raises(StreamAPIException) as info:
        call()
    return info.value


def assert_api_error(e: StreamAPIException, code: int, status: int) -> None:
    assert e.status_code == status, e.response_text
    assert e.error_code == code, e.response_text


def test_send_get_and_delete_reactions(client: StreamChat, room):
    msg = room.send_message({"text": "react"}, "ann")["message"]
    res = room.send_reaction(msg["id"], {"type": "love", "score": 2}, "ben")
    assert res["reaction"]["type"] == "love"
    assert res["reaction"]["user_id"] == "ben"
    assert res["reaction"]["score"] == 2
    m = res["message"]
    assert m["reaction_counts"] == {"love": 1}
    assert m["reaction_scores"] == {"love": 2}
    assert m["reaction_groups"]["love"]["count"] == 1
    assert [r["user_id"] for r in m["own_reactions"]] == ["ben"], "the acting user's"

    room.send_reaction(msg["id"], {"type": "like"}, "ann")
    got = room.get_reactions(msg["id"], limit=10)
    assert [(r["type"], r["user_id"]) for r in got["reactions"]] == [("like", "ann"), ("love", "ben")]
    assert [r["type"] for r in room.get_reactions(msg["id"], limit=1, offset=1)["reactions"]] == ["love"]

    res = room.delete_reaction(msg["id"], "love", "ben")
    assert res["message"]["reaction_counts"] == {"like": 1}
    assert_api_error(api_error(lambda: room.delete_reaction(msg["id"], "love", "ben")), 16, 404)
    assert_api_error(api_error(lambda: room.send_reaction("nope", {"type": "love"}, "ben")), 16, 404)
    assert_api_error(api_error(lambda: room.send_reaction(msg["id"], {"type": ""}, "ben")), 4, 400)


def test_replies_and_threads(client: StreamChat, room):
    parent = room.send_message({"text": "question"}, "ann")["message"]
    ids = []
    for i in range(4):
        reply = room.send_message({"text": f"answer {i}", "parent_id": parent["id"]}, "ben")["message"]
        assert reply["type"] == "reply"
        ids.append(reply["id"])
    page = room.get_replies(parent["id"], limit=2)
    assert [m["id"] for m in page["messages"]] == ids[2:], "the newest, oldest first"
    older = room.get_replies(parent["id"], limit=2, id_lt=ids[2])
    assert [m["id"] for m in older["messages"]] == ids[:2]
    state = room.query(messages={"limit": 10})
    assert [m["id"] for m in state["messages"]] == [parent["id"]], "replies stay in the thread"
    assert state["messages"][0]["reply_count"] == 4
    assert [u["id"] for u in state["messages"][0]["thread_participants"]] == ["ann", "ben"]

    threads = client.query_threads(user_id="ann", reply_limit=1)
    assert [t["parent_message_id"] for t in threads["threads"]] == [parent["id"]]
    assert [m["id"] for m in threads["threads"][0]["latest_replies"]] == ids[3:]
    assert client.query_threads(user_id="cat")["threads"] == []
    assert_api_error(api_error(lambda: room.get_replies("nope")), 16, 404)


def test_search_text_filters_and_cursor(client: StreamChat, room):
    for i in range(5):
        room.send_message({"text": f"Searchable note {i}"}, "ann")
    room.send_message({"text": "something else", "topic": "x"}, "ben")
    res = client.search({"cid": "messaging:py-surface"}, "searchable", limit=10)
    assert len(res["results"]) == 5
    assert all(r["message"]["channel"]["cid"] == "messaging:py-surface" for r in res["results"])
    first = client.search({"members": {"$in": ["ann"]}}, "searchable", sort=[{"created_at": 1}], limit=3)
    assert [r["message"]["text"] for r in first["results"]] == [f"Searchable note {i}" for i in range(3)]
    second = client.search({"members": {"$in": ["ann"]}}, "searchable", limit=3, next=first["next"])
    assert [r["message"]["text"] for r in second["results"]] == ["Searchable note 3", "Searchable note 4"]
    assert "next" not in second
    by_user = client.search({"cid": "messaging:py-surface"}, {"user.id": "ben"})
    assert [r["message"]["text"] for r in by_user["results"]] == ["something else"]
    custom = client.search({"cid": "messaging:py-surface"}, {"topic": {"$eq": "x"}})
    assert len(custom["results"]) == 1
    with pytest.raises(ValueError):
        client.search({"cid": "messaging:py-surface"}, "x", sort=[{"created_at": 1}], offset=1)
    assert_api_error(api_error(lambda: client.search({"cid": "messaging:py-surface"}, "x", next="bogus")), 4, 400)


def test_pin_unpin_and_partial_update(client: StreamChat, room):
    msg = room.send_message({"text": "pin me", "mood": "meh"}, "ann")["message"]
    pinned = client.pin_message(msg["id"], "ben")["message"]
    assert pinned["pinned"] is True
    assert pinned["pinned_by"]["id"] == "ben"
    assert isinstance(pinned["pinned_at"], str)
    assert "pin_expires" not in pinned
    assert [m["id"] for m in room.query()["pinned_messages"]] == [msg["id"]]

    timed = client.pin_message(msg["id"], "ben", expiration=120)["message"]
    assert isinstance(timed["pin_expires"], str), "a number is seconds from now"
    unpinned = client.unpin_message(msg["id"], "ben")["message"]
    assert unpinned["pinned"] is False
    assert room.query()["pinned_messages"] == []

    res = client.update_message_partial(msg["id"], {"set": {"text": "edited", "tag": "t"}, "unset": ["mood"]}, "ann")
    m = res["message"]
    assert (m["text"], m["tag"]) == ("edited", "t")
    assert "mood" not in m
    assert client.get_message(msg["id"])["message"]["text"] == "edited"
    # server-side auth is not permission-checked: ben may edit ann's message through it
    assert client.update_message_partial(msg["id"], {"set": {"text": "by ben"}}, "ben")["message"]["text"] == "by ben"
    assert_api_error(api_error(lambda: client.update_message_partial("nope", {"set": {"text": "x"}}, "ann")), 16, 404)
    assert_api_error(api_error(lambda: client.update_message_partial(msg["id"], {"set": {"cid": "x"}}, "ann")), 4, 400)


def test_send_event_and_user_custom_event(client: StreamChat, room):
    res = room.send_event({"type": "friendship_request", "text": "hi"}, "ann")
    assert res["event"]["type"] == "friendship_request"
    assert res["event"]["user"]["id"] == "ann"
    assert res["event"]["text"] == "hi"
    typing = room.send_event({"type": "typing.start", "parent_id": "p1"}, "ben")["event"]
    assert (typing["user"]["id"], typing["parent_id"]) == ("ben", "p1")
    assert_api_error(api_error(lambda: room.send_event({"type": "message.new"}, "ann")), 18, 400)
    client.send_user_custom_event("ann", {"type": "friendship_accepted"})
    assert_api_error(api_error(lambda: client.send_user_custom_event("nobody", {"type": "x"})), 16, 404)
