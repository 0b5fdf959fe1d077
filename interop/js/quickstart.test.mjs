// The JS quick start of docs/local-server.md, run exactly as written: the block after the
// `<!-- interop: quickstart.mjs ... -->` marker is saved as a module next to interop/node_modules
// and run with `node FILE TOKEN`, the token coming from `stream-chat-server token alice`, against
// the binary started with its defaults (as `cargo run -p stream-chat-server` does; only the port
// is a free one, handed over through STREAM_CHAT_URL as the page says).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { serverBinary, startServer } from './harness.mjs';

const run = promisify(execFile);
const interopDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(interopDir, '..', 'docs', 'local-server.md');
const RUN_TIMEOUT_MS = 30_000;

/** The fenced block right after `<!-- interop: NAME ... -->` in `markdown`. */
function snippet(markdown, name, lang) {
  const marker = `<!-- interop: ${name}`;
  const at = markdown.indexOf(marker);
  assert.notEqual(at, -1, `docs/local-server.md has no "${marker}" marker`);
  const rest = markdown.slice(at);
  const m = new RegExp('-->\\s*\\n```' + lang + '\\n([\\s\\S]*?)\\n```\\n').exec(rest);
  assert.ok(m, `no \`\`\`${lang} block right after the ${name} marker`);
  return m[1] + '\n';
}

test('the JS quick start of docs/local-server.md runs as written against the default server', async (t) => {
  const code = snippet(readFileSync(PAGE, 'utf8'), 'quickstart.mjs', 'js');
  const server = await startServer(t, { defaults: true });
  assert.equal(server.apiKey, 'stream-local-key', 'the page hard-codes the default key');

  // The token as the page gets it: the binary's `token` subcommand.
  const { stdout: tokenOut } = await run(serverBinary(), ['token', 'alice'], { timeout: RUN_TIMEOUT_MS });
  const token = tokenOut.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `token subcommand printed ${JSON.stringify(tokenOut)}`);

  // Next to interop/node_modules so `import 'stream-chat'` resolves as in the reader's project.
  const file = join(interopDir, `.quickstart-${process.pid}.mjs`);
  writeFileSync(file, code);
  t.after(() => unlinkSync(file));
  const env = { ...process.env, STREAM_CHAT_URL: server.baseURL };
  let out;
  try {
    out = await run(process.execPath, [file, token], { cwd: interopDir, env, timeout: RUN_TIMEOUT_MS });
  } catch (e) {
    assert.fail(`the quick start failed (${e.code ?? e.signal}):\n${e.stdout}\n${e.stderr}\n--- server ---\n${server.output()}`);
  }
  assert.match(out.stdout, /^connected as alice \(user\)$/m, out.stdout);
  assert.match(out.stdout, /^alice: Hello from JavaScript$/m, out.stdout);
  assert.equal(out.stderr, '', 'no warnings');
});
