// Uploads with the official stream-chat@9.53.0 client: channel.sendFile / sendImage (Buffers and
// a file stream, as form-data sends them), the bytes fetched back byte for byte with ranges,
// deleteFile / deleteImage, the refusals (not an image: 4/400, anonymous: 17/403), and a message
// carrying the attachment reaching a second watching client's channel.state.

import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  assertStreamError,
  CONNECT_TIMEOUT,
  connectJwt,
  disconnectAll,
  rejection,
  safeJson,
  startServer,
  userClient,
  waitForEvent,
  withTimeout,
} from './harness.mjs';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

/** Bytes with a pattern that catches shifted or dropped blocks. */
function pattern(length, seed) {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = ((i * 31 + Math.floor(i / 251)) ^ seed) & 0xff;
  return bytes;
}

async function fetchBytes(url, headers = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

test('sendFile and sendImage: the bytes come back byte for byte, with type, length and ranges', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const channel = alice.channel('messaging', 'files', { members: ['alice'] });
  await channel.watch();

  const bytes = pattern(600 * 1024, 5);
  const sent = await channel.sendFile(bytes, 'report.pdf', 'application/pdf');
  assert.equal(typeof sent.file, 'string', safeJson(sent));
  assert.ok(sent.file.startsWith(server.baseURL), sent.file);
  const whole = await fetchBytes(sent.file);
  assert.equal(whole.status, 200);
  assert.ok(whole.bytes.equals(bytes), 'the same bytes');
  assert.equal(whole.headers.get('content-length'), String(bytes.length));
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  const part = await fetchBytes(sent.file, { Range: 'bytes=1000-1999' });
  assert.equal(part.status, 206);
  assert.ok(part.bytes.equals(bytes.subarray(1000, 2000)));
  assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`);
  assert.equal((await fetchBytes(sent.file, { Range: `bytes=${bytes.length}-` })).status, 416);

  const image = await channel.sendImage(PNG, 'dot.png');
  const served = await fetchBytes(image.file);
  assert.ok(served.bytes.equals(PNG));
  assert.equal(served.headers.get('content-type'), 'image/png');

  // A file streamed from disk (form-data reads it as it sends).
  const dir = mkdtempSync(join(tmpdir(), 'stream-js-up-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const big = pattern(5 * 1024 * 1024, 9);
  writeFileSync(join(dir, 'big.bin'), big);
  const streamed = await channel.sendFile(createReadStream(join(dir, 'big.bin')), 'big.bin');
  assert.ok((await fetchBytes(streamed.file)).bytes.equals(big), 'the streamed file comes back whole');

  await channel.deleteFile(sent.file);
  assert.equal((await fetchBytes(sent.file)).status, 404);
  await channel.deleteImage(image.file);
  assert.equal((await fetchBytes(image.file)).status, 404);
});

test('a message with the uploaded attachment reaches a second watcher’s state', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  const aliceCh = alice.channel('messaging', 'shared', { members: ['alice', 'bob'] });
  await aliceCh.watch();
  const bobCh = bob.channel('messaging', 'shared');
  await bobCh.watch();
  const image = await aliceCh.sendImage(PNG, 'dot.png');
  const arrived = waitForEvent(bobCh, 'message.new', { label: 'bob' });
  const { message } = await aliceCh.sendMessage({
    text: 'look',
    attachments: [{ type: 'image', image_url: image.file, fallback: 'dot.png' }],
  });
  await arrived;
  const inBobsState = bobCh.state.messages.find((m) => m.id === message.id);
  assert.ok(inBobsState, 'bob’s channel.state has the message');
  assert.equal(inBobsState.attachments[0].image_url, image.file);
  const fetched = await fetchBytes(inBobsState.attachments[0].image_url);
  assert.ok(fetched.bytes.equals(PNG), 'bob fetches the image byte for byte');
});

test('refusals keep Stream’s codes: not an image (4/400), anonymous (17/403), not a member (17/403)', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const channel = alice.channel('livestream', 'open');
  await channel.watch();
  const err = await rejection(channel.sendImage(Buffer.from('not an image at all'), 'fake.png'), 'sendImage of text');
  assertStreamError(err, 4, 400);

  const anonymous = userClient(server);
  t.after(() => disconnectAll(anonymous));
  await withTimeout(anonymous.connectAnonymousUser(), CONNECT_TIMEOUT, 'connectAnonymousUser');
  const anonCh = anonymous.channel('livestream', 'open');
  await anonCh.watch();
  assertStreamError(await rejection(anonCh.sendFile(Buffer.from('x'), 'x.txt'), 'anonymous sendFile'), 17, 403);

  alice.channel('messaging', 'closed', { members: ['alice'] });
  await alice.channel('messaging', 'closed', { members: ['alice'] }).create();
  const bob = await connectJwt(server, t, { id: 'bob' });
  const notMine = bob.channel('messaging', 'closed');
  assertStreamError(await rejection(notMine.sendFile(Buffer.from('x'), 'x.txt'), 'non-member sendFile'), 17, 403);
});
