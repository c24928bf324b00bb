import { backupId, type Tier } from '../../src/backup/keys';
import { loadConfig, type Config } from '../../src/config';
import { planBackups, planRetention, type BackupDecision, type BackupFacts } from '../../src/retention/plan';
import { planBackupsPerTarget, type HeldBackup } from '../../src/retention/plan-targets';
import { failedBackupTiers } from '../../src/state/daemon-state';

/**
 * The yearly tier under the retention planner, with the policy read from the environment as the
 * daemon reads it: six years of Jan 1st backups (2021..2026) among the monthly and daily ones.
 */
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-30T12:00:00Z');
const YEARS = [2021, 2022, 2023, 2024, 2025, 2026];

const made = (tier: Tier, at: number, extra: Partial<BackupFacts> = {}): BackupFacts => ({ id: backupId('app', new Date(at)), tier, database: 'app', startedAt: new Date(at).toISOString(), ...extra });
/** Jan 1st 05:00 UTC of each year, as SCHEDULE_YEARLY's default fires. */
const yearly = (flags: Record<number, Partial<BackupFacts>> = {}) => YEARS.map((year) => made('yearly', Date.UTC(year, 0, 1, 5), flags[year]));
/** The 1st of every month at 04:00 from 2024-11 to 2026-11, and the last 20 days' dailies. */
const around = () => [
  ...Array.from({ length: 25 }, (_, i) => made('monthly', Date.UTC(2024, 10 + i, 1, 4))),
  ...Array.from({ length: 20 }, (_, i) => made('daily', Date.UTC(2026, 10, 30, 2) - i * DAY)),
];

const policyOf = (config: Config) => ({ ...config.retention });
const yearsKept = (decisions: Pick<BackupDecision, 'tier' | 'action' | 'startedAt'>[]) =>
  decisions.filter((d) => d.tier === 'yearly' && d.action === 'keep').map((d) => Number(d.startedAt.slice(0, 4))).sort();
const rulesOf = (decisions: BackupDecision[]) => Object.fromEntries(decisions.filter((d) => d.tier === 'yearly').map((d) => [d.startedAt.slice(0, 4), `${d.action}:${d.rule}`]));

describe('retention of yearly backups', () => {
  type Case = [string, Record<string, string>, BackupFacts[], number[], Record<string, string>];
  it.each<Case>([
    ['BACKUP_KEEP_YEARLY defaults to the 5 newest', {}, yearly(), [2022, 2023, 2024, 2025, 2026], { 2021: 'delete:outside', 2022: 'keep:count' }],
    ['BACKUP_KEEP_YEARLY=2 keeps the 2 newest', { BACKUP_KEEP_YEARLY: '2' }, yearly(), [2025, 2026], { 2024: 'delete:outside' }],
    // 3y is 1095 days: 2024-01-01 is 1064 days old on 2026-11-30, 2023-01-01 is 1429.
    ['BACKUP_MAX_AGE_YEARLY keeps the younger ones beyond the count', { BACKUP_KEEP_YEARLY: '2', BACKUP_MAX_AGE_YEARLY: '3y' }, yearly(), [2024, 2025, 2026], { 2024: 'keep:age', 2023: 'delete:outside' }],
    ['a long BACKUP_MAX_AGE_YEARLY keeps them all', { BACKUP_KEEP_YEARLY: '1', BACKUP_MAX_AGE_YEARLY: '10y' }, yearly(), YEARS, { 2021: 'keep:age' }],
    [
      'the newest yearly whose restore test did not fail stays, however few are kept',
      { BACKUP_KEEP_YEARLY: '1' },
      yearly({ 2026: { failedRestoreTest: true }, 2025: { failedRestoreTest: true } }),
      [2024, 2026],
      { 2026: 'keep:count', 2025: 'delete:outside', 2024: 'keep:newest-good', 2023: 'delete:outside' },
    ],
    [
      'the newest yearly that passed a restore test stays too',
      { BACKUP_KEEP_YEARLY: '1' },
      yearly({ 2023: { passedRestoreTest: true } }),
      [2023, 2026],
      { 2023: 'keep:newest-proven', 2025: 'delete:outside' },
    ],
  ])('%s', (_what, env, yearlies, kept, rules) => {
    const backups = [...yearlies, ...around()];
    const decisions = planBackups({ backups, policy: policyOf(loadConfig(env)), now: NOW });
    expect(yearsKept(decisions)).toEqual(kept);
    expect(rulesOf(decisions)).toMatchObject(rules);
    // The yearly rules touch the yearly tier only: monthly and daily keep their own counts.
    expect(decisions.filter((d) => d.tier === 'monthly' && d.action === 'keep')).toHaveLength(12);
    expect(decisions.filter((d) => d.tier === 'daily' && d.action === 'keep')).toHaveLength(7);
  });

  it('keeps the newest complete yearly when the newer 2026 one is only an incomplete copy', () => {
    const incomplete = { target: 'local', key: 'yearly/2026/app_20260101_050000.manifest.json', dataKey: 'yearly/2026/app_20260101_050000.dump.zst', kind: 'incomplete' as const, modified: Date.UTC(2026, 0, 1, 5, 20), size: 10, backup: 'yearly/app_20260101_050000', problem: 'data object cut short' };
    const plan = planRetention({ backups: [...yearly().slice(0, 5), ...around()], leftovers: [incomplete], policy: policyOf(loadConfig({ BACKUP_KEEP_YEARLY: '1' })), now: NOW });
    expect(yearsKept(plan.backups)).toEqual([2025]);
    expect(plan.leftovers.map((l) => [l.key, l.action])).toEqual([[incomplete.key, 'delete']]);
  });

  it('deletes no yearly backup while the last scheduled yearly run failed', () => {
    const failedTiers = failedBackupTiers({ jobs: { yearly: { lastStart: '2026-01-01T05:00:00.000Z', lastEnd: '2026-01-01T05:20:00.000Z', outcome: 'failed', error: 'disk full' } } });
    expect([...failedTiers]).toEqual(['yearly']);
    const decisions = planBackups({ backups: [...yearly().slice(0, 5), ...around()], policy: policyOf(loadConfig({ BACKUP_KEEP_YEARLY: '1' })), now: NOW, failedTiers });
    expect(yearsKept(decisions)).toEqual([2021, 2022, 2023, 2024, 2025]);
    expect(rulesOf(decisions)).toMatchObject({ 2025: 'keep:count', 2024: 'keep:tier-failed', 2021: 'keep:tier-failed' });
  });

  it('plans each target with its own TARGET_<NAME>_KEEP_YEARLY / _MAX_AGE_YEARLY', () => {
    const config = loadConfig({
      BACKUP_KEEP_YEARLY: '2',
      OFFSITE_TARGETS: 'vault,archive',
      TARGET_VAULT_KIND: 'local',
      TARGET_VAULT_DIR: '/vault',
      TARGET_VAULT_KEEP_YEARLY: '10',
      TARGET_ARCHIVE_KIND: 'local',
      TARGET_ARCHIVE_DIR: '/archive',
      TARGET_ARCHIVE_KEEP_YEARLY: '1',
      TARGET_ARCHIVE_MAX_AGE_YEARLY: '2y',
    });
    const held: HeldBackup[] = [...yearly(), ...around()].map((backup) => ({ ...backup, targets: ['local', 'vault', 'archive'] }));
    const rules = config.targets.map((target) => ({ name: target.name, policy: target.retention }));
    const decisions = planBackupsPerTarget(held, rules, { now: NOW });
    const keptOn = (target: string) => yearsKept(decisions.filter((d) => d.targets.includes(target)));
    expect(keptOn('local')).toEqual([2025, 2026]);
    expect(keptOn('vault')).toEqual(YEARS);
    // 2y is 730 days: 2025-01-01 (698 days old) is young enough, 2024-01-01 is not.
    expect(keptOn('archive')).toEqual([2025, 2026]);
    expect(decisions.find((d) => d.tier === 'yearly' && d.targets.includes('archive') && d.startedAt.startsWith('2025'))!.rule).toBe('age');
  });
});
