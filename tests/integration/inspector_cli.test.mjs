// MCP Inspector CLI (pinned @modelcontextprotocol/inspector-cli in tools/) against the real mcpd:
// over stdio (the inspector spawns mcpd) and over HTTP (Streamable HTTP, legacy SSE, API key).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { MCPD_BIN, NODE_BIN, TOOLS_DIR, cleanEnv, startServer } from './lib/mcpd.mjs';

const INSPECTOR_DIR = path.join(TOOLS_DIR, 'node_modules', '@modelcontextprotocol', 'inspector-cli');
const INSPECTOR_CLI = path.join(INSPECTOR_DIR, 'build', 'cli.js');
const RUN_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 30_000;

/**
 * Runs `NODE_BIN cli.js --cli ...args` and resolves { code, signal, stdout, stderr, json }.
 *
 * - cli.js re-spawns `node build/index.js` through PATH, so node 22's directory goes first in PATH.
 * - index.js 1.0.3 checks fs.existsSync('../package.json') against the *cwd* but then imports it
 *   relative to its own file; running from build/ makes both resolve to inspector-cli/package.json
 *   (from any other cwd it dies with "Cannot find module .../@modelcontextprotocol/package.json").
 * - Runs in its own process group so a timeout kills cli.js, index.js and any mcpd it spawned.
 */
function runInspector(args, { timeoutMs = RUN_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const env = cleanEnv();
    env.PATH = `${path.dirname(NODE_BIN)}${path.delimiter}${env.PATH ?? ''}`;
    const child = spawn(NODE_BIN, [INSPECTOR_CLI, '--cli', ...args], {
      cwd: path.join(INSPECTOR_DIR, 'build'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      reject(new Error(`inspector timed out after ${timeoutMs} ms: ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // The process group may still hold a stdio mcpd if the inspector died abnormally.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* group already empty */ }
      let json = null;
      try { json = JSON.parse(stdout); } catch { /* not JSON (error case) */ }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

/** Asserts a successful run that printed JSON on stdout, and returns that JSON. */
function okJson(r) {
  assert.equal(r.code, 0, `inspector exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.ok(r.json, `stdout is JSON: ${r.stdout}`);
  return r.json;
}

function assertEchoListed(json) {
  assert.ok(Array.isArray(json.tools), `tools array: ${JSON.stringify(json).slice(0, 300)}`);
  const echo = json.tools.find((t) => t.name === 'echo');
  assert.ok(echo, `echo listed among ${json.tools.map((t) => t.name).join(', ')}`);
  assert.equal(echo.inputSchema.type, 'object');
  assert.equal(echo.inputSchema.properties.message.type, 'string');
  assert.deepEqual(echo.inputSchema.required, ['message']);
}

function assertEchoResult(json, message) {
  assert.deepEqual(json.content, [{ type: 'text', text: message }]);
  assert.deepEqual(json.structuredContent, { message });
  assert.notEqual(json.isError, true);
}

// The target goes first: cli.js hands everything after `--` to index.js *after* the options, where
// a variadic option such as --tool-arg would swallow it. mcpd's own flags pass through untouched
// (both commanders allow unknown options), except names the inspector also defines (--log-level).
const STDIO_TARGET = [MCPD_BIN, 'serve', '--stdio', '--enable-pack', 'conformance'];

describe('Inspector CLI over stdio (spawns mcpd)', { timeout: 60_000 }, () => {
  it('tools/list contains echo', { timeout: TEST_TIMEOUT_MS }, async () => {
    assertEchoListed(okJson(await runInspector([...STDIO_TARGET, '--method', 'tools/list'])));
  });

  it('tools/call echo returns the text', { timeout: TEST_TIMEOUT_MS }, async () => {
    const json = okJson(await runInspector([...STDIO_TARGET, '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=hello inspector']));
    assertEchoResult(json, 'hello inspector');
  });

  it('resources/read test://static-text', { timeout: TEST_TIMEOUT_MS }, async () => {
    const json = okJson(await runInspector([...STDIO_TARGET, '--method', 'resources/read', '--uri', 'test://static-text']));
    assert.deepEqual(json.contents, [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }]);
  });

  it('tools/call of an unknown tool fails with -32602', { timeout: TEST_TIMEOUT_MS }, async () => {
    const r = await runInspector([...STDIO_TARGET, '--method', 'tools/call', '--tool-name', 'no_such_tool_xyz']);
    assert.equal(r.code, 1, `exit code; stdout: ${r.stdout}`);
    assert.match(r.stderr, /Failed to call tool/);
    assert.match(r.stderr, /-32602/);
  });
});

describe('Inspector CLI over HTTP', { timeout: 60_000 }, () => {
  let server;
  before(async () => { server = await startServer({ args: ['--enable-pack', 'conformance'] }); });
  after(async () => { if (server) await server.stop(); });

  it('Streamable HTTP: tools/list contains echo', { timeout: TEST_TIMEOUT_MS }, async () => {
    assertEchoListed(okJson(await runInspector([server.url, '--transport', 'http', '--method', 'tools/list'])));
  });

  it('Streamable HTTP: tools/call echo returns the text', { timeout: TEST_TIMEOUT_MS }, async () => {
    const json = okJson(await runInspector([server.url, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=hi']));
    assertEchoResult(json, 'hi');
    // The call really went through this server: mcpd logs each tool call.
    assert.ok(server.logs.some((l) => l.event === 'tool call' && l.tool === 'echo' && l.outcome === 'ok'), 'mcpd logged the echo call');
  });

  it('Streamable HTTP: prompts/get test_simple_prompt', { timeout: TEST_TIMEOUT_MS }, async () => {
    const json = okJson(await runInspector([server.url, '--transport', 'http', '--method', 'prompts/get', '--prompt-name', 'test_simple_prompt']));
    assert.deepEqual(json.messages, [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }]);
  });

  it('legacy SSE (/sse): tools/call echo returns the text', { timeout: TEST_TIMEOUT_MS }, async () => {
    const json = okJson(await runInspector([`${server.base}/sse`, '--transport', 'sse', '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=via sse']));
    assertEchoResult(json, 'via sse');
  });
});

describe('Inspector CLI over HTTP with --api-key', { timeout: 60_000 }, () => {
  const KEY = 'inspector-test-key-42';
  let server;
  before(async () => { server = await startServer({ args: ['--enable-pack', 'conformance', '--api-key', KEY] }); });
  after(async () => { if (server) await server.stop(); });

  it('with --header "Authorization: Bearer KEY" tools/call echo works', { timeout: TEST_TIMEOUT_MS }, async () => {
    const json = okJson(await runInspector([server.url, '--transport', 'http', '--header', `Authorization: Bearer ${KEY}`,
      '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'message=authed']));
    assertEchoResult(json, 'authed');
  });

  it('without a key the inspector fails to connect (401 body surfaced)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const r = await runInspector([server.url, '--transport', 'http', '--method', 'tools/list']);
    assert.equal(r.code, 1, `exit code; stdout: ${r.stdout}`);
    assert.equal(r.json, null, 'no result printed');
    assert.match(r.stderr, /Failed to connect to MCP server/);
    // The SDK's error text carries mcpd's 401 body, not the status code.
    assert.match(r.stderr, /authentication required/);
  });
});
