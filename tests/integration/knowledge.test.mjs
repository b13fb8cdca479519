// The knowledge pack end to end: a real git repository (pushed to a bare remote) and a folder are
// indexed; searches through the REST endpoints and the official SDK client; a signed GitHub
// webhook triggers an incremental resync that reflects edits, deletions and renames.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, requireTool, tapTransport, MCPD_BIN, cleanEnv } from './lib/mcpd.mjs';

const { Client } = requireTool('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = requireTool('@modelcontextprotocol/sdk/client/streamableHttp.js');

const secret = "It's a Secret to Everybody";
const key = 'knowledge-test-key-0123';
let dir, work, remote, server;

function git(cwd, ...args) {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function call(tool, args) {
  const r = await fetch(server.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ tool, arguments: args }),
  });
  return r.json();
}

async function waitForJobs(timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = (await call('sync_status', {})).structuredContent;
    if (status.jobs.length > 0 && status.jobs.every((j) => j.state !== 'running')) return status;
    if (Date.now() > deadline) throw new Error('sync did not finish: ' + JSON.stringify(status.jobs));
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function search(body) {
  const r = await fetch(server.base + '/mcp/search_documents', {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

function sign(body) {
  return 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');
}

async function deliver(event, payload, { signature, delivery = crypto.randomUUID() } = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers = { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery };
  if (signature !== null) headers['x-hub-signature-256'] = signature ?? sign(body);
  const r = await fetch(server.base + '/webhook/github', { method: 'POST', headers, body });
  return { status: r.status, body: await r.json() };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-kb-'));
  remote = path.join(dir, 'remote.git');
  work = path.join(dir, 'work');
  git(dir, 'init', '--bare', remote);
  git(dir, 'clone', remote, work);
  fs.mkdirSync(path.join(work, 'docs'));
  fs.writeFileSync(path.join(work, 'docs', 'install.md'), '# Installing\n\nRun the zanzibar installer.\n\n## Upgrading\n\nUse quokka mode to upgrade in place.\n');
  fs.writeFileSync(path.join(work, 'docs', 'old.md'), '# Old notes\n\nThe platypus protocol is deprecated.\n');
  fs.writeFileSync(path.join(work, 'docs', 'guide.md'), '# Guide\n\nThe wombat guide explains everything.\n');
  git(work, 'add', '.');
  git(work, 'commit', '-m', 'first');
  git(work, 'push', 'origin', 'main');

  const folder = path.join(dir, 'folder');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'notes.txt'), 'Meeting notes about the narwhal budget.\nSecond line.\nThird line mentions narwhal again.\n');
  fs.writeFileSync(path.join(folder, 'image.bin.txt'), Buffer.from([0x47, 0x49, 0x46, 0x00, 0x01, 0x02]));
  fs.writeFileSync(path.join(folder, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
  fs.writeFileSync(path.join(dir, 'outside.md'), '# Secret\n\nThe yeti lives outside the root.\n');
  fs.symlinkSync(path.join(dir, 'outside.md'), path.join(folder, 'escape.md'));
  fs.writeFileSync(path.join(folder, 'huge.txt'), 'mammoth '.repeat(30000));

  const config = path.join(dir, 'mcpd.toml');
  fs.writeFileSync(config, `
[packs.knowledge]
index = "${path.join(dir, 'index', 'kb.db')}"
max_file_bytes = 100000
[[packs.knowledge.sources]]
name = "repo"
type = "git"
url = "${remote}"
branch = "main"
[[packs.knowledge.sources]]
name = "folder"
type = "directory"
path = "${folder}"
`);
  server = await startServer({ args: ['--enable-pack', 'knowledge', '--config', config, '--api-key', key], env: { GH_WEBHOOK_SECRET: secret } });
  await waitForJobs();
});

after(async () => {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the start-up sync indexes the repository and the folder, and records what it skipped', async () => {
  const status = (await call('sync_status', {})).structuredContent;
  const bySource = Object.fromEntries(status.sources.map((s) => [s.name, s]));
  assert.equal(bySource.repo.documents, 3);
  assert.match(bySource.repo.revision, /^[0-9a-f]{40}$/);
  assert.equal(bySource.folder.documents, 1);
  const reasons = Object.fromEntries(status.skipped.map((k) => [`${k.source}:${k.path}`, k.reason]));
  assert.match(reasons['folder:image.bin.txt'], /binary/);
  assert.match(reasons['folder:latin1.txt'], /UTF-8/);
  assert.match(reasons['folder:escape.md'], /outside the source root/);
  assert.match(reasons['folder:huge.txt'], /larger than 100000 bytes/);
  assert.equal((await search({ query: 'mammoth' })).body.results.length, 0);
  const yeti = await search({ query: 'yeti' });
  assert.equal(yeti.body.results.length, 0, 'nothing from outside the root is indexed');
});

test('REST search: hits with source, path, heading, line range, marked snippet, commit', async () => {
  const r = await search({ query: 'quokka upgrade', limit: 3, similarity_threshold: 0.7 });
  assert.equal(r.status, 200);
  assert.equal(r.body.mode, 'lexical');
  const hit = r.body.results[0];
  assert.equal(hit.source, 'repo');
  assert.equal(hit.path, 'docs/install.md');
  assert.equal(hit.title, 'Installing');
  assert.match(hit.heading, /Upgrading/);
  assert.match(hit.snippet, /\*\*quokka\*\*/);
  assert.ok(hit.line_start >= 1 && hit.line_end >= hit.line_start);
  assert.match(hit.commit, /^[0-9a-f]{40}$/);
  assert.match(r.body.note, /lexical/);  // the threshold is not silently applied
  const alias = await search({ q: 'narwhal', top_k: 1 });
  assert.equal(alias.body.results.length, 1);
  assert.equal(alias.body.results[0].path, 'notes.txt');
});

test('bad search input gets clear errors', async () => {
  assert.match((await search({ query: '   ' })).body.error, /must not be empty/);
  assert.match((await search({ query: 'x', limit: 100000 })).body.error, /between 1 and 100/);
  assert.match((await search({ query: 'x', mode: 'semantic' })).body.error, /embedding provider/);
  assert.match((await search({})).body.error, /'query' is required/);
  const bad = await fetch(server.base + '/mcp/search_documents', { method: 'POST', headers: { 'x-api-key': key }, body: '{nope' });
  assert.equal(bad.status, 400);
  const noKey = await fetch(server.base + '/mcp/search_documents', { method: 'POST', body: '{"query":"x"}' });
  assert.equal(noKey.status, 401);
  const unknown = await fetch(server.base + '/sync_sources', { method: 'POST', headers: { 'x-api-key': key }, body: '{"sources":["nope"]}' });
  assert.equal(unknown.status, 400);
  assert.match((await unknown.json()).error, /unknown source 'nope'/);
});

test('list_documents and get_document', async () => {
  const r = await fetch(server.base + '/mcp/list_documents?limit=2', { headers: { 'x-api-key': key } });
  const page = await r.json();
  assert.equal(page.total, 4);
  assert.equal(page.documents.length, 2);
  assert.ok(page.next_cursor);
  const doc = await call('get_document', { source: 'folder', path: 'notes.txt', line_start: 2, line_end: 3 });
  assert.equal(doc.structuredContent.text, 'Second line.\nThird line mentions narwhal again.\n');
  const missing = await call('get_document', { source: 'folder', path: 'nope.txt' });
  assert.equal(missing.isError, true);
});

test('search through the official TypeScript SDK client', async () => {
  const client = new Client({ name: 'kb-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { 'x-api-key': key } } });
  await client.connect(transport);
  // The SDK (1.32.2) may drop a progress notification that arrives together with the result
  // (typescript-sdk#2580), so progress is checked on the wire.
  const wire = tapTransport(transport);
  try {
    const tools = (await client.listTools()).tools;
    const searchTool = tools.find((t) => t.name === 'search_documents');
    assert.equal(searchTool.annotations.readOnlyHint, true);
    assert.equal(tools.find((t) => t.name === 'sync_sources').annotations.readOnlyHint, false);
    const result = await client.callTool({ name: 'search_documents', arguments: { query: 'wombat' } });
    assert.equal(result.structuredContent.results[0].path, 'docs/guide.md');
    assert.match(result.content[0].text, /docs\/guide\.md/);
    // sync_sources with a progress token waits for its job and reports progress on the way.
    const before = wire.length;
    const synced = await client.callTool({ name: 'sync_sources', arguments: { sources: ['folder'] } }, undefined,
      { onprogress: () => {} });
    assert.equal(synced.structuredContent.state, 'succeeded');
    assert.equal(synced.structuredContent.results[0].unchanged, 1);
    const seen = wire.slice(before);
    const progress = seen.filter((m) => m.method === 'notifications/progress').map((m) => m.params);
    const answerAt = seen.findIndex((m) => m.result?.structuredContent?.job_id);
    assert.ok(progress.length >= 1 && progress.every((p) => p.total >= 1), JSON.stringify(progress));
    assert.ok(seen.findIndex((m) => m.method === 'notifications/progress') < answerAt, 'progress comes before the answer');
    // Without one it returns the job id at once.
    const started = await client.callTool({ name: 'sync_sources', arguments: {} });
    assert.match(started.structuredContent.job_id, /^sync-\d+$/);
    assert.equal(started.structuredContent.state, 'running');
    await waitForJobs();
    const id = result.structuredContent.results[0].document_id;
    const resource = await client.readResource({ uri: `kb://document/${id}` });
    assert.match(resource.contents[0].text, /wombat guide/);
  } finally {
    await client.close();
  }
});

test('webhook: unsigned and wrongly signed deliveries change nothing; a push resyncs incrementally', async () => {
  // Edit, delete and rename, then push.
  fs.writeFileSync(path.join(work, 'docs', 'install.md'), '# Installing\n\nRun the axolotl installer.\n');
  fs.rmSync(path.join(work, 'docs', 'old.md'));
  git(work, 'mv', 'docs/guide.md', 'docs/handbook.md');
  git(work, 'add', '-A');
  git(work, 'commit', '-m', 'second');
  git(work, 'push', 'origin', 'main');
  const head = git(work, 'rev-parse', 'HEAD').trim();
  const payload = { ref: 'refs/heads/main', after: head, repository: { full_name: 'org/remote', clone_url: remote } };

  assert.equal((await deliver('push', payload, { signature: null })).status, 401);
  assert.equal((await deliver('push', payload, { signature: 'sha256=' + '0'.repeat(64) })).status, 401);
  assert.equal((await deliver('push', '{not json', {})).status, 400);
  const stale = await search({ query: 'axolotl' });
  assert.equal(stale.body.results.length, 0, 'a refused delivery must not trigger a sync');

  const ping = await deliver('ping', { zen: 'hello' });
  assert.equal(ping.status, 200);
  const delivery = crypto.randomUUID();
  const push = await deliver('push', payload, { delivery });
  assert.equal(push.status, 202);
  assert.deepEqual(push.body.matched, ['repo']);
  const again = await deliver('push', payload, { delivery });
  assert.equal(again.body.duplicate, true);
  await waitForJobs();

  assert.equal((await search({ query: 'axolotl' })).body.results[0].path, 'docs/install.md');
  assert.equal((await search({ query: 'zanzibar' })).body.results.length, 0, 'the old text is gone');
  assert.equal((await search({ query: 'platypus' })).body.results.length, 0, 'the deleted file is gone');
  const renamed = await search({ query: 'wombat' });
  assert.deepEqual(renamed.body.results.map((h) => h.path), ['docs/handbook.md']);
  const status = (await call('sync_status', {})).structuredContent;
  const repo = status.sources.find((s) => s.name === 'repo');
  assert.equal(repo.revision, head);
  assert.equal(repo.documents, 2);
  const job = status.jobs.find((j) => j.trigger === 'webhook');
  assert.equal(job.results[0].unchanged, 0);
  assert.equal(job.results[0].deleted, 2);  // old.md, and guide.md under its old name
});

test('health reports the knowledge service', async () => {
  const h = await (await fetch(server.base + '/health')).json();
  assert.equal(h.services.knowledge, 'ok');
});

test('a misspelt setting stops start-up with a message naming it, and creates nothing', () => {
  const config = path.join(dir, 'misspelt.toml');
  const index = path.join(dir, 'misspelt', 'kb.db');
  const start = (...args) => spawnSync(MCPD_BIN, [...args, '--config', config], { env: cleanEnv(), encoding: 'utf8', timeout: 20000 });
  fs.writeFileSync(config, `[packs.knowledge]\nindex = "${index}"\nsync_on_strat = false\n`);
  const serve = start('serve', '--http', '127.0.0.1:0', '--enable-pack', 'knowledge');
  assert.equal(serve.status, 2, serve.stderr);
  assert.match(serve.stderr, /packs\.knowledge: unknown setting 'sync_on_strat' \(known: [a-z_, ]*sync_on_start/);
  assert.ok(!fs.existsSync(path.dirname(index)), 'a refused configuration leaves no index folder behind');
  // In a source's table, and through `mcpd kb` too.
  fs.writeFileSync(config, `[packs.knowledge]\nindex = "${index}"\n[[packs.knowledge.sources]]\nname = "api"\ntype = "git"\n` +
    `url = "${remote}"\nbrnach = "main"\n`);
  const kb = start('kb', 'stats');
  assert.equal(kb.status, 2, kb.stderr);
  assert.match(kb.stderr, /packs\.knowledge: sources\.api: unknown setting 'brnach' \(known: branch,/);
  assert.ok(!fs.existsSync(path.dirname(index)));
});
