'use strict';
/**
 * `npm run bench:restore-at`: what `keepsake restore --at TIME` costs for a ~BENCH_SIZE_MB (default
 * 1000 MiB) cluster plus some WAL. One throwaway PostgreSQL (wal_level replica) with bench/generate.sql,
 * pg_receivewal streaming its WAL into a spool, a base backup made as `keepsake base-backup` stores it
 * (pg_basebackup -Ft -X none | zstd under base/, manifest with `physical`; made by hand until that
 * command lands), writes after it (about 100 MiB of WAL), every segment archived with the product's
 * storeWalFile. The time asked for is between the two halves of those writes. Then BENCH_RUNS runs
 * (default 3) of `keepsake restore --at T --target-db NAME --yes` to local disk, median reported, with
 * the replay's own share, beside unpacking the base alone (`zstd -dc | tar -x`), the floor.
 * Prints the figures and appends a section to docs/benchmarks.md.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { ROOT, RUNS, SIZE_MB, log, sq, mib, median } = require('./lib/common');
const { onCleanup, exitCleanlyOnSignals, mustRun, cleanEnv, emptyDir, runBench } = require('./lib/processes');
const { startPostgres, generateDatabase } = require('./lib/servers');

exitCleanlyOnSignals();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function sha256(file) {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

/** The base backup as the base-backup job stores it: the object, then its manifest. */
async function baseBackup(cluster, backupDir, tmp) {
  const { dataKey, backupId, manifestKeyFor } = require('../dist/backup/keys');
  const { parseLsn, segmentName, segnoOfLsn } = require('../dist/pitr/wal-names');
  const at = new Date();
  const key = dataKey('base', 'cluster', at, 'zstd', false, '.tar');
  const file = path.join(backupDir, key);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const started = new Date();
  const made = await mustRun('pg_basebackup | zstd', 'sh', ['-c', `${sq(cluster.bin('pg_basebackup'))} -D - -Ft -X none --checkpoint=fast | zstd -q -T0 -3 > ${sq(file)}`], { env: cluster.env('postgres') });
  const finishedAt = new Date();
  const backupManifest = JSON.parse((await mustRun('backup_manifest', 'sh', ['-c', `zstd -dc ${sq(file)} | tar -xOf - backup_manifest`])).stdout);
  const rawBytes = Number((await mustRun('raw size', 'sh', ['-c', `zstd -dc ${sq(file)} | wc -c`])).stdout.trim());
  const range = backupManifest['WAL-Ranges'][0];
  const version = cluster.serverVersion;
  const major = Number(version.split('.')[0]);
  const manifest = {
    format: 1, id: backupId('cluster', at), tier: 'base', source: { kind: 'postgres-cluster', name: 'cluster' }, database: 'postgres', host: cluster.db.host, key,
    startedAt: started.toISOString(), finishedAt: finishedAt.toISOString(), durationMs: finishedAt - started, server: { version, major }, archiveFormat: 'tar',
    physical: { timeline: range.Timeline, startLsn: range['Start-LSN'], stopLsn: range['End-LSN'], startSegment: segmentName(range.Timeline, segnoOfLsn(parseLsn(range['Start-LSN']))), systemIdentifier: '0', segmentBytes: 16777216, pgBasebackup: { version, major } },
    compression: { algorithm: 'zstd', level: 3 }, rawBytes, storedBytes: (await fsp.stat(file)).size, sha256: await sha256(file),
    inventory: { schemas: [], extensions: [], tables: [], sequences: [], databases: [] }, targets: [{ target: 'local', location: file }], keepsake: { version: 'bench' },
  };
  await fsp.writeFile(path.join(backupDir, manifestKeyFor(key)), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`base backup: ${mib(rawBytes).toFixed(0)} MiB raw, ${mib(manifest.storedBytes).toFixed(0)} MiB stored, in ${made.seconds.toFixed(1)}s`);
  return { file, manifest, tmp };
}

async function main() {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'keepsake-bench-pitr-'));
  onCleanup(() => fsp.rm(tmp, { recursive: true, force: true, maxRetries: 5 }));
  await fsp.chmod(tmp, 0o755);
  const work = path.join(tmp, 'work');
  await fsp.mkdir(work, { mode: 0o777 });
  await fsp.chmod(work, 0o777); // the recovering cluster runs as the postgres user
  const cluster = await startPostgres({ parentDir: tmp, settings: { wal_level: 'replica', max_wal_senders: '4', max_replication_slots: '4' } });
  const database = await generateDatabase(cluster, 'bench', SIZE_MB);
  const psql = (sql, db = 'bench') => mustRun('psql', cluster.bin('psql'), ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env: cluster.env(db) });

  const spool = path.join(tmp, 'spool');
  await fsp.mkdir(spool);
  await mustRun('create slot', cluster.bin('pg_receivewal'), ['--create-slot', '--slot', 'bench'], { env: cluster.env('postgres') });
  const { spawn } = require('node:child_process');
  const receiver = spawn(cluster.bin('pg_receivewal'), ['-D', spool, '--slot', 'bench', '--no-loop'], { env: cluster.env('postgres'), stdio: 'ignore' });
  onCleanup(async () => {
    receiver.kill('SIGINT');
    await new Promise((resolve) => (receiver.exitCode !== null ? resolve() : receiver.once('exit', resolve)));
  });

  const backupDir = path.join(tmp, 'backups');
  await baseBackup(cluster, backupDir, tmp);
  // Writes after the base: two halves, the time asked for between them.
  await psql('CREATE TABLE pitr_writes (id bigserial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp(), payload text)');
  await psql("INSERT INTO pitr_writes (payload) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 150000) g");
  await sleep(50);
  const at = new Date().toISOString();
  await sleep(50);
  await psql("INSERT INTO pitr_writes (payload) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 150000) g");
  const expectedRows = Number((await psql(`SELECT count(*) FROM pitr_writes WHERE at <= '${at}'`)).stdout.trim());
  const last = (await psql('SELECT pg_walfile_name(pg_switch_wal())', 'postgres')).stdout.trim();
  while (!fs.existsSync(path.join(spool, last))) await sleep(100);

  const env = cleanEnv({
    POSTGRES_HOST: cluster.db.host, POSTGRES_PORT: String(cluster.db.port), POSTGRES_USER: cluster.db.user, POSTGRES_PASSWORD: cluster.db.password, POSTGRES_DB: 'bench',
    BACKUP_GLOBALS: 'false', BACKUP_DIR: backupDir, STATE_DIR: path.join(tmp, 'state'), RESTORE_WORK_DIR: work, TMPDIR: work, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', PG_BIN_DIR: cluster.pg.binDir, PITR: 'on',
  });
  const { loadConfig } = require('../dist/config');
  const { createStorages } = require('../dist/storage');
  const { storeWalFile } = require('../dist/pitr/wal-archive');
  const { parseWalName } = require('../dist/pitr/wal-names');
  const config = loadConfig(env);
  const storages = createStorages(config);
  let walBytes = 0;
  let walFiles = 0;
  for (const name of (await fsp.readdir(spool)).sort()) {
    const file = parseWalName(name);
    if (!file || file.kind === 'partial') continue;
    walBytes += (await storeWalFile(storages, { compression: config.compression, encryption: config.encryption }, file, path.join(spool, name))).manifest.storedBytes;
    walFiles += 1;
  }
  log(`archived ${walFiles} WAL segments (${mib(walBytes).toFixed(0)} MiB stored); restoring to ${at} (${expectedRows} of 300000 rows after the base)`);

  const untar = async () => {
    const dir = path.join(tmp, 'untar');
    await emptyDir(dir);
    const { file } = { file: path.join(backupDir, (await fsp.readdir(backupDir, { recursive: true })).find((name) => name.endsWith('.tar.zst'))) };
    const seconds = (await mustRun('zstd -dc | tar -x', 'sh', ['-c', `zstd -dc ${sq(file)} | tar -x -C ${sq(dir)}`])).seconds;
    await fsp.rm(dir, { recursive: true, force: true });
    return seconds;
  };
  const restoreAt = async (run) => {
    const target = `restored_${run}`;
    const result = await mustRun('keepsake restore --at', process.execPath, [path.join(ROOT, 'dist/cli.js'), 'restore', '--at', at, '--target-db', target, '--yes'], { env });
    if (process.env.BENCH_LOG_LEVEL) await fsp.writeFile('/tmp/restore-at-stderr.log', result.stderr);
    const replay = /WAL files replayed in ([\d.]+) ?(ms|s)/.exec(result.stderr);
    const rows = Number((await psql('SELECT count(*) FROM pitr_writes', target)).stdout.trim());
    if (rows !== expectedRows) throw new Error(`restore --at gave ${rows} rows of pitr_writes, expected ${expectedRows}`);
    await psql(`DROP DATABASE ${target}`, 'postgres');
    return { seconds: result.seconds, replaySeconds: replay ? Number(replay[1]) / (replay[2] === 'ms' ? 1000 : 1) : NaN };
  };
  const results = { untar: [], restoreAt: [], replay: [] };
  for (let run = 0; run < RUNS; run++) {
    results.untar.push(await untar());
    const timed = await restoreAt(run);
    results.restoreAt.push(timed.seconds);
    results.replay.push(timed.replaySeconds);
    log(`run ${run + 1}/${RUNS}: untar ${results.untar.at(-1).toFixed(2)}s, restore --at ${timed.seconds.toFixed(2)}s (replay ${timed.replaySeconds.toFixed(2)}s)`);
  }
  const s = (values) => `${median(values).toFixed(2)} s`;
  const markdown = [
    `## restore --at, ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, database of ${mib(database.bytes).toFixed(0)} MiB on disk, ${walFiles} WAL segments after the base, ${RUNS} run(s), medians`,
    '',
    '| measured | time |',
    '|---|---|',
    `| unpacking the base alone: \`zstd -dc base.tar.zst \\| tar -x\` (the floor) | ${s(results.untar)} |`,
    `| **keepsake restore --at T --target-db NAME --yes** (whole command) | **${s(results.restoreAt)}** |`,
    `| of which the replay: postgres start to promotion, ${walFiles} WAL files served by keepsake | ${s(results.replay)} |`,
    '',
    `Every run gave exactly the ${expectedRows} rows of pitr_writes committed by T. The rest of restore --at is unpacking the base (streamed, checked), pg_dump of the database from the recovered cluster and pg_restore into the target with the row-count check.`,
    '',
  ].join('\n');
  process.stdout.write(`\n${markdown}\n`);
  await fsp.appendFile(path.join(ROOT, 'docs/benchmarks.md'), `\n${markdown}`);
}

runBench(main, log);
