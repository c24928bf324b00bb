import { execFileSync } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from '../../src/state/run-record';
import { runCli, type CliResult } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess } from '../support/daemon';
import { makeBinDir } from '../support/fake-bin';
import { startScenario, type Scenario } from '../support/scenario';
import { allFiles, readJson } from '../support/workspace';

/** Processes whose command line mentions `text` (a folder, a fake bin dir). */
function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', text], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts the CLI, waits until `ready`, then kills it with SIGKILL: no handler, no cleanup of its own. */
async function killDuring(args: string[], env: Record<string, string>, ready: () => boolean): Promise<{ pid: number; exited: Promise<CliResult> }> {
  let pid = 0;
  const exited = runCli(args, env, { onSpawn: (spawned) => (pid = spawned) });
  await until(ready, `${args[0]} reached the point to kill it`);
  return { pid, exited };
}

describe('a keepsake killed with SIGKILL leaves nothing running, and the next run cleans up its folders', () => {
  let s: Scenario;
  let binDir: string;
  const records = async () => (await readdir(join(s.workspace.stateDir, 'processes')).catch(() => [] as string[])).filter((name) => name.endsWith('.json'));

  beforeAll(async () => {
    s = await startScenario({ sql: 'CREATE TABLE t AS SELECT g FROM generate_series(1, 20000) g' });
    expect((await runCli(['backup'], s.env)).code).toBe(0);
    // pg_restore creates the schema, then stalls (the data would follow): time to kill keepsake.
    binDir = await makeBinDir({ pg_restore: '"$REAL" --section=pre-data "$@"\nsleep 30\nexec "$REAL" --section=data "$@"' });
  });
  afterAll(async () => {
    await rm(binDir, { recursive: true, force: true });
    await s?.stop();
  });

  const stalled = () => processesMentioning(binDir).some((line) => line.includes('pg_restore')) && processesMentioning(s.tmpDir).some((line) => line.includes('postgres'));

  it('restore-test: the throwaway PostgreSQL and pg_restore die with keepsake; the next run removes the temp folders and says so', async () => {
    const run = await killDuring(['restore-test'], { ...s.env, PG_BIN_DIR: binDir }, stalled);
    process.kill(run.pid, 'SIGKILL');
    await run.exited;
    await until(() => processesMentioning(s.tmpDir).length === 0 && processesMentioning(binDir).length === 0, 'the server and pg_restore stopped');
    expect((await readdir(s.tmpDir)).sort()).toEqual([expect.stringMatching(/^keepsake-pg-/), expect.stringMatching(/^keepsake-restore-/)]);

    const next = await runCli(['restore-test'], s.env);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(new RegExp(`keepsake: cleaned up after an earlier \`keepsake restore-test\` \\(pid ${run.pid} on .*\\), which ended without cleaning up \\(killed or crashed\\): `));
    expect(next.stderr).toMatch(/removed its throwaway PostgreSQL cluster .*keepsake-pg-\w+ \(\d.* MB\)/);
    expect(next.stderr).toMatch(/removed its restore work folder .*keepsake-restore-\w+ \(/);
    expect(await allFiles(s.tmpDir)).toEqual([]);
    expect(await records()).toEqual([]);
  });

  it('restore-test: when its watchdog was killed too, the next run stops the server and pg_restore it left running', async () => {
    const run = await killDuring(['restore-test'], { ...s.env, PG_BIN_DIR: binDir }, stalled);
    const [name] = await records();
    const { watchdogPid } = readJson<RunRecord>(join(s.workspace.stateDir, 'processes', name!));
    expect(watchdogPid).toBeGreaterThan(0);
    process.kill(watchdogPid!, 'SIGKILL');
    process.kill(run.pid, 'SIGKILL');
    await run.exited;
    expect(processesMentioning(s.tmpDir).some((line) => line.includes('postgres'))).toBe(true);

    const next = await runCli(['restore-test'], s.env);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/stopped postgres \(pid \d+\), left running/);
    expect(next.stderr).toMatch(/stopped pg_restore \(pid \d+\), left running/);
    expect(processesMentioning(s.tmpDir)).toEqual([]);
    expect(processesMentioning(binDir)).toEqual([]);
    expect(await allFiles(s.tmpDir)).toEqual([]);
  });

  it('daemon: a restore test\'s server dies with the killed daemon; the next daemon removes its folders at start and logs it', async () => {
    const env = { ...s.env, ...SCHEDULES_OFF, BACKUP_CATCH_UP: 'false' };
    const killed = startDaemonProcess({ ...env, PG_BIN_DIR: binDir, SCHEDULE_RESTORE_TEST: '*/2 * * * * *' });
    try {
      await until(stalled, 'the restore test reached pg_restore');
    } finally {
      killed.process.kill('SIGKILL');
    }
    await killed.exited;
    await until(() => processesMentioning(s.tmpDir).length === 0 && processesMentioning(binDir).length === 0, 'the server and pg_restore stopped');

    const next = startDaemonProcess(env);
    const said = await next.waitFor((line) => line.msg.startsWith('cleaned up after an earlier `keepsake daemon`'));
    expect(said.msg).toContain(`(pid ${killed.process.pid} on `);
    expect(said.msg).toMatch(/removed its throwaway PostgreSQL cluster .*keepsake-pg-\w+ \(/);
    expect(said.msg).toMatch(/removed its restore work folder .*keepsake-restore-\w+ \(/);
    next.process.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    expect(await allFiles(s.tmpDir)).toEqual([]);
  });

  it('restore: no orphaned pg_restore goes on writing into the target; the next run removes the work folder and says so', async () => {
    const run = await killDuring(['restore', 'latest', '--target-db', 'crashed', '--yes'], { ...s.env, PG_BIN_DIR: binDir }, () => processesMentioning(binDir).some((line) => line.includes('pg_restore')));
    process.kill(run.pid, 'SIGKILL');
    await run.exited;
    await until(() => processesMentioning(binDir).length === 0, 'pg_restore stopped');

    const next = await runCli(['restore', 'latest', '--target-db', 'after_crash', '--yes'], s.env);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(new RegExp(`cleaned up after an earlier \`keepsake restore\` \\(pid ${run.pid} .*removed its restore work folder .*keepsake-restore-\\w+ .*the database it was restoring into may be half restored: run the restore again`));
    expect(await allFiles(s.tmpDir)).toEqual([]);
  });
});
