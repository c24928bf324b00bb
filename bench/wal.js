'use strict';
/**
 * `npm run bench:wal`: can PITR's WAL shipping keep up with a busy server? One throwaway PostgreSQL
 * (wal_level=replica), a write load of about BENCH_WAL_MB of WAL (INSERT ... SELECT of 0.6 KB
 * hex-text rows into an indexed table: WAL that zstd shrinks ~2x, like real data), BENCH_RUNS
 * interleaved rounds of:
 *
 * - **receive only** (the baseline): plain `pg_receivewal` into a folder, as fast as the server
 *   makes WAL and a receiver can take it; the rate the server produces WAL under this load;
 * - **keepsake local / s3**: keepsake's receiver and shipper (dist/pitr/receive, in this process)
 *   to a local target, or to the loopback S3 server: the time until the archive holds every
 *   segment the load wrote.
 *
 * For each case: the load's own time (does shipping slow the writer?), the time until everything
 * is received/archived, MB/s of WAL end to end, and the most the spool held. Appends a section to
 * docs/benchmarks.md. Goal: keepsake keeps up with >= 50 MB/s of WAL.
 */
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, RUNS, log, median, mib } = require('./lib/common');
const { onCleanup, exitCleanlyOnSignals, mustRun, runBench, emptyDir } = require('./lib/processes');
const { startPostgres, startS3Server } = require('./lib/servers');

exitCleanlyOnSignals();

const WAL_MB = Number(process.env.BENCH_WAL_MB || 1024);
const SETTINGS = { wal_level: 'replica', max_wal_senders: '10', max_replication_slots: '10', full_page_writes: 'on', wal_keep_size: '0', max_wal_size: '4GB', synchronous_commit: 'on' };
const cpuSeconds = (usage) => (usage.user + usage.system) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'keepsake-bench-wal-'));
  onCleanup(() => fsp.rm(tmp, { recursive: true, force: true, maxRetries: 5 }));
  const cluster = await startPostgres({ settings: SETTINGS });
  const s3 = await startS3Server();
  const psql = (sql) => mustRun('psql', cluster.bin('psql'), ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env: cluster.env('postgres') }).then((r) => r.stdout.trim());
  await psql('CREATE TABLE load (id bigint, body text); CREATE INDEX ON load (id)');
  // Rows of random hex text, drawn from a pool made once (md5 per row would make the load, not the
  // shipping, the bottleneck): WAL that zstd shrinks about 2x, as table data in WAL often does.
  const POOL = 20_000;
  const body = Array.from({ length: 20 }, (_, i) => `md5((g * ${i + 3})::text)`).join(' || ');
  await psql(`CREATE TABLE pool AS SELECT g AS id, ${body} AS body FROM generate_series(0, ${POOL - 1}) g`);
  const rowsPerBatch = 100_000;

  /** The write load: batches until about WAL_MB of WAL; then a switch, so the last segment completes. */
  async function writeLoad() {
    const start = await psql('SELECT pg_current_wal_lsn()');
    const started = performance.now();
    let written = 0;
    let offset = Number(await psql('SELECT coalesce(max(id), 0) FROM load'));
    while (written < WAL_MB * 1048576) {
      await psql(`INSERT INTO load SELECT g, pool.body FROM generate_series(${offset + 1}, ${offset + rowsPerBatch}) g JOIN pool ON pool.id = g % ${POOL}`);
      offset += rowsPerBatch;
      written = Number(await psql(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${start}')`));
    }
    const loadSeconds = (performance.now() - started) / 1000;
    const last = await psql('SELECT pg_walfile_name(pg_switch_wal())');
    await psql('TRUNCATE load'); // keeps the table (and checkpoints) the same size every round
    return { walBytes: written, loadSeconds, last, started };
  }

  async function receiveOnly() {
    const dir = path.join(tmp, 'receive');
    await emptyDir(dir);
    const env = cluster.env('postgres');
    await mustRun('create slot', cluster.bin('pg_receivewal'), ['--create-slot', '--if-not-exists', '--slot', 'bench_plain'], { env });
    const child = spawn(cluster.bin('pg_receivewal'), ['-D', dir, '--slot', 'bench_plain', '--no-loop'], { env, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    onCleanup(() => child.kill('SIGKILL'));
    await sleep(500);
    let peakSpool = 0;
    const load = await writeLoad();
    for (;;) {
      const files = await fsp.readdir(dir);
      peakSpool = Math.max(peakSpool, files.length);
      if (files.includes(load.last)) break;
      await sleep(20);
    }
    const doneSeconds = (performance.now() - load.started) / 1000;
    child.kill('SIGTERM');
    await exited;
    await psql("SELECT pg_drop_replication_slot('bench_plain')");
    return { ...load, doneSeconds, peakSpool };
  }

  /**
   * The shipper's own capacity, with no server competing for the cores: the segments the last
   * receive-only run left, copied into a fresh spool, shipped to a local target until it is empty.
   */
  async function shipBacklog() {
    const { loadConfig } = require('../dist/config');
    const { createStorages } = require('../dist/storage');
    const { silentLogger } = require('../dist/log');
    const { startShipper } = require('../dist/pitr/receive/shipper');
    const { WalStatusKeeper } = require('../dist/pitr/receive/status-keeper');
    const spool = path.join(tmp, 'backlog');
    const state = path.join(tmp, 'state-backlog');
    const local = path.join(tmp, 'archive');
    await Promise.all([emptyDir(spool), emptyDir(state), emptyDir(local)]);
    const segments = (await fsp.readdir(path.join(tmp, 'receive'))).filter((name) => /^[0-9A-F]{24}$/.test(name));
    let walBytes = 0;
    for (const name of segments) {
      await fsp.copyFile(path.join(tmp, 'receive', name), path.join(spool, name));
      walBytes += (await fsp.stat(path.join(spool, name))).size;
    }
    const config = loadConfig({ POSTGRES_DB: 'postgres', STATE_DIR: state, BACKUP_DIR: local, PITR: 'on' });
    const keeper = await WalStatusKeeper.open(state, silentLogger);
    const started = performance.now();
    const cpu = process.cpuUsage();
    const shipper = startShipper({ storages: createStorages(config), archive: { compression: config.compression, encryption: config.encryption }, spoolDir: spool, shipIntervalMs: 60_000, log: silentLogger, status: keeper, pollMs: 20 });
    while ((await fsp.readdir(spool)).length) await sleep(20);
    const doneSeconds = (performance.now() - started) / 1000;
    const nodeCpu = cpuSeconds(process.cpuUsage(cpu));
    await shipper.stop(1000);
    await keeper.close();
    return { walBytes, loadSeconds: 0, doneSeconds, peakSpool: segments.length, nodeCpu };
  }

  async function keepsakeCase(target) {
    const { loadConfig } = require('../dist/config');
    const { createStorages } = require('../dist/storage');
    const { silentLogger } = require('../dist/log');
    const { startWalStreaming } = require('../dist/pitr/receive');
    const state = path.join(tmp, `state-${target}`);
    const local = path.join(tmp, 'archive');
    await Promise.all([emptyDir(state), emptyDir(local)]);
    const db = cluster.db;
    const s3Env = { S3_BUCKET: s3.bucket ?? 'keepsake-bench', S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: 'true', S3_PREFIX: `wal-${Date.now()}` };
    const config = loadConfig({
      POSTGRES_HOST: db.host, POSTGRES_PORT: String(db.port), POSTGRES_USER: db.user, POSTGRES_PASSWORD: db.password, POSTGRES_DB: 'postgres',
      STATE_DIR: state, PITR: 'on', PITR_SLOT: `bench_${target}`,
      ...(target === 's3' ? { ...s3Env, BACKUP_TARGETS: 's3' } : { BACKUP_DIR: local }),
    });
    const streaming = await startWalStreaming({ config, storages: createStorages(config), log: silentLogger });
    onCleanup(() => streaming.stop(1000));
    while (streaming.keeper.status.receiver.state !== 'streaming') await sleep(20);
    let peakSpool = 0;
    const cpu = process.cpuUsage();
    const watch = setInterval(() => (peakSpool = Math.max(peakSpool, streaming.keeper.status.spool.files)), 50);
    const load = await writeLoad();
    while ((streaming.keeper.status.lastShipped?.name ?? '') < load.last) await sleep(20);
    const doneSeconds = (performance.now() - load.started) / 1000;
    const nodeCpu = cpuSeconds(process.cpuUsage(cpu));
    clearInterval(watch);
    await streaming.stop(10_000);
    await psql(`SELECT pg_drop_replication_slot('bench_${target}')`);
    return { ...load, doneSeconds, peakSpool, nodeCpu };
  }

  const cases = [
    // The backlog runs right after the receive-only run whose segments it ships.
    { id: 'receive', label: 'pg_receivewal only', run: receiveOnly, then: { id: 'backlog', label: 'keepsake ships a backlog (no load)', run: shipBacklog } },
    { id: 'local', label: 'keepsake local', run: () => keepsakeCase('local') },
    { id: 's3', label: 'keepsake s3', run: () => keepsakeCase('s3') },
  ];
  const all = cases.flatMap((c) => (c.then ? [c, c.then] : [c]));
  const results = Object.fromEntries(all.map((c) => [c.id, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const first of cases.map((_, i) => cases[(i + round) % cases.length])) {
      for (const c of first.then ? [first, first.then] : [first]) {
        const result = await c.run();
        results[c.id].push(result);
        log(`round ${round + 1}/${RUNS} ${c.label.padEnd(20)} ${mib(result.walBytes).toFixed(0)} MiB WAL: load ${result.loadSeconds.toFixed(2)}s, all in ${result.doneSeconds.toFixed(2)}s, ${(mib(result.walBytes) / result.doneSeconds).toFixed(1)} MiB/s, spool peak ${result.peakSpool} files`);
      }
    }
  }
  const rate = (r) => mib(r.walBytes) / r.doneSeconds;
  const base = median(results.receive.map(rate));
  const rows = all.map((c) => {
    const rs = results[c.id];
    const mbps = median(rs.map(rate));
    const cpu = rs[0].nodeCpu === undefined ? '-' : median(rs.map((r) => r.nodeCpu)).toFixed(2);
    return `| ${c.label} | ${median(rs.map((r) => r.loadSeconds)).toFixed(2)} | ${median(rs.map((r) => r.doneSeconds)).toFixed(2)} | ${mbps.toFixed(1)} | ${(mbps / base).toFixed(3)} | ${Math.max(...rs.map((r) => r.peakSpool))} | ${cpu} |`;
  });
  const markdown = [
    `## WAL shipping, ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, PostgreSQL ${cluster.serverVersion}, ~${WAL_MB} MiB of WAL per run, ${RUNS} interleaved runs, medians`,
    '',
    '| case | write load, s | all WAL received / archived, s | MiB/s of WAL end to end | vs pg_receivewal only | spool peak, files | keepsake node CPU, s |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Goal: keepsake keeps up with >= 50 MB/s of WAL (end-to-end MiB/s of the keepsake rows), close to pg_receivewal alone.',
    '',
  ].join('\n');
  process.stdout.write(`\n${markdown}\n`);
  await fsp.appendFile(path.join(ROOT, 'docs/benchmarks.md'), `\n${markdown}`);
}

runBench(main, log);
