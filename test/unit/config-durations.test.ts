import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

/** Node's setTimeout and AbortSignal.timeout fire at once for any delay above this (2^31 - 1 ms). */
const LONGEST_NODE_TIMER_MS = 2 ** 31 - 1;
const DAY = 86_400_000;

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return [];
}

describe('durations that become timers (SHUTDOWN_GRACE, RESTORE_TEST_TIMEOUT)', () => {
  it.each([['SHUTDOWN_GRACE'], ['RESTORE_TEST_TIMEOUT']])('%s over 24 days is refused, naming the limit and what to set', (name) => {
    expect(problems({ [name]: '30d' })).toEqual([`${name}="30d": at most 24d (the longest wait a timer can hold); set 24d or less`]);
    expect(problems({ [name]: '600h' })).toEqual([expect.stringMatching(new RegExp(`^${name}="600h": at most 24d`))]);
  });

  it('accepts 24d, which a timer holds without overflowing', () => {
    const config = loadConfig({ SHUTDOWN_GRACE: '24d', RESTORE_TEST_TIMEOUT: '24d' });
    expect(config.schedule.shutdownGraceMs).toBe(24 * DAY);
    expect(config.restore.testTimeoutMs).toBe(24 * DAY);
    expect(24 * DAY).toBeLessThanOrEqual(LONGEST_NODE_TIMER_MS);
  });

  it('refuses a RESTORE_TEST_TIMEOUT of 0, which would fail every restore test at once', () => {
    expect(problems({ RESTORE_TEST_TIMEOUT: '0s' })).toEqual(['RESTORE_TEST_TIMEOUT="0s": must be longer than 0, like 6h']);
  });

  it('keeps SHUTDOWN_GRACE=0s: abort the running job at once on SIGTERM', () => {
    expect(loadConfig({ SHUTDOWN_GRACE: '0s' }).schedule.shutdownGraceMs).toBe(0);
  });
});

describe('durations that are only compared with an age (no timer, no limit)', () => {
  it.each([
    ['HEALTH_MAX_AGE_DAILY', '40d', (c: ReturnType<typeof loadConfig>) => c.health.maxAgeMs.daily],
    ['HEALTH_MAX_AGE_WEEKLY', '40d', (c: ReturnType<typeof loadConfig>) => c.health.maxAgeMs.weekly],
    ['HEALTH_MAX_AGE_MONTHLY', '40d', (c: ReturnType<typeof loadConfig>) => c.health.maxAgeMs.monthly],
    ['HEALTH_MAX_AGE_RESTORE_TEST', '100d', (c: ReturnType<typeof loadConfig>) => c.health.restoreTestMaxAgeMs],
    ['HEALTH_MAX_AGE_OFFSITE', '40d', (c: ReturnType<typeof loadConfig>) => c.health.offsiteMaxAgeMs],
    ['HEALTH_ALERT_REPEAT', '30d', (c: ReturnType<typeof loadConfig>) => c.health.alertRepeatMs],
    ['CLEANUP_INCOMPLETE_AFTER', '30d', (c: ReturnType<typeof loadConfig>) => c.retention.incompleteAfterMs],
  ])('%s=%s is accepted as it is', (name, text, pick) => {
    expect(pick(loadConfig({ [name]: text }))).toBe(Number.parseInt(text, 10) * DAY);
  });
});
