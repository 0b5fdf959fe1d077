"""Teams under --multi-tenant (issue 15) with the official Python SDK stream-chat==4.33.0:
users' teams and channels' team round-trip, a team filter lists only that team, a channel for
a team cannot take a member of another (code 17)."""

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException


def setup_teams(client: StreamChat):
    client.upsert_users(
        [
            {"id": "blue1", "teams": ["blue"]},
            {"id": "blue2", "teams": ["blue"]},
            {"id": "red1", "teams": ["red"]},
        ]
    )
    client.channel("livestream", "blue-room", {"team": "blue"}).create("blue1")
    client.channel("livestream", "red-room", {"team": "red"}).create("red1")


def test_teams_round_trip_and_filter(multi_tenant_server):
    client = multi_tenant_server.client()
    setup_teams(client)
    users = client.query_users({"id": {"$in": ["blue1", "red1"]}}, {"id": 1})["users"]
    assert [(u["id"], u["teams"]) for u in users] == [("blue1", ["blue"]), ("red1", ["red"])]
    red = client.query_channels({"team": "red"})["channels"]
    assert [c["channel"]["cid"] for c in red] == ["livestream:red-room"]
    assert red[0]["channel"]["team"] == "red"


def test_a_member_of_another_team_is_refused_with_code_17(multi_tenant_server):
    client = multi_tenant_server.client()
    setup_teams(client)
    with pytest.raises(StreamAPIException) as err:
        client.channel("livestream", "blue-room").add_members(["red1"])
    assert err.value.error_code == 17, err.value
    assert err.value.status_code == 403
    members = client.query_channels({"cid": "livestream:blue-room"})["channels"][0]["members"]
    assert [m["user_id"] for m in members] == []
