"""Users with the official Python server SDK stream-chat==4.33.0."""

from stream_chat import StreamChat


def test_upsert_users_returns_an_id_keyed_map(client: StreamChat):
    res = client.upsert_users(
        [
            {"id": "ann", "name": "Ann", "favourite_color": "red"},
            {"id": "ben", "name": "Ben"},
        ]
    )
    users = res["users"]
    assert isinstance(users, dict), f"POST /users must return an id-keyed map: {dict(res)}"
    assert set(users) == {"ann", "ben"}
    assert users["ann"]["id"] == "ann"
    assert users["ann"]["name"] == "Ann"
    assert users["ann"]["favourite_color"] == "red", "custom fields are kept, flattened"
    assert users["ann"]["role"] == "user", "upserted users default to role user"
    assert isinstance(users["ann"]["created_at"], str)
    assert isinstance(res["duration"], str)
    assert res.status_code() == 200


def test_query_users_returns_an_array(client: StreamChat):
    client.upsert_users([{"id": i, "name": i.upper()} for i in ("ann", "ben", "cat")])
    res = client.query_users({"id": {"$in": ["ann", "cat", "nobody"]}})
    assert isinstance(res["users"], list), f"GET /users must return an array: {dict(res)}"
    assert sorted(u["id"] for u in res["users"]) == ["ann", "cat"]
    names = {u["id"]: u["name"] for u in res["users"]}
    assert names == {"ann": "ANN", "cat": "CAT"}


def test_upsert_updates_an_existing_user(client: StreamChat):
    client.upsert_user({"id": "ann", "name": "Ann"})
    res = client.upsert_user({"id": "ann", "name": "Annie", "city": "Oslo"})
    assert res["users"]["ann"]["name"] == "Annie"
    q = client.query_users({"id": {"$eq": "ann"}})
    assert [(u["id"], u["name"], u.get("city")) for u in q["users"]] == [("ann", "Annie", "Oslo")]


def test_partial_update_patches_users(client: StreamChat):
    client.upsert_user({"id": "ben", "name": "Ben", "mood": "calm", "team_note": "x"})
    res = client.update_user_partial({"id": "ben", "set": {"mood": "happy"}, "unset": ["team_note"]})
    ben = res["users"]["ben"]
    assert ben["mood"] == "happy"
    assert ben["name"] == "Ben", "fields not mentioned are kept"
    assert "team_note" not in ben
