// One key could take all of a server's capacity. Now every HTTP surface (Streamable HTTP, the legacy
// /sse + /messages transport, the REST facade, pack routes) takes from a token bucket per key: over
// it, 429 with Retry-After and nothing runs, while other keys go on as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, postMcp, initializeBody } from '../integration/lib/mcpd.mjs';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const BURST = 12;

function configFile() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-rate-'));
  const file = path.join(dir, 'mcpd.toml');
  fs.writeFileSync(file, `[security]
api_keys = ["${KEY_A}", "${KEY_B}"]
rate_limit_per_second = 1
rate_limit_burst = ${BURST}
`);
  return file;
}

const json = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const echoCall = (message) => JSON.stringify({ tool: 'echo', arguments: { message } });

async function echoCalls(s) {
  const text = await (await fetch(s.base + '/metrics', { headers: { 'x-api-key': KEY_B } })).text();
  const m = /mcpd_tool_calls_total\{tool="echo",outcome="ok"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

// Sends `request` (a function returning a fetch promise) until it is refused with 429, at most
// BURST + 3 times; returns the refusal and how many got through before it.
async function untilLimited(request) {
  let passed = 0;
  for (let i = 0; i < BURST + 3; i++) {
    const r = await request();
    if (r.status === 429) return { r, passed };
    await r.body?.cancel();
    passed++;
  }
  assert.fail('no 429 within the burst');
}

// The refusal has the error body of its surface: a JSON-RPC error on the MCP endpoints, {"error"} on REST.
async function assertLimited(r, mcp = false) {
  assert.equal(r.status, 429);
  const retry = r.headers.get('retry-after');
  assert.match(retry, /^[1-9]\d*$/, 'Retry-After is whole seconds, at least 1');
  const body = await r.json();
  if (mcp) {
    assert.equal(body.jsonrpc, '2.0');
    assert.equal(body.error.code, -32600);
    assert.match(body.error.message, /too many requests for this API key/);
  } else {
    assert.match(body.error, /too many requests for this API key/);
  }
  return Number(retry);
}

test('a key over its rate gets 429 + Retry-After on every surface while another key is served', async () => {
  const s = await startServer({ args: ['--enable-pack', 'conformance', '--config', configFile()] });
  const streams = [];
  try {
    const a = { 'x-api-key': KEY_A };
    const b = { 'x-api-key': KEY_B };
    const init = await postMcp(s.url, initializeBody(1, '2025-11-25'), a);
    assert.equal(init.status, 200);
    const sessionA = { ...a, 'mcp-session-id': init.headers.get('mcp-session-id') };
    const sse = new AbortController();
    streams.push(sse);
    const stream = await fetch(s.base + '/sse', { headers: a, signal: sse.signal });
    assert.equal(stream.status, 200);
    const reader = stream.body.getReader();
    let announced = '';
    for (let i = 0; i < 20 && !/sessionId=([0-9a-f]+)/.test(announced); i++) announced += new TextDecoder().decode((await reader.read()).value);
    const legacyId = /sessionId=([0-9a-f]+)/.exec(announced)[1];

    const callsBefore = await echoCalls(s);
    // REST facade: the burst goes through, then 429 and the tool does not run.
    const rest = await untilLimited(() => fetch(s.base + '/call_tool', { method: 'POST', headers: { ...json, ...a }, body: echoCall('a') }));
    const wait = await assertLimited(rest.r);
    assert.equal(await echoCalls(s), callsBefore + rest.passed, 'a refused call runs nothing');

    // Every other surface refuses key A too (each at most one refilled token away from its 429).
    const surfaces = {
      'POST /mcp': () => fetch(s.url, { method: 'POST', headers: { ...json, ...sessionA }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }) }),
      'GET /mcp': () => fetch(s.url, { headers: { ...sessionA, accept: 'text/event-stream' }, signal: AbortSignal.timeout(3000) }),
      'DELETE /mcp': () => fetch(s.url, { method: 'DELETE', headers: { ...a, 'mcp-session-id': 'no-such-session' } }),
      'GET /sse': () => fetch(s.base + '/sse', { headers: a, signal: AbortSignal.timeout(3000) }),
      'POST /messages': () => fetch(`${s.base}/messages?sessionId=${legacyId}`, { method: 'POST', headers: { ...json, ...a }, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }) }),
      'GET /mcp/tools': () => fetch(s.base + '/mcp/tools', { headers: a }),
      'POST /echo (pack route)': () => fetch(s.base + '/echo', { method: 'POST', headers: { ...json, ...a }, body: '{"message":"x"}' }),
    };
    for (const [name, request] of Object.entries(surfaces)) {
      const { r, passed } = await untilLimited(request);
      assert.ok(passed <= 1, `${name}: ${passed} requests got through a spent bucket`);
      await assertLimited(r, /^(POST|GET|DELETE) \/(mcp|sse|messages)$/.test(name));

      // At the same moment key B is served normally.
      const other = await fetch(s.base + '/call_tool', { method: 'POST', headers: { ...json, ...b }, body: echoCall('b') });
      assert.equal(other.status, 200, `${name}: key B must not be limited by key A`);
      assert.equal((await other.json()).content[0].text, 'b');
    }
    const bInit = await postMcp(s.url, initializeBody(1, '2025-11-25'), b);
    assert.equal(bInit.status, 200);

    // /health needs no key and is never limited.
    for (let i = 0; i < BURST + 5; i++) assert.equal((await fetch(s.base + '/health')).status, 200);

    // After Retry-After seconds key A works again, and its session survived the refusals.
    await new Promise((r) => setTimeout(r, Math.min(wait, 5) * 1000 + 100));
    const again = await postMcp(s.url, { jsonrpc: '2.0', id: 9, method: 'ping' }, sessionA);
    assert.equal(again.status, 200);
    assert.deepEqual(again.json.result, {});
  } finally {
    for (const c of streams) c.abort();
    await s.stop();
  }
});

test('rate_limit_per_second = 0 turns the limit off, and bad values refuse to start naming the key', async () => {
  const s = await startServer({ args: ['--enable-pack', 'conformance'], env: { MCP_RATE_LIMIT_PER_SECOND: '0' } });
  try {
    for (let i = 0; i < 300; i++) {
      const r = await fetch(s.base + '/mcp/tools');
      assert.equal(r.status, 200);
      await r.body.cancel();
    }
  } finally {
    await s.stop();
  }
  await assert.rejects(startServer({ env: { MCP_RATE_LIMIT_PER_SECOND: '-3' } }), /MCP_RATE_LIMIT_PER_SECOND.*security\.rate_limit_per_second/);
});
