// The audit log: every tool call over MCP and REST is recorded with its principal, redacted
// arguments and outcome, survives a SIGTERM right after the call, and `mcpd audit` filters it.
// A large audit.db left by an older version does not hold start-up back and loses nothing but
// rows past their retention; an unusable path or a mistyped setting stops start-up, saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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

// An audit.db of about `mb` MB as versions before the size cap wrote it (no time index, no
// incremental auto-vacuum): `recent` rows from the last hours, then `old` rows from 2001.
function writeLegacyAuditDb(file, mb, old) {
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA journal_mode = WAL;
    CREATE TABLE audit (id INTEGER PRIMARY KEY, time TEXT NOT NULL, principal TEXT NOT NULL, session TEXT NOT NULL,
      tool TEXT NOT NULL, arguments TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT NOT NULL,
      duration_ms REAL NOT NULL, rows INTEGER, bytes INTEGER);`);
  const chunk = 50000;
  const insert = db.prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${chunk})
    INSERT INTO audit(time, principal, session, tool, arguments, outcome, error, duration_ms)
    SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-3 hours', printf('+%.3f seconds', (?1 + i) / 100.0)), 'key:0ld0ld00', '',
           'echo', '{"message":"' || hex(randomblob(150)) || '"}', 'ok', '', 1 FROM n`);
  const size = () => db.prepare('PRAGMA page_count').get().page_count * db.prepare('PRAGMA page_size').get().page_size;
  let recent = 0;
  for (let round = 0; round < 100 && size() < mb * 1e6; ++round) {  // bounded: 100 x 50,000 rows at most
    db.exec('BEGIN');
    insert.run(recent);
    db.exec('COMMIT');
    recent += chunk;
  }
  const oldRow = db.prepare(`INSERT INTO audit(time, principal, session, tool, arguments, outcome, error, duration_ms)
    VALUES ('2001-01-01T00:00:00.000Z', 'key:0ld0ld00', '', 'echo', '{}', 'ok', '', 1)`);
  for (let i = 0; i < old; ++i) oldRow.run();
  db.close();
  return { recent, bytes: fs.statSync(file).size };
}

test('a large audit.db from an older version: the server answers, and records the new calls', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-audit-large-'));
  try {
    const { recent, bytes } = writeLegacyAuditDb(path.join(dataDir, 'audit.db'), 100, 3);
    assert.ok(bytes > 100e6, `the file is ${bytes} bytes`);
    const s = await startServer({ args: ['--enable-pack', 'conformance'], env: { MCP_DATA_DIR: dataDir } });
    try {
      const init = await postMcp(s.url, initializeBody());
      assert.equal(init.status, 200);
      const h = { 'mcp-session-id': init.headers.get('mcp-session-id'), 'mcp-protocol-version': '2025-11-25' };
      await postMcp(s.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
      for (const message of ['first after restart', 'second after restart']) {
        const r = await postMcp(s.url, { jsonrpc: '2.0', id: message, method: 'tools/call', params: { name: 'echo', arguments: { message } } }, h);
        assert.equal(r.json.result.content[0].text, message);
      }
    } finally {
      const { code } = await s.stop();
      assert.equal(code, 0);
    }
    const newest = audit(dataDir, ['--limit', '2']);
    assert.deepEqual(newest.map((r) => r.arguments.message), ['second after restart', 'first after restart']);
    assert.equal(newest[0].principal, 'anonymous');
    // Rows past the 90-day retention are gone; every recent one is still there.
    assert.equal(audit(dataDir, ['--until', '2002']).length, 0);
    const db = new DatabaseSync(path.join(dataDir, 'audit.db'), { readOnly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) AS n FROM audit').get().n, recent + 2);
    } finally {
      db.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an audit log that cannot be opened, or a mistyped audit setting, stops start-up and says why', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-audit-bad-'));
  try {
    const serve = (toml) => {
      const config = path.join(dataDir, 'mcpd.toml');
      fs.writeFileSync(config, toml);
      return spawnSync(MCPD_BIN, ['serve', '--http', '127.0.0.1:0', '--enable-pack', 'conformance', '--config', config],
        { env: { ...cleanEnv(), MCP_DATA_DIR: dataDir }, encoding: 'utf8', timeout: 20000 });
    };
    // The path is a folder: refused at start-up, not discovered later as dropped rows.
    const folder = serve(`[audit]\npath = ${JSON.stringify(dataDir)}\n`);
    assert.equal(folder.status, 1, folder.stderr);
    assert.match(folder.stderr, /cannot open the audit log .*\(set audit\.path, or audit\.enabled = false\)/);
    const typo = serve('[audit]\nmax_byte = 5000000\n');
    assert.equal(typo.status, 2, typo.stderr);
    assert.match(typo.stderr, /audit\.max_byte: unknown setting/);
    const small = serve('[audit]\nmax_bytes = 1000\n');
    assert.equal(small.status, 2, small.stderr);
    assert.match(small.stderr, /audit\.max_bytes: must be from 1048576/);
    assert.equal(fs.existsSync(path.join(dataDir, 'audit.db')), false);  // bad settings change nothing
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('mcpd kb goes through the dispatcher: its calls are validated and audited like any client', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-audit-kb-'));
  const folder = path.join(dataDir, 'notes');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'a.md'), '# Audit\n\nThe kb command is audited too.\n');
  const config = path.join(dataDir, 'mcpd.toml');
  fs.writeFileSync(config, `[packs.knowledge]\nindex = "${path.join(dataDir, 'kb.db')}"\n` +
    `[[packs.knowledge.sources]]\nname = "notes"\ntype = "directory"\npath = "${folder}"\n`);
  const kb = (...args) => spawnSync(MCPD_BIN, ['kb', ...args, '--config', config],
    { env: { ...cleanEnv(), MCP_DATA_DIR: dataDir }, encoding: 'utf8', timeout: 60000 });
  const sync = kb('sync');
  assert.equal(sync.status, 0, sync.stderr);
  const search = kb('search', 'audited', '--json');
  assert.equal(search.status, 0, search.stderr);
  assert.equal(JSON.parse(search.stdout).results[0].path, 'a.md');
  // An argument the tool's schema refuses is refused before the handler runs, as over MCP.
  const bad = kb('search', 'audited', '--mode', 'telepathic');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Invalid arguments for tool 'search_documents'/);
  const rows = audit(dataDir);
  assert.deepEqual(rows.map((r) => [r.tool, r.outcome, r.principal]),
    [['search_documents', 'tool_error', 'cli'], ['search_documents', 'ok', 'cli'], ['sync_sources', 'ok', 'cli']]);
  assert.equal(rows[1].arguments.query, 'audited');
});
