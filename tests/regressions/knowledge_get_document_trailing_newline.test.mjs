// Regression: get_document counted one line too many in a file that ends with a newline (a 9-line
// file reported total_lines 10) and, without a line range, its text ended in an extra "\n\n", unlike
// the same document read as kb://document/N. Now the lines are the file's own: the whole text is the
// resource's text, and total_lines counts the lines a text editor shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, openSession, postMcp } from '../integration/lib/mcpd.mjs';

// name: [text, lines]
const DOCS = {
  'guides/releases.md': ['# Releases\n\nReleases are cut every second Tuesday from the main branch.\n\n## Checklist\n\n' +
    '1. Freeze the branch.\n2. Run the full test suite.\n3. Tag the release and publish the changelog.\n', 9],
  'no_final_newline.txt': ['first line\nsecond line', 2],
  'blank_last_line.txt': ['only words here\n\n', 2],
  'one_line.txt': ['a single line\n', 1],
  'windows.txt': ['carriage\r\nreturns\r\n', 2],
};

async function call(s, tool, args) {
  const r = await fetch(s.base + '/call_tool', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tool, arguments: args }),
  });
  assert.equal(r.status, 200);
  const body = await r.json();
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

test('get_document counts and returns the lines of the file, no more', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-lines-'));
  const docs = path.join(dir, 'docs');
  for (const [name, [text]] of Object.entries(DOCS)) {
    fs.mkdirSync(path.dirname(path.join(docs, name)), { recursive: true });
    fs.writeFileSync(path.join(docs, name), text);
  }
  const config = path.join(dir, 'mcpd.toml');
  fs.writeFileSync(config, `[packs.knowledge]\nindex = "${path.join(dir, 'kb.db')}"\n` +
    `[[packs.knowledge.sources]]\nname = "docs"\ntype = "directory"\npath = "${docs}"\n`);
  let s;
  try {
    s = await startServer({ args: ['--enable-pack', 'knowledge', '--config', config] });
    await waitForSync(s);
    const session = await openSession(s.url);
    let id = 10;
    for (const [name, [raw, lines]] of Object.entries(DOCS)) {
      const text = raw.replace(/\r\n?/g, '\n');  // the index keeps line ends as \n
      const whole = await call(s, 'get_document', { source: 'docs', path: name });
      assert.equal(whole.total_lines, lines, `${name}: ${JSON.stringify(whole)}`);
      assert.equal(whole.line_end, lines, name);
      assert.equal(whole.text, text, name);

      // The same text as the document's resource.
      const read = await postMcp(s.url, { jsonrpc: '2.0', id: ++id, method: 'resources/read', params: { uri: `kb://document/${whole.document_id}` } },
        { 'mcp-session-id': session });
      assert.equal(read.status, 200, read.text);
      assert.equal(read.json.result.contents[0].text, whole.text, name);

      // The last line alone, and a range reaching past the end, stop at the file's last line.
      const last = await call(s, 'get_document', { source: 'docs', path: name, line_start: lines, line_end: lines + 5 });
      assert.equal(last.line_end, lines, name);
      assert.equal(last.total_lines, lines, name);
      assert.equal(last.text, text.slice(text.slice(0, -1).lastIndexOf('\n') + 1), name);
    }

    // A line after the last is past the end, and the refusal counts the real lines.
    const past = await fetch(s.base + '/call_tool', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'get_document', arguments: { source: 'docs', path: 'guides/releases.md', line_start: 10 } }),
    }).then((r) => r.json());
    assert.equal(past.isError, true, JSON.stringify(past));
    assert.equal(past.content[0].text, "'line_start' is past the end of the document (9 lines)");
  } finally {
    await s?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
