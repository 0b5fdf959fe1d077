// The JS side of benches/peer: the official `stream-chat` client (9.53.0, unmodified) runs the
// same steps as benches/peer/rust_side.rs against the server the bench started, and prints one
// `RESULT {json}` line on stdout. Started by the bench (`cargo bench --bench peer`), with:
//
//   node --expose-gc peer.mjs latency <connects> <round_trips> <prefix>
//   node --expose-gc peer.mjs fleet <k> <messages> <prefix>
//
// and PEER_BASE_URL, PEER_API_KEY, PEER_API_SECRET, PEER_NODE_MODULES (the folder whose
// node_modules holds stream-chat) in the environment. Every wait has a deadline.

import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const require = createRequire(join(process.env.PEER_NODE_MODULES, 'peer-bench.cjs'));
const { StreamChat } = require('stream-chat');

// The same constants as benches/peer/common.rs.
const PHASE_BUDGET_MS = 180_000;
const WINDOW = 50;
const WARMUP = 20;
const TEXT = 'Good news, everyone! This message measures how fast the chat goes.';

const baseURL = process.env.PEER_BASE_URL;
const apiKey = process.env.PEER_API_KEY;
const minter = new StreamChat(apiKey, process.env.PEER_API_SECRET, { baseURL });

const log = (line) => process.stderr.write(`  js: ${line}\n`);

function client() {
  // independent instances (no getInstance), client-side: no secret
  return new StreamChat(apiKey, { baseURL, allowServerSideConnect: true, timeout: 60_000 });
}

// stream-chat decodes the token payload with the standard base64 alphabet, so a payload with
// '-' or '_' breaks its own check: the bench uses the next id whose token has neither.
let serial = 0;
function nextUser(prefix) {
  for (;;) {
    const id = `${prefix}${serial++}`;
    const token = minter.createToken(id);
    if (!/[-_]/.test(token.split('.')[1])) return { id, token };
  }
}

function withTimeout(promise, what, ms = PHASE_BUDGET_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function procStatus() {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name) => Number((status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm')) ?? [])[1] ?? 0);
  return { rss: field('VmRSS'), threads: field('Threads') };
}

async function connected(user) {
  const c = client();
  await withTimeout(c.connectUser({ id: user.id }, user.token), `connect ${user.id}`);
  return c;
}

/** A promise per awaited message id, resolved with the time its listener ran. */
class Arrivals {
  constructor() {
    this.waiting = new Map();
  }
  expect(id) {
    let resolve;
    const promise = new Promise((r) => (resolve = r));
    this.waiting.set(id, resolve);
    return withTimeout(promise, `message.new for ${id}`);
  }
  on(event) {
    const at = performance.now();
    const resolve = this.waiting.get(event.message?.id);
    if (resolve) {
      this.waiting.delete(event.message.id);
      resolve(at);
    }
  }
}

async function latency(connects, roundTrips, prefix) {
  const connectMs = [];
  const wall = performance.now();
  for (let i = 0; i < connects; i++) {
    const user = nextUser(`${prefix}c`);
    const c = client();
    const started = performance.now();
    await withTimeout(c.connectUser({ id: user.id }, user.token), `connect ${user.id}`);
    connectMs.push(performance.now() - started);
    await withTimeout(c.disconnectUser(), `disconnect ${user.id}`);
  }
  const connectTotalMs = performance.now() - wall;
  log(`${connects} connects in ${connectTotalMs.toFixed(0)} ms`);

  const sender = await connected(nextUser(`${prefix}a`));
  const receiver = await connected(nextUser(`${prefix}b`));
  const from = sender.channel('livestream', `${prefix}rtt`);
  const to = receiver.channel('livestream', `${prefix}rtt`);
  await withTimeout(from.watch(), 'watch (sender)');
  await withTimeout(to.watch(), 'watch (receiver)');
  const own = new Arrivals();
  const peer = new Arrivals();
  from.on('message.new', (e) => own.on(e));
  to.on('message.new', (e) => peer.on(e));

  const rttMs = [];
  const httpMs = [];
  let peerFirst = 0;
  let ownFirst = 0;
  for (let i = 0; i < WARMUP + roundTrips; i++) {
    const id = `${prefix}m${i}`;
    const ownAt = own.expect(id);
    const peerAt = peer.expect(id);
    const started = performance.now();
    await withTimeout(from.sendMessage({ id, text: TEXT }), `send ${id}`);
    const answered = performance.now();
    const [o, p] = await Promise.all([ownAt, peerAt]);
    if (i >= WARMUP) {
      rttMs.push(p - started);
      httpMs.push(answered - started);
      if (p < answered) peerFirst++;
      if (o < answered) ownFirst++;
    }
  }
  return {
    connect_ms: connectMs,
    connect_total_ms: connectTotalMs,
    rtt_ms: rttMs,
    http_ms: httpMs,
    peer_event_first: peerFirst,
    own_event_first: ownFirst,
  };
}

async function windowed(total, what, start) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      await start(i);
    }
  };
  const workers = Array.from({ length: Math.min(WINDOW, total) }, worker);
  await withTimeout(Promise.all(workers), what);
}

async function fleet(k, messages, prefix) {
  const channelId = `${prefix}fleet`;
  const poster = await connected(nextUser(`${prefix}poster`));
  const stage = poster.channel('livestream', channelId);
  await withTimeout(stage.watch(), 'watch (poster)');
  const received = new Array(messages + 1).fill(0);
  const at = [];
  const complete = new Map();
  let watchingFrames = 0;
  const idPrefix = `${prefix}f`;
  const onMessage = (e) => {
    const now = performance.now();
    const id = e.message?.id ?? '';
    if (!id.startsWith(idPrefix)) return;
    const n = Number(id.slice(idPrefix.length));
    if (!(n >= 0 && n <= messages)) return;
    at.push([n, now]);
    if (++received[n] === k) complete.get(n)?.(now);
  };
  const users = Array.from({ length: k }, () => nextUser(`${prefix}w`));
  globalThis.gc?.();
  const base = procStatus();

  const started = performance.now();
  const clients = users.map(() => client());
  await windowed(k, 'connect', (i) => clients[i].connectUser({ id: users[i].id }, users[i].token));
  const connectAllMs = performance.now() - started;
  log(`${k} connected in ${connectAllMs.toFixed(0)} ms`);

  const channels = clients.map((c) => {
    const channel = c.channel('livestream', channelId);
    channel.on('message.new', onMessage);
    channel.on('user.watching.start', () => watchingFrames++);
    return channel;
  });
  const watchStarted = performance.now();
  await windowed(k, 'watch', (i) => channels[i].watch());
  const watchResponsesMs = performance.now() - watchStarted;
  const post = async (n) => {
    const done = withTimeout(
      new Promise((resolve) => complete.set(n, resolve)),
      `message ${n} to all ${k}`,
    );
    const posted = performance.now();
    await withTimeout(stage.sendMessage({ id: `${prefix}f${n}`, text: TEXT }), `post ${n}`);
    return { posted, all: await done };
  };
  await post(0);
  const watchAllMs = performance.now() - watchStarted;
  globalThis.gc?.();
  const watched = procStatus();
  // PEER_DUMP_SMAPS=<folder>: this process's memory map at the moment its RSS is measured
  const dumps = process.env.PEER_DUMP_SMAPS;
  if (dumps) writeFileSync(join(dumps, `${prefix}.smaps`), readFileSync('/proc/self/smaps'));
  process.stdout.write('MARK watched\n');
  log(`${k} watching after ${watchAllMs.toFixed(0)} ms`);

  const postedAt = new Array(messages + 1).fill(0);
  const toAllMs = [];
  for (let n = 1; n <= messages; n++) {
    const { posted, all } = await post(n);
    postedAt[n] = posted;
    toAllMs.push(all - posted);
  }
  return {
    k,
    connect_all_ms: connectAllMs,
    watch_responses_ms: watchResponsesMs,
    watch_all_ms: watchAllMs,
    rss_base_kib: base.rss,
    rss_watched_kib: watched.rss,
    threads_base: base.threads,
    threads_watched: watched.threads,
    watching_frames: watchingFrames,
    fanout_ms: at.filter(([n]) => n > 0).map(([n, t]) => t - postedAt[n]),
    to_all_ms: toAllMs,
  };
}

const [workload, a, b, prefix] = process.argv.slice(2);
try {
  const result =
    workload === 'latency'
      ? await latency(Number(a), Number(b), prefix)
      : workload === 'fleet'
        ? await fleet(Number(a), Number(b), prefix)
        : (() => {
            throw new Error(`unknown workload ${workload}`);
          })();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
} catch (e) {
  process.stderr.write(`js worker failed: ${e?.stack ?? e}\n`);
  process.exit(1);
}
