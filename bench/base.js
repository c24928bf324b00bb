'use strict';
/**
 * `npm run bench:base`: what `keepsake base-backup` (PITR) costs against PostgreSQL's own tools.
 * One throwaway PostgreSQL that allows replication, a database of about BENCH_BASE_MB (default
 * 1000) MB, then BENCH_RUNS rounds (default 3), interleaved, each writing to an emptied folder:
 *   - baseline: `pg_basebackup -D - -Ft -X none --checkpoint=fast | zstd -3 -T0 > file`;
 *   - `keepsake base-backup` to local disk (node start, pre-flight, the tar check on the stored
 *     bytes, sha256, the manifest written last all included).
 * Ratio = median keepsake / median baseline. Goal: at most 1.10. Appends a section to docs/benchmarks.md.
 */
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { ROOT, RUNS, log, median, mib } = require('./lib/common');
const { onCleanup, exitCleanlyOnSignals, mustRun, cleanEnv, emptyDir, runBench } = require('./lib/processes');
const { startPostgres, generateDatabase } = require('./lib/servers');

exitCleanlyOnSignals();

const GOAL = 1.1;
const SIZE_MB = Math.max(10, Number(process.env.BENCH_BASE_MB ?? 1000));

async function main() {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'keepsake-bench-base-'));
  onCleanup(() => fsp.rm(tmp, { recursive: true, force: true, maxRetries: 5 }));
  const cluster = await startPostgres({ settings: { wal_level: 'replica', max_wal_senders: '10' } });
  const database = await generateDatabase(cluster, 'app', SIZE_MB);
  const outDir = path.join(tmp, 'out');
  const { host, port, user, password } = cluster.db;
  const baselineCommand = `${cluster.bin('pg_basebackup')} -D - -Ft -X none --checkpoint=fast -h ${host} -p ${port} -U ${user} --no-password | zstd -3 -T0 -q > ${outDir}/base.tar.zst`;
  const keepsakeEnv = cleanEnv({
    POSTGRES_HOST: host, POSTGRES_PORT: String(port), POSTGRES_USER: user, POSTGRES_PASSWORD: password, POSTGRES_DB: 'app', BACKUP_GLOBALS: 'false',
    BACKUP_DIR: outDir, STATE_DIR: path.join(tmp, 'state'), LOG_LEVEL: 'warn', PG_BIN_DIR: cluster.pg.binDir, PITR: 'on', NOTIFY_ON: 'test',
  });
  let clusterBytes = 0;
  const cases = {
    baseline: async () => {
      await emptyDir(outDir);
      const ran = await mustRun('pg_basebackup | zstd', 'bash', ['-o', 'pipefail', '-c', baselineCommand], { env: cleanEnv({ PGPASSWORD: password }) });
      clusterBytes = (await fsp.stat(path.join(outDir, 'base.tar.zst'))).size;
      return ran.seconds;
    },
    keepsake: async () => {
      await emptyDir(outDir);
      return (await mustRun('keepsake base-backup', process.execPath, [path.join(ROOT, 'dist/cli.js'), 'base-backup'], { env: keepsakeEnv })).seconds;
    },
  };
  log('warm-up (untimed)');
  for (const run of Object.values(cases)) await run();
  const results = { baseline: [], keepsake: [] };
  const order = Object.keys(cases);
  for (let round = 0; round < RUNS; round++) {
    for (const id of order.map((_, i) => order[(i + round) % order.length])) {
      results[id].push(await cases[id]());
      log(`round ${round + 1}/${RUNS} ${id.padEnd(8)} ${results[id].at(-1).toFixed(2)}s`);
    }
  }
  const [baseline, keepsake] = [median(results.baseline), median(results.keepsake)];
  const ratio = keepsake / baseline;
  const markdown = [
    `## Base backups (PITR), ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, PostgreSQL ${cluster.serverVersion}, a ${mib(database.bytes).toFixed(0)} MiB database (${mib(clusterBytes).toFixed(0)} MiB stored), ${RUNS} interleaved runs, medians`,
    '',
    '| measured | seconds |',
    '|---|---|',
    `| pg_basebackup -D - -Ft -X none --checkpoint=fast \\| zstd -3 -T0 > file | ${baseline.toFixed(2)} |`,
    `| keepsake base-backup (local disk; node start, pre-flight, tar check, sha256, manifest included) | ${keepsake.toFixed(2)} |`,
    `| **ratio** | **${ratio.toFixed(2)}x** (goal at most ${GOAL.toFixed(2)}x: ${ratio <= GOAL ? 'PASS' : 'FAIL'}) |`,
    '',
    `Load average at the end: ${os.loadavg().map((load) => load.toFixed(1)).join(', ')}. keepsake adds node's start, the pre-flight queries, a second zstd over the head of the stored bytes (backup_label), and the sha256 and writing of the stored stream in node.`,
    '',
  ].join('\n');
  process.stdout.write(`\n${markdown}\n`);
  await fsp.appendFile(path.join(ROOT, 'docs/benchmarks.md'), `\n${markdown}`);
}

runBench(main, log);
