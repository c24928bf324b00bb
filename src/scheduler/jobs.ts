import type { JobName } from '../config';
import { backupAndReport, cleanupAndReport, restoreTestAndReport, storageReport, type ReportingDeps } from '../report/reported-jobs';
import { failedBackupTiers, readState } from './state';

/** What a scheduled job does. Each returns a one-line summary for the log and the state file. */
export type JobRunner = (deps: ReportingDeps, signal: AbortSignal) => Promise<string>;

const backupJob =
  (tier: 'daily' | 'weekly' | 'monthly'): JobRunner =>
  async (deps, signal) => {
    const manifest = await backupAndReport(deps, { tier, signal });
    return `${tier} backup ${manifest.id}: ${manifest.storedBytes} bytes stored`;
  };

const cleanupJob: JobRunner = async (deps) => {
  const failedTiers = failedBackupTiers(await readState(deps.config.stateDir));
  const summary = await cleanupAndReport(deps, { failedTiers });
  if (summary.errors.length) throw new Error(`cleanup could not delete ${summary.errors.length} object(s): ${summary.errors.map((e) => `${e.key} on ${e.target}: ${e.message}`).join('; ')}`);
  return `cleanup: ${summary.totals.deleted} backups, ${summary.totals.restoreTestsDeleted} restore-test records and ${summary.totals.leftoversDeleted} leftovers deleted, ${summary.totals.bytesFreed} bytes freed`;
};

const restoreTestJob: JobRunner = async (deps, signal) => {
  const { result, failure } = await restoreTestAndReport(deps, { selector: 'latest', signal });
  if (failure) throw failure;
  if (!result.ok) throw new Error(`restore test of ${result.backup.id} failed: ${result.problems.join('; ')}`);
  return `restore test of ${result.backup.id} passed in ${result.timings.totalMs} ms`;
};

/**
 * Jobs whose work later releases bring (health checks, log rotation) have
 * their slot, schedule and state already; until then they record that they did nothing.
 */
const notYet =
  (what: string): JobRunner =>
  async () =>
    `${what} is not part of this release yet; nothing done`;

export function jobRunners(): Record<JobName, JobRunner> {
  return {
    daily: backupJob('daily'),
    weekly: backupJob('weekly'),
    monthly: backupJob('monthly'),
    'restore-test': restoreTestJob,
    cleanup: cleanupJob,
    health: notYet('the health check'),
    'storage-report': (deps) => storageReport(deps),
    logrotate: notYet('log rotation'),
  };
}
