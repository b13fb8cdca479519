// The operational surface of a real mcpd process: health, metrics, REST facade, sessions, status
// listener, auth, legacy SSE, graceful shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, postMcp, openSession, initializeBody } from './lib/mcpd.mjs';

const pack = ['--enable-pack', 'conformance'];

test('health, the API description and metrics', async () => {
  const s = await startServer({ args: pack });
  try {
    for (const path of ['/health', '/api/v1/health']) {
      const r = await fetch(s.base + path);
      assert.equal(r.status, 200);
      const h = await r.json();
      assert.equal(h.status, 'healthy');
      assert.match(h.timestamp, /^\d{4}-\d\d-\d\dT/);
      assert.equal(typeof h.version, 'string');
      assert.deepEqual(h.services, {});
    }
    const root = await (await fetch(s.base + '/')).json();
    assert.equal(root.name, 'mcpd');
    assert.ok(root.endpoints['POST /call_tool']);
    await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }); // a 400 without a session: counted too
    const sid = await openSession(s.url);
    await postMcp(s.url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'm' } } },
      { 'mcp-session-id': sid });
    const metrics = await (await fetch(s.base + '/metrics')).text();
    assert.match(metrics, /mcpd_http_requests_total\{method="POST",route="\/mcp",status="200"\} \d+/);
    assert.match(metrics, /mcpd_http_requests_total\{method="POST",route="\/mcp",status="400"\} 1/);
    assert.match(metrics, /mcpd_tool_calls_total\{tool="echo",outcome="ok"\} 1/);
    assert.match(metrics, /mcpd_tool_call_duration_seconds_bucket\{tool="echo",outcome="ok",le="\+Inf"\} 1/);
    assert.match(metrics, /mcpd_sessions 1/);
  } finally {
    await s.stop();
  }
});

test('REST facade: GET /mcp/tools and POST /call_tool run through the same dispatcher', async () => {
  const s = await startServer({ args: pack });
  try {
    const tools = await (await fetch(s.base + '/mcp/tools')).json();
    assert.ok(tools.tools.some((t) => t.name === 'echo' && t.inputSchema.required.includes('message')));
    const call = async (body) => {
      const r = await fetch(s.base + '/call_tool', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: r.status, body: await r.json() };
    };
    const ok = await call(JSON.stringify({ tool: 'echo', arguments: { message: 'from REST' } }));
    assert.equal(ok.status, 200);
    assert.equal(ok.body.content[0].text, 'from REST');
    assert.deepEqual(ok.body.structuredContent, { message: 'from REST' });
    const invalid = await call(JSON.stringify({ tool: 'echo', arguments: {} }));
    assert.equal(invalid.status, 200);
    assert.equal(invalid.body.isError, true);
    assert.match(invalid.body.content[0].text, /missing required argument 'message'/);
    assert.equal((await call(JSON.stringify({ tool: 'nope' }))).status, 404);
    assert.equal((await call('{"tool":')).status, 400);
    assert.equal((await call(JSON.stringify({ arguments: {} }))).status, 400);
  } finally {
    await s.stop();
  }
});

test('pack REST routes: served with the API key, listed by GET /, 405 for another method', async () => {
  const key = 'route-key-0123456789';
  const s = await startServer({ args: [...pack, '--api-key', key] });
  try {
    const post = (headers, body) => fetch(s.base + '/echo', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    assert.equal((await post({}, '{"message":"x"}')).status, 401);
    const ok = await post({ 'x-api-key': key }, '{"message":"plain REST"}');
    assert.equal(ok.status, 200);
    const body = await ok.json();
    assert.equal(body.message, 'plain REST');
    assert.match(body.principal, /^key:[0-9a-f]{8}$/);
    assert.equal((await post({ 'x-api-key': key }, '{"nope":1}')).status, 400);
    assert.equal((await fetch(s.base + '/echo', { headers: { 'x-api-key': key } })).status, 405);
    const root = await (await fetch(s.base + '/', { headers: { 'x-api-key': key } })).json();
    assert.match(root.endpoints['POST /echo'], /echo over plain REST/);
    const metrics = await (await fetch(s.base + '/metrics', { headers: { 'x-api-key': key } })).text();
    assert.match(metrics, /route="\/echo",status="200"/);
  } finally {
    await s.stop();
  }
});

test('sessions: ids are unguessable, DELETE ends one, later use is 404', async () => {
  const s = await startServer({ args: pack });
  try {
    const a = await openSession(s.url);
    const b = await openSession(s.url);
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, b);
    const del = await fetch(s.url, { method: 'DELETE', headers: { 'mcp-session-id': a } });
    assert.equal(del.status, 200);
    const after = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': a });
    assert.equal(after.status, 404);
    const other = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': b });
    assert.equal(other.status, 200);
    assert.deepEqual(other.json, { jsonrpc: '2.0', id: 1, result: {} });
    const noSession = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.equal(noSession.status, 400);
    const badVersion = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': b, 'mcp-protocol-version': '1999-01-01' });
    assert.equal(badVersion.status, 400);
    for (const v of ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25']) {
      const r = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': b, 'mcp-protocol-version': v });
      assert.equal(r.status, 200, v);
    }
  } finally {
    await s.stop();
  }
});

test('at the session cap a new session recycles the least recently used idle one', async () => {
  const cfg = `${process.env.TMPDIR || '/tmp'}/mcpd-cap-${process.pid}.toml`;
  const fs = await import('node:fs');
  fs.writeFileSync(cfg, '[server]\nmax_sessions = 2\n');
  const s = await startServer({ args: [...pack, '--config', cfg] });
  try {
    const a = await openSession(s.url);
    const b = await openSession(s.url);
    const third = await postMcp(s.url, initializeBody());
    assert.equal(third.status, 200);
    const gone = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': a });
    assert.equal(gone.status, 404);
    const ok = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': b });
    assert.equal(ok.status, 200);
  } finally {
    await s.stop();
    fs.rmSync(cfg, { force: true });
  }
});

test('a separate status listener serves health and metrics only', async () => {
  const s = await startServer({ args: pack, status: '127.0.0.1:0' });
  try {
    const base = `http://127.0.0.1:${s.statusPort}`;
    assert.equal((await fetch(base + '/health')).status, 200);
    assert.match(await (await fetch(base + '/metrics')).text(), /mcpd_sessions/);
    assert.equal((await fetch(base + '/mcp/tools')).status, 404);
  } finally {
    await s.stop();
  }
});

test('API keys: 401 with WWW-Authenticate, X-API-KEY and Bearer accepted, health stays open', async () => {
  const key = 'test-key-0123456789';
  const s = await startServer({ args: pack, env: { API_TOKEN: `${key},second-key-0123456789` } });
  try {
    const none = await fetch(s.base + '/mcp/tools');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate'), /^Bearer realm="mcpd"/);
    const wrong = await fetch(s.base + '/mcp/tools', { headers: { 'x-api-key': 'wrong-key-0123456789' } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate'), /invalid_token/);
    assert.equal((await fetch(s.base + '/mcp/tools', { headers: { 'x-api-key': key } })).status, 200);
    assert.equal((await fetch(s.base + '/mcp/tools', { headers: { authorization: 'Bearer second-key-0123456789' } })).status, 200);
    assert.equal((await fetch(s.base + '/health')).status, 200);
    // A session belongs to the key that opened it.
    const sid = await openSession(s.url, { 'x-api-key': key });
    const stolen = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': sid, authorization: 'Bearer second-key-0123456789' });
    assert.equal(stolen.status, 404);
    // The key never reaches the logs.
    assert.ok(!JSON.stringify(s.logs).includes(key));
  } finally {
    await s.stop();
  }
});

test('legacy HTTP+SSE: /sse announces the endpoint and answers travel on the stream', async () => {
  const s = await startServer({ args: pack });
  const ac = new AbortController();
  try {
    const res = await fetch(s.base + '/sse', { headers: { accept: 'text/event-stream' }, signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const nextEvent = async () => {
      const deadline = Date.now() + 5000;
      while (!buffer.includes('\n\n')) {
        if (Date.now() > deadline) throw new Error('no SSE event within 5 s');
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value);
      }
      const i = buffer.indexOf('\n\n');
      const raw = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const event = /^event: (.*)$/m.exec(raw)?.[1];
      const data = raw.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      return { event, data };
    };
    const endpoint = await nextEvent();
    assert.equal(endpoint.event, 'endpoint');
    assert.match(endpoint.data, /^\/messages\?sessionId=[0-9a-f]{32}$/);
    const post = (body) => fetch(s.base + endpoint.data, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post(initializeBody(1, '2024-11-05'))).status, 202);
    const init = await nextEvent();
    assert.equal(init.event, 'message');
    assert.equal(JSON.parse(init.data).result.protocolVersion, '2024-11-05');
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'legacy' } } });
    const answer = JSON.parse((await nextEvent()).data);
    assert.equal(answer.id, 2);
    assert.equal(answer.result.content[0].text, 'legacy');
    const unknown = await fetch(s.base + '/messages?sessionId=ffff', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(unknown.status, 404);
  } finally {
    ac.abort();
    await s.stop();
  }
});

test('SIGTERM drains an in-flight call, then mcpd exits 0', async () => {
  const s = await startServer({ args: pack });
  const sid = await openSession(s.url);
  const pending = postMcp(s.url, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 1 } } },
    { 'mcp-session-id': sid });
  await new Promise((r) => setTimeout(r, 30));
  s.proc.kill('SIGTERM');
  const r = await pending;
  assert.equal(r.status, 200);
  assert.match(r.text, /"id":5,"result"/);   // the answer arrived despite the shutdown
  const { code } = await s.exited;
  assert.equal(code, 0);
  // New connections are refused once it has stopped.
  await assert.rejects(new Promise((resolve, reject) => {
    const c = net.connect(s.port, '127.0.0.1', () => { c.destroy(); resolve(); });
    c.on('error', reject);
  }));
});

test('a full worker queue answers "busy, retry" (MCP error, REST 503 with Retry-After) and keeps serving', async () => {
  // One blocking call at a time: a second one while the first runs is refused, not queued.
  const s = await startServer({ args: pack, env: { MCP_MAX_QUEUED_CALLS: '1' } });
  try {
    const sid = await openSession(s.url);
    const headers = { 'mcp-session-id': sid };
    const slow = (id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: id } } });
    // Start the slow call and wait until its first progress notification shows it is running.
    let refused = null;
    for (let attempt = 0; attempt < 5 && !refused; ++attempt) {
      const res = await fetch(s.url, { method: 'POST', body: JSON.stringify(slow(100 + attempt)),
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } });
      const reader = res.body.getReader();
      let seen = '';
      while (!seen.includes('notifications/progress')) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      const [mcp, rest] = await Promise.all([
        postMcp(s.url, slow(200 + attempt), headers),
        fetch(s.base + '/call_tool', { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ tool: 'test_tool_with_progress', arguments: {} }) }),
      ]);
      while (!(await reader.read()).done) { /* drain the first call's stream */ }
      // Only a refusal that happened while the first call ran proves the bound (the first may finish early).
      if (mcp.json?.error && rest.status === 503) refused = { mcp, rest, restBody: await rest.json() };
      else await rest.text();
    }
    assert.ok(refused, 'a second blocking call while the first ran was never refused');
    assert.equal(refused.mcp.json.error.code, -32010);
    assert.match(refused.mcp.json.error.message, /busy/);
    assert.equal(refused.mcp.json.error.data.retryAfterSeconds, 1);
    assert.equal(refused.rest.headers.get('retry-after'), '1');
    assert.match(refused.restBody.error, /busy/);
    // Once the queue has room, the same call runs.
    const after = await postMcp(s.url, slow(300), headers);
    assert.match(after.text, /Progress tool completed/);
    const m = await (await fetch(s.base + '/metrics')).text();
    assert.match(m, /mcpd_worker_refused_total [1-9]/);
  } finally {
    await s.stop();
  }
});
