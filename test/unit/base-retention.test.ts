import { planBackups, type RetentionPolicy } from '../../src/retention/plan';
import { failedBackupTiers } from '../../src/state/daemon-state';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00Z');
const policy: RetentionPolicy = { keep: { daily: 7, weekly: 4, monthly: 12, yearly: 5, manual: 10, 'pre-restore': 3, base: 2 }, maxAgeMs: {}, restoreTestKeepMs: 90 * DAY, incompleteAfterMs: DAY };
/** Weekly base backups of the cluster, newest first, beside daily dumps of app. */
const bases = [0, 7, 14, 21].map((weeks) => ({ id: `cluster_${weeks}`, tier: 'base' as const, database: 'cluster', startedAt: new Date(NOW - weeks * 7 * DAY).toISOString() }));

describe('retention of base backups (PITR)', () => {
  it('keeps BACKUP_KEEP_BASE of them and deletes the older ones', () => {
    const decisions = planBackups({ backups: bases, policy, now: NOW });
    expect(decisions.map((d) => [d.id, d.action])).toEqual([['cluster_0', 'keep'], ['cluster_7', 'keep'], ['cluster_14', 'delete'], ['cluster_21', 'delete']]);
  });

  it('deletes none while the last base-backup job failed', () => {
    const failed = failedBackupTiers({ jobs: { 'base-backup': { outcome: 'failed', lastStart: '2026-12-01T01:00:00Z', lastEnd: '2026-12-01T01:00:02Z' } } });
    expect([...failed]).toEqual(['base']);
    const decisions = planBackups({ backups: bases, policy, now: NOW, failedTiers: failed });
    expect(decisions.filter((d) => d.action === 'delete')).toEqual([]);
    expect([...failedBackupTiers({ jobs: { 'base-backup': { outcome: 'ok', lastStart: '2026-12-01T01:00:00Z', lastEnd: '2026-12-01T01:00:02Z' } } })]).toEqual([]);
  });
});
