#!/usr/bin/env python3
"""Generates server/seeds/sample.json, the sample seed of docs/local-server.md.

    python3 server/seeds/generate.py [path/to/stream-chat-server]

Deterministic (a fixed random seed and fixed times): a livestream, `livestream:launch`, with
an hour of chat (reactions, a thread, a pinned, an edited and a deleted message) and a team
channel, `messaging:team`, with four members and their read states. The document is written
in the stored shape (the fields the server keeps on each message), then passed through the
server binary (`--import` then `--export-on-exit`) so that the checked-in file is exactly
what the server exports: importing it and exporting again gives the same bytes (a test
checks that).
"""

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
START = datetime(2026, 1, 5, 18, 0, 0, tzinfo=timezone.utc)
rng = random.Random(13)


def at(seconds):
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


TEAM = [("alice", "Alice Liddell"), ("bob", "Bob Marley"), ("carol", "Carol Danvers"), ("dave", "Dave Bowman")]
VIEWERS = ["viewer-%02d" % i for i in range(1, 25)]
CREATED = at(-86400)

users = {}
for uid, name in TEAM:
    users[uid] = {"id": uid, "role": "user", "created_at": CREATED, "updated_at": CREATED, "banned": False, "name": name}
users["host"] = {"id": "host", "role": "user", "created_at": CREATED, "updated_at": CREATED, "banned": False, "name": "Launch host"}
for v in VIEWERS:
    users[v] = {"id": v, "role": "user", "created_at": CREATED, "updated_at": CREATED, "banned": False}


def embedded(uid):
    return dict(users[uid], online=False)


def message(mid, cid, uid, text, t, **extra):
    m = {
        "id": mid,
        "text": text,
        "html": "<p>%s</p>\n" % text,
        "type": "regular",
        "user": embedded(uid),
        "cid": cid,
        "attachments": [],
        "mentioned_users": [],
        "latest_reactions": [],
        "own_reactions": [],
        "reaction_counts": {},
        "reaction_scores": {},
        "reaction_groups": {},
        "reply_count": 0,
        "deleted_reply_count": 0,
        "shadowed": False,
        "silent": False,
        "pinned": False,
        "created_at": at(t),
        "updated_at": at(t),
        "restricted_visibility": [],
    }
    m.update(extra)
    return m


def react(entry, uid, kind, t):
    m = entry["message"]
    r = {"type": kind, "message_id": m["id"], "user_id": uid, "user": embedded(uid), "score": 1,
         "created_at": at(t), "updated_at": at(t)}
    entry["reactions"].append(r)
    m["latest_reactions"].insert(0, r)
    m["reaction_counts"][kind] = m["reaction_counts"].get(kind, 0) + 1
    m["reaction_scores"][kind] = m["reaction_scores"].get(kind, 0) + 1
    g = m["reaction_groups"].setdefault(kind, {"count": 0, "sum_scores": 0, "first_reaction_at": at(t)})
    g["count"] += 1
    g["sum_scores"] += 1
    g["last_reaction_at"] = at(t)


LINES = ["hello from {}!", "the stream looks great", "audio is a bit low", "when does the demo start?",
         "this is amazing", "can you show the dashboard again?", "which version is this?", "+1",
         "how does --import work?", "love the live view", "is it open source?", "first time here, hi all",
         "does it work with the JS client?", "what about Python?", "sound is fine now", "lol",
         "great question", "👏👏👏", "is there a recording?", "thanks for the stream"]

# The livestream: one message every 10 to 20 seconds for an hour.
cid = "livestream:launch"
live = []
t, n = 0, 0
while t < 3600:
    n += 1
    uid = "host" if n % 15 == 1 else rng.choice(VIEWERS)
    text = rng.choice(LINES).format(uid)
    live.append({"message": message("launch-%04d" % n, cid, uid, text, t), "reactions": []})
    t += rng.randint(10, 20)
for entry in live:
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        ts = entry["message"]["created_at"]
        react(entry, rng.choice(VIEWERS), rng.choice(["like", "love", "haha"]),
              (datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc) - START).total_seconds() + rng.randint(1, 30))
# Pinned: the host's welcome.
welcome = live[0]["message"]
welcome.update(text="Welcome to the launch stream! Questions in the chat please.",
               html="<p>Welcome to the launch stream! Questions in the chat please.</p>\n",
               pinned=True, pinned_at=at(5), pinned_by=embedded("host"), updated_at=at(5))
# Edited and deleted.
edited = live[10]["message"]
edited.update(text=edited["text"] + " (edited)", html="<p>%s (edited)</p>\n" % edited["text"],
              updated_at=at(700), message_text_updated_at=at(700))
deleted = live[20]["message"]
deleted.update(type="deleted", deleted_at=at(900), updated_at=at(900))
# A thread under a question.
parent = live[30]["message"]
pt = (datetime.strptime(parent["created_at"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc) - START).total_seconds()
replies = []
for i, (uid, text) in enumerate([("host", "yes: stream-chat-server --import FILE"), (parent["user"]["id"], "thanks!")]):
    rt = pt + 20 + 10 * i
    r = message("%s-reply-%d" % (parent["id"], i + 1), cid, uid, text, rt, type="reply", parent_id=parent["id"])
    replies.append({"message": r, "reactions": []})
parent["reply_count"] = len(replies)
parent["thread_participants"] = [embedded(parent["user"]["id"]), embedded("host")]
# Replies are stored after the messages posted before them.
for r in replies:
    rt = r["message"]["created_at"]
    index = next(i for i, e in enumerate(live) if e["message"]["created_at"] > rt)
    live.insert(index, r)

livestream = {
    "type": "livestream", "id": "launch", "created_by": "host",
    "created_at": at(-600), "updated_at": at(-600), "last_message_at": live[-1]["message"]["created_at"],
    "custom": {"name": "Launch livestream"},
    "members": [{"user_id": "host", "role": "owner", "channel_role": "channel_member",
                 "created_at": at(-600), "updated_at": at(-600)}],
    "messages": live,
}

# The team channel.
tcid = "messaging:team"
team_lines = [("alice", "morning! standup in 5"), ("bob", "on my way"), ("carol", "I'll be 2 min late"),
              ("dave", "the seed file is checked in"), ("alice", "nice, I'll try --import"),
              ("bob", "dashboard screenshot is in the docs"), ("carol", "reviewed the PR"),
              ("dave", "thanks!"), ("alice", "lunch?"), ("bob", "yes")]
team_msgs = [{"message": message("team-%02d" % (i + 1), tcid, uid, text, -1800 + 120 * i), "reactions": []}
             for i, (uid, text) in enumerate(team_lines)]
react(team_msgs[3], "alice", "like", -1800 + 120 * 3 + 10)
team = {
    "type": "messaging", "id": "team", "created_by": "alice",
    "created_at": at(-3600), "updated_at": at(-3600), "last_message_at": team_msgs[-1]["message"]["created_at"],
    "custom": {"name": "Team"},
    "members": [{"user_id": uid, "role": "owner" if uid == "alice" else "member", "channel_role": "channel_member",
                 "created_at": at(-3600), "updated_at": at(-3600)} for uid, _ in TEAM],
    "reads": [{"user_id": uid, "last_read": team_msgs[-1]["message"]["created_at"] if uid in ("alice", "bob") else at(-1800 + 120 * 5),
               **({"last_read_message_id": "team-10"} if uid in ("alice", "bob") else {"unread": 4})}
              for uid, _ in TEAM],
    "messages": team_msgs,
}

doc = {"version": 1, "users": sorted(users.values(), key=lambda u: u["id"]), "channels": [livestream, team]}

binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "target", "debug", "stream-chat-server")
out = os.path.join(HERE, "sample.json")
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as raw:
    json.dump(doc, raw)
server = subprocess.Popen([binary, "--addr", "127.0.0.1:0", "--import", raw.name, "--export-on-exit", out],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
server.stdout.readline()  # listening: the import is done
server.send_signal(signal.SIGTERM)
code = server.wait()
os.unlink(raw.name)
if code != 0:
    sys.exit("the server exited with %d" % code)
print("wrote", out, "with", sum(len(c["messages"]) for c in doc["channels"]), "messages")
