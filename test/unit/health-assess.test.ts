import type { Manifest } from '../../src/backup/manifest';
import { loadConfig } from '../../src/config';
import { assess, type HealthFacts } from '../../src/health/assess';
import { worstStatus } from '../../src/health/report';
import type { RestoreTestResult } from '../../src/restore/restore-test';
import { validManifest } from './manifest-fixture';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const hoursAgo = (hours: number) => new Date(NOW - hours * 3_600_000).toISOString();
/** A finished run: started and ended `hours` ago. */
const ran = (hours: number) => ({ lastStart: hoursAgo(hours + 0.01), lastEnd: hoursAgo(hours) });
const SMTP = { SMTP_HOST: 'mail.local', MAIL_TO: 'ops@example.com' };

function backup(tier: Manifest['tier'], hours: number, storedBytes = 1000): Manifest {
  const at = hoursAgo(hours);
  return validManifest({ tier, id: `app_${tier}_${hours}`, startedAt: at, finishedAt: at, storedBytes });
}

function passedTest(hours: number, ok = true): RestoreTestResult {
  return {
    format: 1, ok, id: 'restore_test_x', startedAt: hoursAgo(hours), finishedAt: hoursAgo(hours),
    backup: { id: 'app_daily_1', tier: 'daily', database: 'app', startedAt: hoursAgo(hours + 1), sha256: 'a'.repeat(64), storedBytes: 1, rawBytes: 1, location: '/x' },
    timings: { totalMs: 1000 }, tables: [], problems: ok ? [] : ['table public.orders has 2 rows, the backup recorded 3'], notes: [],
  };
}

/** A healthy sidecar: fresh backups of every tier, a recent passed restore test, a live daemon. */
function healthyFacts(env: Record<string, string> = {}, change: (facts: HealthFacts) => void = () => undefined): HealthFacts {
  const facts: HealthFacts = {
    now: NOW,
    config: loadConfig({ ...SMTP, ...env }),
    backups: [backup('daily', 2), backup('weekly', 30), backup('monthly', 200), backup('yearly', 2000)],
    state: { startedAt: hoursAgo(1000), firstStartedAt: hoursAgo(5000), heartbeat: hoursAgo(0.01), jobs: { daily: { ...ran(2), outcome: 'ok' } } },
    restoreTest: passedTest(48),
    outbox: { count: 0 },
    inDaemon: false,
  };
  change(facts);
  return facts;
}

const check = (facts: HealthFacts, name: string) => {
  const found = assess(facts).find((result) => result.name === name);
  if (!found) throw new Error(`no check named ${name} in ${assess(facts).map((r) => r.name).join(', ')}`);
  return found;
};

describe('health verdicts', () => {
  it('finds a healthy sidecar healthy', () => {
    const results = assess(healthyFacts());
    expect(results.filter((result) => result.status !== 'ok')).toEqual([]);
    expect(worstStatus(results)).toBe('ok');
  });

  type Case = [string, Record<string, string>, (facts: HealthFacts) => unknown, string, string, RegExp];
  it.each<Case>([
    ['a stale daily backup', {}, (f: HealthFacts) => (f.backups[0] = backup('daily', 27)), 'freshness:daily', 'fail', /27h.*limit 26h.*HEALTH_MAX_AGE_DAILY/],
    ['a tiny daily limit', { HEALTH_MAX_AGE_DAILY: '1h' }, () => undefined, 'freshness:daily', 'fail', /2h.*limit 1h/],
    ['no weekly backup on an old install', {}, (f: HealthFacts) => (f.backups = f.backups.filter((b) => b.tier !== 'weekly')), 'freshness:weekly', 'fail', /no weekly backup/],
    ['no monthly backup on an old install where SCHEDULE_MONTHLY was just switched on', {}, (f: HealthFacts) => ((f.backups = f.backups.filter((b) => b.tier !== 'monthly')), (f.state.jobs.monthly = { firstScheduledAt: hoursAgo(2) })), 'freshness:monthly', 'warn', /no monthly backup yet/],
    ['no restore test on an old install where restore tests were just switched on', {}, (f: HealthFacts) => ((f.restoreTest = undefined), (f.state.jobs['restore-test'] = { firstScheduledAt: hoursAgo(2) })), 'restore-test', 'warn', /no restore test yet/],
    ['no weekly backup yet on a new install', {}, (f: HealthFacts) => ((f.backups = []), (f.state.firstStartedAt = hoursAgo(1))), 'freshness:weekly', 'warn', /first is due/],
    ['a failed last daily run', {}, (f: HealthFacts) => (f.state.jobs.daily = { ...ran(1), outcome: 'failed', error: 'pg_dump: connection refused' }), 'last-run:daily', 'fail', /failed: pg_dump: connection refused/],
    ['an interrupted last daily run', {}, (f: HealthFacts) => (f.state.jobs.daily = { ...ran(1), outcome: 'interrupted' }), 'last-run:daily', 'warn', /interrupted/],
    ['a failed run made up for by a newer manual daily backup', {}, (f: HealthFacts) => (f.state.jobs.daily = { ...ran(3), outcome: 'failed', error: 'disk full' }), 'last-run:daily', 'ok', /failed: disk full; the newer daily backup app_daily_2 makes up for it/],
    ['a daily run the daemon died in', {}, (f: HealthFacts) => ((f.state.jobs.daily = { lastStart: hoursAgo(1), lastEnd: hoursAgo(25), outcome: 'ok' }), (f.state.startedAt = hoursAgo(0.5))), 'last-run:daily', 'fail', /daemon stopped during the last daily backup/],
    ['a daily run in progress', {}, (f: HealthFacts) => (f.state.jobs.daily = { lastStart: hoursAgo(0.1), lastEnd: hoursAgo(24), outcome: 'ok' }), 'last-run:daily', 'ok', /is running/],
    ['a failed restore test', {}, (f: HealthFacts) => (f.restoreTest = passedTest(2, false)), 'restore-test', 'fail', /failed: table public.orders has 2 rows/],
    ['an old restore test', {}, (f: HealthFacts) => (f.restoreTest = passedTest(36 * 24)), 'restore-test', 'fail', /36d.*HEALTH_MAX_AGE_RESTORE_TEST/],
    ['no restore test on an old install', {}, (f: HealthFacts) => (f.restoreTest = undefined), 'restore-test', 'fail', /no restore test has run/],
    ['restore tests switched off', { SCHEDULE_RESTORE_TEST: 'off' }, (f: HealthFacts) => (f.restoreTest = undefined), 'restore-test', 'warn', /SCHEDULE_RESTORE_TEST=off/],
    ['a report waiting for two hours', {}, (f: HealthFacts) => (f.outbox = { count: 2, oldestCreatedAt: hoursAgo(2), lastError: 'ECONNREFUSED' }), 'outbox', 'fail', /2 report.*2h.*ECONNREFUSED/],
    ['no SMTP configured', { SMTP_HOST: '', MAIL_TO: '' }, () => undefined, 'outbox', 'warn', /no SMTP server/],
    ['reports dropped unsent from a full outbox', {}, (f: HealthFacts) => (f.outbox = { count: 0, dropped: { count: 12, failures: ['[keepsake] FAILED daily backup of app'] } }), 'outbox', 'warn', /^12 undelivered report\(s\) dropped in the last 7 days .*OUTBOX_MAX_REPORTS, 1 of them failures \(\[keepsake\] FAILED daily backup of app\): mail was not delivered/],
    ['reports dropped without SMTP', { SMTP_HOST: '', MAIL_TO: '' }, (f: HealthFacts) => (f.outbox = { count: 200, dropped: { count: 3, failures: [] } }), 'outbox', 'warn', /no SMTP server .*; 3 undelivered report\(s\) dropped/],
    ['a stale heartbeat', {}, (f: HealthFacts) => (f.state.heartbeat = hoursAgo(0.1)), 'scheduler', 'fail', /6m.*not running/],
    ['a daemon that never ran', {}, (f: HealthFacts) => (f.state = { jobs: {} }), 'scheduler', 'warn', /has not run here/],
    ['a daemon killed a minute ago (its heartbeat still fresh)', {}, (f: HealthFacts) => (f.daemon = { state: 'dead', pid: 7, host: 'backup-1' }), 'scheduler', 'fail', /^the daemon \(pid 7 on backup-1\) ended without stopping \(killed or crashed\): nothing is scheduled/],
    ['a daemon stopped cleanly a minute ago', {}, (f: HealthFacts) => ((f.daemon = { state: 'none' }), (f.state.stoppedAt = hoursAgo(0.005))), 'scheduler', 'fail', /^the daemon stopped 18\.0s ago: nothing is scheduled/],
  ])('names %s', (_what, env, change, name, status, message) => {
    const result = check(healthyFacts(env, change), name);
    expect(result.status).toBe(status);
    expect(result.message).toMatch(message);
  });

  describe('yearly freshness', () => {
    const DAYS = 24;
    const withoutYearly = (f: HealthFacts) => (f.backups = f.backups.filter((b) => b.tier !== 'yearly'));
    it.each<Case>([
      ['a yearly backup 360 days old', {}, (f: HealthFacts) => (f.backups[3] = backup('yearly', 360 * DAYS)), 'freshness:yearly', 'ok', /newest yearly backup app_yearly_8640 is 360d.*old \(limit 370d/],
      ['a stale yearly backup', {}, (f: HealthFacts) => (f.backups[3] = backup('yearly', 371 * DAYS)), 'freshness:yearly', 'fail', /yearly backup is 371d.* old \(limit 370d.*, HEALTH_MAX_AGE_YEARLY\)/],
      ['a tighter HEALTH_MAX_AGE_YEARLY', { HEALTH_MAX_AGE_YEARLY: '30d' }, (f: HealthFacts) => (f.backups[3] = backup('yearly', 31 * DAYS)), 'freshness:yearly', 'fail', /HEALTH_MAX_AGE_YEARLY/],
      // A fresh install may wait up to a year for its first Jan 1st (without BACKUP_CATCH_UP): not a failure.
      ['no yearly backup yet, installed an hour ago', {}, (f: HealthFacts) => (withoutYearly(f), (f.state.firstStartedAt = hoursAgo(1)), (f.state.jobs.yearly = { nextRun: '2027-01-01T05:00:00.000Z' })), 'freshness:yearly', 'warn', /^no yearly backup yet; the first is due 2027-01-01T05:00:00.000Z \(or run `keepsake backup --tier yearly`\)$/],
      ['no yearly backup yet, installed 364 days ago', {}, (f: HealthFacts) => (withoutYearly(f), (f.state.firstStartedAt = hoursAgo(364 * DAYS))), 'freshness:yearly', 'warn', /no yearly backup yet/],
      ['no yearly backup on an install older than the limit', {}, (f: HealthFacts) => (withoutYearly(f), (f.state.firstStartedAt = hoursAgo(371 * DAYS))), 'freshness:yearly', 'fail', /there is no yearly backup; .*keepsake backup --tier yearly/],
      // An install upgraded to a version with the yearly tier: the daemon first ran two years ago, the tier is a day old here.
      ['no yearly backup on an old install whose yearly tier was first scheduled a day ago', {}, (f: HealthFacts) => (withoutYearly(f), (f.state.firstStartedAt = hoursAgo(730 * DAYS)), (f.state.jobs.yearly = { firstScheduledAt: hoursAgo(1 * DAYS), nextRun: '2027-01-01T05:00:00.000Z' })), 'freshness:yearly', 'warn', /^no yearly backup yet; the first is due 2027-01-01T05:00:00.000Z/],
      ['no yearly backup 371 days after the tier was first scheduled', {}, (f: HealthFacts) => (withoutYearly(f), (f.state.firstStartedAt = hoursAgo(730 * DAYS)), (f.state.jobs.yearly = { firstScheduledAt: hoursAgo(371 * DAYS) })), 'freshness:yearly', 'fail', /there is no yearly backup/],
      // The daemon's own first start still counts: a tier recorded before it cannot stretch the grace back.
      ['no yearly backup, tier recorded a year before a new daemon first start', {}, (f: HealthFacts) => (withoutYearly(f), (f.state.firstStartedAt = hoursAgo(1)), (f.state.jobs.yearly = { firstScheduledAt: hoursAgo(400 * DAYS) })), 'freshness:yearly', 'warn', /no yearly backup yet/],
      // A state file from before firstScheduledAt, or one written while the tier was off (null): as before, from the first start.
      ['no yearly backup, no record of when the tier was scheduled', {}, (f: HealthFacts) => (withoutYearly(f), (f.state.firstStartedAt = hoursAgo(730 * DAYS)), (f.state.jobs.yearly = { firstScheduledAt: null })), 'freshness:yearly', 'fail', /there is no yearly backup/],
      // The grace covers a tier with no backup only: a stale backup fails however new the schedule is.
      ['a stale yearly backup, tier first scheduled a day ago', {}, (f: HealthFacts) => ((f.backups[3] = backup('yearly', 371 * DAYS)), (f.state.jobs.yearly = { firstScheduledAt: hoursAgo(1 * DAYS) })), 'freshness:yearly', 'fail', /371d/],
      ['a failed last yearly run', {}, (f: HealthFacts) => (f.state.jobs.yearly = { ...ran(1), outcome: 'failed', error: 'disk full' }), 'last-run:yearly', 'fail', /the last scheduled yearly backup failed: disk full/],
    ])('names %s', (_what, env, change, name, status, message) => {
      const result = check(healthyFacts(env, change), name);
      expect(result.status).toBe(status);
      expect(result.message).toMatch(message);
    });

    it('is not checked when SCHEDULE_YEARLY is off', () => {
      const results = assess(healthyFacts({ SCHEDULE_YEARLY: 'off' }, withoutYearly));
      expect(results.map((r) => r.name).filter((name) => name.endsWith(':yearly'))).toEqual([]);
      expect(worstStatus(results)).toBe('ok');
    });
  });

  it('does not check tiers whose schedule is off', () => {
    const names = assess(healthyFacts({ SCHEDULE_MONTHLY: 'off' }, (f) => (f.backups = f.backups.filter((b) => b.tier !== 'monthly')))).map((r) => r.name);
    expect(names).not.toContain('freshness:monthly');
    expect(names).toContain('freshness:daily');
  });

  it('inside the daemon, its own heartbeat is proof enough', () => {
    expect(check(healthyFacts({}, (f) => ((f.inDaemon = true), (f.state = { jobs: {} }))), 'scheduler').status).toBe('ok');
  });

  describe('backup size', () => {
    const history = (newest: number, earlier: number[]) => (f: HealthFacts) =>
      (f.backups = [backup('daily', 1, newest), ...earlier.map((bytes, index) => backup('daily', 25 + 24 * index, bytes)), backup('weekly', 30), backup('monthly', 200), backup('yearly', 2000)]);

    it.each([
      ['half the median or more', 500, [1000, 900, 1100], 'ok'],
      ['below half the median', 499, [1000, 900, 1100], 'fail'],
      ['small, but with too little history to judge', 10, [1000, 1000], 'ok'],
    ])('%s', (_what, newest, earlier, status) => {
      expect(check(healthyFacts({}, history(newest, earlier)), 'size:daily').status).toBe(status);
    });

    it('says how small against what', () => {
      expect(check(healthyFacts({}, history(100, [1000, 1000, 1000])), 'size:daily').message).toMatch(/10% of the recent median.*HEALTH_MIN_SIZE_RATIO 0.5/);
    });

    it('follows HEALTH_MIN_SIZE_RATIO, and 0 turns the comparison off', () => {
      expect(check(healthyFacts({ HEALTH_MIN_SIZE_RATIO: '0.05' }, history(100, [1000, 1000, 1000])), 'size:daily').status).toBe('ok');
      expect(check(healthyFacts({ HEALTH_MIN_SIZE_RATIO: '0' }, history(1, [1000, 1000, 1000])), 'size:daily').status).toBe('ok');
    });

    it('fails below HEALTH_MIN_BACKUP_SIZE whatever the history', () => {
      const result = check(healthyFacts({ HEALTH_MIN_BACKUP_SIZE: '1KiB' }, history(1000, [])), 'size:daily');
      expect(result.status).toBe('fail');
      expect(result.message).toMatch(/below HEALTH_MIN_BACKUP_SIZE/);
    });
  });
});
