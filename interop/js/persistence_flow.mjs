// A scripted session of the official stream-chat@9.53.0 client for the persistence test
// (server/tests/server/api/persistence.rs): not a `node --test` file, the Rust test runs it
// against a server started with --data-dir, kills that server with SIGKILL, restarts it on the
// same directory and runs the query half again.
//
//   node persistence_flow.mjs write   # users, a channel, messages, reactions, replies, a read;
//                                     # then the queries
//   node persistence_flow.mjs query   # the queries only
//
// Environment: STREAM_BASE_URL, STREAM_API_KEY, STREAM_API_SECRET. The query results are
// printed as one line `SUMMARY <json>`: the fields that must survive a restart (ids, order,
// counts, reaction counts, reads), never live ones (online, last_active, watchers).

import { StreamChat } from 'stream-chat';

const CHANNEL = 'js-persist';
const USERS = ['alice', 'bob', 'carol'];

const baseURL = process.env.STREAM_BASE_URL;
const apiKey = process.env.STREAM_API_KEY;
const apiSecret = process.env.STREAM_API_SECRET;
const mode = process.argv[2];

const admin = new StreamChat(apiKey, apiSecret, { baseURL });

async function connect(id) {
  const client = new StreamChat(apiKey, { baseURL, allowServerSideConnect: true });
  await client.connectUser({ id }, admin.createToken(id));
  return client;
}

async function channelOf(client) {
  const channel = client.channel('messaging', CHANNEL);
  await channel.watch();
  return channel;
}

async function write(clients) {
  const [alice, bob, carol] = await Promise.all(clients.map(channelOf));
  const sent = {};
  const post = async (channel, text, extra = {}) => {
    sent[text] = (await channel.sendMessage({ text, ...extra })).message;
  };
  await post(alice, 'm0');
  await post(bob, 'm1');
  await post(carol, 'm2');
  await post(alice, 'm3');
  await bob.sendReaction(sent.m0.id, { type: 'like' });
  await carol.sendReaction(sent.m0.id, { type: 'like' });
  await carol.sendReaction(sent.m1.id, { type: 'love' });
  await alice.sendReaction(sent.m1.id, { type: 'haha', score: 3 });
  await post(bob, 'r1', { parent_id: sent.m0.id });
  await post(carol, 'r2', { parent_id: sent.m0.id, show_in_channel: true });
  await bob.markRead();
  await post(alice, 'after read');
}

const userOf = (x) => x?.user?.id ?? x?.user_id ?? null;

async function queries(clients) {
  const [alice, bob, carol] = clients;
  const channel = alice.channel('messaging', CHANNEL);
  const state = await channel.query({ state: true, messages: { limit: 100 } });
  const byText = Object.fromEntries(state.messages.map((m) => [m.text, m]));
  const parent = byText.m0.id;
  const replies = await channel.getReplies(parent, { limit: 10 });
  const reactions = await channel.getReactions(byText.m1.id, { limit: 10 });
  const unread = {};
  for (const [id, client] of [['alice', alice], ['bob', bob], ['carol', carol]]) {
    const counts = await client.getUnreadCount();
    unread[id] = {
      total_unread_count: counts.total_unread_count,
      channels: counts.channels.map((c) => [c.channel_id, c.unread_count]),
    };
  }
  const listed = await bob.queryChannels({ members: { $in: ['bob'] } }, {}, { state: true });
  return {
    channel: {
      cid: state.channel.cid,
      created_by: userOf({ user: state.channel.created_by }),
      created_at: state.channel.created_at,
      member_count: state.channel.member_count,
      last_message_at: state.channel.last_message_at,
    },
    members: state.members.map((m) => [m.user_id, m.role ?? null, m.created_at]),
    messages: state.messages.map((m) => ({
      id: m.id,
      text: m.text,
      user: userOf(m),
      type: m.type,
      created_at: m.created_at,
      parent_id: m.parent_id ?? null,
      show_in_channel: m.show_in_channel ?? null,
      reply_count: m.reply_count ?? 0,
      reaction_counts: m.reaction_counts ?? {},
      reaction_scores: m.reaction_scores ?? {},
      latest_reactions: (m.latest_reactions ?? []).map((r) => [r.type, userOf(r)]),
    })),
    read: state.read
      .map((r) => ({
        user: r.user.id,
        last_read: r.last_read,
        last_read_message_id: r.last_read_message_id ?? null,
        unread_messages: r.unread_messages,
      }))
      .sort((a, b) => a.user.localeCompare(b.user)),
    replies: replies.messages.map((m) => [m.id, m.text, userOf(m)]),
    reactions: reactions.reactions.map((r) => [r.type, userOf(r), r.score ?? null]),
    unread,
    bob_channels: listed.map((c) => [c.cid, c.state.messages.length, c.countUnread()]),
  };
}

async function main() {
  if (!['write', 'query'].includes(mode)) throw new Error(`mode must be write or query, not ${mode}`);
  if (mode === 'write') {
    await admin.upsertUsers(USERS.map((id) => ({ id })));
    await admin.channel('messaging', CHANNEL, { members: USERS, created_by_id: 'alice' }).create();
  }
  const clients = [];
  for (const id of USERS) clients.push(await connect(id));
  if (mode === 'write') await write(clients);
  const summary = await queries(clients);
  console.log(`SUMMARY ${JSON.stringify(summary)}`);
  await Promise.all(clients.map((c) => c.disconnectUser()));
}

main().then(
  // stream-chat leaves a connect timer armed: exit explicitly.
  () => process.exit(0),
  (e) => {
    console.error(e?.stack ?? String(e));
    if (e?.response?.data) console.error(JSON.stringify(e.response.data));
    process.exit(1);
  },
);
