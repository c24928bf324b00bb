'use strict';
/**
 * `npm run bench`: how keepsake's backup and restore test compare with what they replace.
 *
 *   BENCH_SIZE_MB=1000  size of the generated database on disk, in MiB (default 1000)
 *   BENCH_RUNS=3        timed runs per case; the median is reported (default 3)
 *
 * In one process: a throwaway PostgreSQL (the product's own module, from dist/), a database filled
 * by bench/generate.sql, the loopback S3 server from scripts/, then
 *   1. the backup cases (bench/lib/cases.js: pg_dump, zstd and gzip pipelines, keepsake local and
 *      s3), interleaved round by round; keepsake's again at a quarter of the size, for peak RSS;
 *   2. the restore cases (bench/lib/restore-cases.js: plain single-job pg_restore into a second,
 *      default-config cluster, and keepsake restore-test), interleaved round by round.
 * Prints a table with PASS/FAIL per target, writes bench/results/latest.json and appends a section
 * to docs/benchmarks.md. Exits 0 whatever the figures are; non-zero only when something crashed.
 * Everything it starts is stopped and removed on success, failure, SIGINT and SIGTERM.
 */
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { ROOT, SIZE_MB, SMALL_MB, RUNS, log } = require('./lib/common');
const { onCleanup, exitCleanlyOnSignals, mustRun, runBench } = require('./lib/processes');
const { startPostgres, generateDatabase, startS3Server } = require('./lib/servers');
const { PRELOAD, backupCases, rawDumpBytes } = require('./lib/cases');
const { prepareRestore } = require('./lib/restore-cases');
const { machineInfo, buildReport, renderMarkdown, writeResults } = require('./lib/report');

exitCleanlyOnSignals();

/**
 * RUNS rounds of every case against `database`; with `rotate`, the order shifts each round so no
 * case always runs first (or right after the slow gzip one). Returns case id -> results.
 */
async function rounds(name, cases, { database, rotate, detail }) {
  const results = Object.fromEntries(cases.map((c) => [c.id, []]));
  for (let round = 0; round < RUNS; round++) {
    const order = rotate ? cases.map((_, i) => cases[(i + round) % cases.length]) : cases;
    for (const c of order) {
      const result = await c.run(database);
      results[c.id].push(result);
      log(`${name} ${round + 1}/${RUNS} ${c.label.padEnd(15)} ${result.seconds.toFixed(2)}s${detail(result)}`);
    }
  }
  return results;
}

const backupDetail = (r) => (r.peakRssMb ? `, peak RSS ${r.peakRssMb.toFixed(1)} MB, node CPU ${r.nodeCpuSeconds.toFixed(2)}s` : '');
const smallDetail = (r) => `, peak RSS ${r.peakRssMb.toFixed(1)} MB`;
const restoreDetail = (r) => {
  if (r.ok === undefined) return '';
  const t = r.timings;
  const ms = (n) => (n === undefined ? '-' : `${(n / 1000).toFixed(2)}s`);
  return `, ${r.ok ? 'ok' : `FAILED (${r.failure})`}: fetch ${ms(t.fetchMs)}, restore ${ms(t.restoreMs)}, verify ${ms(t.verifyMs)}, total ${ms(t.totalMs)}`;
};

async function main() {
  const machine = machineInfo();
  log(`size ${SIZE_MB} MiB (small ${SMALL_MB} MiB), ${RUNS} run(s) per case, ${machine.nproc} CPUs`);
  if (!fs.existsSync(path.join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing; run `npm run build` (npm run bench does)');

  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'keepsake-bench-'));
  onCleanup(() => fsp.rm(tmp, { recursive: true, force: true, maxRetries: 5 }));
  const dirs = { out: path.join(tmp, 'out'), local: path.join(tmp, 'backups'), state: path.join(tmp, 'state'), rss: path.join(tmp, 'rss') };
  for (const dir of Object.values(dirs)) await fsp.mkdir(dir, { recursive: true });
  const preload = path.join(tmp, 'rss-preload.js');
  await fsp.writeFile(preload, PRELOAD);

  log('starting a throwaway PostgreSQL');
  const cluster = await startPostgres();
  const pgDumpVersion = (await mustRun('pg_dump', cluster.bin('pg_dump'), ['--version'])).stdout.trim();
  log(`PostgreSQL ${cluster.serverVersion} on port ${cluster.db.port}; ${pgDumpVersion}`);

  log('starting the S3 test server');
  const s3 = await startS3Server();
  log(`S3 test server at ${s3.endpoint}`);

  const databases = {};
  for (const [name, sizeMb] of [['bench', SIZE_MB], ['bench_small', SMALL_MB]]) databases[name] = await generateDatabase(cluster, name, sizeMb);

  const context = { cluster, s3, dirs, tmp, preload };
  const cases = backupCases(context);
  const keepsakeCases = cases.filter((c) => c.id === 'local' || c.id === 's3');

  // Warm-up, untimed: pulls the tables into the page cache, node_modules into the file cache, and
  // checks that every kind of case works at all before minutes are spent timing them.
  log('warm-up (untimed)');
  const rawBytes = await rawDumpBytes(cluster, 'bench');
  for (const c of keepsakeCases) await c.run('bench_small');

  const results = await rounds('round', cases, { database: 'bench', rotate: true, detail: backupDetail });
  // The same keepsake backups against a quarter-size database: peak RSS must not follow the size.
  const small = await rounds('small', keepsakeCases, { database: 'bench_small', rotate: false, detail: smallDetail });

  // Restores of the main database: set-up untimed, then the two cases interleaved.
  const restorePrepared = await prepareRestore(context, 'bench');
  const restoreResults = await rounds('restore', restorePrepared.cases, { database: 'bench', rotate: true, detail: restoreDetail });

  const postgres = { server: cluster.serverVersion, pgDump: pgDumpVersion };
  const report = buildReport({ machine, postgres, databases, rawBytes, cases, results, small, restorePrepared, restoreResults });
  const markdown = renderMarkdown(report);
  process.stdout.write(`\n${markdown}\n`);
  await writeResults(report, markdown);
  log(`wrote bench/results/latest.json and appended to docs/benchmarks.md`);
}

runBench(main, log);
