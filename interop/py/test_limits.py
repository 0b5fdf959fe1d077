"""Quotas and rate limits (issue 15) with the official Python SDK stream-chat==4.33.0: custom
data over 5 KB is code 22, and every answer carries Stream's rate-limit headers (read by
StreamResponse.rate_limit())."""

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException


def test_custom_data_over_5_kb_is_code_22(server):
    client = server.client()
    with pytest.raises(StreamAPIException) as err:
        client.upsert_user({"id": "ann", "bio": "x" * 6000})
    assert err.value.error_code == 22, err.value
    assert err.value.status_code == 413
    res = client.upsert_user({"id": "ann", "bio": "x" * 4000})
    assert res["users"]["ann"]["bio"] == "x" * 4000


def test_every_answer_carries_the_rate_limit_headers(server):
    client = server.client()
    first = client.query_users({"id": "nobody"})
    second = client.query_users({"id": "nobody"})
    a, b = first.rate_limit(), second.rate_limit()
    assert a is not None and b is not None
    assert a.limit == b.limit == 1000, "server-side query users: Stream's app-wide tier"
    assert b.remaining == a.remaining - 1
    assert a.reset is not None
