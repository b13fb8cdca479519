// The command line: config check (masking, precedence, errors naming the key), secure defaults,
// and `mcpd call` over both transports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, MCPD_BIN, cleanEnv } from './lib/mcpd.mjs';

function run(args, env = {}) {
  const r = spawnSync(MCPD_BIN, args, { env: { ...cleanEnv(), ...env }, encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('config check prints the effective configuration with secrets masked and origins', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-cfg-'));
  const file = path.join(dir, 'mcpd.toml');
  fs.writeFileSync(file, '[server]\nhttp = "127.0.0.1:9001"\nthreads = 2\nlog_level = "debug"\n');
  try {
    const r = run(['config', 'check', '--config', file, '--threads', '3'], { MCP_LOG_LEVEL: 'WARNING', API_TOKEN: 'very-secret-token-123' });
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    assert.deepEqual(c.server.http, { value: '127.0.0.1:9001', from: 'file' });
    assert.deepEqual(c.server.threads, { value: 3, from: 'flag' });        // flag > file
    assert.deepEqual(c.server.log_level, { value: 'WARNING', from: 'env' }); // env > file
    assert.equal(c.security.auth_required.value, true);
    assert.ok(!r.stdout.includes('very-secret-token-123'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad configuration names the key and the problem and nothing starts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-cfg-'));
  const file = path.join(dir, 'bad.toml');
  fs.writeFileSync(file, '[server]\nthreads = "many"\nsurprise = true\n');
  try {
    const r = run(['serve', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /server\.threads: must be an integer/);
    assert.match(r.stderr, /server\.surprise: unknown setting/);
    const port = run(['serve'], { MCP_PORT: 'abc' });
    assert.equal(port.code, 2);
    assert.match(port.stderr, /MCP_PORT/);
    const pack = run(['serve', '--enable-pack', 'nosuchpack']);
    assert.equal(pack.code, 2);
    assert.match(pack.stderr, /unknown pack 'nosuchpack'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('listening beyond loopback without an API key is refused', () => {
  const r = run(['serve', '--http', '0.0.0.0:0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /security\.api_keys: listening on 0\.0\.0\.0:0 \(beyond loopback\) requires an API key/);
});

test('mcpd call over stdio (spawns the server) and over HTTP (MCP_SERVER_URL)', async () => {
  const list = run(['call', '--list', '--enable-pack', 'conformance']);
  assert.equal(list.code, 0, list.stderr);
  assert.ok(JSON.parse(list.stdout).some((t) => t.name === 'echo'));
  const echo = run(['call', 'echo', 'message=hello world', '--enable-pack', 'conformance']);
  assert.equal(echo.code, 0, echo.stderr);
  assert.equal(JSON.parse(echo.stdout).content[0].text, 'hello world');
  const isError = run(['call', 'test_error_handling', '--enable-pack', 'conformance']);
  assert.equal(isError.code, 1);
  const unknown = run(['call', 'nope', '--enable-pack', 'conformance']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown tool/);

  const key = 'call-test-key-0123456789';
  const s = await startServer({ args: ['--enable-pack', 'conformance', '--api-key', key] });
  try {
    const viaHttp = run(['call', 'echo', '--json', '{"message":"over http"}'], { MCP_SERVER_URL: s.url, API_TOKEN: key });
    assert.equal(viaHttp.code, 0, viaHttp.stderr);
    assert.equal(JSON.parse(viaHttp.stdout).structuredContent.message, 'over http');
    const progress = run(['call', 'test_tool_with_logging'], { MCP_SERVER_URL: s.url, MCP_API_KEY: key });
    assert.equal(progress.code, 0, progress.stderr);
    const noKey = run(['call', 'echo', 'message=x'], { MCP_SERVER_URL: s.url });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /401/);
  } finally {
    await s.stop();
  }
});
