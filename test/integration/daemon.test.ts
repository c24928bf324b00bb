import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess, type LogLine } from '../support/daemon';
import { makeBinDir } from '../support/fake-bin';
import { useScenario, type Scenario } from '../support/scenario';
import { allFiles } from '../support/workspace';


/** [start, end] of every job from the daemon's log. */
function jobIntervals(lines: LogLine[]): { job: string; start: number; end: number; outcome: string }[] {
  const open = new Map<string, number>();
  const intervals: { job: string; start: number; end: number; outcome: string }[] = [];
  for (const line of lines) {
    if (line.msg === 'job started') open.set(line.job!, Date.parse(line.time));
    if (line.msg === 'job finished') intervals.push({ job: line.job!, start: open.get(line.job!)!, end: Date.parse(line.time), outcome: line.outcome! });
  }
  return intervals;
}

describe('keepsake daemon', () => {
  const scenario = useScenario({ sql: 'CREATE TABLE t AS SELECT g FROM generate_series(1, 20000) g' });
  let s: Scenario;
  beforeEach(() => {
    s = scenario();
  });

  it('runs second-level schedules one job at a time, survives a failing job, and stops on SIGTERM with exit 0', async () => {
    const daemon = startDaemonProcess({
      ...s.env, ...SCHEDULES_OFF, BACKUP_CATCH_UP: 'false',
      SCHEDULE_DAILY: '*/2 * * * * *', SCHEDULE_WEEKLY: '*/3 * * * * *', SCHEDULE_RESTORE_TEST: '*/4 * * * * *',
      // The restore test fails: its server does not exist.
      RESTORE_TEST_MODE: 'server', RESTORE_TEST_DATABASE_URL: 'postgres://postgres:x@127.0.0.1:1/postgres',
    });
    await daemon.waitFor((line) => line.msg === 'job finished' && line.job === 'restore-test' && line.outcome === 'failed');
    const afterFailure = daemon.lines.length;
    // Both backup jobs keep running after the failure.
    for (const job of ['daily', 'weekly']) {
      await daemon.waitFor((line) => daemon.lines.indexOf(line) >= afterFailure && line.msg === 'job finished' && line.job === job && line.outcome === 'ok');
    }
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);

    const intervals = jobIntervals(daemon.lines);
    expect(new Set(intervals.map((i) => i.job))).toEqual(new Set(['daily', 'weekly', 'restore-test']));
    for (let i = 1; i < intervals.length; i++) expect(intervals[i]!.start).toBeGreaterThanOrEqual(intervals[i - 1]!.end);
    expect(daemon.lines.at(-1)?.msg).toBe('daemon stopped');

    const listed = JSON.parse((await runCli(['list', '--json'], s.env)).stdout) as { tier: string }[];
    expect(listed.length).toBe(intervals.filter((i) => i.job !== 'restore-test' && i.outcome === 'ok').length);
    const status = JSON.parse((await runCli(['status', '--json'], s.env)).stdout);
    // Depending on timing the restore test fails for want of a backup or of its server: failed either way.
    expect(status.jobs['restore-test']).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/Cannot connect to PostgreSQL|There are no backups yet/) });
    expect(status.jobs.daily).toMatchObject({ outcome: 'ok' });
  });

  it('stays up with every job off until it is told to stop', async () => {
    const daemon = startDaemonProcess({ ...s.env, ...SCHEDULES_OFF, BACKUP_CATCH_UP: 'false' });
    await daemon.waitFor((line) => line.msg === 'job is off' && line.job === 'logrotate');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(daemon.process.exitCode).toBeNull();
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.lines.at(-1)?.msg).toBe('daemon stopped');
  });

  it('catches up a backup whose slot passed while it was down, once', async () => {
    const env = { ...s.env, ...SCHEDULES_OFF, SCHEDULE_DAILY: '0 2 * * *' };
    const first = startDaemonProcess(env);
    const caught = await first.waitFor((line) => line.msg === 'job queued' && line.job === 'daily');
    expect(caught.why).toMatch(/^catch-up: no daily backup since its slot at/);
    await first.waitFor((line) => line.msg === 'job finished' && line.job === 'daily');
    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = startDaemonProcess(env);
    await second.waitFor((line) => line.msg === 'scheduled' && line.job === 'daily');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.lines.filter((line) => line.msg === 'job queued')).toEqual([]);
  });

  it('aborts a backup that outlasts SHUTDOWN_GRACE: exit 0, nothing half-written listed', async () => {
    const binDir = await makeBinDir({ pg_dump: '"$REAL" "$@" | { head -c 100000; sleep 30; }' });
    try {
      const daemon = startDaemonProcess({ ...s.env, ...SCHEDULES_OFF, PG_BIN_DIR: binDir, SHUTDOWN_GRACE: '1s', BACKUP_ON_START: 'true', BACKUP_CATCH_UP: 'false' });
      await daemon.waitFor((line) => line.msg === 'backup started');
      await new Promise((resolve) => setTimeout(resolve, 300));
      daemon.process.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      expect(daemon.lines.find((line) => line.msg === 'job finished')).toMatchObject({ job: 'daily', outcome: 'interrupted' });
      expect(await allFiles(s.workspace.backupDir)).toEqual([]);
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('makes a manual command wait for the running job, or refuse with --no-wait (exit 75)', async () => {
    // The daemon's pg_dump holds its job until the test lets it go: no race with a slow machine.
    const release = join(s.workspace.root, 'release-daemon-dump');
    const binDir = await makeBinDir({ pg_dump: `while [ ! -e '${release}' ]; do sleep 0.05; done\nexec "$REAL" "$@"` });
    try {
      const daemon = startDaemonProcess({ ...s.env, ...SCHEDULES_OFF, PG_BIN_DIR: binDir, BACKUP_ON_START: 'true', BACKUP_CATCH_UP: 'false' });
      await daemon.waitFor((line) => line.msg === 'backup started');
      const refused = await runCli(['backup', '--no-wait'], s.env);
      expect(refused.code).toBe(75);
      expect(refused.stderr).toMatch(/Another keepsake job is running \(daily, pid \d+/);
      const waited = await runCli(['backup'], s.env, { onStderr: (soFar) => void (soFar.includes('waiting for daily') && writeFile(release, '')) });
      expect(waited.code).toBe(0);
      expect(waited.stderr).toContain('waiting for daily');
      daemon.process.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });
});
