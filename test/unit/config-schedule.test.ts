import { loadConfig } from '../../src/config';
import { parseAge } from '../../src/config/parse';

describe('schedule and retention configuration', () => {
  it('has the documented defaults', () => {
    const { schedule, retention } = loadConfig({});
    expect(schedule).toEqual({
      jobs: { daily: '0 2 * * *', weekly: '0 3 * * 0', monthly: '0 4 1 * *', yearly: '0 5 1 1 *', health: '0 * * * *', cleanup: '30 5 * * 0', 'restore-test': '0 6 1 * *', 'storage-report': '0 7 * * 1', logrotate: '0 4 * * *', offsite: '0 4 * * 0', 'base-backup': '0 1 * * 0' },
      timeZone: 'UTC',
      catchUp: true,
      backupOnStart: false,
      shutdownGraceMs: 300_000,
    });
    expect(retention.keep).toEqual({ daily: 7, weekly: 4, monthly: 12, yearly: 5, manual: 10, 'pre-restore': 3, base: 2 });
  });

  it('accepts 6-field expressions with seconds and "off"', () => {
    const { schedule } = loadConfig({ SCHEDULE_DAILY: '*/5 * * * * *', SCHEDULE_HEALTH: 'OFF' });
    expect(schedule.jobs.daily).toBe('*/5 * * * * *');
    expect(schedule.jobs.health).toBe('off');
  });

  it('reports every bad schedule, time zone and age by its variable, all at once', () => {
    expect(() => loadConfig({ SCHEDULE_DAILY: '0 2 * *', SCHEDULE_WEEKLY: '99 3 * * 0', TZ: 'Mars/Olympus', BACKUP_MAX_AGE_DAILY: '30 days' })).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^TZ="Mars\/Olympus": expected an IANA time zone/),
          expect.stringMatching(/^SCHEDULE_DAILY="0 2 \* \*": expected a cron expression of 5 fields/),
          expect.stringMatching(/^SCHEDULE_WEEKLY="99 3 \* \* 0": not a valid cron expression/),
          expect.stringMatching(/^BACKUP_MAX_AGE_DAILY="30 days": expected an age like 30d/),
        ],
      }),
    );
  });

  it.each([
    ['30d', 30 * 86_400_000],
    ['12w', 12 * 604_800_000],
    ['12m', 12 * 30 * 86_400_000],
    ['1y', 365 * 86_400_000],
  ])('reads the retention age %j', (text, ms) => {
    expect(parseAge(text)).toBe(ms);
  });
});
