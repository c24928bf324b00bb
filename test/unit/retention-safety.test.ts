import { backupId, type Tier } from '../../src/backup/keys';
import { planBackups, planLeftovers, planRestoreTests, planRetention, type BackupDecision, type BackupFacts, type RetentionInput, type RetentionPolicy } from '../../src/retention/plan';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-06-01T12:00:00Z');

/** `days` backups of a tier, one a day at 02:00Z, the newest `newestAgo` days before NOW. */
function run(tier: Tier, days: number, options: { database?: string; newestAgo?: number; every?: number } = {}): BackupFacts[] {
  const { database = 'app', newestAgo = 0, every = 1 } = options;
  return Array.from({ length: days }, (_, i) => {
    const at = new Date(Date.parse('2026-06-01T02:00:00Z') - (newestAgo + i * every) * DAY);
    return { id: backupId(database, at), tier, database, startedAt: at.toISOString() };
  });
}

const policy = (keep: Partial<RetentionPolicy['keep']> = {}, maxAgeMs: RetentionPolicy['maxAgeMs'] = {}): RetentionPolicy => ({
  keep: { daily: 7, weekly: 4, monthly: 12, yearly: 5, manual: 10, 'pre-restore': 3, base: 2, ...keep },
  maxAgeMs,
  restoreTestKeepMs: 90 * DAY,
  incompleteAfterMs: DAY,
});

const plan = (input: Partial<RetentionInput> & Pick<RetentionInput, 'backups'>) => planBackups({ policy: policy(), now: NOW, ...input });
const actions = (decisions: BackupDecision[], tier?: Tier) => decisions.filter((d) => !tier || d.tier === tier).map((d) => `${d.action}:${d.rule}`);
const deleted = (decisions: BackupDecision[]) => decisions.filter((d) => d.action === 'delete').length;

/**
 * Each safety rule is shown twice: first the same input with the rule's condition absent (the
 * policy deletes), then with it present (the backup stays, and the rule says why).
 */
describe('retention safety rules, each proven against a case that would otherwise delete', () => {
  // Config never allows a count of 0; the planner is the shared layer and must not rely on that.
  const allOld = run('daily', 400, { newestAgo: 40 });

  it('never deletes the newest backup of a tier, even when every rule of the policy says delete', () => {
    const decisions = plan({ backups: allOld, policy: policy({ daily: 0 }, { daily: 30 * DAY }) });
    expect(decisions[0]).toMatchObject({ id: allOld[0]!.id, action: 'keep', rule: 'newest', reason: 'newest of its tier: never deleted' });
    expect(deleted(decisions)).toBe(399);
  });

  it('never empties a tier, per database: each keeps its newest', () => {
    const backups = [...allOld, ...run('daily', 50, { database: 'billing', newestAgo: 200 }), ...run('pre-restore', 5, { newestAgo: 90 })];
    const decisions = plan({ backups, policy: policy({ daily: 0, 'pre-restore': 0 }, { daily: DAY, 'pre-restore': DAY }) });
    const keptGroups = decisions.filter((d) => d.action === 'keep').map((d) => `${d.database}/${d.tier}:${d.rule}`);
    expect(keptGroups).toEqual(['app/daily:newest', 'billing/daily:newest', 'app/pre-restore:newest']);
  });

  it('keeps the newest good backup when the newer ones failed their restore test', () => {
    const backups = run('monthly', 24, { every: 30 });
    expect(actions(plan({ backups, policy: policy({ monthly: 1 }) })).slice(0, 4)).toEqual(['keep:count', 'delete:outside', 'delete:outside', 'delete:outside']);
    backups[0]!.failedRestoreTest = true;
    backups[1]!.failedRestoreTest = true;
    const decisions = plan({ backups, policy: policy({ monthly: 1 }) });
    expect(actions(decisions).slice(0, 4)).toEqual(['keep:count', 'delete:outside', 'keep:newest-good', 'delete:outside']);
    expect(decisions[2]!.reason).toBe('newest monthly whose restore test did not fail: never deleted');
    expect(deleted(decisions)).toBe(22);
  });

  it('deletes nothing in a tier whose newest backup attempt failed, and only in that tier', () => {
    const backups = [...run('daily', 400), ...run('weekly', 57, { every: 7 }), ...run('monthly', 14, { every: 30 })];
    const healthy = plan({ backups });
    expect([deleted(healthy.filter((d) => d.tier === 'daily')), deleted(healthy.filter((d) => d.tier === 'weekly'))]).toEqual([393, 53]);
    const decisions = plan({ backups, failedTiers: new Set<Tier>(['daily']) });
    expect(actions(decisions, 'daily').filter((a) => a !== 'keep:count').every((a) => a === 'keep:tier-failed')).toBe(true);
    expect(decisions.find((d) => d.rule === 'tier-failed')!.reason).toBe("tier's newest backup failed: nothing deleted");
    expect(deleted(decisions.filter((d) => d.tier === 'weekly'))).toBe(53);
    expect(deleted(decisions.filter((d) => d.tier === 'monthly'))).toBe(2);
  });

  it('holds a failed tier for every database in it: the failure says nothing about which are safe', () => {
    const backups = [...run('daily', 30), ...run('daily', 30, { database: 'billing' })];
    expect(deleted(plan({ backups }))).toBe(46);
    expect(deleted(plan({ backups, failedTiers: new Set<Tier>(['daily']) }))).toBe(0);
  });

  it('goes by startedAt: a backup whose name claims to be newest is deleted when its manifest says it is old', () => {
    const backups = run('daily', 10);
    const liar = { ...backups[9]!, id: 'app_29991231_235959' };
    const decisions = plan({ backups: [...backups.slice(0, 9), liar], policy: policy({ daily: 3 }) });
    expect(decisions.find((d) => d.id === liar.id)).toMatchObject({ action: 'delete', rule: 'outside' });
    expect(decisions.filter((d) => d.action === 'keep').map((d) => d.id)).toEqual(backups.slice(0, 3).map((b) => b.id));
  });
});

describe('recovery-test records', () => {
  const monthly = Array.from({ length: 14 }, (_, i) => ({ key: `recovery-tests/r${String(i).padStart(2, '0')}.json`, at: NOW - i * 30 * DAY - HOUR }));

  it('keeps records younger than RESTORE_TEST_KEEP and deletes the older ones', () => {
    const decisions = planRestoreTests(monthly, 90 * DAY, NOW);
    expect(decisions.filter((d) => d.action === 'keep').map((d) => d.key)).toEqual(['recovery-tests/r00.json', 'recovery-tests/r01.json', 'recovery-tests/r02.json']);
    expect(decisions.find((d) => d.key === 'recovery-tests/r03.json')!.reason).toBe('90d old, limit 90d');
  });

  it('always keeps the newest record, however old: the latest proof of recoverability stays', () => {
    const old = monthly.slice(7);
    const decisions = planRestoreTests(old, 90 * DAY, NOW);
    expect(decisions.map((d) => `${d.key}:${d.action}:${d.rule}`).slice(0, 2)).toEqual(['recovery-tests/r07.json:keep:newest', 'recovery-tests/r08.json:delete:outside']);
  });
});

describe('incomplete leftovers', () => {
  const leftover = (key: string, ageMs: number, kind: 'no-manifest' | 'temp' = 'no-manifest') => ({ target: 'local', key, kind, modified: NOW - ageMs, size: 10 });

  it('removes leftovers past the grace period and spares younger ones, which may still be being written', () => {
    const decisions = planLeftovers([leftover('daily/a.dump.zst', 25 * HOUR), leftover('daily/b.dump.zst', 23 * HOUR), leftover('daily/c.dump.zst.tmp-1f', 3 * DAY, 'temp')], DAY, NOW);
    expect(decisions.map((d) => [d.key, d.action, d.reason])).toEqual([
      ['daily/a.dump.zst', 'delete', 'data object without manifest, 25h old: past the 24h grace'],
      ['daily/b.dump.zst', 'keep', 'data object without manifest, 23h old: may still be being written (grace 24h)'],
      ['daily/c.dump.zst.tmp-1f', 'delete', 'temp file of an unfinished write, 3d old: past the 24h grace'],
    ]);
  });

  it('planRetention puts the three plans together', () => {
    const result = planRetention({ backups: run('daily', 9), restoreTests: [{ key: 'recovery-tests/x.json', at: NOW - 200 * DAY }], leftovers: [leftover('daily/z.dump', 2 * DAY)], policy: policy(), now: NOW });
    expect([deleted(result.backups), result.restoreTests[0]!.action, result.leftovers[0]!.action]).toEqual([2, 'keep', 'delete']);
  });
});

describe('the newest backup that passed a restore test', () => {
  it('outlives its count even when newer, untested backups exist', () => {
    const DAYS = 86_400_000;
    const now = Date.parse('2026-06-01T12:00:00Z');
    const backups = [0, 1, 2, 3].map((daysAgo) => ({
      id: `app_d${daysAgo}`,
      tier: 'daily' as const,
      database: 'app',
      startedAt: new Date(now - daysAgo * DAYS).toISOString(),
      passedRestoreTest: daysAgo === 3,
    }));
    const policy = { keep: { daily: 2, weekly: 1, monthly: 1, yearly: 1, manual: 1, 'pre-restore': 1, base: 1 }, maxAgeMs: {}, restoreTestKeepMs: 90 * DAYS, incompleteAfterMs: DAYS };
    const decisions = planRetention({ backups, policy, now }).backups;
    expect(decisions.map((d) => [d.id, d.action, d.rule])).toEqual([
      ['app_d0', 'keep', 'count'],
      ['app_d1', 'keep', 'count'],
      ['app_d2', 'delete', 'outside'],
      ['app_d3', 'keep', 'newest-proven'],
    ]);
  });
});
