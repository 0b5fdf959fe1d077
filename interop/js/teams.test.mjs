// Teams under --multi-tenant (issue 15) with the official stream-chat client: a user of team
// blue sees only blue channels and users, is refused a red channel with code 17, and no red
// event reaches its socket; a watching red client's channel.state follows red events only.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertStreamError,
  connectJwt,
  rejection,
  serverClient,
  startServer,
  waitForEvent,
  withTimeout,
} from './harness.mjs';

async function teams(t) {
  const server = await startServer(t, { multiTenant: true });
  const admin = serverClient(server);
  await admin.upsertUsers([
    { id: 'blue1', teams: ['blue'] },
    { id: 'blue2', teams: ['blue'] },
    { id: 'red1', teams: ['red'] },
  ]);
  await admin.channel('livestream', 'blue-room', { team: 'blue', created_by_id: 'blue1' }).create();
  await admin.channel('livestream', 'red-room', { team: 'red', created_by_id: 'red1' }).create();
  return server;
}

test('--multi-tenant: a blue user lists only blue channels and users, and is refused red ones (17)', async (t) => {
  const server = await teams(t);
  const blue = await connectJwt(server, t, { id: 'blue1' });

  const channels = await withTimeout(blue.queryChannels({}, {}, { watch: false }), 10_000, 'queryChannels');
  assert.deepEqual(channels.map((c) => c.cid), ['livestream:blue-room']);
  assert.equal(channels[0].data.team, 'blue');

  const { users } = await blue.queryUsers({}, { id: 1 });
  assert.deepEqual(users.map((u) => u.id), ['blue1', 'blue2']);

  const watch = await rejection(blue.channel('livestream', 'red-room').watch(), 'watching red-room');
  assertStreamError(watch, 17, 403);
  const send = await rejection(
    blue.channel('livestream', 'red-room').sendMessage({ text: 'hi red' }),
    'posting into red-room',
  );
  assertStreamError(send, 17, 403);
  const create = await rejection(
    blue.channel('livestream', 'sneaky', { team: 'red' }).create(),
    'creating a channel for team red',
  );
  assertStreamError(create, 17, 403);
  const mine = blue.channel('livestream', 'blue-2', { team: 'blue' });
  await mine.create();
  assert.equal(mine.data.team, 'blue');
});

test('--multi-tenant: no red event reaches a blue socket; a watching red client follows red events', async (t) => {
  const server = await teams(t);
  const blue = await connectJwt(server, t, { id: 'blue1' });
  const red = await connectJwt(server, t, { id: 'red1' });
  const blueRoom = blue.channel('livestream', 'blue-room');
  await blueRoom.watch();
  const redRoom = red.channel('livestream', 'red-room');
  await redRoom.watch();

  const leaked = [];
  blue.on((event) => {
    if (event.cid === 'livestream:red-room' || JSON.stringify(event).includes('red secret')) leaked.push(event);
  });
  const redHeard = waitForEvent(redRoom, 'message.new', { predicate: (e) => e.message.text === 'red secret' });
  await redRoom.sendMessage({ text: 'red secret' });
  await redHeard;
  assert.ok(
    redRoom.state.messages.some((m) => m.text === 'red secret'),
    'the watching red client state has the message',
  );
  // A blue message after it: once blue hears it, anything red would have arrived before.
  const admin = serverClient(server);
  const blueHeard = waitForEvent(blueRoom, 'message.new', { predicate: (e) => e.message.text === 'blue marker' });
  await admin.channel('livestream', 'blue-room').sendMessage({ text: 'blue marker', user_id: 'blue2' });
  await blueHeard;
  assert.deepEqual(leaked, [], 'no red event reached the blue client');
  assert.ok(!blueRoom.state.messages.some((m) => m.text === 'red secret'));
  assert.equal(blue.activeChannels['livestream:red-room'], undefined);
});
