import { defaultSource, runBackup, type BackupRequest } from '../backup/run-backup';
import { sourceName, type Manifest } from '../backup/manifest';
import { readCatalog } from '../catalog/catalog';
import { InterruptedError, KeepsakeError, coerceError } from '../errors';
import { pickSources, sourceNames, type Source } from '../sources';
import type { SourceOutcome } from '../report/events';
import { pingDeadMansSwitch } from '../health/ping';
import type { LastGoodBackup } from '../report/events';
import { report, type JobRunner, type JobDeps } from './job';

/** The recent stored sizes of the same tier and source: the yardstick for the anomaly warning. */
async function recentSizes(deps: JobDeps, manifest: Manifest): Promise<{ startedAt: string; storedBytes: number }[]> {
  try {
    const { backups } = await readCatalog(deps.storages, { tier: manifest.tier });
    return backups
      // A schema-only backup is measured against schema-only ones: against full ones it would always look lost.
      .filter((entry) => sourceName(entry.manifest) === sourceName(manifest) && entry.manifest.id !== manifest.id && Boolean(entry.manifest.contents?.schemaOnly) === Boolean(manifest.contents?.schemaOnly))
      .slice(0, 14)
      .map((entry) => ({ startedAt: entry.manifest.startedAt, storedBytes: entry.manifest.storedBytes }));
  } catch (error) {
    deps.log.warn({ err: coerceError(error) }, 'could not read recent backups for the report');
    return [];
  }
}

/** The newest complete backup of this source, any tier: what a failure report says is safe. Undefined when unreadable. */
export async function lastGoodBackup(deps: JobDeps, source: string): Promise<LastGoodBackup | null | undefined> {
  try {
    const { backups } = await readCatalog(deps.storages);
    const newest = backups.find((entry) => sourceName(entry.manifest) === source);
    return newest ? { tier: newest.manifest.tier, id: newest.manifest.id, startedAt: newest.manifest.startedAt, targets: newest.copies.map((copy) => copy.storage.name) } : null;
  } catch (error) {
    deps.log.warn({ err: coerceError(error) }, 'could not read the last good backup for the report');
    return undefined;
  }
}

/** A backup, its report, and the dead man's switch's ping (ok or fail); an interrupt is neither reported nor pinged. */
export async function backupAndReport(deps: JobDeps, request: BackupRequest): Promise<Manifest> {
  const started = new Date();
  const source = request.source ?? defaultSource(deps.config);
  try {
    const manifest = await runBackup(deps, { ...request, source });
    await report(deps, { kind: 'backup-succeeded', manifest, nextRun: deps.nextRun, recentSizes: await recentSizes(deps, manifest) });
    await pingDeadMansSwitch(deps.config.health.pingUrl, 'ok', deps.log);
    return manifest;
  } catch (error) {
    if (!(error instanceof InterruptedError)) await reportFailure(deps, request.tier, source.name, started, error);
    throw error;
  }
}

/** A failed backup's report (with the last good backup of that source) and the dead man's switch's fail ping. */
async function reportFailure(deps: JobDeps, tier: string, source: string, started: Date, error: unknown): Promise<void> {
  const durationMs = Date.now() - started.getTime();
  const lastGood = await lastGoodBackup(deps, source);
  await report(deps, { kind: 'backup-failed', tier, database: source, host: deps.config.database.host, startedAt: started.toISOString(), durationMs, error: coerceError(error).message, nextRun: deps.nextRun, lastGood });
  await pingDeadMansSwitch(deps.config.health.pingUrl, 'fail', deps.log);
}

export interface BackupRunRequest extends Omit<BackupRequest, 'source'> {
  /** `--db NAME`: only this source. */
  only?: string;
}

/** What a run stored, source by source; a run with failures throws SourcesFailedError instead. */
export interface BackupRun {
  manifests: Manifest[];
}

/** Some sources of a run failed, the others were stored: the message names the failed ones; the exit code is the first failure's. */
export class SourcesFailedError extends KeepsakeError {
  constructor(
    readonly failed: { source: string; error: Error }[],
    readonly manifests: Manifest[],
    total: number,
  ) {
    const first = failed[0]!.error;
    const names = failed.map((failure) => failure.source).join(', ');
    const others = failed.length < total ? '; the others were stored' : '';
    super(`Backup failed for ${names} (${failed.length} of ${total} sources${others}): ${failed.map((failure) => `${failure.source}: ${failure.error.message}`).join('; ')}`, 'failed');
    Object.defineProperty(this, 'exitCode', { value: first instanceof KeepsakeError ? first.exitCode : this.exitCode });
  }
}

/**
 * One run: every configured source in turn (or the one `--db` names), each its own object and
 * manifest. One source reports exactly as a single database always did; several make one report
 * for the run. A failing source does not stop the others; an interrupt stops the run.
 */
export async function backupSources(deps: JobDeps, request: BackupRunRequest): Promise<BackupRun> {
  const started = new Date();
  let names: string[];
  try {
    names = await sourceNames(deps.config);
  } catch (error) {
    // Listing the databases (POSTGRES_DB=all) failed: nothing was backed up; the run failed as a whole.
    deps.log.error({ err: error, tier: request.tier }, 'backup failed');
    await reportFailure(deps, request.tier, deps.config.database.database, started, error);
    throw error;
  }
  // A mistyped --db is the operator's, not news for the report.
  const sources: Source[] = pickSources(deps.config, names, request.only);
  if (sources.length === 1) return { manifests: [await backupAndReport(deps, { ...request, source: sources[0] })] };

  const outcomes: SourceOutcome[] = [];
  const failed: { source: string; error: Error }[] = [];
  const manifests: Manifest[] = [];
  for (const source of sources) {
    try {
      const manifest = await runBackup(deps, { ...request, source });
      manifests.push(manifest);
      outcomes.push({ source: source.name, describe: source.describe(), manifest });
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      failed.push({ source: source.name, error: coerceError(error) });
      outcomes.push({ source: source.name, describe: source.describe(), error: coerceError(error).message });
    }
  }
  await report(deps, { kind: 'backup-run', tier: request.tier, startedAt: started.toISOString(), durationMs: Date.now() - started.getTime(), outcomes, nextRun: deps.nextRun });
  await pingDeadMansSwitch(deps.config.health.pingUrl, failed.length ? 'fail' : 'ok', deps.log);
  // One cause for all (the server is down): said once, as a single database's failure is.
  if (failed.length === sources.length && failed.every((failure) => failure.error.message === failed[0]!.error.message)) throw failed[0]!.error;
  if (failed.length) throw new SourcesFailedError(failed, manifests, sources.length);
  return { manifests };
}

/** The daemon's daily, weekly, monthly and yearly jobs: every source in turn. */
export const backupJob =
  (tier: 'daily' | 'weekly' | 'monthly' | 'yearly'): JobRunner =>
  async (deps, signal) => {
    const { manifests } = await backupSources(deps, { tier, signal });
    const storedBytes = manifests.reduce((sum, manifest) => sum + manifest.storedBytes, 0);
    const ids = manifests.map((manifest) => manifest.id).join(', ');
    return { summary: `${tier} backup ${ids}: ${storedBytes} bytes stored`, storedBytes, backupId: ids };
  };
