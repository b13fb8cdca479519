// Regression: a bucket allow-list escaped through the object key. With buckets = ["a"] and no prefix
// list, keys such as "../b/secret.txt" used to read, head and presign objects of bucket "b" on an
// S3-compatible server that resolves dot segments. Every tool, on an S3 store (s3rver, which checks
// signatures) and on a local folder store, must refuse every spelling of such a key with a reason,
// hand out no URL, and change nothing: both buckets' objects and content hashes are read straight
// from the stores (not through mcpd) before and after each attempt. Keys that merely contain dots,
// spaces, '+', '=', '~' or non-ASCII letters still work end to end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../integration/lib/mcpd.mjs';
import { startS3rver } from '../integration/lib/s3rver.mjs';

const SECRET = 'top secret: bucket b only';
let dir, localRoot, s3, server;

// Every spelling the attack used, and the neighbours a server, proxy or file system could resolve
// to the same place: dot segments, backslashes, empty segments, URL escapes (single, double,
// overlong UTF-8, IIS %u), ';' parameters, dots and spaces, Unicode that normalises to "." or "/",
// control characters.
const HOSTILE = [
  '../b/secret.txt', 'docs/../../b/secret.txt', './../b/secret.txt', 'docs/./../../b/secret.txt', '..', '../b/',
  '../b/secret.txt/.', 'docs/..', '.../b/secret.txt', '.. /b/secret.txt', '..;/b/secret.txt',
  '%2e%2e/b/secret.txt', '%2E%2e%2Fb%2Fsecret.txt', '.%2e/b/secret.txt', '..%2fb%2fsecret.txt',
  'docs%2f..%2f..%2fb%2fsecret.txt', '%252e%252e/b/secret.txt', '%c0%ae%c0%ae/b/secret.txt',
  '%u002e%u002e/b/secret.txt', '..%5cb%5csecret.txt',
  '..\\b\\secret.txt', 'docs\\..\\..\\b\\secret.txt', '..\\b/secret.txt',
  '/../b/secret.txt', '//b/secret.txt', 'docs//../../b/secret.txt',
  '\uff0e\uff0e\uff0fb\uff0fsecret.txt', '\u2025/b/secret.txt', '..\uff1b/b/secret.txt',
  '..\u0000/b/secret.txt', '..\t/b/secret.txt', 'docs/\u0000../../b/secret.txt',
];
const REASON = /segment|backslash|URL escape|control character|starts with '\/'|UTF-8/;

// Legitimate keys with dots and reserved characters, and their content.
const LEGIT = ['a/v1.2..3/file.txt', '.well-known/x', 'notes/..draft', 'my file+x=y~z \u00e9\u65e5.txt', '100%.txt'];

function sha256(buf) { return crypto.createHash('sha256').update(buf).digest('hex'); }

function objectUrl(bucket, key) {
  return `${s3.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

// Both buckets of s3rver, read directly (s3rver accepts anonymous requests): key → sha256.
async function s3Snapshot() {
  const out = {};
  for (const bucket of ['a', 'b']) {
    const r = await fetch(`${s3.endpoint}/${bucket}?list-type=2`);
    assert.equal(r.status, 200);
    const xml = await r.text();
    assert.match(xml, /<IsTruncated>false<\/IsTruncated>/);
    for (const [, raw] of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) {
      const key = raw.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'")
        .replace(/&amp;/g, '&');
      const body = await fetch(objectUrl(bucket, key));
      out[`${bucket}/${key}`] = sha256(Buffer.from(await body.arrayBuffer()));
    }
  }
  return out;
}

// Every file under the local store's parent folder (the store's root and what lies beside it).
function localSnapshot() {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = sha256(fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

async function call(tool, args) {
  // Bounded retries in case a request rate limit answers 429.
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(server.base + '/call_tool', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
    });
    if (r.status === 429 && attempt < 20) {
      const wait = Math.min(5, Number(r.headers.get('retry-after')) || 1);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    return { status: r.status, ...(await r.json()) };
  }
}

async function ok(tool, args) {
  const r = await call(tool, args);
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.ok(!r.isError, `${tool} ${JSON.stringify(args)} failed: ${JSON.stringify(r.content)}`);
  return r;
}

// Each tool with the hostile key in its key (or prefix) argument.
function attempts(store, key) {
  return [
    ['s3_get_object', { store, key }],
    ['s3_head_object', { store, key }],
    ['s3_presign_url', { store, key }],
    ['s3_list_objects', { store, prefix: key }],
    ['s3_put_object', { store, key, content: 'pwned' }],
    ['s3_delete_object', { store, key }],
  ];
}

async function assertAllRefused(store, snapshot) {
  const start = await snapshot();
  for (const key of HOSTILE) {
    for (const [tool, args] of attempts(store, key)) {
      const r = await call(tool, args);
      const what = `${store} ${tool} ${JSON.stringify(key)}`;
      assert.equal(r.status, 200, `${what}: ${JSON.stringify(r)}`);
      assert.equal(r.isError, true, `${what} was accepted: ${JSON.stringify(r)}`);
      assert.match(r.content[0].text, REASON, what);
      assert.match(r.content[0].text, /; /, `${what}: no advice in ${r.content[0].text}`);
      const all = JSON.stringify(r);
      assert.ok(!all.includes(SECRET), `${what} leaked the secret`);
      assert.ok(!/X-Amz-Signature|https?:\/\//.test(all), `${what} handed out a URL: ${all}`);
      assert.equal(r.structuredContent?.url, undefined, what);
      assert.deepEqual(await snapshot(), start, `${what} changed the store`);
    }
  }
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-bucket-escape-'));
  s3 = await startS3rver({ buckets: ['a', 'b'] });
  for (const [bucket, key, body] of [['b', 'secret.txt', SECRET], ['a', 'docs/readme.txt', 'bucket a']]) {
    const r = await fetch(objectUrl(bucket, key), { method: 'PUT', body, headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 200, await r.text());
  }
  localRoot = path.join(dir, 'root');
  fs.mkdirSync(path.join(localRoot, 'a', 'docs'), { recursive: true });
  fs.mkdirSync(path.join(localRoot, 'b'), { recursive: true });
  fs.writeFileSync(path.join(localRoot, 'a', 'docs', 'readme.txt'), 'bucket a');
  fs.writeFileSync(path.join(localRoot, 'b', 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(dir, 'outside.txt'), SECRET);

  const config = path.join(os.tmpdir(), `mcpd-bucket-escape-${process.pid}.toml`);
  fs.writeFileSync(config, `[packs]
enabled = ["storage"]

[[packs.storage.stores]]
name = "s3"
type = "s3"
endpoint = "${s3.endpoint}"
region = "us-east-1"
path_style = true
bucket = "a"
buckets = ["a"]
access_key_id = "${s3.accessKey}"
secret_access_key = "${s3.secretKey}"
allow_writes = true

[[packs.storage.stores]]
name = "local"
type = "local"
root = "${localRoot}"
bucket = "a"
buckets = ["a"]
allow_writes = true
`);
  server = await startServer({ args: ['--config', config], env: { S3_BUCKET: null } });
  fs.rmSync(config);
});

after(async () => {
  await server?.stop();
  await s3?.stop();
  if (s3) fs.rmSync(s3.directory, { recursive: true, force: true });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the S3 store: every tool refuses every escaping key, hands out no URL and changes nothing', async () => {
  const start = await s3Snapshot();
  assert.deepEqual(Object.keys(start).sort(), ['a/docs/readme.txt', 'b/secret.txt']);
  await assertAllRefused('s3', s3Snapshot);
  // The bucket allow-list itself still holds, and a bucket that is not one path segment is refused.
  for (const bucket of ['b', '..', 'a/..']) {
    const r = await call('s3_get_object', { store: 's3', bucket, key: 'secret.txt' });
    assert.equal(r.isError, true, JSON.stringify(r));
    assert.ok(!JSON.stringify(r).includes(SECRET));
  }
});

test('the local folder store refuses the same keys and writes nothing anywhere', async () => {
  const start = localSnapshot();
  assert.ok(start['root/b/secret.txt'] && start['outside.txt']);
  await assertAllRefused('local', async () => localSnapshot());
});

test('legitimate keys with dots and reserved characters work end to end on S3', async () => {
  for (const key of LEGIT) {
    const content = `content of ${key}`;
    const put = await ok('s3_put_object', { store: 's3', key, content });
    assert.equal(put.structuredContent.key, key);
    // Stored in bucket "a" under exactly that key (read straight from s3rver).
    const direct = await fetch(objectUrl('a', key));
    assert.equal(direct.status, 200, key);
    assert.equal(await direct.text(), content);
    assert.equal((await ok('s3_get_object', { store: 's3', key })).content[0].text, content);
    assert.equal((await ok('s3_head_object', { store: 's3', key })).structuredContent.size, Buffer.byteLength(content));
    const url = (await ok('s3_presign_url', { store: 's3', key, expires_seconds: 60 })).structuredContent.url;
    const viaUrl = await fetch(url);
    assert.equal(viaUrl.status, 200, `${key}: ${url}`);
    assert.equal(await viaUrl.text(), content);
    const listed = await ok('s3_list_objects', { store: 's3', prefix: key });
    assert.deepEqual(listed.structuredContent.objects.map((o) => o.key), [key]);
    await ok('s3_delete_object', { store: 's3', key });
    assert.equal((await fetch(objectUrl('a', key))).status, 404, key);
  }
  assert.deepEqual(Object.keys(await s3Snapshot()).sort(), ['a/docs/readme.txt', 'b/secret.txt']);
});

test('legitimate keys with dots work end to end on the local store', async () => {
  for (const key of LEGIT) {
    const content = `content of ${key}`;
    await ok('s3_put_object', { store: 'local', key, content });
    assert.equal(fs.readFileSync(path.join(localRoot, 'a', ...key.split('/')), 'utf8'), content);
    assert.equal((await ok('s3_get_object', { store: 'local', key })).content[0].text, content);
    await ok('s3_delete_object', { store: 'local', key });
  }
});
