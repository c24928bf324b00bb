import { manualRestoreCommands } from '../../backup/manifest';
import { describeContents } from '../../backup/contents';
import { formatBytes, formatDuration } from '../../format';
import { describeTables, tally } from '../../postgres/relations';
import type { BackupFailedEvent, BackupSucceededEvent, LastGoodBackup } from '../events';
import { describeAnomaly, sizeAnomaly } from './anomaly';
import { at, between, nextRunText, oneLine, ratio, sidecarName, subjectLine } from './common';
import { facts, plural, type Block, type ReportDocument, type Section } from './document';
import { checksFor, describeFailure } from './hints';

export function backupSucceeded(event: BackupSucceededEvent, prefix: string): ReportDocument {
  const { manifest } = event;
  const where = sidecarName(event.sidecar, manifest)!;
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
    subject: subjectLine(prefix, anomaly ? 'WARNING' : 'OK', `${manifest.tier} backup ${where}${manifest.contents?.schemaOnly ? ' (schema only)' : ''}: ${size} in ${took}${anomaly ? `, ${describeAnomaly(anomaly)}` : ''}`),
    sidecar: where,
    tone: anomaly ? 'warn' : 'ok',
    headline: anomaly ? `Backup succeeded, size looks wrong` : 'Backup succeeded',
    summary: `${manifest.tier} backup ${manifest.id}${manifest.contents ? ` (${describeContents(manifest)})` : ''}: ${size} stored in ${took}, checksummed and listed.`,
    sections: [
      {
        blocks: [
          ...top,
          facts(
            { label: 'Backup id', value: `${manifest.tier}/${manifest.id}`, mono: true },
            { label: 'Database', value: where },
            { label: 'Started', value: at(manifest.startedAt) },
            { label: 'Duration', value: took },
            { label: 'Next run', value: nextRunText(event.nextRun) },
            { label: 'Stored size', value: `${size} (${manifest.compression.algorithm}${manifest.compression.algorithm === 'none' ? '' : ` level ${manifest.compression.level}`})` },
            { label: 'Compression', value: `${ratio(manifest.rawBytes, manifest.storedBytes)} (raw dump ${formatBytes(manifest.rawBytes)})` },
            { label: 'Contents', value: contentsText(manifest, rows) },
            { label: 'sha256', value: manifest.sha256, mono: true },
            manifest.server && manifest.pgDump && { label: 'PostgreSQL', value: `server ${manifest.server.version}, pg_dump ${manifest.pgDump.version}` },
            manifest.sqlite && { label: 'SQLite', value: `${manifest.database}, copied online by sqlite3 ${manifest.sqlite.version}; integrity_check ${describeIntegrity(manifest.inventory.integrity)}` },
            event.retention !== undefined && { label: 'Retention', value: event.retention },
          ),
        ],
      },
      {
        title: 'Where it is stored',
        blocks: [facts(...manifest.targets.map((target) => ({ label: target.target, value: target.location, mono: true })))],
      },
      {
        title: 'Restore by hand',
        blocks: [
          { type: 'paragraph', text: `With keepsake: \`keepsake restore ${manifest.tier}/${manifest.id}\`` },
          { type: 'paragraph', text: `Without keepsake, with standard tools: copy ${file} from any location above into a directory, then run:` },
          { type: 'code', lines: manualRestoreCommands(manifest, file) },
        ],
      },
    ],
  };
}

/** "7 tables, 1,234 rows, 2 schemas", and what the backup left out, said where the counts are. */
function contentsText(manifest: BackupSucceededEvent['manifest'], rows: number): string {
  const tables = describeTables(manifest.inventory.tables);
  const schemas = plural(manifest.inventory.schemas.length, 'schema');
  const partial = describeContents(manifest);
  if (manifest.contents?.schemaOnly) return `${tables}, ${schemas}: ${partial}`;
  return `${tables}, ${rows.toLocaleString('en-US')} rows, ${schemas}${partial ? `; ${partial} (they restore empty)` : ''}`;
}

/** "daily/app_20261121_020000, taken 24h00m before this attempt, on local and s3". */
function lastGoodText(lastGood: LastGoodBackup | null, database: string, startedAt: string): string {
  if (!lastGood) return `none: there is no complete backup of ${database} yet`;
  const age = between(lastGood.startedAt, startedAt);
  const targets = lastGood.targets.length ? `, on ${lastGood.targets.join(' and ')}` : '';
  return `${lastGood.tier}/${lastGood.id}, ${age ? `taken ${age} before this attempt` : `taken ${at(lastGood.startedAt)}`}${targets}`;
}

export function backupFailed(event: BackupFailedEvent, prefix: string): ReportDocument {
  const where = sidecarName(event.sidecar, event)!;
  const failure = describeFailure(event.error);
  const headline = oneLine(failure.what, 160);
  const lastGood = event.lastGood === undefined ? undefined : lastGoodText(event.lastGood, event.database, event.startedAt);
  const sections: Section[] = [
    {
      blocks: [
        // The headline is cut when long: the whole sentence stays readable here.
        ...(headline !== failure.what ? [{ type: 'callout' as const, tone: 'fail' as const, title: 'What failed', text: failure.what }] : []),
        facts(
          lastGood !== undefined && { label: 'Last good backup', value: lastGood },
          { label: 'Database', value: where },
          { label: 'Tier', value: event.tier },
          { label: 'Started', value: at(event.startedAt) },
          event.durationMs !== undefined && { label: 'Failed after', value: formatDuration(event.durationMs) },
          failure.process !== undefined && { label: 'Failed process', value: failure.process },
          { label: 'Next run', value: nextRunText(event.nextRun) },
        ),
        {
          type: 'paragraph',
          text: `Nothing was listed for this attempt: partial files and uploads were removed. Older backups stay: retention deletes nothing in the ${event.tier} tier while its newest attempt has failed.`,
        },
      ],
    },
  ];
  if (failure.stderr) sections.push({ title: `${failure.command}'s error output (stderr)`, blocks: [{ type: 'code', lines: failure.stderr.split('\n') }] });
  sections.push({ title: 'What to check', blocks: [{ type: 'list', items: checksFor(event.error) }] });
  return {
    subject: subjectLine(prefix, 'FAILED', `${event.tier} backup ${where}: ${failure.what}`),
    sidecar: where,
    tone: 'fail',
    headline: `Backup failed: ${headline}`,
    summary: `The ${event.tier} backup of ${where} failed${event.durationMs !== undefined ? ` after ${formatDuration(event.durationMs)}` : ''}.${lastGood ? ` Last good backup: ${lastGood}.` : ''}`,
    sections,
  };
}

/** A SQLite backup's integrity_check as recorded at backup time. */
function describeIntegrity(integrity: 'ok' | string[] | undefined): string {
  if (integrity === undefined || integrity === 'ok') return 'ok';
  return `reported ${plural(integrity.length, 'problem')}: ${integrity.slice(0, 3).join('; ')}`;
}
