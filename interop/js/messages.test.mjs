// Messages with the official stream-chat@9.53.0 client: update (client.updateMessage), soft and
// hard delete (client.deleteMessage), getMessage, the permission check on someone else's message,
// and the events other watchers receive (message.updated, message.deleted) as the client's own
// channel state applies them.
//
// stream-chat@9.53.0 has no channel.updateMessage / channel.deleteMessage: the channel-level UI
// paths (MessageComposer, offline tasks) all end in client.updateMessage / client.deleteMessage.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertStreamError,
  CONNECT_TIMEOUT,
  connectJwt,
  disconnectAll,
  rejection,
  safeJson,
  startServer,
  tokenFor,
  userClient,
  waitForEvent,
  withTimeout,
} from './harness.mjs';

/** The message with `id` in a channel's client-side state (latest message set), or undefined. */
const inState = (channel, id) => channel.state.messages.find((m) => m.id === id);

/**
 * alice and bob, both members of messaging:<id>, both watching it; alice posted `text` and bob's
 * client has it (message.new). Returns { alice, bob, aliceCh, bobCh, sent }.
 */
async function twoWatchers(server, t, id, text) {
  const alice = await connectJwt(server, t, { id: 'alice', name: 'Alice' });
  const bob = await connectJwt(server, t, { id: 'bob', name: 'Bob' });
  const aliceCh = alice.channel('messaging', id, { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', id);
  await bobCh.watch();

  // sendMessage does not add to the state by itself: both states get it from message.new
  const arrived = Promise.all(
    [
      [aliceCh, 'alice'],
      [bobCh, 'bob'],
    ].map(([ch, label]) => waitForEvent(ch, 'message.new', { predicate: (e) => e.message?.text === text, label })),
  );
  const sent = await aliceCh.sendMessage({ text, mood: 'draft' });
  await arrived;
  assert.ok(inState(aliceCh, sent.message.id), 'alice state has her message');
  assert.ok(inState(bobCh, sent.message.id), 'bob state has alice’s message');
  return { alice, bob, aliceCh, bobCh, sent: sent.message };
}

function assertMessageEvent(ev, type, cid, messageId, userId) {
  const ctx = safeJson(ev);
  assert.equal(ev.type, type, ctx);
  assert.equal(ev.cid, cid, ctx);
  const [channelType, channelId] = cid.split(':');
  assert.equal(ev.channel_type, channelType, ctx);
  assert.equal(ev.channel_id, channelId, ctx);
  assert.equal(ev.message?.id, messageId, ctx);
  assert.equal(ev.user?.id, userId, ctx);
  assert.equal(typeof ev.created_at, 'string', ctx);
}

test('updateMessage: the author edits; another watcher gets message.updated and both states show the new text', async (t) => {
  const server = await startServer(t);
  const { alice, bob, aliceCh, bobCh, sent } = await twoWatchers(server, t, 'edits', 'first draft');

  const forBob = waitForEvent(bobCh, 'message.updated', { predicate: (e) => e.message?.id === sent.id, label: 'bob' });
  const forAlice = waitForEvent(aliceCh, 'message.updated', { predicate: (e) => e.message?.id === sent.id, label: 'alice' });
  // what a UI does: the whole message from the client's own state, with the new text (the client
  // strips the reserved/local fields itself; created_at etc. are Date objects here)
  const local = inState(aliceCh, sent.id);
  const res = await alice.updateMessage({ ...local, text: 'final text', mood: 'done' });

  const m = res.message;
  assert.equal(m.id, sent.id);
  assert.equal(m.text, 'final text');
  assert.equal(m.mood, 'done', 'custom fields are replaced by the update');
  assert.equal(m.user?.id, 'alice');
  assert.equal(m.type, 'regular');
  assert.equal(m.cid, 'messaging:edits');
  assert.equal(m.created_at, sent.created_at, 'created_at is kept');
  assert.equal(typeof m.updated_at, 'string');
  assert.ok(Date.parse(m.updated_at) >= Date.parse(sent.created_at), `updated_at ${m.updated_at} >= created_at`);
  assert.equal(typeof m.message_text_updated_at, 'string', 'message_text_updated_at is set when the text changed');

  const [b, a] = await Promise.all([forBob, forAlice]);
  assertMessageEvent(b, 'message.updated', 'messaging:edits', sent.id, 'alice');
  assertMessageEvent(a, 'message.updated', 'messaging:edits', sent.id, 'alice');
  assert.equal(b.message.text, 'final text');

  // the client applied the event to its state (channel._handleChannelEvent runs before listeners)
  assert.equal(inState(bobCh, sent.id)?.text, 'final text', 'bob state shows the new text');
  assert.equal(inState(bobCh, sent.id)?.mood, 'done');
  assert.equal(inState(aliceCh, sent.id)?.text, 'final text', 'alice state shows the new text');
  assert.equal(bobCh.state.messages.length, 1, 'the update did not add a second message');

  // the stored message changed: getMessage and a fresh query agree
  const got = await bob.getMessage(sent.id);
  assert.equal(got.message.text, 'final text');
  assert.equal(got.message.updated_at, m.updated_at);
  const fresh = await bob.channel('messaging', 'edits').query({ messages: { limit: 10 } });
  assert.deepEqual(
    fresh.messages.map((x) => [x.id, x.text]),
    [[sent.id, 'final text']],
  );
});

test('updateMessage / deleteMessage on someone else’s message: code 17, HTTP 403, nothing changes', async (t) => {
  const server = await startServer(t);
  const { alice, bob, aliceCh, sent } = await twoWatchers(server, t, 'guarded', 'alice wrote this');

  const updates = [];
  const deletes = [];
  const subU = aliceCh.on('message.updated', (e) => updates.push(e));
  const subD = aliceCh.on('message.deleted', (e) => deletes.push(e));
  t.after(() => {
    subU.unsubscribe();
    subD.unsubscribe();
  });

  const errU = await rejection(bob.updateMessage({ id: sent.id, text: 'bob rewrote it' }), 'bob updates alice’s message');
  assertStreamError(errU, 17, 403);
  const errD = await rejection(bob.deleteMessage(sent.id), 'bob soft-deletes alice’s message');
  assertStreamError(errD, 17, 403);
  const errH = await rejection(bob.deleteMessage(sent.id, { hardDelete: true }), 'bob hard-deletes alice’s message');
  assertStreamError(errH, 17, 403);

  // the refused requests sent no events: alice's next edit is the first event of either kind
  // that her connection gets (the server sends a connection's events in order)
  const legit = waitForEvent(aliceCh, 'message.updated', { predicate: (e) => e.message?.text === 'alice edited' });
  await alice.updateMessage({ id: sent.id, text: 'alice edited' });
  await legit;
  assert.deepEqual(
    updates.map((e) => e.message?.text),
    ['alice edited'],
    'only the author’s own edit produced message.updated',
  );
  assert.deepEqual(deletes, [], 'no message.deleted for refused deletes');

  const got = await alice.getMessage(sent.id);
  assert.equal(got.message.text, 'alice edited');
  assert.equal(got.message.type, 'regular');
});

test('deleteMessage (soft): message.deleted with hard_delete false; states and queries keep it as type "deleted"', async (t) => {
  const server = await startServer(t);
  const { alice, bob, bobCh, sent } = await twoWatchers(server, t, 'soft', 'delete me softly');

  const forBob = waitForEvent(bobCh, 'message.deleted', { predicate: (e) => e.message?.id === sent.id });
  const res = await alice.deleteMessage(sent.id);
  assert.equal(res.message.id, sent.id);
  assert.equal(res.message.type, 'deleted');
  assert.equal(typeof res.message.deleted_at, 'string', 'deleted_at');

  const ev = await forBob;
  assertMessageEvent(ev, 'message.deleted', 'messaging:soft', sent.id, 'alice');
  assert.equal(ev.hard_delete, false, `hard_delete: ${safeJson(ev)}`);
  assert.equal(ev.message.type, 'deleted');

  const local = inState(bobCh, sent.id);
  assert.ok(local, 'a soft-deleted message stays in bob’s state');
  assert.equal(local.type, 'deleted', 'bob state shows type deleted');
  assert.ok(local.deleted_at, 'bob state has deleted_at');

  const got = await bob.getMessage(sent.id);
  assert.equal(got.message.type, 'deleted');
  const fresh = await bob.channel('messaging', 'soft').query({ messages: { limit: 10 } });
  assert.deepEqual(
    fresh.messages.map((m) => [m.id, m.type]),
    [[sent.id, 'deleted']],
  );

  // a deleted message cannot be edited (code 4)
  const err = await rejection(alice.updateMessage({ id: sent.id, text: 'resurrect' }), 'update a deleted message');
  assertStreamError(err, 4, 400);
});

test('deleteMessage (hard): message.deleted with hard_delete true; gone from state, queries and getMessage (16/404)', async (t) => {
  const server = await startServer(t);
  const { alice, bob, aliceCh, bobCh, sent } = await twoWatchers(server, t, 'hard', 'delete me for good');
  const keep = await aliceCh.sendMessage({ text: 'keep me' });

  const forBob = waitForEvent(bobCh, 'message.deleted', { predicate: (e) => e.message?.id === sent.id });
  const res = await alice.deleteMessage(sent.id, { hardDelete: true });
  assert.equal(res.message.id, sent.id);
  assert.equal(res.message.type, 'deleted');

  const ev = await forBob;
  assertMessageEvent(ev, 'message.deleted', 'messaging:hard', sent.id, 'alice');
  assert.equal(ev.hard_delete, true, `hard_delete: ${safeJson(ev)}`);
  // channel._handleChannelEvent removes hard-deleted messages from the state
  assert.equal(inState(bobCh, sent.id), undefined, 'bob state no longer has the message');

  const fresh = await bob.channel('messaging', 'hard').query({ messages: { limit: 10 } });
  assert.deepEqual(
    fresh.messages.map((m) => m.id),
    [keep.message.id],
  );
  const err = await rejection(bob.getMessage(sent.id), 'getMessage of a hard-deleted message');
  assertStreamError(err, 16, 404);

  // the legacy boolean form deleteMessage(id, true) sends ?hard=true too
  const forBob2 = waitForEvent(bobCh, 'message.deleted', { predicate: (e) => e.message?.id === keep.message.id });
  await alice.deleteMessage(keep.message.id, true);
  assert.equal((await forBob2).hard_delete, true);
  const empty = await bob.channel('messaging', 'hard').query({ messages: { limit: 10 } });
  assert.deepEqual(empty.messages, []);
});

test('getMessage: members read it, a non-member gets 17/403, an unknown id 16/404', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const ch = alice.channel('messaging', 'lookup', { members: ['alice', 'bob'] });
  await ch.create();
  const sent = await ch.sendMessage({ text: 'find me', id: 'client-chosen-id-1' });
  assert.equal(sent.message.id, 'client-chosen-id-1', 'the client-generated id is kept');

  const bob = await connectJwt(server, t, { id: 'bob' });
  const got = await bob.getMessage('client-chosen-id-1');
  assert.equal(got.message.id, 'client-chosen-id-1');
  assert.equal(got.message.text, 'find me');
  assert.equal(got.message.user?.id, 'alice');
  assert.equal(got.message.cid, 'messaging:lookup');
  assert.equal(typeof got.duration, 'string');

  const mallory = await connectJwt(server, t, { id: 'mallory' });
  assertStreamError(await rejection(mallory.getMessage('client-chosen-id-1'), 'non-member getMessage'), 17, 403);
  assertStreamError(await rejection(bob.getMessage('no-such-message'), 'getMessage of an unknown id'), 16, 404);
});
