// Writes an audit.db of about SIZE_MB megabytes, as a busy mcpd leaves it: the audit log's table
// and time index, rows from the last day or so (10 ms apart, rising with their ids, all within the
// default retention) with ~250-byte arguments.
//   node --no-warnings bench/cold_start/make_audit_db.mjs FILE SIZE_MB
// Rows are generated inside SQLite (a recursive CTE), 50,000 a transaction, until the file is big
// enough (at most 400 transactions).
import { DatabaseSync } from 'node:sqlite';
import fs from 'node:fs';

const [file, sizeArg] = process.argv.slice(2);
const target = Number(sizeArg) * 1e6;
if (!file || !(target > 0) || target > 100e9) {
  console.error('usage: make_audit_db.mjs FILE SIZE_MB (up to 100000)');
  process.exit(2);
}
fs.rmSync(file, { force: true });
const db = new DatabaseSync(file);
// The same table and index as src/infra/audit_log.cpp; incremental auto-vacuum as mcpd sets it.
db.exec(`PRAGMA auto_vacuum = INCREMENTAL;
CREATE TABLE audit (
  id INTEGER PRIMARY KEY, time TEXT NOT NULL, principal TEXT NOT NULL, session TEXT NOT NULL,
  tool TEXT NOT NULL, arguments TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT NOT NULL,
  duration_ms REAL NOT NULL, rows INTEGER, bytes INTEGER);
CREATE INDEX audit_time ON audit(time);`);
const chunk = 50000;
const insert = db.prepare(`
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${chunk})
  INSERT INTO audit(time, principal, session, tool, arguments, outcome, error, duration_ms, rows, bytes)
  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%.3f seconds', (?1 - i) / 100.0)), 'key:1a2b3c4d',
         lower(hex(randomblob(16))), 'sql_query', '{"sql":"' || hex(randomblob(120)) || '"}', 'ok', '', 1.25, 1, NULL
  FROM n`);
const size = () => db.prepare('PRAGMA page_count').get().page_count * db.prepare('PRAGMA page_size').get().page_size;
// Row k of all is stamped (10,000,000 - k) x 10 ms ago: about 28 hours ago at first, later rows newer.
let made = 0;
for (let round = 0; round < 400 && size() < target; ++round) {
  db.exec('BEGIN');
  insert.run(10_000_000 - made);
  db.exec('COMMIT');
  made += chunk;
}
db.close();
console.log(JSON.stringify({ file, rows: made, bytes: fs.statSync(file).size }));
