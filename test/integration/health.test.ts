import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { healthJob } from '../../src/jobs/health';
import type { HealthReport } from '../../src/health/report';
import { silentLogger } from '../../src/log';
import { createStorages } from '../../src/storage';
import { runCli } from '../support/cli';
import { startRecordingServer } from '../support/http';
import { startTestS3, type TestS3 } from '../support/s3';
import { startScenario, type Scenario } from '../support/scenario';
import { startTestSmtp, type TestSmtp } from '../support/smtp';

/** The weekly, monthly and yearly tiers and restore tests are off, so one daily backup can make a sidecar healthy. */
const FILL = 'SELECT g, md5(g::text) AS h FROM generate_series(1, 20000) g';
const DAILY_ONLY = { SCHEDULE_WEEKLY: 'off', SCHEDULE_MONTHLY: 'off', SCHEDULE_YEARLY: 'off', SCHEDULE_RESTORE_TEST: 'off' };

describe('keepsake health', () => {
  let s: Scenario;
  let s3: TestS3;
  let fresh: number = 0;
  /** Its own BACKUP_DIR and STATE_DIR per case, so one case's backups do not judge another's. */
  const place = async () => {
    const root = join(s.workspace.root, `case-${++fresh}`);
    await mkdir(root);
    return { BACKUP_DIR: join(root, 'backups'), STATE_DIR: join(root, 'state') };
  };
  const health = async (env: Record<string, string>) => {
    const result = await runCli(['health', '--json'], { ...s.env, ...env });
    const report = JSON.parse(result.stdout) as HealthReport;
    return { code: result.code, report, check: (name: string) => report.checks.find((check) => check.name === name) };
  };

  beforeAll(async () => {
    [s, s3] = await Promise.all([startScenario({ sql: `CREATE TABLE t AS ${FILL}` }), startTestS3()]);
  });
  afterAll(async () => {
    await s3?.stop();
    await s?.stop();
  });

  it('passes the probes and judges a fresh backup good', async () => {
    const dirs = await place();
    expect((await runCli(['backup', '--tier', 'daily'], { ...s.env, ...dirs })).code).toBe(0);
    const { code, report, check } = await health({ ...dirs, ...DAILY_ONLY, ...s3.env(), BACKUP_TARGETS: 'local' });
    expect(check('database')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^PostgreSQL \d+/) });
    expect(check('pg_dump')).toMatchObject({ status: 'ok' });
    expect(check('storage:local')).toMatchObject({ status: 'ok', measured: expect.any(Number) });
    expect(check('freshness:daily')).toMatchObject({ status: 'ok' });
    expect(check('last-run:daily')?.status).toBe('ok');
    expect(report.checks.map((c) => c.name)).not.toContain('freshness:weekly');
    // Warnings only (no SMTP, no daemon, restore tests off): exit 2.
    expect(report.status).toBe('warn');
    expect(code).toBe(2);
  });

  it('fails for a database that is down, and names it', async () => {
    const { code, check } = await health({ ...(await place()), POSTGRES_PORT: '1' });
    expect(code).toBe(1);
    expect(check('database')).toMatchObject({ status: 'fail', message: expect.stringMatching(/connection refused.*POSTGRES_HOST and POSTGRES_PORT/) });
  });

  it('fails for a storage target that is down, while the other target still vouches for the backups', async () => {
    const dirs = await place();
    const both = { ...dirs, ...s3.env(), BACKUP_TARGETS: 'local,s3' };
    expect((await runCli(['backup', '--tier', 'daily'], { ...s.env, ...both })).code).toBe(0);
    expect((await health(both)).check('storage:s3')).toMatchObject({ status: 'ok' });
    const down = await health({ ...both, S3_ENDPOINT: 'http://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.check('storage:s3')?.status).toBe('fail');
    expect(down.check('storage:local')?.status).toBe('ok');
    expect(down.check('freshness:daily')?.status).toBe('ok');
  });

  it('fails for a backup older than a tiny limit', async () => {
    const dirs = await place();
    expect((await runCli(['backup', '--tier', 'daily'], { ...s.env, ...dirs })).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const { code, check } = await health({ ...dirs, HEALTH_MAX_AGE_DAILY: '1s' });
    expect(code).toBe(1);
    expect(check('freshness:daily')).toMatchObject({ status: 'fail', message: expect.stringMatching(/newest daily backup is .* old \(limit 1\.0s, HEALTH_MAX_AGE_DAILY\)/) });
  });

  it("fails when the daemon's last daily backup failed", async () => {
    const dirs = await place();
    await mkdir(dirs.STATE_DIR, { recursive: true });
    const at = new Date().toISOString();
    // The state file as the daemon writes it after a failed run (the daemon tests prove it does).
    await writeFile(join(dirs.STATE_DIR, 'state.json'), JSON.stringify({ jobs: { daily: { lastStart: at, lastEnd: at, outcome: 'failed', error: 'pg_dump exited with code 1: permission denied for table t' } } }));
    const { code, check } = await health(dirs);
    expect(code).toBe(1);
    expect(check('last-run:daily')).toMatchObject({ status: 'fail', message: expect.stringContaining('permission denied for table t') });
  });

  it('fails for a backup much smaller than the recent ones', async () => {
    const dirs = await place();
    for (let i = 0; i < 3; i++) expect((await runCli(['backup', '--tier', 'daily'], { ...s.env, ...dirs })).code).toBe(0);
    await s.pg.query(s.db, 'TRUNCATE t');
    try {
      expect((await runCli(['backup', '--tier', 'daily'], { ...s.env, ...dirs })).code).toBe(0);
    } finally {
      await s.pg.query(s.db, `INSERT INTO t ${FILL}`);
    }
    const { code, check } = await health(dirs);
    expect(code).toBe(1);
    expect(check('size:daily')).toMatchObject({ status: 'fail', message: expect.stringMatching(/\d+% of the recent median/) });
  });

  it('fails when free disk space is below the threshold', async () => {
    const { code, report } = await health({ ...(await place()), HEALTH_MIN_FREE_DISK: '100%' });
    expect(code).toBe(1);
    const disk = report.checks.filter((check) => check.name.startsWith('disk:'));
    expect(disk.length).toBeGreaterThan(0);
    expect(disk[0]).toMatchObject({ status: 'fail', message: expect.stringContaining('HEALTH_MIN_FREE_DISK 100%') });
  });

  it("--quick reads the daemon's heartbeat and last run: no daemon is unhealthy (exit 1)", async () => {
    const result = await runCli(['health', '--quick'], { ...s.env, ...(await place()) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/UNHEALTHY: the daemon has not started here/);
  });

  describe('alerts from the health job', () => {
    let smtp: TestSmtp;
    beforeAll(async () => (smtp = await startTestSmtp()));
    afterAll(async () => smtp?.stop());

    it('mails once on the transition, reminds after HEALTH_ALERT_REPEAT, and mails one recovery after two healthy runs', async () => {
      const dirs = await place();
      const env = { ...s.env, ...dirs, ...DAILY_ONLY, ...smtp.env(), HEALTH_ALERT_REPEAT: '2h' };
      expect((await runCli(['backup', '--tier', 'daily'], { ...env, NOTIFY_ON: 'health-alert,health-recovered' })).code).toBe(0);
      const good = loadConfig(env);
      const down = loadConfig({ ...env, POSTGRES_PORT: '1' });
      const start = Date.now();
      const run = async (config: typeof good, hoursLater: number) =>
        (await healthJob({ config, storages: createStorages(config), log: silentLogger }, { now: () => new Date(start + hoursLater * 3_600_000) })).sent;

      expect(await run(down, 0)).toBe('alert');
      expect(await run(down, 1)).toBeUndefined();
      expect(await run(down, 2.5)).toBe('reminder');
      expect(await run(good, 3)).toBeUndefined(); // one healthy run is not a recovery yet
      expect(await run(good, 3.5)).toBe('recovered');
      expect(await run(good, 4)).toBeUndefined();

      const mails = await smtp.waitForMessages(3);
      expect(mails.map((mail) => mail.subject)).toEqual([
        expect.stringMatching(/ALERT health \S+@127\.0\.0\.1:1: database: Cannot connect/),
        expect.stringMatching(/ALERT health \S+@127\.0\.0\.1:1: database/),
        expect.stringMatching(/RECOVERED health \S+@127\.0\.0\.1:\d+: all \d+ checks ok/),
      ]);
      expect(mails[0]!.html).toContain('POSTGRES_PORT');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smtp.messages).toHaveLength(3);
    });
  });

  it("pings HEALTHCHECK_PING_URL after a backup, and <url>/fail after a failed one, without logging the token", async () => {
    const pings = await startRecordingServer();
    try {
      const env = { ...s.env, ...(await place()), HEALTHCHECK_PING_URL: `${pings.url}/ping/5f1c-token?rid=7`, LOG_LEVEL: 'info' };
      expect((await runCli(['backup'], env)).code).toBe(0);
      const failed = await runCli(['backup'], { ...env, POSTGRES_PORT: '1' });
      expect(failed.code).toBe(69);
      expect(pings.paths).toEqual(['/ping/5f1c-token?rid=7', '/ping/5f1c-token/fail?rid=7']);
      expect(failed.stderr).not.toContain('5f1c-token');
    } finally {
      await pings.stop();
    }
  });
});
