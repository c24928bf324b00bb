import { runBackup, type BackupDeps, type BackupRequest } from '../backup/run-backup';
import type { Manifest } from '../backup/manifest';
import { readCatalog } from '../catalog/catalog';
import { InterruptedError, coerceError } from '../errors';
import { runRestoreTest, type RestoreTestResult } from '../restore/restore-test';
import { runCleanup, type CleanupRequest, type CleanupSummary } from '../retention/apply';
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/files';
import { formatBytes } from '../format';
import { sidecarOf, type LastGoodBackup, type ReportEvent, type StorageReportEvent } from './events';
import { notify } from './notify';
import { pingDeadMansSwitch } from '../health/ping';
import { renderReport } from './render';

/**
 * The jobs as the daemon and the CLI run them: the work, then its report. Reporting happens
 * after the work, never fails it (notify files the report and swallows errors), and an
 * operator's interrupt is not news worth an e-mail.
 */
export interface ReportingDeps extends BackupDeps {
  /** When the job runs next (the daemon knows; a manual run does not). */
  nextRun?: string | null;
}

/** Every report names the sidecar that sent it: several may mail one inbox. */
async function report(deps: ReportingDeps, event: ReportEvent): Promise<void> {
  const named: ReportEvent = { ...event, sidecar: sidecarOf(deps.config.database) };
  await notify({ config: deps.config, log: deps.log }, event.kind, () => renderReport(named, { subjectPrefix: deps.config.report.subjectPrefix, now: new Date() }));
}

/** The newest complete backup of this database, any tier: what a failure report says is safe. Undefined when unreadable. */
async function lastGoodBackup(deps: ReportingDeps): Promise<LastGoodBackup | null | undefined> {
  try {
    const { backups } = await readCatalog(deps.storages);
    const newest = backups.find((entry) => entry.manifest.database === deps.config.database.database);
    return newest ? { tier: newest.manifest.tier, id: newest.manifest.id, startedAt: newest.manifest.startedAt, targets: newest.copies.map((copy) => copy.storage.name) } : null;
  } catch (error) {
    deps.log.warn({ err: coerceError(error) }, 'could not read the last good backup for the report');
    return undefined;
  }
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
      const durationMs = Date.now() - started.getTime();
      const lastGood = await lastGoodBackup(deps);
      await report(deps, { kind: 'backup-failed', tier: request.tier, database: db.database, host: db.host, startedAt: started.toISOString(), durationMs, error: coerceError(error).message, nextRun: deps.nextRun, lastGood });
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

/** Free space of the filesystem holding `path`; null when it cannot be read (the report says "unknown"). */
async function freeBytes(path: string): Promise<number | null> {
  return statfs(path).then((fs) => fs.bavail * fs.bsize, () => null);
}

/**
 * The weekly storage report: per tier counts and sizes, the total, its growth since the last
 * report (remembered in STATE_DIR), and the sizes of the last weeks' backups for the chart.
 */
export async function storageReport(deps: ReportingDeps): Promise<string> {
  const { backups } = await readCatalog(deps.storages);
  const mine = backups.filter((entry) => entry.manifest.database === deps.config.database.database);
  const tiers = new Map<string, { tier: string; count: number; bytes: number }>();
  const targets = new Map(deps.storages.map((storage) => [storage.name, { target: storage.name, count: 0, bytes: 0, freeBytes: null as number | null }]));
  for (const { manifest, copies } of mine) {
    const row = tiers.get(manifest.tier) ?? { tier: manifest.tier, count: 0, bytes: 0 };
    row.count++;
    row.bytes += manifest.storedBytes * copies.length;
    tiers.set(manifest.tier, row);
    for (const copy of copies) {
      const target = targets.get(copy.storage.name);
      if (!target) continue;
      target.count++;
      target.bytes += manifest.storedBytes;
    }
  }
  const local = targets.get('local');
  if (local) local.freeBytes = await freeBytes(deps.config.backupDir);
  const totalBytes = [...tiers.values()].reduce((sum, row) => sum + row.bytes, 0);
  const memory = join(deps.config.stateDir, 'storage-report-last.json');
  const previous = await readFile(memory, 'utf8').then((text) => (JSON.parse(text) as { totalBytes: number }).totalBytes, () => undefined);
  const since = Date.now() - 8 * 7 * 86_400_000;
  const history = mine
    .filter((entry) => Date.parse(entry.manifest.startedAt) >= since)
    .map(({ manifest }) => ({ startedAt: manifest.startedAt, storedBytes: manifest.storedBytes, tier: manifest.tier }));
  const event: StorageReportEvent = { kind: 'storage-report', at: new Date().toISOString(), targets: [...targets.values()], tiers: [...tiers.values()], totalBytes, growthBytes: previous === undefined ? undefined : totalBytes - previous, history };
  await report(deps, event);
  await writeFileAtomic(memory, JSON.stringify({ totalBytes, at: new Date().toISOString() }));
  return `storage report: ${mine.length} backup${mine.length === 1 ? '' : 's'}, ${formatBytes(totalBytes)}`;
}
