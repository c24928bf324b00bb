import { loadConfig, type Config } from '../../src/config';
import { problemsOf } from '../support/config-problems';

const DAY = 86_400_000;


const named = (config: Config, name: string) => config.targets.find((target) => target.name === name)!;

describe('the yearly tier', () => {
  it('is on by default: Jan 1st 05:00, the 5 newest kept, no age rule, stale after 370 days', () => {
    const config = loadConfig({});
    expect(config.schedule.jobs.yearly).toBe('0 5 1 1 *');
    expect(config.retention.keep.yearly).toBe(5);
    expect(config.retention.maxAgeMs.yearly).toBeUndefined();
    expect(config.health.maxAgeMs.yearly).toBe(370 * DAY);
  });

  it('reads its schedule, counts and ages, "off" like every SCHEDULE_*', () => {
    const config = loadConfig({ SCHEDULE_YEARLY: 'OFF', BACKUP_KEEP_YEARLY: '10', BACKUP_MAX_AGE_YEARLY: '7y', HEALTH_MAX_AGE_YEARLY: '400d' });
    expect(config.schedule.jobs.yearly).toBe('off');
    expect(config.retention.keep.yearly).toBe(10);
    expect(config.retention.maxAgeMs.yearly).toBe(7 * 365 * DAY);
    expect(config.health.maxAgeMs.yearly).toBe(400 * DAY);
    expect(loadConfig({ SCHEDULE_YEARLY: '0 3 15 6 *' }).schedule.jobs.yearly).toBe('0 3 15 6 *');
  });

  it('gives each target its own yearly rules, the shared ones otherwise', () => {
    const config = loadConfig({
      BACKUP_KEEP_YEARLY: '3',
      BACKUP_MAX_AGE_YEARLY: '2y',
      OFFSITE_TARGETS: 'vault',
      TARGET_VAULT_KIND: 'local',
      TARGET_VAULT_DIR: '/vault',
      TARGET_VAULT_KEEP_YEARLY: '10',
      TARGET_VAULT_MAX_AGE_YEARLY: '10y',
    });
    expect(named(config, 'vault').retention.keep).toEqual({ ...config.retention.keep, yearly: 10 });
    expect(named(config, 'vault').retention.maxAgeMs.yearly).toBe(10 * 365 * DAY);
    expect(named(config, 'local').retention.keep.yearly).toBe(3);
    expect(named(config, 'local').retention.maxAgeMs.yearly).toBe(2 * 365 * DAY);
  });

  it('may be dumped schema-only', () => {
    expect(loadConfig({ BACKUP_SCHEMA_ONLY_TIERS: 'yearly,daily' }).dumpContents.schemaOnlyTiers).toEqual(['yearly', 'daily']);
  });

  it('says which yearly variable is wrong and what it expects, all at once', () => {
    expect(
      problemsOf({
        SCHEDULE_YEARLY: '0 5 1 1',
        BACKUP_KEEP_YEARLY: '0',
        BACKUP_MAX_AGE_YEARLY: 'forever',
        HEALTH_MAX_AGE_YEARLY: 'a year',
        OFFSITE_TARGETS: 'vault',
        TARGET_VAULT_KIND: 'local',
        TARGET_VAULT_DIR: '/vault',
        TARGET_VAULT_KEEP_YEARLY: 'many',
      }),
    ).toEqual([
      expect.stringMatching(/^SCHEDULE_YEARLY="0 5 1 1": expected a cron expression of 5 fields/),
      'BACKUP_KEEP_YEARLY="0": expected a whole number from 1 to 100000',
      expect.stringMatching(/^BACKUP_MAX_AGE_YEARLY="forever": expected an age like 30d/),
      expect.stringMatching(/^HEALTH_MAX_AGE_YEARLY="a year": expected a duration/),
      expect.stringMatching(/^TARGET_VAULT_KEEP_YEARLY="many": expected a whole number from 1 to 100000/),
    ]);
  });
});
