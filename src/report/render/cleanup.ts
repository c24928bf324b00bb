import { formatBytes } from '../../format';
import type { CleanupSummaryEvent } from '../events';
import type { WalCleanupSummary } from '../../pitr/archive/apply-retention';
import { at, humanTimes, sidecarName, subjectLine } from './common';
import { capRows, facts, plural, type Block, type ReportDocument, type Section } from './document';

const MAX_ROWS = 60;

/** "12 files (190 MB) removed; kept from 000000010000000000000009 on" (per target when they differ). */
function walLine(wal: WalCleanupSummary, dryRun: boolean): string {
  const removed = `${plural(wal.totals.deleted, 'file')} (${formatBytes(wal.totals.bytesFreed)}) ${dryRun ? 'would be removed' : 'removed'}`;
  const from = [...new Set(wal.targets.map((target) => (target.keptFrom ? `kept from ${target.keptFrom.segment} on` : `all kept: ${target.keptAllReason ?? 'nothing to remove'}`)))];
  const where = from.length === 1 ? from[0] : wal.targets.map((target) => `${target.target}: ${target.keptFrom ? `kept from ${target.keptFrom.segment} on` : 'all kept'}`).join(', ');
  return `${removed}; ${where}`;
}

export function cleanupSummary({ summary, sidecar }: CleanupSummaryEvent, prefix: string): ReportDocument {
  const { totals, dryRun, errors } = summary;
  const databases = [...new Set(summary.backups.map((backup) => backup.database))];
  const where = sidecarName(sidecar, { database: databases.length === 1 ? databases[0] : undefined });
  const scope = where ? ` ${where}` : '';
  const failed = errors.length > 0;
  const deleted = summary.backups.filter((backup) => backup.action === 'delete');
  const kept = summary.backups.filter((backup) => backup.action === 'keep');
  const verb = dryRun ? 'would delete' : 'deleted';
  const line = `${verb} ${totals.deleted} of ${plural(summary.backups.length, 'backup')}, ${dryRun ? 'would free' : 'freed'} ${formatBytes(totals.bytesFreed)}, kept ${totals.kept}`;

  const top: Block[] = [];
  if (failed) {
    top.push({
      type: 'callout',
      tone: 'fail',
      title: `${plural(errors.length, 'deletion')} failed`,
      text: 'The objects are still there and stay complete; the next cleanup tries again. Check the storage permissions and reachability.',
    });
  }
  if (dryRun) top.push({ type: 'callout', tone: 'info', title: 'Dry run', text: 'Nothing was deleted; this is what the retention policy would do.' });

  const backupRows = (rows: typeof summary.backups, what: string) => {
    const shown = capRows(rows, MAX_ROWS, what);
    return {
      type: 'table' as const,
      // The id already says when the backup started; the rule that decided goes under it, where a phone has room.
      head: ['Backup', 'Size'],
      numeric: [1],
      rows: shown.rows.map((backup) => ({
        cells: [`${backup.tier}/${backup.id}`, formatBytes(backup.storedBytes)],
        tone: backup.action === 'delete' && !dryRun && !backup.done ? ('fail' as const) : undefined,
        detail: humanTimes(backup.reason),
      })),
      note: shown.note,
    };
  };

  const sections: Section[] = [
    {
      blocks: [
        ...top,
        facts(
          databases.length > 0 && { label: 'Database', value: where ?? databases.join(', ') },
          { label: 'Ran', value: at(summary.now) },
          { label: 'Backups', value: `${verb} ${totals.deleted}, kept ${totals.kept}` },
          { label: dryRun ? 'Would free' : 'Freed', value: formatBytes(totals.bytesFreed) },
          { label: 'Incomplete leftovers', value: `${totals.leftoversDeleted} ${dryRun ? 'would be removed' : 'removed'}` },
          { label: 'Restore-test records', value: `${totals.restoreTestsDeleted} ${dryRun ? 'would be removed' : 'removed'}` },
          summary.wal !== undefined && { label: 'Archived WAL', value: walLine(summary.wal, dryRun) },
        ),
      ],
    },
  ];
  if (deleted.length) sections.push({ title: dryRun ? 'Would delete' : 'Deleted', blocks: [backupRows(deleted, 'deleted backups')] });
  if (kept.length) sections.push({ title: 'Kept', blocks: [backupRows(kept, 'kept backups')] });
  const leftovers = summary.leftovers.filter((leftover) => leftover.action === 'delete');
  if (leftovers.length) {
    const shown = capRows(leftovers, MAX_ROWS, 'leftovers');
    sections.push({
      title: 'Incomplete leftovers',
      blocks: [{ type: 'table', head: ['Target', 'Size'], numeric: [1], rows: shown.rows.map((leftover) => ({ cells: [leftover.target, formatBytes(leftover.size)], detail: leftover.key, detailMono: true })), note: shown.note }],
    });
  }
  if (failed) {
    const shown = capRows(errors, 30, 'errors');
    sections.push({ title: 'Failed deletions', blocks: [{ type: 'list', items: [...shown.rows.map((error) => `${error.target}: ${error.key}: ${error.message}`), ...(shown.note ? [shown.note] : [])] }] });
  }
  if (summary.problems.length) {
    const shown = capRows(summary.problems, 30, 'warnings');
    sections.push({ title: 'Catalog warnings', blocks: [{ type: 'list', items: [...shown.rows, ...(shown.note ? [shown.note] : [])] }] });
  }

  return {
    subject: subjectLine(prefix, failed ? 'FAILED' : 'OK', `cleanup${dryRun ? ' (dry run)' : ''}${scope}: ${failed ? `${plural(errors.length, 'deletion')} failed, ` : ''}${line}`),
    sidecar: where,
    tone: failed ? 'fail' : 'ok',
    headline: failed ? 'Cleanup finished with errors' : dryRun ? 'Cleanup planned (dry run)' : 'Cleanup finished',
    summary: `Retention ${line}.`,
    sections,
  };
}
