import type { Tier } from '../../src/backup/keys';
import { backupId } from '../../src/backup/keys';
import { formatAge, planBackups, type BackupDecision, type BackupFacts, type RetentionPolicy } from '../../src/retention/plan';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** Europe/Berlin's UTC offset in hours: CEST (+2) from the last Sunday of March 01:00Z to the last Sunday of October 01:00Z. */
function berlinOffset(instant: number): number {
  const year = new Date(instant).getUTCFullYear();
  const lastSunday = (month: number) => {
    const end = new Date(Date.UTC(year, month + 1, 0, 1));
    return end.getTime() - end.getUTCDay() * DAY;
  };
  return instant >= lastSunday(2) && instant < lastSunday(9) ? 2 : 1;
}

/** Every instant at which Berlin's clocks show this wall time: none in the spring gap, two in the autumn overlap. */
function berlinInstants(year: number, month: number, day: number, hour: number, minute = 0): number[] {
  return [2, 1].map((offset) => Date.UTC(year, month, day, hour, minute) - offset * HOUR).filter((instant, i) => berlinOffset(instant) === [2, 1][i]);
}

interface HistoryOptions {
  tier: Tier;
  database?: string;
  /** 400 days from 2025-03-01: three DST changes (2025-03-30, 2025-10-26, 2026-03-29). */
  days?: number;
  /** Berlin wall time of the schedule, and which days it fires on. */
  at: [number, number];
  on?: (date: Date) => boolean;
  /** Days (counted from the start) on which the run failed: no listed backup. */
  failed?: (dayIndex: number) => boolean;
}

const START = Date.UTC(2025, 2, 1);

/** A scheduled history as the catalog would list it: one backup per instant the schedule fired and succeeded. */
function history({ tier, database = 'app', days = 400, at, on = () => true, failed = () => false }: HistoryOptions): BackupFacts[] {
  const backups: BackupFacts[] = [];
  for (let index = 0; index < days; index++) {
    const date = new Date(START + index * DAY);
    if (!on(date) || failed(index)) continue;
    for (const instant of berlinInstants(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), at[0], at[1])) {
      backups.push({ id: backupId(database, new Date(instant)), tier, database, startedAt: iso(instant) });
    }
  }
  return backups;
}

const END = START + 400 * DAY;
const NOW = END + 6 * HOUR;
const DEFAULT_KEEP = { daily: 7, weekly: 4, monthly: 12, yearly: 5, manual: 10, 'pre-restore': 3, base: 2 };
const policy = (keep: Partial<RetentionPolicy['keep']> = {}, maxAgeMs: RetentionPolicy['maxAgeMs'] = {}): RetentionPolicy => ({
  keep: { ...DEFAULT_KEEP, ...keep },
  maxAgeMs,
  restoreTestKeepMs: 90 * DAY,
  incompleteAfterMs: DAY,
});

// Gaps: an 11-day outage in summer, every 37th run failed, and the spring-forward days have no 02:30.
const gappy = (index: number) => (index >= 150 && index < 161) || index % 37 === 36;
const daily = (options: Partial<HistoryOptions> = {}) => history({ tier: 'daily', at: [2, 30], failed: gappy, ...options });
const weekly = (options: Partial<HistoryOptions> = {}) => history({ tier: 'weekly', at: [3, 0], on: (d) => d.getUTCDay() === 0, failed: gappy, ...options });
const monthly = (options: Partial<HistoryOptions> = {}) => history({ tier: 'monthly', at: [4, 0], on: (d) => d.getUTCDate() === 1, ...options });
const GFS = [...daily(), ...weekly(), ...monthly()];

/** The kept set computed the plain way: per database+tier, the N newest by instant, plus the young ones. */
function expectedKept(backups: BackupFacts[], p: RetentionPolicy, now: number): Set<string> {
  const kept = new Set<string>();
  const groups = new Map<string, BackupFacts[]>();
  for (const b of backups) groups.set(`${b.database}/${b.tier}`, [...(groups.get(`${b.database}/${b.tier}`) ?? []), b]);
  for (const group of groups.values()) {
    const byTime = [...group].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
    byTime.forEach((b, i) => {
      const maxAge = p.maxAgeMs[b.tier];
      if (i < Math.max(1, p.keep[b.tier]) || (maxAge !== undefined && now - Date.parse(b.startedAt) < maxAge)) kept.add(`${b.tier}/${b.id}`);
    });
  }
  return kept;
}

/** What must hold for every plan, whatever the policy. */
function expectSafe(backups: BackupFacts[], decisions: BackupDecision[]): void {
  expect(decisions).toHaveLength(backups.length);
  expect(new Set(decisions.map((d) => `${d.tier}/${d.id}`)).size).toBe(backups.length);
  const groups = new Set(backups.map((b) => `${b.database}/${b.tier}`));
  for (const group of groups) {
    const members = decisions.filter((d) => `${d.database}/${d.tier}` === group);
    const newest = members.reduce((a, b) => (Date.parse(a.startedAt) >= Date.parse(b.startedAt) ? a : b));
    expect(newest.action).toBe('keep');
    expect(members.some((d) => d.action === 'keep')).toBe(true);
  }
  for (const d of decisions) expect(d.action === 'delete').toBe(d.rule === 'outside');
}

const keptIds = (decisions: BackupDecision[]) => new Set(decisions.filter((d) => d.action === 'keep').map((d) => `${d.tier}/${d.id}`));
const count = (decisions: BackupDecision[], tier: Tier, action: 'keep' | 'delete', database = 'app') =>
  decisions.filter((d) => d.tier === tier && d.action === action && d.database === database).length;

describe('synthetic history', () => {
  it('spans 400 days with gaps and all three DST changes (a skipped 02:30 in spring, a doubled one in autumn)', () => {
    const days = daily().map((b) => b.startedAt.slice(0, 10));
    expect(days).not.toContain('2025-03-30');
    expect(days).not.toContain('2026-03-29');
    expect(days.filter((d) => d === '2025-10-26')).toHaveLength(2);
    expect(daily().filter((b) => b.startedAt.startsWith('2025-10-26')).map((b) => b.startedAt)).toEqual(['2025-10-26T00:30:00.000Z', '2025-10-26T01:30:00.000Z']);
    expect(daily().find((b) => b.startedAt.startsWith('2025-07-01'))!.startedAt).toBe('2025-07-01T00:30:00.000Z');
    expect(daily().find((b) => b.startedAt.startsWith('2025-12-01'))!.startedAt).toBe('2025-12-01T01:30:00.000Z');
    expect(GFS.length).toBeGreaterThan(400);
  });
});

describe('planBackups over long histories', () => {
  const DUAL = [...daily(), ...daily({ database: 'billing', days: 250 }), ...weekly({ database: 'billing', days: 250 })];
  const TAIL_OUTAGE = daily({ failed: (i) => gappy(i) || i >= 380 }); // nothing in the last 20 days
  const FALL_BACK = daily({ days: 241 }); // ends 2025-10-27, the day after the doubled 02:30
  const cases: [string, BackupFacts[], RetentionPolicy, number, Partial<Record<Tier, number>>][] = [
    ['count only, default GFS', GFS, policy(), NOW, { daily: 7, weekly: 4, monthly: 12 }],
    // Under 30 days old: 2026-03-07..04-04, 29 days less the spring-forward day without a 02:30.
    // Under 12 weeks old: the 11 Sundays 2026-01-18..03-29 (01-11 03:00 is 84d 4h old).
    ['count plus age: 30 days of dailies outlive the count of 7', GFS, policy({}, { daily: 30 * DAY, weekly: 12 * 7 * DAY }), NOW, { daily: 28, weekly: 11, monthly: 12 }],
    ['age shorter than an outage: the count still keeps the 7 newest', TAIL_OUTAGE, policy({}, { daily: 14 * DAY }), NOW, { daily: 7 }],
    ['age only (count 1): the young ones and never fewer than one', GFS, policy({ daily: 1, weekly: 1, monthly: 1 }, { monthly: 365 * DAY }), NOW, { daily: 1, weekly: 1, monthly: 12 }],
    ['tiny keep=1 per tier', GFS, policy({ daily: 1, weekly: 1, monthly: 1 }), NOW, { daily: 1, weekly: 1, monthly: 1 }],
    ['keep more than exist: nothing deleted', GFS, policy({ daily: 1000, weekly: 1000, monthly: 1000 }), NOW, { daily: daily().length, weekly: weekly().length, monthly: monthly().length }],
    ['a doubled 02:30 at the autumn change counts as two backups', FALL_BACK, policy({ daily: 3 }), Date.parse('2025-10-27T12:00:00Z'), { daily: 3 }],
  ];

  it.each(cases)('%s', (_name, backups, p, now, keptPerTier) => {
    const decisions = planBackups({ backups, policy: p, now });
    expectSafe(backups, decisions);
    expect(keptIds(decisions)).toEqual(expectedKept(backups, p, now));
    for (const [tier, n] of Object.entries(keptPerTier) as [Tier, number][]) expect(count(decisions, tier, 'keep')).toBe(n);
  });

  it('keeps per database: an old database keeps its 7 newest although another has newer ones', () => {
    const decisions = planBackups({ backups: DUAL, policy: policy(), now: NOW });
    expectSafe(DUAL, decisions);
    expect([count(decisions, 'daily', 'keep'), count(decisions, 'daily', 'keep', 'billing'), count(decisions, 'weekly', 'keep', 'billing')]).toEqual([7, 7, 4]);
    const billingNewest = decisions.filter((d) => d.database === 'billing' && d.tier === 'daily')[0]!;
    expect(NOW - Date.parse(billingNewest.startedAt)).toBeGreaterThan(100 * DAY);
  });

  it('keeps the instant that is newest at the autumn change, whatever the wall clock said', () => {
    const decisions = planBackups({ backups: FALL_BACK, policy: policy({ daily: 1 }), now: Date.parse('2025-10-27T12:00:00Z') });
    expect(decisions.filter((d) => d.action === 'keep').map((d) => d.startedAt)).toEqual(['2025-10-27T01:30:00.000Z']);
    const two = planBackups({ backups: FALL_BACK, policy: policy({ daily: 2 }), now: Date.parse('2025-10-27T12:00:00Z') });
    expect(two.filter((d) => d.action === 'keep').map((d) => d.startedAt)).toEqual(['2025-10-27T01:30:00.000Z', '2025-10-26T01:30:00.000Z']);
  });
});

describe('planBackups orders by the manifest instant, not by names or strings', () => {
  const make = (id: string, startedAt: string): BackupFacts => ({ id, tier: 'daily', database: 'app', startedAt });

  it('follows startedAt when the names say the opposite (a host clock that was wrong when it named them)', () => {
    const backups = [make('app_20990101_000000', '2026-01-01T02:00:00Z'), make('app_20000101_000000', '2026-01-02T02:00:00Z')];
    const decisions = planBackups({ backups, policy: policy({ daily: 1 }), now: Date.parse('2026-02-01T00:00:00Z') });
    expect(decisions.map((d) => [d.id, d.action])).toEqual([['app_20000101_000000', 'keep'], ['app_20990101_000000', 'delete']]);
  });

  it('compares instants when manifests carry offsets: 02:10+01:00 is after 02:30+02:00 on the night clocks go back', () => {
    const backups = [make('app_a', '2026-10-25T02:30:00+02:00'), make('app_b', '2026-10-25T02:10:00+01:00')];
    const decisions = planBackups({ backups, policy: policy({ daily: 1 }), now: Date.parse('2026-11-01T00:00:00Z') });
    expect(decisions.map((d) => [d.id, d.action])).toEqual([['app_b', 'keep'], ['app_a', 'delete']]);
  });

  it('keeps a backup whose start time cannot be read, and orders the rest without it', () => {
    const backups = [make('app_x', 'yesterday'), make('app_1', '2026-01-01T00:00:00Z'), make('app_2', '2026-01-02T00:00:00Z')];
    const decisions = planBackups({ backups, policy: policy({ daily: 1 }), now: Date.parse('2026-02-01T00:00:00Z') });
    expect(decisions.map((d) => [d.id, d.action, d.rule])).toEqual([['app_x', 'keep', 'unknown-time'], ['app_2', 'keep', 'count'], ['app_1', 'delete', 'outside']]);
  });
});

describe('reasons name the rule', () => {
  const backups = Array.from({ length: 10 }, (_, i) => ({ id: `app_${i}`, tier: 'daily' as const, database: 'app', startedAt: iso(Date.parse('2026-03-10T12:00:00Z') - i * DAY - HOUR) }));
  const now = Date.parse('2026-03-10T12:00:00Z');

  it.each([
    ['app_0', 'among the 7 newest daily', policy()],
    ['app_7', 'outside every rule (8th newest daily, 7d old)', policy()],
    ['app_8', 'younger than 9d (8d old)', policy({}, { daily: 9 * DAY })],
    ['app_9', 'outside every rule (10th newest daily, 9d old, limit 9d)', policy({}, { daily: 9 * DAY })],
  ])('%s: "%s"', (id, reason, p) => {
    expect(planBackups({ backups, policy: p, now }).find((d) => d.id === id)!.reason).toBe(reason);
  });

  it.each([
    [30 * 60_000, '30m'],
    [47 * HOUR, '47h'],
    [30 * DAY - 1, '29d'],
    [-5 * 60_000, '0m'],
  ])('formatAge(%d) is %s', (ms, text) => expect(formatAge(ms)).toBe(text));
});
