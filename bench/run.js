'use strict';
/**
 * `npm run bench`: how keepsake's backup compares with the shell pipelines it replaces.
 *
 *   BENCH_SIZE_MB=1000  size of the generated database on disk, in MiB (default 1000)
 *   BENCH_RUNS=3        timed runs per case; the median is reported (default 3)
 *
 * In one process: a throwaway PostgreSQL (the product's own module, from dist/), a database filled
 * by bench/generate.sql, the loopback S3 server from scripts/, then, interleaved round by round:
 *   pg_dump          pg_dump -Fc -Z0 > /dev/null                     (what dumping alone costs)
 *   zstd pipeline    pg_dump -Fc -Z0 | zstd -3 -T0 > file
 *   gzip pipeline    pg_dump -Fc -Z0 | gzip -6 > file                (the same archive, gzip'd)
 *   keepsake local   keepsake backup --tier manual --json, BACKUP_TARGETS=local
 *   keepsake s3      the same with BACKUP_TARGETS=s3 (loopback s3rver)
 * keepsake's peak RSS comes from a --require preload that records process.resourceUsage() on exit
 * (the node process only, not its pg_dump/zstd children), at the main size and at a quarter of it.
 * Prints a table with PASS/FAIL per target, writes bench/results/latest.json and appends a section
 * to docs/benchmarks.md. Exits 0 whatever the figures are; non-zero only when something crashed.
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.resolve(__dirname, '..');
const SIZE_MB = positiveNumber('BENCH_SIZE_MB', 1000);
const RUNS = Math.max(1, Math.round(positiveNumber('BENCH_RUNS', 3)));
const SMALL_MB = Math.max(16, Math.round(SIZE_MB / 4));
const BUCKET = 'keepsake-bench';
const TARGETS = { localVsZstd: 1.05, gzipVsLocal: 3.5, peakRssMb: 120, rssGrowth: 1.2 };

function positiveNumber(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${text}: expected a positive number`);
  return value;
}

const log = (message) => process.stderr.write(`[bench ${elapsed()}] ${message}\n`);
const benchStart = Date.now();
const elapsed = () => `${((Date.now() - benchStart) / 1000).toFixed(0).padStart(4)}s`;
const sq = (text) => `'${String(text).replace(/'/g, `'\\''`)}'`;
const mib = (bytes) => bytes / 1048576;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ---------------------------------------------------------------------------------------------
// Cleanup: everything started registers its undo here; run on success, failure and SIGINT/SIGTERM.
const cleanups = [];
const liveChildren = new Set();
let cleanedUp;
function cleanup() {
  cleanedUp ??= (async () => {
    for (const child of liveChildren) child.kill('SIGTERM');
    for (const undo of cleanups.reverse()) {
      try {
        await undo();
      } catch (error) {
        log(`cleanup: ${error.message}`);
      }
    }
  })();
  return cleanedUp;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
/** Runs a command to completion; resolves with its exit status, captured output and wall time. */
function run(file, args, { env, cwd = ROOT, input } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    liveChildren.add(child);
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', (error) => {
      liveChildren.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      liveChildren.delete(child);
      resolve({
        code,
        signal,
        seconds: (performance.now() - started) / 1000,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(input);
  });
}

async function mustRun(what, file, args, options) {
  const result = await run(file, args, options);
  if (result.code !== 0) {
    throw new Error(`${what} failed (${result.signal ?? `exit ${result.code}`}): ${result.stderr.trim().slice(-2000)}`);
  }
  return result;
}

/** Environment for children: ours minus anything that could steer keepsake or libpq elsewhere. */
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(PG|POSTGRES_|DATABASE_URL|BACKUP_|S3_|AWS_|SCHEDULE_|SMTP_|MAIL_|LOG_|STATE_DIR)/.test(name)) delete env[name];
  }
  return { ...env, ...extra };
}

async function emptyDir(dir) {
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
}

// ---------------------------------------------------------------------------------------------
async function startS3Server() {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', path.join(ROOT, 'scripts/s3-test-server.js'), '--bucket', BUCKET], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'], // stdin stays open: the server exits when it closes
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanups.push(async () => {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  const line = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (text) => {
      lines.close();
      resolve(text);
    });
    child.once('exit', (code) => reject(new Error(`s3-test-server exited (${code}) before it was ready`)));
    child.once('error', reject);
  });
  return JSON.parse(line);
}

/** Empties the bucket between runs (multipart data lives on s3rver's disk). */
async function emptyBucket(s3) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // node 20 nag, this process only
  const { S3Client, ListObjectsV2Command, DeleteObjectCommand } = require('@aws-sdk/client-s3');
  const client = (emptyBucket.client ??= new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  }));
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const object of page.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: object.Key }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

const PRELOAD = `'use strict';
// Written by bench/run.js: records this node process's own peak RSS and CPU time on exit.
process.on('exit', () => {
  const usage = process.resourceUsage();
  require('node:fs').writeFileSync(process.env.BENCH_RSS_FILE, JSON.stringify({
    maxRssKb: usage.maxRSS, userCpuUs: usage.userCPUTime, systemCpuUs: usage.systemCPUTime,
  }));
});
`;

// ---------------------------------------------------------------------------------------------
function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const version = (file, args) => {
    try {
      return execFileSync(file, args, { encoding: 'utf8' }).split('\n')[0].trim();
    } catch {
      return 'not installed';
    }
  };
  return {
    date: execFileSync('date', ['-u'], { encoding: 'utf8' }).trim(),
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    memTotalGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    cpuModel: model,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((n) => Number(n.toFixed(2))),
    node: process.version,
    zstd: version('zstd', ['--version']).replace(/^\*+ Zstandard CLI .*?(v[\d.]+).*$/, 'zstd $1'),
    gzip: version('gzip', ['--version']),
  };
}

async function main() {
  const machine = machineInfo();
  log(`size ${SIZE_MB} MiB (small ${SMALL_MB} MiB), ${RUNS} run(s) per case, ${machine.nproc} CPUs`);
  if (!fs.existsSync(path.join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing; run `npm run build` (npm run bench does)');
  const { startEphemeralPostgres } = require('../dist/restore/ephemeral-postgres');

  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'keepsake-bench-'));
  cleanups.push(() => fsp.rm(tmp, { recursive: true, force: true }));
  const dirs = { out: path.join(tmp, 'out'), local: path.join(tmp, 'backups'), state: path.join(tmp, 'state'), rss: path.join(tmp, 'rss') };
  for (const dir of Object.values(dirs)) await fsp.mkdir(dir, { recursive: true });
  const preload = path.join(tmp, 'rss-preload.js');
  await fsp.writeFile(preload, PRELOAD);

  log('starting a throwaway PostgreSQL');
  const pg = await startEphemeralPostgres();
  cleanups.push(() => pg.stop());
  const db = pg.database;
  const pgEnv = (database) => cleanEnv({ PGHOST: db.host, PGPORT: String(db.port), PGUSER: db.user, PGPASSWORD: db.password, PGDATABASE: database });
  const psql = path.join(pg.binDir, 'psql');
  const pgDump = path.join(pg.binDir, 'pg_dump');
  const serverVersion = (await mustRun('psql', psql, ['-XAtc', 'SHOW server_version'], { env: pgEnv('postgres') })).stdout.trim();
  const pgDumpVersion = (await mustRun('pg_dump', pgDump, ['--version'])).stdout.trim();
  log(`PostgreSQL ${serverVersion} on port ${db.port}; ${pgDumpVersion}`);

  log('starting the S3 test server');
  const s3 = await startS3Server();
  log(`S3 test server at ${s3.endpoint}`);

  // ---- data
  const databases = {};
  for (const [name, sizeMb] of [['bench', SIZE_MB], ['bench_small', SMALL_MB]]) {
    await mustRun('createdb', psql, ['-XqAtc', `CREATE DATABASE ${name}`], { env: pgEnv('postgres') });
    const generated = await mustRun('generate.sql', psql, ['-Xq', '-v', 'ON_ERROR_STOP=1', '-v', `size_mb=${sizeMb}`, '-f', path.join(__dirname, 'generate.sql')], { env: pgEnv(name) });
    const stats = (await mustRun('psql', psql, ['-XAtc', `SELECT pg_database_size(current_database()), (SELECT sum(n_live_tup) FROM pg_stat_user_tables)`], { env: pgEnv(name) })).stdout.trim().split('|');
    databases[name] = { targetMb: sizeMb, bytes: Number(stats[0]), rows: Number(stats[1]), generateSeconds: generated.seconds };
    log(`generated ${name}: ${mib(databases[name].bytes).toFixed(0)} MiB on disk, ${databases[name].rows} rows, in ${generated.seconds.toFixed(1)}s`);
  }

  // ---- cases
  const keepsakeEnv = (database, target, rssFile) =>
    cleanEnv({
      BACKUP_TARGETS: target,
      BACKUP_DIR: dirs.local,
      STATE_DIR: dirs.state,
      LOG_LEVEL: 'warn',
      POSTGRES_HOST: db.host,
      POSTGRES_PORT: String(db.port),
      POSTGRES_USER: db.user,
      POSTGRES_PASSWORD: db.password,
      POSTGRES_DB: database,
      PGPASSWORD: db.password,
      BENCH_RSS_FILE: rssFile,
      ...(target === 's3'
        ? { S3_BUCKET: BUCKET, S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_FORCE_PATH_STYLE: 'true', S3_REGION: 'us-east-1' }
        : {}),
    });
  const dumpCmd = `${sq(pgDump)} --format=custom -Z0 --no-password`;
  const shellCase = (id, label, command, file) => ({
    id,
    label,
    command: command.replace(sq(pgDump), 'pg_dump').replace(/'[^']*\/out\/[^']*'/, 'FILE'),
    async run(database) {
      const result = await mustRun(label, 'bash', ['-o', 'pipefail', '-c', command], { env: pgEnv(database) });
      const size = file ? (await fsp.stat(file)).size : undefined;
      if (file) await fsp.rm(file, { force: true });
      return { seconds: result.seconds, outputBytes: size };
    },
  });
  const keepsakeCase = (id, label, target) => ({
    id,
    label,
    command: `keepsake backup --tier manual --json   (BACKUP_TARGETS=${target})`,
    async run(database) {
      const rssFile = path.join(dirs.rss, `${id}.json`);
      await fsp.rm(rssFile, { force: true });
      const result = await mustRun(label, process.execPath, ['--require', preload, path.join(ROOT, 'dist/cli.js'), 'backup', '--tier', 'manual', '--json'], {
        env: keepsakeEnv(database, target, rssFile),
      });
      const manifest = JSON.parse(result.stdout);
      const usage = JSON.parse(await fsp.readFile(rssFile, 'utf8'));
      if (target === 'local') await emptyDir(dirs.local);
      else await emptyBucket(s3);
      return {
        seconds: result.seconds,
        outputBytes: manifest.storedBytes,
        rawBytes: manifest.rawBytes,
        pipelineSeconds: manifest.durationMs / 1000,
        peakRssMb: usage.maxRssKb / 1024,
        nodeCpuSeconds: (usage.userCpuUs + usage.systemCpuUs) / 1e6,
      };
    },
  });
  const zstdFile = path.join(dirs.out, 'bench.dump.zst');
  const gzipFile = path.join(dirs.out, 'bench.dump.gz');
  const cases = [
    shellCase('pg_dump', 'pg_dump alone', `${dumpCmd} > /dev/null`),
    shellCase('zstd', 'zstd pipeline', `${dumpCmd} | zstd -3 -T0 -q > ${sq(zstdFile)}`, zstdFile),
    shellCase('gzip', 'gzip pipeline', `${dumpCmd} | gzip -6 > ${sq(gzipFile)}`, gzipFile),
    keepsakeCase('local', 'keepsake local', 'local'),
    keepsakeCase('s3', 'keepsake s3', 's3'),
  ];

  // Warm-up, untimed: pulls the tables into the page cache, node_modules into the file cache, and
  // checks that every kind of case works at all before minutes are spent timing them.
  log('warm-up (untimed)');
  const rawBytes = Number((await mustRun('raw size', 'bash', ['-o', 'pipefail', '-c', `${dumpCmd} | wc -c`], { env: pgEnv('bench') })).stdout.trim());
  for (const c of cases.filter((k) => k.id === 'local' || k.id === 's3')) await c.run('bench_small');

  const results = Object.fromEntries(cases.map((c) => [c.id, []]));
  for (let round = 0; round < RUNS; round++) {
    // Rotate the order each round so no case always runs first (or right after the slow gzip one).
    const order = cases.map((_, i) => cases[(i + round) % cases.length]);
    for (const c of order) {
      const result = await c.run('bench');
      results[c.id].push(result);
      log(`round ${round + 1}/${RUNS} ${c.label.padEnd(15)} ${result.seconds.toFixed(2)}s${result.peakRssMb ? `, peak RSS ${result.peakRssMb.toFixed(1)} MB, node CPU ${result.nodeCpuSeconds.toFixed(2)}s` : ''}`);
    }
  }

  // The same keepsake backups against a quarter-size database: peak RSS must not follow the size.
  const small = { local: [], s3: [] };
  for (let round = 0; round < RUNS; round++) {
    for (const c of cases.filter((k) => k.id === 'local' || k.id === 's3')) {
      const result = await c.run('bench_small');
      small[c.id].push(result);
      log(`small ${round + 1}/${RUNS} ${c.label.padEnd(15)} ${result.seconds.toFixed(2)}s, peak RSS ${result.peakRssMb.toFixed(1)} MB`);
    }
  }

  // ---- figures
  const summary = {};
  for (const c of cases) {
    const runs = results[c.id];
    summary[c.id] = {
      label: c.label,
      command: c.command,
      seconds: runs.map((r) => r.seconds),
      medianSeconds: median(runs.map((r) => r.seconds)),
      outputBytes: runs.find((r) => r.outputBytes !== undefined)?.outputBytes,
      ...(runs[0].peakRssMb !== undefined
        ? {
            peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
            medianPipelineSeconds: median(runs.map((r) => r.pipelineSeconds)),
            medianNodeCpuSeconds: median(runs.map((r) => r.nodeCpuSeconds)),
          }
        : {}),
    };
    summary[c.id].throughputMBps = mib(rawBytes) / summary[c.id].medianSeconds;
  }
  const smallSummary = Object.fromEntries(
    Object.entries(small).map(([id, runs]) => [id, { medianSeconds: median(runs.map((r) => r.seconds)), peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)), rawBytes: runs[0].rawBytes }]),
  );
  const peakRss = Math.max(summary.local.peakRssMb, summary.s3.peakRssMb, smallSummary.local.peakRssMb, smallSummary.s3.peakRssMb);
  const growth = Math.max(summary.local.peakRssMb / smallSummary.local.peakRssMb, summary.s3.peakRssMb / smallSummary.s3.peakRssMb);
  const checks = [
    { name: 'keepsake local / zstd pipeline (time)', value: summary.local.medianSeconds / summary.zstd.medianSeconds, target: `<= ${TARGETS.localVsZstd}`, pass: summary.local.medianSeconds / summary.zstd.medianSeconds <= TARGETS.localVsZstd },
    { name: 'gzip pipeline / keepsake local (time)', value: summary.gzip.medianSeconds / summary.local.medianSeconds, target: `>= ${TARGETS.gzipVsLocal}`, pass: summary.gzip.medianSeconds / summary.local.medianSeconds >= TARGETS.gzipVsLocal },
    { name: 'keepsake peak RSS, MB (max of local/s3, both sizes)', value: peakRss, target: `< ${TARGETS.peakRssMb}`, pass: peakRss < TARGETS.peakRssMb },
    { name: `peak RSS at ${SIZE_MB} MiB / at ${SMALL_MB} MiB (flat)`, value: growth, target: `<= ${TARGETS.rssGrowth}`, pass: growth <= TARGETS.rssGrowth },
  ];

  const report = {
    machine,
    postgres: { server: serverVersion, pgDump: pgDumpVersion },
    settings: { sizeMb: SIZE_MB, smallSizeMb: SMALL_MB, runs: RUNS },
    databases,
    sizes: { rawBytes, zstdBytes: summary.zstd.outputBytes, gzipBytes: summary.gzip.outputBytes, keepsakeBytes: summary.local.outputBytes },
    cases: summary,
    small: smallSummary,
    checks,
    benchSeconds: Math.round((Date.now() - benchStart) / 1000),
  };
  const markdown = renderMarkdown(report);
  process.stdout.write(`\n${markdown}\n`);

  await fsp.mkdir(path.join(__dirname, 'results'), { recursive: true });
  await fsp.writeFile(path.join(__dirname, 'results/latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await appendBenchmarksDoc(markdown);
  log(`wrote bench/results/latest.json and appended to docs/benchmarks.md`);
}

// ---------------------------------------------------------------------------------------------
function renderMarkdown(r) {
  const f = (n, digits = 2) => (n === undefined ? '-' : n.toFixed(digits));
  const mb = (bytes) => (bytes === undefined ? '-' : `${mib(bytes).toFixed(1)} MiB`);
  const lines = [];
  lines.push(`## ${r.machine.date}: ${mib(r.databases.bench.bytes).toFixed(0)} MiB database, ${r.settings.runs} run(s) per case`);
  lines.push('');
  lines.push(`- Machine: ${r.machine.nproc} CPUs (${r.machine.cpuModel}), ${r.machine.memTotalGiB} GiB RAM, ${r.machine.kernel}, node ${r.machine.node}; load average at start ${r.machine.loadAverageAtStart.join(' ')}`);
  lines.push(`- PostgreSQL ${r.postgres.server} (throwaway cluster, fsync off); ${r.postgres.pgDump}; ${r.machine.zstd}; ${r.machine.gzip}`);
  lines.push(`- Database: ${mib(r.databases.bench.bytes).toFixed(0)} MiB on disk, ${r.databases.bench.rows.toLocaleString('en-US')} rows (generated in ${f(r.databases.bench.generateSeconds, 1)}s); small one for the RSS check: ${mib(r.databases.bench_small.bytes).toFixed(0)} MiB`);
  lines.push(`- Dump sizes: raw archive ${mb(r.sizes.rawBytes)}, zstd -3 ${mb(r.sizes.zstdBytes)} (${f(r.sizes.rawBytes / r.sizes.zstdBytes, 2)}x), gzip -6 ${mb(r.sizes.gzipBytes)} (${f(r.sizes.rawBytes / r.sizes.gzipBytes, 2)}x), keepsake ${mb(r.sizes.keepsakeBytes)}`);
  lines.push(`- Whole bench took ${r.benchSeconds}s. Wall times include process start-up (node loads keepsake and the AWS SDK: ~0.2s); "manifest durationMs" is keepsake's own start-to-manifest time.`);
  lines.push('');
  lines.push('| case | command | median s | runs (s) | raw MiB/s | output | peak RSS MB | node CPU s | manifest durationMs |');
  lines.push('|---|---|---:|---|---:|---:|---:|---:|---:|');
  for (const c of Object.values(r.cases)) {
    lines.push(`| ${c.label} | \`${c.command.replace(/\|/g, '\\|')}\` | ${f(c.medianSeconds)} | ${c.seconds.map((s) => f(s)).join(', ')} | ${f(c.throughputMBps, 0)} | ${mb(c.outputBytes)} | ${f(c.peakRssMb, 1)} | ${f(c.medianNodeCpuSeconds)} | ${c.medianPipelineSeconds === undefined ? '-' : Math.round(c.medianPipelineSeconds * 1000)} |`);
  }
  for (const [id, c] of Object.entries(r.small)) {
    lines.push(`| keepsake ${id}, ${mib(r.databases.bench_small.bytes).toFixed(0)} MiB db | same | ${f(c.medianSeconds)} | | | | ${f(c.peakRssMb, 1)} | | |`);
  }
  lines.push('');
  lines.push('| target | value | wanted | result |');
  lines.push('|---|---:|---|---|');
  for (const check of r.checks) lines.push(`| ${check.name} | ${f(check.value)} | ${check.target} | ${check.pass ? 'PASS' : 'FAIL'} |`);
  lines.push('');
  return lines.join('\n');
}

const DOC_INTRO = `# Benchmarks

\`npm run bench\` measures what a keepsake backup costs next to the shell pipelines it replaces, on a
generated database (bench/generate.sql: text, jsonb, numerics, timestamps, indexes, about 12% random
bytea) in a throwaway PostgreSQL cluster. Cases, each run BENCH_RUNS times (default 3), interleaved,
median reported:

- **pg_dump alone**: \`pg_dump -Fc -Z0 > /dev/null\`, the floor;
- **zstd pipeline**: \`pg_dump -Fc -Z0 | zstd -3 -T0 > file\`, what keepsake does minus everything else;
- **gzip pipeline**: \`pg_dump -Fc -Z0 | gzip -6 > file\`, the classic cron one-liner;
- **keepsake local / s3**: \`keepsake backup --tier manual --json\` to BACKUP_DIR, or to a loopback
  S3 server (s3rver, in its own node process on the same cores), including node start-up, the
  snapshot, the per-table row counts, the sha256 and the manifest.

Peak RSS is keepsake's node process only (its pg_dump and zstd children are not counted), taken
from \`process.resourceUsage().maxRSS\`, at the main size and at a quarter of it to show that
memory stays flat as the database grows. Targets: keepsake local within 5% of the zstd pipeline,
at least 3.5x faster than the gzip pipeline, peak RSS under 120 MB.

Run it:

    npm run bench                                   # ~1 GiB database, 3 runs per case
    BENCH_SIZE_MB=200 BENCH_RUNS=1 npm run bench    # quick check

Each run appends a section below and writes bench/results/latest.json.

`;

async function appendBenchmarksDoc(markdown) {
  const file = path.join(ROOT, 'docs/benchmarks.md');
  await fsp.mkdir(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) await fsp.writeFile(file, DOC_INTRO);
  await fsp.appendFile(file, `${markdown}\n`);
}

main()
  .catch((error) => {
    log(`FAILED: ${error.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    log('cleaned up');
  });
