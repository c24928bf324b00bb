import { formatBytes, formatDuration } from '../format';
import type { CleanupSummaryEvent, HealthEvent, OffsiteEvent, RestoreTestEvent, StorageReportEvent, WalStreamingEvent } from '../report/events';
import { between, humanTimes } from '../report/render/common';
import { plural } from '../report/render/document';
import { checksFor, describeFailure } from '../report/render/hints';
import { lagText } from '../report/render/offsite';
import { restoreTestChecks } from '../report/render/restore-test';
import { facts, storedLinks, withHints, type NoticeDetails } from './notice-parts';

/**
 * A storage error's hints: keepsake's own advice from its message, then what the job does about it.
 * Not checksFor's pattern hints: those are about the database ("connection refused" there means PostgreSQL).
 */
function storageHints(error: string, then: string): string[] {
  const { advice } = describeFailure(error);
  return [...(advice ? [advice] : []), then];
}

const HEALTH_COMMANDS = "`keepsake health` runs every check now; `keepsake status` shows each job's last run and error";

export function restoreTestDetails(event: RestoreTestEvent): NoticeDetails {
  const { result } = event;
  const { backup } = result;
  const name = `${backup.tier}/${backup.id}`;
  const passed = event.kind === 'restore-test-passed';
  const failure = result.error ?? (result.problems.join('\n') || 'restore test failed');
  const recoveryMs = (result.timings.fetchMs ?? 0) + (result.timings.restoreMs ?? 0);
  const matching = result.tables.filter((table) => table.ok).length;
  return {
    backup: { id: backup.id, tier: backup.tier, source: backup.database, startedAt: backup.startedAt, rawBytes: backup.rawBytes, storedBytes: backup.storedBytes, sha256: backup.sha256 },
    durationMs: result.timings.totalMs,
    ...(passed ? { hints: [] } : { error: failure, ...withHints(checksFor(failure, restoreTestChecks(name))) }),
    facts: facts(
      { label: 'Backup', value: name },
      result.tables.length > 0 && { label: 'Tables', value: `${matching} of ${plural(result.tables.length, 'table')} ${backup.contents?.schemaOnly ? 'exist' : 'match'}` },
      recoveryMs > 0 && { label: 'Recovery time', value: formatDuration(recoveryMs) },
      { label: 'Took', value: formatDuration(result.timings.totalMs) },
    ),
    links: storedLinks([{ target: 'tested copy', location: backup.location }], 'tested'),
  };
}

export function cleanupDetails({ summary }: CleanupSummaryEvent): NoticeDetails {
  const { totals, errors, dryRun } = summary;
  const first = errors[0];
  return {
    ...(first
      ? {
          error: [...errors.slice(0, 5).map((error) => `${error.target}: ${error.key}: ${error.message}`), ...(errors.length > 5 ? [`… and ${errors.length - 5} more`] : [])].join('\n'),
          ...withHints(storageHints(first.message, 'the objects are still there and stay complete; the next cleanup tries again')),
        }
      : { hints: [] }),
    facts: facts(
      { label: dryRun ? 'Would delete' : 'Deleted', value: plural(totals.deleted, 'backup') },
      { label: 'Kept', value: plural(totals.kept, 'backup') },
      { label: dryRun ? 'Would free' : 'Freed', value: formatBytes(totals.bytesFreed) },
      errors.length > 0 && { label: 'Failed deletions', value: String(errors.length) },
    ),
    links: [],
  };
}

/**
 * An alert carries the checks that are not ok, failures first; its next step is the first failure's
 * own message (each check's message says what to do). A recovery carries every check: all pass now.
 */
export function healthDetails(event: HealthEvent): NoticeDetails {
  const lasted = between(event.since, event.checkedAt);
  const asNotice = (check: HealthEvent['checks'][number]) => ({ name: check.name, status: check.status, message: humanTimes(check.message) });
  if (event.kind === 'health-recovered') {
    return { hints: [], checks: event.checks.map(asNotice), facts: facts(lasted !== undefined && { label: 'Unhealthy for', value: lasted }, { label: 'Checks', value: `all ${event.checks.length} ok` }), links: [] };
  }
  const failing = event.checks.filter((check) => check.status === 'fail');
  const warning = event.checks.filter((check) => check.status === 'warn');
  const checks = [...failing, ...warning].map(asNotice);
  return {
    checks,
    hints: [...checks.map((check) => `${check.name}: ${check.message}`), HEALTH_COMMANDS],
    nextStep: checks[0] ? checks[0].message : HEALTH_COMMANDS,
    facts: facts(
      failing.length > 0 && { label: 'Failing', value: failing.map((check) => check.name).join(', ') },
      warning.length > 0 && { label: 'Warnings', value: warning.map((check) => check.name).join(', ') },
      lasted !== undefined && { label: 'Unhealthy for', value: lasted },
    ),
    links: [],
  };
}

export function storageDetails(event: StorageReportEvent): NoticeDetails {
  const count = event.tiers.reduce((sum, tier) => sum + tier.count, 0);
  return {
    hints: [],
    facts: facts(
      { label: 'Total stored', value: formatBytes(event.totalBytes) },
      { label: 'Backups', value: String(count) },
      event.growthBytes !== undefined && { label: 'Growth', value: `${event.growthBytes >= 0 ? '+' : '-'}${formatBytes(Math.abs(event.growthBytes))}` },
      ...(event.targets ?? []).filter((target) => target.freeBytes !== null).map((target) => ({ label: `Free on ${target.target}`, value: formatBytes(target.freeBytes!) })),
    ),
    links: [],
  };
}

export function offsiteDetails(event: OffsiteEvent): NoticeDetails {
  const troubles = event.targets.flatMap((result) => [...(result.error ? [result.error] : []), ...result.failed.map((failed) => `${result.target}: ${failed.tier}/${failed.id}: ${failed.error}`)]);
  const copied = event.targets.reduce((sum, result) => sum + result.copied.length, 0);
  const firstFailure = event.targets.flatMap((result) => result.failed.map((failed) => failed.error))[0];
  const startedMs = Date.parse(event.startedAt);
  const durationMs = Date.parse(event.finishedAt) - startedMs;
  return {
    ...(troubles.length ? { error: troubles.join('\n'), ...withHints(storageHints(firstFailure ?? troubles[0]!, 'backups on the primary targets are not affected; the next off-site run copies what is missing')) } : { hints: [] }),
    ...(Number.isFinite(durationMs) && durationMs >= 0 ? { durationMs } : {}),
    facts: facts(
      { label: 'Copied', value: plural(copied, 'backup') },
      ...event.targets.map((result) => ({ label: `Behind on ${result.target}`, value: lagText(result.lag) })),
    ),
    links: storedLinks(event.targets.map((result) => ({ target: result.target, location: result.location })), 'offsite'),
  };
}

export function walStreamingDetails(event: WalStreamingEvent): NoticeDetails {
  const lasted = between(event.since, event.checkedAt);
  const common = facts(
    lasted !== undefined && { label: 'Down for', value: lasted },
    { label: 'Last archived', value: event.lastShipped ? `${event.lastShipped.name}` : 'none yet' },
    { label: 'Replication slot', value: event.slot },
  );
  if (event.kind === 'wal-streaming-recovered') return { hints: [], facts: common, links: [] };
  const error = event.problems.map(humanTimes).join('\n') || 'WAL streaming is down';
  return {
    error,
    ...withHints(checksFor(error, [`the replication slot \`${event.slot}\` keeps the server's WAL meanwhile, but the server's disk fills: \`keepsake health\` shows how much it holds back`])),
    facts: [...common, { label: 'pg_receivewal', value: `${event.receiver.state}, ${plural(event.receiver.restarts, 'restart')}` }],
    links: [],
  };
}
