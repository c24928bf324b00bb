import { formatBytes, formatDuration } from '../format';
import type { BackupFailedEvent, BackupRunEvent, BackupSucceededEvent, BaseBackupEvent, LastGoodBackup } from '../report/events';
import { describeAnomaly, sizeAnomaly } from '../report/render/anomaly';
import { BASE_GENERAL_CHECKS } from '../report/render/base-backup';
import { checksFor, describeFailure } from '../report/render/hints';
import { backupOf, facts, manifestFacts, storedLinks, withHints, type NoticeDetails } from './notice-parts';

/** "daily/app_20261121_020000 (local, s3)", or why there is none. */
function lastGoodText(lastGood: LastGoodBackup | null): string {
  if (!lastGood) return 'none yet';
  return `${lastGood.tier}/${lastGood.id}${lastGood.targets.length ? ` (${lastGood.targets.join(', ')})` : ''}`;
}

export function backupSucceededDetails(event: BackupSucceededEvent | Extract<BaseBackupEvent, { kind: 'base-backup-succeeded' }>): NoticeDetails {
  const { manifest } = event;
  const anomaly = event.kind === 'backup-succeeded' ? sizeAnomaly(manifest, event.recentSizes) : undefined;
  const size = `${formatBytes(manifest.storedBytes)}${anomaly ? ` (${describeAnomaly(anomaly)})` : ''}`;
  return {
    backup: backupOf(manifest),
    durationMs: manifest.durationMs,
    // A size anomaly is the one warning in good news: the e-mail's callout says what to look at.
    ...(anomaly ? withHints([anomaly.direction === 'smaller' ? 'a suddenly small dump often means lost data, a truncated table or a job pointed at the wrong database: compare the row counts in the e-mail report' : 'a suddenly large dump often means a runaway table (logs, sessions, queues) or a data import: check which tables grew']) : { hints: [] }),
    facts: manifestFacts(manifest, size),
    links: storedLinks(manifest.targets),
  };
}

export function backupFailedDetails(event: BackupFailedEvent | Extract<BaseBackupEvent, { kind: 'base-backup-failed' }>): NoticeDetails {
  const base = event.kind === 'base-backup-failed';
  return {
    error: event.error,
    durationMs: event.durationMs,
    ...withHints(base ? checksFor(event.error, BASE_GENERAL_CHECKS) : checksFor(event.error)),
    facts: facts(
      { label: 'Tier', value: base ? 'base' : event.tier },
      event.durationMs !== undefined && { label: 'Failed after', value: formatDuration(event.durationMs) },
      event.lastGood !== undefined && { label: base ? 'Last good base backup' : 'Last good backup', value: lastGoodText(event.lastGood) },
    ),
    links: [],
  };
}

/**
 * A run over several sources is one notice: its error names each failed source in its own words,
 * its hints are each failure's (once each), and its links are every stored copy of the sources that worked.
 */
export function backupRunDetails(event: BackupRunEvent): NoticeDetails {
  const failed = event.outcomes.filter((outcome) => !outcome.manifest);
  const stored = event.outcomes.flatMap((outcome) => (outcome.manifest ? [outcome.manifest] : []));
  const bytes = stored.reduce((sum, manifest) => sum + manifest.storedBytes, 0);
  const hints = [...new Set(failed.flatMap((outcome) => checksFor(outcome.error ?? 'unknown error')))];
  return {
    ...(failed.length ? { error: failed.map((outcome) => `${outcome.source}: ${outcome.error ?? 'unknown error'}`).join('\n'), ...withHints(hints) } : { hints: [] }),
    // One backup is the run's only when one source was backed up; several have no single id.
    ...(stored.length === 1 && event.outcomes.length === 1 ? { backup: backupOf(stored[0]!) } : {}),
    durationMs: event.durationMs,
    facts: facts(
      { label: 'Tier', value: event.tier },
      { label: 'Sources', value: failed.length ? `${event.outcomes.length}, ${failed.length} failed: ${failed.map((outcome) => `${outcome.source} (${describeFailure(outcome.error ?? 'unknown error').what})`).join('; ')}` : String(event.outcomes.length) },
      stored.length > 0 && { label: 'Stored', value: `${formatBytes(bytes)} (${stored.map((manifest) => manifest.source?.name ?? manifest.database).join(', ')})` },
      { label: 'Took', value: formatDuration(event.durationMs) },
    ),
    links: stored.flatMap((manifest) => storedLinks(manifest.targets).map((link) => ({ ...link, title: `${manifest.source?.name ?? manifest.database} on ${link.title}` }))),
  };
}
