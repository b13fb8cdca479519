// Semantic and hybrid search with the `openai` embedding provider, against a local endpoint that
// follows the OpenAI embeddings wire format (POST /v1/embeddings). The endpoint embeds by concept
// (a tiny synonym table), so a paraphrase that shares no word with its document is still found.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, MCPD_BIN, cleanEnv } from './lib/mcpd.mjs';

const concepts = {
  car: 'vehicle', automobile: 'vehicle', tires: 'vehicle', vehicle: 'vehicle',
  password: 'auth', credentials: 'auth', login: 'auth', forgot: 'auth', reset: 'auth',
  soup: 'food', recipe: 'food', cooking: 'food', onions: 'food',
};
const DIM = 16;
const requests = [];
let failing = false;

function embed(text) {
  const v = new Array(DIM).fill(0);
  for (const word of text.toLowerCase().match(/[a-z]+/g) || []) {
    const concept = concepts[word];
    if (!concept) continue;
    let h = 0;
    for (const c of concept) h = (h * 31 + c.charCodeAt(0)) % DIM;
    v[h] += 1;
  }
  v[DIM - 1] += 0.01;  // never the zero vector
  return v;
}

let endpoint, dir, folder, configPath, server;

function config(model, extra = '') {
  fs.writeFileSync(configPath, `
[packs.knowledge]
index = "${path.join(dir, 'kb.db')}"
[[packs.knowledge.sources]]
name = "notes"
type = "directory"
path = "${folder}"
[packs.knowledge.embeddings]
provider = "openai"
base_url = "http://127.0.0.1:${endpoint.address().port}/v1"
model = "${model}"
batch_size = 2
${extra}
`);
}

async function call(tool, args) {
  const r = await fetch(server.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  return r.json();
}

async function waitForJobs() {
  const deadline = Date.now() + 20000;
  for (;;) {
    const status = (await call('sync_status', {})).structuredContent;
    if (status.jobs.length > 0 && status.jobs.every((j) => j.state !== 'running')) return status;
    if (Date.now() > deadline) throw new Error('sync did not finish');
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  endpoint = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, auth: req.headers.authorization, body: JSON.parse(body || 'null') });
      if (failing) {
        res.writeHead(500, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'model is overloaded', type: 'server_error' } }));
      }
      const input = JSON.parse(body).input;
      // Answer out of order, as the wire format allows: clients must use "index".
      const data = input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text) })).reverse();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data, model: JSON.parse(body).model, usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
  });
  await new Promise((r) => endpoint.listen(0, '127.0.0.1', r));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-emb-'));
  folder = path.join(dir, 'notes');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'car.md'), '# Garage\n\nThe car needs new tires before winter.\n');
  fs.writeFileSync(path.join(folder, 'account.md'), '# Account help\n\nTo reset your password, open the settings page.\n');
  fs.writeFileSync(path.join(folder, 'kitchen.md'), '# Kitchen\n\nA soup recipe with onions.\n');
  configPath = path.join(dir, 'mcpd.toml');
  config('fake-embed');
  server = await startServer({ args: ['--enable-pack', 'knowledge', '--config', configPath], env: { OPENAI_API_KEY: 'test-openai-key' } });
  await waitForJobs();
});

after(async () => {
  await server?.stop();
  endpoint?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('chunks are embedded through the OpenAI wire format, in batches, with the key', async () => {
  const status = (await call('sync_status', {})).structuredContent;
  assert.equal(status.jobs[0].results[0].embedded, 3);
  assert.ok(requests.length >= 2, 'batch_size 2 means at least two requests for three chunks');
  for (const r of requests) {
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/v1/embeddings');
    assert.equal(r.auth, 'Bearer test-openai-key');
    assert.equal(r.body.model, 'fake-embed');
    assert.ok(Array.isArray(r.body.input) && r.body.input.length <= 2);
  }
});

test('semantic search finds a paraphrase that shares no word with its document', async () => {
  const semantic = (await call('search_documents', { query: 'forgot my login credentials', mode: 'semantic' })).structuredContent;
  assert.equal(semantic.mode, 'semantic');
  assert.equal(semantic.results[0].path, 'account.md');
  assert.ok(semantic.results[0].score > 0.9);
  const lexical = (await call('search_documents', { query: 'forgot my login credentials', mode: 'lexical' })).structuredContent;
  assert.equal(lexical.results.length, 0);
  const hybrid = (await call('search_documents', { query: 'automobile' })).structuredContent;
  assert.equal(hybrid.mode, 'hybrid');  // the default when an embedder is configured
  assert.equal(hybrid.results[0].path, 'car.md');
  const strict = (await call('search_documents', { query: 'automobile', mode: 'semantic', similarity_threshold: 0.999 })).structuredContent;
  assert.ok(strict.results.every((r) => r.score >= 0.999));
  assert.ok(strict.results.length < 3);
});

test('an embedding endpoint failure is an error, never a silent fallback to lexical', async () => {
  failing = true;
  try {
    const r = await call('search_documents', { query: 'automobile', mode: 'hybrid' });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /could not embed the query/);
    assert.match(r.content[0].text, /500/);
    const lexical = await call('search_documents', { query: 'tires', mode: 'lexical' });
    assert.equal(lexical.structuredContent.results[0].path, 'car.md');
  } finally {
    failing = false;
  }
});

test('a different model is refused at start-up until reembed is set', async () => {
  await server.stop();
  server = null;
  config('another-model');
  const r = spawnSync(MCPD_BIN, ['serve', '--http', '127.0.0.1:0', '--enable-pack', 'knowledge', '--config', configPath],
    { env: { ...cleanEnv(), OPENAI_API_KEY: 'test-openai-key' }, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /openai:fake-embed \(16 dimensions\) but the configuration asks for openai:another-model/);
  assert.match(r.stderr, /reembed = true/);
  config('another-model', 'reembed = true');
  server = await startServer({ args: ['--enable-pack', 'knowledge', '--config', configPath], env: { OPENAI_API_KEY: 'test-openai-key' } });
  await waitForJobs();
  const semantic = (await call('search_documents', { query: 'vehicle', mode: 'semantic' })).structuredContent;
  assert.equal(semantic.results[0].path, 'car.md');
  assert.equal(requests.at(-1).body.model, 'another-model');
});
