// Pins and partial updates with the official stream-chat@9.53.0 client: client.pinMessage /
// unpinMessage (with a timeout in seconds), channel.getPinnedMessages, client.partialUpdateMessage,
// quoted messages, with a second watching client whose state (pinnedMessages, messages) follows the
// message.updated events.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertStreamError, connectJwt, rejection, startServer, waitForEvent } from './harness.mjs';

const inState = (channel, id) => channel.state.messages.find((m) => m.id === id);

async function room(server, t, id) {
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', id, { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', id);
  await bobCh.watch();
  return { alice, bob, aliceCh, bobCh };
}

async function post(sender, watcher, message) {
  const seen = waitForEvent(watcher, 'message.new', { predicate: (e) => e.message?.text === message.text });
  const { message: sent } = await sender.sendMessage(message);
  await seen;
  return sent;
}

test('pinMessage / unpinMessage: bob’s pinnedMessages follow; getPinnedMessages lists them', async (t) => {
  const server = await startServer(t);
  const { alice, aliceCh, bobCh } = await room(server, t, 'pins');
  const first = await post(aliceCh, bobCh, { text: 'pin me' });
  const second = await post(aliceCh, bobCh, { text: 'pin me for an hour' });

  let updated = waitForEvent(bobCh, 'message.updated', { predicate: (e) => e.message?.id === first.id });
  const res = await alice.pinMessage(first);
  assert.equal(res.message.pinned, true);
  assert.equal(res.message.pinned_by.id, 'alice');
  await updated;
  assert.deepEqual(bobCh.state.pinnedMessages.map((m) => m.id), [first.id]);
  assert.equal(inState(bobCh, first.id).pinned, true);

  updated = waitForEvent(bobCh, 'message.updated', { predicate: (e) => e.message?.id === second.id });
  const timed = await alice.pinMessage(second.id, 3600);
  const left = Date.parse(timed.message.pin_expires) - Date.now();
  assert.ok(left > 3500_000 && left <= 3600_000, `pin_expires in an hour: ${timed.message.pin_expires}`);
  await updated;
  assert.deepEqual(bobCh.state.pinnedMessages.map((m) => m.id), [first.id, second.id], 'sorted by pinned_at');

  const listed = await bobCh.getPinnedMessages({ limit: 10 });
  assert.deepEqual(listed.messages.map((m) => m.id), [second.id, first.id], 'newest pin first');
  const asc = await bobCh.getPinnedMessages({ limit: 1 }, [{ pinned_at: 1 }]);
  assert.deepEqual(asc.messages.map((m) => m.id), [first.id]);

  updated = waitForEvent(bobCh, 'message.updated', { predicate: (e) => e.message?.id === first.id });
  const unpinned = await alice.unpinMessage(first.id);
  assert.equal(unpinned.message.pinned, false);
  await updated;
  assert.deepEqual(bobCh.state.pinnedMessages.map((m) => m.id), [second.id]);

  const fresh = await bobCh.query({ messages: { limit: 10 } });
  assert.deepEqual(fresh.pinned_messages.map((m) => m.id), [second.id], 'the channel state’s pinned_messages');
});

test('partialUpdateMessage: set and unset reach the other watcher; quotes follow the quoted message', async (t) => {
  const server = await startServer(t);
  const { alice, aliceCh, bobCh } = await room(server, t, 'partial');
  const original = await post(aliceCh, bobCh, { text: 'first version', mood: 'meh' });
  const quoting = await post(bobCh, aliceCh, { text: 'I quote you', quoted_message_id: original.id });
  assert.equal(quoting.quoted_message.text, 'first version');

  const updated = waitForEvent(bobCh, 'message.updated', { predicate: (e) => e.message?.id === original.id });
  const res = await alice.partialUpdateMessage(original.id, { set: { text: 'second version', tag: 'x' }, unset: ['mood'] });
  assert.equal(res.message.text, 'second version');
  assert.equal(res.message.mood, undefined);
  await updated;
  const onBob = inState(bobCh, original.id);
  assert.equal(onBob.text, 'second version', 'bob’s state has the new text');
  assert.equal(onBob.tag, 'x');
  assert.equal(inState(bobCh, quoting.id).quoted_message.text, 'second version', 'the quote in bob’s state follows');

  assertStreamError(await rejection(bobCh.getClient().partialUpdateMessage(original.id, { set: { text: 'hijack' } }), 'someone else’s'), 17, 403);
  assertStreamError(await rejection(alice.partialUpdateMessage('nope', { set: { text: 'x' } }), 'unknown'), 16, 404);
  assertStreamError(await rejection(alice.partialUpdateMessage(original.id, { set: { text: 'x'.repeat(5001) } }), 'too long'), 20, 400);
});
