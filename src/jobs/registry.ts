import type { JobName } from '../config';
import { backupAndReport, cleanupAndReport, restoreTestAndReport, storageReport, type ReportingDeps } from './backup';
import { failedBackupTiers, readState } from '../scheduler/state';
import { healthJob, healthSummary } from './health';
import { rotateLogs } from './logrotate';
import { formatBytes } from '../format';

/** What a job reports back: a one-line summary for the log and the state file, and for backups what was stored. */
export type JobResult = string | { summary: string; storedBytes: number; backupId: string };

/** What a scheduled job does. */
export type JobRunner = (deps: ReportingDeps, signal: AbortSignal) => Promise<JobResult>;

const backupJob =
  (tier: 'daily' | 'weekly' | 'monthly'): JobRunner =>
  async (deps, signal) => {
    const manifest = await backupAndReport(deps, { tier, signal });
    return { summary: `${tier} backup ${manifest.id}: ${manifest.storedBytes} bytes stored`, storedBytes: manifest.storedBytes, backupId: manifest.id };
  };

const cleanupJob: JobRunner = async (deps) => {
  const failedTiers = failedBackupTiers(await readState(deps.config.stateDir));
  const summary = await cleanupAndReport(deps, { failedTiers });
  if (summary.errors.length) throw new Error(`cleanup could not delete ${summary.errors.length} object(s): ${summary.errors.map((e) => `${e.key} on ${e.target}: ${e.message}`).join('; ')}`);
  return `cleanup: ${summary.totals.deleted} backups, ${summary.totals.restoreTestsDeleted} restore-test records and ${summary.totals.leftoversDeleted} leftovers deleted, ${formatBytes(summary.totals.bytesFreed)} freed`;
};

const restoreTestJob: JobRunner = async (deps, signal) => {
  const { result, failure } = await restoreTestAndReport(deps, { selector: 'latest', signal });
  if (failure) throw failure;
  if (!result.ok) throw new Error(`restore test of ${result.backup.id} failed: ${result.problems.join('; ')}`);
  return `restore test of ${result.backup.id} passed in ${result.timings.totalMs} ms`;
};

const healthCheckJob: JobRunner = async (deps) => {
  const { report, sent } = await healthJob(deps);
  return healthSummary(report, sent);
};


export function jobRunners(): Record<JobName, JobRunner> {
  return {
    daily: backupJob('daily'),
    weekly: backupJob('weekly'),
    monthly: backupJob('monthly'),
    'restore-test': restoreTestJob,
    cleanup: cleanupJob,
    health: healthCheckJob,
    'storage-report': (deps) => storageReport(deps),
    logrotate: (deps) => rotateLogs(deps.config, deps.log),
  };
}
