'use strict';
/**
 * `npm run bench:sources`: what backing up several databases in one run costs beyond their pg_dumps.
 * One throwaway PostgreSQL with ten small databases (a few tables, a few thousand rows each), then
 * BENCH_RUNS rounds (default 5), interleaved:
 *   - `pg_dump -Fc -Z0 --no-sync` of each database alone, to /dev/null: the dumps' own time;
 *   - `keepsake backup` of one database (POSTGRES_DB=db01) and of all ten (POSTGRES_DB=db01,...,db10),
 *     BACKUP_GLOBALS=false, to local disk.
 * Per database overhead = (ten - one) / 9 - the median pg_dump of one database: what each further
 * database adds beyond its own pg_dump (connect, privilege check, snapshot, counts, zstd and the
 * table-of-contents check, key, manifest), with node's start paid once and left out. Target: 150 ms.
 * Prints the figures and appends a section to docs/benchmarks.md.
 */
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { ROOT, RUNS, log, median } = require('./lib/common');
const { onCleanup, exitCleanlyOnSignals, mustRun, cleanEnv, emptyDir, runBench } = require('./lib/processes');
const { startPostgres } = require('./lib/servers');

exitCleanlyOnSignals();

const COUNT = 10;
const TARGET_MS = 150;
const names = Array.from({ length: COUNT }, (_, i) => `db${String(i + 1).padStart(2, '0')}`);
const SMALL_DATABASE = `
  CREATE TABLE customers (id serial PRIMARY KEY, name text, created timestamptz DEFAULT now());
  CREATE TABLE orders (id serial PRIMARY KEY, customer int REFERENCES customers, total numeric);
  CREATE TABLE events (id bigserial PRIMARY KEY, payload jsonb);
  INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 2000) g;
  INSERT INTO orders (customer, total) SELECT 1 + g % 2000, g * 1.5 FROM generate_series(1, 5000) g;
  INSERT INTO events (payload) SELECT jsonb_build_object('n', g) FROM generate_series(1, 5000) g;
`;

async function main() {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'keepsake-bench-sources-'));
  onCleanup(() => fsp.rm(tmp, { recursive: true, force: true, maxRetries: 5 }));
  const cluster = await startPostgres();
  const psql = cluster.bin('psql');
  for (const name of names) {
    await mustRun('createdb', psql, ['-XqAtc', `CREATE DATABASE ${name}`], { env: cluster.env('postgres') });
    await mustRun('fill', psql, ['-Xq', '-v', 'ON_ERROR_STOP=1', '-c', SMALL_DATABASE], { env: cluster.env(name) });
  }
  const backupDir = path.join(tmp, 'backups');
  const keepsake = (databases) => {
    const env = cleanEnv({
      POSTGRES_HOST: cluster.db.host, POSTGRES_PORT: String(cluster.db.port), POSTGRES_USER: cluster.db.user, POSTGRES_PASSWORD: cluster.db.password,
      POSTGRES_DB: databases.join(','), BACKUP_GLOBALS: 'false', BACKUP_DIR: backupDir, STATE_DIR: path.join(tmp, 'state'), LOG_LEVEL: 'warn', PG_BIN_DIR: cluster.pg.binDir,
    });
    return async () => {
      await emptyDir(backupDir);
      return (await mustRun('keepsake backup', process.execPath, [path.join(ROOT, 'dist/cli.js'), 'backup'], { env })).seconds;
    };
  };
  const cases = {
    pgDump: async () => {
      const seconds = [];
      for (const name of names) seconds.push((await mustRun('pg_dump', cluster.bin('pg_dump'), ['-Fc', '-Z0', '--no-sync', '-f', '/dev/null'], { env: cluster.env(name) })).seconds);
      return median(seconds);
    },
    one: keepsake(names.slice(0, 1)),
    ten: keepsake(names),
  };
  log('warm-up (untimed)');
  for (const run of Object.values(cases)) await run();
  const results = { pgDump: [], one: [], ten: [] };
  const order = Object.keys(cases);
  for (let round = 0; round < RUNS; round++) {
    for (const id of order.map((_, i) => order[(i + round) % order.length])) {
      results[id].push(await cases[id]());
      log(`round ${round + 1}/${RUNS} ${id.padEnd(6)} ${results[id].at(-1).toFixed(3)}s`);
    }
  }
  const ms = (seconds) => Math.round(seconds * 1000);
  const [pgDump, one, ten] = [median(results.pgDump), median(results.one), median(results.ten)];
  const perDatabase = (ten - one) / (COUNT - 1);
  const overhead = perDatabase - pgDump;
  const markdown = [
    `## Several databases, ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, ${COUNT} small databases (12000 rows each), ${RUNS} interleaved runs, medians`,
    '',
    '| measured | ms |',
    '|---|---|',
    `| pg_dump -Fc of one database, alone | ${ms(pgDump)} |`,
    `| keepsake backup, POSTGRES_DB=db01 (node start included) | ${ms(one)} |`,
    `| keepsake backup, POSTGRES_DB=db01,...,db10 | ${ms(ten)} |`,
    `| each further database: (ten - one) / 9 | ${ms(perDatabase)} |`,
    `| **overhead per database beyond its pg_dump** | **${ms(overhead)}** (target at most ${TARGET_MS}: ${ms(overhead) <= TARGET_MS ? 'PASS' : 'FAIL'}) |`,
    '',
    'The overhead is connect, privilege check, exported snapshot and row counts, choosing pg_dump, zstd and the table of contents read as it is stored, the exclusive key, and the manifest written last.',
    '',
  ].join('\n');
  process.stdout.write(`\n${markdown}\n`);
  await fsp.appendFile(path.join(ROOT, 'docs/benchmarks.md'), `\n${markdown}`);
}

runBench(main, log);
