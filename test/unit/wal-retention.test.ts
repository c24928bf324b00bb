import { keptBasesOn, planWalRetention, type KeptBase, type ListedBase } from '../../src/pitr/archive/retention';
import { parseWalName, type WalFileName } from '../../src/pitr/wal-names';
import { planBackupsPerTarget, type HeldBackup } from '../../src/retention/plan-targets';
import { failedBackupTiers } from '../../src/state/daemon-state';

const DAY = 86_400_000;
const wal = (...names: string[]): { file: WalFileName }[] => names.map((name) => ({ file: parseWalName(name)! }));
const base = (id: string, startSegment: string | undefined): KeptBase => ({ id, timeline: startSegment ? parseWalName(startSegment)!.timeline : undefined, startSegment });
const deletedNames = (plan: ReturnType<typeof planWalRetention>) => plan.decisions.filter((d) => d.action === 'delete').map((d) => d.wal.file.name);

/** A segment's name: timeline (8 hex), then the segment number's "log" and "seg" halves (below 256 here, so log is 0). */
const S = (tl: number, segno: number) => `${tl.toString(16).toUpperCase().padStart(8, '0')}${'0'.repeat(8)}${segno.toString(16).toUpperCase().padStart(8, '0')}`;

describe('planWalRetention: never WAL a kept base backup needs', () => {
  const cases: [string, { archived: string[]; bases: KeptBase[]; baseFailed?: boolean }, string[]][] = [
    ['one timeline: everything before the only base goes, its start and after stay', { archived: [S(1, 1), S(1, 2), S(1, 3), S(1, 4), S(1, 5)], bases: [base('b1', S(1, 3))] }, [S(1, 1), S(1, 2)]],
    ['two bases: only what is before the oldest one goes', { archived: [S(1, 1), S(1, 2), S(1, 3), S(1, 4), S(1, 5), S(1, 6)], bases: [base('new', S(1, 5)), base('old', S(1, 3))] }, [S(1, 1), S(1, 2)]],
    ['no base backup kept: nothing goes', { archived: [S(1, 1), S(1, 2)], bases: [] }, []],
    ['newest base backup attempt failed: nothing goes', { archived: [S(1, 1), S(1, 2), S(1, 3)], bases: [base('b1', S(1, 3))], baseFailed: true }, []],
    ['a kept base backup without a known start: nothing goes', { archived: [S(1, 1), S(1, 2), S(1, 3)], bases: [base('b1', S(1, 3)), base('b0', undefined)] }, []],
    ['a base backup starting at the first archived segment: nothing goes', { archived: [S(1, 3), S(1, 4)], bases: [base('b1', S(1, 3))] }, []],
    ['history files are never deleted', { archived: ['00000002.history', S(1, 1), S(2, 9)], bases: [base('b2', S(2, 9))] }, [S(1, 1)]],
    [
      'several timelines: old timelines before the base go, the base timeline from its start stays',
      { archived: [S(1, 1), S(1, 2), S(1, 3), S(2, 3), S(2, 4), S(2, 5), S(3, 5), S(3, 6), '00000002.history', '00000003.history'], bases: [base('b2', S(2, 4))] },
      [S(1, 1), S(1, 2), S(1, 3), S(2, 3)],
    ],
    [
      'WAL on a timeline newer than the base backup is kept even below its start segment number',
      { archived: [S(1, 7), S(1, 8), S(2, 6), S(2, 7)], bases: [base('b1', S(1, 8))] },
      [S(1, 7)],
    ],
    [
      'a base on an old timeline keeps the newer timeline after the switch and its own timeline from its start',
      { archived: [S(1, 1), S(1, 2), S(1, 3), S(2, 3), S(2, 4)], bases: [base('b1', S(1, 2)), base('b2', S(2, 4))] },
      [S(1, 1)],
    ],
    [
      'partials before the oldest base go; the newest partial stays',
      { archived: [`${S(1, 2)}.partial`, S(1, 3), S(1, 4), `${S(1, 5)}.partial`], bases: [base('b1', S(1, 3))] },
      [`${S(1, 2)}.partial`],
    ],
    [
      'segment numbers, not names: the "log" half counts (00000001 00000001 00000000 is after 00000001 00000000 000000FF)',
      { archived: ['0000000100000000000000FE', '0000000100000000000000FF', '000000010000000100000000'], bases: [base('b1', '0000000100000000000000FF')] },
      ['0000000100000000000000FE'],
    ],
  ];
  it.each(cases)('%s', (_name, { archived, bases, baseFailed }, expected) => {
    const plan = planWalRetention({ archived: wal(...archived), keptBases: bases, baseFailed });
    expect(deletedNames(plan)).toEqual(expected);
    // Whatever goes, every kept base backup still has its start segment and everything after it.
    for (const kept of bases.filter((b) => b.startSegment)) {
      const start = parseWalName(kept.startSegment!)!;
      for (const decision of plan.decisions.filter((d) => d.action === 'delete')) {
        expect(decision.wal.file.timeline <= start.timeline && decision.wal.file.segno! < start.segno!).toBe(true);
      }
    }
  });

  it('names the rule and the base backup in each reason, and from which segment WAL is kept', () => {
    const plan = planWalRetention({ archived: wal(S(1, 1), S(1, 3), '00000001.history'), keptBases: [base('cluster_20261129_010000', S(1, 3))] });
    expect(plan.keptFrom).toEqual({ segment: S(1, 3), base: 'cluster_20261129_010000' });
    expect(plan.decisions.map((d) => [d.action, d.rule])).toEqual([['delete', 'before-oldest-base'], ['keep', 'needed'], ['keep', 'history']]);
    expect(plan.decisions[0]!.reason).toBe(`before ${S(1, 3)}, the first segment of the oldest kept base backup cluster_20261129_010000`);
    expect(plan.decisions[1]!.reason).toBe(`needed by base backup cluster_20261129_010000 (at or after its first segment ${S(1, 3)})`);
    const none = planWalRetention({ archived: wal(S(1, 1)), keptBases: [] });
    expect(none.keptFrom).toBeUndefined();
    expect(none.decisions[0]).toMatchObject({ action: 'keep', rule: 'no-base', reason: expect.stringMatching(/no base backup is kept/) });
    expect(planWalRetention({ archived: wal(S(1, 1)), keptBases: [base('b', S(1, 3))], baseFailed: true }).decisions[0]).toMatchObject({ rule: 'base-failed' });
  });

  it('names segments as PostgreSQL does', () => {
    expect(S(2, 0x1f)).toBe('00000002000000000000001F');
  });
});

describe('WAL retention after the backup plan, per target', () => {
  const NOW = Date.UTC(2026, 11, 1, 6);
  const held = (id: string, daysAgo: number, targets: string[]): HeldBackup => ({ id, tier: 'base', database: 'cluster', startedAt: new Date(NOW - daysAgo * DAY).toISOString(), targets });
  const listed = (b: HeldBackup, startSegment: string): ListedBase => ({ id: b.id, targets: b.targets, physical: { timeline: parseWalName(startSegment)!.timeline, startSegment } });
  const keep = (base: number, maxAgeMs?: number) => ({ keep: { daily: 7, weekly: 4, monthly: 12, yearly: 5, manual: 10, 'pre-restore': 3, base }, maxAgeMs: maxAgeMs ? { base: maxAgeMs } : {} });
  const archived = wal(S(1, 1), S(1, 2), S(1, 3), S(1, 4), S(1, 5), S(1, 6), `${S(1, 7)}.partial`);
  const b1 = held('cluster_a', 21, ['local', 's3']);
  const b2 = held('cluster_b', 14, ['local', 's3']);
  const b3 = held('cluster_c', 7, ['local']);
  const bases = [listed(b1, S(1, 2)), listed(b2, S(1, 4)), listed(b3, S(1, 6))];

  const walPlanOf = (target: string, rules: Parameters<typeof planBackupsPerTarget>[1], failed = false) => {
    const backupPlan = planBackupsPerTarget([b1, b2, b3], rules, { now: NOW, failedTiers: new Set(failed ? (['base'] as const) : []) });
    return deletedNames(planWalRetention({ archived, keptBases: keptBasesOn(target, bases, backupPlan), baseFailed: failed }));
  };

  it.each([
    ['by count (BACKUP_KEEP_BASE=1): each target keeps WAL from its own oldest kept base', [{ name: 'local', policy: keep(1) }, { name: 's3', policy: keep(1) }], { local: [S(1, 1), S(1, 2), S(1, 3), S(1, 4), S(1, 5)], s3: [S(1, 1), S(1, 2), S(1, 3)] }],
    ['a base kept only by age (BACKUP_MAX_AGE_BASE=15d) keeps its WAL', [{ name: 'local', policy: keep(1, 15 * DAY) }, { name: 's3', policy: keep(1, 15 * DAY) }], { local: [S(1, 1), S(1, 2), S(1, 3)], s3: [S(1, 1), S(1, 2), S(1, 3)] }],
    ['a target with other rules keeps more', [{ name: 'local', policy: keep(1) }, { name: 's3', policy: keep(5) }], { local: [S(1, 1), S(1, 2), S(1, 3), S(1, 4), S(1, 5)], s3: [S(1, 1)] }],
  ] as const)('%s', (_name, rules, expected) => {
    expect(walPlanOf('local', [...rules])).toEqual(expected.local);
    expect(walPlanOf('s3', [...rules])).toEqual(expected.s3);
  });

  it('keeps every WAL file while the newest base backup attempt failed', () => {
    expect(walPlanOf('local', [{ name: 'local', policy: keep(1) }], true)).toEqual([]);
  });

  it('counts a base backup the plan did not look at as kept', () => {
    expect(keptBasesOn('local', bases, []).map((b) => b.id)).toEqual(['cluster_a', 'cluster_b', 'cluster_c']);
    expect(keptBasesOn('s3', bases, [{ tier: 'base', id: 'cluster_a', action: 'delete', targets: ['local'] }]).map((b) => b.id)).toEqual(['cluster_a', 'cluster_b']);
  });
});

describe('a failed base backup holds WAL back', () => {
  it("counts the base-backup job's last failed or unfinished run as the base tier's failure", () => {
    expect(failedBackupTiers({ jobs: { 'base-backup': { outcome: 'failed' } } }).has('base')).toBe(true);
    expect(failedBackupTiers({ jobs: { 'base-backup': { lastStart: '2026-11-29T01:00:00Z' } } }).has('base')).toBe(true);
    expect(failedBackupTiers({ jobs: { 'base-backup': { outcome: 'ok', lastStart: '2026-11-29T01:00:00Z', lastEnd: '2026-11-29T01:10:00Z' } } }).has('base')).toBe(false);
  });
});
