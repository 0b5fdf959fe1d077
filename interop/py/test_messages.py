"""Messages with the official Python server SDK stream-chat==4.33.0: update_message,
delete_message (soft and hard=True), get_message, and channel.query / query_channels message
pagination over client-chosen ids that are not in lexicographic order."""

import uuid

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

COUNT = 12


@pytest.fixture
def room(client: StreamChat):
    client.upsert_users([{"id": i} for i in ("ann", "ben")])
    ch = client.channel("messaging", "py-msgs", {"created_by_id": "ann", "members": ["ann", "ben"]})
    ch.create("ann")
    return ch


def api_error(call) -> StreamAPIException:
    with pytest.raises(StreamAPIException) as info:
        call()
    return info.value


def assert_api_error(e: StreamAPIException, code: int, status: int) -> None:
    assert e.status_code == status, e.response_text
    assert e.error_code == code, e.response_text
    assert isinstance(e.error_message, str) and e.error_message, e.response_text


def texts(messages) -> list:
    return [m["text"] for m in messages]


def span(first: int, last: int) -> list:
    return [f"m{i}" for i in range(first, last + 1)]


def test_update_message(client: StreamChat, room):
    sent = room.send_message({"text": "first draft", "mood": "draft"}, "ann")["message"]

    res = client.update_message({"id": sent["id"], "text": "final", "mood": "done", "user_id": "ann"})
    m = res["message"]
    assert m["id"] == sent["id"]
    assert m["text"] == "final"
    assert m["mood"] == "done", "custom fields are replaced"
    assert m["user"]["id"] == "ann"
    assert m["type"] == "regular"
    assert m["created_at"] == sent["created_at"], "created_at is kept"
    assert m["updated_at"] >= sent["created_at"]
    assert isinstance(m.get("message_text_updated_at"), str)

    got = client.get_message(sent["id"])["message"]
    assert (got["text"], got["mood"], got["updated_at"]) == ("final", "done", m["updated_at"])
    state = room.query(messages={"limit": 10})
    assert [(x["id"], x["text"]) for x in state["messages"]] == [(sent["id"], "final")]

    # the SDK's whole-message form: the message as get_message returned it, with a new text
    again = dict(got, text="final, really")
    assert client.update_message(again)["message"]["text"] == "final, really"
    assert client.get_message(sent["id"])["message"]["text"] == "final, really"


def test_update_message_errors(client: StreamChat, room):
    sent = room.send_message({"text": "x"}, "ann")["message"]
    # neither text nor attachments: code 4
    assert_api_error(api_error(lambda: client.update_message({"id": sent["id"], "text": ""})), 4, 400)
    # too long: code 20
    assert_api_error(api_error(lambda: client.update_message({"id": sent["id"], "text": "y" * 5001})), 20, 400)
    # unknown message: code 16
    assert_api_error(api_error(lambda: client.update_message({"id": "no-such-message", "text": "z"})), 16, 404)
    assert client.get_message(sent["id"])["message"]["text"] == "x", "refused updates changed nothing"
    with pytest.raises(ValueError):
        client.update_message({"text": "no id"})  # the SDK's own check, no request


def test_soft_delete_message(client: StreamChat, room):
    sent = room.send_message({"text": "soft"}, "ann")["message"]
    res = client.delete_message(sent["id"])
    assert res["message"]["id"] == sent["id"]
    assert res["message"]["type"] == "deleted"
    assert isinstance(res["message"].get("deleted_at"), str)

    got = client.get_message(sent["id"])["message"]
    assert got["type"] == "deleted"
    state = room.query(messages={"limit": 10})
    assert [(x["id"], x["type"]) for x in state["messages"]] == [(sent["id"], "deleted")]
    # a deleted message cannot be updated
    assert_api_error(api_error(lambda: client.update_message({"id": sent["id"], "text": "back"})), 4, 400)


def test_hard_delete_message(client: StreamChat, room):
    gone = room.send_message({"text": "gone"}, "ann")["message"]
    kept = room.send_message({"text": "kept"}, "ben")["message"]

    res = client.delete_message(gone["id"], hard=True)
    assert res["message"]["id"] == gone["id"]
    assert res["message"]["type"] == "deleted"

    state = room.query(messages={"limit": 10})
    assert [x["id"] for x in state["messages"]] == [kept["id"]]
    assert_api_error(api_error(lambda: client.get_message(gone["id"])), 16, 404)
    assert_api_error(api_error(lambda: client.delete_message(gone["id"], hard=True)), 16, 404)

    # a soft-deleted message can still be hard-deleted
    client.delete_message(kept["id"])
    client.delete_message(kept["id"], hard=True)
    assert room.query(messages={"limit": 10})["messages"] == []


def test_get_message(client: StreamChat, room):
    sent = room.send_message({"id": "py-chosen-id", "text": "find me", "mood": "curious"}, "ben")["message"]
    assert sent["id"] == "py-chosen-id"
    res = client.get_message("py-chosen-id")
    m = res["message"]
    assert (m["id"], m["text"], m["mood"], m["user"]["id"], m["cid"]) == (
        "py-chosen-id",
        "find me",
        "curious",
        "ben",
        "messaging:py-msgs",
    )
    assert isinstance(res["duration"], str)
    assert_api_error(api_error(lambda: client.get_message("no-such-message")), 16, 404)


@pytest.fixture
def paged(room):
    """m0..m11 with client-chosen UUIDs in an order that is neither ascending nor descending."""
    ordered = sorted(str(uuid.uuid4()) for _ in range(COUNT))
    ids = [ordered[i] for i in (5, 11, 0, 7, 2, 9, 4, 1, 10, 3, 8, 6)]
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    sent = []
    for i, mid in enumerate(ids):
        m = room.send_message({"id": mid, "text": f"m{i}"}, "ann")["message"]
        assert m["id"] == mid
        sent.append(m)
    return room, ids, sent


def test_query_message_pagination_by_id(paged):
    room, ids, _ = paged

    def page(**messages):
        return texts(room.query(messages=messages)["messages"])

    assert page(limit=5) == span(7, 11)
    assert page(limit=5, id_lt=ids[8]) == span(3, 7)
    assert page(limit=5, id_lt=ids[3]) == span(0, 2)
    assert page(limit=5, id_lte=ids[8]) == span(4, 8)
    assert page(limit=5, id_gt=ids[2]) == span(3, 7)
    assert page(limit=5, id_gte=ids[9]) == span(9, 11)
    assert page(limit=5, id_around=ids[6]) == span(4, 8)
    assert page(limit=5, offset=2) == span(5, 9)
    assert page(limit=5, id_lt="no-such-id") == [], "an unknown id gives an empty page"


def test_query_message_pagination_by_created_at(paged):
    room, _, sent = paged

    def page(**messages):
        return texts(room.query(messages=messages)["messages"])

    assert page(limit=5, created_at_before=sent[8]["created_at"]) == span(3, 7)
    assert page(limit=5, created_at_before_or_equal=sent[8]["created_at"]) == span(4, 8)
    assert page(limit=3, created_at_after=sent[2]["created_at"]) == span(3, 5)
    assert page(limit=3, created_at_after_or_equal=sent[2]["created_at"]) == span(2, 4)
    assert page(limit=5, created_at_around=sent[6]["created_at"]) == span(4, 8)
    assert_api_error(api_error(lambda: page(created_at_before="not a time")), 4, 400)


def test_query_channels_message_limit(client: StreamChat, paged):
    client.channel("messaging", "py-short", {"created_by_id": "ann", "members": ["ann"]}).create("ann")
    client.channel("messaging", "py-short").send_message({"text": "s0"}, "ann")

    res = client.query_channels({"members": {"$in": ["ann"]}}, {"last_message_at": -1}, message_limit=2)
    assert [(c["channel"]["id"], texts(c["messages"])) for c in res["channels"]] == [
        ("py-short", ["s0"]),
        ("py-msgs", span(10, 11)),
    ]
    res = client.query_channels({"cid": "messaging:py-msgs"})
    assert texts(res["channels"][0]["messages"]) == span(0, 11), "the default message_limit (25) holds all 12"
