import { formatBytes } from '../format';
import { runCleanup, type CleanupRequest, type CleanupSummary } from '../retention/apply';
import { failedBackupTiers, readState } from '../state/daemon-state';
import { report, type JobRunner, type JobDeps } from './job';

/** Retention applied, then its summary reported (a dry run reports nothing). */
export async function cleanupAndReport(deps: JobDeps, request: CleanupRequest): Promise<CleanupSummary> {
  const summary = await runCleanup(deps, request);
  if (!request.dryRun) await report(deps, { kind: 'cleanup-summary', summary });
  return summary;
}

/** The daemon's cleanup: tiers whose last scheduled backup failed keep everything; a failed deletion fails the job. */
export const cleanupJob: JobRunner = async (deps) => {
  const failedTiers = failedBackupTiers(await readState(deps.config.stateDir));
  const summary = await cleanupAndReport(deps, { failedTiers });
  if (summary.errors.length) throw new Error(`cleanup could not delete ${summary.errors.length} object(s): ${summary.errors.map((e) => `${e.key} on ${e.target}: ${e.message}`).join('; ')}`);
  const wal = summary.wal ? `, ${summary.wal.totals.deleted} WAL files (${formatBytes(summary.wal.totals.bytesFreed)})` : '';
  return `cleanup: ${summary.totals.deleted} backups, ${summary.totals.restoreTestsDeleted} restore-test records and ${summary.totals.leftoversDeleted} leftovers deleted, ${formatBytes(summary.totals.bytesFreed)} freed${wal}`;
};
