"""Push devices with the official Python SDK stream-chat==4.33.0 (server side): add_device,
get_devices, delete_device for a user, a device moved to another user, and an unknown or
missing push provider as Stream's input error (code 4)."""

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException


def test_add_list_and_delete_devices(client: StreamChat):
    client.upsert_users([{"id": "ann"}, {"id": "ben"}])
    client.add_device("fcm-ann", "firebase", "ann")
    client.add_device("apn-ann", "apn", "ann", push_provider_name="prod")
    devices = client.get_devices("ann")["devices"]
    assert [(d["id"], d["push_provider"], d.get("push_provider_name"), d["user_id"]) for d in devices] == [
        ("fcm-ann", "firebase", None, "ann"),
        ("apn-ann", "apn", "prod", "ann"),
    ]
    assert all(d["created_at"].endswith("Z") for d in devices)
    assert client.get_devices("ben")["devices"] == []

    client.delete_device("fcm-ann", "ann")
    assert [d["id"] for d in client.get_devices("ann")["devices"]] == ["apn-ann"]

    # A device id belongs to one user: registering it for ben moves it.
    client.add_device("apn-ann", "apn", "ben")
    assert client.get_devices("ann")["devices"] == []
    assert [d["id"] for d in client.get_devices("ben")["devices"]] == ["apn-ann"]


def test_a_bad_push_provider_is_code_4(client: StreamChat):
    client.upsert_user({"id": "ann"})
    with pytest.raises(StreamAPIException) as e:
        client.add_device("d1", "carrier-pigeon", "ann")
    assert e.value.error_code == 4
    assert e.value.status_code == 400
    assert "push_provider 'carrier-pigeon' is not one of" in e.value.error_message
    with pytest.raises(StreamAPIException) as e:
        client.add_device("d1", None, "ann")
    assert e.value.error_code == 4
    assert client.get_devices("ann")["devices"] == []
