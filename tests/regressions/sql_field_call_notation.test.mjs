// Regression: sql_query wrote and disrupted through PostgreSQL's field-call notation, `(x).f` for
// `f(x)`: a large object created, a session advisory lock kept, another backend cancelled or ended,
// and a DELETE run through dblink on a session that is not read-only. Each spelling must be refused
// with a reason, and the superuser must find nothing changed; reads using the same words still work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSqlServer } from '../integration/lib/mcpd.mjs';
import { startPostgres } from '../integration/lib/postgres.mjs';

let pg, server, victim, victimPid;
const VICTIM_SECONDS = 55; // ended by after() long before that

async function query(sql) {
  const r = await fetch(server.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool: 'sql_query', arguments: { sql } }),
  });
  return r.json();
}

// Everything an attempt could have changed, read as the superuser.
async function state() {
  const out = await pg.psql(`SELECT
    (SELECT count(*) FROM pg_largeobject_metadata),
    (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'),
    (SELECT count(*) FROM pg_stat_activity WHERE pid = ${victimPid} AND state = 'active'),
    (SELECT count(*) FROM remote_rows),
    (SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dblink')`);
  const [largeObjects, advisoryLocks, victimAlive, remoteRows, dblinkSessions] = out.trim().split('|').map(Number);
  return { largeObjects, advisoryLocks, victimAlive, remoteRows, dblinkSessions };
}

before(async () => {
  pg = await startPostgres();
  await pg.psql('CREATE EXTENSION dblink;');
  await pg.psql(`
    CREATE TABLE remote_rows (id int PRIMARY KEY);
    INSERT INTO remote_rows VALUES (1), (2), (3);
    CREATE TABLE prices (id int PRIMARY KEY, lo_price numeric, pg_advisory_lock text);
    INSERT INTO prices VALUES (1, 9.5, 'a column, not a call');
  `, { asUser: true });
  // A backend of the same role that must survive: a long sleep, named so it can be found.
  victim = pg.psql(`SET application_name = 'victim'; SELECT pg_sleep(${VICTIM_SECONDS});`, { asUser: true }).catch(() => null);
  const deadline = Date.now() + 10000;
  while (!victimPid) {
    const pid = (await pg.psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'victim' AND state = 'active'")).trim();
    if (pid) victimPid = Number(pid);
    else if (Date.now() > deadline) throw new Error('the victim session did not start');
    else await new Promise((r) => setTimeout(r, 100));
  }
  // One connection, so that anything left on it would meet the next attempt.
  server = await startSqlServer({
    prefix: 'mcpd-sql-fieldcall-',
    sources: [{ name: 'pg', url: pg.url, statement_timeout_ms: 3000, pool_min: 1, pool_max: 1, retries: 1 }],
  });
});

after(async () => {
  await server?.stop();
  if (victimPid) await pg?.psql(`SELECT pg_terminate_backend(${victimPid})`).catch(() => null);
  await victim;
  await pg?.cleanup();
});

test('every spelling of a dangerous call in field-call notation is refused, and nothing changes', async () => {
  const clean = await state();
  assert.deepEqual(clean, { largeObjects: 0, advisoryLocks: 0, victimAlive: 1, remoteRows: 3, dblinkSessions: 0 });
  const conn = `host=127.0.0.1 port=${pg.port} dbname=${pg.database} user=${pg.user} password=${pg.password} application_name=dblink`;
  const attempts = [
    'SELECT (0::oid).lo_create',
    'SELECT (0::oid)."lo_create"',
    'SELECT (0::oid). /* between */ lo_create',
    'SELECT (0::oid).\n-- a line comment\nlo_create',
    'SELECT (0::oid).U&"lo\\005fcreate"',
    'SELECT (0::oid).LO_CREATE',
    'SELECT (SELECT 0::oid).lo_create',
    'SELECT (x).lo_create FROM (SELECT 0::oid AS x) s',
    'SELECT (s.x).lo_create FROM (SELECT 0::oid AS x) s',
    'SELECT (42::bigint).pg_advisory_lock',
    'SELECT (42::bigint)."pg_advisory_lock"',
    'SELECT (42::bigint).pg_try_advisory_lock',
    'SELECT (42::bigint).pg_advisory_lock_shared',
    `SELECT (pid).pg_cancel_backend FROM pg_stat_activity WHERE pid = ${victimPid}`,
    `SELECT (pid).pg_terminate_backend FROM pg_stat_activity WHERE pid = ${victimPid}`,
    `SELECT (${victimPid}).pg_terminate_backend`,
    `SELECT (a.pid)."pg_terminate_backend" FROM pg_stat_activity a WHERE a.application_name = 'victim'`,
    `SELECT ('${conn}').dblink_connect`,
    "SELECT ('DELETE FROM remote_rows').dblink_exec",
    `SELECT dblink_exec('${conn}', 'DELETE FROM remote_rows')`,
    `SELECT * FROM dblink('${conn}', 'DELETE FROM remote_rows RETURNING id') AS t(id int)`,
  ];
  for (const sql of attempts) {
    const r = await query(sql);
    assert.equal(r.isError, true, `accepted: ${sql}\n${JSON.stringify(r)}`);
    assert.ok(r.content[0].text.length > 10, `no reason given for: ${sql}`);
    assert.deepEqual(await state(), clean, `changed something: ${sql}\n${r.content[0].text}`);
  }
});

test('reads that only mention those names still pass', async () => {
  const reads = [
    "SELECT 'lo_create' AS fn, '(0::oid).lo_create' AS text, count(*) AS n FROM prices",
    'SELECT p.lo_price, pg_advisory_lock FROM prices p',
    'SELECT (p).lo_price FROM prices p',
    'SELECT lo_price -- then (0::oid).lo_create in a comment\nFROM prices',
    'SELECT /* (42::bigint).pg_advisory_lock */ id FROM prices',
  ];
  for (const sql of reads) {
    const r = await query(sql);
    assert.equal(r.isError, undefined, `refused: ${sql}\n${JSON.stringify(r)}`);
    assert.equal(r.structuredContent.row_count, 1, sql);
  }
  const clean = await state();
  assert.deepEqual(clean, { largeObjects: 0, advisoryLocks: 0, victimAlive: 1, remoteRows: 3, dblinkSessions: 0 });
});
