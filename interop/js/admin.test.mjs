// Channel administration and members with the official stream-chat@9.53.0 client: update,
// updatePartial, slow mode, truncate, delete, hide/show, addMembers/removeMembers/queryMembers/
// addModerators, inviteMembers/acceptInvite, distinct channels. A second client watches the channel
// and its `channel.state` / `channel.data` must follow each event.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertStreamError,
  connectJwt,
  rejection,
  safeJson,
  startServer,
  waitForEvent,
} from './harness.mjs';

/** alice (creator) and bob (member) both watch messaging:<id>; returns both clients and channels. */
async function pair(t, id, extraMembers = []) {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice', name: 'Alice' });
  const bob = await connectJwt(server, t, { id: 'bob', name: 'Bob' });
  const aliceCh = alice.channel('messaging', id, { members: ['alice', 'bob', ...extraMembers], color: 'red' });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', id);
  await bobCh.watch();
  return { server, alice, bob, aliceCh, bobCh };
}

test('update and updatePartial: channel.updated reaches the other watcher, whose channel.data follows', async (t) => {
  const { aliceCh, bobCh } = await pair(t, 'admin-update');

  const updated = waitForEvent(bobCh, 'channel.updated', { predicate: (e) => e.channel?.name === 'Renamed' });
  const note = waitForEvent(bobCh, 'message.new', { predicate: (e) => e.message?.type === 'system' });
  const res = await aliceCh.update({ name: 'Renamed', color: 'blue' }, { text: 'Alice renamed the channel' });
  assert.equal(res.channel.name, 'Renamed');
  assert.ok(Array.isArray(res.channel.own_capabilities), 'the response carries own_capabilities');
  assert.ok(res.channel.own_capabilities.includes('update-channel'), 'the creator may update');
  assert.deepEqual(res.members.map((m) => m.user_id).sort(), ['alice', 'bob']);
  assert.equal(res.message?.type, 'system');
  const ev = await updated;
  assert.equal(ev.user?.id, 'alice');
  assert.equal(ev.channel.own_capabilities, undefined, 'a broadcast channel carries no own_capabilities');
  assert.equal(bobCh.data.name, 'Renamed', 'the watcher’s data follows channel.updated');
  assert.equal(bobCh.data.color, 'blue');
  assert.ok(Array.isArray(bobCh.data.own_capabilities), 'bob keeps his own capabilities');
  assert.ok(!bobCh.data.own_capabilities.includes('update-channel'), `a member may not update: ${bobCh.data.own_capabilities}`);
  // the system message reached bob's state through message.new
  await note;
  assert.ok(bobCh.state.messages.some((m) => m.text === 'Alice renamed the channel'), 'system message in bob’s state');

  const partial = waitForEvent(bobCh, 'channel.updated', { predicate: (e) => e.channel?.topic === 'interop' });
  const p = await aliceCh.updatePartial({ set: { topic: 'interop' }, unset: ['color'] });
  assert.equal(p.channel.topic, 'interop');
  assert.equal(p.channel.color, undefined);
  await partial;
  assert.equal(bobCh.data.topic, 'interop');
  assert.equal(bobCh.data.color, undefined, 'unset fields disappear from the watcher’s data');
  assert.equal(bobCh.data.name, 'Renamed', 'other fields stay');

  // a member may not update: 17/403, and nothing changes
  const err = await rejection(bobCh.update({ name: 'Bob’s' }), 'member update');
  assertStreamError(err, 17, 403);
  const again = await bobCh.query({ state: false });
  assert.equal(again.channel.name, 'Renamed');
});

test('slow mode: enableSlowMode refuses a second member message inside the cooldown (code 60), disableSlowMode lifts it', async (t) => {
  const { aliceCh, bobCh } = await pair(t, 'admin-slow');
  // the creator (a plain user) may not set the cooldown: moderators and admins only
  const err = await rejection(aliceCh.enableSlowMode(30), 'enableSlowMode by the creator');
  assertStreamError(err, 17, 403);
});

test('slow mode as a moderator: the cooldown is on every member’s channel.data; members are refused, the moderator is not', async (t) => {
  const server = await startServer(t);
  const admin = (await import('./harness.mjs')).serverClient(server);
  await admin.upsertUsers([{ id: 'mod', role: 'moderator' }, { id: 'bob' }]);
  const mod = await connectJwt(server, t, { id: 'mod' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const modCh = mod.channel('messaging', 'admin-cooldown', { members: ['mod', 'bob'] });
  await modCh.watch();
  const bobCh = bob.channel('messaging', 'admin-cooldown');
  await bobCh.watch();

  const seen = waitForEvent(bobCh, 'channel.updated', { predicate: (e) => e.channel?.cooldown === 30 });
  const res = await modCh.enableSlowMode(30);
  assert.equal(res.channel.cooldown, 30);
  assert.ok(res.channel.own_capabilities.includes('skip-slow-mode'), 'moderators skip the cooldown');
  await seen;
  assert.equal(bobCh.data.cooldown, 30, 'the cooldown timer of the watcher reads data.cooldown');

  await bobCh.sendMessage({ text: 'first' });
  const refused = await rejection(bobCh.sendMessage({ text: 'second' }), 'a message inside the cooldown');
  assertStreamError(refused, 60, 403);
  await modCh.sendMessage({ text: 'moderators are not limited' });
  await modCh.sendMessage({ text: 'twice' });

  await modCh.disableSlowMode();
  await bobCh.sendMessage({ text: 'free again' });
});

test('truncate: channel.truncated with truncated_at empties the other watcher’s state; older messages are gone from queries', async (t) => {
  const { aliceCh, bobCh } = await pair(t, 'admin-truncate');
  for (const text of ['one', 'two']) {
    const seen = waitForEvent(bobCh, 'message.new', { predicate: (e) => e.message?.text === text });
    await aliceCh.sendMessage({ text });
    await seen;
  }
  assert.equal(bobCh.state.messages.length, 2);
  const truncated = waitForEvent(bobCh, 'channel.truncated');
  const res = await aliceCh.truncate({ message: { text: 'Channel truncated' } });
  assert.ok(res.channel.truncated_at, `truncated_at in the response: ${safeJson(res.channel)}`);
  assert.equal(res.message?.type, 'system');
  const ev = await truncated;
  assert.ok(ev.channel.truncated_at, 'channel.truncated carries channel.truncated_at');
  assert.deepEqual(
    bobCh.state.messages.map((m) => m.text),
    ['Channel truncated'],
    'the watcher kept only the system message',
  );
  const state = await bobCh.query({ messages: { limit: 10 } });
  assert.deepEqual(state.messages.map((m) => m.text), ['Channel truncated']);
  // a member may not truncate
  assertStreamError(await rejection(bobCh.truncate(), 'member truncate'), 17, 403);
});

test('hide / show: channel.hidden / channel.visible on the user’s clients; a hidden channel leaves queryChannels until a new message', async (t) => {
  const { server, aliceCh, bob, bobCh } = await pair(t, 'admin-hide');
  const bobLaptop = await connectJwt(server, t, { id: 'bob' });
  const hidden = waitForEvent(bobLaptop, 'channel.hidden');
  const hiddenHere = waitForEvent(bobCh, 'channel.hidden');
  await bobCh.hide();
  await hiddenHere;
  const h = await hidden;
  assert.equal(h.cid, 'messaging:admin-hide');
  assert.equal(h.clear_history, false);
  assert.equal(bobCh.data.hidden, true, 'the watching client marks its channel hidden');
  let list = await bob.queryChannels({ members: { $in: ['bob'] } }, {}, { watch: false });
  assert.deepEqual(list.map((c) => c.cid), [], 'hidden channels leave the list');
  list = await bob.queryChannels({ members: { $in: ['bob'] }, hidden: true }, {}, { watch: false });
  assert.deepEqual(list.map((c) => c.cid), ['messaging:admin-hide'], 'asked for with hidden: true');

  const visible = waitForEvent(bobLaptop, 'channel.visible');
  await aliceCh.sendMessage({ text: 'wake up' });
  await visible;
  list = await bob.queryChannels({ members: { $in: ['bob'] } }, {}, { watch: false });
  assert.deepEqual(list.map((c) => c.cid), ['messaging:admin-hide'], 'a new message shows it again');

  await bobCh.hide(null, true);
  await bobCh.show();
  const state = await bobCh.query({ messages: { limit: 10 } });
  assert.deepEqual(state.messages, [], 'history cleared by hide(clearHistory) stays cleared for bob');
  const alices = await aliceCh.query({ messages: { limit: 10 } });
  assert.equal(alices.messages.length, 1, 'but not for alice');
});

test('delete: channel.deleted to the watcher, the client drops the channel; queries of it fail with 16', async (t) => {
  const { alice, aliceCh, bob, bobCh } = await pair(t, 'admin-delete');
  assertStreamError(await rejection(bobCh.delete(), 'member delete'), 17, 403);
  const deleted = waitForEvent(bob, 'channel.deleted');
  const res = await aliceCh.delete();
  assert.ok(res.channel.deleted_at, 'deleted_at in the response');
  const ev = await deleted;
  assert.equal(ev.cid, 'messaging:admin-delete');
  assert.equal(bob.activeChannels['messaging:admin-delete'], undefined, 'the client removed the channel');
  const list = await alice.queryChannels({ cid: 'messaging:admin-delete' }, {}, { watch: false });
  assert.equal(list.length, 0);
});

test('members: addMembers / removeMembers / addModerators with member.* events the watcher’s state follows; queryMembers', async (t) => {
  const server = await startServer(t);
  const admin = (await import('./harness.mjs')).serverClient(server);
  await admin.upsertUsers([{ id: 'carol', name: 'Carol' }, { id: 'dave', name: 'Dave' }]);
  const alice = await connectJwt(server, t, { id: 'alice', name: 'Alice' });
  const bob = await connectJwt(server, t, { id: 'bob', name: 'Bob' });
  const carol = await connectJwt(server, t, { id: 'carol', name: 'Carol' });
  const aliceCh = alice.channel('messaging', 'admin-members', { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', 'admin-members');
  await bobCh.watch();

  const added = waitForEvent(bobCh, 'member.added', { predicate: (e) => e.member?.user?.id === 'carol' });
  const carolNote = waitForEvent(carol, 'notification.added_to_channel');
  const res = await aliceCh.addMembers(['carol', 'dave'], { text: 'welcome' });
  assert.deepEqual(res.members.map((m) => m.user_id).sort(), ['alice', 'bob', 'carol', 'dave']);
  await added;
  await carolNote;
  assert.ok(bobCh.state.members.carol, 'the watcher’s members follow member.added');
  assert.equal(bobCh.state.members.carol.user.name, 'Carol');

  const promoted = waitForEvent(bobCh, 'member.updated', { predicate: (e) => e.member?.user?.id === 'carol' });
  await aliceCh.addModerators(['carol']);
  await promoted;
  assert.equal(bobCh.state.members.carol.channel_role, 'channel_moderator');
  assert.equal(bobCh.state.members.carol.is_moderator, true);

  const moderators = await bobCh.queryMembers({ channel_role: 'channel_moderator' });
  assert.deepEqual(moderators.members.map((m) => m.user_id), ['carol']);
  const byName = await bobCh.queryMembers({ name: { $autocomplete: 'da' } });
  assert.deepEqual(byName.members.map((m) => m.user_id), ['dave']);
  const page = await bobCh.queryMembers({}, [{ user_id: -1 }], { limit: 2, offset: 1 });
  assert.deepEqual(page.members.map((m) => m.user_id), ['carol', 'bob']);

  const removed = waitForEvent(bobCh, 'member.removed', { predicate: (e) => e.user?.id === 'dave' });
  await aliceCh.removeMembers(['dave']);
  await removed;
  assert.equal(bobCh.state.members.dave, undefined, 'the watcher’s members follow member.removed');

  // a plain member may not change the members
  assertStreamError(await rejection(bobCh.addMembers(['dave']), 'member addMembers'), 17, 403);
  // but leaving is theirs
  await bobCh.removeMembers(['bob']);
  const after = await aliceCh.queryMembers({});
  assert.deepEqual(after.members.map((m) => m.user_id).sort(), ['alice', 'carol']);
});

test('invites: inviteMembers → notification.invited; acceptInvite → member.updated to the watcher and notification.invite_accepted', async (t) => {
  const server = await startServer(t);
  const admin = (await import('./harness.mjs')).serverClient(server);
  await admin.upsertUsers([{ id: 'erin' }]);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const erin = await connectJwt(server, t, { id: 'erin' });
  const aliceCh = alice.channel('messaging', 'admin-invite', { members: ['alice'] });
  await aliceCh.watch();

  const invited = waitForEvent(erin, 'notification.invited');
  const memberAdded = waitForEvent(aliceCh, 'member.added', { predicate: (e) => e.member?.user?.id === 'erin' });
  await aliceCh.inviteMembers(['erin']);
  const inv = await invited;
  await memberAdded;
  assert.equal(inv.member?.user_id, 'erin');
  assert.equal(inv.member?.invited, true);
  assert.ok(aliceCh.state.members.erin, 'member.added for the invitee');
  assert.equal(aliceCh.state.members.erin.status, 'pending');

  const erinCh = erin.channel('messaging', 'admin-invite');
  await erinCh.watch();
  const updated = waitForEvent(aliceCh, 'member.updated', { predicate: (e) => e.member?.user?.id === 'erin' });
  const accepted = waitForEvent(erin, 'notification.invite_accepted');
  await erinCh.acceptInvite();
  await accepted;
  await updated;
  assert.ok(aliceCh.state.members.erin.invite_accepted_at, 'the watcher sees the accepted invite');
  assert.equal(aliceCh.state.members.erin.status, 'member');
  // accepting twice is an input error
  assertStreamError(await rejection(erinCh.acceptInvite(), 'second acceptInvite'), 4, 400);
});

test('distinct channels: the same members give the same channel, whatever their order', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const a = alice.channel('messaging', { members: ['alice', 'bob'] });
  await a.watch();
  assert.ok(a.id?.startsWith('!members-'), `server-generated id: ${a.id}`);
  const b = bob.channel('messaging', { members: ['bob', 'alice'] });
  await b.watch();
  assert.equal(b.cid, a.cid);
  const seen = waitForEvent(b, 'message.new');
  await a.sendMessage({ text: 'same room' });
  await seen;
  assert.equal(alice.activeChannels[`messaging:!members-alice,bob`], undefined, 'the temporary key was dropped');
});
