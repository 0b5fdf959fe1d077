// Threads with the official stream-chat@9.53.0 client: replies through sendMessage({parent_id}),
// channel.getReplies, the parent's reply_count on another watcher, thread-only replies kept out
// of the channel list and unread count, client.queryThreads / getThread (Thread objects) and a
// thread read (Thread.markAsRead → channel read with thread_id) seen by the other watcher.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connectJwt, startServer, waitForEvent } from './harness.mjs';

const inState = (channel, id) => channel.state.messages.find((m) => m.id === id);

async function room(server, t, id) {
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', id, { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', id);
  await bobCh.watch();
  const arrived = waitForEvent(bobCh, 'message.new', { label: 'parent on bob' });
  const { message: parent } = await aliceCh.sendMessage({ text: 'a question' });
  await arrived;
  return { alice, bob, aliceCh, bobCh, parent };
}

test('replies: the other watcher’s state gets them in threads, the parent’s reply_count, and no channel unread', async (t) => {
  const server = await startServer(t);
  const { aliceCh, bobCh, parent } = await room(server, t, 'threads');
  await aliceCh.markRead();
  const unreadBefore = aliceCh.state.read.alice?.unread_messages ?? 0;

  const replyOnAlice = waitForEvent(aliceCh, 'message.new', { predicate: (e) => e.message?.parent_id === parent.id });
  const parentUpdated = waitForEvent(aliceCh, 'message.updated', { predicate: (e) => e.message?.id === parent.id });
  const { message: reply } = await bobCh.sendMessage({ text: 'an answer', parent_id: parent.id });
  assert.equal(reply.type, 'reply');
  await Promise.all([replyOnAlice, parentUpdated]);

  assert.deepEqual((aliceCh.state.threads[parent.id] ?? []).map((m) => m.id), [reply.id], 'alice’s thread state');
  assert.equal(inState(aliceCh, reply.id), undefined, 'a thread-only reply is not in the channel list');
  assert.equal(inState(aliceCh, parent.id).reply_count, 1, 'the parent shows its reply count');
  assert.deepEqual(inState(aliceCh, parent.id).thread_participants.map((u) => u.id), ['alice', 'bob']);
  assert.equal(aliceCh.state.read.alice?.unread_messages ?? 0, unreadBefore, 'no channel unread for a thread reply');

  // shown in the channel too: listed there
  const shown = waitForEvent(aliceCh, 'message.new', { predicate: (e) => e.message?.show_in_channel });
  const { message: loud } = await bobCh.sendMessage({ text: 'also here', parent_id: parent.id, show_in_channel: true });
  await shown;
  assert.ok(inState(aliceCh, loud.id), 'show_in_channel: in the channel list');

  // a fresh client loads the replies
  const carolFresh = await connectJwt(server, t, { id: 'alice' });
  const ch = carolFresh.channel('messaging', 'threads');
  await ch.watch();
  const page = await ch.getReplies(parent.id, { limit: 10 });
  assert.deepEqual(page.messages.map((m) => m.id), [reply.id, loud.id], 'oldest first');
  assert.deepEqual((ch.state.threads[parent.id] ?? []).map((m) => m.id), [reply.id, loud.id], 'getReplies fills state.threads');
  const older = await ch.getReplies(parent.id, { limit: 1, id_lt: loud.id });
  assert.deepEqual(older.messages.map((m) => m.id), [reply.id]);
});

test('queryThreads / getThread build Thread objects; a thread read reaches the other watcher with its thread', async (t) => {
  const server = await startServer(t);
  const { alice, bob, aliceCh, bobCh, parent } = await room(server, t, 'thread-objects');
  for (const text of ['one', 'two']) {
    const seen = waitForEvent(aliceCh, 'message.new', { predicate: (e) => e.message?.text === text });
    await bobCh.sendMessage({ text, parent_id: parent.id });
    await seen;
  }
  const { threads } = await alice.queryThreads({ reply_limit: 1 });
  assert.equal(threads.length, 1);
  const thread = threads[0];
  assert.equal(thread.id, parent.id);
  const state = thread.state.getLatestValue();
  assert.equal(state.replyCount, 2);
  assert.deepEqual(state.replies.map((m) => m.text), ['two']);
  assert.equal(state.parentMessage.id, parent.id);
  assert.equal(state.channel.cid, 'messaging:thread-objects');
  assert.equal(thread.ownUnreadCount, 2, 'alice has two unread replies');

  const one = await bob.getThread(parent.id, { reply_limit: 5 });
  assert.deepEqual(one.state.getLatestValue().replies.map((m) => m.text), ['one', 'two']);

  // alice reads the thread: bob sees message.read with the thread; his channel state keeps
  // alice's channel read untouched (the channel skips thread reads)
  const channelReadBefore = bobCh.state.read.alice?.last_read?.getTime?.();
  const readSeen = waitForEvent(bobCh, 'message.read', { predicate: (e) => e.thread?.parent_message_id === parent.id });
  await thread.markAsRead({ force: true });
  const read = await readSeen;
  assert.equal(read.user.id, 'alice');
  assert.equal(bobCh.state.read.alice?.last_read?.getTime?.(), channelReadBefore, 'bob’s channel read state for alice is unchanged');
  const again = await alice.getThread(parent.id);
  assert.equal(again.ownUnreadCount, 0, 'the server now counts no unread replies for alice');
});
