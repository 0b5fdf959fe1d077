// Message and watcher pagination through the official stream-chat@9.53.0 client: channel.query
// with id_lt / id_lte / id_gt / id_gte / offset over client-generated ids that are NOT in
// lexicographic order, created_at_* with the server's own timestamps (string) and with a Date,
// the client's jump-to-message (state.loadMessageIntoState → id_around) and load-older flow,
// queryChannels with message_limit, and watchers {limit, offset}.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { connectJwt, safeJson, startServer } from './harness.mjs';

const COUNT = 12;

/**
 * COUNT client-generated UUIDs in an order that is neither ascending nor descending, so a server
 * that compares ids instead of looking up positions returns the wrong page.
 */
function scrambledIds() {
  const sorted = Array.from({ length: COUNT }, () => randomUUID()).sort();
  const order = [5, 11, 0, 7, 2, 9, 4, 1, 10, 3, 8, 6];
  const ids = order.map((i) => sorted[i]);
  assert.notDeepEqual(ids, [...ids].sort(), 'test bug: ids must not be ascending');
  assert.notDeepEqual(ids, [...ids].sort().reverse(), 'test bug: ids must not be descending');
  return ids;
}

/** alice posts m0..m11 (ids from scrambledIds) into messaging:<id>, members alice and bob. */
async function channelWithMessages(server, t, id) {
  const alice = await connectJwt(server, t, { id: 'alice' });
  const ch = alice.channel('messaging', id, { members: ['alice', 'bob'] });
  await ch.create();
  const ids = scrambledIds();
  const sent = [];
  for (let i = 0; i < COUNT; i++) {
    const res = await ch.sendMessage({ id: ids[i], text: `m${i}` });
    assert.equal(res.message.id, ids[i], 'the client-generated id is kept');
    sent.push(res.message);
  }
  return { alice, ch, ids, sent };
}

const texts = (messages) => messages.map((m) => m.text);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, k) => `m${from + k}`);

test('channel.query messages: id_lt / id_lte / id_gt / id_gte / offset with out-of-order client-generated UUIDs', async (t) => {
  const server = await startServer(t);
  const { ch, ids } = await channelWithMessages(server, t, 'by-id');
  const page = async (messages) => {
    const res = await ch.query({ messages });
    return texts(res.messages);
  };

  assert.deepEqual(await page({ limit: 5 }), range(7, 11), 'the newest page');
  assert.deepEqual(await page({ limit: 5, id_lt: ids[8] }), range(3, 7), 'id_lt m8');
  assert.deepEqual(await page({ limit: 5, id_lt: ids[3] }), range(0, 2), 'id_lt m3: a short last page');
  assert.deepEqual(await page({ limit: 5, id_lt: ids[0] }), [], 'id_lt the oldest');
  assert.deepEqual(await page({ limit: 5, id_lte: ids[8] }), range(4, 8), 'id_lte m8');
  assert.deepEqual(await page({ limit: 5, id_gt: ids[2] }), range(3, 7), 'id_gt m2');
  assert.deepEqual(await page({ limit: 5, id_gte: ids[9] }), range(9, 11), 'id_gte m9: a short page');
  assert.deepEqual(await page({ limit: 5, id_gt: ids[11] }), [], 'id_gt the newest');
  assert.deepEqual(await page({ limit: 10, id_gt: ids[2], id_lt: ids[6] }), range(3, 5), 'id_gt m2 and id_lt m6');
  assert.deepEqual(await page({ limit: 5, offset: 2 }), range(5, 9), 'offset 2 from the newest');

});

test('channel.query messages: created_at_before / _or_equal / after / _or_equal, as strings and as a Date', async (t) => {
  const server = await startServer(t);
  const { ch, sent } = await channelWithMessages(server, t, 'by-time');
  const page = async (messages) => texts((await ch.query({ messages })).messages);
  for (let i = 1; i < COUNT; i++) {
    assert.ok(sent[i - 1].created_at < sent[i].created_at, `created_at strictly increases: ${safeJson(sent.map((m) => m.created_at))}`);
  }

  // the server's own timestamps, passed back as the strings it sent
  assert.deepEqual(await page({ limit: 5, created_at_before: sent[8].created_at }), range(3, 7), 'created_at_before m8');
  assert.deepEqual(await page({ limit: 5, created_at_before_or_equal: sent[8].created_at }), range(4, 8), 'created_at_before_or_equal m8');
  assert.deepEqual(await page({ limit: 3, created_at_after: sent[2].created_at }), range(3, 5), 'created_at_after m2');
  assert.deepEqual(await page({ limit: 3, created_at_after_or_equal: sent[2].created_at }), range(2, 4), 'created_at_after_or_equal m2');
  assert.deepEqual(
    await page({ limit: 10, created_at_after: sent[2].created_at, created_at_before: sent[6].created_at }),
    range(3, 5),
    'created_at_after m2 and created_at_before m6',
  );

  // a Date (the client's types allow string | Date): axios serialises it with millisecond
  // precision, so the expected page is computed from the server's nanosecond timestamps
  const boundary = new Date(sent[8].created_at);
  const iso = boundary.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const asNanos = iso.replace(/Z$/, '000000Z'); // same fixed-width form as the server's times
  const expected = texts(sent.filter((m) => m.created_at < asNanos)).slice(-5);
  assert.ok(expected.length > 0, `test bug: nothing before ${iso}`);
  assert.deepEqual(await page({ limit: 5, created_at_before: boundary }), expected, `created_at_before Date ${iso}`);

  // not a time → code 4 from the server, surfaced by the client as an error
  await assert.rejects(ch.query({ messages: { created_at_before: 'yesterday' } }), (e) => e.code === 4 && e.status === 400);
});

test('jump to a message and load older (state.loadMessageIntoState → id_around, then id_lt), as a UI does', async (t) => {
  const server = await startServer(t);
  const { ids } = await channelWithMessages(server, t, 'jump');

  const bob = await connectJwt(server, t, { id: 'bob' });
  const ch = bob.channel('messaging', 'jump');
  await ch.watch({ messages: { limit: 3 } });
  assert.deepEqual(texts(ch.state.messages), range(9, 11), 'the latest page');

  // jump to m4: a new message set with m4 in the middle of a 5-message window
  await ch.state.loadMessageIntoState(ids[4], undefined, 5);
  assert.deepEqual(texts(ch.state.messages), range(2, 6), 'the window around m4');
  assert.equal(ch.state.messageSets.length, 2, 'the latest set and the jumped-to set');
  assert.equal(ch.state.messagePagination.hasPrev, true, 'older messages exist (target in the middle)');
  assert.equal(ch.state.messagePagination.hasNext, true, 'newer messages exist');

  // load older into the current set, as the UI's loadMore does
  const older = await ch.query({ messages: { limit: 5, id_lt: ch.state.messages[0].id } }, 'current');
  assert.deepEqual(texts(older.messages), range(0, 1));
  assert.deepEqual(texts(ch.state.messages), range(0, 6), 'the set grew by the older page');
  assert.equal(ch.state.messagePagination.hasPrev, false, 'a short page → no more older messages');

  // load newer into the current set (a page that does not reach the latest set's messages)
  const newer = await ch.query({ messages: { limit: 2, id_gt: ch.state.messages.at(-1).id } }, 'current');
  assert.deepEqual(texts(newer.messages), range(7, 8));
  assert.deepEqual(texts(ch.state.messages), range(0, 8), 'the set grew by the newer page');
  assert.equal(ch.state.messagePagination.hasNext, true, 'a full page → newer messages exist');

  // back to the latest messages
  await ch.state.loadMessageIntoState('latest');
  assert.deepEqual(texts(ch.state.messages), range(9, 11), 'the latest set again');
});

test('queryChannels with message_limit: each channel state holds its newest messages', async (t) => {
  const server = await startServer(t);
  const { alice } = await channelWithMessages(server, t, 'long');
  const short = alice.channel('messaging', 'short', { members: ['alice', 'bob'] });
  await short.create();
  await short.sendMessage({ text: 's0' });

  // a fresh client: no channel state from earlier calls to merge with
  const bob = await connectJwt(server, t, { id: 'bob' });
  const channels = await bob.queryChannels({ members: { $in: ['bob'] } }, [{ last_message_at: -1 }], {
    message_limit: 3,
    watch: false,
  });
  assert.deepEqual(
    channels.map((c) => c.cid),
    ['messaging:short', 'messaging:long'],
  );
  const byCid = Object.fromEntries(channels.map((c) => [c.cid, c]));
  assert.deepEqual(texts(byCid['messaging:long'].state.messages), range(9, 11));
  assert.deepEqual(texts(byCid['messaging:short'].state.messages), ['s0']);

  // the raw responses (bob's client already holds these channels, so hydrating would merge)
  const one = await bob.queryChannelsRequest({ cid: 'messaging:long' }, {}, { message_limit: 1, watch: false });
  assert.deepEqual(texts(one[0].messages), ['m11'], 'message_limit 1');
  const none = await bob.queryChannelsRequest({ cid: 'messaging:long' }, {}, { message_limit: 0, watch: false });
  assert.deepEqual(none[0].messages, [], 'message_limit 0');
  const dflt = await bob.queryChannelsRequest({ cid: 'messaging:long' }, {}, { watch: false });
  assert.deepEqual(texts(dflt[0].messages), range(0, 11), 'without message_limit: all 12 (default 25)');
});

test('channel.query watchers {limit, offset}: pages of the users watching', async (t) => {
  const server = await startServer(t);
  const names = ['ann', 'ben', 'cat', 'dan', 'eve'];
  const clients = [];
  for (const id of names) clients.push(await connectJwt(server, t, { id }));
  for (const c of clients) await c.channel('livestream', 'crowd').watch();

  const viewer = clients[0].channel('livestream', 'crowd');
  const ids = async (watchers) => {
    const res = await viewer.query({ watchers, messages: { limit: 0 } });
    assert.equal(res.watcher_count, names.length, `watcher_count: ${res.watcher_count}`);
    return res.watchers.map((w) => w.id);
  };
  const all = await ids({ limit: 10 });
  assert.deepEqual([...all].sort(), names, 'every watching user, once');
  const first = await ids({ limit: 2 });
  const second = await ids({ limit: 2, offset: 2 });
  const third = await ids({ limit: 2, offset: 4 });
  assert.deepEqual([...first, ...second, ...third], all, 'pages of 2 are consecutive slices of the full list');
  assert.equal(third.length, 1);
  assert.deepEqual(await ids({ limit: 2, offset: 5 }), [], 'past the end');
});
