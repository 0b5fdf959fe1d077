// Auth and permission errors as the official stream-chat@9.53.0 client sees them.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertStreamError,
  CONNECT_TIMEOUT,
  disconnectAll,
  nowSeconds,
  rejection,
  safeJson,
  serverClient,
  signJwt,
  startServer,
  tokenFor,
  userClient,
  waitForEvent,
  withTimeout,
  wsErrorOf,
} from './harness.mjs';

test('bad signature: connectUser rejects with code 43 and does not retry', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const forged = tokenFor(server, 'alice', { secret: 'not-the-secret-of-this-server-0123456789' });
  const err = await rejection(client.connectUser({ id: 'alice' }, forged), 'connectUser with a forged token', CONNECT_TIMEOUT);
  const e = wsErrorOf(err);
  assert.equal(e.code, 43, safeJson(e));
  assert.equal(e.StatusCode, 401, safeJson(e));
  assert.equal(e.isWSFailure, false, 'an API rejection, not a transport failure');
  assert.match(e.message, /^WS failed with code 43 and reason - ./);
  assert.equal(client.userID, undefined, 'connectUser cleaned up after the rejection');
});

test('expired static token: connectUser rejects with code 40', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const expired = tokenFor(server, 'alice', { exp: nowSeconds() - 600 });
  const err = await rejection(client.connectUser({ id: 'alice' }, expired), 'connectUser with an expired token', CONNECT_TIMEOUT);
  const e = wsErrorOf(err);
  assert.equal(e.code, 40, safeJson(e));
  assert.equal(e.StatusCode, 401, safeJson(e));
  assert.equal(e.isWSFailure, false);
});

/** A claim value near `target` for which the signed token's payload has no '-'/'_'. */
function stdBase64Claim(userId, claim, target, sign) {
  for (let d = 0; d < 64; d++) {
    const token = sign(target + d);
    if (!/[-_]/.test(token.split('.')[1])) return token;
  }
  throw new Error(`no ${claim} near ${target} gives a std-base64 payload for ${userId}`);
}

test('iat in the future: connectUser rejects with code 42', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));
  const minter = serverClient(server);
  // the official createToken(userID, exp, iat)
  const token = stdBase64Claim('alice', 'iat', nowSeconds() + 3600, (iat) => minter.createToken('alice', undefined, iat));
  const err = await rejection(client.connectUser({ id: 'alice' }, token), 'connectUser with iat in the future', CONNECT_TIMEOUT);
  const e = wsErrorOf(err);
  assert.equal(e.code, 42, safeJson(e));
  assert.equal(e.StatusCode, 401, safeJson(e));
});

test('nbf in the future: connectUser rejects with code 41', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));
  const token = stdBase64Claim('alice', 'nbf', nowSeconds() + 3600, (nbf) =>
    signJwt({ user_id: 'alice', nbf }, server.apiSecret),
  );
  const err = await rejection(client.connectUser({ id: 'alice' }, token), 'connectUser with nbf in the future', CONNECT_TIMEOUT);
  const e = wsErrorOf(err);
  assert.equal(e.code, 41, safeJson(e));
  assert.equal(e.StatusCode, 401, safeJson(e));
});

test('alg "none" is never accepted, on the WebSocket or over REST', async (t) => {
  const server = await startServer(t);
  const token = signJwt({ user_id: 'alice' }, server.apiSecret, { alg: 'none', typ: 'JWT' });
  const client = userClient(server);
  t.after(() => disconnectAll(client));
  const err = await rejection(client.connectUser({ id: 'alice' }, token), 'connectUser with alg none', CONNECT_TIMEOUT);
  const e = wsErrorOf(err);
  assert.equal(typeof e.code, 'number', safeJson(e));
  assert.equal(e.isWSFailure, false, safeJson(e));
  assert.ok([5, 43].includes(e.code), `an authentication code (5 or 43): ${safeJson(e)}`);

  // REST: the same token as Authorization (set as the client's token without connecting) is refused
  const rest = userClient(server);
  rest.tokenManager.token = token;
  const restErr = await rejection(rest.queryUsers({ id: { $in: ['alice'] } }), 'REST with alg none');
  assert.equal(restErr.status, 401, safeJson(restErr.response?.data));
  assert.ok([5, 43].includes(restErr.code), `an authentication code (5 or 43): ${safeJson(restErr.response?.data)}`);
});

test('guest may not read a messaging channel (code 17, HTTP 403)', async (t) => {
  const server = await startServer(t);
  const alice = userClient(server);
  const guest = userClient(server);
  t.after(() => disconnectAll(alice, guest));

  await withTimeout(alice.connectUser({ id: 'alice' }, tokenFor(server, 'alice')), CONNECT_TIMEOUT, 'connectUser(alice)');
  await alice.channel('messaging', 'lounge', { members: ['alice'] }).create();

  const g = await withTimeout(guest.setGuestUser({ id: 'drifter', name: 'Drifter' }), CONNECT_TIMEOUT, 'setGuestUser');
  assert.equal(g.me.role, 'guest');
  const err = await rejection(guest.channel('messaging', 'lounge').watch(), 'guest watch of messaging:lounge');
  assertStreamError(err, 17, 403);
  assert.match(err.response.data.message, /not allowed/i, 'Stream’s "... is not allowed to ..." form');
});

test('guest may not create a messaging channel either (code 17, HTTP 403)', async (t) => {
  const server = await startServer(t);
  const guest = userClient(server);
  t.after(() => disconnectAll(guest));
  await withTimeout(guest.setGuestUser({ id: 'wanderer' }), CONNECT_TIMEOUT, 'setGuestUser');
  const err = await rejection(guest.channel('messaging', 'guestroom').watch(), 'guest creating messaging:guestroom');
  assertStreamError(err, 17, 403);
});

test('--multi-tenant: setGuestUser is refused with a Stream-shaped error carrying a code', async (t) => {
  const server = await startServer(t, { multiTenant: true });
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const err = await rejection(client.setGuestUser({ id: 'visitor', name: 'Visitor' }), 'setGuestUser under --multi-tenant');
  const body = err?.response?.data;
  assert.ok(err.status >= 400 && err.status < 500, `a 4xx status, got ${err.status}; ${safeJson(body)}`);
  assert.equal(typeof body?.code, 'number', `body.code: ${safeJson(body)}`);
  assert.equal(err.code, body.code);
  assertStreamError(err, body.code, err.status);
  assert.equal(client.userID, undefined, 'no user is set after the refusal');
  assert.equal(client.anonymous, false);

  // a regular JWT user still connects on a multi-tenant server
  const res = await withTimeout(
    client.connectUser({ id: 'alice' }, tokenFor(server, 'alice')),
    CONNECT_TIMEOUT,
    'connectUser(alice) under --multi-tenant',
  );
  assert.equal(res.me.id, 'alice');
});

test('REST with an unknown api_key is refused with code 2', async (t) => {
  const server = await startServer(t);
  const client = userClient({ ...server, apiKey: 'some-other-key' });
  t.after(() => disconnectAll(client));
  const err = await rejection(client.setGuestUser({ id: 'visitor' }), 'setGuestUser with an unknown api_key');
  assertStreamError(err, 2, 401);
});

test('watch with a connection_id that is closed: code 46 (ConnectionIDNotFoundError), HTTP 400', async (t) => {
  const server = await startServer(t);
  const alice = userClient(server);
  const old = userClient(server);
  t.after(() => disconnectAll(alice, old));
  await withTimeout(alice.connectUser({ id: 'alice' }, tokenFor(server, 'alice')), CONNECT_TIMEOUT, 'connectUser(alice)');
  await withTimeout(old.connectUser({ id: 'bob' }, tokenFor(server, 'bob')), CONNECT_TIMEOUT, 'connectUser(bob, first socket)');
  const stale = old.wsConnection?.connectionID;
  assert.equal(typeof stale, 'string', 'the first socket has a connection_id');

  // bob's first socket watches, then closes; alice's user.watching.stop says the server let go of it
  // (messaging: livestream has connect events off)
  const aliceCh = alice.channel('messaging', 'stale', { members: ['alice', 'bob'] });
  await aliceCh.watch();
  await old.channel('messaging', 'stale').watch();
  const gone = waitForEvent(aliceCh, 'user.watching.stop', { predicate: (e) => e.user?.id === 'bob' });
  await old.disconnectUser();
  await gone;

  // a second client of bob whose REST calls still carry the closed socket's id (the official
  // client's axiosRequestConfig.params override its own connection_id), as a request racing a
  // reconnect would
  const bob = userClient(server, { axiosRequestConfig: { params: { connection_id: stale } } });
  t.after(() => disconnectAll(bob));
  await withTimeout(bob.connectUser({ id: 'bob' }, tokenFor(server, 'bob')), CONNECT_TIMEOUT, 'connectUser(bob, second socket)');
  assert.notEqual(bob.wsConnection?.connectionID, stale, 'a new socket, a new id');

  const err = await rejection(bob.channel('messaging', 'stale').watch(), 'watch with a closed connection_id');
  assertStreamError(err, 46, 400);
  assert.ok(err.response.data.message.includes(stale), `the message names the id: ${err.response.data.message}`);

  // without a watch the id is not needed: the same request shape with watch:false succeeds
  const state = await bob.channel('messaging', 'stale').query({ watch: false, state: true });
  assert.equal(state.channel.cid, 'messaging:stale');
});
