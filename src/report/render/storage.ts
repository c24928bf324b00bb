import { isoWeek } from '../../backup/keys';
import { formatBytes } from '../../format';
import type { StorageReportEvent } from '../events';
import { median } from './anomaly';
import { sidecarName, subjectLine } from './common';
import { facts, plural, type Block, type ReportDocument } from './document';

/** How far back the chart looks. */
export const CHART_WEEKS = 8;
const WEEK_MS = 7 * 86_400_000;

/**
 * One bar per week, oldest first: the median size of that week's backups (every tier), so one
 * odd backup does not hide the trend and a steady climb or a sudden drop shows at a glance.
 */
export function weeklySizes(history: StorageReportEvent['history'], now: Date): { label: string; value: number; display: string }[] {
  const weeks: { label: string; sizes: number[] }[] = [];
  for (let back = CHART_WEEKS - 1; back >= 0; back--) {
    const { year, week } = isoWeek(new Date(now.getTime() - back * WEEK_MS));
    weeks.push({ label: `${year}-W${String(week).padStart(2, '0')}`, sizes: [] });
  }
  const byLabel = new Map(weeks.map((week) => [week.label, week]));
  for (const entry of history) {
    const at = Date.parse(entry.startedAt);
    if (Number.isNaN(at) || at > now.getTime() || now.getTime() - at >= CHART_WEEKS * WEEK_MS) continue;
    const { year, week } = isoWeek(new Date(at));
    byLabel.get(`${year}-W${String(week).padStart(2, '0')}`)?.sizes.push(entry.storedBytes);
  }
  return weeks.map(({ label, sizes }) => {
    const value = sizes.length ? median(sizes) : 0;
    return { label, value, display: sizes.length ? `${formatBytes(Math.round(value))} (${sizes.length})` : 'no backups' };
  });
}

/** Per target: copies, their size and the free space left where the target can tell (a local disk can, S3 cannot). */
function targetTable(targets: NonNullable<StorageReportEvent['targets']>): Block {
  return {
    type: 'table',
    head: ['Target', 'Copies', 'Size', 'Free'],
    numeric: [1, 2, 3],
    rows: targets.map((target) => ({ cells: [target.target, String(target.count), formatBytes(target.bytes), target.freeBytes === null ? 'unknown' : formatBytes(target.freeBytes)] })),
  };
}

export function storageReport(event: StorageReportEvent, prefix: string, now: Date): ReportDocument {
  const count = event.tiers.reduce((sum, tier) => sum + tier.count, 0);
  const where = sidecarName(event.sidecar, event);
  const growth = event.growthBytes === undefined ? undefined : `${event.growthBytes >= 0 ? '+' : '-'}${formatBytes(Math.abs(event.growthBytes))}`;
  // The weeks end at the report's own time; a report filed before it carried one uses the clock it is rendered by.
  const end = event.at && !Number.isNaN(Date.parse(event.at)) ? new Date(event.at) : now;
  return {
    subject: subjectLine(prefix, 'REPORT', `storage${where ? ` ${where}` : ''}: ${formatBytes(event.totalBytes)} in ${plural(count, 'backup')}${growth ? ` (${growth} since last report)` : ''}`),
    sidecar: where,
    tone: 'info',
    headline: 'Storage report',
    summary: `${plural(count, 'backup')} ${count === 1 ? 'takes' : 'take'} ${formatBytes(event.totalBytes)}${growth ? `, ${growth} since the last report` : ''}.`,
    sections: [
      {
        blocks: [
          facts(
            where !== undefined && { label: 'Database', value: where },
            { label: 'Total stored', value: `${formatBytes(event.totalBytes)}${event.targets && event.targets.length > 1 ? ', every copy counted' : ''}` },
            { label: 'Backups', value: String(count) },
            growth !== undefined && { label: 'Growth', value: `${growth} since the last report` },
          ),
          ...(event.targets?.length ? [targetTable(event.targets)] : []),
          {
            type: 'table',
            head: ['Tier', 'Backups', 'Size'],
            numeric: [1, 2],
            rows: event.tiers.map((tier) => ({ cells: [tier.tier, String(tier.count), formatBytes(tier.bytes)] })),
          },
        ],
      },
      {
        title: `Backup size, last ${CHART_WEEKS} weeks`,
        blocks: [
          { type: 'paragraph', text: 'Median stored size of each week\'s backups (how many in brackets).' },
          { type: 'bars', bars: weeklySizes(event.history, end) },
        ],
      },
    ],
  };
}
