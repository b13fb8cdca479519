// Starts a throwaway PostgreSQL 15 for bench/sql/run.sh with the tests' own harness
// (tests/integration/lib/postgres.mjs), fills bench_items with ROWS rows, prints one JSON line
// {url, port, user, password, database}, and stops and removes the server when stdin closes.
import { startPostgres } from '../../tests/integration/lib/postgres.mjs';

const rows = Number(process.env.ROWS || 10000);
const pg = await startPostgres();
try {
  await pg.psql(`CREATE TABLE bench_items (id integer PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
                 INSERT INTO bench_items SELECT g, 'item ' || g, (g % 1000) / 10.0 FROM generate_series(1, ${rows}) g;
                 GRANT SELECT ON bench_items TO ${pg.user};
                 ANALYZE bench_items;`);
  console.log(JSON.stringify({ url: pg.url, port: pg.port, user: pg.user, password: pg.password, database: pg.database }));
} catch (e) {
  console.error(e.message);
  await pg.cleanup();
  process.exit(1);
}
process.stdin.resume();
process.stdin.on('end', async () => {
  await pg.cleanup();
  process.exit(0);
});
