// Typing and custom events with the official stream-chat@9.53.0 client: channel.keystroke (throttled),
// the automatic typing.stop after silence, stopTyping, keystroke(parent_id), sendEvent with custom
// fields, with a second watching client whose channel.state.typing follows the events.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertStreamError, connectJwt, rejection, serverClient, startServer, waitForEvent } from './harness.mjs';

async function room(server, t, id) {
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', id, { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', id);
  await bobCh.watch();
  return { alice, bob, aliceCh, bobCh };
}

test('keystroke / stopTyping: bob’s channel.state.typing follows alice', async (t) => {
  const server = await startServer(t);
  const { aliceCh, bobCh } = await room(server, t, 'typing');
  const starts = [];
  bobCh.on('typing.start', (e) => starts.push(e));

  const started = waitForEvent(bobCh, 'typing.start', { label: 'bob' });
  await aliceCh.keystroke();
  await aliceCh.keystroke(); // within 2 s: throttled by the client, not sent
  const e = await started;
  assert.equal(e.user.id, 'alice');
  assert.equal(e.parent_id, undefined);
  assert.ok(bobCh.state.typing.alice, 'bob’s state shows alice typing');
  // events arrive in order: a marker after the keystrokes proves only one typing.start came
  const marker = waitForEvent(bobCh, 'marker', { label: 'marker' });
  await aliceCh.sendEvent({ type: 'marker' });
  await marker;
  assert.equal(starts.length, 1, 'the second keystroke was throttled');

  // the client's cleaner sends typing.stop after a second of silence
  const stopped = waitForEvent(bobCh, 'typing.stop', { label: 'automatic stop' });
  const s = await stopped;
  assert.equal(s.user.id, 'alice');
  assert.equal(bobCh.state.typing.alice, undefined, 'bob’s state no longer shows alice typing');

  // typing in a thread carries parent_id; stopTyping sends the stop at once
  const inThread = waitForEvent(bobCh, 'typing.start', { predicate: (x) => x.parent_id === 'p1' });
  await aliceCh.keystroke('p1');
  await inThread;
  assert.equal(bobCh.state.typing.alice.parent_id, 'p1');
  const stopNow = waitForEvent(bobCh, 'typing.stop', { predicate: (x) => x.parent_id === 'p1' });
  await aliceCh.stopTyping('p1');
  await stopNow;
  assert.equal(bobCh.state.typing.alice, undefined);
});

test('sendEvent: custom events reach the other watcher with their fields; reserved types are refused', async (t) => {
  const server = await startServer(t);
  const { alice, aliceCh, bobCh } = await room(server, t, 'custom');
  const got = waitForEvent(bobCh, 'friendship_request', { label: 'bob' });
  const res = await aliceCh.sendEvent({ type: 'friendship_request', text: 'hey there' });
  assert.equal(res.event.type, 'friendship_request');
  const e = await got;
  assert.equal(e.text, 'hey there');
  assert.equal(e.user.id, 'alice');
  assert.equal(e.cid, 'messaging:custom');
  assertStreamError(await rejection(aliceCh.sendEvent({ type: 'message.new' }), 'reserved'), 18, 400);

  // a user-level custom event from the server reaches all of bob's connections
  const toBob = waitForEvent(bobCh.getClient(), 'friendship_accepted', { label: 'bob’s client' });
  await serverClient(server).sendUserCustomEvent('bob', { type: 'friendship_accepted', from: 'alice' });
  assert.equal((await toBob).from, 'alice');
  assertStreamError(await rejection(alice.sendUserCustomEvent('bob', { type: 'poke' }), 'client side'), 17, 403);
});
