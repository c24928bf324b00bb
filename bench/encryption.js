'use strict';
/**
 * `npm run bench:encryption`: what BACKUP_ENCRYPTION=age costs. One throwaway PostgreSQL, the
 * database bench/generate.sql builds (BENCH_SIZE_MB, default 1000), then BENCH_RUNS rounds of three
 * keepsake local backups interleaved (order rotating): plain, age to a public key, age with a
 * passphrase. Prints each case's median time, its ratio to plain and keepsake's peak RSS (the node
 * process; age and the passphrase worker are children), and appends a section to docs/benchmarks.md.
 */
const { execFileSync } = require('node:child_process');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { ROOT, SIZE_MB, RUNS, log, median, mib } = require('./lib/common');
const { onCleanup, exitCleanlyOnSignals, runBench } = require('./lib/processes');
const { startPostgres, generateDatabase } = require('./lib/servers');
const { PRELOAD, backupCases } = require('./lib/cases');

exitCleanlyOnSignals();

async function main() {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'keepsake-bench-age-'));
  onCleanup(() => fsp.rm(tmp, { recursive: true, force: true, maxRetries: 5 }));
  const dirs = { out: path.join(tmp, 'out'), local: path.join(tmp, 'backups'), state: path.join(tmp, 'state'), rss: path.join(tmp, 'rss') };
  for (const dir of Object.values(dirs)) await fsp.mkdir(dir, { recursive: true });
  const preload = path.join(tmp, 'rss-preload.js');
  await fsp.writeFile(preload, PRELOAD);
  const identity = path.join(tmp, 'identity.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();

  const cluster = await startPostgres();
  const database = await generateDatabase(cluster, 'bench', SIZE_MB);
  const cases = backupCases({ cluster, dirs, tmp, preload, encryption: { recipient, passphrase: 'bench-passphrase-not-secret' } });
  log('warm-up (untimed)');
  for (const c of cases) await c.run('bench');
  const results = Object.fromEntries(cases.map((c) => [c.id, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const c of cases.map((_, i) => cases[(i + round) % cases.length])) {
      const result = await c.run('bench');
      results[c.id].push(result);
      log(`round ${round + 1}/${RUNS} ${c.label.padEnd(15)} ${result.seconds.toFixed(2)}s, peak RSS ${result.peakRssMb.toFixed(1)} MB, stored ${mib(result.outputBytes).toFixed(1)} MiB`);
    }
  }
  const plain = median(results.local.map((r) => r.seconds));
  const rows = cases.map((c) => {
    const seconds = median(results[c.id].map((r) => r.seconds));
    const rss = Math.max(...results[c.id].map((r) => r.peakRssMb));
    return `| ${c.label} | ${seconds.toFixed(2)} | ${(seconds / plain).toFixed(3)} | ${rss.toFixed(1)} | ${mib(results[c.id][0].outputBytes).toFixed(1)} |`;
  });
  const markdown = [
    `## Encryption, ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs, database of ${mib(database.bytes).toFixed(0)} MiB on disk (${database.rows} rows), ${RUNS} interleaved runs, medians`,
    '',
    '| keepsake backup (local) | seconds | vs plain | peak RSS, MB | stored, MiB |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'Targets: age to a public key at most 1.05 x plain; peak RSS (the keepsake node process) under 120 MB.',
    '',
  ].join('\n');
  process.stdout.write(`\n${markdown}\n`);
  await fsp.appendFile(path.join(ROOT, 'docs/benchmarks.md'), `\n${markdown}`);
}

runBench(main, log);
