"""Uploads with the official Python server SDK stream-chat==4.33.0: channel.send_file and
send_image (multipart with a `user` part), the bytes fetched back byte for byte, a message
carrying the attachment, delete_file / delete_image, and the refusals' codes."""

import urllib.error
import urllib.request

import pytest
from stream_chat import StreamChat
from stream_chat.base.exceptions import StreamAPIException

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def pattern(length: int, seed: int) -> bytes:
    return bytes(((i * 31 + i // 251) ^ seed) & 0xFF for i in range(length))


def fetch(url: str, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture
def channel(client: StreamChat):
    client.upsert_users([{"id": "ann"}, {"id": "ben"}])
    ch = client.channel("messaging", "files", data={"members": ["ann", "ben"]})
    ch.create("ann")
    return ch


def test_send_file_and_send_image_come_back_byte_for_byte(channel, tmp_path):
    data = pattern(400 * 1024, 3)
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    res = channel.send_file(str(path), "report.pdf", {"id": "ann"}, content_type="application/pdf")
    url = res["file"]
    assert url.startswith("http://127.0.0.1:"), dict(res)
    status, headers, body = fetch(url)
    assert status == 200
    assert body == data
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Length"] == str(len(data))
    status, headers, body = fetch(url, {"Range": "bytes=-100"})
    assert status == 206 and body == data[-100:]

    img = tmp_path / "dot.png"
    img.write_bytes(PNG)
    res = channel.send_image(str(img), "dot.png", {"id": "ben"})
    status, headers, body = fetch(res["file"])
    assert (status, body, headers["Content-Type"]) == (200, PNG, "image/png")

    channel.delete_file(url)
    assert fetch(url)[0] == 404
    channel.delete_image(res["file"])
    assert fetch(res["file"])[0] == 404


def test_a_message_carries_the_uploaded_file(client: StreamChat, channel, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"remember the milk")
    url = channel.send_file(str(path), "notes.txt", {"id": "ann"})["file"]
    sent = channel.send_message(
        {"text": "notes", "attachments": [{"type": "file", "asset_url": url, "title": "notes.txt"}]},
        "ann",
    )
    got = client.get_message(sent["message"]["id"])["message"]
    assert got["attachments"][0]["asset_url"] == url
    assert fetch(got["attachments"][0]["asset_url"])[2] == b"remember the milk"


def test_refusals_keep_streams_codes(channel, tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"this is text")
    with pytest.raises(StreamAPIException) as e:
        channel.send_image(str(fake), "fake.png", {"id": "ann"})
    assert e.value.error_code == 4 and e.value.status_code == 400
    with pytest.raises(StreamAPIException) as e:
        channel.delete_file("http://127.0.0.1:1/uploads/nothing/x")
    assert e.value.error_code == 16 and e.value.status_code == 404
