'use strict';
/**
 * The restore cases: keepsake restore-test against the restore people do by hand.
 *   plain pg_restore        pg_restore --no-owner --no-privileges -d DB FILE: single job, the raw
 *                           -Fc -Z0 archive, into a fresh database on a second throwaway cluster
 *                           with PostgreSQL's default settings (fsync on); CREATE DATABASE before
 *                           and DROP DATABASE + CHECKPOINT after are untimed
 *   keepsake restore-test   keepsake restore-test latest --json of a keepsake local backup of the
 *                           same database: fetch + sha256 + decompress, its own tuned throwaway
 *                           cluster, pg_restore -j <cores>, the row-count check and the teardown,
 *                           all in the wall time
 */
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { ROOT, log, mib } = require('./common');
const { run, mustRun } = require('./processes');
const { startPostgres } = require('./servers');
const { keepsakeEnv } = require('./cases');

const BASELINE_SETTINGS = ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', 'max_wal_size', 'maintenance_work_mem', 'checkpoint_timeout'];

/**
 * Untimed set-up: the uncompressed dump file, the default-config cluster and one keepsake backup
 * (in its own BACKUP_DIR, so the backup cases' clean-ups never touch it). `context`: { cluster, s3, dirs, tmp }.
 */
async function prepareRestore(context, database) {
  const { cluster, dirs, tmp } = context;
  const dumpFile = path.join(dirs.out, `${database}.dump`);
  log(`restore: dumping ${database} to an uncompressed archive (pg_dump -Fc -Z0 -f FILE)`);
  const dumped = await mustRun('pg_dump', cluster.bin('pg_dump'), ['--format=custom', '-Z0', '--no-password', '-f', dumpFile], { env: cluster.env(database) });
  const dumpBytes = (await fsp.stat(dumpFile)).size;
  log(`restore: ${mib(dumpBytes).toFixed(1)} MiB archive in ${dumped.seconds.toFixed(1)}s; starting a default-config PostgreSQL`);

  const baseline = await startPostgres({ tuning: 'default' });
  const psql = (db, command) => mustRun('psql', baseline.bin('psql'), ['-XqAtc', command], { env: baseline.env(db) });
  const settings = (await psql('postgres', `SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN (${BASELINE_SETTINGS.map((n) => `'${n}'`).join(', ')})`)).stdout.trim();
  const pgRestoreVersion = (await mustRun('pg_restore', baseline.bin('pg_restore'), ['--version'])).stdout.trim();
  log(`restore: default-config PostgreSQL ${baseline.serverVersion} on port ${baseline.db.port} (${settings})`);

  log('restore: taking a keepsake backup to restore');
  const backupDir = path.join(tmp, 'restore-source');
  await fsp.mkdir(backupDir);
  const backedUp = await mustRun('keepsake backup', process.execPath, [path.join(ROOT, 'dist/cli.js'), 'backup', '--tier', 'manual', '--json'], {
    env: keepsakeEnv(context, { database, target: 'local', backupDir }),
  });
  const manifest = JSON.parse(backedUp.stdout);

  // keepsake's work dir and throwaway cluster go inside the bench's temp dir, so removing that
  // removes whatever a forced exit leaves. When root, the cluster runs as "postgres": it needs to
  // pass through (not list) the directories above its own.
  const workDir = path.join(tmp, 'restore-work');
  await fsp.mkdir(workDir);
  await Promise.all([fsp.chmod(tmp, 0o711), fsp.chmod(workDir, 0o711)]);

  let restores = 0;
  const pgRestoreCase = {
    id: 'pg_restore',
    label: 'plain pg_restore',
    command: 'pg_restore --no-owner --no-privileges -d DB FILE   (default-config server, 1 job)',
    async run() {
      const name = `restore_${++restores}`;
      await psql('postgres', `CREATE DATABASE ${name}`);
      const result = await mustRun('pg_restore', baseline.bin('pg_restore'), ['--no-owner', '--no-privileges', '-d', name, dumpFile], { env: baseline.env(name) });
      await psql('postgres', `DROP DATABASE ${name}`);
      await psql('postgres', 'CHECKPOINT');
      return { seconds: result.seconds };
    },
  };
  const jobs = os.cpus().length; // keepsake's RESTORE_JOBS default
  const restoreTestCase = {
    id: 'restore_test',
    label: 'keepsake restore-test',
    command: `keepsake restore-test latest --json   (BACKUP_TARGETS=local, own tuned cluster, pg_restore -j ${jobs})`,
    async run() {
      const result = await run(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'restore-test', 'latest', '--json'], {
        env: { ...keepsakeEnv(context, { database, target: 'local', backupDir }), RESTORE_WORK_DIR: workDir },
      });
      let report;
      try {
        report = JSON.parse(result.stdout);
      } catch {
        report = undefined;
      }
      const ok = result.code === 0 && report?.ok === true;
      const failure = ok
        ? undefined
        : [`exit ${result.signal ?? result.code}`, report?.error, ...(report?.problems ?? []), report ? '' : result.stderr.trim().slice(-500)].filter(Boolean).join('; ');
      return { seconds: result.seconds, ok, timings: report?.timings ?? {}, failure };
    },
  };

  return {
    dumpBytes,
    dumpSeconds: dumped.seconds,
    baseline: { server: baseline.serverVersion, settings, pgRestore: pgRestoreVersion },
    backup: { id: manifest.id, storedBytes: manifest.storedBytes, rawBytes: manifest.rawBytes },
    jobs,
    cases: [pgRestoreCase, restoreTestCase],
  };
}

module.exports = { prepareRestore };
