"""Errors as the official Python server SDK stream-chat==4.33.0 surfaces them (StreamAPIException)."""

import json

import pytest
from stream_chat.base.exceptions import StreamAPIException


def assert_stream_error(e: StreamAPIException, code: int, status: int):
    assert e.json_response, f"error body must be JSON: {e.response_text!r}"
    body = json.loads(e.response_text)
    assert e.status_code == status, e.response_text
    assert e.error_code == code, e.response_text
    assert body["StatusCode"] == status, e.response_text
    assert isinstance(body["message"], str) and body["message"], e.response_text
    assert isinstance(body["duration"], str), e.response_text
    assert isinstance(body["more_info"], str), e.response_text
    assert isinstance(body["details"], list), e.response_text
    assert str(e).startswith(f"StreamChat error code {code}: "), str(e)


def test_unknown_channel_type(server):
    client = server.client()
    client.upsert_user({"id": "ann"})
    with pytest.raises(StreamAPIException) as info:
        client.channel("no-such-type", "py-room").create("ann")
    e = info.value
    # Stream's exact code for this case is not documented; it must be a client error with a code
    assert e.error_code in (4, 16), e.response_text
    assert_stream_error(e, e.error_code, 400 if e.error_code == 4 else 404)
    assert "no-such-type" in e.error_message, "the message names the unknown type"


def test_bad_secret_is_refused_with_code_43(server):
    forged = server.client(secret="not-the-secret-of-this-server-0123456789")
    with pytest.raises(StreamAPIException) as info:
        forged.upsert_user({"id": "ann"})
    assert_stream_error(info.value, 43, 401)
    # nothing was written
    assert server.client().query_users({"id": {"$in": ["ann"]}})["users"] == []


def test_unknown_api_key_is_refused_with_code_2(server):
    other = server.client(api_key="some-other-key")
    with pytest.raises(StreamAPIException) as info:
        other.query_users({"id": {"$in": ["ann"]}})
    assert_stream_error(info.value, 2, 401)


def test_unknown_channel_for_send_message(server):
    client = server.client()
    client.upsert_user({"id": "ann"})
    with pytest.raises(StreamAPIException) as info:
        client.channel("messaging", "never-created").send_message({"text": "x"}, "ann")
    assert_stream_error(info.value, 16, 404)
