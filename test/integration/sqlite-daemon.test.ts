/**
 * The daemon with SQLite sources: its scheduled backup, restore test, health and metrics cover each
 * file as they cover a database. A sidecar of SQLite files alone: no PostgreSQL anywhere.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { SCHEDULES_OFF, startDaemonProcess, type RunningDaemon } from '../support/daemon';
import { freePort } from '../support/http';
import { parsePrometheusText, sampleValue } from '../support/prometheus';
import { createShop } from '../support/sqlite';
import { makeWorkspace } from '../support/workspace';
import type { RestoreTestResult } from '../../src/restore/restore-test';

describe('the daemon with SQLite sources only', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let daemon: RunningDaemon | undefined;

  beforeAll(async () => {
    workspace = await makeWorkspace();
    createShop(join(workspace.root, 'app.db'), 'wal', 100);
    createShop(join(workspace.root, 'jobs.sqlite3'), 'delete', 30);
  });
  afterAll(async () => {
    if (daemon?.process.exitCode === null) daemon.process.kill('SIGKILL');
    await workspace?.remove();
  });

  it('backs up each file at start, restore-tests each on schedule, and reports each one’s age in /metrics', async () => {
    const port = await freePort();
    daemon = startDaemonProcess({
      ...SCHEDULES_OFF,
      SQLITE_PATHS: `${join(workspace.root, 'app.db')},${join(workspace.root, 'jobs.sqlite3')}`,
      BACKUP_DIR: workspace.backupDir,
      STATE_DIR: workspace.stateDir,
      RESTORE_WORK_DIR: workspace.root,
      BACKUP_CATCH_UP: 'false',
      BACKUP_ON_START: 'true',
      SCHEDULE_DAILY: '0 0 1 1 *',
      SCHEDULE_RESTORE_TEST: '*/2 * * * * *',
      SCHEDULE_HEALTH: '*/2 * * * * *',
      HEALTHCHECK_PORT: String(port),
    });
    const tested = await daemon.waitFor((line) => line.msg === 'job finished' && line.job === 'restore-test', 60_000);
    expect(tested.outcome).toBe('ok');
    const afterTest = daemon.lines.indexOf(tested);
    await daemon.waitFor((line) => daemon!.lines.indexOf(line) > afterTest && line.msg === 'health checked', 30_000);

    // One restore test per file, the last one recorded in STATE_DIR.
    const finished = daemon.lines.filter((line) => line.msg === 'restore test finished').slice(0, 2);
    expect(finished.map((line) => line.ok)).toEqual([true, true]);
    const latest = JSON.parse(readFileSync(join(workspace.stateDir, 'restore-test-latest.json'), 'utf8')) as RestoreTestResult;
    expect(latest.backup.source).toMatch(/^(app|jobs)$/);

    const samples = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    for (const source of ['app', 'jobs']) expect(sampleValue(samples, 'keepsake_backup_age_seconds', { tier: 'daily', source })).toBeGreaterThanOrEqual(0);
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('with one file, labels its age with the file’s name (not a PostgreSQL database it does not have)', async () => {
    const port = await freePort();
    daemon = startDaemonProcess({
      ...SCHEDULES_OFF,
      SQLITE_PATHS: join(workspace.root, 'app.db'),
      BACKUP_DIR: join(workspace.root, 'one'),
      STATE_DIR: join(workspace.root, 'one-state'),
      RESTORE_WORK_DIR: workspace.root,
      BACKUP_CATCH_UP: 'false',
      BACKUP_ON_START: 'true',
      SCHEDULE_DAILY: '0 0 1 1 *',
      SCHEDULE_HEALTH: '*/2 * * * * *',
      HEALTHCHECK_PORT: String(port),
    });
    const backedUp = await daemon.waitFor((line) => line.msg === 'job finished' && line.job === 'daily', 60_000);
    expect(backedUp.outcome).toBe('ok');
    await daemon.waitFor((line) => daemon!.lines.indexOf(line) > daemon!.lines.indexOf(backedUp) && line.msg === 'health checked', 30_000);
    const samples = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    expect(sampleValue(samples, 'keepsake_backup_age_seconds', { tier: 'daily', source: 'app' })).toBeGreaterThanOrEqual(0);
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });
});
