// The audit log: every tool call over MCP and REST is recorded with its principal, redacted
// arguments and outcome, survives a SIGTERM right after the call, and `mcpd audit` filters it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, MCPD_BIN, cleanEnv, initializeBody, postMcp } from './lib/mcpd.mjs';

function audit(dataDir, args = []) {
  const r = spawnSync(MCPD_BIN, ['audit', '--json', ...args], {
    env: { ...cleanEnv(), MCP_DATA_DIR: dataDir }, encoding: 'utf8', timeout: 20000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test('tool calls are audited with principal, redacted arguments, outcome and duration', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-audit-'));
  const key = 'audit-test-key-0123456789';
  const keyId = 'key:' + createHash('sha256').update(key).digest('hex').slice(0, 8);
  const s = await startServer({ args: ['--enable-pack', 'conformance', '--api-key', key], env: { MCP_DATA_DIR: dataDir } });
  try {
    const auth = { authorization: `Bearer ${key}` };
    // Over MCP: a good call and one the schema refuses.
    const init = await postMcp(s.url, initializeBody(), auth);
    const session = init.headers.get('mcp-session-id');
    const h = { ...auth, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    await postMcp(s.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
    const ok = await postMcp(s.url, { jsonrpc: '2.0', id: 2, method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'hello', password: 'hunter2-secret' } } }, h);
    assert.equal(ok.json.result.content[0].text, 'hello');
    const bad = await postMcp(s.url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { message: 5 } } }, h);
    assert.equal(bad.json.result.isError, true);
    // Over REST, then stop at once: the log is stored on the way out.
    const rest = await fetch(s.base + '/call_tool', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'echo', arguments: { message: 'from rest', api_key: 'sk-should-not-appear' } }) });
    assert.equal(rest.status, 200);
  } finally {
    const { code } = await s.stop();
    assert.equal(code, 0);
  }
  try {
    const rows = audit(dataDir);
    assert.equal(rows.length, 3, JSON.stringify(rows));
    assert.deepEqual(rows.map((r) => r.outcome), ['ok', 'tool_error', 'ok']);  // newest first
    for (const r of rows) {
      assert.equal(r.principal, keyId);
      assert.equal(r.tool, 'echo');
      assert.ok(r.duration_ms >= 0);
      assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    assert.equal(rows[0].arguments.message, 'from rest');
    assert.equal(rows[2].arguments.message, 'hello');
    assert.match(rows[1].error, /Invalid arguments/);
    const file = fs.readFileSync(path.join(dataDir, 'audit.db'));
    assert.ok(!file.includes('hunter2-secret') && !file.includes('sk-should-not-appear'), 'secrets reached the audit file');
    // Filters.
    assert.equal(audit(dataDir, ['--outcome', 'error']).length, 1);
    assert.equal(audit(dataDir, ['--tool', 'nothing']).length, 0);
    assert.equal(audit(dataDir, ['--principal', keyId, '--limit', '2']).length, 2);
    const bad = spawnSync(MCPD_BIN, ['audit', '--since', "2026'; DROP TABLE audit"], { env: { ...cleanEnv(), MCP_DATA_DIR: dataDir }, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /ISO-8601/);
    assert.equal(audit(dataDir).length, 3);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('audit.enabled = false records nothing', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-audit-'));
  const config = path.join(dataDir, 'mcpd.toml');
  fs.writeFileSync(config, '[audit]\nenabled = false\n');
  const s = await startServer({ args: ['--enable-pack', 'conformance', '--config', config], env: { MCP_DATA_DIR: dataDir } });
  try {
    const r = await fetch(s.base + '/call_tool', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'echo', arguments: { message: 'x' } }) });
    assert.equal(r.status, 200);
  } finally {
    await s.stop();
  }
  assert.equal(fs.existsSync(path.join(dataDir, 'audit.db')), false);
  fs.rmSync(dataDir, { recursive: true, force: true });
});
