// Reactions with the official stream-chat@9.53.0 client: channel.sendReaction (plain and
// enforce_unique), getReactions, deleteReaction, with a second watching client whose
// channel.state follows the reaction.new / reaction.updated / reaction.deleted events.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertStreamError, connectJwt, rejection, safeJson, startServer, waitForEvent } from './harness.mjs';

const inState = (channel, id) => channel.state.messages.find((m) => m.id === id);
const kinds = (list) => (list ?? []).map((r) => `${r.type}:${r.user_id}`);

/** alice and bob watch messaging:<id>; alice posted a message both states hold. */
async function room(server, t, id) {
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', id, { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', id);
  await bobCh.watch();
  const arrived = waitForEvent(bobCh, 'message.new', { label: 'bob gets the message' });
  const { message } = await aliceCh.sendMessage({ text: 'react to me' });
  await arrived;
  return { alice, bob, aliceCh, bobCh, message };
}

test('sendReaction / deleteReaction: the other watcher’s state follows reaction.new and reaction.deleted', async (t) => {
  const server = await startServer(t);
  const { aliceCh, bobCh, message } = await room(server, t, 'reactions');

  const seenByAlice = waitForEvent(aliceCh, 'reaction.new', { label: 'alice' });
  const seenByBob = waitForEvent(bobCh, 'reaction.new', { label: 'bob' });
  const res = await bobCh.sendReaction(message.id, { type: 'love' });
  assert.equal(res.reaction.type, 'love');
  assert.equal(res.reaction.user_id, 'bob');
  assert.deepEqual(kinds(res.message.own_reactions), ['love:bob'], 'the response carries the caller’s own reactions');
  assert.deepEqual(res.message.reaction_counts, { love: 1 });
  assert.equal(res.message.reaction_groups?.love?.count, 1, safeJson(res.message));

  const event = await seenByAlice;
  assert.equal(event.reaction.user_id, 'bob');
  const onAlice = inState(aliceCh, message.id);
  assert.deepEqual(onAlice.reaction_counts, { love: 1 }, 'alice’s state shows the count');
  assert.deepEqual(kinds(onAlice.latest_reactions), ['love:bob']);
  assert.deepEqual(onAlice.own_reactions ?? [], [], 'not alice’s own');
  assert.equal(onAlice.reaction_groups?.love?.sum_scores, 1);

  // bob's own state: the event from the server adds his own reaction
  await seenByBob;
  const onBob = inState(bobCh, message.id);
  assert.deepEqual(kinds(onBob.own_reactions), ['love:bob']);

  const page = await aliceCh.getReactions(message.id, { limit: 10, offset: 0 });
  assert.deepEqual(kinds(page.reactions), ['love:bob']);

  const deleted = waitForEvent(aliceCh, 'reaction.deleted', { label: 'alice' });
  const gone = await bobCh.deleteReaction(message.id, 'love');
  assert.deepEqual(gone.message.reaction_counts, {});
  await deleted;
  assert.deepEqual(inState(aliceCh, message.id).reaction_counts, {});
  assert.deepEqual(inState(aliceCh, message.id).latest_reactions, []);
  assertStreamError(await rejection(bobCh.deleteReaction(message.id, 'love'), 'delete again'), 16, 404);
});

test('sendReaction with enforce_unique: reaction.updated replaces the user’s reactions in both states', async (t) => {
  const server = await startServer(t);
  const { aliceCh, bobCh, message } = await room(server, t, 'unique');
  for (const type of ['like', 'wow']) {
    const seen = [aliceCh, bobCh].map((ch) =>
      waitForEvent(ch, 'reaction.new', { predicate: (e) => e.reaction?.type === type }),
    );
    await bobCh.sendReaction(message.id, { type });
    await Promise.all(seen);
  }
  assert.deepEqual(inState(aliceCh, message.id).reaction_counts, { like: 1, wow: 1 });
  assert.deepEqual(kinds(inState(bobCh, message.id).own_reactions).sort(), ['like:bob', 'wow:bob']);

  const updatedOnAlice = waitForEvent(aliceCh, 'reaction.updated', { label: 'alice' });
  const updatedOnBob = waitForEvent(bobCh, 'reaction.updated', { label: 'bob' });
  await bobCh.sendReaction(message.id, { type: 'love', score: 2 }, { enforce_unique: true });
  await Promise.all([updatedOnAlice, updatedOnBob]);
  assert.deepEqual(inState(aliceCh, message.id).reaction_counts, { love: 1 });
  assert.deepEqual(inState(aliceCh, message.id).reaction_scores, { love: 2 });
  assert.deepEqual(kinds(inState(bobCh, message.id).own_reactions), ['love:bob'], 'bob’s own list was replaced');
});

test('sendReaction refusals: the client’s local checks, then the server’s codes', async (t) => {
  const server = await startServer(t);
  const { aliceCh, message } = await room(server, t, 'refusals');
  const local = await rejection(aliceCh.sendReaction(message.id, {}), 'empty reaction');
  assert.match(local.message, /Reaction object is missing/);
  assertStreamError(await rejection(aliceCh.sendReaction('nope', { type: 'love' }), 'unknown message'), 16, 404);
  assertStreamError(await rejection(aliceCh.sendReaction(message.id, { type: '' }), 'empty type'), 4, 400);
  const carol = await connectJwt(server, t, { id: 'carol' });
  const outside = carol.channel('messaging', 'refusals');
  assertStreamError(await rejection(outside.sendReaction(message.id, { type: 'love' }), 'non-member'), 17, 403);
});
