// Notification events with the official stream-chat@9.53.0 client: notification.mark_read on the
// reader's other connection (a second client for the same user) and notification.added_to_channel
// for members added by someone else, including the client's own ChannelManager reacting to it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  CONNECT_TIMEOUT,
  connectJwt,
  disconnectAll,
  safeJson,
  startServer,
  tokenFor,
  userClient,
  waitForEvent,
  withTimeout,
} from './harness.mjs';

/** Resolve once `predicate(store state)` holds (StateStore of the official client); reject after timeoutMs. */
function waitForState(store, predicate, { timeoutMs = 10_000, label = 'state' } = {}) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`));
    }, timeoutMs);
    // subscribe calls back at once with the current value, then on every change
    unsubscribe = store.subscribe((value) => {
      if (done || !predicate(value)) return;
      done = true;
      clearTimeout(timer);
      queueMicrotask(() => unsubscribe());
      resolve(value);
    });
    if (done) unsubscribe();
  });
}

test('markRead: the reader’s other connection (a second client of the same user) gets notification.mark_read with the counters', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bobPhone = await connectJwt(server, t, { id: 'bob' });
  const bobLaptop = await connectJwt(server, t, { id: 'bob' });
  assert.notEqual(bobPhone.wsConnection?.connectionID, bobLaptop.wsConnection?.connectionID, 'two sockets');

  // two channels with unread messages for bob: 2 in "read-me", 1 in "later"
  const readMe = alice.channel('messaging', 'read-me', { members: ['alice', 'bob'] });
  const later = alice.channel('messaging', 'later', { members: ['alice', 'bob'] });
  await readMe.create();
  await later.create();
  // the laptop does not watch: it learns about new messages through notification.message_new
  const unreadSeen = waitForEvent(bobLaptop, 'notification.message_new', {
    predicate: (e) => e.message?.text === 'later 1',
    label: 'laptop, last message',
  });
  await readMe.sendMessage({ text: 'read-me 1' });
  await readMe.sendMessage({ text: 'read-me 2' });
  await later.sendMessage({ text: 'later 1' });
  const last = await unreadSeen;
  assert.equal(last.total_unread_count, 3, `before the read: ${safeJson(last)}`);
  assert.equal(last.unread_channels, 2, `before the read: ${safeJson(last)}`);

  // the phone opens "read-me" and marks it read
  const phoneCh = bobPhone.channel('messaging', 'read-me');
  await phoneCh.watch();
  const onLaptop = waitForEvent(bobLaptop, 'notification.mark_read', { label: 'bob’s other connection' });
  const onPhone = waitForEvent(bobPhone, 'notification.mark_read', { label: 'the reading connection' });
  const res = await phoneCh.markRead();
  assert.ok(res, 'markRead sent POST /read (config.read_events and the read-events capability)');
  assert.equal(res.event?.type, 'message.read');

  for (const [ev, who] of [
    [await onLaptop, 'laptop'],
    [await onPhone, 'phone'],
  ]) {
    const ctx = `${who}: ${safeJson(ev)}`;
    assert.equal(ev.cid, 'messaging:read-me', ctx);
    assert.equal(ev.channel_type, 'messaging', ctx);
    assert.equal(ev.channel_id, 'read-me', ctx);
    assert.equal(ev.user?.id, 'bob', ctx);
    assert.equal(typeof ev.created_at, 'string', ctx);
    // after reading "read-me", only "later" is unread
    assert.equal(ev.total_unread_count, 1, ctx);
    assert.equal(ev.unread_channels, 1, ctx);
    assert.equal(ev.unread_count, 1, ctx);
  }

  // the phone loads "later" without watching it: its unread count comes from the read state
  const laterOnPhone = bobPhone.channel('messaging', 'later');
  const laterState = await laterOnPhone.query({ watch: false, state: true });
  assert.equal(laterOnPhone.state.unreadCount, 1, `read state of "later": ${safeJson(laterState.read)}`);

  // the laptop reads the last unread channel: unread_channels 0 on the phone makes the official
  // client zero the unread count of every active channel (client._handleClientEvent); the phone
  // does not watch "later", so this notification is the only thing that can do it
  const laterOnLaptop = bobLaptop.channel('messaging', 'later');
  await laterOnLaptop.watch();
  const allRead = waitForEvent(bobPhone, 'notification.mark_read', { predicate: (e) => e.cid === 'messaging:later' });
  await laterOnLaptop.markRead();
  const ev = await allRead;
  assert.equal(ev.total_unread_count, 0, safeJson(ev));
  assert.equal(ev.unread_channels, 0, safeJson(ev));
  assert.equal(laterOnPhone.state.unreadCount, 0, 'the phone’s client zeroed the unread count');

  // alice is not the reader: the unread counters in her next notification are hers, and she got no
  // notification.mark_read (the server delivers a connection's events in order; this comes after)
  const aliceMarks = [];
  const sub = alice.on('notification.mark_read', (e) => aliceMarks.push(e));
  t.after(() => sub.unsubscribe());
  const ping = waitForEvent(alice, 'notification.message_new', { predicate: (e) => e.message?.text === 'ping' });
  await bobLaptop.channel('messaging', 'later').sendMessage({ text: 'ping' });
  await ping;
  assert.deepEqual(aliceMarks, [], 'alice received no notification.mark_read for bob’s reads');
});

test('addMembers: the added user’s client gets notification.added_to_channel; the adder and old members do not', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const carol = await connectJwt(server, t, { id: 'carol' });

  const seen = { alice: [], carol: [] };
  for (const [name, c] of [
    ['alice', alice],
    ['carol', carol],
  ]) {
    const sub = c.on('notification.added_to_channel', (e) => seen[name].push(e.cid));
    t.after(() => sub.unsubscribe());
  }

  // creating with data.members: carol (added by alice) is notified, alice (the creator) is not
  const carolAdded = waitForEvent(carol, 'notification.added_to_channel', { predicate: (e) => e.cid === 'messaging:club' });
  const ch = alice.channel('messaging', 'club', { members: ['alice', 'carol'] });
  await ch.watch();
  await carolAdded;

  const added = waitForEvent(bob, 'notification.added_to_channel', { label: 'bob' });
  const res = await ch.addMembers(['bob']);
  assert.deepEqual(
    res.members.map((m) => m.user_id ?? m.user?.id).sort(),
    ['alice', 'bob', 'carol'],
  );
  const ev = await added;
  const ctx = safeJson(ev);
  assert.equal(ev.cid, 'messaging:club', ctx);
  assert.equal(ev.channel_type, 'messaging', ctx);
  assert.equal(ev.channel_id, 'club', ctx);
  assert.equal(typeof ev.created_at, 'string', ctx);
  // what the client's ChannelManager reads from it (channel.type / id / members)
  assert.equal(ev.channel?.type, 'messaging', ctx);
  assert.equal(ev.channel?.id, 'club', ctx);
  assert.equal(ev.channel?.cid, 'messaging:club', ctx);
  assert.equal(ev.member?.user_id ?? ev.member?.user?.id, 'bob', ctx);

  // bob is a member now: he can watch it and sees the history
  const bobCh = bob.channel('messaging', 'club');
  const state = await bobCh.watch();
  assert.ok(state.membership, `membership for bob: ${safeJson(state.membership)}`);

  // ordering marker: a message to everyone, sent after the add; alice and carol must have seen no
  // added_to_channel besides carol's own from the creation
  const markers = [alice, carol].map((c) =>
    waitForEvent(c, 'message.new', { predicate: (e) => e.message?.text === 'marker' }),
  );
  await carol.channel('messaging', 'club').watch();
  await bobCh.sendMessage({ text: 'marker' });
  await Promise.all(markers);
  assert.deepEqual(seen.alice, [], 'the adder is not notified');
  assert.deepEqual(seen.carol, ['messaging:club'], 'an existing member is not notified again');
});

test('addMembers: the official ChannelManager of the added user puts the channel into its list', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  await alice.channel('messaging', 'bobs-own', { members: ['bob'] }).create();

  const manager = bob.createChannelManager({});
  manager.registerSubscriptions();
  t.after(() => manager.unregisterSubscriptions());
  await manager.queryChannels({ members: { $in: ['bob'] } }, { last_message_at: -1 });
  assert.deepEqual(
    manager.state.getLatestValue().channels.map((c) => c.cid),
    ['messaging:bobs-own'],
  );

  const ch = alice.channel('messaging', 'new-for-bob', { members: ['alice'] });
  await ch.create();
  await ch.sendMessage({ text: 'before bob joined' });
  await ch.addMembers(['bob']);

  // notificationAddedToChannelHandler: getAndWatchChannel (a watch query), then promoteChannel
  const st = await waitForState(
    manager.state,
    (s) => s.channels.some((c) => c.cid === 'messaging:new-for-bob'),
    { label: 'ChannelManager lists messaging:new-for-bob' },
  );
  const listed = st.channels.find((c) => c.cid === 'messaging:new-for-bob');
  assert.ok(listed.initialized, 'the manager watched the channel');
  assert.deepEqual(
    listed.state.messages.map((m) => m.text),
    ['before bob joined'],
  );

  // it is watched: a new message reaches bob's channel object
  const live = waitForEvent(listed, 'message.new', { predicate: (e) => e.message?.text === 'welcome bob' });
  await ch.sendMessage({ text: 'welcome bob' });
  await live;
});

test('message.new carries a watching member’s own unread totals (what an app’s badge listener reads); a non-member watcher gets none', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const carol = await connectJwt(server, t, { id: 'carol' });

  const first = alice.channel('messaging', 'badge-a', { members: ['alice', 'bob'] });
  const second = alice.channel('messaging', 'badge-b', { members: ['alice', 'bob'] });
  await first.create();
  await second.create();
  const bobFirst = bob.channel('messaging', 'badge-a');
  const bobSecond = bob.channel('messaging', 'badge-b');
  await bobFirst.watch();
  await bobSecond.watch();

  // the badge a React/RN app keeps: client.on('message.new') reading event.total_unread_count
  let badge = 0;
  const sub = bob.on('message.new', (e) => {
    if (e.total_unread_count !== undefined) badge = e.total_unread_count;
  });
  t.after(() => sub.unsubscribe());
  const third = waitForEvent(bob, 'message.new', { predicate: (e) => e.message?.text === 'b2', label: 'bob, b2' });
  await first.sendMessage({ text: 'a1' });
  await second.sendMessage({ text: 'b1' });
  await second.sendMessage({ text: 'b2' });
  const last = await third;
  assert.equal(last.total_unread_count, 3, safeJson(last));
  assert.equal(last.unread_channels, 2, safeJson(last));
  assert.equal(badge, 3);
  // the client's own per-channel counters agree with the server's total
  assert.equal(bobFirst.countUnread() + bobSecond.countUnread(), 3);

  // a livestream viewer who is not a member: the event without counts
  const live = alice.channel('livestream', 'badge-live', { members: ['alice'] });
  await live.create();
  await carol.channel('livestream', 'badge-live').watch();
  const seen = waitForEvent(carol, 'message.new', { label: 'carol, live' });
  await live.sendMessage({ text: 'live' });
  const ev = await seen;
  assert.equal(ev.total_unread_count, undefined, safeJson(ev));
  assert.equal(ev.unread_channels, undefined, safeJson(ev));
});
