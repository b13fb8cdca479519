// Peer server for the benchmark: the official MCP TypeScript SDK (McpServer +
// StreamableHTTPServerTransport, JSON responses) exposing the same `echo` tool as mcpd's
// conformance pack (input {message: string}; text content = message; structuredContent
// {message} matching the same outputSchema).
//
//   node bench/peer/ts_echo_server.mjs PORT        (PORT 0: let the OS choose)
//
// One stateful session shared by every connection: the benchmark initializes once and then
// sends all calls with that Mcp-Session-Id (the transport validates it and the Accept header).
// Logs {"event":"listening","address":"127.0.0.1:PORT"} on stderr when ready, like mcpd.
// The SDK is loaded from tools/node_modules (the pinned @modelcontextprotocol/sdk).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.MCPD_TOOLS || path.resolve(here, '..', '..', 'tools');
const require = createRequire(path.join(toolsDir, 'package.json'));
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { z } = require('zod');
const sdkVersion = JSON.parse(fs.readFileSync(path.join(toolsDir, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json'), 'utf8')).version;

const port = Number(process.argv[2] ?? 0);
const maxBody = 4 * 1024 * 1024;

const server = new McpServer({ name: 'ts-echo-bench', version: '1.0.0' });
server.registerTool(
  'echo',
  {
    title: 'Echo',
    description: 'Returns the message it is given (used by the benchmarks)',
    inputSchema: { message: z.string().describe('Text to send back') },
    outputSchema: { message: z.string() },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  async ({ message }) => ({ content: [{ type: 'text', text: message }], structuredContent: { message } }),
);

const transport = new StreamableHTTPServerTransport({
  sessionIdGenerator: () => randomUUID(),
  enableJsonResponse: true,
});
await server.connect(transport);

// SDK 1.32.2 in JSON-response mode never deletes the per-POST entry it adds to the transport's
// _streamMapping (cleanup() is only called on the SSE path), so a long-lived session grows by
// one entry per request (~1 GB RSS after a 10 s run here). The benchmark measures the SDK as
// shipped; TS_ECHO_FIX_LEAK=1 removes each entry once its JSON answer is resolved, to show
// what the leak costs.
if (process.env.TS_ECHO_FIX_LEAK === '1') {
  const inner = transport._webStandardTransport;
  const map = inner?._streamMapping;
  if (!map) throw new Error('TS_ECHO_FIX_LEAK: SDK internals changed (no _streamMapping)');
  const set = map.set.bind(map);
  map.set = (id, entry) => {
    if (entry?.resolveJson) {
      const resolve = entry.resolveJson;
      entry.resolveJson = (response) => {
        map.delete(id);
        resolve(response);
      };
    }
    return set(id, entry);
  };
}

const httpServer = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (!url.startsWith('/mcp')) {
    res.writeHead(404).end();
    return;
  }
  if (req.method !== 'POST') {
    transport.handleRequest(req, res).catch((e) => fail(res, e));
    return;
  }
  // Parse the body here (what express.json() does in the SDK's examples) and hand it over.
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > maxBody) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
      return;
    }
    transport.handleRequest(req, res, body).catch((e) => fail(res, e));
  });
});

function fail(res, e) {
  process.stderr.write(JSON.stringify({ event: 'error', message: String(e?.stack ?? e) }) + '\n');
  if (!res.headersSent) res.writeHead(500);
  res.end();
}

httpServer.keepAliveTimeout = 60_000;
httpServer.listen(port, '127.0.0.1', () => {
  const a = httpServer.address();
  process.stderr.write(JSON.stringify({ event: 'listening', transport: 'http', address: `${a.address}:${a.port}`, sdk: sdkVersion, node: process.version, fix_leak: process.env.TS_ECHO_FIX_LEAK === '1' }) + '\n');
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    httpServer.close();
    httpServer.closeAllConnections?.();
    transport.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
