// Test harness: a throwaway PostgreSQL 15 server per call, for the sql pack's integration tests.
// Each server has its own temp folder (data, socket, log) and its own loopback port, so test files can
// run in parallel. The test role logs in over TCP with a password (scram-sha-256), as mcpd does in
// production; the superuser is reachable only through the server's own Unix socket (trust).
import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const PG_BIN = process.env.MCPD_PG_BIN || '/usr/lib/postgresql/15/bin';
const SUPERUSER = 'postgres';
const USER = 'mcpd';
const DATABASE = 'mcpd_test';
// PostgreSQL refuses to run as root: then initdb, pg_ctl and postgres run as the `postgres` user.
const AS_ROOT = process.getuid?.() === 0;

// Servers still running when the process exits (a test failed before cleanup) are stopped then.
const live = new Set();
process.on('exit', () => {
  for (const pg of live) pg.cleanupSync();
});

function binary(name) {
  const file = path.join(PG_BIN, name);
  if (!fs.existsSync(file)) {
    throw new Error(`PostgreSQL 15 is not installed: ${file} is missing. Install the Debian package ` +
      'postgresql-15 (scripts/install-deps.sh --test-tools does), or set MCPD_PG_BIN to its bin folder.');
  }
  return file;
}

function systemUser(name) {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) {
    throw new Error(`tests run as root, and PostgreSQL must not: the system user '${name}' is missing ` +
      '(the Debian package postgresql-15 creates it)');
  }
  return { uid: Number(r.stdout), gid: Number(g.stdout) };
}

// Runs a program, as the postgres user when we are root; resolves { stdout, stderr }, rejects with
// both in the message.
function run(file, args, { asServer = false, env = {}, input, cwd, timeout = 60000 } = {}) {
  let cmd = file;
  let argv = args;
  if (asServer && AS_ROOT) {
    // setpriv, not runuser or su: no PAM session, which some containers refuse.
    cmd = 'setpriv';
    argv = ['--reuid', SUPERUSER, '--regid', SUPERUSER, '--init-groups', '--', file, ...args];
  }
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, argv, { env: { ...process.env, ...env }, cwd, timeout, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          err.message = `${path.basename(file)} ${args.join(' ')} failed (${err.code ?? err.signal}): ${stderr || stdout}`;
          err.stdout = stdout;
          err.stderr = stderr;
          reject(err);
        } else {
          resolve({ stdout, stderr });
        }
      });
    if (input !== undefined) child.stdin.end(input);
  });
}

// A port no one listens on right now. Another process may take it before postgres binds it, so
// start() retries with a new one when the bind fails.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function quoteLiteral(s) {
  return `'${String(s).replaceAll("'", "''")}'`;
}

/**
 * Starts a new PostgreSQL 15 server on 127.0.0.1 (an OS-chosen free port unless `port` is given),
 * with a database `mcpd_test` owned by the role `mcpd`, which logs in with a random password.
 * Returns { host, port, user, password, database, url, dir, logFile, psql(sql, opts), stop(), kill(),
 * start(), cleanup(), log() }.
 */
export async function startPostgres({ port = 0 } = {}) {
  const bin = {
    initdb: binary('initdb'),
    pg_ctl: binary('pg_ctl'),
    postgres: binary('postgres'),
    psql: binary('psql'),
    pg_isready: binary('pg_isready'),
  };
  const owner = AS_ROOT ? systemUser(SUPERUSER) : null;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-pg-'));
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  const logFile = path.join(dir, 'postgres.log');
  fs.mkdirSync(socketDir);
  fs.writeFileSync(logFile, '');
  if (owner) for (const p of [dir, socketDir, logFile]) fs.chownSync(p, owner.uid, owner.gid);

  const password = crypto.randomBytes(18).toString('hex');
  // HOME in the temp folder: nothing reads the user's ~/.psqlrc or ~/.pgpass, and the postgres user
  // can always reach it.
  const serverEnv = { HOME: dir, LC_ALL: 'C', PGTZ: 'UTC' };

  let running = false;
  let currentPort = port;

  const pg = {
    host: '127.0.0.1',
    get port() { return currentPort; },
    user: USER,
    password,
    database: DATABASE,
    get url() {
      return `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${currentPort}/${DATABASE}`;
    },
    superuser: SUPERUSER,
    dir,
    dataDir,
    socketDir,
    logFile,

    /** The server's log so far (attach it to assertion messages). */
    log() {
      try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; }
    },

    /**
     * Runs SQL with psql and returns its stdout: unaligned, tuples only (`SELECT 1` gives "1\n"),
     * stopping at the first error, which rejects. As the superuser over the Unix socket by default;
     * { asUser: true } logs in as the test role over TCP with its password (or with `password`).
     */
    async psql(sql, { asUser = false, password: pw = password, database = DATABASE, args = [] } = {}) {
      const conn = asUser
        ? ['-h', '127.0.0.1', '-p', String(currentPort), '-U', USER, '-d', database]
        : ['-h', socketDir, '-p', String(currentPort), '-U', SUPERUSER, '-d', database];
      const env = { ...serverEnv, PGCONNECT_TIMEOUT: '10', ...(asUser ? { PGPASSWORD: pw } : {}) };
      const { stdout } = await run(bin.psql,
        ['-X', '-w', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...conn, ...args, '-f', '-'], { env, input: sql });
      return stdout;
    },

    /** Starts the stopped server again, on the same port and data folder. */
    async start() {
      if (running) return;
      await pgCtl(['start', '-w', '-t', '60', '-l', logFile, '-o', `-p ${currentPort}`]);
      running = true;
      live.add(pg);
      await waitReady();
    },

    /** A clean shutdown (pg_ctl stop -m fast). */
    async stop() {
      if (!running) return;
      await pgCtl(['stop', '-w', '-t', '60', '-m', 'fast']);
      running = false;
    },

    /**
     * A crash as far as the database is concerned (pg_ctl stop -m immediate: no checkpoint, recovery
     * from the WAL on the next start), for fault tests.
     */
    async kill() {
      if (!running) return;
      await pgCtl(['stop', '-w', '-t', '60', '-m', 'immediate']);
      running = false;
    },

    /** Stops the server if it runs and removes its folder. */
    async cleanup() {
      if (running) {
        try { await pg.kill(); } catch { /* removed below anyway */ }
      }
      live.delete(pg);
      fs.rmSync(dir, { recursive: true, force: true });
    },

    // For the process 'exit' handler, where nothing asynchronous runs.
    cleanupSync() {
      if (running) {
        const args = ['stop', '-D', dataDir, '-w', '-m', 'immediate'];
        if (AS_ROOT) spawnSync('setpriv', ['--reuid', SUPERUSER, '--regid', SUPERUSER, '--init-groups', '--', bin.pg_ctl, ...args]);
        else spawnSync(bin.pg_ctl, args);
        running = false;
      }
      live.delete(pg);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  function pgCtl(args) {
    return run(bin.pg_ctl, ['-D', dataDir, ...args], { asServer: true, env: serverEnv, cwd: dir, timeout: 90000 });
  }

  // pg_ctl -w already waits for "ready"; this also proves the TCP listener answers.
  async function waitReady() {
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        await run(bin.pg_isready, ['-q', '-h', '127.0.0.1', '-p', String(currentPort), '-t', '5'], { env: serverEnv });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections: ${err.message}\n${pg.log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  try {
    // The superuser trusts the server's own socket (in our 0700 folder); TCP needs a password.
    await run(bin.initdb, [
      '-D', dataDir, '-U', SUPERUSER, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
      '--auth-local=trust', '--auth-host=scram-sha-256',
    ], { asServer: true, env: serverEnv, cwd: dir });
    fs.writeFileSync(path.join(dataDir, 'pg_hba.conf'), [
      '# mcpd tests: superuser over the Unix socket only; everyone else with a password over loopback.',
      'local all all trust',
      'host all all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'));
    fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), [
      '',
      // fsync off is safe while the machine does not crash, and kill() only crashes PostgreSQL.
      // synchronous_commit stays on: with it off, a commit just before kill() could be lost, and
      // fault tests rely on committed rows surviving.
      '# mcpd tests: loopback only, a private socket folder, no fsync.',
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = ${quoteLiteral(socketDir)}`,
      'fsync = off',
      'full_page_writes = off',
      'shared_buffers = 32MB',
      "password_encryption = 'scram-sha-256'",
      "log_min_messages = 'warning'",
      '',
    ].join('\n'));
    if (owner) for (const f of ['pg_hba.conf', 'postgresql.conf']) fs.chownSync(path.join(dataDir, f), owner.uid, owner.gid);

    // A port another process grabs between freePort() and the bind shows as a failed start.
    for (let attempt = 1; ; ++attempt) {
      if (port === 0) currentPort = await freePort();
      try {
        await pg.start();
        break;
      } catch (err) {
        const taken = /could not (bind|create listen socket)|address already in use/i.test(pg.log() + err.message);
        if (port !== 0 || !taken || attempt >= 10) throw new Error(`${err.message}\n${pg.log()}`);
        fs.writeFileSync(logFile, '');
      }
    }

    await pg.psql(
      `CREATE ROLE ${USER} LOGIN PASSWORD ${quoteLiteral(password)};\n` +
      `CREATE DATABASE ${DATABASE} OWNER ${USER};\n`, { database: 'postgres' });
    return pg;
  } catch (err) {
    await pg.cleanup();
    throw err;
  }
}
