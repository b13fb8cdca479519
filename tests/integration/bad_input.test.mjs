// Bad input over HTTP and stdio: each gets a clear error and the server keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { startServer, postMcp, openSession, initializeBody, MCPD_BIN, cleanEnv } from './lib/mcpd.mjs';

const pack = ['--enable-pack', 'conformance'];

async function stillServing(s) {
  const r = await fetch(s.base + '/health');
  assert.equal(r.status, 200, 'the server must keep serving');
}

// Raw HTTP over a socket, for requests fetch() refuses to send.
function rawRequest(port, text, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => { sock.destroy(); resolve(data); }, timeoutMs);
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => { clearTimeout(timer); resolve(data); });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

test('JSON-RPC errors over Streamable HTTP', async () => {
  const s = await startServer({ args: pack });
  try {
    const sid = await openSession(s.url);
    const h = { 'mcp-session-id': sid };
    const parse = await postMcp(s.url, '{"jsonrpc":"2.0",', h);
    assert.equal(parse.status, 400);
    assert.equal(parse.json.error.code, -32700);
    const invalid = await postMcp(s.url, { jsonrpc: '2.0', id: 1 }, h);
    assert.equal(invalid.json.error.code, -32600);
    const unknown = await postMcp(s.url, { jsonrpc: '2.0', id: 2, method: 'nope/nope' }, h);
    assert.equal(unknown.status, 200);
    assert.equal(unknown.json.error.code, -32601);
    const params = await postMcp(s.url, { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 5 } }, h);
    assert.equal(params.json.error.code, -32602);
    const badArgs = await postMcp(s.url, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { message: ['x'] } } }, h);
    assert.equal(badArgs.json.result.isError, true);
    const wrongType = await postMcp(s.url, 'hello', { ...h, 'content-type': 'text/plain' });
    assert.equal(wrongType.status, 415);
    const notAcceptable = await postMcp(s.url, { jsonrpc: '2.0', id: 5, method: 'ping' }, { ...h, accept: 'text/html' });
    assert.equal(notAcceptable.status, 406);
    const put = await fetch(s.url, { method: 'PUT', headers: h });
    assert.equal(put.status, 405);
    assert.match(put.headers.get('allow'), /POST/);
    const missing = await fetch(s.base + '/nowhere');
    assert.equal(missing.status, 404);
    // A failed initialize creates no session.
    const badInit = await postMcp(s.url, { jsonrpc: '2.0', id: 9, method: 'initialize', params: {} });
    assert.equal(badInit.json.error.code, -32602);
    assert.equal(badInit.headers.get('mcp-session-id'), null);
    await stillServing(s);
  } finally {
    await s.stop();
  }
});

test('oversized bodies get 413 and change nothing', async () => {
  const cfg = `/tmp/mcpd-body-${process.pid}.toml`;
  (await import('node:fs')).writeFileSync(cfg, '[server]\nmax_body_bytes = 1024\n');
  const s = await startServer({ args: [...pack, '--config', cfg] });
  try {
    const sid = await openSession(s.url);
    const big = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(5000) } } },
      { 'mcp-session-id': sid }).catch((e) => ({ status: 'reset', e }));
    assert.equal(big.status, 413);
    const ok = await postMcp(s.url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'small' } } },
      { 'mcp-session-id': sid });
    assert.equal(ok.json.result.content[0].text, 'small');
  } finally {
    await s.stop();
    (await import('node:fs')).rmSync(cfg, { force: true });
  }
});

test('unknown sessions, bad Origin and bad Host are refused', async () => {
  const s = await startServer({ args: pack });
  try {
    const unknown = await postMcp(s.url, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': 'f'.repeat(32) });
    assert.equal(unknown.status, 404);
    const get = await fetch(s.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': 'nope' } });
    assert.equal(get.status, 404);
    const origin = await postMcp(s.url, initializeBody(), { origin: 'https://evil.example.com' });
    assert.equal(origin.status, 403);
    assert.equal(origin.headers.get('mcp-session-id'), null);
    const okOrigin = await postMcp(s.url, initializeBody(), { origin: `http://localhost:${s.port}` });
    assert.equal(okOrigin.status, 200);
    const host = await rawRequest(s.port, `GET /health HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n`);
    assert.match(host, /^HTTP\/1\.1 403/);
    const garbage = await rawRequest(s.port, 'THIS IS NOT HTTP\r\n\r\n', { timeoutMs: 2000 });
    assert.doesNotMatch(garbage, /^HTTP\/1\.1 200/);
    await stillServing(s);
  } finally {
    await s.stop();
  }
});

test('abrupt disconnects mid-stream do not disturb the server', async () => {
  const s = await startServer({ args: pack });
  try {
    const sid = await openSession(s.url);
    // A tool call whose SSE answer is cut off by the client.
    const ac = new AbortController();
    const res = await fetch(s.url, {
      method: 'POST', signal: ac.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_tool_with_logging', arguments: {} } }),
    });
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    ac.abort();
    // A GET stream dropped at once, and a half-written request.
    const get = new AbortController();
    await fetch(s.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid }, signal: get.signal });
    get.abort();
    await rawRequest(s.port, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"jsonrpc"`, { timeoutMs: 200 });
    await new Promise((r) => setTimeout(r, 300));
    const ok = await postMcp(s.url, { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'echo', arguments: { message: 'alive' } } },
      { 'mcp-session-id': sid });
    assert.equal(ok.json.result.content[0].text, 'alive');
    // A new GET stream is accepted once the dropped one is gone.
    const again = new AbortController();
    const g2 = await fetch(s.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid }, signal: again.signal });
    assert.equal(g2.status, 200);
    again.abort();
    await stillServing(s);
  } finally {
    await s.stop();
  }
});

test('stdio: bad lines get errors on stdout, logs stay on stderr, the server keeps serving', async () => {
  const proc = spawn(MCPD_BIN, ['serve', '--stdio', ...pack, '--log-level', 'debug'], { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  const rl = readline.createInterface({ input: proc.stdout });
  rl.on('line', (l) => lines.push(l));
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const send = (l) => proc.stdin.write(l + '\n');
  const waitFor = async (n) => {
    const deadline = Date.now() + 5000;
    while (lines.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} lines, got ${JSON.stringify(lines)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    send('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    send(JSON.stringify(initializeBody(2)));
    send('{oops');
    send('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"still here"}}}');
    await waitFor(4);
    const msgs = lines.map((l) => JSON.parse(l));  // every stdout line is JSON-RPC
    assert.equal(msgs[0].error.code, -32600);
    assert.equal(msgs[1].result.protocolVersion, '2025-11-25');
    assert.equal(msgs[2].error.code, -32700);
    assert.equal(msgs[3].result.content[0].text, 'still here');
    proc.stdin.end();
    const code = await new Promise((r) => proc.once('exit', r));
    assert.equal(code, 0);
    assert.match(stderr, /"event":"stopped"/);
  } finally {
    proc.kill();
  }
});
