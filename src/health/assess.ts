import type { Manifest } from '../backup/manifest';
import { describeUnreadable, type Unreadable } from '../postgres/privileges';
import { plural } from '../report/render/document';
import type { Config, JobName } from '../config';
import { SCHEDULED_TIERS } from '../config/schema';
import { formatBytes, formatDuration } from '../format';
import type { RestoreTestResult } from '../restore/restore-test';
import type { DaemonState } from '../state/daemon-state';
import { fail, ok, warn, type HealthCheckResult } from './report';

/**
 * The pure half of the health checks: verdicts on facts already gathered (catalog, state files,
 * disk numbers). Every message says what is wrong and what to do about it.
 */

export { SCHEDULED_TIERS };
export type ScheduledTier = (typeof SCHEDULED_TIERS)[number];

/** The daemon refreshes its heartbeat every minute; three missed beats mean it is gone. */
export const HEARTBEAT_STALE_MS = 3 * 60_000;
/** A report waiting longer than this means mail delivery is broken. */
export const OUTBOX_STALE_MS = 3_600_000;
/** The size check needs a few earlier backups to have a median worth comparing against. */
const MIN_SIZE_HISTORY = 3;

export interface HealthFacts {
  now: number;
  config: Pick<Config, 'health' | 'schedule' | 'report'>;
  /** This database's listed (complete) backups, newest first. */
  backups: Manifest[];
  state: DaemonState;
  restoreTest?: RestoreTestResult;
  outbox: { count: number; oldestCreatedAt?: string; lastError?: string; dropped?: { count: number; failures: string[] } };
  /** True when the daemon itself runs the check: its own heartbeat needs no proof. */
  inDaemon: boolean;
  /** What STATE_DIR/daemon.lock says (state/daemon-lock.ts), when it was read. */
  daemon?: { state: 'none' } | { state: 'running' | 'dead'; pid: number; host: string };
}

const age = (now: number, iso: string) => now - Date.parse(iso);

/**
 * The daemon first ran (or, given `job`, first scheduled that job) less than `ms` ago: a missing
 * result is not overdue yet. The later of the two counts, so a tier new in an upgrade or switched
 * on from off gets its own first period, never a longer one than a fresh install.
 */
export function stillNew(facts: Pick<HealthFacts, 'now' | 'state'>, ms: number, job?: JobName): boolean {
  const started = facts.state.firstStartedAt ?? facts.state.startedAt;
  if (started === undefined) return false;
  const scheduled = job === undefined ? undefined : facts.state.jobs[job]?.firstScheduledAt;
  const since = Math.max(Date.parse(started), typeof scheduled === 'string' ? Date.parse(scheduled) || 0 : 0);
  return facts.now - since < ms;
}

const enabledTiers = (facts: HealthFacts) => SCHEDULED_TIERS.filter((tier) => facts.config.schedule.jobs[tier] !== 'off');

export function freshnessChecks(facts: HealthFacts): HealthCheckResult[] {
  return enabledTiers(facts).map((tier) => {
    const name = `freshness:${tier}`;
    const limit = facts.config.health.maxAgeMs[tier];
    const limitEnv = `HEALTH_MAX_AGE_${tier.toUpperCase()}`;
    const newest = facts.backups.find((manifest) => manifest.tier === tier);
    if (!newest) {
      const next = facts.state.jobs[tier]?.nextRun;
      if (stillNew(facts, limit, tier)) return warn(name, `no ${tier} backup yet; the first is due ${next ?? 'on schedule'} (or run \`keepsake backup --tier ${tier}\`)`);
      return fail(name, `there is no ${tier} backup; check \`keepsake status\` and the daemon's log, then run \`keepsake backup --tier ${tier}\``);
    }
    const elapsed = age(facts.now, newest.finishedAt);
    const value = formatDuration(Math.max(0, elapsed));
    if (elapsed > limit) {
      return fail(name, `the newest ${tier} backup is ${value} old (limit ${formatDuration(limit)}, ${limitEnv}); check \`keepsake status\` for the failing job`, value, elapsed);
    }
    return ok(name, `newest ${tier} backup ${newest.id} is ${value} old (limit ${formatDuration(limit)})`, value, elapsed);
  });
}

/**
 * The latest scheduled run of each tier did not fail (read from the daemon's state). A newer
 * backup of the tier (a manual `keepsake backup --tier daily`, say) makes up for a failed run.
 */
export function lastRunChecks(facts: HealthFacts): HealthCheckResult[] {
  return enabledTiers(facts).map((tier) => {
    const name = `last-run:${tier}`;
    const job = facts.state.jobs[tier];
    if (!job?.lastStart) return ok(name, `no scheduled ${tier} run yet`);
    const unfinished = !job.lastEnd || job.lastStart > job.lastEnd;
    // Started before this daemon's life and never finished: the daemon died during it.
    const crashed = unfinished && facts.state.startedAt !== undefined && job.lastStart < facts.state.startedAt;
    if (unfinished && !crashed) return ok(name, `a ${tier} backup is running (started ${formatDuration(age(facts.now, job.lastStart))} ago)`);
    const when = crashed ? job.lastStart : job.lastEnd!;
    const newer = facts.backups.find((manifest) => manifest.tier === tier && manifest.finishedAt > when);
    const madeUp = newer ? `; the newer ${tier} backup ${newer.id} makes up for it` : '';
    if (crashed) {
      const message = `the daemon stopped during the last ${tier} backup (crash, kill or out of memory; see the container's log)`;
      return newer ? ok(name, `${message}${madeUp}`, when) : fail(name, `${message}; run \`keepsake backup --tier ${tier}\``, when);
    }
    if (job.outcome === 'failed') {
      const message = `the last scheduled ${tier} backup failed: ${job.error ?? 'see the log'}`;
      return newer ? ok(name, `${message}${madeUp}`, when) : fail(name, `${message}; fix the cause, then run \`keepsake backup --tier ${tier}\``, when);
    }
    if (job.outcome === 'interrupted' && !newer) return warn(name, `the last ${tier} backup was interrupted (shutdown); the next run makes up for it`, when);
    return ok(name, `the last scheduled ${tier} backup ${job.outcome === 'ok' ? 'succeeded' : `was ${job.outcome}${madeUp}`}`, when);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A backup far smaller than usual often means dropped or emptied tables. */
export function sizeChecks(facts: HealthFacts): HealthCheckResult[] {
  const { minSizeRatio, minBackupBytes } = facts.config.health;
  const results: HealthCheckResult[] = [];
  for (const tier of SCHEDULED_TIERS) {
    const ofTier = facts.backups.filter((manifest) => manifest.tier === tier);
    const newest = ofTier[0];
    if (!newest) continue;
    const name = `size:${tier}`;
    const size = formatBytes(newest.storedBytes);
    if (minBackupBytes !== undefined && newest.storedBytes < minBackupBytes) {
      results.push(fail(name, `the newest ${tier} backup ${newest.id} is ${size}, below HEALTH_MIN_BACKUP_SIZE (${formatBytes(minBackupBytes)}); check that the database still holds its data`, size, newest.storedBytes));
      continue;
    }
    const history = ofTier.slice(1, 15).map((manifest) => manifest.storedBytes);
    if (minSizeRatio === 0 || history.length < MIN_SIZE_HISTORY) {
      results.push(ok(name, `newest ${tier} backup is ${size}${minSizeRatio === 0 ? '' : ` (not enough history to compare yet)`}`, size, newest.storedBytes));
      continue;
    }
    const typical = median(history);
    const ratio = typical > 0 ? newest.storedBytes / typical : 1;
    const percent = `${Math.round(ratio * 100)}%`;
    if (ratio < minSizeRatio) {
      results.push(
        fail(name, `the newest ${tier} backup ${newest.id} is ${size}, ${percent} of the recent median ${formatBytes(typical)} (HEALTH_MIN_SIZE_RATIO ${minSizeRatio}); check for dropped or emptied tables before retention removes older backups`, size, newest.storedBytes),
      );
    } else {
      results.push(ok(name, `newest ${tier} backup is ${size}, ${percent} of the recent median`, size, newest.storedBytes));
    }
  }
  return results;
}

export function restoreTestCheck(facts: HealthFacts): HealthCheckResult {
  const name = 'restore-test';
  const limit = facts.config.health.restoreTestMaxAgeMs;
  if (facts.config.schedule.jobs['restore-test'] === 'off' && !facts.restoreTest) return warn(name, 'restore tests are off (SCHEDULE_RESTORE_TEST=off): nothing proves the backups restore; run `keepsake restore-test` now and then');
  const last = facts.restoreTest;
  if (!last) {
    if (stillNew(facts, limit, 'restore-test')) return warn(name, `no restore test yet; the first is due ${facts.state.jobs['restore-test']?.nextRun ?? 'on schedule'} (or run \`keepsake restore-test\` now)`);
    return fail(name, 'no restore test has run: nothing proves the backups restore; run `keepsake restore-test`');
  }
  const elapsed = age(facts.now, last.finishedAt);
  const value = formatDuration(Math.max(0, elapsed));
  if (!last.ok) {
    return fail(name, `the last restore test (${last.backup.id}, ${value} ago) failed: ${last.problems[0] ?? last.error ?? 'see its report'}; run \`keepsake restore-test\` after fixing it`, value, elapsed);
  }
  if (elapsed > limit) return fail(name, `the last restore test passed ${value} ago (limit ${formatDuration(limit)}, HEALTH_MAX_AGE_RESTORE_TEST); check SCHEDULE_RESTORE_TEST or run \`keepsake restore-test\``, value, elapsed);
  return ok(name, `the last restore test of ${last.backup.id} passed ${value} ago`, value, elapsed);
}

export function outboxCheck(facts: HealthFacts): HealthCheckResult {
  const { count, oldestCreatedAt, lastError, dropped } = facts.outbox;
  // Reports dropped unsent to keep STATE_DIR bounded (OUTBOX_MAX_AGE, OUTBOX_MAX_REPORTS): never quietly.
  const droppedNote = dropped?.count
    ? `${dropped.count} undelivered report(s) dropped in the last 7 days to keep the outbox within OUTBOX_MAX_AGE and OUTBOX_MAX_REPORTS${dropped.failures.length ? `, ${dropped.failures.length} of them failures (${dropped.failures[0]})` : ''}`
    : undefined;
  const also = droppedNote ? `; ${droppedNote}` : '';
  if (!facts.config.report.smtp) {
    return warn('outbox', `no SMTP server is configured, so nobody is told when a backup fails; set SMTP_HOST and MAIL_TO (reports are kept in STATE_DIR/reports meanwhile)${also}`, String(count), count);
  }
  const waited = count && oldestCreatedAt ? age(facts.now, oldestCreatedAt) : 0;
  if (waited > OUTBOX_STALE_MS) {
    return fail('outbox', `${count} report(s) waiting, the oldest for ${formatDuration(waited)}: mail delivery fails${lastError ? ` (${lastError})` : ''}; fix SMTP_*, then \`keepsake outbox flush\`${also}`, String(count), count);
  }
  if (droppedNote) return warn('outbox', `${droppedNote}: mail was not delivered for a long time; check the SMTP settings and \`keepsake outbox list\``, String(count), count);
  if (!count) return ok('outbox', 'no reports waiting', '0', 0);
  return ok('outbox', `${count} report(s) waiting to be retried, the oldest for ${formatDuration(waited)}`, String(count), count);
}

export function heartbeatCheck(facts: HealthFacts): HealthCheckResult {
  if (facts.inDaemon) return ok('scheduler', 'the daemon is running this check', undefined, 0);
  const { heartbeat, startedAt, stoppedAt } = facts.state;
  if (!startedAt || !heartbeat) return warn('scheduler', 'the daemon has not run here: nothing is scheduled; start it with `keepsake daemon` (the container does)');
  // Sooner than a stale heartbeat can say: the daemon's lock tells a killed or stopped daemon at once.
  const daemon = facts.daemon;
  if (daemon?.state === 'dead') return fail('scheduler', `the daemon (pid ${daemon.pid} on ${daemon.host}) ended without stopping (killed or crashed): nothing is scheduled; check the container and its log`);
  if (daemon?.state === 'none' && stoppedAt && stoppedAt >= startedAt) {
    return fail('scheduler', `the daemon stopped ${formatDuration(Math.max(0, age(facts.now, stoppedAt)))} ago: nothing is scheduled; start it again (the container's restart policy should)`);
  }
  const elapsed = age(facts.now, heartbeat);
  const value = formatDuration(Math.max(0, elapsed));
  if (elapsed > HEARTBEAT_STALE_MS) return fail('scheduler', `the daemon's last heartbeat was ${value} ago: it is not running; check the container and its log`, value, elapsed);
  return ok('scheduler', `the daemon is running (heartbeat ${value} ago)`, value, elapsed);
}

/**
 * Whether the backup role can read everything pg_dump dumps; a role that cannot makes every backup
 * fail (or die mid-dump on the first large object), so this fails now rather than at 2 a.m.
 * `unreadable` is undefined when the database did not answer (the database check says so).
 */
export function privilegesCheck(unreadable: Unreadable | Error | undefined): HealthCheckResult | undefined {
  if (!unreadable) return undefined;
  if (unreadable instanceof Error) return warn('privileges', `cannot check what the backup role may read: ${unreadable.message.split('\n')[0]}`);
  const problem = describeUnreadable(unreadable);
  const total = unreadable.tables.length + unreadable.sequences.length + unreadable.rowSecurity.length + unreadable.largeObjects.count;
  if (problem) return fail('privileges', problem, `${total} unreadable`, total);
  const { tables, matviews, sequences, largeObjects } = unreadable.checked;
  const all = [plural(tables, 'table'), ...(matviews ? [plural(matviews, 'materialized view')] : []), plural(sequences, 'sequence'), plural(largeObjects, 'large object')];
  return ok('privileges', `"${unreadable.user}" can read all ${all.slice(0, -1).join(', ')} and ${all.at(-1)}`, '0 unreadable', 0);
}

/** Every verdict that needs no network, on facts already gathered (the unit tests drive it directly). */
export function assess(facts: HealthFacts): HealthCheckResult[] {
  return [...freshnessChecks(facts), ...lastRunChecks(facts), ...sizeChecks(facts), restoreTestCheck(facts), outboxCheck(facts), heartbeatCheck(facts)];
}
