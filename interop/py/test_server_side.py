"""Server-side administration and webhooks with the official Python SDK stream-chat==4.33.0:
deactivate/reactivate, delete_users + get_task, revoke_user_token (an old token refused on REST
with code 40), and a webhook receiver checking every delivery with client.verify_webhook."""

import datetime
import http.server
import json
import threading
import time
import urllib.error
import urllib.request

from stream_chat import StreamChat

from conftest import API_KEY, API_SECRET, start_server


def query_as(server, token: str) -> tuple:
    """POST /channels (query channels) with a user token: status and error code."""
    request = urllib.request.Request(
        f"{server.base_url}/channels?api_key={server.api_key}",
        data=json.dumps({"filter_conditions": {}}).encode(),
        headers={"Authorization": token, "stream-auth-type": "jwt", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as res:
            return res.status, None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())["code"]


def test_deactivate_reactivate_and_delete_users(client: StreamChat):
    client.upsert_users([{"id": "ann"}, {"id": "ben"}])
    res = client.deactivate_user("ben", created_by_id="ann")
    assert isinstance(res["user"]["deactivated_at"], str)
    res = client.reactivate_user("ben")
    assert "deactivated_at" not in res["user"]
    task = client.delete_users(["ben"], "hard")
    status = client.get_task(task["task_id"])
    assert status["status"] == "completed"
    assert [u["id"] for u in client.query_users({"id": {"$in": ["ann", "ben"]}})["users"]] == ["ann"]


def test_revoked_tokens_are_refused_with_code_40(server, client: StreamChat):
    client.upsert_user({"id": "eve"})
    old = client.create_token("eve", iat=int(time.time()) - 60)
    assert query_as(server, old) == (200, None)
    client.revoke_user_token("eve", datetime.datetime.now(datetime.timezone.utc))
    assert query_as(server, old) == (401, 40)
    fresh = client.create_token("eve", iat=int(time.time()))
    assert query_as(server, fresh) == (200, None)


def test_webhooks_verify_with_the_official_sdk():
    deliveries = []
    arrived = threading.Condition()

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()
            with arrived:
                deliveries.append((dict(self.headers), body))
                arrived.notify_all()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    server = start_server(extra_args=["--webhook-url", f"http://127.0.0.1:{receiver.server_port}/hook"])
    try:
        client = server.client()
        client.upsert_users([{"id": "ann"}])
        ch = client.channel("messaging", "hooks", data={"members": ["ann"]})
        ch.create("ann")
        ch.send_message({"text": "hello"}, "ann")
        with arrived:
            assert arrived.wait_for(lambda: len(deliveries) >= 1, timeout=10)
        headers, body = deliveries[0]
        event = json.loads(body)
        assert event["type"] == "message.new" and event["message"]["text"] == "hello"
        assert client.verify_webhook(body, headers["X-Signature"])
        assert not client.verify_webhook(body + b" ", headers["X-Signature"])
        assert headers["X-Api-Key"] == API_KEY
        assert headers["X-Webhook-Attempt"] == "1"
        assert len(headers["X-Webhook-Id"]) > 0
        assert StreamChat(API_KEY, API_SECRET).verify_webhook(body, headers["X-Signature"])
    finally:
        server.stop()
        receiver.shutdown()
