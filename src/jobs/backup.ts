import { runBackup, type BackupDeps, type BackupRequest } from '../backup/run-backup';
import type { Manifest } from '../backup/manifest';
import { readCatalog } from '../catalog/catalog';
import { InterruptedError, coerceError } from '../errors';
import { runRestoreTest, type RestoreTestResult } from '../restore/restore-test';
import { runCleanup, type CleanupRequest, type CleanupSummary } from '../retention/apply';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/files';
import { formatBytes } from '../format';
import type { ReportEvent } from '../report/events';
import { notify } from '../report/notify';
import { pingDeadMansSwitch } from '../health/ping';
import { renderReport } from '../report/render';

/**
 * The jobs as the daemon and the CLI run them: the work, then its report. Reporting happens
 * after the work, never fails it (notify files the report and swallows errors), and an
 * operator's interrupt is not news worth an e-mail.
 */
export interface ReportingDeps extends BackupDeps {
  /** When the job runs next (the daemon knows; a manual run does not). */
  nextRun?: string | null;
}

async function report(deps: ReportingDeps, event: ReportEvent): Promise<void> {
  await notify({ config: deps.config, log: deps.log }, event.kind, () => renderReport(event, { subjectPrefix: deps.config.report.subjectPrefix, now: new Date() }));
}

/** The recent stored sizes of the same tier and database: the yardstick for the anomaly warning. */
async function recentSizes(deps: ReportingDeps, manifest: Manifest): Promise<{ startedAt: string; storedBytes: number }[]> {
  try {
    const { backups } = await readCatalog(deps.storages, { tier: manifest.tier });
    return backups
      .filter((entry) => entry.manifest.database === manifest.database && entry.manifest.id !== manifest.id)
      .slice(0, 14)
      .map((entry) => ({ startedAt: entry.manifest.startedAt, storedBytes: entry.manifest.storedBytes }));
  } catch (error) {
    deps.log.warn({ err: coerceError(error) }, 'could not read recent backups for the report');
    return [];
  }
}

export async function backupAndReport(deps: ReportingDeps, request: BackupRequest): Promise<Manifest> {
  const started = new Date();
  try {
    const manifest = await runBackup(deps, request);
    await report(deps, { kind: 'backup-succeeded', manifest, nextRun: deps.nextRun, recentSizes: await recentSizes(deps, manifest) });
    await pingDeadMansSwitch(deps.config.health.pingUrl, 'ok', deps.log);
    return manifest;
  } catch (error) {
    if (!(error instanceof InterruptedError)) {
      const db = deps.config.database;
      await report(deps, { kind: 'backup-failed', tier: request.tier, database: db.database, host: db.host, startedAt: started.toISOString(), durationMs: Date.now() - started.getTime(), error: coerceError(error).message, nextRun: deps.nextRun });
      await pingDeadMansSwitch(deps.config.health.pingUrl, 'fail', deps.log);
    }
    throw error;
  }
}

export async function restoreTestAndReport(deps: ReportingDeps, request: { selector: string; signal?: AbortSignal }): Promise<{ result: RestoreTestResult; failure?: Error }> {
  const outcome = await runRestoreTest(deps, request);
  await report(deps, { kind: outcome.result.ok ? 'restore-test-passed' : 'restore-test-failed', result: outcome.result });
  return outcome;
}

export async function cleanupAndReport(deps: ReportingDeps, request: CleanupRequest): Promise<CleanupSummary> {
  const summary = await runCleanup(deps, request);
  if (!request.dryRun) await report(deps, { kind: 'cleanup-summary', summary });
  return summary;
}

/**
 * The weekly storage report: per tier counts and sizes, the total, its growth since the last
 * report (remembered in STATE_DIR), and the sizes of the last weeks' backups for the chart.
 */
export async function storageReport(deps: ReportingDeps): Promise<string> {
  const { backups } = await readCatalog(deps.storages);
  const mine = backups.filter((entry) => entry.manifest.database === deps.config.database.database);
  const tiers = new Map<string, { tier: string; count: number; bytes: number }>();
  for (const { manifest, copies } of mine) {
    const row = tiers.get(manifest.tier) ?? { tier: manifest.tier, count: 0, bytes: 0 };
    row.count++;
    row.bytes += manifest.storedBytes * copies.length;
    tiers.set(manifest.tier, row);
  }
  const totalBytes = [...tiers.values()].reduce((sum, row) => sum + row.bytes, 0);
  const memory = join(deps.config.stateDir, 'storage-report-last.json');
  const previous = await readFile(memory, 'utf8').then((text) => (JSON.parse(text) as { totalBytes: number }).totalBytes, () => undefined);
  const since = Date.now() - 8 * 7 * 86_400_000;
  const history = mine
    .filter((entry) => Date.parse(entry.manifest.startedAt) >= since)
    .map(({ manifest }) => ({ startedAt: manifest.startedAt, storedBytes: manifest.storedBytes, tier: manifest.tier }));
  await report(deps, { kind: 'storage-report', database: deps.config.database.database, host: deps.config.database.host, tiers: [...tiers.values()], totalBytes, growthBytes: previous === undefined ? undefined : totalBytes - previous, history });
  await writeFileAtomic(memory, JSON.stringify({ totalBytes, at: new Date().toISOString() }));
  return `storage report: ${mine.length} backup${mine.length === 1 ? '' : 's'}, ${formatBytes(totalBytes)}`;
}
