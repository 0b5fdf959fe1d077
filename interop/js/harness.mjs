// Shared helpers for the JS interop tests: start the real `stream-chat-server` binary on a free
// port, hand its base URL to the official `stream-chat` client, and stop it after the test.
//
// The binary comes from STREAM_CHAT_SERVER_BIN (set by server/tests/server/interop.rs, or by hand:
// see interop/README.md). A missing variable or a server that does not print its URL is a test
// failure, never a skip.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';

import { StreamChat } from 'stream-chat';

export { StreamChat };

export const API_KEY = 'interop-key';
export const API_SECRET = 'interop-secret-0123456789-abcdefghijkl';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export function serverBinary() {
  const bin = process.env.STREAM_CHAT_SERVER_BIN;
  if (!bin) {
    throw new Error(
      'STREAM_CHAT_SERVER_BIN is not set: point it at the stream-chat-server binary ' +
        '(cargo build -p stream-chat-server; then STREAM_CHAT_SERVER_BIN=target/debug/stream-chat-server), ' +
        'or run the suite through `cargo test -p stream-chat-server --test server interop::`',
    );
  }
  if (!existsSync(bin)) {
    throw new Error(`STREAM_CHAT_SERVER_BIN=${bin} does not exist`);
  }
  return bin;
}

/**
 * Start a fresh server. Options: { multiTenant, healthCheckInterval, apiKey, apiSecret, extraArgs,
 * defaults }. With `defaults: true` no key or secret is passed: the server runs with its built-in
 * development defaults, as `cargo run -p stream-chat-server` does (apiKey is read from its first
 * line; apiSecret is then undefined).
 * Returns { baseURL, apiKey, apiSecret, stop(), output() }.
 * When `t` (a node:test context) is given, the server is stopped after that test.
 */
export async function startServer(t, opts = {}) {
  let apiKey = opts.defaults ? undefined : (opts.apiKey ?? API_KEY);
  const apiSecret = opts.defaults ? undefined : (opts.apiSecret ?? API_SECRET);
  // --exit-on-stdin-close: the server ends with this process even if the runner is killed.
  const args = ['--addr', '127.0.0.1:0', '--exit-on-stdin-close'];
  if (!opts.defaults) args.push('--api-key', apiKey, '--api-secret', apiSecret);
  if (opts.multiTenant) args.push('--multi-tenant');
  if (opts.healthCheckInterval !== undefined) {
    args.push('--health-check-interval', String(opts.healthCheckInterval));
  }
  if (opts.extraArgs) args.push(...opts.extraArgs);

  const bin = serverBinary();
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const log = [];
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  child.on('error', (e) => log.push(`spawn error: ${e.message}`));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => log.push(d));

  const stdout = createInterface({ input: child.stdout });
  let firstLine;
  try {
    firstLine = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not print its URL within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      stdout.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`server exited before printing its URL (code ${code}, signal ${signal})`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${e.message}\n  command: ${bin} ${args.join(' ')}\n  stderr:\n${log.join('')}`);
  }
  // keep draining stdout so the server never blocks on a full pipe
  stdout.on('line', (line) => log.push(line + '\n'));

  const m = /https?:\/\/[^\s"']+/.exec(firstLine);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`first stdout line has no http://HOST:PORT: ${JSON.stringify(firstLine)}`);
  }
  const baseURL = m[0].replace(/\/+$/, '');
  if (apiKey === undefined) {
    const key = /\(api_key ([^)\s]+)\)/.exec(firstLine);
    if (!key) {
      child.kill('SIGKILL');
      throw new Error(`first stdout line has no (api_key KEY): ${JSON.stringify(firstLine)}`);
    }
    apiKey = key[1];
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  };
  const server = { baseURL, apiKey, apiSecret, stop, output: () => log.join(''), child, exited };
  if (t) {
    t.after(async () => {
      await stop();
    });
  }
  return server;
}

/** A client-side official client (no secret), independent of every other (no getInstance). */
export function userClient(server, extra = {}) {
  return new StreamChat(server.apiKey, {
    baseURL: server.baseURL,
    allowServerSideConnect: true,
    ...extra,
  });
}

/** A server-side official client (with the secret): server token auth, createToken. */
export function serverClient(server, secret = server.apiSecret) {
  return new StreamChat(server.apiKey, secret, { baseURL: server.baseURL });
}

/**
 * A user token minted by the official client's createToken. The JS client decodes the payload
 * segment with the *standard* base64 alphabet, so a payload containing '-' or '_' would break its
 * own client-side check (reference §5.4); we pick ids/exp values that avoid it and assert so.
 */
export function tokenFor(server, userId, { exp, secret } = {}) {
  return mintToken(server, userId, { exp, secret }).token;
}

/** Like tokenFor, but also returns the exp actually used: { token, exp }. */
export function mintToken(server, userId, { exp, secret } = {}) {
  const minter = serverClient(server, secret ?? server.apiSecret);
  if (exp === undefined) {
    const token = minter.createToken(userId);
    assertStdBase64Payload(token, userId);
    return { token, exp: undefined };
  }
  // walk exp a few seconds (away from now) until the payload avoids '-'/'_'
  const step = exp < nowSeconds() ? -1 : 1;
  for (let d = 0; d < 64; d++) {
    const token = minter.createToken(userId, exp + step * d);
    if (!/[-_]/.test(token.split('.')[1])) return { token, exp: exp + step * d };
  }
  throw new Error(`could not mint a token for ${userId} without '-'/'_' in its payload`);
}

function assertStdBase64Payload(token, userId) {
  if (/[-_]/.test(token.split('.')[1])) {
    throw new Error(`test bug: pick another user id than ${userId}; its token payload has '-'/'_'`);
  }
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Resolve with the first event of `type` on `emitter` (a client or a channel) that satisfies
 * `predicate`; reject after `timeoutMs` with a message naming the event.
 */
export function waitForEvent(emitter, type, { timeoutMs = 10_000, predicate = () => true, label = '' } = {}) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for ${type}${label ? ` (${label})` : ''}; ` +
            `events seen: ${JSON.stringify(seen)}`,
        ),
      );
    }, timeoutMs);
    const sub = emitter.on((event) => {
      seen.push(event.type);
      if (event.type !== type) return;
      let ok = false;
      try {
        ok = predicate(event);
      } catch (e) {
        clearTimeout(timer);
        sub.unsubscribe();
        reject(e);
        return;
      }
      if (ok) {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(event);
      }
    });
  });
}

/** Await `promise`, failing with `what` after `timeoutMs`. */
export async function withTimeout(promise, timeoutMs, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Expect `promise` to reject; return the error. */
export async function rejection(promise, what, timeoutMs = 20_000) {
  let value;
  try {
    value = await withTimeout(promise, timeoutMs, what);
  } catch (e) {
    return e;
  }
  throw new Error(`expected ${what} to fail, but it succeeded with ${safeJson(value)}`);
}

/**
 * connectUser rejects with an Error whose message is a JSON object {code, StatusCode, message,
 * isWSFailure} when the server's first WS frame is an error (JS src/connection.ts connect()).
 */
export function wsErrorOf(err) {
  try {
    return JSON.parse(err.message);
  } catch {
    throw new Error(`connect error is not the JSON form the client builds from a WS error frame: ${err.stack ?? err}`);
  }
}

export function safeJson(v) {
  try {
    return JSON.stringify(v)?.slice(0, 2000);
  } catch {
    return String(v);
  }
}

/** Disconnect every given client, ignoring the ones that never connected. */
export async function disconnectAll(...clients) {
  await Promise.all(
    clients.map(async (c) => {
      if (!c) return;
      try {
        await withTimeout(c.disconnectUser(), 5_000, 'disconnectUser');
      } catch {
        /* already closed */
      }
    }),
  );
}

/**
 * A REST error from the official client (ErrorFromResponse: .code, .status, .response) whose body
 * is Stream-shaped: {code, message, StatusCode, duration, more_info, details: []}.
 */
export function assertStreamError(err, code, status) {
  const body = err?.response?.data;
  const ctx = `error: ${err?.message}; body: ${safeJson(body)}`;
  assert.equal(err.status, status, `HTTP status (${ctx})`);
  assert.equal(err.code, code, `error code (${ctx})`);
  assert.ok(body && typeof body === 'object', `JSON error body (${ctx})`);
  assert.equal(body.code, code, `body.code (${ctx})`);
  assert.equal(body.StatusCode, status, `body.StatusCode (${ctx})`);
  assert.equal(typeof body.message, 'string', `body.message (${ctx})`);
  assert.ok(body.message.length > 0, `body.message is empty (${ctx})`);
  assert.equal(typeof body.duration, 'string', `body.duration (${ctx})`);
  assert.equal(typeof body.more_info, 'string', `body.more_info (${ctx})`);
  assert.ok(Array.isArray(body.details), `body.details must be an array (${ctx})`);
  assert.equal(err.message, `StreamChat error code ${code}: ${body.message}`);
}

/**
 * Sign an arbitrary JWT with node:crypto (for claims the official createToken cannot produce,
 * e.g. nbf, or a foreign alg). The payload must keep the std-base64 property (no '-'/'_').
 */
export function signJwt(payload, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const input = `${b64url(header)}.${b64url(payload)}`;
  const sig =
    header.alg === 'HS256' ? createHmac('sha256', secret).update(input).digest('base64url') : '';
  return `${input}.${sig}`;
}

/** How long a test waits for a connect of the official client. */
export const CONNECT_TIMEOUT = 20_000;

/** A fresh client connected as `user` with a JWT, disconnected after test `t`. */
export async function connectJwt(server, t, user) {
  const client = userClient(server);
  t.after(() => disconnectAll(client));
  await withTimeout(client.connectUser(user, tokenFor(server, user.id)), CONNECT_TIMEOUT, `connectUser(${user.id})`);
  return client;
}
