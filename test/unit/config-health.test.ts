import { loadConfig, redactedConfig } from '../../src/config';
import { problemsOf } from '../support/config-problems';

const H = 3_600_000;
const D = 24 * H;


describe('health configuration', () => {
  it('has the documented defaults, with the HTTP server off', () => {
    expect(loadConfig({}).health).toEqual({
      maxAgeMs: { daily: 26 * H, weekly: 8 * D, monthly: 32 * D, yearly: 370 * D },
      restoreTestMaxAgeMs: 35 * D,
      offsiteMaxAgeMs: 8 * D,
      minSizeRatio: 0.5,
      minBackupBytes: undefined,
      minFreeDisk: { percent: 10 },
      maxLogBytes: 1024 ** 3,
      alertRepeatMs: 24 * H,
      pingUrl: undefined,
      http: undefined,
    });
  });

  it.each([
    [{ HEALTH_MAX_AGE_DAILY: '90m' }, (c: ReturnType<typeof loadConfig>) => c.health.maxAgeMs.daily, 90 * 60_000],
    [{ HEALTH_MAX_AGE_WEEKLY: '1s' }, (c: ReturnType<typeof loadConfig>) => c.health.maxAgeMs.weekly, 1000],
    [{ HEALTH_MIN_FREE_DISK: '5GiB' }, (c: ReturnType<typeof loadConfig>) => c.health.minFreeDisk, { bytes: 5 * 1024 ** 3 }],
    [{ HEALTH_MIN_FREE_DISK: '2.5%' }, (c: ReturnType<typeof loadConfig>) => c.health.minFreeDisk, { percent: 2.5 }],
    [{ HEALTH_MIN_BACKUP_SIZE: '1MiB' }, (c: ReturnType<typeof loadConfig>) => c.health.minBackupBytes, 1024 ** 2],
    [{ HEALTHCHECK_PORT: '9187' }, (c: ReturnType<typeof loadConfig>) => c.health.http, { port: 9187, host: '127.0.0.1' }],
    [{ HEALTHCHECK_PORT: '9187', HEALTHCHECK_HOST: '0.0.0.0' }, (c: ReturnType<typeof loadConfig>) => c.health.http, { port: 9187, host: '0.0.0.0' }],
    [{ HEALTHCHECK_PORT: 'off' }, (c: ReturnType<typeof loadConfig>) => c.health.http, undefined],
  ])('reads %j', (env, pick, expected) => {
    expect(pick(loadConfig(env))).toEqual(expected);
  });

  it.each([
    [{ HEALTH_MAX_AGE_DAILY: '26' }, /HEALTH_MAX_AGE_DAILY="26": expected a duration like 90m, 26h/],
    [{ HEALTH_MIN_SIZE_RATIO: '1.5' }, /HEALTH_MIN_SIZE_RATIO="1.5": expected a ratio from 0 to 1/],
    [{ HEALTH_MIN_FREE_DISK: '120%' }, /HEALTH_MIN_FREE_DISK="120%": a percentage/],
    [{ HEALTH_MIN_FREE_DISK: 'lots' }, /HEALTH_MIN_FREE_DISK="lots": expected a percentage like 10% or a size/],
    [{ HEALTHCHECK_PORT: '70000' }, /HEALTHCHECK_PORT="70000": expected a TCP port/],
    [{ HEALTHCHECK_PING_URL: 'hc-ping.com/abc' }, /HEALTHCHECK_PING_URL=\*\*\*: expected a URL/],
  ])('rejects %j with a message that says what to write', (env, message) => {
    expect(problemsOf(env).join('\n')).toMatch(message);
  });

  it('treats the ping URL as a secret: `keepsake config` shows only its origin', () => {
    const shown = JSON.stringify(redactedConfig(loadConfig({ HEALTHCHECK_PING_URL: 'https://hc-ping.com/5f1c9a7e-secret-token' })));
    expect(shown).toContain('https://hc-ping.com/***');
    expect(shown).not.toContain('secret-token');
  });
});
