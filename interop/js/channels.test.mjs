// Channels with the official stream-chat@9.53.0 client: watching a livestream as a regular and
// an anonymous user, message.new delivery, watcher events, and a members-only messaging channel.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertStreamError,
  CONNECT_TIMEOUT,
  connectJwt,
  disconnectAll,
  rejection,
  startServer,
  tokenFor,
  userClient,
  waitForEvent,
  withTimeout,
} from './harness.mjs';

async function connectAnon(server, t) {
  const client = userClient(server);
  t.after(() => disconnectAll(client));
  await withTimeout(client.connectAnonymousUser(), CONNECT_TIMEOUT, 'connectAnonymousUser');
  return client;
}

function assertChannelState(state, cid) {
  assert.equal(state.channel.cid, cid);
  const [type, id] = cid.split(':');
  assert.equal(state.channel.type, type);
  assert.equal(state.channel.id, id);
  assert.ok(Array.isArray(state.messages), 'messages must be an array');
  assert.ok(Array.isArray(state.members), 'members must be an array');
  assert.ok(Array.isArray(state.read), 'read must be an array');
}

test('livestream: a user and an anonymous viewer watch; both receive message.new for the user’s post', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice', name: 'Alice' });
  const viewer = await connectAnon(server, t);

  const aliceCh = alice.channel('livestream', 'show');
  const aliceState = await aliceCh.watch();
  assertChannelState(aliceState, 'livestream:show');
  assert.ok(aliceState.watcher_count >= 1, `watcher_count after alice watches: ${aliceState.watcher_count}`);
  assert.ok(Array.isArray(aliceState.channel.own_capabilities), 'own_capabilities');
  assert.ok(aliceState.channel.own_capabilities.includes('send-message'), 'a user may post in livestream');

  const viewerCh = viewer.channel('livestream', 'show');
  const viewerState = await viewerCh.watch();
  assertChannelState(viewerState, 'livestream:show');
  if (Array.isArray(viewerState.channel.own_capabilities)) {
    assert.ok(
      !viewerState.channel.own_capabilities.includes('send-message'),
      `anonymous must not get send-message: ${viewerState.channel.own_capabilities}`,
    );
  }

  const text = 'hello livestream';
  const forAlice = waitForEvent(aliceCh, 'message.new', { predicate: (e) => e.message?.text === text, label: 'alice' });
  const forViewer = waitForEvent(viewerCh, 'message.new', { predicate: (e) => e.message?.text === text, label: 'anonymous viewer' });
  const sent = await aliceCh.sendMessage({ text });
  assert.equal(sent.message.text, text);
  assert.equal(sent.message.user.id, 'alice');
  assert.equal(sent.message.type, 'regular');
  assert.equal(sent.message.cid, 'livestream:show');

  const [a, v] = await Promise.all([forAlice, forViewer]);
  for (const [ev, who] of [
    [a, 'alice'],
    [v, 'viewer'],
  ]) {
    assert.equal(ev.cid, 'livestream:show', who);
    assert.equal(ev.channel_type, 'livestream', who);
    assert.equal(ev.channel_id, 'show', who);
    assert.equal(ev.message.id, sent.message.id, who);
    assert.equal(ev.user.id, 'alice', who);
    assert.equal(typeof ev.created_at, 'string', who);
  }
  // the client adds messages to state only from message.new: both states now hold the post
  assert.ok(aliceCh.state.messages.some((m) => m.id === sent.message.id), 'alice state has the message');
  assert.ok(viewerCh.state.messages.some((m) => m.id === sent.message.id), 'viewer state has the message');

  // history: a later query returns it
  const again = await viewerCh.query({ messages: { limit: 10 } });
  assert.deepEqual(
    again.messages.map((m) => m.text),
    [text],
  );
});

test('livestream: an anonymous viewer may not post (code 17, HTTP 403)', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  await alice.channel('livestream', 'stage').watch();

  const viewer = await connectAnon(server, t);
  const ch = viewer.channel('livestream', 'stage');
  await ch.watch();
  const err = await rejection(ch.sendMessage({ text: 'anonymous write' }), 'anonymous sendMessage');
  assertStreamError(err, 17, 403);

  const state = await alice.channel('livestream', 'stage').query({ messages: { limit: 10 } });
  assert.equal(state.messages.length, 0, 'the refused message was not stored');
});

test('messaging: user.watching.start / stop reach other watchers with watcher_count', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', 'arena', { members: ['alice', 'bob'] });
  await aliceCh.watch();

  const started = waitForEvent(aliceCh, 'user.watching.start', { predicate: (e) => e.user?.id === 'bob' });
  const bobCh = bob.channel('messaging', 'arena');
  const bobState = await bobCh.watch();
  assert.ok(bobState.watcher_count >= 2, `watcher_count with two watchers: ${bobState.watcher_count}`);
  const s = await started;
  assert.equal(s.cid, 'messaging:arena');
  assert.equal(s.watcher_count, 2);

  const stopped = waitForEvent(aliceCh, 'user.watching.stop', { predicate: (e) => e.user?.id === 'bob' });
  await bobCh.stopWatching();
  const st = await stopped;
  assert.equal(st.watcher_count, 1);

  // closing the socket also cleans up: bob watches again, disconnects, alice sees the stop
  const started2 = waitForEvent(aliceCh, 'user.watching.start', { predicate: (e) => e.user?.id === 'bob' });
  await bob.channel('messaging', 'arena').watch();
  await started2;
  const stopped2 = waitForEvent(aliceCh, 'user.watching.stop', {
    predicate: (e) => e.user?.id === 'bob',
    label: 'after bob disconnects',
  });
  await bob.disconnectUser();
  const st2 = await stopped2;
  assert.equal(st2.watcher_count, 1);
});

test('livestream: connect_events off, no user.watching.*; watcher_count travels in message.new and the watch response', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('livestream', 'big');
  const aliceState = await aliceCh.watch();
  assert.equal(aliceState.channel.config.connect_events, false, 'config.connect_events');
  assert.ok(!aliceState.channel.own_capabilities.includes('connect-events'), 'no connect-events capability');
  const watching = [];
  aliceCh.on('user.watching.start', (e) => watching.push(e));
  aliceCh.on('user.watching.stop', (e) => watching.push(e));

  const bobCh = bob.channel('livestream', 'big');
  const bobState = await bobCh.watch();
  assert.equal(bobState.watcher_count, 2, 'the watch response counts both');
  const arrived = waitForEvent(aliceCh, 'message.new');
  await bobCh.sendMessage({ text: 'hello, crowd' });
  const event = await arrived;
  assert.equal(event.watcher_count, 2, 'message.new carries watcher_count');
  assert.equal(aliceCh.state.watcher_count, 2, "the client's state follows it");
  // events arrive in order on one socket: a user.watching.start would have come first
  assert.deepEqual(watching, [], 'no user.watching.* on livestream');

  await bobCh.stopWatching();
  const next = waitForEvent(aliceCh, 'message.new');
  await aliceCh.sendMessage({ text: 'still here' });
  assert.equal((await next).watcher_count, 1, 'bob left, without an event');
  assert.deepEqual(watching, [], 'no user.watching.stop either');
});

test('messaging: members read and write, a member receives message.new, markRead emits message.read', async (t) => {
  const server = await startServer(t);
  const bob = await connectJwt(server, t, { id: 'bob', name: 'Bob' });
  const alice = await connectJwt(server, t, { id: 'alice', name: 'Alice' });

  const aliceCh = alice.channel('messaging', 'team', { members: ['alice', 'bob'], topic: 'interop' });
  const created = await aliceCh.watch();
  assertChannelState(created, 'messaging:team');
  assert.deepEqual(created.members.map((m) => m.user_id ?? m.user?.id).sort(), ['alice', 'bob']);
  assert.equal(created.channel.topic, 'interop', 'custom channel data is kept');
  assert.equal(created.channel.created_by?.id, 'alice');
  const config = created.channel.config;
  assert.ok(config, 'channel.config');
  assert.equal(config.read_events, true, 'config.read_events (markRead is a no-op without it)');
  assert.equal(config.connect_events, true, 'config.connect_events');
  assert.equal(typeof config.typing_events, 'boolean', 'config.typing_events');
  // with delivery_events on, the client would POST /channels/delivered on its own (reference §6.6)
  assert.notEqual(config.delivery_events, true, 'config.delivery_events must not be true');

  const bobCh = bob.channel('messaging', 'team');
  await bobCh.watch();
  assert.ok(bobCh.state.members.bob, 'bob sees himself as a member');

  const text = 'hi bob';
  const forBob = waitForEvent(bobCh, 'message.new', { predicate: (e) => e.message?.text === text });
  const sent = await aliceCh.sendMessage({ text });
  const ev = await forBob;
  assert.equal(ev.message.id, sent.message.id);
  assert.equal(ev.user.id, 'alice');

  const reply = await bobCh.sendMessage({ text: 'hi alice' });
  assert.equal(reply.message.user.id, 'bob');

  // markRead only goes out when config.read_events and own_capabilities include read-events
  const readByBob = waitForEvent(aliceCh, 'message.read', { predicate: (e) => e.user?.id === 'bob' });
  const readRes = await bobCh.markRead();
  assert.ok(readRes, 'markRead sent POST /read (needs config.read_events and the read-events capability)');
  assert.equal(readRes.event.type, 'message.read');
  const r = await readByBob;
  assert.equal(r.cid, 'messaging:team');

  // query channels by members $in: both see the channel
  const mine = await bob.queryChannels({ members: { $in: ['bob'] } }, { last_message_at: -1 }, { watch: false });
  assert.deepEqual(
    mine.map((c) => c.cid),
    ['messaging:team'],
  );
  assert.equal(mine[0].state.messages.length, 2);
});

test('messaging: a user who is not a member may not read (code 17, HTTP 403)', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  await alice.channel('messaging', 'private', { members: ['alice'] }).create();

  const mallory = await connectJwt(server, t, { id: 'mallory' });
  const err = await rejection(mallory.channel('messaging', 'private').watch(), 'non-member watch');
  assertStreamError(err, 17, 403);
});

test('livestream: a guest may read and watch but not post (code 17, HTTP 403)', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const aliceCh = alice.channel('livestream', 'town-hall');
  await aliceCh.watch();
  await aliceCh.sendMessage({ text: 'welcome' });

  const guest = userClient(server);
  t.after(() => disconnectAll(guest));
  await withTimeout(guest.setGuestUser({ id: 'visitor' }), CONNECT_TIMEOUT, 'setGuestUser');
  const ch = guest.channel('livestream', 'town-hall');
  const state = await ch.watch();
  assert.deepEqual(
    state.messages.map((m) => m.text),
    ['welcome'],
  );

  const live = waitForEvent(ch, 'message.new', { predicate: (e) => e.message?.text === 'second' });
  await aliceCh.sendMessage({ text: 'second' });
  await live;

  const err = await rejection(ch.sendMessage({ text: 'guest write' }), 'guest sendMessage in livestream');
  assertStreamError(err, 17, 403);
});
