import { formatBytes, table } from '../../format';
import type { WalCleanupSummary, WalFileOutcome } from './apply-retention';

/** "000000010000000000000001..000000010000000000000005" (names in archive order), or the one name. */
export function walRange(files: readonly Pick<WalFileOutcome, 'name'>[]): string {
  if (!files.length) return '-';
  return files.length === 1 ? files[0]!.name : `${files[0]!.name}..${files.at(-1)!.name}`;
}

/** `keepsake cleanup`'s WAL section: per target, what goes (a range and its rule) and from where WAL stays. */
export function renderWalCleanup(wal: WalCleanupSummary, dryRun: boolean): string {
  const rows = [['ACTION', 'TARGET', 'ARCHIVED WAL', 'FILES', 'SIZE', 'RULE']];
  for (const target of wal.targets) {
    const deleting = target.files.filter((file) => file.action === 'delete');
    const failed = deleting.filter((file) => !dryRun && !file.done);
    const kept = target.files.filter((file) => file.action === 'keep');
    if (deleting.length) {
      const reason = deleting[0]!.reason;
      rows.push([failed.length ? 'FAILED' : 'DELETE', target.target, walRange(deleting), String(deleting.length), formatBytes(deleting.reduce((sum, file) => sum + file.storedBytes, 0)), failed.length ? `${failed.length} could not be deleted; ${reason}` : reason]);
    }
    if (kept.length) {
      const rule = target.keptFrom ? `from ${target.keptFrom.segment} on: needed by the kept base backups (the oldest: ${target.keptFrom.base})` : (target.keptAllReason ?? 'kept');
      rows.push(['KEEP', target.target, walRange(kept), String(kept.length), formatBytes(kept.reduce((sum, file) => sum + file.storedBytes, 0)), rule]);
    }
  }
  return table(rows);
}
