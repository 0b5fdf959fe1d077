// Server-side with the official stream-chat@9.53.0 client (`new StreamChat(key, secret)`):
// upsertUsers, partialUpdateUser, deactivateUser / reactivateUser, deleteUsers + getTask,
// revokeUserToken (an old token refused at connect with code 40, a fresh one with iat accepted),
// and webhooks: a node:http receiver verifies every delivery with client.verifyWebhook.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';

import {
  CONNECT_TIMEOUT,
  disconnectAll,
  nowSeconds,
  rejection,
  safeJson,
  serverClient,
  startServer,
  userClient,
  withTimeout,
  wsErrorOf,
} from './harness.mjs';

test('user administration as the app', async (t) => {
  const server = await startServer(t);
  const admin = serverClient(server);
  const up = await admin.upsertUsers([{ id: 'ann', name: 'Ann' }, { id: 'ben' }]);
  assert.deepEqual(Object.keys(up.users).sort(), ['ann', 'ben']);
  const patched = await admin.partialUpdateUser({ id: 'ben', set: { name: 'Ben' } });
  assert.equal(patched.users.ben.name, 'Ben');

  const off = await admin.deactivateUser('ben', { created_by_id: 'ann' });
  assert.equal(typeof off.user.deactivated_at, 'string', safeJson(off));
  const on = await admin.reactivateUser('ben');
  assert.equal(on.user.deactivated_at, undefined, safeJson(on));

  const { task_id } = await admin.deleteUsers(['ben'], { user: 'hard' });
  const task = await admin.getTask(task_id);
  assert.equal(task.status, 'completed', safeJson(task));
  const left = await admin.queryUsers({ id: { $in: ['ann', 'ben'] } });
  assert.deepEqual(left.users.map((u) => u.id), ['ann']);
});

test('revokeUserToken: an old token is refused with 40, a fresh one with iat works', async (t) => {
  const server = await startServer(t);
  const admin = serverClient(server);
  await admin.upsertUser({ id: 'eve' });
  const old = admin.createToken('eve', undefined, nowSeconds() - 60);
  await admin.revokeUserToken('eve', new Date(Date.now() - 10_000));

  const refused = userClient(server);
  t.after(() => disconnectAll(refused));
  const err = await rejection(refused.connectUser({ id: 'eve' }, old), 'connectUser with a revoked token', CONNECT_TIMEOUT);
  assert.equal(wsErrorOf(err).code, 40, err.message);

  const fresh = userClient(server);
  t.after(() => disconnectAll(fresh));
  const me = await withTimeout(
    fresh.connectUser({ id: 'eve' }, admin.createToken('eve', undefined, nowSeconds())),
    CONNECT_TIMEOUT,
    'connectUser with a fresh token',
  );
  assert.equal(me.me.id, 'eve');
});

test('webhooks: every delivery verifies with client.verifyWebhook, once per event, in order', async (t) => {
  const received = [];
  let notify = () => {};
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
      notify();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => receiver.close());
  const url = `http://127.0.0.1:${receiver.address().port}/stream`;
  const server = await startServer(t, { extraArgs: ['--webhook-url', url] });
  const admin = serverClient(server);

  await admin.upsertUsers([{ id: 'ann' }, { id: 'ben' }]);
  const channel = admin.channel('messaging', 'hooks', { members: ['ann', 'ben'], created_by_id: 'ann' });
  await channel.create();
  await channel.sendMessage({ text: 'one', user_id: 'ann' });
  await channel.sendMessage({ text: 'two', user_id: 'ben' });
  await admin.deactivateUser('ben');

  const expected = ['message.new', 'message.new', 'user.deactivated'];
  await withTimeout(
    new Promise((resolve) => {
      notify = () => received.length >= expected.length && resolve();
      notify();
    }),
    10_000,
    'the webhook deliveries',
  );
  const types = received.map((d) => JSON.parse(d.body.toString()).type);
  assert.deepEqual(types, expected, safeJson(types));
  const texts = received.slice(0, 2).map((d) => JSON.parse(d.body.toString()).message.text);
  assert.deepEqual(texts, ['one', 'two']);
  const ids = new Set();
  for (const d of received) {
    assert.ok(admin.verifyWebhook(d.body, d.headers['x-signature']), 'the official client verifies it');
    assert.equal(d.headers['x-api-key'], server.apiKey);
    assert.equal(d.headers['x-webhook-attempt'], '1');
    ids.add(d.headers['x-webhook-id']);
  }
  assert.equal(ids.size, received.length, 'one id per event');
  assert.ok(!admin.verifyWebhook(Buffer.from('{}'), received[0].headers['x-signature']));
});
