// Zero configuration: with no packs and no sources configured, mcpd serves the knowledge pack over
// the project's own docs/ folder, so the first search finds something; with the built-in model
// installed (scripts/install-deps.sh fetches it) that search is hybrid, and a question that shares
// no word with the docs still lands on the right page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/mcpd.mjs';

test('the first search works on a fresh start with no configuration', async () => {
  // No --enable-pack, no --config, and no embedding provider: mcpd's own defaults.
  const s = await startServer({ env: { EMBED_PROVIDER: null } });
  try {
    const call = async (tool, args) => (await (await fetch(s.base + '/call_tool', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
    })).json());
    // The start-up sync embeds every chunk of docs/: minutes under AddressSanitizer on two cores.
    const deadline = Date.now() + 240000;
    let status;
    do {
      status = (await call('sync_status', {})).structuredContent;
      if (status.jobs.length && status.jobs.every((j) => j.state !== 'running')) break;
      await new Promise((r) => setTimeout(r, 100));
    } while (Date.now() < deadline);
    assert.deepEqual(status.sources.map((x) => x.name), ['docs']);
    assert.ok(status.sources[0].documents >= 1);
    const hits = (await call('search_documents', { query: 'connect Claude Desktop' })).structuredContent;
    assert.equal(hits.mode, 'hybrid');
    assert.equal(hits.results[0].path, 'USER_GUIDE.md');
    assert.match(hits.results[0].heading, /Claude Desktop/);
    const embedded = status.jobs.reduce((n, j) => n + j.results.reduce((m, r) => m + r.embedded, 0), 0);
    assert.ok(embedded > 0, `the start-up sync embedded the chunks (${JSON.stringify(status.jobs)})`);
  } finally {
    await s.stop();
  }
});
