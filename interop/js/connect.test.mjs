// Connecting with the official stream-chat@9.53.0 client: JWT user, token provider refreshed
// after code 40, guest, anonymous, and the health-check keep-alive.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  CONNECT_TIMEOUT,
  disconnectAll,
  mintToken,
  nowSeconds,
  rejection,
  safeJson,
  serverClient,
  startServer,
  tokenFor,
  userClient,
  waitForEvent,
  withTimeout,
  wsErrorOf,
} from './harness.mjs';

function assertOwnUserShape(me, label) {
  assert.ok(me && typeof me === 'object', `${label}: health.check has no me`);
  for (const key of ['channel_mutes', 'mutes', 'devices']) {
    assert.ok(Array.isArray(me[key]), `${label}: me.${key} must be an array, got ${JSON.stringify(me[key])}`);
  }
  for (const key of ['unread_count', 'total_unread_count', 'unread_channels']) {
    assert.equal(typeof me[key], 'number', `${label}: me.${key} must be a number, got ${JSON.stringify(me[key])}`);
  }
}

test('JWT user: connectUser resolves with a health.check carrying connection_id and a full me', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const token = tokenFor(server, 'alice');
  const res = await withTimeout(
    client.connectUser({ id: 'alice', name: 'Alice', color: 'teal' }, token),
    CONNECT_TIMEOUT,
    'connectUser(alice)',
  );

  assert.equal(res.type, 'health.check');
  assert.equal(res.cid, '*');
  assert.equal(typeof res.connection_id, 'string');
  assert.ok(res.connection_id.length > 0, 'connection_id must not be empty');
  assert.equal(typeof res.created_at, 'string');
  assert.equal(client._getConnectionID(), res.connection_id, 'the client adopted the connection_id');

  const me = res.me;
  assertOwnUserShape(me, 'alice');
  assert.equal(me.id, 'alice');
  assert.equal(me.role, 'user');
  assert.equal(me.name, 'Alice');
  assert.equal(me.color, 'teal', 'custom fields from user_details are kept (flattened)');
  assert.equal(me.online, true);
  assert.equal(me.banned, false);

  // the client applied me
  assert.equal(client.user.id, 'alice');
  assert.equal(client.user.role, 'user');
  assert.deepEqual(client.mutedChannels, []);
  assert.deepEqual(client.mutedUsers, []);
  assert.equal(client.wsConnection.isHealthy, true);

  // the user was upserted from user_details on connect: GET /users returns it (as an array)
  const { users } = await client.queryUsers({ id: { $in: ['alice'] } });
  assert.ok(Array.isArray(users), 'GET /users must return an array');
  assert.equal(users.length, 1);
  assert.equal(users[0].id, 'alice');
  assert.equal(users[0].name, 'Alice');
  assert.equal(users[0].color, 'teal');
});

test('token provider: a first token with exp in the past is refreshed after code 40 and connect succeeds', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const tokens = [];
  const provider = async () => {
    const exp = tokens.length === 0 ? nowSeconds() - 3600 : nowSeconds() + 3600;
    const token = tokenFor(server, 'bob', { exp });
    tokens.push(exp);
    return token;
  };

  const recovered = waitForEvent(client, 'connection.recovered', { timeoutMs: CONNECT_TIMEOUT });
  await withTimeout(client.connectUser({ id: 'bob', name: 'Bob' }, provider), CONNECT_TIMEOUT, 'connectUser(bob, provider)');

  // exactly two provider calls: the expired token was refused with code 40 (any other code would
  // have been final for the client), and the fresh one was accepted.
  assert.equal(tokens.length, 2, `provider calls: ${tokens.length}`);
  assert.ok(tokens[0] < nowSeconds() && tokens[1] > nowSeconds());
  await recovered;
  assert.equal(client.wsConnection.isHealthy, true);
  assert.ok(client._getConnectionID(), 'connected with a connection_id after the refresh');
  assert.equal(client.user.id, 'bob');
  assert.equal(client.user.role, 'user');
  assertOwnUserShape(client.user, 'bob (after refresh)');

  // the refreshed token also works over REST
  const { users } = await client.queryUsers({ id: { $in: ['bob'] } });
  assert.deepEqual(
    users.map((u) => u.id),
    ['bob'],
  );
});

test('token provider over REST: a request refused with 401/code 40 calls the provider and is retried', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  // first token: valid for the WS connect, expiring a few seconds later; then a long-lived one
  const issued = [];
  const provider = async () => {
    const minted = mintToken(server, 'erin', { exp: nowSeconds() + (issued.length === 0 ? 3 : 3600) });
    issued.push(minted.exp);
    return minted.token;
  };
  await withTimeout(client.connectUser({ id: 'erin' }, provider), CONNECT_TIMEOUT, 'connectUser(erin, provider)');
  assert.equal(issued.length, 1);

  // Let the first token's exp pass. This waits for the wall clock (the JWT's expiry), not for the
  // server: nothing here races with the server. Once the clock's second is past exp the token is
  // expired (no leeway on exp; SERVER_GAPS.md #1 was a one-second leeway, since fixed).
  const msUntilExpired = (issued[0] + 1) * 1000 - Date.now() + 100;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, msUntilExpired)));

  const { users } = await client.queryUsers({ id: { $in: ['erin'] } });
  assert.equal(issued.length, 2, 'the REST 401/40 made the client call the provider again');
  assert.deepEqual(
    users.map((u) => u.id),
    ['erin'],
    'the retried request succeeded with the fresh token',
  );
});

test('guest: setGuestUser gets a token from POST /guest and connects with role guest', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const res = await withTimeout(
    client.setGuestUser({ id: 'visitor', name: 'Visitor' }),
    CONNECT_TIMEOUT,
    'setGuestUser(visitor)',
  );
  assert.equal(res.type, 'health.check');
  assert.ok(res.connection_id, 'connection_id');
  assertOwnUserShape(res.me, 'guest');
  assert.equal(res.me.role, 'guest');
  assert.equal(res.me.id, client.userID, 'me.id is the id the guest token was issued for');
  assert.match(client.userID, /visitor/, 'the guest id derives from the requested id');
  assert.equal(res.me.name, 'Visitor');
  assert.equal(client.user.role, 'guest');
  assert.equal(client.anonymous, false, 'a guest is a JWT user once connected');
});

test('anonymous: connectAnonymousUser gets me exactly as the user-types page shows', async (t) => {
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const before = Date.now();
  const res = await withTimeout(client.connectAnonymousUser(), CONNECT_TIMEOUT, 'connectAnonymousUser');
  assert.equal(res.type, 'health.check');
  assert.ok(res.connection_id, 'connection_id');
  const me = res.me;
  assertOwnUserShape(me, 'anonymous');
  assert.equal(me.id, '!anon');
  assert.equal(me.role, 'anonymous');
  assert.deepEqual(me.roles, []);
  assert.equal(me.created_at, '0001-01-01T00:00:00Z');
  assert.equal(me.updated_at, '0001-01-01T00:00:00Z');
  assert.equal(me.banned, false);
  assert.equal(me.online, true);
  assert.equal(me.invisible, false);
  assert.deepEqual(me.devices, []);
  assert.deepEqual(me.mutes, []);
  assert.deepEqual(me.channel_mutes, []);
  assert.equal(me.unread_count, 0);
  assert.equal(me.total_unread_count, 0);
  assert.equal(me.unread_channels, 0);
  assert.equal(me.language, '');
  const lastActive = Date.parse(me.last_active);
  assert.ok(Number.isFinite(lastActive), `last_active is a timestamp: ${me.last_active}`);
  assert.ok(Math.abs(lastActive - before) < 60_000, `last_active is now: ${me.last_active}`);
  assert.equal(client.user.id, '!anon');
});

test('health check: the server sends unsolicited health.check (without me) at the configured interval', async (t) => {
  const server = await startServer(t, { healthCheckInterval: 1 });
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const res = await withTimeout(
    client.connectUser({ id: 'carol' }, tokenFor(server, 'carol')),
    CONNECT_TIMEOUT,
    'connectUser(carol)',
  );
  // two further health checks, so an immediate tick right after connect is not mistaken for the interval
  let count = 0;
  const ev = await waitForEvent(client, 'health.check', {
    timeoutMs: 10_000,
    predicate: () => ++count >= 2,
    label: 'two unsolicited health checks with --health-check-interval 1',
  });
  assert.equal(ev.connection_id, res.connection_id);
  assert.equal(ev.cid, '*');
  assert.equal(ev.me, undefined, 'later health.check frames must not carry me');
  assert.equal(client.user.id, 'carol', 'client.user survives later health checks');
  assert.ok(Array.isArray(client.mutedChannels));
});

test("health check: the JS client's ping [{type:'health.check',client_id}] is answered", async (t) => {
  // default server interval (30 s): a health.check within a few seconds must be the answer to the ping
  const server = await startServer(t);
  const client = userClient(server);
  t.after(() => disconnectAll(client));

  const res = await withTimeout(
    client.connectUser({ id: 'dave' }, tokenFor(server, 'dave')),
    CONNECT_TIMEOUT,
    'connectUser(dave)',
  );
  const conn = client.wsConnection;
  const ws = conn.ws;

  // record what the client puts on the wire (observation only; the client's code is unchanged)
  const sent = [];
  const realSend = ws.send.bind(ws);
  ws.send = (data, ...rest) => {
    sent.push({ data: String(data), at: Date.now() });
    return realSend(data, ...rest);
  };

  // run the client's own ping scheduler with a short interval instead of waiting 25 s
  conn.pingInterval = 100;
  let pingAt;
  const answer = waitForEvent(client, 'health.check', {
    timeoutMs: 5_000,
    predicate: () => {
      pingAt ??= sent.find((s) => s.data.includes('health.check'))?.at;
      return pingAt !== undefined;
    },
    label: 'answer to the client ping',
  });
  conn.scheduleNextPing();
  const ev = await answer;

  const ping = JSON.parse(sent.find((s) => s.data.includes('health.check')).data);
  assert.ok(Array.isArray(ping), 'the JS client pings with a JSON array');
  assert.equal(ping[0].type, 'health.check');
  assert.equal(ping[0].client_id, client.clientID);
  assert.equal(ev.connection_id, res.connection_id);
  assert.equal(ev.me, undefined, 'the answer to a ping must not carry me');
  assert.equal(conn.isHealthy, true);
  conn.pingInterval = 25_000;
});

test('dev tokens: client.devToken() connects under --disable-auth-checks and is refused (43) without it', async (t) => {
  const open = await startServer(t, { extraArgs: ['--disable-auth-checks'] });
  const relaxed = userClient(open);
  t.after(() => disconnectAll(relaxed));
  const res = await withTimeout(
    relaxed.connectUser({ id: 'alice', name: 'Alice' }, relaxed.devToken('alice')),
    CONNECT_TIMEOUT,
    'connectUser(alice, devToken) with --disable-auth-checks',
  );
  assert.equal(res.me.id, 'alice');
  const { users } = await relaxed.queryUsers({ id: { $in: ['alice'] } });
  assert.deepEqual(
    users.map((u) => u.id),
    ['alice'],
    'REST accepts the dev token too',
  );

  const strict = await startServer(t);
  const client = userClient(strict);
  t.after(() => disconnectAll(client));
  const err = await rejection(
    client.connectUser({ id: 'alice' }, client.devToken('alice')),
    'connectUser with a dev token without --disable-auth-checks',
    CONNECT_TIMEOUT,
  );
  const e = wsErrorOf(err);
  assert.equal(e.code, 43, safeJson(e));
});

test('usage: /emulator/usage counts users and guests as MAU (never anonymous) and every open socket', async (t) => {
  const server = await startServer(t);
  const alice = userClient(server);
  const guest = userClient(server);
  const anon = userClient(server);
  t.after(() => disconnectAll(alice, guest, anon));

  await withTimeout(alice.connectUser({ id: 'alice' }, tokenFor(server, 'alice')), CONNECT_TIMEOUT, 'alice');
  await withTimeout(guest.setGuestUser({ id: 'visitor' }), CONNECT_TIMEOUT, 'guest');
  await withTimeout(anon.connectAnonymousUser(), CONNECT_TIMEOUT, 'anonymous');

  // the official server-side client's generic GET, authenticated with the server token
  const usage = await serverClient(server).get(`${server.baseURL}/emulator/usage`);
  assert.equal(usage.monthly_active_users, 2, safeJson(usage));
  assert.equal(usage.concurrent_connections, 3, safeJson(usage));

  // a user token may not read it
  const err = await rejection(alice.get(`${server.baseURL}/emulator/usage`), 'usage with a user token');
  assert.ok(err.status === 401 || err.status === 403, `status ${err.status}: ${safeJson(err.response?.data)}`);
});
