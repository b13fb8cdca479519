// One request could take half a gigabyte: a 2 MB batch of a million non-objects was expanded into
// a million errors (a 128 MB answer) in every session. Now batches are refused from their text unless
// the session negotiated 2025-03-26 and the batch is within server.max_batch, every answer (and every
// batch's answers together) stays within server.max_response_bytes, and the memory goes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { startServer, postMcp, initializeBody, MCPD_BIN, cleanEnv } from '../integration/lib/mcpd.mjs';

const pack = ['--enable-pack', 'conformance'];
const MAX_RESPONSE = 1024 * 1024;
const env = { MCP_MAX_RESPONSE_BYTES: String(MAX_RESPONSE) };

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
// Under AddressSanitizer freed memory sits in the allocator's quarantine, so RSS says nothing there.
const sanitized = (pid) => fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libasan');

const million = '[' + Array(1_000_000).fill('1').join(',') + ']';            // ~2 MB
const twoMillion = '[' + Array(1_900_000).fill('1').join(',') + ']';         // ~3.8 MB
const echo = (id, message, extra = '') =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"message":${JSON.stringify(message)}${extra}}}}`;

async function session(s, version) {
  const r = await postMcp(s.url, initializeBody(1, version));
  assert.equal(r.status, 200, r.text);
  const sid = r.headers.get('mcp-session-id');
  const h = { 'mcp-session-id': sid, 'mcp-protocol-version': version };
  await postMcp(s.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
  return h;
}

async function echoCalls(s) {
  const metrics = await (await fetch(s.base + '/metrics')).text();
  const m = /mcpd_tool_calls_total\{tool="echo",outcome="ok"\} (\d+)/.exec(metrics);
  return m ? Number(m[1]) : 0;
}

function assertBoundedError(r, pattern) {
  assert.equal(r.status, 400, r.text.slice(0, 300));
  assert.ok(r.text.length < 1000, `the refusal is one short error, got ${r.text.length} bytes`);
  assert.equal(r.json.error.code, -32600);
  assert.match(r.json.error.message, pattern);
}

test('hostile batches and oversized answers over HTTP get one bounded error each, and the memory goes back', async () => {
  const s = await startServer({ args: pack, env });
  try {
    const old = await session(s, '2025-03-26');
    const mid = await session(s, '2025-06-18');
    const next = await session(s, '2025-11-25');
    // Warm up the paths once so the idle figure includes what any first request loads.
    await postMcp(s.url, echo(1, 'warm'), old);
    await new Promise((r) => setTimeout(r, 300));
    const idle = rssKb(s.proc.pid);

    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all([
        postMcp(s.url, million, old), postMcp(s.url, million, mid), postMcp(s.url, million, next),
        postMcp(s.url, twoMillion, old), postMcp(s.url, twoMillion, next),
        // Deeply nested values inside a member do not hide members from the count.
        postMcp(s.url, '[' + Array(200).fill(echo(1, 'x', ',"pad":[[1,2],{"a":[3,4]}]')).join(',') + ']', old),
      ]);
      for (const r of answers.slice(0, 6)) assert.equal(r.status, 400);
      assertBoundedError(answers[0], /at most 64 messages/);
      assertBoundedError(answers[1], /batches are not part of MCP 2025-06-18/);
      assertBoundedError(answers[2], /batches are not part of MCP 2025-11-25/);
      assertBoundedError(answers[3], /at most 64 messages/);
      assertBoundedError(answers[5], /at most 64 messages/);
      // A single message of millions of tiny values is refused while it is parsed (its parsed form,
      // 16 bytes a value, would be eight times its text), in a batch or alone.
      const heavy = await Promise.all([
        ...[1, 2, 3].map((i) => postMcp(s.url, echo(i, 'heavy', `,"pad":${twoMillion}`), old)),
        postMcp(s.url, '[' + echo(1, 'heavy', `,"pad":${twoMillion}`) + ',' + echo(2, 'x') + ']', old),
      ]);
      for (const r of heavy) assertBoundedError(r, /too many JSON values/);
      // The same number of bytes as one string is an ordinary message.
      const text = await postMcp(s.url, echo(4, 'heavy', `,"pad":"${'p'.repeat(3_800_000)}"`), old);
      assert.equal(text.json.result.content[0].text, 'heavy');
    }

    // A batch over the cap is refused as a whole: none of its members ran.
    const before = await echoCalls(s);
    const tooMany = await postMcp(s.url, '[' + Array.from({ length: 65 }, (_, i) => echo(i + 1, 'm')).join(',') + ']', old);
    assertBoundedError(tooMany, /at most 64 messages/);
    assert.equal(await echoCalls(s), before, 'no member of a refused batch may run');
    // initialize is never allowed inside a batch.
    const withInit = await postMcp(s.url, JSON.stringify([initializeBody(1, '2025-03-26'), JSON.parse(echo(2, 'm'))]), old);
    assertBoundedError(withInit, /'initialize' must be sent on its own/);
    assert.equal(await echoCalls(s), before);

    // At 2025-03-26 a batch within the cap still works, and its answers together stay bounded.
    const ok = await postMcp(s.url, '[' + Array.from({ length: 64 }, (_, i) => echo(i + 1, 'b' + i)).join(',') + ']', old);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.length, 64);
    assert.deepEqual(ok.json.map((a) => a.result.content[0].text), Array.from({ length: 64 }, (_, i) => 'b' + i));
    const big = 'y'.repeat(50_000);  // each answer ~100 KB: 64 of them would be ~6.4 MB
    const capped = await postMcp(s.url, '[' + Array.from({ length: 64 }, (_, i) => echo(i + 1, big)).join(',') + ']', old);
    assert.equal(capped.status, 200);
    assert.ok(capped.text.length <= MAX_RESPONSE + 64 * 400, `batch answer of ${capped.text.length} bytes exceeds the bound`);
    assert.equal(capped.json.length, 64);
    const refused = capped.json.filter((a) => a.error);
    assert.ok(refused.length > 50, 'the answers past the budget are replaced');
    for (const a of refused) assert.match(a.error.message, /Response too large/);
    assert.ok(capped.json.some((a) => a.result?.content[0].text === big), 'answers within the budget are delivered');

    // One answer over the bound is replaced by an error that says what to do.
    const huge = await postMcp(s.url, echo(9, 'z'.repeat(700_000)), next);
    assert.equal(huge.status, 200);
    assert.ok(huge.text.length < 1000);
    assert.equal(huge.json.id, 9);
    assert.match(huge.json.error.message, /Response too large: .*more than 1048576 bytes.*ask for less/);
    // The REST facade holds the same bound.
    const rest = await fetch(s.base + '/call_tool', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'echo', arguments: { message: 'z'.repeat(700_000) } }) });
    assert.equal(rest.status, 400);
    assert.match((await rest.json()).error, /Response too large/);
    // The legacy HTTP+SSE transport takes no batches at all.
    // (Its POST needs an open /sse stream; the refusal comes before any parsing.)

    // Still serving, on every session.
    for (const h of [old, mid, next]) {
      const ping = await postMcp(s.url, { jsonrpc: '2.0', id: 77, method: 'ping' }, h);
      assert.equal(ping.status, 200);
      assert.deepEqual(ping.json.result, {});
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = rssKb(s.proc.pid);
    if (sanitized(s.proc.pid)) {
      test.diagnostic?.(`RSS not checked under AddressSanitizer (idle ${idle} kB, after ${after} kB)`);
    } else {
      assert.ok(after < 3 * idle, `RSS after the hostile run (${after} kB) must stay below 3x idle (${idle} kB)`);
    }
  } finally {
    await s.stop();
  }
});

test('the legacy HTTP+SSE transport refuses batches unparsed', async () => {
  const s = await startServer({ args: pack, env });
  const controller = new AbortController();
  try {
    const sse = await fetch(s.base + '/sse', { signal: controller.signal });
    assert.equal(sse.status, 200);
    const reader = sse.body.getReader();
    let text = '';
    for (let i = 0; i < 20 && !/sessionId=([0-9a-f]+)/.test(text); i++) text += new TextDecoder().decode((await reader.read()).value);
    const id = /sessionId=([0-9a-f]+)/.exec(text)[1];
    const post = (body) => fetch(`${s.base}/messages?sessionId=${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const r = await post(million);
    assert.equal(r.status, 400);
    const body = await r.text();
    assert.ok(body.length < 1000);
    assert.match(body, /one JSON-RPC message per POST/);
    assert.equal((await post(JSON.stringify(initializeBody(1, '2024-11-05')))).status, 202);
  } finally {
    controller.abort();
    await s.stop();
  }
});

test('hostile batches over stdio get one bounded error line each', async () => {
  const proc = spawn(MCPD_BIN, ['serve', '--stdio', '--log-level', 'warning', ...pack], {
    env: { ...cleanEnv(), ...env }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = [];
  let wake = null;
  readline.createInterface({ input: proc.stdout }).on('line', (l) => { lines.push(l); wake?.(); });
  const next = async () => {
    for (let i = 0; i < 600 && lines.length === 0; i++) await new Promise((r) => { wake = r; setTimeout(r, 100); });
    assert.ok(lines.length > 0, 'mcpd answered on stdout');
    return lines.shift();
  };
  const send = (text) => proc.stdin.write(text + '\n');
  try {
    // Before initialize no batch may run (it cannot open the session).
    send(million);
    let line = await next();
    assert.ok(line.length < 1000);
    assert.match(JSON.parse(line).error.message, /send 'initialize' on its own first/);
    send(JSON.stringify(initializeBody(1, '2025-03-26')));
    assert.equal(JSON.parse(await next()).result.protocolVersion, '2025-03-26');
    send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    await new Promise((r) => setTimeout(r, 200));
    const idle = rssKb(proc.pid);
    for (let i = 0; i < 3; i++) {
      send(million);
      line = await next();
      assert.ok(line.length < 1000, `one short error, got ${line.length} bytes`);
      assert.match(JSON.parse(line).error.message, /at most 64 messages/);
    }
    send('[' + Array.from({ length: 3 }, (_, i) => echo(i + 1, 's' + i)).join(',') + ']');
    const batch = JSON.parse(await next());
    assert.deepEqual(batch.map((a) => a.result.content[0].text), ['s0', 's1', 's2'], 'one array line holds a batch answer');
    send(echo(5, 'z'.repeat(700_000)));
    assert.match(JSON.parse(await next()).error.message, /Response too large/);
    send('{"jsonrpc":"2.0","id":6,"method":"ping"}');
    assert.deepEqual(JSON.parse(await next()), { jsonrpc: '2.0', id: 6, result: {} });
    const after = rssKb(proc.pid);
    if (!sanitized(proc.pid)) assert.ok(after < 3 * idle, `stdio RSS ${after} kB must stay below 3x idle (${idle} kB)`);
  } finally {
    proc.stdin.end();
    proc.kill('SIGTERM');
  }
});
