import { formatBytes, formatDuration } from '../../format';
import { manualRecoverySteps } from '../../pitr/base/recovery-steps';
import type { BaseBackupEvent } from '../events';
import { at, between, nextRunText, oneLine, ratio, sidecarName, subjectLine } from './common';
import { facts, type ReportDocument, type Section } from './document';
import { checksFor, describeFailure } from './hints';

export const BASE_GENERAL_CHECKS = ['run `keepsake base-backup` by hand to watch it fail with the full output', '`keepsake config` prints the configuration keepsake sees, with secrets redacted'];

type Succeeded = Extract<BaseBackupEvent, { kind: 'base-backup-succeeded' }>;
type Failed = Extract<BaseBackupEvent, { kind: 'base-backup-failed' }>;

/** A base backup stored: its size, time and WAL positions, and how to recover from it by hand. */
export function baseBackupSucceeded(event: Succeeded, prefix: string): ReportDocument {
  const { manifest } = event;
  const where = sidecarName(event.sidecar, manifest)!;
  const size = formatBytes(manifest.storedBytes);
  const took = formatDuration(manifest.durationMs);
  const physical = manifest.physical;
  const file = manifest.key.split('/').pop()!;
  return {
    subject: subjectLine(prefix, 'OK', `base backup ${where}: ${size} in ${took}`),
    sidecar: where,
    tone: 'ok',
    headline: 'Base backup succeeded',
    summary: `Base backup ${manifest.id}: ${size} stored in ${took}, checksummed and listed; with the WAL archive after it, the cluster can be recovered to any moment since.`,
    sections: [
      {
        blocks: [
          facts(
            { label: 'Backup id', value: `${manifest.tier}/${manifest.id}`, mono: true },
            { label: 'Cluster', value: where },
            { label: 'Started', value: at(manifest.startedAt) },
            { label: 'Duration', value: took },
            { label: 'Next run', value: nextRunText(event.nextRun) },
            { label: 'Stored size', value: `${size} (${ratio(manifest.rawBytes, manifest.storedBytes)} of ${formatBytes(manifest.rawBytes)})` },
            physical && { label: 'WAL start', value: `${physical.startLsn} on timeline ${physical.timeline} (segment ${physical.startSegment})`, mono: true },
            physical && { label: 'WAL stop', value: physical.stopLsn, mono: true },
            physical && { label: 'System id', value: physical.systemIdentifier, mono: true },
            { label: 'Databases', value: (manifest.inventory.databases ?? []).join(', ') || '-' },
            { label: 'sha256', value: manifest.sha256, mono: true },
            manifest.server && physical && { label: 'PostgreSQL', value: `server ${manifest.server.version}, pg_basebackup ${physical.pgBasebackup.version}` },
          ),
        ],
      },
      { title: 'Where it is stored', blocks: [facts(...manifest.targets.map((target) => ({ label: target.target, value: target.location, mono: true })))] },
      {
        title: 'Recover by hand',
        blocks: [
          { type: 'paragraph', text: 'With keepsake: `keepsake restore --at "2026-11-30 11:59:00+00"` (or `--at latest`).' },
          { type: 'paragraph', text: `Without keepsake, with standard tools: copy ${file} from any location above, and the target's wal/ folder to /backups/wal, then run (as root, with the server's PostgreSQL major installed):` },
          { type: 'code', lines: manualRecoverySteps(manifest, file) },
        ],
      },
    ],
  };
}

/** A base backup that failed: what failed, the last good base backup, what to check. */
export function baseBackupFailed(event: Failed, prefix: string): ReportDocument {
  const where = sidecarName(event.sidecar) ?? event.host;
  const failure = describeFailure(event.error);
  const headline = oneLine(failure.what, 160);
  const lastGood = event.lastGood === undefined ? undefined : event.lastGood === null ? 'none: there is no base backup yet, so no point-in-time recovery is possible' : `${event.lastGood.tier}/${event.lastGood.id}, taken ${between(event.lastGood.startedAt, event.startedAt) ?? at(event.lastGood.startedAt)} before this attempt`;
  const sections: Section[] = [
    {
      blocks: [
        ...(headline !== failure.what ? [{ type: 'callout' as const, tone: 'fail' as const, title: 'What failed', text: failure.what }] : []),
        facts(
          lastGood !== undefined && { label: 'Last good base backup', value: lastGood },
          { label: 'Cluster', value: where },
          { label: 'Started', value: at(event.startedAt) },
          { label: 'Failed after', value: formatDuration(event.durationMs) },
          failure.process !== undefined && { label: 'Failed process', value: failure.process },
          { label: 'Next run', value: nextRunText(event.nextRun) },
        ),
        { type: 'paragraph', text: 'Nothing was listed for this attempt: partial files and uploads were removed. Recovery still works from the last good base backup while the WAL archive after it is complete; retention keeps the WAL it needs.' },
      ],
    },
  ];
  if (failure.stderr) sections.push({ title: `${failure.command}'s error output (stderr)`, blocks: [{ type: 'code', lines: failure.stderr.split('\n') }] });
  sections.push({ title: 'What to check', blocks: [{ type: 'list', items: checksFor(event.error, BASE_GENERAL_CHECKS) }] });
  return {
    subject: subjectLine(prefix, 'FAILED', `base backup ${where}: ${failure.what}`),
    sidecar: where,
    tone: 'fail',
    headline: `Base backup failed: ${headline}`,
    summary: `The base backup of ${where} failed after ${formatDuration(event.durationMs)}.${lastGood ? ` Last good base backup: ${lastGood}.` : ''}`,
    sections,
  };
}
