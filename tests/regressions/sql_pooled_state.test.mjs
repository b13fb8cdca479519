// Regression: session state left on a pooled PostgreSQL connection by one sql_query call reached the
// next caller (a session advisory lock taken by a function the role owns). Every call now rolls back
// and resets its connection; with a pool of one, the next call runs on the same, clean, session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSqlServer } from '../integration/lib/mcpd.mjs';
import { startPostgres } from '../integration/lib/postgres.mjs';

const STATEMENT_TIMEOUT_MS = 3000; // shown by SHOW statement_timeout as "3s"

let pg, server;

async function query(sql) {
  const r = await fetch(server.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool: 'sql_query', arguments: { sql } }),
  });
  return r.json();
}

// What any later caller sees of its session, and who it is (the backend pid shows the reuse).
const SESSION = `SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS statement_timeout,
  current_setting('search_path') AS search_path, current_setting('default_transaction_read_only') AS read_only,
  coalesce(current_setting('mcpd_test.marker', true), '') AS marker, current_user::text AS who,
  (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory') AS advisory_locks`;

// As the superuser: advisory locks held by any backend, and large objects in the database.
const advisoryLocks = async () => Number(await pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"));
const largeObjects = async () => Number(await pg.psql('SELECT count(*) FROM pg_largeobject_metadata'));

before(async () => {
  pg = await startPostgres();
  // Functions the role owns: the statement check has no reason to refuse calling them, and the
  // read-only transaction does not stop them taking session locks or changing settings.
  await pg.psql(`
    CREATE FUNCTION grab() RETURNS int LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_lock(7);
      PERFORM pg_advisory_lock_shared(8);
      PERFORM pg_try_advisory_lock(9, 10);
      PERFORM set_config('search_path', 'pg_catalog', false);
      PERFORM set_config('statement_timeout', '0', false);
      PERFORM set_config('default_transaction_read_only', 'off', false);
      PERFORM set_config('mcpd_test.marker', 'left behind', false);
      RETURN 1;
    END $$;
    CREATE FUNCTION grab_then_fail() RETURNS int LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM grab();
      RETURN 1 / 0;
    END $$;
    CREATE FUNCTION make_object() RETURNS oid LANGUAGE sql AS 'SELECT lo_create(0)';
  `, { asUser: true });
  // One connection: every call reuses the one before it.
  server = await startSqlServer({
    prefix: 'mcpd-sql-pooled-',
    sources: [{
      name: 'pg', url: pg.url, statement_timeout_ms: STATEMENT_TIMEOUT_MS, pool_min: 1, pool_max: 1, retries: 1,
      connect_timeout_seconds: 5,
    }],
  });
});

after(async () => {
  await server?.stop();
  await pg?.cleanup();
});

function assertClean(row, pid, what) {
  assert.equal(row.pid, pid, `${what}: the pooled connection was replaced rather than reset and reused`);
  assert.deepEqual(
    { statement_timeout: row.statement_timeout, search_path: row.search_path, read_only: row.read_only, marker: row.marker, who: row.who, advisory_locks: row.advisory_locks },
    { statement_timeout: '3s', search_path: '"$user", public', read_only: 'on', marker: '', who: 'mcpd', advisory_locks: 0 },
    what);
}

test('a session lock and settings left by a function the role owns do not reach the next call', async () => {
  const grabbed = await query('SELECT grab(), pg_backend_pid() AS pid');
  assert.equal(grabbed.isError, undefined, JSON.stringify(grabbed));
  assert.equal(grabbed.structuredContent.rows[0].grab, 1);
  const pid = grabbed.structuredContent.rows[0].pid;
  assert.equal(await advisoryLocks(), 0, 'an advisory lock is still held after the call');

  for (let i = 0; i < 3; ++i) {
    const next = await query(SESSION);
    assert.equal(next.isError, undefined, JSON.stringify(next));
    assertClean(next.structuredContent.rows[0], pid, `call ${i + 1} after grab()`);
  }
});

test('a failing call that took a lock leaves nothing behind either', async () => {
  const first = (await query(SESSION)).structuredContent.rows[0];
  const failed = await query('SELECT grab_then_fail()');
  assert.equal(failed.isError, true);
  assert.match(failed.content[0].text, /division by zero/);
  assert.equal(await advisoryLocks(), 0, 'an advisory lock is still held after the failed call');
  assertClean((await query(SESSION)).structuredContent.rows[0], first.pid, 'after the failed call');
});

test('what a read-only transaction still lets a function do is rolled back, never committed', async () => {
  const before = await largeObjects();
  const made = await query('SELECT make_object() AS id');
  // Either PostgreSQL refuses it in a read-only transaction, or it is created and rolled back.
  if (made.isError === true) assert.match(made.content[0].text, /read-only|SQLSTATE/);
  assert.equal(await largeObjects(), before, 'a large object created by sql_query survived the call');
  const pid = (await query('SELECT pg_backend_pid() AS pid')).structuredContent.rows[0].pid;
  assertClean((await query(SESSION)).structuredContent.rows[0], pid, 'after make_object()');
});
