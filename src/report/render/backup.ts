import { manualRestoreCommands } from '../../backup/manifest';
import { formatBytes, formatDuration } from '../../format';
import { describeTables, tally } from '../../postgres/relations';
import type { BackupFailedEvent, BackupSucceededEvent } from '../events';
import { describeAnomaly, sizeAnomaly } from './anomaly';
import { nextRunText, oneLine, ratio, subjectLine, when } from './common';
import { facts, plural, type Block, type ReportDocument } from './document';
import { checksFor, hintFor, splitError } from './hints';

export function backupSucceeded(event: BackupSucceededEvent, prefix: string, now: Date): ReportDocument {
  const { manifest } = event;
  const where = `${manifest.database}@${manifest.host}`;
  const size = formatBytes(manifest.storedBytes);
  const took = formatDuration(manifest.durationMs);
  const anomaly = sizeAnomaly(manifest, event.recentSizes);
  const tables = manifest.inventory.tables;
  const { rows } = tally(tables);
  const file = manifest.key.split('/').pop()!;

  const top: Block[] = [];
  if (anomaly) {
    top.push({
      type: 'callout',
      tone: 'warn',
      title: `Size anomaly: ${describeAnomaly(anomaly)}`,
      text:
        `This backup is ${size}; the median of the last ${anomaly.basis} ${manifest.tier} backups is ${formatBytes(anomaly.medianBytes)}. ` +
        (anomaly.direction === 'smaller'
          ? 'A suddenly small dump often means lost data, a truncated table or a job pointed at the wrong database: check the row counts below.'
          : 'A suddenly large dump often means a runaway table (logs, sessions, queues) or a data import: check which tables grew.'),
    });
  }
  return {
    subject: subjectLine(prefix, anomaly ? 'WARNING' : 'OK', `${manifest.tier} backup ${where} ${size} in ${took}${anomaly ? `: ${describeAnomaly(anomaly)}` : ''}`),
    tone: anomaly ? 'warn' : 'ok',
    headline: anomaly ? `Backup succeeded, size looks wrong` : 'Backup succeeded',
    summary: `${manifest.tier} backup of ${where}: ${size} stored in ${took}, checksummed and listed.`,
    sections: [
      {
        blocks: [
          ...top,
          facts(
            { label: 'Database', value: where },
            { label: 'Tier', value: manifest.tier },
            { label: 'Backup id', value: manifest.id, mono: true },
            { label: 'Started', value: when(manifest.startedAt, now) },
            { label: 'Duration', value: took },
            { label: 'Stored size', value: `${size} (${manifest.compression.algorithm}${manifest.compression.algorithm === 'none' ? '' : ` level ${manifest.compression.level}`})` },
            { label: 'Compression', value: `${ratio(manifest.rawBytes, manifest.storedBytes)} (raw dump ${formatBytes(manifest.rawBytes)})` },
            { label: 'Contents', value: `${describeTables(tables)}, ${rows.toLocaleString('en-US')} rows, ${plural(manifest.inventory.schemas.length, 'schema')}` },
            { label: 'sha256', value: manifest.sha256, mono: true },
            { label: 'PostgreSQL', value: `server ${manifest.server.version}, pg_dump ${manifest.pgDump.version}` },
            event.nextRun !== undefined && { label: 'Next run', value: nextRunText(event.nextRun, now)! },
            event.retention !== undefined && { label: 'Retention', value: event.retention },
          ),
        ],
      },
      {
        title: 'Where it is stored',
        blocks: [{ type: 'table', head: ['Target', 'Location'], rows: manifest.targets.map((target) => ({ cells: [target.target, target.location] })) }],
      },
      {
        title: 'Restore by hand',
        blocks: [
          { type: 'paragraph', text: `With keepsake: keepsake restore ${manifest.tier}/${manifest.id}` },
          { type: 'paragraph', text: `Without keepsake, with standard tools: copy ${file} from any location above into a directory, then run:` },
          { type: 'code', lines: manualRestoreCommands(manifest, file) },
        ],
      },
    ],
  };
}

export function backupFailed(event: BackupFailedEvent, prefix: string, now: Date): ReportDocument {
  const where = `${event.database}@${event.host}`;
  const { cause, detail } = splitError(event.error);
  const hint = hintFor(event.error);
  // The hint's label scans best ("connection refused"); without one, the error's own first words.
  const short = hint?.label ?? oneLine(cause, 80);
  return {
    subject: subjectLine(prefix, 'FAILED', `${event.tier} backup ${where}: ${short}`),
    tone: 'fail',
    headline: 'Backup failed',
    summary: `${event.tier} backup of ${where} failed: ${short}.`,
    sections: [
      {
        blocks: [
          { type: 'callout', tone: 'fail', title: 'Cause', text: cause },
          facts(
            { label: 'Database', value: where },
            { label: 'Tier', value: event.tier },
            { label: 'Started', value: when(event.startedAt, now) },
            event.durationMs !== undefined && { label: 'Failed after', value: formatDuration(event.durationMs) },
            event.nextRun !== undefined && { label: 'Next run', value: nextRunText(event.nextRun, now)! },
          ),
          {
            type: 'paragraph',
            text: `Nothing was listed for this attempt: partial files and uploads were removed. Older backups stay: retention deletes nothing in the ${event.tier} tier while its newest attempt has failed.`,
          },
        ],
      },
      ...(detail ? [{ title: 'Error output (stderr tail)', blocks: [{ type: 'code' as const, lines: detail.split('\n') }] }] : []),
      { title: 'What to check', blocks: [{ type: 'list', items: checksFor(event.error) }] },
    ],
  };
}

