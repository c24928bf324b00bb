import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../support/cli';
import { makeBinDir } from '../support/fake-bin';
import { SCHEDULES_OFF, startDaemonProcess, type RunningDaemon } from '../support/daemon';
import { freePort } from '../support/http';
import { parsePrometheusText, sampleValue } from '../support/prometheus';
import { startScenario, type Scenario } from '../support/scenario';

/** Every job off but the daily tier (its slot far away) and hourly health, which also runs at start. */
const QUIET = { ...SCHEDULES_OFF, SCHEDULE_DAILY: '0 0 1 1 *', SCHEDULE_HEALTH: '0 * * * *', BACKUP_CATCH_UP: 'false' };

describe('the daemon\'s /healthz and /metrics', () => {
  let s: Scenario;
  const daemons: RunningDaemon[] = [];
  beforeAll(async () => {
    s = await startScenario({ sql: 'CREATE TABLE t AS SELECT g FROM generate_series(1, 5000) g' });
  });
  afterAll(async () => {
    for (const daemon of daemons) if (daemon.process.exitCode === null) daemon.process.kill('SIGKILL');
    await s?.stop();
  });

  const start = async (env: Record<string, string>) => {
    const port = await freePort();
    const daemon = startDaemonProcess({ ...s.env, ...QUIET, HEALTHCHECK_PORT: String(port), ...env });
    daemons.push(daemon);
    await daemon.waitFor((line) => line.msg === 'health checked', 30_000);
    return { daemon, base: `http://127.0.0.1:${port}` };
  };

  it('answers /healthz with the last run and /metrics in Prometheus text; --quick agrees', async () => {
    const { daemon, base } = await start({ BACKUP_ON_START: 'true' });

    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(200);
    const report = (await healthz.json()) as { status: string; checks: { name: string; status: string }[] };
    // Warnings only: no SMTP configured, restore tests off. The start-up backup ran first.
    expect(report.status).toBe('warn');
    expect(report.checks).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'database', status: 'ok' }),
      expect.objectContaining({ name: 'storage:local', status: 'ok' }),
      expect.objectContaining({ name: 'freshness:daily', status: 'ok' }),
      expect.objectContaining({ name: 'scheduler', status: 'ok' }),
    ]));

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(await metrics.text());
    const now = Date.now() / 1000;
    expect(sampleValue(samples, 'keepsake_backup_last_success_timestamp_seconds', { tier: 'daily' })).toBeGreaterThan(now - 120);
    expect(sampleValue(samples, 'keepsake_backup_last_size_bytes', { tier: 'daily' })).toBeGreaterThan(0);
    expect(sampleValue(samples, 'keepsake_backups_total', { tier: 'daily' })).toBe(1);
    expect(sampleValue(samples, 'keepsake_backup_failures_total', { tier: 'daily' })).toBe(0);
    expect(sampleValue(samples, 'keepsake_storage_up', { target: 'local' })).toBe(1);
    expect(sampleValue(samples, 'keepsake_storage_probe_latency_seconds', { target: 'local' })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'keepsake_health_status')).toBe(1);
    expect(sampleValue(samples, 'keepsake_outbox_reports')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'keepsake_job_next_run_timestamp_seconds', { job: 'health' })).toBeGreaterThan(now);
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
    const quick = await runCli(['health', '--quick'], s.env);
    expect(quick).toMatchObject({ code: 0, stdout: expect.stringMatching(/^healthy: the daemon is running; the health check .* ago was ok with warnings/) });

    const status = await runCli(['status'], s.env);
    expect(status.stdout).toMatch(/last health check .*: warn \(.*outbox warn.*`keepsake health` for details\)/);

    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    // Stopped: the port is closed.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('answers 503 when the last run found a failing check, and --quick exits 1', async () => {
    const { daemon, base } = await start({ POSTGRES_PORT: '1' });
    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(503);
    const report = (await healthz.json()) as { status: string; checks: { name: string; status: string }[] };
    expect(report.status).toBe('fail');
    expect(report.checks).toContainEqual(expect.objectContaining({ name: 'database', status: 'fail' }));
    const quick = await runCli(['health', '--quick'], s.env);
    expect(quick.code).toBe(1);
    expect(quick.stdout).toMatch(/UNHEALTHY: the health check .* failed: database: Cannot connect/);
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('keeps checking health while a long backup holds the job queue', async () => {
    const binDir = await makeBinDir({ pg_dump: 'sleep 6\nexec "$REAL" "$@"' });
    try {
      const { daemon } = await start({ PG_BIN_DIR: binDir, BACKUP_ON_START: 'true', SCHEDULE_HEALTH: '*/2 * * * * *' });
      const backupStarted = await daemon.waitFor((line) => line.msg === 'job started' && line.job === 'daily');
      // Health runs come and go while the backup is still running.
      await daemon.waitFor((line) => line.msg === 'job finished' && line.job === 'health' && Date.parse(line.time) > Date.parse(backupStarted.time), 10_000);
      expect(daemon.lines.some((line) => line.msg === 'job finished' && line.job === 'daily')).toBe(false);
      daemon.process.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('--quick fails on a stale heartbeat and on a verdict too old to count', async () => {
    const stateDir = join(s.workspace.root, 'quick-state');
    await mkdir(stateDir, { recursive: true });
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    const writeState = (heartbeatMinutesAgo: number, checkedMinutesAgo: number) =>
      Promise.all([
        writeFile(join(stateDir, 'state.json'), JSON.stringify({ startedAt: ago(600), heartbeat: ago(heartbeatMinutesAgo), jobs: {} })),
        writeFile(join(stateDir, 'health.json'), JSON.stringify({ format: 1, status: 'ok', checkedAt: ago(checkedMinutesAgo), durationMs: 1, checks: [] })),
      ]);
    const quick = () => runCli(['health', '--quick'], { ...s.env, STATE_DIR: stateDir });

    // Seconds pass while the CLI starts on a busy machine: 30m00s or 30m01s.
    await writeState(1, 30);
    expect(await quick()).toMatchObject({ code: 0, stdout: expect.stringMatching(/^healthy: the daemon is running; the health check 30m0\ds ago was ok/) });
    await writeState(4, 30);
    expect(await quick()).toMatchObject({ code: 1, stdout: expect.stringMatching(/^UNHEALTHY: the daemon's heartbeat is 4m0\ds old/) });
    await writeState(1, 180);
    expect(await quick()).toMatchObject({ code: 1, stdout: expect.stringMatching(/^UNHEALTHY: the last full health check ran 3h00m ago/) });
  });

  it('refuses to start on a port already taken, saying which', async () => {
    const { base } = await start({});
    const port = new URL(base).port;
    const second = await runCli(['daemon'], { ...s.env, ...QUIET, HEALTHCHECK_PORT: port, STATE_DIR: `${s.workspace.root}/other-state` });
    expect(second.code).toBe(69);
    expect(second.stderr).toMatch(new RegExp(`HEALTHCHECK_PORT=${port}: cannot listen on 127.0.0.1:${port} \\(EADDRINUSE\\)`));
  });
});
