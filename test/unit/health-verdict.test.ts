import { loadConfig } from '../../src/config';
import type { HealthMemory } from '../../src/health/alerts';
import { healthVerdictMaxAgeMs, judgeLastRun } from '../../src/health/quick';
import type { HealthStatus } from '../../src/health/report';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const run = (status: HealthStatus, minutesAgo: number): HealthMemory => ({
  format: 1, status, checkedAt: new Date(NOW - minutesAgo * 60_000).toISOString(), durationMs: 5,
  checks: [{ name: 'storage:s3', status, message: status === 'fail' ? 'connection refused' : 'fine' }],
});

describe('the last health run as --quick and /healthz judge it', () => {
  it('allows two slots of SCHEDULE_HEALTH plus five minutes', () => {
    expect(healthVerdictMaxAgeMs(loadConfig({}))).toBe(2 * 3_600_000 + 5 * 60_000);
    expect(healthVerdictMaxAgeMs(loadConfig({ SCHEDULE_HEALTH: '*/10 * * * *' }))).toBe(25 * 60_000);
    expect(healthVerdictMaxAgeMs(loadConfig({ SCHEDULE_HEALTH: 'off' }))).toBeUndefined();
  });

  it.each([
    ['a recent ok run', run('ok', 30), {}, true, /was ok$/],
    ['a recent run with warnings', run('warn', 30), {}, true, /ok with warnings/],
    ['a recent failing run, naming the check', run('fail', 30), {}, false, /failed: storage:s3: connection refused/],
    ['an ok run that is too old: jobs are stuck', run('ok', 126), {}, false, /ran 2h06m ago .*not running its jobs/],
    ['an old run when health checks are off', run('ok', 10_000), { SCHEDULE_HEALTH: 'off' }, true, /was ok/],
    ['no run yet', undefined, {}, true, /no full health check has run yet/],
  ])('%s', (_what, last, env, healthy, message) => {
    const verdict = judgeLastRun(last, loadConfig(env), NOW);
    expect(verdict.healthy).toBe(healthy);
    expect(verdict.message).toMatch(message);
  });
});
