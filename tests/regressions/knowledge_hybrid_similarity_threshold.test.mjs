// Regression: search_documents' similarity_threshold, documented as the minimum cosine in semantic
// and hybrid modes, bounded only the semantic candidates of a hybrid search: lexical hits whose
// cosine was far below it (0.99 asked, ~0.1 given) still came back. Now every hybrid candidate must
// reach it, with both fusions, on the built-in embedding model (the default provider).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../integration/lib/mcpd.mjs';

// All but the garden note share a word with the query; only the first is about it.
const DOCS = {
  'account.md': '# Account help\n\nHow to reset your password from the settings page.\n',
  'router.md': '# Router\n\nHold the reset button for ten seconds to restore the factory settings.\n',
  'soup.md': '# Soup\n\nAn onion soup recipe: no password needed, just reset the oven timer when it rings.\n',
  'tennis.md': '# Tennis club\n\nThe password of the club house changes each season; ask at the desk.\n',
  'garden.md': '# Garden\n\nPrune the roses in early spring.\n',
};
const QUERY = 'reset my password';

async function call(s, tool, args) {
  const r = await fetch(s.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.notEqual(body.isError, true, JSON.stringify(body));
  return body.structuredContent;
}

// The start-up sync (which embeds) has finished.
async function waitForSync(s) {
  for (let i = 0; i < 600; i++) {
    const status = await call(s, 'sync_status', {});
    if (status.jobs.length > 0 && status.jobs.every((j) => j.state !== 'running')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the start-up sync did not finish within a minute');
}

const paths = (answer) => answer.results.map((r) => r.path).sort();

for (const fusion of ['convex', 'rrf']) {
  test(`hybrid search (${fusion}) keeps only candidates at or above similarity_threshold`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-threshold-'));
    const docs = path.join(dir, 'docs');
    fs.mkdirSync(docs);
    for (const [name, text] of Object.entries(DOCS)) fs.writeFileSync(path.join(docs, name), text);
    const config = path.join(dir, 'mcpd.toml');
    fs.writeFileSync(config, `[packs.knowledge]\nindex = "${path.join(dir, 'kb.db')}"\n[packs.knowledge.search]\nfusion = "${fusion}"\n` +
      `[[packs.knowledge.sources]]\nname = "docs"\ntype = "directory"\npath = "${docs}"\n`);
    let s;
    try {
      s = await startServer({ args: ['--enable-pack', 'knowledge', '--config', config], env: { EMBED_PROVIDER: null } });
      await waitForSync(s);

      // Each document's cosine with the query, as semantic search reports it (one passage each).
      const semantic = await call(s, 'search_documents', { query: QUERY, mode: 'semantic', limit: 100 });
      assert.equal(semantic.mode, 'semantic');
      const cosine = Object.fromEntries(semantic.results.map((r) => [r.path, r.score]));
      assert.deepEqual(Object.keys(cosine).sort(), Object.keys(DOCS).sort(), JSON.stringify(semantic.results));
      const ranked = Object.entries(cosine).sort((a, b) => b[1] - a[1]);
      assert.equal(ranked[0][0], 'account.md');

      // Without a threshold, hybrid search returns the lexical hits whatever their cosine.
      const open = await call(s, 'search_documents', { query: QUERY, mode: 'hybrid', limit: 100 });
      assert.equal(open.mode, 'hybrid');
      for (const name of ['account.md', 'router.md', 'soup.md', 'tennis.md']) assert.ok(paths(open).includes(name), JSON.stringify(open.results));

      // Nothing is that close to the query: nothing comes back, lexical hits included.
      assert.ok(ranked[0][1] < 0.99, JSON.stringify(cosine));
      const strict = await call(s, 'search_documents', { query: QUERY, mode: 'hybrid', similarity_threshold: 0.99, limit: 100 });
      assert.deepEqual(paths(strict), [], `cosines ${JSON.stringify(cosine)}; answer ${JSON.stringify(strict.results)}`);

      // Between the two closest documents: exactly the documents at or above it, here the first.
      const between = (ranked[0][1] + ranked[1][1]) / 2;
      const some = await call(s, 'search_documents', { query: QUERY, mode: 'hybrid', similarity_threshold: between, limit: 100 });
      assert.deepEqual(paths(some), ['account.md'], `threshold ${between}: ${JSON.stringify(some.results)}; cosines ${JSON.stringify(cosine)}`);

      // A threshold below every cosine leaves the hybrid answer as it was.
      const lowest = Math.max(0, ranked[ranked.length - 1][1] - 0.01);
      const loose = await call(s, 'search_documents', { query: QUERY, mode: 'hybrid', similarity_threshold: lowest, limit: 100 });
      assert.deepEqual(paths(loose), paths(open));
    } finally {
      await s?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
