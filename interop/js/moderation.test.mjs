// Read state, moderation, presence and user updates with the official stream-chat@9.53.0
// client: markRead / markUnread / getUnreadCount / countUnread(), muteUser and channel.mute,
// banUser / unbanUser (and a shadow ban), flagMessage, partialUpdateUser, presence with
// `presence: true`. A second client's state follows each event.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertStreamError,
  connectJwt,
  rejection,
  safeJson,
  serverClient,
  startServer,
  waitForEvent,
} from './harness.mjs';

test('read state: markUnread → notification.mark_unread (the reader’s state follows), getUnreadCount, countUnread(), markRead', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', 'reads', { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', 'reads');
  await bobCh.watch();
  const sent = [];
  for (const text of ['one', 'two', 'three']) {
    const seen = waitForEvent(bobCh, 'message.new', { predicate: (e) => e.message?.text === text });
    sent.push((await aliceCh.sendMessage({ text })).message);
    await seen;
  }
  assert.equal(bobCh.countUnread(), 3, 'the client counted three unread messages');
  let counts = await bob.getUnreadCount();
  assert.equal(counts.total_unread_count, 3, safeJson(counts));
  assert.deepEqual(counts.channels.map((c) => [c.channel_id, c.unread_count]), [['messaging:reads', 3]]);
  assert.deepEqual(counts.channel_type.map((c) => [c.channel_type, c.unread_count]), [['messaging', 3]]);

  const read = waitForEvent(aliceCh, 'message.read', { predicate: (e) => e.user?.id === 'bob' });
  const ownRead = waitForEvent(bobCh, 'message.read', { predicate: (e) => e.user?.id === 'bob' });
  await bobCh.markRead();
  await read;
  await ownRead;
  assert.equal(bobCh.countUnread(), 0);
  assert.equal(aliceCh.state.read.bob.unread_messages, 0, 'alice sees bob’s read state');
  counts = await bob.getUnreadCount();
  assert.equal(counts.total_unread_count, 0);

  const unread = waitForEvent(bobCh, 'notification.mark_unread');
  await bobCh.markUnread({ message_id: sent[1].id });
  const ev = await unread;
  assert.equal(ev.first_unread_message_id, sent[1].id);
  assert.equal(ev.last_read_message_id, sent[0].id);
  assert.equal(ev.unread_messages, 2);
  assert.equal(ev.total_unread_count, 2);
  assert.equal(ev.unread_channels, 1);
  assert.ok(!Number.isNaN(new Date(ev.last_read_at).getTime()), `last_read_at is a date: ${ev.last_read_at}`);
  assert.equal(bobCh.countUnread(), 2, 'the reader’s state follows notification.mark_unread');
  assert.equal(bobCh.state.read.bob.last_read_message_id, sent[0].id);
  counts = await bob.getUnreadCount();
  assert.equal(counts.total_unread_count, 2);

  // markAllRead: notification.mark_read with unread_channels 0 zeroes every active channel
  const all = waitForEvent(bob, 'notification.mark_read', { predicate: (e) => e.unread_channels === 0 });
  await bob.markAllRead();
  await all;
  assert.equal(bobCh.countUnread(), 0);
  assert.equal((await bob.getUnreadCount()).total_unread_count, 0);
});

test('mutes: muteUser → notification.mutes_updated (client.mutedUsers); channel.mute → channel_mutes and muteStatus(); a muted channel leaves the totals', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', 'mutes', { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', 'mutes');
  await bobCh.watch();

  const mutes = waitForEvent(bob, 'notification.mutes_updated');
  const res = await bob.muteUser('alice');
  assert.equal(res.mute.target.id, 'alice');
  await mutes;
  assert.ok(bob.userMuteStatus('alice'), 'client.mutedUsers follows the event');
  const unmuted = waitForEvent(bob, 'notification.mutes_updated');
  await bob.unmuteUser('alice');
  await unmuted;
  assert.ok(!bob.userMuteStatus('alice'));
  assertStreamError(await rejection(bob.muteUser('bob'), 'muting oneself'), 4, 400);
  assertStreamError(await rejection(bob.muteUser('nobody'), 'muting an unknown user'), 16, 404);

  const channelMutes = waitForEvent(bob, 'notification.channel_mutes_updated');
  const cm = await bobCh.mute();
  assert.equal(cm.channel_mute.channel.cid, 'messaging:mutes');
  await channelMutes;
  assert.equal(bobCh.muteStatus().muted, true, 'muteStatus reads client.mutedChannels');
  const seen = waitForEvent(bobCh, 'message.new');
  await aliceCh.sendMessage({ text: 'while muted' });
  await seen;
  assert.equal((await bob.getUnreadCount()).total_unread_count, 0, 'a muted channel does not count');
  const back = waitForEvent(bob, 'notification.channel_mutes_updated');
  await bobCh.unmute();
  await back;
  assert.equal(bobCh.muteStatus().muted, false);
  assert.equal((await bob.getUnreadCount()).total_unread_count, 1, 'it counts again once unmuted');
});

test('bans: a moderator bans in a channel (user.banned to the watcher, members follow), the banned user’s sends are refused, unban lifts it', async (t) => {
  const server = await startServer(t);
  await serverClient(server).upsertUsers([{ id: 'mod', role: 'moderator' }, { id: 'bob' }, { id: 'carl' }]);
  const mod = await connectJwt(server, t, { id: 'mod' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const carl = await connectJwt(server, t, { id: 'carl' });
  const modCh = mod.channel('messaging', 'bans', { members: ['mod', 'bob', 'carl'] });
  await modCh.watch();
  const bobCh = bob.channel('messaging', 'bans');
  await bobCh.watch();
  const carlCh = carl.channel('messaging', 'bans');
  await carlCh.watch();

  // a member may not ban
  assertStreamError(await rejection(carlCh.banUser('bob', { reason: 'no' }), 'member ban'), 17, 403);

  const banned = waitForEvent(carlCh, 'user.banned');
  await modCh.banUser('bob', { reason: 'spam', timeout: 60 });
  const ev = await banned;
  assert.equal(ev.user.id, 'bob');
  assert.equal(ev.cid, 'messaging:bans');
  assert.equal(ev.reason, 'spam');
  assert.ok(ev.expiration, 'a timed ban carries its expiration');
  assert.equal(carlCh.state.members.bob.banned, true, 'the watcher’s members follow user.banned');

  const err = await rejection(bobCh.sendMessage({ text: 'let me speak' }), 'a banned user’s send');
  assertStreamError(err, 17, 403);
  assert.match(err.response.data.message, /suspended/);

  const bans = await mod.queryBannedUsers({ channel_cid: 'messaging:bans' });
  assert.deepEqual(bans.bans.map((b) => [b.user.id, b.reason]), [['bob', 'spam']]);

  const unbanned = waitForEvent(carlCh, 'user.unbanned');
  await modCh.unbanUser('bob');
  await unbanned;
  assert.equal(carlCh.state.members.bob.banned, false);
  await bobCh.sendMessage({ text: 'back' });

  // negative timeout and banning oneself are input errors
  assertStreamError(await rejection(modCh.banUser('bob', { timeout: -1 }), 'negative timeout'), 4, 400);
  assertStreamError(await rejection(mod.banUser('mod'), 'banning oneself'), 4, 400);
});

test('shadow ban: the shadow-banned user posts, only they see it; the others get no message.new', async (t) => {
  const server = await startServer(t);
  const admin = serverClient(server);
  await admin.upsertUsers([{ id: 'mod', role: 'moderator' }, { id: 'bob' }, { id: 'carl' }]);
  const bob = await connectJwt(server, t, { id: 'bob' });
  const carl = await connectJwt(server, t, { id: 'carl' });
  const bobCh = bob.channel('messaging', 'shadow', { members: ['bob', 'carl'] });
  await bobCh.watch();
  const carlCh = carl.channel('messaging', 'shadow');
  await carlCh.watch();
  await admin.shadowBan('bob', { banned_by_id: 'mod' });
  const sent = await bobCh.sendMessage({ text: 'into the void' });
  assert.equal(sent.message.shadowed, true);
  // a barrier: carl's next event is his own message, not bob's
  const own = waitForEvent(carlCh, 'message.new', { predicate: (e) => e.message?.text === 'barrier' });
  await carlCh.sendMessage({ text: 'barrier' });
  await own;
  assert.deepEqual(carlCh.state.messages.map((m) => m.text), ['barrier'], 'carl never saw the shadowed message');
  const carlView = await carlCh.query({ messages: { limit: 10 } });
  assert.deepEqual(carlView.messages.map((m) => m.text), ['barrier']);
  const bobView = await bobCh.query({ messages: { limit: 10 } });
  assert.deepEqual(bobView.messages.map((m) => m.text), ['into the void', 'barrier']);
});

test('flagMessage: a member flags a message; twice is code 4; an unknown message is 16', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', 'flags', { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const { message } = await aliceCh.sendMessage({ text: 'flag me' });
  const res = await bob.flagMessage(message.id, { reason: 'rude' });
  assert.equal(res.flag.target_message_id, message.id);
  assert.equal(res.flag.user.id, 'bob');
  assertStreamError(await rejection(bob.flagMessage(message.id), 'second flag'), 4, 400);
  assertStreamError(await rejection(bob.flagMessage('nope'), 'unknown message'), 16, 404);
  const user = await bob.flagUser('alice');
  assert.equal(user.flag.target_user.id, 'alice');
});

test('partialUpdateUser: user.updated to the user’s own client (client.user follows) and to a watcher of a shared channel (members follow)', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice', name: 'Alice' });
  const bob = await connectJwt(server, t, { id: 'bob', name: 'Bob' });
  const aliceCh = alice.channel('messaging', 'people', { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', 'people');
  await bobCh.watch();

  const own = waitForEvent(alice, 'user.updated', { predicate: (e) => e.user?.mood === 'happy' });
  const other = waitForEvent(bob, 'user.updated', { predicate: (e) => e.user?.mood === 'happy' });
  const res = await alice.partialUpdateUser({ id: 'alice', set: { mood: 'happy' } });
  assert.equal(res.users.alice.mood, 'happy');
  await own;
  await other;
  assert.equal(alice.user.mood, 'happy', 'client.user follows user.updated');
  assert.equal(alice.user.name, 'Alice', 'the complete user: nothing dropped');
  assert.equal(bobCh.state.members.alice.user.mood, 'happy', 'the watcher’s member follows');
  // another user's update is refused
  assertStreamError(await rejection(bob.partialUpdateUser({ id: 'alice', set: { mood: 'sad' } }), 'updating another user'), 17, 403);
});

test('presence: watch({presence: true}) gets user.presence.changed on the first connection up and the last down; invisible users stay offline', async (t) => {
  const server = await startServer(t);
  await serverClient(server).upsertUsers([{ id: 'alice' }, { id: 'bob' }, { id: 'ghost', invisible: true }]);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const ch = alice.channel('messaging', 'presence', { members: ['alice', 'bob', 'ghost'] });
  const state = await ch.watch({ presence: true });
  assert.equal(state.members.find((m) => m.user_id === 'bob').user.online, false);

  const online = waitForEvent(alice, 'user.presence.changed', { predicate: (e) => e.user?.id === 'bob' && e.user.online });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const up = await online;
  assert.ok(up.user.last_active, 'last_active is set');
  assert.equal(ch.state.members.bob.user.online, true, 'the member follows user.presence.changed');

  // a second connection of bob changes nothing; closing it neither
  const bob2 = await connectJwt(server, t, { id: 'bob' });
  await bob2.disconnectUser();
  const offline = waitForEvent(alice, 'user.presence.changed', { predicate: (e) => e.user?.id === 'bob' });
  await bob.disconnectUser();
  const down = await offline;
  assert.equal(down.user.online, false, `the first presence event after bob's second socket is the last one down: ${safeJson(down)}`);
  assert.equal(ch.state.members.bob.user.online, false);

  // the invisible user connects: no event, and alice sees them offline
  const ghostEvents = [];
  const sub = alice.on('user.presence.changed', (e) => {
    if (e.user?.id === 'ghost') ghostEvents.push(e);
  });
  t.after(() => sub.unsubscribe());
  const ghost = await connectJwt(server, t, { id: 'ghost' });
  assert.equal(ghost.user.invisible, true);
  const again = await alice.queryUsers({ id: { $in: ['ghost'] } }, {}, { presence: true });
  assert.equal(again.users[0].online, false, 'invisible users are offline to others');
  const barrier = waitForEvent(alice, 'user.presence.changed', { predicate: (e) => e.user?.id === 'bob' && e.user.online });
  await connectJwt(server, t, { id: 'bob' });
  await barrier;
  assert.deepEqual(ghostEvents, [], 'no presence event for the invisible user');
});
