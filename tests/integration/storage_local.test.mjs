// The storage pack with no configuration: a local store under the data directory, listed and read
// over MCP with the official SDK client; writes are absent until allowed; with writes on, every
// tool works on the local store, and path traversal through the tools (.., absolute keys, NUL,
// backslashes, a bucket named .., a symbolic link pointing outside) is refused with nothing written
// outside the store's root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, requireTool } from './lib/mcpd.mjs';

const { Client } = requireTool('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = requireTool('@modelcontextprotocol/sdk/client/streamableHttp.js');

let dir, dataDir, root, readOnly, writable;

async function call(srv, tool, args) {
  const r = await fetch(srv.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  return { status: r.status, ...(await r.json()) };
}

async function ok(srv, tool, args) {
  const r = await call(srv, tool, args);
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.ok(!r.isError, `${tool} ${JSON.stringify(args)} failed: ${JSON.stringify(r.content)}`);
  return r;
}

async function refused(srv, tool, args, pattern) {
  const r = await call(srv, tool, args);
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)} should fail: ${JSON.stringify(r)}`);
  if (pattern) assert.match(r.content[0].text, pattern);
  return r.content[0].text;
}

// Every file under `top` that is not under `inside`, as paths relative to `top`.
// Every file under `top` but outside `inside`, except the server's own audit log (data/audit.db and its
// -wal/-shm files, which its writer thread creates when it first opens the database, at any moment).
function filesOutside(top, inside) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (p === inside) continue;
      if (/^audit\.db(-wal|-shm|-journal)?$/.test(e.name)) continue;
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(top, p));
    }
  };
  walk(top);
  return out.sort();
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-storage-local-'));
  dataDir = path.join(dir, 'data');
  root = path.join(dataDir, 'storage');
  // No [packs.storage] at all: the zero configuration.
  readOnly = await startServer({ args: ['--enable-pack', 'storage'], env: { MCP_DATA_DIR: dataDir, S3_BUCKET: null } });
});

after(async () => {
  await readOnly?.stop();
  await writable?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('zero configuration: the local store lists and reads its README over MCP', async () => {
  assert.ok(fs.statSync(path.join(root, 'documents', 'README.txt')).isFile());
  const client = new Client({ name: 'storage-local-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(readOnly.url)));
  try {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['s3_get_object', 's3_head_object', 's3_list_objects', 's3_presign_url']);

    const list = await client.callTool({ name: 's3_list_objects', arguments: {} });
    assert.ok(!list.isError, JSON.stringify(list));
    assert.equal(list.structuredContent.store, 'local');
    assert.equal(list.structuredContent.bucket, 'documents');
    assert.deepEqual(list.structuredContent.objects.map((o) => o.key), ['README.txt']);

    const got = await client.callTool({ name: 's3_get_object', arguments: { key: 'README.txt' } });
    assert.ok(!got.isError, JSON.stringify(got));
    assert.equal(got.content[0].type, 'text');
    assert.match(got.content[0].text, /local object store/);
    assert.equal(got.structuredContent.content_type, 'text/plain');

    const presign = await client.callTool({ name: 's3_presign_url', arguments: { key: 'README.txt' } });
    assert.equal(presign.isError, true);
    assert.match(presign.content[0].text, /only for S3 stores/);
  } finally {
    await client.close();
  }
  const health = await (await fetch(readOnly.base + '/health')).json();
  assert.equal(health.status, 'healthy');
  assert.equal(health.services['storage:local'], 'ok');
});

test('writes are refused while they are off', async () => {
  const r = await call(readOnly, 's3_put_object', { key: 'new.txt', content: 'x' });
  assert.equal(r.status, 404); // the tool does not exist
  assert.ok(!fs.existsSync(path.join(root, 'documents', 'new.txt')));
});

test('with writes on: every tool on the local store', async () => {
  await readOnly.stop();
  readOnly = null;
  const config = path.join(dir, 'writable.toml');
  fs.writeFileSync(config, '[packs]\nenabled = ["storage"]\n[packs.storage]\nallow_writes = true\nmax_object_bytes = 1000\n');
  writable = await startServer({ args: ['--config', config], env: { MCP_DATA_DIR: dataDir, S3_BUCKET: null } });

  const put = await ok(writable, 's3_put_object', { key: 'notes/today.md', content: '# Today\n\nAll well.\n' });
  assert.equal(put.structuredContent.size, 19);
  assert.equal(fs.readFileSync(path.join(root, 'documents', 'notes', 'today.md'), 'utf8'), '# Today\n\nAll well.\n');
  const head = await ok(writable, 's3_head_object', { key: 'notes/today.md' });
  assert.equal(head.structuredContent.etag, put.structuredContent.etag);
  assert.equal(head.structuredContent.content_type, 'text/markdown');

  const range = await ok(writable, 's3_get_object', { key: 'notes/today.md', range: 'bytes=2-6' });
  assert.equal(range.content[0].text, 'Today');
  assert.equal(range.structuredContent.content_range, 'bytes 2-6/19');

  const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
  await ok(writable, 's3_put_object', { key: 'bin/data.bin', content_base64: bytes.toString('base64') });
  const bin = await ok(writable, 's3_get_object', { key: 'bin/data.bin' });
  const blob = bin.content.find((c) => c.type === 'resource');
  assert.equal(blob.resource.uri, 'storage://local/documents/bin/data.bin');
  assert.deepEqual(Buffer.from(blob.resource.blob, 'base64'), bytes);

  const folders = (await ok(writable, 's3_list_objects', { delimiter: '/' })).structuredContent;
  assert.deepEqual(folders.common_prefixes, ['bin/', 'notes/']);
  assert.deepEqual(folders.objects.map((o) => o.key), ['README.txt']);

  await ok(writable, 's3_put_object', { key: 'big.txt', content: 'x'.repeat(900) });
  fs.appendFileSync(path.join(root, 'documents', 'big.txt'), 'y'.repeat(200)); // grown behind mcpd's back
  await refused(writable, 's3_get_object', { key: 'big.txt' }, /1100 bytes.*max_object_bytes.*range/);

  await ok(writable, 's3_delete_object', { key: 'notes/today.md' });
  await refused(writable, 's3_get_object', { key: 'notes/today.md' }, /no object/);
  assert.ok(!fs.existsSync(path.join(root, 'documents', 'notes')), 'the emptied folder is gone');
});

test('path traversal through the tools is refused and nothing is written outside the root', async () => {
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'outside the root');
  fs.symlinkSync(outside, path.join(root, 'documents', 'escape'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'documents', 'secret-link.txt'));
  const before = filesOutside(dir, root);

  const keys = ['../escape.txt', '../../escape.txt', 'a/../../escape.txt', 'a/../b.txt', './a.txt', '/etc/passwd',
    'a\\..\\b.txt', 'a\u0000b', 'a//b', 'dir/'];
  for (const key of keys) {
    for (const tool of ['s3_put_object', 's3_get_object', 's3_head_object', 's3_delete_object']) {
      const args = { key, ...(tool === 's3_put_object' ? { content: 'pwned' } : {}) };
      await refused(writable, tool, args);
    }
  }
  for (const bucket of ['..', '.', '../data', 'documents/..']) {
    await refused(writable, 's3_put_object', { bucket, key: 'x.txt', content: 'pwned' });
    await refused(writable, 's3_list_objects', { bucket });
  }
  await refused(writable, 's3_list_objects', { prefix: '../' }, /"\.\."/);

  // Links inside the root are never followed, whichever way they point.
  await refused(writable, 's3_get_object', { key: 'escape/secret.txt' }, /symbolic link/);
  await refused(writable, 's3_get_object', { key: 'secret-link.txt' }, /symbolic link/);
  await refused(writable, 's3_put_object', { key: 'escape/new.txt', content: 'pwned' }, /symbolic link/);
  const listed = (await ok(writable, 's3_list_objects', {})).structuredContent.objects.map((o) => o.key);
  assert.ok(!listed.some((k) => k.startsWith('escape') || k.startsWith('secret-link')), listed.join(','));

  // URL escapes are refused on every store (a server could decode them); a lone '%' is a character.
  await refused(writable, 's3_put_object', { key: '%2e%2e/%2e%2e/x.txt', content: 'pwned' }, /URL escape/);
  assert.ok(!fs.existsSync(path.join(root, 'documents', '%2e%2e')));
  await ok(writable, 's3_put_object', { key: '100%/x.txt', content: 'inside' });
  assert.ok(fs.existsSync(path.join(root, 'documents', '100%', 'x.txt')));

  assert.deepEqual(filesOutside(dir, root), before);
  assert.equal(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'outside the root');
});
