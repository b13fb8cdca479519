// The sql pack against a real PostgreSQL 15 (started by the harness on a loopback port): typed rows
// and parameters, seed 003's postgres_query call, 200 concurrent calls through a pool of 10, every
// known way around sql_query's read-only rule refused with nothing written, postgres_init_schema
// run twice with the same result, the seed's environment-only configuration, and faults: PostgreSQL
// killed under load (calls fail, then fail fast once the breaker opens, /health degrades) and started
// again, and a network partition (no answer, no reset): every call ends at its time limit, and
// everything recovers by itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { openSession, postMcp, startServer, startSqlServer } from './lib/mcpd.mjs';
import { startPostgres } from './lib/postgres.mjs';

// The source's limits in the config below; a call may take connect + statement + 1 s at most.
const CONNECT_TIMEOUT_S = 2;
const STATEMENT_TIMEOUT_MS = 2000;
const CALL_LIMIT_MS = CONNECT_TIMEOUT_S * 1000 + STATEMENT_TIMEOUT_MS + 1000;
const SLACK_MS = 3000; // scheduling and HTTP on a busy test machine; this is a bound, not a benchmark

let pg, server;
const pwnedFile = path.join(os.tmpdir(), `mcpd-sql-pwned-${process.pid}`);

async function call(tool, args) {
  const started = Date.now();
  const r = await fetch(server.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  const body = await r.json();
  return { status: r.status, body, ms: Date.now() - started };
}

async function query(sql, params, extra = {}) {
  const { body } = await call('sql_query', { sql, ...(params ? { params } : {}), ...extra });
  return body;
}

async function health() {
  const r = await fetch(server.base + '/health');
  return { status: r.status, body: await r.json() };
}

async function waitFor(what, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const psql = (sql) => pg.psql(sql);

before(async () => {
  pg = await startPostgres();
  // Owned by the role mcpd logs in as: only the read-only session and the statement check stand
  // between sql_query and a write.
  await pg.psql(`
    CREATE TYPE mood AS ENUM ('happy', 'sad');
    CREATE TABLE typed (i2 int2, i4 int4, i8 int8, big int8, f4 float4, f8 float8, nan float8, num numeric(30,10),
      b bool, j json, jb jsonb, bytes bytea, ts timestamp, tstz timestamptz, d date, t text, u uuid, arr int4[],
      m mood, nul text);
    INSERT INTO typed VALUES (1, -2, 3, 9007199254740993, 1.5, 2.25, 'NaN', 12345678901234567890.1234567890,
      true, '{"a": [1, 2]}', '{"b": {"c": null}}', '\\x4869', '2026-01-02 03:04:05', '2026-01-02 03:04:05+00',
      '2026-01-02', 'Zoë', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2,3}', 'happy', NULL);
  `, { asUser: true });
  server = await startSqlServer({
    prefix: 'mcpd-sql-pg-',
    args: ['--workers', '32'],
    sources: [{
      name: 'pg', url: pg.url, allow_writes: true, statement_timeout_ms: STATEMENT_TIMEOUT_MS, max_rows: 500,
      pool_min: 2, pool_max: 10, pool_idle_seconds: 60, breaker_failures: 5, breaker_open_seconds: 2, retries: 3,
      connect_timeout_seconds: CONNECT_TIMEOUT_S,
    }],
  });
});

after(async () => {
  await server?.stop();
  await pg?.cleanup();
  fs.rmSync(pwnedFile, { force: true });
});

test('postgres_init_schema creates the document pipeline schema once; sql_execute writes rows', async () => {
  const first = (await call('postgres_init_schema', {})).body;
  assert.equal(first.isError, undefined, JSON.stringify(first));
  assert.deepEqual(first.structuredContent.applied.map((m) => m.name), ['builtin:document_pipeline_v1']);
  const again = (await call('postgres_init_schema', {})).body;
  assert.deepEqual(again.structuredContent.applied, []);
  assert.deepEqual(again.structuredContent.already_applied, ['builtin:document_pipeline_v1']);
  assert.match(again.content[0].text, /Nothing to apply/);

  for (const [key, type, name] of [['a/1.pdf', 'invoice', '1.pdf'], ['a/2.pdf', 'invoice', '2.pdf'], ['b/3.pdf', 'contract', '3.pdf']]) {
    const r = (await call('sql_execute', {
      sql: 'INSERT INTO documents (s3_key, document_type, file_name, metadata) VALUES ($1, $2, $3, $4) RETURNING id',
      params: [key, type, name, { pages: 2 }],
    })).body;
    assert.equal(r.isError, undefined, JSON.stringify(r));
    assert.equal(r.structuredContent.rows_affected, 1);
    assert.equal(typeof r.structuredContent.rows[0].id, 'number');
  }
  // A write the server refuses changes nothing and says why, with the SQLSTATE.
  const dup = (await call('sql_execute', {
    sql: 'INSERT INTO documents (s3_key, document_type, file_name) VALUES ($1, $2, $3)', params: ['a/1.pdf', 'x', 'x'],
  })).body;
  assert.equal(dup.isError, true);
  assert.match(dup.content[0].text, /duplicate key value.*SQLSTATE 23505/);
  assert.equal(await psql('SELECT count(*) FROM documents'), '3\n');
  // A failed write never leaves session state (here a session advisory lock) on a pooled connection.
  const locked = (await call('sql_execute', { sql: 'SELECT pg_advisory_lock(7), 1 / (SELECT count(*) - count(*) FROM documents)' })).body;
  assert.equal(locked.isError, true);
  assert.equal(await psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), '0\n');
  // The function for the read-only test below, now that documents exists.
  await pg.psql(`CREATE OR REPLACE FUNCTION sneaky_write() RETURNS int LANGUAGE sql AS
    $$ INSERT INTO documents (s3_key, document_type, file_name) VALUES ('sneaky', 'x', 'x') RETURNING 1 $$;`, { asUser: true });
});

test('sql_query returns typed rows and binds parameters', async () => {
  const r = await query('SELECT * FROM typed');
  assert.equal(r.isError, undefined, JSON.stringify(r));
  const row = r.structuredContent.rows[0];
  assert.equal(row.i2, 1);
  assert.equal(row.i4, -2);
  assert.equal(row.i8, 3);
  assert.equal(row.big, '9007199254740993'); // int8 beyond 2^53: exact, as a string
  assert.equal(row.f4, 1.5);
  assert.equal(row.f8, 2.25);
  assert.equal(row.nan, 'NaN');
  assert.equal(row.num, '12345678901234567890.1234567890'); // numeric: exact
  assert.equal(row.b, true);
  assert.deepEqual(row.j, { a: [1, 2] });
  assert.deepEqual(row.jb, { b: { c: null } });
  assert.equal(row.bytes, 'SGk='); // base64 of "Hi"
  assert.equal(row.ts, '2026-01-02 03:04:05');
  assert.match(row.tstz, /^2026-01-0[12] \d\d:04:05[+-]\d\d/);
  assert.equal(row.d, '2026-01-02');
  assert.equal(row.t, 'Zoë');
  assert.equal(row.u, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
  assert.equal(row.arr, '{1,2,3}');
  assert.equal(row.m, 'happy');
  assert.equal(row.nul, null);
  assert.deepEqual(r.structuredContent.columns.map((c) => c.type), [
    'int2', 'int4', 'int8', 'int8', 'float4', 'float8', 'float8', 'numeric', 'bool', 'json', 'jsonb', 'bytea',
    'timestamp', 'timestamptz', 'date', 'text', 'uuid', 'int4[]', 'mood', 'text']);

  const p = await query('SELECT $1::int + $2 AS sum, $3::text AS s, $4::jsonb AS j, $5::bool AS b, $6::text IS NULL AS n',
    [40, 2, "x'); DROP TABLE documents; --", { k: [1] }, false, null]);
  assert.deepEqual(p.structuredContent.rows, [{ sum: 42, s: "x'); DROP TABLE documents; --", j: { k: [1] }, b: false, n: true }]);

  const cut = await query('SELECT g FROM generate_series(1, 100000) g', undefined, { max_rows: 3 });
  assert.deepEqual(cut.structuredContent.rows, [{ g: 1 }, { g: 2 }, { g: 3 }]);
  assert.equal(cut.structuredContent.truncated, true);
  // A result is also cut at 16 MiB of values, whatever max_rows says; the server keeps serving.
  const wide = await query("SELECT g, repeat('x', 1000000) AS filler FROM generate_series(1, 100) g", undefined, { max_rows: 100 });
  assert.equal(wide.isError, undefined, JSON.stringify(wide).slice(0, 300));
  assert.equal(wide.structuredContent.truncated, true);
  assert.equal(wide.structuredContent.row_count, 16);
  assert.match(wide.content[0].text, /truncated at 16 MiB of values/);
  assert.deepEqual((await query('SELECT 1 AS one')).structuredContent.rows, [{ one: 1 }]);

  const bad = await query('SELECT * FROM nope');
  assert.equal(bad.isError, true);
  assert.match(bad.content[0].text, /relation "nope" does not exist \(SQLSTATE 42P01/);
});

test("seed 003's postgres_query call works as it is written", async () => {
  const r = await fetch(server.base + '/call_tool', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"tool": "postgres_query", "arguments": {"query": "SELECT COUNT(*) FROM documents"}}',
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.deepEqual(body.structuredContent.rows, [{ count: 3 }]);
  assert.equal(body.structuredContent.source, 'pg');
  assert.match(body.content[0].text, /count/);
});

test('200 concurrent calls share at most 10 connections, and all succeed', async () => {
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const n = Number(await psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mcpd'"));
      peak = Math.max(peak, n);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const calls = Array.from({ length: 200 }, (_, i) =>
    query('SELECT pg_sleep(0.02), $1::int AS n, count(*) AS docs FROM documents', [i]));
  const results = await Promise.all(calls);
  sampling = false;
  await sampler;
  for (const [i, r] of results.entries()) {
    assert.equal(r.isError, undefined, JSON.stringify(r));
    assert.equal(r.structuredContent.rows[0].n, i);
    assert.equal(r.structuredContent.rows[0].docs, 3);
  }
  assert.ok(peak <= 10, `pg_stat_activity showed ${peak} mcpd connections`);
  assert.ok(peak >= 2, `the calls ran concurrently (peak ${peak})`);
  const h = await health();
  assert.ok(h.body.details.postgresql.pool.open <= 10);
});

test('every way around the read-only rule is refused, and nothing is written', async () => {
  const before = await psql('SELECT count(*) FROM documents');
  const attempts = [
    'COMMIT; DROP TABLE documents',
    'SELECT 1; DELETE FROM documents',
    'SELECT 1; SELECT 2',
    "SELECT 1;\nINSERT INTO documents (s3_key, document_type, file_name) VALUES ('x', 'x', 'x')",
    'WITH gone AS (DELETE FROM documents RETURNING *) SELECT count(*) FROM gone',
    "WITH x AS (INSERT INTO documents (s3_key, document_type, file_name) VALUES ('y', 'y', 'y') RETURNING 1) SELECT * FROM x",
    'SELECT * INTO documents_copy FROM documents',
    `COPY documents TO PROGRAM 'touch ${pwnedFile}'`,
    `COPY (SELECT 1) TO '${pwnedFile}'`,
    'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE',
    'SET default_transaction_read_only = off',
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity',
    "SELECT lo_import('/etc/passwd')",
    "SELECT pg_read_file('/etc/passwd')",
    'DROP TABLE documents',
    'dElEtE FROM documents',
    '/* just a comment */ DELETE /* another */ FROM documents',
    '-- a comment\nTRUNCATE documents',
    'BEGIN READ WRITE',
    'EXPLAIN ANALYZE DELETE FROM documents',
    'SELECT * FROM documents FOR UPDATE',
    "DO $$ BEGIN DELETE FROM documents; END $$",
    'CALL anything()',
    'LOCK TABLE documents',
    'VACUUM documents',
    "PREPARE p AS DELETE FROM documents",
    "SELECT 1 /* ; */ ; DELETE FROM documents",
  ];
  for (const sql of attempts) {
    const r = await query(sql);
    assert.equal(r.isError, true, `accepted: ${sql}\n${JSON.stringify(r)}`);
    assert.ok(r.content[0].text.length > 10, sql);
  }
  // Past the statement check, the session itself is read-only: a function that writes is refused by
  // the server (SQLSTATE 25006), and nothing is written.
  const deep = await query('SELECT sneaky_write()');
  assert.equal(deep.isError, true);
  assert.match(deep.content[0].text, /read-only transaction.*25006/);

  assert.equal(await psql('SELECT count(*) FROM documents'), before);
  assert.equal(await psql("SELECT count(*) FROM documents WHERE s3_key IN ('x', 'y', 'sneaky')"), '0\n');
  assert.equal(await psql("SELECT to_regclass('documents_copy') IS NULL"), 't\n');
  assert.ok(!fs.existsSync(pwnedFile), 'COPY TO PROGRAM ran');
  assert.equal(await psql('SELECT count(*) FROM pg_largeobject_metadata'), '0\n');
  // Sessions are still read-only by default, and sql_query still works.
  const ro = await query('SHOW default_transaction_read_only');
  assert.deepEqual(ro.structuredContent.rows, [{ default_transaction_read_only: 'on' }]);
});

test('postgres_init_schema applies migrations once, in one transaction, and dry_run changes nothing', async () => {
  const sql = 'CREATE TABLE IF NOT EXISTS tags (id serial PRIMARY KEY, name text UNIQUE NOT NULL);';
  const schemaOf = () => psql("SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public'");
  const first = (await call('postgres_init_schema', { sql })).body;
  assert.equal(first.structuredContent.applied.length, 1);
  const schema = await schemaOf();
  const second = (await call('postgres_init_schema', { sql })).body;
  assert.deepEqual(second.structuredContent.applied, []);
  assert.equal(second.structuredContent.already_applied.length, 1);
  assert.equal(await schemaOf(), schema);

  const migrations = path.join(server.dir, 'migrations');
  fs.mkdirSync(migrations);
  fs.writeFileSync(path.join(migrations, '001_labels.sql'), 'CREATE TABLE labels (id int PRIMARY KEY);\n');
  fs.writeFileSync(path.join(migrations, '002_label_names.sql'), 'ALTER TABLE labels ADD COLUMN name text;\nINSERT INTO labels VALUES (1, \'one\');\n');
  const applied = (await call('postgres_init_schema', { migrations_dir: migrations })).body;
  assert.deepEqual(applied.structuredContent.applied.map((m) => m.name), ['001_labels.sql', '002_label_names.sql']);
  const afterFirst = await schemaOf();
  const rerun = (await call('postgres_init_schema', { migrations_dir: migrations })).body;
  assert.deepEqual(rerun.structuredContent.applied, []);
  assert.equal(await schemaOf(), afterFirst);
  assert.equal(await psql('SELECT count(*) FROM labels'), '1\n');

  // dry_run: runs and validates inside the transaction, then rolls back.
  fs.writeFileSync(path.join(migrations, '003_colour.sql'), 'ALTER TABLE labels ADD COLUMN colour text;\n');
  const dry = (await call('postgres_init_schema', { migrations_dir: migrations, dry_run: true })).body;
  assert.deepEqual(dry.structuredContent.applied.map((m) => m.name), ['003_colour.sql']);
  assert.equal(dry.structuredContent.dry_run, true);
  assert.equal(await schemaOf(), afterFirst);
  // A failing migration applies nothing, not even the good ones before it.
  fs.writeFileSync(path.join(migrations, '004_broken.sql'), 'ALTER TABLE nope ADD COLUMN x int;\n');
  const broken = (await call('postgres_init_schema', { migrations_dir: migrations })).body;
  assert.equal(broken.isError, true);
  assert.match(broken.content[0].text, /004_broken\.sql failed, and nothing was applied/);
  assert.equal(await schemaOf(), afterFirst);
  // An applied file that changed is an error naming it.
  fs.rmSync(path.join(migrations, '004_broken.sql'));
  fs.writeFileSync(path.join(migrations, '001_labels.sql'), 'CREATE TABLE labels (id bigint PRIMARY KEY);\n');
  const changed = (await call('postgres_init_schema', { migrations_dir: migrations })).body;
  assert.equal(changed.isError, true);
  assert.match(changed.content[0].text, /001_labels\.sql was applied already with other content/);
  assert.equal(await psql('SELECT count(*) FROM mcpd_schema_migrations'), '4\n');
});

test('tables, descriptions and schema resources come from the catalog', async () => {
  const list = (await call('sql_list_tables', {})).body;
  const names = list.structuredContent.tables.map((t) => `${t.schema}.${t.name}`);
  for (const n of ['public.documents', 'public.processing_logs', 'public.typed', 'public.mcpd_schema_migrations'])
    assert.ok(names.includes(n), n);
  const d = (await call('sql_describe_table', { table: 'documents' })).body.structuredContent;
  assert.deepEqual(d.primary_key, ['id']);
  assert.equal(d.columns.find((c) => c.name === 's3_key').nullable, false);
  assert.match(d.columns.find((c) => c.name === 'id').default, /nextval/);

  const sid = await openSession(server.url);
  const read = await postMcp(server.url, { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'sql://pg/public.processing_logs' } },
    { 'mcp-session-id': sid });
  const contents = read.json.result.contents[0];
  assert.equal(contents.mimeType, 'application/json');
  const schema = JSON.parse(contents.text);
  assert.equal(schema.schema, 'public');
  assert.deepEqual(schema.primary_key, ['id']);
  assert.ok(schema.columns.some((c) => c.name === 'details' && c.type === 'jsonb'));
  const missing = await postMcp(server.url, { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'sql://pg/nope' } },
    { 'mcp-session-id': sid });
  assert.equal(missing.json.error.code, -32002);
});

test('a statement that runs too long is stopped at statement_timeout_ms', async () => {
  const { body, ms } = await call('sql_query', { sql: 'SELECT pg_sleep(30)' });
  assert.equal(body.isError, true);
  assert.match(body.content[0].text, /statement_timeout_ms \(2000 ms\)/);
  assert.ok(ms < CALL_LIMIT_MS + SLACK_MS, `took ${ms} ms`);
  assert.equal((await query('SELECT 1 AS one')).structuredContent.rows[0].one, 1);
});

test('PostgreSQL killed under load: calls fail, then fail fast; /health degrades; all recovers by itself', async () => {
  const outcomes = [];
  let loading = true;
  const worker = async (i) => {
    while (loading) {
      const sql = i % 2 ? 'SELECT pg_sleep(0.2), count(*) FROM documents' : 'SELECT count(*) FROM documents';
      const { body, ms } = await call('sql_query', { sql });
      outcomes.push({ ok: !body.isError, text: body.content?.[0]?.text ?? '', ms });
    }
  };
  const workers = Array.from({ length: 8 }, (_, i) => worker(i));
  await waitFor('calls succeeding before the fault', async () => outcomes.filter((o) => o.ok).length >= 10);
  const killedAt = outcomes.length;
  await pg.kill();
  await waitFor('the breaker to answer for the dead server',
    async () => outcomes.slice(killedAt).some((o) => /circuit breaker/.test(o.text)), 20000);
  const degraded = await health();
  loading = false;
  await Promise.all(workers);

  const during = outcomes.slice(killedAt);
  assert.ok(during.some((o) => !o.ok), 'calls failed while PostgreSQL was down');
  const fast = during.filter((o) => /circuit breaker open/.test(o.text));
  assert.ok(fast.length > 0, 'the breaker opened');
  assert.match(fast[0].text, /after 5 consecutive failures/);
  for (const o of outcomes) assert.ok(o.ms < CALL_LIMIT_MS + SLACK_MS, `a call took ${o.ms} ms: ${o.text}`);
  assert.equal(degraded.status, 503);
  assert.equal(degraded.body.status, 'degraded');
  assert.notEqual(degraded.body.services.postgresql, 'ok');

  await pg.start();
  await waitFor('a query to succeed again', async () => !(await query('SELECT count(*) AS n FROM documents')).isError);
  const healthy = await waitFor('/health to say ok again', async () => {
    const h = await health();
    return h.status === 200 ? h : null;
  });
  assert.equal(healthy.body.services.postgresql, 'ok');
  assert.equal(healthy.body.status, 'healthy');
  for (let i = 0; i < 10; ++i) {
    const r = await query('SELECT count(*) AS n FROM documents');
    assert.equal(r.isError, undefined, JSON.stringify(r));
    assert.equal(r.structuredContent.rows[0].n, 3);
  }
});

test("seed 003's environment alone (POSTGRES_HOST, ...) configures a postgres source next to the sample", async () => {
  const seeded = await startServer({
    args: ['--enable-pack', 'sql'],
    env: {
      DATABASE_URL: null, POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(pg.port), POSTGRES_DB: pg.database,
      POSTGRES_USER: pg.user, POSTGRES_PASSWORD: pg.password, MCP_DATA_DIR: path.join(server.dir, 'data3'),
    },
  });
  try {
    const r = await fetch(seeded.base + '/call_tool', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: '{"tool": "postgres_query", "arguments": {"query": "SELECT COUNT(*) FROM documents"}}',
    });
    const body = await r.json();
    assert.equal(body.structuredContent.source, 'postgres');
    assert.deepEqual(body.structuredContent.rows, [{ count: 3 }]);
    const h = await (await fetch(seeded.base + '/health')).json();
    assert.deepEqual(h.services, { postgresql: 'ok', 'sqlite:sample': 'ok' });
    assert.ok(!JSON.stringify(seeded.logs).includes(pg.password));
  } finally {
    await seeded.stop();
  }
});

// A TCP proxy in front of PostgreSQL that can stop forwarding, like a network partition: nothing is
// refused or reset, bytes just stop arriving. Thawing drops the connections cut in the middle.
async function freezableProxy(targetPort) {
  let frozen = false;
  const pairs = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('data', (d) => { if (!frozen) upstream.write(d); });
    upstream.on('data', (d) => { if (!frozen) client.write(d); });
    const end = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
    for (const s of [client, upstream]) { s.on('error', end); s.on('close', end); }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    freeze() { frozen = true; },
    thaw() {
      frozen = false;
      for (const { client, upstream } of pairs) { client.destroy(); upstream.destroy(); }
      pairs.clear();
    },
    close() { this.thaw(); return new Promise((resolve) => server.close(resolve)); },
  };
}

test('a backend that stops answering: every call ends at its time limit, the breaker opens, and all recovers', async () => {
  const proxy = await freezableProxy(pg.port);
  const limitMs = 1000 + 1000 + 1000; // connect + statement + 1 s
  const other = await startSqlServer({
    prefix: 'mcpd-sql-pg-partition-',
    args: ['--workers', '16'],
    sources: [{
      name: 'pg', url: `postgresql://${pg.user}:${pg.password}@127.0.0.1:${proxy.port}/${pg.database}`,
      statement_timeout_ms: 1000, connect_timeout_seconds: 1, breaker_failures: 3, breaker_open_seconds: 1, retries: 2,
    }],
  });
  const run = async (sql) => {
    const started = Date.now();
    const r = await fetch(other.base + '/call_tool', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'sql_query', arguments: { sql } }),
    });
    const body = await r.json();
    return { ok: !body.isError, text: body.content[0].text, ms: Date.now() - started };
  };
  try {
    assert.ok((await run('SELECT 1')).ok);
    proxy.freeze();
    const stuck = await Promise.all(Array.from({ length: 6 }, () => run('SELECT count(*) FROM documents')));
    for (const o of stuck) {
      assert.equal(o.ok, false, o.text);
      assert.ok(o.ms < limitMs + SLACK_MS, `a call took ${o.ms} ms: ${o.text}`);
    }
    assert.ok(stuck.some((o) => /did not answer in time|timed out/.test(o.text)), JSON.stringify(stuck));
    const fast = await waitFor('the breaker to open', async () => {
      const o = await run('SELECT 1');
      return /circuit breaker/.test(o.text) ? o : null;
    });
    assert.ok(fast.ms < limitMs, `the open breaker answered in ${fast.ms} ms`);
    const h = await fetch(other.base + '/health');
    assert.equal(h.status, 503);
    assert.notEqual((await h.json()).services.postgresql, 'ok');

    proxy.thaw();
    await waitFor('a query to succeed after the partition', async () => (await run('SELECT 1')).ok);
    await waitFor('/health to recover', async () => (await fetch(other.base + '/health')).status === 200);
  } finally {
    await other.stop();
    await proxy.close();
  }
});

test('the password never reaches the logs', async () => {
  const logs = JSON.stringify(server.logs);
  assert.ok(!logs.includes(pg.password));
  assert.ok(server.logs.some((l) => l.event === 'sql source' && l.target === `mcpd@127.0.0.1:${pg.port}/mcpd_test`));
});
