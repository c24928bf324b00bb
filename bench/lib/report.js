'use strict';
/** What the bench reports: the machine, the figures and checks, the markdown table, and the files it writes. */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { ROOT, SIZE_MB, SMALL_MB, RUNS, TARGETS, benchStart, mib, median } = require('./common');

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

/** Per-case medians of the backup rounds (`results`: case id -> runs). */
function summarizeBackups(cases, results, rawBytes) {
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
  return summary;
}

/** The restore figures (`prepared` from prepareRestore, `results`: case id -> runs). */
function summarizeRestore(prepared, results) {
  const [plain, keepsake] = prepared.cases.map((c) => ({ c, runs: results[c.id] }));
  const timing = (name) => {
    const values = keepsake.runs.map((r) => r.timings[name]).filter((v) => v !== undefined);
    return values.length ? median(values) : undefined;
  };
  const medianSeconds = (runs) => median(runs.map((r) => r.seconds));
  return {
    dumpBytes: prepared.dumpBytes,
    dumpSeconds: prepared.dumpSeconds,
    baseline: prepared.baseline,
    backup: prepared.backup,
    jobs: prepared.jobs,
    cases: {
      [plain.c.id]: { label: plain.c.label, command: plain.c.command, seconds: plain.runs.map((r) => r.seconds), medianSeconds: medianSeconds(plain.runs) },
      [keepsake.c.id]: {
        label: keepsake.c.label,
        command: keepsake.c.command,
        seconds: keepsake.runs.map((r) => r.seconds),
        medianSeconds: medianSeconds(keepsake.runs),
        ok: keepsake.runs.map((r) => r.ok),
        timingsMs: keepsake.runs.map((r) => r.timings),
        medianTimingsMs: { fetchMs: timing('fetchMs'), restoreMs: timing('restoreMs'), verifyMs: timing('verifyMs'), totalMs: timing('totalMs') },
        failures: keepsake.runs.map((r, i) => r.failure && `run ${i + 1}: ${r.failure}`).filter(Boolean),
      },
    },
    ratio: medianSeconds(keepsake.runs) / medianSeconds(plain.runs),
  };
}

function checksFor(summary, smallSummary, restore) {
  const peakRss = Math.max(summary.local.peakRssMb, summary.s3.peakRssMb, smallSummary.local.peakRssMb, smallSummary.s3.peakRssMb);
  const growth = Math.max(summary.local.peakRssMb / smallSummary.local.peakRssMb, summary.s3.peakRssMb / smallSummary.s3.peakRssMb);
  const restoreOk = restore.cases.restore_test.ok;
  const allOk = restoreOk.every(Boolean);
  return [
    { name: 'keepsake local / zstd pipeline (time)', value: summary.local.medianSeconds / summary.zstd.medianSeconds, target: `<= ${TARGETS.localVsZstd}`, pass: summary.local.medianSeconds / summary.zstd.medianSeconds <= TARGETS.localVsZstd },
    { name: 'gzip pipeline / keepsake local (time)', value: summary.gzip.medianSeconds / summary.local.medianSeconds, target: `>= ${TARGETS.gzipVsLocal}`, pass: summary.gzip.medianSeconds / summary.local.medianSeconds >= TARGETS.gzipVsLocal },
    { name: 'keepsake peak RSS, MB (max of local/s3, both sizes)', value: peakRss, target: `< ${TARGETS.peakRssMb}`, pass: peakRss < TARGETS.peakRssMb },
    { name: `peak RSS at ${SIZE_MB} MiB / at ${SMALL_MB} MiB (flat)`, value: growth, target: `<= ${TARGETS.rssGrowth}`, pass: growth <= TARGETS.rssGrowth },
    { name: 'keepsake restore-test / plain pg_restore (time; needs every run ok)', value: restore.ratio, target: `<= ${TARGETS.restoreVsPgRestore}`, pass: allOk && restore.ratio <= TARGETS.restoreVsPgRestore },
    { name: 'keepsake restore-test runs ok', value: `${restoreOk.filter(Boolean).length}/${restoreOk.length}`, target: 'all', pass: allOk },
  ];
}

/** Everything that goes into latest.json, in its order. */
function buildReport({ machine, postgres, databases, rawBytes, cases, results, small, restorePrepared, restoreResults }) {
  const summary = summarizeBackups(cases, results, rawBytes);
  const smallSummary = Object.fromEntries(
    Object.entries(small).map(([id, runs]) => [id, { medianSeconds: median(runs.map((r) => r.seconds)), peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)), rawBytes: runs[0].rawBytes }]),
  );
  const restore = summarizeRestore(restorePrepared, restoreResults);
  return {
    machine,
    postgres,
    settings: { sizeMb: SIZE_MB, smallSizeMb: SMALL_MB, runs: RUNS },
    databases,
    sizes: { rawBytes, zstdBytes: summary.zstd.outputBytes, gzipBytes: summary.gzip.outputBytes, keepsakeBytes: summary.local.outputBytes },
    cases: summary,
    small: smallSummary,
    restore,
    checks: checksFor(summary, smallSummary, restore),
    benchSeconds: Math.round((Date.now() - benchStart) / 1000),
  };
}

function renderMarkdown(r) {
  const f = (n, digits = 2) => (n === undefined ? '-' : n.toFixed(digits));
  const mb = (bytes) => (bytes === undefined ? '-' : `${mib(bytes).toFixed(1)} MiB`);
  const sec = (ms) => (ms === undefined ? '-' : f(ms / 1000));
  const code = (text) => `\`${text.replace(/\|/g, '\\|')}\``;
  const rs = r.restore;
  const lines = [];
  lines.push(`## ${r.machine.date}: ${mib(r.databases.bench.bytes).toFixed(0)} MiB database, ${r.settings.runs} run(s) per case`);
  lines.push('');
  lines.push(`- Machine: ${r.machine.nproc} CPUs (${r.machine.cpuModel}), ${r.machine.memTotalGiB} GiB RAM, ${r.machine.kernel}, node ${r.machine.node}; load average at start ${r.machine.loadAverageAtStart.join(' ')}`);
  lines.push(`- PostgreSQL ${r.postgres.server} (throwaway cluster, fsync off); ${r.postgres.pgDump}; ${r.machine.zstd}; ${r.machine.gzip}`);
  lines.push(`- Database: ${mib(r.databases.bench.bytes).toFixed(0)} MiB on disk, ${r.databases.bench.rows.toLocaleString('en-US')} rows (generated in ${f(r.databases.bench.generateSeconds, 1)}s); small one for the RSS check: ${mib(r.databases.bench_small.bytes).toFixed(0)} MiB`);
  lines.push(`- Dump sizes: raw archive ${mb(r.sizes.rawBytes)}, zstd -3 ${mb(r.sizes.zstdBytes)} (${f(r.sizes.rawBytes / r.sizes.zstdBytes, 2)}x), gzip -6 ${mb(r.sizes.gzipBytes)} (${f(r.sizes.rawBytes / r.sizes.gzipBytes, 2)}x), keepsake ${mb(r.sizes.keepsakeBytes)}`);
  lines.push(
    `- Restore: plain pg_restore (single job) of the ${mb(rs.dumpBytes)} -Fc -Z0 archive into a fresh database on a second throwaway cluster with PostgreSQL ${rs.baseline.server}'s default settings (${rs.baseline.settings}); CREATE DATABASE before it and DROP DATABASE + CHECKPOINT after it are untimed. keepsake restore-test restores a keepsake local backup of the same database (${mb(rs.backup.storedBytes)}; RESTORE_WORK_DIR in the bench's temp dir); its wall time includes node start-up, fetch + sha256 + decompress, initdb and start of its own tuned cluster, pg_restore -j ${rs.jobs}, the row-count check and the teardown. ${rs.baseline.pgRestore}.`,
  );
  lines.push(`- Whole bench took ${r.benchSeconds}s. Wall times include process start-up (node loads keepsake and the AWS SDK: ~0.2s); "manifest durationMs" is keepsake's own start-to-manifest time.`);
  lines.push('');
  lines.push('| case | command | median s | runs (s) | raw MiB/s | output | peak RSS MB | node CPU s | manifest durationMs |');
  lines.push('|---|---|---:|---|---:|---:|---:|---:|---:|');
  for (const c of Object.values(r.cases)) {
    lines.push(`| ${c.label} | ${code(c.command)} | ${f(c.medianSeconds)} | ${c.seconds.map((s) => f(s)).join(', ')} | ${f(c.throughputMBps, 0)} | ${mb(c.outputBytes)} | ${f(c.peakRssMb, 1)} | ${f(c.medianNodeCpuSeconds)} | ${c.medianPipelineSeconds === undefined ? '-' : Math.round(c.medianPipelineSeconds * 1000)} |`);
  }
  for (const [id, c] of Object.entries(r.small)) {
    lines.push(`| keepsake ${id}, ${mib(r.databases.bench_small.bytes).toFixed(0)} MiB db | same | ${f(c.medianSeconds)} | | | | ${f(c.peakRssMb, 1)} | | |`);
  }
  lines.push('');
  lines.push('| restore case | command | median s | runs (s) | ok | fetch+decompress s | pg_restore s | verify s | keepsake total s |');
  lines.push('|---|---|---:|---|---|---:|---:|---:|---:|');
  for (const c of Object.values(rs.cases)) {
    const t = c.medianTimingsMs ?? {};
    const ok = c.ok ? `${c.ok.filter(Boolean).length}/${c.ok.length}${c.ok.every(Boolean) ? '' : ' FAILED'}` : '-';
    lines.push(`| ${c.label} | ${code(c.command)} | ${f(c.medianSeconds)} | ${c.seconds.map((s) => f(s)).join(', ')} | ${ok} | ${sec(t.fetchMs)} | ${sec(t.restoreMs)} | ${sec(t.verifyMs)} | ${sec(t.totalMs)} |`);
  }
  if (rs.cases.restore_test.failures.length) lines.push('');
  for (const failure of rs.cases.restore_test.failures) lines.push(`- keepsake restore-test failed, ${failure.replace(/\s+/g, ' ')}`);
  lines.push('');
  lines.push('| target | value | wanted | result |');
  lines.push('|---|---:|---|---|');
  for (const check of r.checks) lines.push(`| ${check.name} | ${typeof check.value === 'number' ? f(check.value) : check.value} | ${check.target} | ${check.pass ? 'PASS' : 'FAIL'} |`);
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
  snapshot, the per-table row counts, the sha256 and the manifest;
- **plain pg_restore / keepsake restore-test**: a single-job \`pg_restore --no-owner --no-privileges\`
  of the uncompressed archive into a second throwaway cluster with PostgreSQL's default settings,
  against \`keepsake restore-test latest --json\` of a keepsake backup of the same database (fetch,
  decompress, its own tuned throwaway cluster, pg_restore -j, row-count check, teardown).

Peak RSS is keepsake's node process only (its pg_dump and zstd children are not counted), taken
from \`process.resourceUsage().maxRSS\`, at the main size and at a quarter of it to show that
memory stays flat as the database grows. Targets: keepsake local within 5% of the zstd pipeline,
at least 3.5x faster than the gzip pipeline, peak RSS under 120 MB, restore-test at most 0.65x the
time of the plain pg_restore.

Run it:

    npm run bench                                   # ~1 GiB database, 3 runs per case
    BENCH_SIZE_MB=200 BENCH_RUNS=1 npm run bench    # quick check

Each run appends a section below and writes bench/results/latest.json.

`;

async function writeResults(report, markdown) {
  await fsp.mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
  await fsp.writeFile(path.join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  const doc = path.join(ROOT, 'docs/benchmarks.md');
  await fsp.mkdir(path.dirname(doc), { recursive: true });
  if (!fs.existsSync(doc)) await fsp.writeFile(doc, DOC_INTRO);
  await fsp.appendFile(doc, `${markdown}\n`);
}

module.exports = { machineInfo, buildReport, renderMarkdown, writeResults };
