// The PostgreSQL harness itself (lib/postgres.mjs): it starts, answers as superuser and as the test
// role with its password, keeps its data across a clean stop and a crash, and runs side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres } from './lib/postgres.mjs';

test('a started server answers, keeps data across stop/start and kill/start', async () => {
  const pg = await startPostgres();
  try {
    assert.equal(await pg.psql('SELECT 1'), '1\n');
    assert.match(pg.url, new RegExp(`^postgresql://mcpd:[0-9a-f]+@127\\.0\\.0\\.1:${pg.port}/mcpd_test$`));

    // The test role logs in over TCP with its password (scram-sha-256) and owns the database.
    assert.equal(await pg.psql('SELECT current_user', { asUser: true }), 'mcpd\n');
    await pg.psql('CREATE TABLE kept (id int PRIMARY KEY, name text); INSERT INTO kept VALUES (1, \'one\');', { asUser: true });
    await assert.rejects(pg.psql('SELECT 1', { asUser: true, password: 'wrong' }), /password authentication failed/);

    const port = pg.port;
    await pg.stop();
    await assert.rejects(pg.psql('SELECT 1'), /could not connect|No such file|connection to server/);
    await pg.start();
    assert.equal(pg.port, port);
    assert.equal(await pg.psql('SELECT name FROM kept WHERE id = 1'), 'one\n');

    // kill() is a crash for the database: committed rows survive through WAL recovery.
    await pg.psql("INSERT INTO kept VALUES (2, 'two')");
    await pg.kill();
    await pg.start();
    assert.equal(await pg.psql('SELECT string_agg(name, \',\' ORDER BY id) FROM kept'), 'one,two\n');
    assert.equal(await pg.psql('SELECT count(*) FROM kept', { asUser: true }), '2\n');
  } finally {
    await pg.cleanup();
  }
});

test('servers started in parallel get their own port and folder', async () => {
  const servers = await Promise.all([startPostgres(), startPostgres(), startPostgres()]);
  try {
    assert.equal(new Set(servers.map((s) => s.port)).size, 3);
    assert.equal(new Set(servers.map((s) => s.dir)).size, 3);
    await Promise.all(servers.map((s, i) => s.psql(`CREATE TABLE mark (n int); INSERT INTO mark VALUES (${i});`)));
    for (const [i, s] of servers.entries()) assert.equal(await s.psql('SELECT n FROM mark'), `${i}\n`);
  } finally {
    await Promise.all(servers.map((s) => s.cleanup()));
  }
});
