import { rm } from 'node:fs/promises';
import { runCli } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess, type RunningDaemon } from '../support/daemon';
import { makeBinDir } from '../support/fake-bin';
import { useScenario, type Scenario } from '../support/scenario';

/**
 * Node's timers fire at once for delays above 2^31 - 1 ms (about 24.8 days): SHUTDOWN_GRACE=30d
 * used to abort a backup milliseconds after SIGTERM, RESTORE_TEST_TIMEOUT=30d failed every restore
 * test after 2.5 s. These run the real CLI and daemon with such values.
 */

/** The daemon's exit code, or 'still running' (then it is stopped) when it has not exited in time. */
async function exitWithin(daemon: RunningDaemon, ms: number): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([daemon.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)))]);
  clearTimeout(timer);
  if (outcome === 'still running') {
    daemon.process.kill('SIGKILL');
    await daemon.exited;
  }
  return outcome;
}

describe('durations longer than a timer can hold', () => {
  const scenario = useScenario({ sql: 'CREATE TABLE t AS SELECT g FROM generate_series(1, 20000) g' });
  let s: Scenario;
  beforeEach(() => {
    s = scenario();
  });

  it('the daemon refuses SHUTDOWN_GRACE=30d before it starts (exit 78), naming the limit', async () => {
    const daemon = startDaemonProcess({ ...s.env, ...SCHEDULES_OFF, SHUTDOWN_GRACE: '30d', BACKUP_ON_START: 'true', BACKUP_CATCH_UP: 'false' });
    let stderr = '';
    daemon.process.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitWithin(daemon, 20_000)).toBe(78);
    expect(stderr).toContain('SHUTDOWN_GRACE="30d": at most 24d');
    expect(daemon.lines).toEqual([]); // nothing ran
  });

  it('with SHUTDOWN_GRACE=24d, the longest allowed, a running backup finishes after SIGTERM', async () => {
    const binDir = await makeBinDir({ pg_dump: 'sleep 2\nexec "$REAL" "$@"' });
    try {
      const daemon = startDaemonProcess({ ...s.env, ...SCHEDULES_OFF, PG_BIN_DIR: binDir, SHUTDOWN_GRACE: '24d', BACKUP_ON_START: 'true', BACKUP_CATCH_UP: 'false' });
      await daemon.waitFor((line) => line.msg === 'backup started');
      daemon.process.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      expect(daemon.lines.find((line) => line.msg === 'job finished')).toMatchObject({ job: 'daily', outcome: 'ok' });
      expect(daemon.lines.find((line) => line.msg === 'shutdown grace over: aborting the running job')).toBeUndefined();
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('restore-test refuses RESTORE_TEST_TIMEOUT=30d (exit 78) and passes with 24d', async () => {
    expect((await runCli(['backup'], s.env)).code).toBe(0);
    const refused = await runCli(['restore-test', 'latest'], { ...s.env, RESTORE_TEST_TIMEOUT: '30d' });
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 78, stderr: expect.stringContaining('RESTORE_TEST_TIMEOUT="30d": at most 24d') });

    const passed = await runCli(['restore-test', 'latest'], { ...s.env, RESTORE_TEST_TIMEOUT: '24d' });
    expect({ code: passed.code, stdout: passed.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^PASSED restore test/) });
  });
});
