// Regression: updated_after took any string and compared it with the documents' indexing times as
// text, so "yesterday" was silently accepted by search_documents and list_documents and matched
// nothing, and a time with an offset (+02:00) was compared as if it were UTC. Now a value that is not
// an ISO-8601 date or time is refused with a sentence naming the argument and the expected form, on
// the tools and on their REST routes, and the others are compared as the times they say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../integration/lib/mcpd.mjs';

const EXPECTED = "'updated_after' must be an ISO-8601 date or time such as 2026-01-31 or 2026-01-31T12:00:00Z";

async function callRaw(s, tool, args) {
  const r = await fetch(s.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  assert.equal(r.status, 200);
  return r.json();
}

async function call(s, tool, args) {
  const body = await callRaw(s, tool, args);
  assert.notEqual(body.isError, true, JSON.stringify(body));
  return body.structuredContent;
}

async function waitForSync(s) {
  for (let i = 0; i < 600; i++) {
    const status = await call(s, 'sync_status', {});
    if (status.jobs.length > 0 && status.jobs.every((j) => j.state !== 'running')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the start-up sync did not finish within a minute');
}

// `utc` ("2026-01-31T12:00:00Z") shifted by `seconds` and written with the offset `hours` (+02:00).
function withOffset(utc, seconds, hours) {
  const t = new Date(Date.parse(utc) + seconds * 1000 + hours * 3600 * 1000).toISOString().slice(0, 19);
  const sign = hours < 0 ? '-' : '+';
  return `${t}${sign}${String(Math.abs(hours)).padStart(2, '0')}:00`;
}

test('updated_after must be an ISO-8601 date or time, and is compared as a time', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-updated-after-'));
  const docs = path.join(dir, 'docs');
  fs.mkdirSync(docs);
  fs.writeFileSync(path.join(docs, 'releases.md'), '# Releases\n\nReleases are cut every second Tuesday.\n');
  const config = path.join(dir, 'mcpd.toml');
  fs.writeFileSync(config, `[packs.knowledge]\nindex = "${path.join(dir, 'kb.db')}"\n` +
    `[[packs.knowledge.sources]]\nname = "docs"\ntype = "directory"\npath = "${docs}"\n`);
  let s;
  try {
    s = await startServer({ args: ['--enable-pack', 'knowledge', '--config', config] });
    await waitForSync(s);

    for (const bad of ['yesterday', '2026-02-30', '2026-1-31', '31/01/2026', '2026-01-31T25:00:00Z', '2026-01-31T12:00+2', '2026-01-31Z']) {
      for (const [tool, args] of [['search_documents', { query: 'releases', updated_after: bad }], ['list_documents', { updated_after: bad }]]) {
        const r = await callRaw(s, tool, args);
        assert.equal(r.isError, true, `${tool} ${bad}: ${JSON.stringify(r)}`);
        assert.equal(r.content[0].text, `${EXPECTED}, got '${bad}'`);
      }
    }
    // The REST routes refuse it the same way.
    const post = await fetch(s.base + '/mcp/search_documents', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'releases', updated_after: 'yesterday' }),
    });
    assert.equal(post.status, 400);
    assert.deepEqual(await post.json(), { error: `${EXPECTED}, got 'yesterday'` });
    const get = await fetch(s.base + '/mcp/list_documents?updated_after=yesterday');
    assert.equal(get.status, 400);
    assert.deepEqual(await get.json(), { error: `${EXPECTED}, got 'yesterday'` });

    // Accepted forms, compared as times with the document's indexing time.
    const listed = await call(s, 'list_documents', {});
    assert.equal(listed.total, 1);
    const indexedAt = listed.documents[0].indexed_at;
    assert.match(indexedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const day = indexedAt.slice(0, 10);
    const nextDay = new Date(Date.parse(day) + 86400 * 1000).toISOString().slice(0, 10);
    const cases = [
      [indexedAt, 1],
      [day, 1],
      [nextDay, 0],
      ['2000-01-01', 1],
      ['9999-12-31T23:59:59Z', 0],
      [indexedAt.slice(0, 16), 1],                      // minutes, UTC
      [`${indexedAt.slice(0, 19)}.999Z`, 1],            // a fraction of the indexing second
      [withOffset(indexedAt, 0, 2), 1],                 // the same instant at +02:00
      [withOffset(indexedAt, 1, 2), 0],                 // a second later
      [withOffset(indexedAt, 0, -5), 1],
      [withOffset(indexedAt, 1, -5), 0],
      ['', 1],                                          // an empty filter is no filter, like the others
    ];
    for (const [when, total] of cases) {
      const list = await call(s, 'list_documents', { updated_after: when });
      assert.equal(list.total, total, `list_documents updated_after ${when} (indexed at ${indexedAt})`);
      const search = await call(s, 'search_documents', { query: 'releases', updated_after: when });
      assert.equal(search.count, total, `search_documents updated_after ${when} (indexed at ${indexedAt})`);
    }
    const rest = await fetch(s.base + '/mcp/list_documents?updated_after=' + encodeURIComponent(withOffset(indexedAt, 0, 2)));
    assert.equal(rest.status, 200);
    assert.equal((await rest.json()).total, 1);
  } finally {
    await s?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
