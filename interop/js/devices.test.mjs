// Push devices with the official stream-chat@9.53.0 client: addDevice / getDevices / removeDevice
// client-side (own devices only, `me.devices` on the next connect) and server-side (any user),
// and a missing or unknown push provider as Stream's input error (code 4, HTTP 400).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertStreamError,
  connectJwt,
  rejection,
  safeJson,
  serverClient,
  startServer,
  userClient,
  tokenFor,
  withTimeout,
  CONNECT_TIMEOUT,
  disconnectAll,
} from './harness.mjs';

test('addDevice / getDevices / removeDevice as a user; me.devices on the next connect', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  assert.deepEqual((await alice.getDevices()).devices, []);
  await alice.addDevice('fcm-alice', 'firebase');
  await alice.addDevice('apn-alice', 'apn', undefined, 'prod');
  const { devices } = await alice.getDevices();
  assert.deepEqual(
    devices.map((d) => [d.id, d.push_provider, d.push_provider_name, d.user_id]),
    [
      ['fcm-alice', 'firebase', undefined, 'alice'],
      ['apn-alice', 'apn', 'prod', 'alice'],
    ],
    safeJson(devices),
  );
  assert.ok(!Number.isNaN(new Date(devices[0].created_at).getTime()), safeJson(devices[0]));

  await alice.removeDevice('fcm-alice');
  assert.deepEqual((await alice.getDevices()).devices.map((d) => d.id), ['apn-alice']);

  await disconnectAll(alice);
  const again = userClient(server);
  t.after(() => disconnectAll(again));
  const me = await withTimeout(
    again.connectUser({ id: 'alice' }, tokenFor(server, 'alice')),
    CONNECT_TIMEOUT,
    'connectUser(alice) again',
  );
  assert.deepEqual(me.me.devices.map((d) => d.id), ['apn-alice'], safeJson(me.me));
  assert.deepEqual(again.user.devices.map((d) => d.id), ['apn-alice'], 'client.user keeps devices');
});

test('another user’s device cannot be removed client-side; the server side manages any user’s', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  const bob = await connectJwt(server, t, { id: 'bob' });
  await bob.addDevice('huawei-bob', 'huawei');
  const err = await rejection(alice.removeDevice('huawei-bob'), 'alice removes bob’s device');
  assertStreamError(err, 17, 403);
  assert.deepEqual((await bob.getDevices()).devices.map((d) => d.id), ['huawei-bob']);

  const admin = serverClient(server);
  await admin.addDevice('xiaomi-bob', 'xiaomi', 'bob');
  assert.deepEqual(
    (await admin.getDevices('bob')).devices.map((d) => [d.id, d.push_provider]),
    [
      ['huawei-bob', 'huawei'],
      ['xiaomi-bob', 'xiaomi'],
    ],
  );
  await admin.removeDevice('huawei-bob', 'bob');
  assert.deepEqual((await bob.getDevices()).devices.map((d) => d.id), ['xiaomi-bob']);
  // Server-side calls must name the user.
  assertStreamError(await rejection(admin.addDevice('x', 'apn'), 'addDevice without a user'), 4, 400);
});

test('a missing or unknown push provider is code 4 with a clear message', async (t) => {
  const server = await startServer(t);
  const alice = await connectJwt(server, t, { id: 'alice' });
  let err = await rejection(alice.addDevice('d1', 'carrier-pigeon'), 'addDevice with an unknown provider');
  assertStreamError(err, 4, 400);
  assert.match(err.response.data.message, /push_provider 'carrier-pigeon' is not one of firebase, apn, huawei, xiaomi/);
  err = await rejection(alice.addDevice('d1'), 'addDevice without a provider');
  assertStreamError(err, 4, 400);
  assert.match(err.response.data.message, /push_provider is a required field/);
  err = await rejection(alice.addDevice('', 'firebase'), 'addDevice without an id');
  assertStreamError(err, 4, 400);
  assert.deepEqual((await alice.getDevices()).devices, []);
});
