// The sql pack with zero configuration: the embedded SQLite sample database over MCP (the official
// SDK client, which validates structured results against each tool's outputSchema) and over the
// REST facade: list tables, describe, query with parameters, the table-schema resources and their
// completions, refused writes that change nothing, and /health.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, requireTool } from './lib/mcpd.mjs';

const { Client } = requireTool('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = requireTool('@modelcontextprotocol/sdk/client/streamableHttp.js');

const opts = { timeout: 10_000 };
let dataDir, server, client;

async function rest(tool, args) {
  const r = await fetch(server.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  assert.equal(r.status, 200);
  return r.json();
}

async function count(table) {
  const r = await client.callTool({ name: 'sql_query', arguments: { sql: `SELECT count(*) AS n FROM ${table}` } }, undefined, opts);
  assert.equal(r.isError, undefined, JSON.stringify(r));
  return r.structuredContent.rows[0].n;
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-sql-sqlite-'));
  // No [packs.sql] settings and no PostgreSQL in the environment: only the sample database.
  server = await startServer({
    args: ['--enable-pack', 'sql'],
    env: { MCP_DATA_DIR: dataDir, DATABASE_URL: null, POSTGRES_HOST: null },
  });
  client = new Client({ name: 'mcpd-sql-tests', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url)), opts);
});

after(async () => {
  await client?.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('the tools are listed with their annotations, and the sample database is created on first start', async () => {
  const { tools } = await client.listTools(undefined, opts);
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  for (const name of ['sql_query', 'postgres_query', 'sql_execute', 'sql_list_tables', 'sql_describe_table', 'postgres_init_schema'])
    assert.ok(byName[name], `${name} is listed`);
  assert.equal(byName.sql_query.annotations.readOnlyHint, true);
  assert.equal(byName.postgres_init_schema.annotations.destructiveHint, true);
  assert.equal(byName.postgres_init_schema.annotations.idempotentHint, true);
  assert.deepEqual(byName.sql_query.inputSchema.properties.source.enum, ['sample']);
  assert.ok(fs.existsSync(path.join(dataDir, 'sample.db')));
  assert.ok(server.logs.some((l) => l.event === 'sql sample database created'));
});

test('sql_list_tables and sql_describe_table show the sample schema', async () => {
  const list = await client.callTool({ name: 'sql_list_tables', arguments: {} }, undefined, opts);
  assert.deepEqual(list.structuredContent.tables.map((t) => t.name), ['documents', 'processing_logs']);
  assert.match(list.content[0].text, /main\.documents/);

  const described = await client.callTool({ name: 'sql_describe_table', arguments: { source: 'sample', table: 'documents' } }, undefined, opts);
  const schema = described.structuredContent;
  assert.deepEqual(schema.primary_key, ['id']);
  const status = schema.columns.find((c) => c.name === 'status');
  assert.equal(status.nullable, false);
  assert.equal(status.default, "'pending'");
  assert.match(described.content[0].text, /status text NOT NULL DEFAULT 'pending'/);

  const missing = await client.callTool({ name: 'sql_describe_table', arguments: { table: 'nope' } }, undefined, opts);
  assert.equal(missing.isError, true);
  assert.match(missing.content[0].text, /no table or view named 'nope'.*sql_list_tables/);
});

test('sql_query returns typed rows, binds parameters, and truncates at max_rows with a flag', async () => {
  const r = await client.callTool({
    name: 'sql_query',
    arguments: {
      sql: 'SELECT id, file_name, validation_score, file_size, error_message FROM documents WHERE document_type = ? AND id >= ? ORDER BY id',
      params: ['invoice', 1],
    },
  }, undefined, opts);
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.deepEqual(r.structuredContent.rows, [
    { id: 1, file_name: 'inv-0001.pdf', validation_score: 0.97, file_size: 48213, error_message: null },
    { id: 3, file_name: 'inv-0002.pdf', validation_score: null, file_size: 51877, error_message: null },
  ]);
  assert.deepEqual(r.structuredContent.columns.map((c) => c.type), ['integer', 'text', 'real', 'integer', 'text']);
  assert.equal(r.structuredContent.row_count, 2);
  assert.equal(r.structuredContent.truncated, false);
  assert.match(r.content[0].text, /inv-0001\.pdf/);

  const cut = await client.callTool({ name: 'sql_query', arguments: { sql: 'SELECT id FROM documents ORDER BY id', max_rows: 2 } }, undefined, opts);
  assert.deepEqual(cut.structuredContent.rows, [{ id: 1 }, { id: 2 }]);
  assert.equal(cut.structuredContent.truncated, true);
  assert.match(cut.content[0].text, /truncated at max_rows=2/);
});

test('the seed\'s postgres_query call with "query" works on the embedded default', async () => {
  const r = await rest('postgres_query', { query: 'SELECT COUNT(*) FROM documents' });
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.deepEqual(r.structuredContent.rows, [{ 'COUNT(*)': 5 }]);
  assert.equal(r.structuredContent.source, 'sample');
});

test('writes are refused, through sql_query and sql_execute, and change nothing', async () => {
  const attempts = [
    'DELETE FROM documents',
    'SELECT 1; DELETE FROM documents',
    '/* hi */ dElEtE FROM documents',
    "WITH x AS (SELECT 1) INSERT INTO documents (s3_key, document_type, file_name) VALUES ('k', 't', 'f')",
    'DROP TABLE processing_logs',
    `ATTACH DATABASE '${path.join(dataDir, 'evil.db')}' AS evil`,
    'PRAGMA user_version = 9',
  ];
  for (const sql of attempts) {
    const r = await client.callTool({ name: 'sql_query', arguments: { sql } }, undefined, opts);
    assert.equal(r.isError, true, `refused: ${sql}`);
    assert.ok(r.content[0].text.length > 0);
  }
  const exec = await client.callTool({ name: 'sql_execute', arguments: { sql: 'DELETE FROM documents' } }, undefined, opts);
  assert.equal(exec.isError, true);
  assert.match(exec.content[0].text, /read-only; set allow_writes = true/);
  const init = await client.callTool({ name: 'postgres_init_schema', arguments: { sql: 'CREATE TABLE t (x)' } }, undefined, opts);
  assert.equal(init.isError, true);
  assert.equal(await count('documents'), 5);
  assert.equal(await count('processing_logs'), 8);
  assert.ok(!fs.existsSync(path.join(dataDir, 'evil.db')));
});

test('table schemas are resources, with completions for the source and the table', async () => {
  const { resourceTemplates } = await client.listResourceTemplates(undefined, opts);
  const tmpl = resourceTemplates.find((t) => t.uriTemplate === 'sql://{source}/{table}');
  assert.ok(tmpl);
  assert.equal(tmpl.mimeType, 'application/json');

  const read = await client.readResource({ uri: 'sql://sample/processing_logs' }, opts);
  assert.equal(read.contents[0].mimeType, 'application/json');
  const schema = JSON.parse(read.contents[0].text);
  assert.equal(schema.table, 'processing_logs');
  assert.ok(schema.columns.some((c) => c.name === 'document_id' && c.nullable === false));

  await assert.rejects(client.readResource({ uri: 'sql://sample/nope' }, opts), /not found/i);
  await assert.rejects(client.readResource({ uri: 'sql://other/documents' }, opts), /not found/i);

  const sources = await client.complete({ ref: { type: 'ref/resource', uri: 'sql://{source}/{table}' }, argument: { name: 'source', value: 'sa' } }, opts);
  assert.deepEqual(sources.completion.values, ['sample']);
  // Table names come from what the maintenance thread saw (at start-up, then every few seconds).
  const tables = await client.complete({
    ref: { type: 'ref/resource', uri: 'sql://{source}/{table}' },
    argument: { name: 'table', value: 'proc' },
    context: { arguments: { source: 'sample' } },
  }, opts);
  assert.deepEqual(tables.completion.values, ['processing_logs']);
});

test('/health reports the sample source', async () => {
  const r = await fetch(server.base + '/health');
  const body = await r.json();
  assert.equal(r.status, 200);
  assert.equal(body.services['sqlite:sample'], 'ok');
});
