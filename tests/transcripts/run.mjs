// Replays tests/transcripts/<pack>/*.transcript against the real mcpd binary over stdio, one node:test
// test per file: `node run.mjs sql/query` runs one, `node run.mjs` every pack that has a setup.toml.
// The format and a pack folder's setup files are described in README.md beside this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MCPD_BIN, cleanEnv } from '../integration/lib/mcpd.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Every wait is bounded: a message, the server's exit after end of input, a prepare command.
const MESSAGE_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 10_000;
const PREPARE_TIMEOUT_MS = 60_000;
const STDERR_LINES_KEPT = 40;

/** Empty when `actual` contains `expected` (objects as subsets, "<any>" matches anything); else where they differ. */
function mismatch(expected, actual, where = '') {
  if (expected === '<any>') return '';
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${where}: expected an object`;
    for (const [k, v] of Object.entries(expected)) {
      if (!Object.hasOwn(actual, k)) return `${where}/${k}: missing`;
      const m = mismatch(v, actual[k], `${where}/${k}`);
      if (m) return m;
    }
    return '';
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return `${where}: expected an array of ${expected.length} items, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(expected[i], actual[i], `${where}/${i}`);
      if (m) return m;
    }
    return '';
  }
  return expected === actual ? '' : `${where}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/**
 * A transcript as steps: a line to send (null for messages expected before anything is sent) and the
 * messages expected after it, each { line, text, optional }. `{dir}` in any line stands for the
 * transcript's temp folder.
 */
function parseTranscript(text) {
  const steps = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw === '' || raw.startsWith('#')) return;
    if (raw.startsWith('> ')) {
      steps.push({ line, send: raw.slice(2), expect: [] });
      return;
    }
    const optional = raw.startsWith('<? ');
    if (!optional && !raw.startsWith('< ')) throw new Error(`line ${line}: starts with neither '> ', '< ', '<? ' nor '#'`);
    if (steps.length === 0) steps.push({ line, send: null, expect: [] });
    steps.at(-1).expect.push({ line, text: raw.slice(optional ? 3 : 2), optional });
  });
  for (const step of steps) {
    step.expect.forEach((e, i) => {
      // An optional message is decided by the next message that must come; at the end of a step
      // nothing would say how long to wait for it.
      if (e.optional && (i + 1 === step.expect.length || step.expect[i + 1].optional))
        throw new Error(`line ${e.line}: a '<?' line must be followed by a '<' line of the same step`);
    });
  }
  if (!steps.some((s) => s.expect.length > 0)) throw new Error('the transcript expects no message');
  return steps;
}

// The transcript's expected message with {dir} filled in.
function expectedValue(e, dir) {
  const text = e.text.replaceAll('{dir}', JSON.stringify(dir).slice(1, -1));
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`line ${e.line}: not JSON: ${err.message}`);
  }
}

/** The server's stdout as a queue of parsed messages; next() waits at most `ms`. */
class MessageQueue {
  constructor(proc) {
    this.items = [];
    this.waiter = null;
    this.closed = false;
    const rl = readline.createInterface({ input: proc.stdout });
    rl.on('line', (line) => {
      let value;
      try {
        value = JSON.parse(line);
      } catch {
        value = { notJson: line };
      }
      this.items.push({ line, value });
      this.wake();
    });
    rl.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async next(ms, what) {
    const deadline = Date.now() + ms;
    while (this.items.length === 0) {
      if (this.closed) throw new Error(`the server closed its output; expected ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`nothing came within ${ms} ms; expected ${what}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.items.shift();
  }
}

function replaceDir(text, dir) {
  return text.replaceAll('{dir}', dir);
}

// The pack's temp folder: fixtures copied in, *.sql fixtures applied to SQLite databases of the same
// name, the config written from setup.toml, and the prepare commands run. Returns the config's path.
async function prepareFolder(packDir, dir, env) {
  if (/["\\\s]/.test(dir)) throw new Error(`the temp folder ${dir} cannot be written into TOML as it is`);
  const fixtures = path.join(packDir, 'fixtures');
  if (fs.existsSync(fixtures)) {
    fs.cpSync(fixtures, dir, { recursive: true, verbatimSymlinks: true });
    const scripts = fs.readdirSync(fixtures).filter((f) => f.endsWith('.sql'));
    if (scripts.length > 0) {
      const { DatabaseSync } = await import('node:sqlite');
      for (const file of scripts) {
        const db = new DatabaseSync(path.join(dir, file.replace(/\.sql$/, '.db')));
        try {
          db.exec(fs.readFileSync(path.join(fixtures, file), 'utf8'));
        } finally {
          db.close();
        }
      }
    }
  }
  const config = path.join(dir, 'mcpd.toml');
  fs.writeFileSync(config, replaceDir(fs.readFileSync(path.join(packDir, 'setup.toml'), 'utf8'), dir));
  const prepare = path.join(packDir, 'prepare.txt');
  if (fs.existsSync(prepare)) {
    for (const line of fs.readFileSync(prepare, 'utf8').split('\n')) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      const args = [...replaceDir(line, dir).trim().split(/\s+/), '--config', config];
      const r = spawnSync(MCPD_BIN, args, { env, encoding: 'utf8', timeout: PREPARE_TIMEOUT_MS });
      if (r.status !== 0)
        throw new Error(`prepare: mcpd ${args.join(' ')} ended with ${r.status ?? r.signal ?? r.error}: ${r.stderr}`);
    }
  }
  return config;
}

async function replay(pack, name) {
  const packDir = path.join(HERE, pack);
  const steps = parseTranscript(fs.readFileSync(path.join(packDir, `${name}.transcript`), 'utf8'));
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `mcpd-transcript-${pack}-`)));
  // cleanEnv(): no MCP_*, EMBED_PROVIDER=none; nothing from the environment adds sources or stores.
  const env = { ...cleanEnv(), MCP_DATA_DIR: path.join(dir, 'data') };
  for (const k of ['DATABASE_URL', 'POSTGRES_HOST', 'S3_BUCKET', 'S3_ENDPOINT', 'GITHUB_TOKEN']) delete env[k];
  let proc = null;
  const stderr = [];
  try {
    const config = await prepareFolder(packDir, dir, env);
    proc = spawn(MCPD_BIN, ['serve', '--stdio', '--config', config, '--enable-pack', pack], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    proc.stdin.on('error', () => {}); // a server that died is reported by the next expectation
    readline.createInterface({ input: proc.stderr }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > STDERR_LINES_KEPT) stderr.shift();
    });
    const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    const messages = new MessageQueue(proc);
    const logs = () => `\nlast server log lines:\n${stderr.join('\n')}`;

    // Where a message comes from the server, with what the transcript says about it.
    const check = (e, got) => {
      const expected = expectedValue(e, dir);
      if ('notJson' in got.value) return `line ${e.line}: the server wrote a line that is not JSON: ${got.line}`;
      const m = mismatch(expected, got.value);
      if (m) return `line ${e.line}: ${m}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${got.line}`;
      if (got.line.includes(dir) && !e.text.includes('{dir}'))
        return `line ${e.line}: the answer names the server's folder ${dir}: ${got.line}`;
      return '';
    };

    for (const step of steps) {
      if (step.send !== null) {
        if (messages.items.length > 0)
          assert.fail(`before line ${step.line}: the server sent a message the transcript does not expect: ${messages.items[0].line}${logs()}`);
        proc.stdin.write(replaceDir(step.send, dir) + '\n');
      }
      let pending = null;
      for (const e of step.expect) {
        const got = pending ?? (await messages.next(MESSAGE_TIMEOUT_MS, `line ${e.line}: ${e.text}`).catch((err) => {
          assert.fail(`${err.message}${logs()}`);
        }));
        pending = null;
        const problem = check(e, got);
        if (e.optional) {
          if (problem) pending = got; // it did not come: the next line must match this message
          continue;
        }
        if (problem) assert.fail(`${problem}${logs()}`);
      }
    }

    proc.stdin.end();
    let timer;
    const ended = await Promise.race([
      exited,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), EXIT_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    assert.ok(ended, `the server did not exit within ${EXIT_TIMEOUT_MS} ms of the end of its input${logs()}`);
    // Whatever it wrote before exiting is in the queue once its output closes.
    await messages.next(MESSAGE_TIMEOUT_MS, 'the end of the output').then(
      (extra) => assert.fail(`the server sent a message the transcript does not expect: ${extra.line}${logs()}`),
      () => {},
    );
    assert.deepEqual(ended, { code: 0, signal: null }, `the server did not exit cleanly at the end of its input${logs()}`);
  } finally {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// `pack/name` from the command line, else every transcript of every pack with a setup.toml.
function selected() {
  const wanted = process.argv[2];
  if (wanted) {
    const [pack, name] = wanted.replace(/\.transcript$/, '').split('/');
    if (!pack || !name) throw new Error(`give a transcript as pack/name, not ${wanted}`);
    return [[pack, name]];
  }
  const out = [];
  for (const pack of fs.readdirSync(HERE).sort()) {
    if (!fs.existsSync(path.join(HERE, pack, 'setup.toml'))) continue;
    for (const f of fs.readdirSync(path.join(HERE, pack)).sort())
      if (f.endsWith('.transcript')) out.push([pack, f.replace(/\.transcript$/, '')]);
  }
  return out;
}

for (const [pack, name] of selected()) {
  test(`${pack}/${name}`, { timeout: 180_000 }, () => replay(pack, name));
}
