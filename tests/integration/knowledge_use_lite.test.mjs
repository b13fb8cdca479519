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
