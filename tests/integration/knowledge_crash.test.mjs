// kill -9 in the middle of indexing a large folder, then a resync: the index is consistent after
// the crash (every document fully old or fully new) and complete after the resync, nothing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, MCPD_BIN, cleanEnv } from './lib/mcpd.mjs';

const FILES = 20000;

test('kill -9 mid-sync leaves a consistent index; the next sync completes it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-crash-'));
  const folder = path.join(dir, 'corpus');
  for (let d = 0; d < 20; ++d) fs.mkdirSync(path.join(folder, `d${d}`), { recursive: true });
  for (let i = 0; i < FILES; ++i)
    fs.writeFileSync(path.join(folder, `d${i % 20}`, `f${i}.md`),
      `# Page ${i}\n\nUnique token tok${i} and some filler text about topic ${i % 97}.\n\n## Details\n\n${'lorem ipsum '.repeat(30)}\n`);
  const config = path.join(dir, 'mcpd.toml');
  fs.writeFileSync(config, `[packs.knowledge]\nindex = "${path.join(dir, 'kb.db')}"\n[[packs.knowledge.sources]]\nname = "corpus"\ntype = "directory"\npath = "${folder}"\n`);
  const kb = (...args) => spawnSync(MCPD_BIN, ['kb', ...args, '--config', config], { env: cleanEnv(), encoding: 'utf8', timeout: 300000 });
  try {
    const s = await startServer({ args: ['--enable-pack', 'knowledge', '--config', config] });
    // Wait until the start-up sync is under way, then kill the process outright.
    let progress = null;
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      const r = await (await fetch(s.base + '/call_tool', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool: 'sync_status', arguments: {} }),
      })).json();
      const job = r.structuredContent.jobs[0];
      if (job && job.files_done > 100) { progress = job; break; }
      await new Promise((res) => setTimeout(res, 5));
    }
    assert.ok(progress, 'the sync started');
    s.proc.kill('SIGKILL');
    await s.exited;
    assert.equal(progress.state, 'running');
    assert.ok(progress.files_done < FILES, 'killed mid-sync');

    const check = kb('check');
    assert.equal(check.status, 0, check.stderr);
    assert.equal(JSON.parse(check.stdout).integrity, 'ok');
    const partial = JSON.parse(kb('stats').stdout).sources[0].documents;
    assert.ok(partial < FILES, `partial index (${partial} documents)`);

    const sync = kb('sync');
    assert.equal(sync.status, 0, sync.stderr);
    const result = JSON.parse(sync.stdout).results[0];
    assert.equal(result.unchanged + result.added + result.updated, FILES);
    assert.equal(result.unchanged, partial, 'what was indexed before the crash is kept, not redone');
    const stats = JSON.parse(kb('stats').stdout).sources[0];
    assert.equal(stats.documents, FILES);
    assert.equal(stats.chunks, FILES * 2);
    for (const i of [0, 1234, FILES - 1]) {
      const hits = JSON.parse(kb('search', `tok${i}`, '--json').stdout).results;
      assert.equal(hits.length, 1, `tok${i} is indexed exactly once`);
      assert.equal(hits[0].path, `d${i % 20}/f${i}.md`);
    }
    assert.equal(JSON.parse(kb('check').stdout).integrity, 'ok');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
