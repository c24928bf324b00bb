import { formatBytes, formatDuration } from '../../format';
import { describeTables } from '../../postgres/relations';
import type { BackupRunEvent, SourceOutcome } from '../events';
import { at, nextRunText, oneLine, sidecarName, subjectLine } from './common';
import { facts, plural, type ReportDocument, type Section } from './document';
import { describeFailure } from './hints';

/** A source's line in the run's table: what was stored, or why it failed. */
function outcomeText(outcome: SourceOutcome): string {
  const { manifest } = outcome;
  if (!manifest) return `FAILED: ${oneLine(describeFailure(outcome.error ?? 'unknown error').what, 240)}`;
  const contents = manifest.inventory.roles ? plural(manifest.inventory.roles.length, 'role') : describeTables(manifest.inventory.tables);
  return `OK ${manifest.id}: ${formatBytes(manifest.storedBytes)} stored in ${formatDuration(manifest.durationMs)}; ${contents}`;
}

/** One report for a run over several sources: each source's outcome; the failed ones named first, in the subject too. */
export function backupRun(event: BackupRunEvent, prefix: string): ReportDocument {
  const where = sidecarName(event.sidecar) ?? 'this server';
  const failed = event.outcomes.filter((outcome) => !outcome.manifest);
  const stored = event.outcomes.reduce((sum, outcome) => sum + (outcome.manifest?.storedBytes ?? 0), 0);
  const took = formatDuration(event.durationMs);
  const count = plural(event.outcomes.length, 'source');
  const sections: Section[] = [
    {
      blocks: [
        facts(
          { label: 'Tier', value: event.tier },
          { label: 'Started', value: at(event.startedAt) },
          { label: 'Duration', value: took },
          { label: 'Stored', value: formatBytes(stored) },
          { label: 'Next run', value: nextRunText(event.nextRun) },
        ),
      ],
    },
    { title: 'Each source', blocks: [facts(...event.outcomes.map((outcome) => ({ label: outcome.source, value: outcomeText(outcome) })))] },
  ];
  for (const outcome of failed) {
    const failure = describeFailure(outcome.error ?? 'unknown error');
    sections.push({
      title: `${outcome.source} failed`,
      blocks: [
        { type: 'paragraph', text: `${outcome.describe}: ${failure.what}` },
        ...(failure.stderr ? [{ type: 'code' as const, lines: failure.stderr.split('\n') }] : []),
        { type: 'paragraph', text: `Nothing was listed for ${outcome.source} in this run; its older backups stay. The other sources were backed up regardless.` },
      ],
    });
  }
  if (failed.length) {
    const names = failed.map((outcome) => outcome.source).join(', ');
    return {
      subject: subjectLine(prefix, 'FAILED', `${event.tier} backup ${where}: ${failed.length} of ${count} failed (${names})`),
      sidecar: where,
      tone: 'fail',
      headline: `Backup failed for ${names}`,
      summary: `The ${event.tier} backup run of ${count} on ${where}: ${failed.length} failed (${names}), ${event.outcomes.length - failed.length} stored.`,
      sections,
    };
  }
  return {
    subject: subjectLine(prefix, 'OK', `${event.tier} backup ${where}: ${count}, ${formatBytes(stored)} in ${took}`),
    sidecar: where,
    tone: 'ok',
    headline: 'Backup succeeded',
    summary: `${event.tier} backup of ${count}: ${formatBytes(stored)} stored in ${took}, checksummed and listed.`,
    sections,
  };
}
