// One key could lock everyone out: 2,000 initialize calls from one key filled max_sessions and every
// other key got 503 until idle sessions expired. Now each key has its own session cap below the
// global one, and a key at its cap recycles its own least recently used idle session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, postMcp, initializeBody } from '../integration/lib/mcpd.mjs';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const MAX_SESSIONS = 20;
const PER_KEY = 8;

async function configFile() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-sessions-'));
  const file = path.join(dir, 'mcpd.toml');
  fs.writeFileSync(file, `[server]
max_sessions = ${MAX_SESSIONS}
max_sessions_per_key = ${PER_KEY}
[security]
api_keys = ["${KEY_A}", "${KEY_B}"]
rate_limit_per_second = 0
`);
  return file;
}

async function open(s, key, capabilities = {}) {
  const body = initializeBody(1, '2025-11-25');
  body.params.capabilities = capabilities;
  const r = await postMcp(s.url, body, { 'x-api-key': key });
  if (r.status !== 200) return { status: r.status, r };
  const h = { 'x-api-key': key, 'mcp-session-id': r.headers.get('mcp-session-id'), 'mcp-protocol-version': '2025-11-25' };
  const n = await postMcp(s.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
  assert.equal(n.status, 202);
  return { status: 200, h };
}

async function liveSessions(s) {
  const m = /^mcpd_sessions (\d+)/m.exec(await (await fetch(s.base + '/metrics', { headers: { 'x-api-key': KEY_B } })).text());
  return Number(m[1]);
}

const echo = (id, message) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message } } });

test('a key opening 2,000 sessions recycles only its own; another key always gets in', async () => {
  const s = await startServer({ args: ['--enable-pack', 'conformance', '--config', await configFile()] });
  try {
    const opened = [];
    let flooding = true;
    const flood = (async () => {
      // 2,000 initialize calls, 4 at a time (fewer than the key's cap: a client opening more sessions
      // at once than its cap would see its own half-open ones recycled, which is the cap working).
      const workers = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 500; i++) {
          const o = await open(s, KEY_A);
          assert.equal(o.status, 200, 'key A recycles its own idle sessions, it is never refused');
          opened.push(o.h);
        }
      });
      await Promise.all(workers);
      flooding = false;
    })();
    // Meanwhile key B initializes and calls a tool, every time, and the global cap holds.
    let rounds = 0;
    const other = (async () => {
      while ((flooding || rounds < 3) && rounds < 60) {
        const b = await open(s, KEY_B);
        assert.equal(b.status, 200, `key B initialize refused (${b.status}) while key A floods`);
        const r = await postMcp(s.url, echo(2, 'b' + rounds), b.h);
        assert.equal(r.status, 200);
        assert.equal(r.json.result.content[0].text, 'b' + rounds);
        assert.ok((await liveSessions(s)) <= MAX_SESSIONS, 'the global session cap is never exceeded');
        rounds++;
      }
    })();
    await Promise.all([flood, other]);
    assert.equal(opened.length, 2000);
    assert.ok(rounds >= 3);

    // The newest sessions of key A work; the older ones were ended (404: initialize again).
    const newest = [];
    for (let i = 0; i < PER_KEY; i++) newest.push((await open(s, KEY_A)).h);
    for (const h of newest) {
      const r = await postMcp(s.url, { jsonrpc: '2.0', id: 5, method: 'ping' }, h);
      assert.equal(r.status, 200);
    }
    let alive = 0;
    for (const h of opened) {
      const r = await postMcp(s.url, { jsonrpc: '2.0', id: 6, method: 'ping' }, h);
      if (r.status === 200) alive++;
      else {
        assert.equal(r.status, 404);
        assert.match(r.json.error.message, /send 'initialize'/);
      }
    }
    assert.equal(alive, 0, 'every older session of key A was recycled');
    assert.ok((await liveSessions(s)) <= MAX_SESSIONS);
    const metrics = await (await fetch(s.base + '/metrics', { headers: { 'x-api-key': KEY_B } })).text();
    assert.ok(Number(/^mcpd_sessions_evicted_total (\d+)/m.exec(metrics)[1]) >= 2000 - PER_KEY);
  } finally {
    await s.stop();
  }
});

test('a key whose sessions are all busy gets 429 with Retry-After; other keys are unaffected', async () => {
  const s = await startServer({ args: ['--enable-pack', 'conformance', '--config', await configFile(), '--workers', String(PER_KEY + 2)] });
  const controllers = [];
  try {
    const busy = [];
    for (let i = 0; i < PER_KEY; i++) {
      const o = await open(s, KEY_A, { sampling: {} });
      assert.equal(o.status, 200);
      busy.push(o.h);
    }
    // Each session runs a tool that waits for the client's answer to a sampling request: a call in flight.
    await Promise.all(busy.map(async (h, i) => {
      const c = new AbortController();
      controllers.push(c);
      const r = await fetch(s.url, {
        method: 'POST', signal: c.signal,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...h },
        body: JSON.stringify({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'test_sampling', arguments: { prompt: 'p' } } }),
      });
      assert.equal(r.headers.get('content-type'), 'text/event-stream', 'the call is waiting on the client');
    }));
    const refused = await open(s, KEY_A);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.r.headers.get('retry-after')) >= 1);
    assert.match(refused.r.json.error.message, /every session of this API key has a call in flight/);
    // Nothing of key A was ended to make room, and key B gets in at once.
    for (const h of busy) assert.equal((await postMcp(s.url, { jsonrpc: '2.0', id: 7, method: 'ping' }, h)).status, 200);
    const b = await open(s, KEY_B);
    assert.equal(b.status, 200);
    assert.equal((await postMcp(s.url, echo(3, 'still here'), b.h)).json.result.content[0].text, 'still here');

    // Once the calls end, key A gets a session again.
    await Promise.all(busy.map((h, i) => postMcp(s.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 100 + i } }, h)));
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await open(s, KEY_A)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
  } finally {
    for (const c of controllers) c.abort();
    await s.stop();
  }
});
