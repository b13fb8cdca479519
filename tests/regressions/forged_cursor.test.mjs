// A client could forge a pagination cursor: cursors were unsigned base64url("mcpd:<offset>"), so any
// offset within a list was accepted. Now cursors are signed by the server for one list, and a forged one
// is refused with -32602 on every list method of a real mcpd process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, postMcp, openSession } from '../integration/lib/mcpd.mjs';

// What the old server issued (and accepted) for an offset: forged without any secret.
const forge = (offset) => Buffer.from(`mcpd:${offset}`).toString('base64url');

const lists = [
  ['tools/list', 'tools'],
  ['resources/list', 'resources'],
  ['resources/templates/list', 'resourceTemplates'],
  ['prompts/list', 'prompts'],
];

test('forged cursors within every list are refused as invalid params', async () => {
  const s = await startServer({ args: ['--enable-pack', 'conformance'] });
  try {
    const h = { 'mcp-session-id': await openSession(s.url) };
    let id = 0;
    for (const [method, key] of lists) {
      const whole = await postMcp(s.url, { jsonrpc: '2.0', id: ++id, method }, h);
      assert.equal(whole.status, 200);
      const size = whole.json.result[key].length;
      // Offsets 0 and the list's size were always in range, so the unsigned format accepted them.
      for (const offset of new Set([0, 1, size].filter((o) => o <= size))) {
        const forged = await postMcp(s.url, { jsonrpc: '2.0', id: ++id, method, params: { cursor: forge(offset) } }, h);
        assert.equal(forged.status, 200);
        assert.equal(forged.json.error?.code, -32602, `${method} took the forged cursor for offset ${offset}: ${forged.text}`);
        assert.match(forged.json.error.message, /^Invalid params: /);
      }
    }
    // The refusals changed nothing: the session still lists.
    const after = await postMcp(s.url, { jsonrpc: '2.0', id: ++id, method: 'tools/list' }, h);
    assert.ok(after.json.result.tools.length > 0);
  } finally {
    await s.stop();
  }
});
