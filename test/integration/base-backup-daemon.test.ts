import { databaseEnv, runCli } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess, type RunningDaemon } from '../support/daemon';
import { freePort } from '../support/http';
import { PITR_SERVER_SETTINGS, startTestPostgres, type TestPostgres } from '../support/postgres';
import { parsePrometheusText, sampleValue } from '../support/prometheus';
import { makeWorkspace } from '../support/workspace';

describe('the daemon with PITR=on and no base backup yet', () => {
  let pg: TestPostgres;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let daemon: RunningDaemon | undefined;
  beforeAll(async () => {
    [pg, workspace] = await Promise.all([startTestPostgres({ settings: PITR_SERVER_SETTINGS }), makeWorkspace()]);
  });
  afterAll(async () => {
    if (daemon?.process.exitCode === null) daemon.process.kill('SIGKILL');
    await pg?.stop();
    await workspace?.remove();
  });

  it('takes one as it starts; health judges the base tier by HEALTH_MAX_AGE_BASE and /metrics gives its age and size', async () => {
    const db = await pg.createDatabase('app');
    const port = await freePort();
    const env = { ...databaseEnv(db), BACKUP_DIR: workspace.backupDir, STATE_DIR: workspace.stateDir, PITR: 'on' };
    // Every job off but hourly health (which also runs at start) and the weekly base backup, far away.
    daemon = startDaemonProcess({ ...env, ...SCHEDULES_OFF, SCHEDULE_HEALTH: '0 * * * *', SCHEDULE_BASE_BACKUP: '0 1 1 1 *', BACKUP_CATCH_UP: 'false', HEALTHCHECK_PORT: String(port) });
    const queued = await daemon.waitFor((line) => line.msg === 'job queued' && line.job === 'base-backup', 30_000);
    expect(queued.why).toBe('PITR is on and there is no base backup yet');
    const stored = await daemon.waitFor((line) => line.msg === 'backup finished', 60_000);
    await daemon.waitFor((line) => line.msg === 'health checked', 30_000);

    const listed = JSON.parse((await runCli(['list', '--json'], env)).stdout) as { tier: string; id: string }[];
    expect(listed.map((row) => [row.tier, row.id])).toEqual([['base', stored.id]]);
    const health = JSON.parse((await fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.text()))) as { checks: { name: string; status: string; message: string }[] };
    expect(health.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'freshness:base:cluster', status: 'ok', message: expect.stringContaining(`newest base backup ${String(stored.id)} is`) })]));

    const samples = parsePrometheusText(await fetch(`http://127.0.0.1:${port}/metrics`).then((response) => response.text()));
    expect(sampleValue(samples, 'keepsake_base_backup_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'keepsake_base_backup_age_seconds')).toBeLessThan(600);
    expect(sampleValue(samples, 'keepsake_base_backup_size_bytes')).toBe(stored.storedBytes);

    // The limit is HEALTH_MAX_AGE_BASE: a tiny one makes the same base backup too old (once it is more than that old).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const strict = await runCli(['health', '--json'], { ...env, HEALTH_MAX_AGE_BASE: '1s' });
    const checks = (JSON.parse(strict.stdout) as { checks: { name: string; status: string; message: string }[] }).checks;
    expect(checks.find((check) => check.name === 'freshness:base:cluster')).toMatchObject({ status: 'fail', message: expect.stringContaining('HEALTH_MAX_AGE_BASE') });
  });
});
