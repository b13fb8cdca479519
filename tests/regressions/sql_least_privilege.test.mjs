// Regression: mcpd said nothing when it connected as a role that could do far more than read. Now the
// first connection of each PostgreSQL source checks the role and warns (log and /health), and the
// README's recommended role, created by running the README's own SQL here, draws no warning and reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSqlServer } from '../integration/lib/mcpd.mjs';
import { startPostgres } from '../integration/lib/postgres.mjs';

const README = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md');

let pg, server;
const bossPassword = crypto.randomBytes(12).toString('hex');
const readerPassword = crypto.randomBytes(12).toString('hex');

// The SQL block under the README's "A read-only role for sql_query" heading, as a user would copy it.
function readmeRoleSql() {
  const text = fs.readFileSync(README, 'utf8');
  const at = text.indexOf('### A read-only role for sql_query');
  assert.ok(at >= 0, 'the README has no "A read-only role for sql_query" section');
  const block = /```sql\n([\s\S]*?)```/.exec(text.slice(at));
  assert.ok(block, 'the README section has no sql block');
  assert.match(block[1], /'change-me'/);
  return block[1].replace("'change-me'", `'${readerPassword}'`);
}

async function call(tool, args) {
  const r = await fetch(server.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  return r.json();
}

async function health() {
  const r = await fetch(server.base + '/health');
  return { status: r.status, body: await r.json() };
}

// Polls /health (bounded) until both sources have been checked.
async function checkedHealth() {
  const deadline = Date.now() + 20000;
  for (;;) {
    const h = await health();
    const d = h.body.details ?? {};
    if (d['postgresql:boss']?.privileges && d['postgresql:reader']?.privileges) return h;
    if (Date.now() > deadline) throw new Error(`the roles were not checked within 20 s: ${JSON.stringify(h.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  pg = await startPostgres();
  await pg.psql(`
    CREATE EXTENSION dblink;
    CREATE ROLE boss LOGIN SUPERUSER PASSWORD '${bossPassword}';
  `);
  await pg.psql(`
    CREATE TABLE prices (id int PRIMARY KEY, lo_price numeric);
    INSERT INTO prices VALUES (1, 9.5), (2, 12);
  `, { asUser: true });
  await pg.psql(readmeRoleSql());
  const url = (user, password) => `postgresql://${user}:${password}@127.0.0.1:${pg.port}/${pg.database}`;
  server = await startSqlServer({
    prefix: 'mcpd-sql-privilege-',
    sources: [
      { name: 'boss', url: url('boss', bossPassword), pool_min: 1, pool_max: 2 },
      { name: 'reader', url: url('mcpd_reader', readerPassword), pool_min: 1, pool_max: 2 },
    ],
  });
});

after(async () => {
  await server?.stop();
  await pg?.cleanup();
});

test('the README role can read, and cannot run the functions it takes back', async () => {
  const r = await call('sql_query', { source: 'reader', sql: 'SELECT id, lo_price FROM prices ORDER BY id' });
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.deepEqual(r.structuredContent.rows, [{ id: 1, lo_price: '9.5' }, { id: 2, lo_price: '12' }]);
  // Straight from the server: the README's SQL left the reader nothing dangerous to execute.
  const canRun = await pg.psql(`SELECT string_agg(DISTINCT p.proname, ',') FROM pg_proc p
    WHERE p.proname IN ('lo_create', 'pg_advisory_lock', 'pg_terminate_backend', 'dblink_exec', 'set_config')
    AND has_function_privilege('mcpd_reader', p.oid, 'EXECUTE')`);
  assert.equal(canRun.trim(), '');
  assert.equal((await pg.psql("SELECT has_table_privilege('mcpd_reader', 'prices', 'INSERT')")).trim(), 'f');
});

test('a superuser source is warned about in the log and in /health; the README role is not', async () => {
  // Calls open a connection on each source (the background warm-up may have done so already).
  assert.equal((await call('sql_query', { source: 'boss', sql: 'SELECT 1 AS one' })).isError, undefined);
  assert.equal((await call('sql_query', { source: 'reader', sql: 'SELECT 1 AS one' })).isError, undefined);
  const h = await checkedHealth();
  // A warning is not an outage.
  assert.equal(h.status, 200, JSON.stringify(h.body));
  assert.equal(h.body.services['postgresql:boss'], 'ok');
  assert.equal(h.body.services['postgresql:reader'], 'ok');

  const boss = h.body.details['postgresql:boss'].privileges;
  assert.equal(boss.role, 'boss');
  assert.equal(boss.warnings.length, 1, JSON.stringify(boss));
  assert.match(boss.warnings[0], /role 'boss' is a superuser/);
  const reader = h.body.details['postgresql:reader'].privileges;
  assert.deepEqual(reader, { role: 'mcpd_reader', warnings: [] });
  // No password in /health.
  assert.ok(!JSON.stringify(h.body).includes(bossPassword) && !JSON.stringify(h.body).includes(readerPassword));

  const warnings = server.logs.filter((l) => l.event === 'sql source role has more privileges than reading needs');
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.equal(warnings[0].source, 'boss');
  assert.match(warnings[0].problems, /superuser/);
  assert.ok(!JSON.stringify(server.logs).includes(bossPassword));
});

test('the owner of the database is warned about the functions it can execute', async () => {
  // The README's SQL took these from PUBLIC; granted to the owner, they are what it is warned about.
  await pg.psql(`GRANT EXECUTE ON FUNCTION lo_create(oid), pg_advisory_lock(bigint), pg_cancel_backend(integer),
    dblink_exec(text) TO ${pg.user};`);
  // A second mcpd, connected as the (non-superuser) owner of the database.
  const owner = await startSqlServer({
    prefix: 'mcpd-sql-privilege-owner-',
    sources: [{ name: 'owner', url: pg.url, pool_min: 1, pool_max: 1 }],
  });
  try {
    const r = await fetch(owner.base + '/call_tool', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'sql_query', arguments: { sql: 'SELECT 1 AS one' } }),
    });
    assert.equal((await r.json()).isError, undefined);
    const deadline = Date.now() + 20000;
    let privileges;
    for (;;) {
      const body = await (await fetch(owner.base + '/health')).json();
      privileges = body.details?.postgresql?.privileges;
      if (privileges) {
        assert.equal(body.services.postgresql, 'ok');
        break;
      }
      assert.ok(Date.now() < deadline, `the role was not checked: ${JSON.stringify(body)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(privileges.role, pg.user);
    assert.equal(privileges.warnings.length, 1, JSON.stringify(privileges));
    assert.match(privileges.warnings[0], /can execute dblink_exec, lo_create, pg_advisory_lock, pg_cancel_backend$/);
    const logged = owner.logs.find((l) => l.event === 'sql source role has more privileges than reading needs');
    assert.equal(logged?.source, 'owner');
  } finally {
    await owner.stop();
  }
});
