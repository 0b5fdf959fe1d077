// Search with the official stream-chat@9.53.0 client: client.search with a text query and with
// message filters, the next/previous cursors, channel.search, and the channels a user may read.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertStreamError, connectJwt, rejection, startServer } from './harness.mjs';

test('client.search / channel.search: text, filters, cursors, only readable channels', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const carol = await connectJwt(server, t, { id: 'carol' });
  const ours = alice.channel('messaging', 'ours', { members: ['alice', 'bob'] });
  await ours.watch();
  const hers = carol.channel('messaging', 'hers', { members: ['carol'] });
  await hers.watch();
  for (let i = 0; i < 5; i++) await ours.sendMessage({ text: `Hello world ${i}` });
  await ours.sendMessage({ text: 'goodbye', attachments: [{ type: 'image', image_url: 'https://x/y.png' }] });
  await hers.sendMessage({ text: 'hello from carol' });

  const filter = { members: { $in: ['alice', 'carol'] } };
  const all = await alice.search(filter, 'hello');
  assert.equal(all.results.length, 5, 'carol’s channel is not readable for alice');
  assert.ok(all.results.every((r) => r.message.channel.cid === 'messaging:ours'));

  const sort = [{ created_at: 1 }];
  const first = await alice.search(filter, 'hello', { limit: 2, sort });
  assert.deepEqual(first.results.map((r) => r.message.text), ['Hello world 0', 'Hello world 1']);
  assert.equal(typeof first.next, 'string');
  const second = await alice.search(filter, 'hello', { limit: 2, next: first.next });
  assert.deepEqual(second.results.map((r) => r.message.text), ['Hello world 2', 'Hello world 3']);
  const back = await alice.search(filter, 'hello', { limit: 2, next: second.previous });
  assert.deepEqual(back.results.map((r) => r.message.text), ['Hello world 0', 'Hello world 1']);

  const images = await alice.search(filter, { 'attachments.type': { $in: ['image'] } });
  assert.deepEqual(images.results.map((r) => r.message.text), ['goodbye']);
  const auto = await ours.search({ text: { $autocomplete: 'worl' } }, { limit: 10 });
  assert.equal(auto.results.length, 5);
  const mine = await carol.search(filter, 'HELLO');
  assert.deepEqual(mine.results.map((r) => r.message.text), ['hello from carol']);

  await assert.rejects(alice.search(filter, 'hello', { offset: 1, next: first.next }), /Cannot specify offset with next/);
  assertStreamError(await rejection(alice.search(filter, 'hello', { next: 'garbage' }), 'bad cursor'), 4, 400);
  assertStreamError(await rejection(alice.search(filter, { text: { $regex: 'x' } }), 'bad operator'), 4, 400);
});
