// The storage pack against an S3-compatible server that checks SigV4 signatures (s3rver): every
// tool over MCP and POST /call_tool, pagination with continuation tokens, ranges, binary objects as
// blob resources, presigned URLs fetched with curl, the size cap, allow-lists, wrong credentials,
// and the circuit breaker: the server stops, calls fail and the breaker opens, /health turns
// degraded, the server comes back on the same port and /health recovers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServer, requireTool } from './lib/mcpd.mjs';
import { startS3rver } from './lib/s3rver.mjs';

const { Client } = requireTool('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = requireTool('@modelcontextprotocol/sdk/client/streamableHttp.js');
const run = promisify(execFile);

const BUCKET = 'mcpd-test';
let dir, s3, server;
const extra = []; // servers a test starts for itself

function storeToml(name, { accessKey = 'S3RVER', secretKey = 'S3RVER', lines = [] } = {}) {
  return `
[[packs.storage.stores]]
name = "${name}"
type = "s3"
endpoint = "${s3.endpoint}"
region = "us-east-1"
path_style = true
bucket = "${BUCKET}"
access_key_id = "${accessKey}"
secret_access_key = "${secretKey}"
${lines.join('\n')}
`;
}

async function startMcpd(name, toml) {
  const file = path.join(dir, `${name}.toml`);
  fs.writeFileSync(file, `[packs]\nenabled = ["storage"]\n${toml}`);
  const s = await startServer({ args: ['--config', file], env: { S3_BUCKET: null } });
  return s;
}

async function call(srv, tool, args) {
  const r = await fetch(srv.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  const body = await r.json();
  return { status: r.status, ...body };
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
  assert.match(r.content[0].text, pattern);
  return r.content[0].text;
}

async function health(srv) {
  const r = await fetch(srv.base + '/health');
  return { status: r.status, body: await r.json() };
}

async function eventually(what, check, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await check();
    if (last.done) return last;
    if (Date.now() > deadline) throw new Error(`${what} did not happen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-storage-s3-'));
  s3 = await startS3rver({ buckets: [BUCKET, 'other-bucket'] });
  server = await startMcpd('main', `
[packs.storage]
max_object_bytes = 4096
${storeToml('s3', { lines: ['allow_writes = true', 'timeout_ms = 2000', 'breaker_open_seconds = 1'] })}`);
});

after(async () => {
  for (const s of extra) await s.stop();
  await server?.stop();
  await s3?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('tools/list over MCP: the read tools are read-only, delete is destructive', async () => {
  const client = new Client({ name: 'storage-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
  try {
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const name of ['s3_list_objects', 's3_get_object', 's3_head_object', 's3_presign_url']) {
      assert.ok(byName[name], name);
      assert.equal(byName[name].annotations.readOnlyHint, true, name);
    }
    assert.equal(byName.s3_put_object.annotations.readOnlyHint, false);
    assert.equal(byName.s3_delete_object.annotations.destructiveHint, true);
    assert.deepEqual(byName.s3_get_object.inputSchema.required, ['key']);
    assert.deepEqual(byName.s3_list_objects.inputSchema.properties.store.enum, ['s3']);
  } finally {
    await client.close();
  }
});

test('put, get, head and delete a text object', async () => {
  const put = await ok(server, 's3_put_object', { key: 'docs/hello.txt', content: 'Hello, S3! Ünïcödé.' });
  assert.equal(put.structuredContent.bucket, BUCKET);
  assert.equal(put.structuredContent.size, Buffer.byteLength('Hello, S3! Ünïcödé.'));
  assert.match(put.structuredContent.etag, /^[0-9a-f]{32}$/);

  const got = await ok(server, 's3_get_object', { key: 'docs/hello.txt' });
  assert.equal(got.content[0].type, 'text');
  assert.equal(got.content[0].text, 'Hello, S3! Ünïcödé.');
  assert.equal(got.structuredContent.key, 'docs/hello.txt');
  assert.equal(got.structuredContent.etag, put.structuredContent.etag);
  assert.match(got.structuredContent.content_type, /^text\/plain/);
  assert.match(got.structuredContent.last_modified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const head = await ok(server, 's3_head_object', { key: 'docs/hello.txt', bucket: BUCKET, store: 's3' });
  assert.equal(head.structuredContent.size, put.structuredContent.size);
  assert.equal(head.structuredContent.etag, put.structuredContent.etag);

  await ok(server, 's3_put_object', { key: 'docs/remove-me.txt', content: 'bye' });
  await ok(server, 's3_delete_object', { key: 'docs/remove-me.txt' });
  await refused(server, 's3_head_object', { key: 'docs/remove-me.txt' }, /NoSuchKey|NotFound|404/);
  await refused(server, 's3_get_object', { key: 'docs/remove-me.txt' }, /NoSuchKey.*list the bucket/);
  await ok(server, 's3_delete_object', { key: 'docs/remove-me.txt' }); // deleting nothing succeeds, as on S3
});

test('pagination: 25 keys in pages of 10, each exactly once, with continuation tokens', async () => {
  const expected = [];
  for (let i = 0; i < 25; i++) {
    const key = `page/item-${String(i).padStart(2, '0')}.txt`;
    expected.push(key);
    await ok(server, 's3_put_object', { key, content: `item ${i}` });
  }
  const seen = [];
  let token;
  let pages = 0;
  for (;;) {
    const args = { prefix: 'page/', max_keys: 10 };
    if (token) args.continuation_token = token;
    const page = (await ok(server, 's3_list_objects', args)).structuredContent;
    pages++;
    seen.push(...page.objects.map((o) => o.key));
    assert.ok(page.objects.every((o) => o.size > 0 && o.etag && o.last_modified));
    if (!page.is_truncated) break;
    assert.ok(page.next_continuation_token);
    token = page.next_continuation_token;
    assert.ok(pages < 10, 'too many pages');
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen, expected);

  const folders = (await ok(server, 's3_list_objects', { delimiter: '/' })).structuredContent;
  assert.ok(folders.common_prefixes.includes('docs/'), JSON.stringify(folders));
  assert.ok(folders.common_prefixes.includes('page/'), JSON.stringify(folders));
});

test('range reads return the bytes asked for and the content range', async () => {
  await ok(server, 's3_put_object', { key: 'digits.txt', content: '0123456789' });
  const r = await ok(server, 's3_get_object', { key: 'digits.txt', range: 'bytes=2-5' });
  assert.equal(r.content[0].text, '2345');
  assert.equal(r.structuredContent.content_range, 'bytes 2-5/10');
  assert.equal(r.structuredContent.size, 10);
  assert.equal(r.structuredContent.bytes_returned, 4);
  const tail = await ok(server, 's3_get_object', { key: 'digits.txt', range: 'bytes=7-' });
  assert.equal(tail.content[0].text, '789');
  await refused(server, 's3_get_object', { key: 'digits.txt', range: '2-5' }, /range/);
});

test('a binary object comes back as a base64 blob resource (checked by the official SDK)', async () => {
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x10]);
  await ok(server, 's3_put_object', { key: 'images/pixel.png', content_base64: bytes.toString('base64'), content_type: 'image/png' });
  const client = new Client({ name: 'storage-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
  try {
    const res = await client.callTool({ name: 's3_get_object', arguments: { key: 'images/pixel.png' } });
    assert.ok(!res.isError, JSON.stringify(res));
    const blob = res.content.find((c) => c.type === 'resource');
    assert.ok(blob, JSON.stringify(res.content));
    assert.equal(blob.resource.uri, `s3://${BUCKET}/images/pixel.png`);
    assert.equal(blob.resource.mimeType, 'image/png');
    assert.deepEqual(Buffer.from(blob.resource.blob, 'base64'), bytes);
    assert.equal(res.structuredContent.encoding, 'base64');
  } finally {
    await client.close();
  }
  await refused(server, 's3_put_object', { key: 'x.bin', content_base64: 'not base64!' }, /base64/);
  await refused(server, 's3_put_object', { key: 'x.bin' }, /exactly one of 'content'/);
});

test('a presigned URL fetched with curl returns the object; a tampered one is refused', async () => {
  const r = await ok(server, 's3_presign_url', { key: 'docs/hello.txt', expires_seconds: 120 });
  const url = r.structuredContent.url;
  assert.equal(r.content[0].text, url);
  assert.match(url, /X-Amz-Signature=[0-9a-f]{64}/);
  assert.equal(r.structuredContent.expires_seconds, 120);
  const { stdout } = await run('curl', ['-sS', '-f', url]);
  assert.equal(stdout, 'Hello, S3! Ünïcödé.');
  const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (m, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
  const bad = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', tampered]);
  assert.equal(bad.stdout, '403');
  await refused(server, 's3_presign_url', { key: 'docs/hello.txt', expires_seconds: 604801 }, /expires_seconds/);
});

test('objects above max_object_bytes are refused with a hint to read a range', async () => {
  // Put straight into the server (s3rver accepts anonymous writes): mcpd itself refuses to write it.
  const big = path.join(dir, 'big.bin');
  fs.writeFileSync(big, Buffer.alloc(6000, 0x61));
  await run('curl', ['-sS', '-f', '-X', 'PUT', '--data-binary', `@${big}`, '-H', 'content-type: text/plain',
    `${s3.endpoint}/${BUCKET}/big.txt`]);
  await refused(server, 's3_get_object', { key: 'big.txt' }, /6000 bytes.*max_object_bytes.*range/);
  const part = await ok(server, 's3_get_object', { key: 'big.txt', range: 'bytes=0-99' });
  assert.equal(part.content[0].text, 'a'.repeat(100));
  const head = await ok(server, 's3_head_object', { key: 'big.txt' });
  assert.equal(head.structuredContent.size, 6000);
  await refused(server, 's3_put_object', { key: 'too-big.txt', content: 'b'.repeat(5000) }, /max_object_bytes/);
});

test('S3 errors are one clear sentence: missing bucket, unknown store', async () => {
  await refused(server, 's3_list_objects', { bucket: 'no-such-bucket' }, /NoSuchBucket.*check the bucket name/);
  await refused(server, 's3_get_object', { key: 'x', store: 'nope' }, /store/);
});

test('allow-lists: buckets and prefixes outside them are refused, naming what is allowed; writes per store', async () => {
  const s = await startMcpd('restricted', `
${storeToml('restricted', { lines: ['buckets = ["mcpd-test"]', 'prefixes = ["docs/", "page/"]'] })}
${storeToml('writable', { lines: ['allow_writes = true'] })}`);
  extra.push(s);
  await refused(s, 's3_list_objects', { store: 'restricted', bucket: 'other-bucket' }, /not allowed.*"mcpd-test"/);
  await refused(s, 's3_list_objects', { store: 'restricted' }, /prefix.*"docs\/", "page\/"/);
  await refused(s, 's3_list_objects', { store: 'restricted', prefix: 'doc' }, /"docs\/"/);
  await refused(s, 's3_get_object', { store: 'restricted', key: 'digits.txt' }, /outside the prefixes.*"docs\/"/);
  await refused(s, 's3_presign_url', { store: 'restricted', key: 'images/pixel.png' }, /outside the prefixes/);
  await refused(s, 's3_get_object', { store: 'restricted', key: 'docs/../digits.txt' }, /"\.\." segment/);
  const listed = await ok(s, 's3_list_objects', { store: 'restricted', prefix: 'docs/' });
  assert.deepEqual(listed.structuredContent.objects.map((o) => o.key), ['docs/hello.txt']);
  await ok(s, 's3_get_object', { store: 'restricted', key: 'docs/hello.txt' });
  // Writes are a per-store setting.
  await refused(s, 's3_put_object', { store: 'restricted', key: 'docs/new.txt', content: 'x' }, /read-only.*allow_writes/);
  await ok(s, 's3_put_object', { store: 'writable', key: 'scratch/new.txt', content: 'x' });
  const h = await health(s);
  assert.equal(h.body.services['s3:restricted'], 'ok');
  assert.equal(h.body.services['s3:writable'], 'ok');
});

test('wrong credentials give a clear error without the secret, and /health says access denied', async () => {
  const s = await startMcpd('badcreds', storeToml('s3', { accessKey: 'WRONGKEY', secretKey: 'wrong-secret-value' }));
  extra.push(s);
  const text = await refused(s, 's3_list_objects', {}, /InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied/);
  assert.match(text, /credentials/);
  assert.doesNotMatch(text, /wrong-secret-value/);
  const tools = await (await fetch(s.base + '/mcp/tools')).json();
  assert.ok(!tools.tools.some((t) => t.name === 's3_put_object'), 'writes are off: no put tool');
  const h = await health(s);
  assert.equal(h.status, 503);
  assert.equal(h.body.status, 'degraded');
  assert.match(h.body.services.s3, /access denied/);
});

test('the server goes down: calls fail, the breaker opens, /health degrades, then recovers', async () => {
  let h = await health(server);
  assert.equal(h.status, 200, JSON.stringify(h.body));
  assert.equal(h.body.services.s3, 'ok');

  await s3.stop();
  for (let i = 0; i < 5; i++) await refused(server, 's3_list_objects', {}, /could not reach|ConnectionFailed|connect/i);
  const open = await refused(server, 's3_get_object', { key: 'docs/hello.txt' }, /circuit breaker open/);
  assert.match(open, /5 consecutive failures/);

  h = await health(server);
  assert.equal(h.status, 503);
  assert.equal(h.body.status, 'degraded');
  assert.notEqual(h.body.services.s3, 'ok');

  // While it is down, the half-open probe (from /health or a call) fails and opens it again.
  await eventually('a failed probe', async () => {
    const r = await health(server);
    return { done: /connection refused|cannot reach|circuit/.test(r.body.services.s3) && r.status === 503, r };
  });

  s3 = await startS3rver({ buckets: [BUCKET, 'other-bucket'], port: s3.port, directory: s3.directory });
  await eventually('recovery', async () => {
    const r = await health(server);
    return { done: r.status === 200 && r.body.services.s3 === 'ok', r };
  });
  const got = await ok(server, 's3_get_object', { key: 'docs/hello.txt' });
  assert.equal(got.content[0].text, 'Hello, S3! Ünïcödé.');
});
