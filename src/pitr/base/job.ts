import { runBackup } from '../../backup/run-backup';
import type { Manifest } from '../../backup/manifest';
import { InterruptedError, coerceError } from '../../errors';
import { lastGoodBackup } from '../../jobs/backup';
import { CLUSTER_SOURCE_NAME } from './cluster-source';
import { baseBackupSource } from '../../sources';
import { report, type JobDeps, type JobRunner } from '../../jobs/job';

/** The newest base backup before this attempt, for a failure report; undefined when the catalog is unreadable. */
/** One base backup (tier base, source `cluster`) and its report; an interrupt is not reported. */
export async function baseBackupAndReport(deps: JobDeps, options: { signal?: AbortSignal; onProgress?: (progress: { storedBytes: number }) => void } = {}): Promise<Manifest> {
  const started = new Date();
  try {
    const manifest = await runBackup(deps, { tier: 'base', source: baseBackupSource(deps.config), signal: options.signal, onProgress: options.onProgress });
    await report(deps, { kind: 'base-backup-succeeded', manifest, nextRun: deps.nextRun });
    return manifest;
  } catch (error) {
    if (!(error instanceof InterruptedError)) {
      const durationMs = Date.now() - started.getTime();
      await report(deps, { kind: 'base-backup-failed', host: deps.config.database.host, startedAt: started.toISOString(), durationMs, error: coerceError(error).message, nextRun: deps.nextRun, lastGood: await lastGoodBackup(deps, CLUSTER_SOURCE_NAME) });
    }
    throw error;
  }
}

/** The base-backup job (PITR=on; SCHEDULE_BASE_BACKUP, and once at daemon start when there is none). */
export const baseBackupJob: JobRunner = async (deps, signal) => {
  const manifest = await baseBackupAndReport(deps, { signal });
  return { summary: `base backup ${manifest.id}: ${manifest.storedBytes} bytes stored`, storedBytes: manifest.storedBytes, backupId: manifest.id };
};
