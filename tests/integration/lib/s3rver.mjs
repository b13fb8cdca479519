// Test harness: an S3-compatible server that checks SigV4 signatures (@20minutes/s3rver, pinned in
// tools/package.json), run as a child process with the pinned node so that a test can stop it and
// start it again on the same port and folder (to see a backend go down and come back).
//
//   const s3 = await startS3rver({ buckets: ['mcpd-test'] });
//   // s3.endpoint, s3.accessKey, s3.secretKey (S3RVER/S3RVER), s3.port, s3.directory
//   await s3.stop();
//   const again = await startS3rver({ buckets: ['mcpd-test'], port: s3.port, directory: s3.directory });
//
// Known deviations from AWS: a list prefix containing !'()* fails the signature check; keys with
// & or ' come back double-escaped in list XML; bytes=-N is served as bytes=0-N. Anonymous requests
// are accepted; wrong credentials are refused.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { NODE_BIN, TOOLS_DIR } from './mcpd.mjs';

// s3rver has no CLI in this version. --openssl-legacy-provider: its continuation tokens use a
// cipher OpenSSL 3 only has there (paginated listing fails with 500 without it).
const SCRIPT = `
const S3rver = require('@20minutes/s3rver');
const [directory, port, buckets] = process.argv.slice(1);
new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true,
             configureBuckets: JSON.parse(buckets).map((name) => ({ name })) })
  .run()
  .then(({ port }) => console.log('S3rver listening on 127.0.0.1:%d', port))
  .catch((err) => { console.error(String(err && err.stack || err)); process.exit(1); });
`;

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts s3rver on 127.0.0.1. `port` 0 lets the OS choose; `directory` (default: a new temp folder)
 * holds the buckets and survives stop(), so a restart with the same one serves the same objects.
 */
export async function startS3rver({ buckets = ['mcpd-test'], port = 0, directory, timeoutMs = 15000 } = {}) {
  const dir = directory ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mcpd-s3rver-'));
  const child = spawn(NODE_BIN, ['--openssl-legacy-provider', '-e', SCRIPT, dir, String(port), JSON.stringify(buckets)], {
    cwd: TOOLS_DIR, // so that require() finds the pinned package
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    live.delete(child);
    resolve({ code, signal });
  }));
  const bound = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code} before listening: ${stderr}`));
    });
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    port: bound,
    directory: dir,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
