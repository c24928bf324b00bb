import { runBackup, type BackupRequest } from '../backup/run-backup';
import type { Manifest } from '../backup/manifest';
import { readCatalog } from '../catalog/catalog';
import { InterruptedError, coerceError } from '../errors';
import { pingDeadMansSwitch } from '../health/ping';
import type { LastGoodBackup } from '../report/events';
import { report, type JobRunner, type JobDeps } from './job';

/** The recent stored sizes of the same tier and database: the yardstick for the anomaly warning. */
async function recentSizes(deps: JobDeps, manifest: Manifest): Promise<{ startedAt: string; storedBytes: number }[]> {
  try {
    const { backups } = await readCatalog(deps.storages, { tier: manifest.tier });
    return backups
      // A schema-only backup is measured against schema-only ones: against full ones it would always look lost.
      .filter((entry) => entry.manifest.database === manifest.database && entry.manifest.id !== manifest.id && Boolean(entry.manifest.contents?.schemaOnly) === Boolean(manifest.contents?.schemaOnly))
      .slice(0, 14)
      .map((entry) => ({ startedAt: entry.manifest.startedAt, storedBytes: entry.manifest.storedBytes }));
  } catch (error) {
    deps.log.warn({ err: coerceError(error) }, 'could not read recent backups for the report');
    return [];
  }
}

/** The newest complete backup of this database, any tier: what a failure report says is safe. Undefined when unreadable. */
async function lastGoodBackup(deps: JobDeps): Promise<LastGoodBackup | null | undefined> {
  try {
    const { backups } = await readCatalog(deps.storages);
    const newest = backups.find((entry) => entry.manifest.database === deps.config.database.database);
    return newest ? { tier: newest.manifest.tier, id: newest.manifest.id, startedAt: newest.manifest.startedAt, targets: newest.copies.map((copy) => copy.storage.name) } : null;
  } catch (error) {
    deps.log.warn({ err: coerceError(error) }, 'could not read the last good backup for the report');
    return undefined;
  }
}

/** A backup, its report, and the dead man's switch's ping (ok or fail); an interrupt is neither reported nor pinged. */
export async function backupAndReport(deps: JobDeps, request: BackupRequest): Promise<Manifest> {
  const started = new Date();
  try {
    const manifest = await runBackup(deps, request);
    await report(deps, { kind: 'backup-succeeded', manifest, nextRun: deps.nextRun, recentSizes: await recentSizes(deps, manifest) });
    await pingDeadMansSwitch(deps.config.health.pingUrl, 'ok', deps.log);
    return manifest;
  } catch (error) {
    if (!(error instanceof InterruptedError)) {
      const db = deps.config.database;
      const durationMs = Date.now() - started.getTime();
      const lastGood = await lastGoodBackup(deps);
      await report(deps, { kind: 'backup-failed', tier: request.tier, database: db.database, host: db.host, startedAt: started.toISOString(), durationMs, error: coerceError(error).message, nextRun: deps.nextRun, lastGood });
      await pingDeadMansSwitch(deps.config.health.pingUrl, 'fail', deps.log);
    }
    throw error;
  }
}

/** The daemon's daily, weekly and monthly jobs. */
export const backupJob =
  (tier: 'daily' | 'weekly' | 'monthly'): JobRunner =>
  async (deps, signal) => {
    const manifest = await backupAndReport(deps, { tier, signal });
    return { summary: `${tier} backup ${manifest.id}: ${manifest.storedBytes} bytes stored`, storedBytes: manifest.storedBytes, backupId: manifest.id };
  };
