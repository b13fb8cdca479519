// The built-in embedding model as a default: a broken model folder leaves the default server on
// lexical search (with a warning in the log), but a configuration that asks for use-lite is refused
// with the loader's reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, MCPD_BIN, cleanEnv } from './lib/mcpd.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function brokenModel() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-broken-model-'));
  const model = path.join(ROOT, 'models', 'use-lite');
  for (const f of fs.readdirSync(model)) fs.copyFileSync(path.join(model, f), path.join(dir, f));
  const shard = path.join(dir, 'group1-shard7of7');
  fs.truncateSync(shard, fs.statSync(shard).size - 100);
  return dir;
}

test('a broken model leaves the default on lexical search; asking for it is refused', async () => {
  const dir = brokenModel();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-use-lite-'));
  const docs = path.join(data, 'docs');
  fs.mkdirSync(docs);
  fs.writeFileSync(path.join(docs, 'a.md'), '# Account\n\nHow to reset your password.\n');
  const config = path.join(data, 'mcpd.toml');
  fs.writeFileSync(config, `[packs.knowledge]\nindex = "${path.join(data, 'kb.db')}"\n[[packs.knowledge.sources]]\nname = "docs"\ntype = "directory"\npath = "${docs}"\n`);
  try {
    const s = await startServer({ args: ['--enable-pack', 'knowledge', '--config', config],
                                  env: { EMBED_PROVIDER: null, MCPD_USE_LITE_DIR: dir } });
    try {
      const r = await (await fetch(s.base + '/call_tool', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'search_documents', arguments: { query: 'password' } }),
      })).json();
      assert.equal(r.structuredContent.mode, 'lexical');
      assert.ok(s.logs.some((l) => JSON.stringify(l).includes('built-in embedding model not loaded') && JSON.stringify(l).includes('truncated')),
        JSON.stringify(s.logs.slice(0, 20)));
    } finally {
      await s.stop();
    }
    const env = { ...cleanEnv(), EMBED_PROVIDER: 'use-lite', MCPD_USE_LITE_DIR: dir };
    const kb = spawnSync(MCPD_BIN, ['kb', 'stats', '--config', config], { env, encoding: 'utf8', timeout: 60000 });
    assert.notEqual(kb.status, 0);
    assert.match(kb.stderr, /use-lite: .*truncated/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(data, { recursive: true, force: true });
  }
});

async function search(s, args) {
  const r = await fetch(s.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tool: 'search_documents', arguments: args }),
  });
  return (await r.json()).structuredContent;
}

test('the vector graph is built, saved next to the index, and loaded after a restart', async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-graph-'));
  const docs = path.join(data, 'docs');
  fs.mkdirSync(docs);
  fs.writeFileSync(path.join(docs, 'password.md'), '# Account help\n\nHow to reset your password.\n');
  fs.writeFileSync(path.join(docs, 'deploy.md'), '# Deployment\n\nShip the containers to the production cluster.\n');
  fs.writeFileSync(path.join(docs, 'db.md'), '# Storage\n\nTune the database connection pool size.\n');
  const index = path.join(data, 'kb.db');
  const config = path.join(data, 'mcpd.toml');
  const toml = (extra) => `[packs.knowledge]\nindex = "${index}"\n[packs.knowledge.embeddings]\nprovider = "use-lite"\n` +
    `[packs.knowledge.vector_index]\napproximate_from = 1\n${extra}[[packs.knowledge.sources]]\nname = "docs"\ntype = "directory"\npath = "${docs}"\n`;
  fs.writeFileSync(config, toml(''));
  const query = { query: 'forgot my login credentials', mode: 'semantic', limit: 1 };
  try {
    let s = await startServer({ args: ['--enable-pack', 'knowledge', '--config', config], env: { EMBED_PROVIDER: null } });
    try {
      let answer;
      for (let i = 0; i < 300 && !(answer?.results?.length); i++) {  // the start-up sync embeds first
        answer = await search(s, query);
        if (!answer.results.length) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(answer.results[0].path, 'password.md');
      for (let i = 0; i < 100 && !fs.existsSync(index + '.hnsw.json'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(fs.existsSync(index + '.hnsw') && fs.existsSync(index + '.hnsw.json'), 'no graph file next to the index');
      const header = JSON.parse(fs.readFileSync(index + '.hnsw.json', 'utf8'));
      assert.equal(header.model, 'use-lite:universal-sentence-encoder-lite');
      assert.equal(header.dimension, 512);
      assert.equal(header.count, 3);
    } finally {
      await s.stop();
    }
    // Restarted: the saved graph is loaded (no rebuild is logged) and answers the same.
    s = await startServer({ args: ['--enable-pack', 'knowledge', '--config', config], env: { EMBED_PROVIDER: null } });
    try {
      const answer = await search(s, query);
      assert.equal(answer.results[0].path, 'password.md');
      assert.ok(!s.logs.some((l) => String(l.event).includes('rebuilding the vector graph')), JSON.stringify(s.logs));
    } finally {
      await s.stop();
    }
    // A bad setting is refused at start-up, naming it.
    fs.writeFileSync(config, toml('m = 1000\n'));
    const bad = spawnSync(MCPD_BIN, ['serve', '--enable-pack', 'knowledge', '--config', config], { env: cleanEnv(), encoding: 'utf8', timeout: 60000 });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /vector_index\.m must be an integer from 4 to 64/);
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
});
