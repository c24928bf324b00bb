import type { Tier } from '../backup/keys';
import { catalogWarnings, mapLimit, type CatalogEntry } from '../catalog/catalog';
import type { Config } from '../config';
import type { Deps } from '../deps';
import { coerceError } from '../errors';
import type { Storage } from '../storage';
import { GLOBALS_NAME } from '../sources/globals/globals-source';
import { gatherFacts, type SourceSelection } from './gather';
import { planBackupsPerTarget } from './plan-targets';
import { planRetention, type BackupDecision, type LeftoverDecision, type RecordDecision } from './plan';
import { sqliteStem } from '../config/sqlite-paths';
import { applyWalRetention, type WalCleanupSummary } from '../pitr/archive/apply-retention';
import { CLUSTER_SOURCE_NAME } from '../pitr/base/cluster-source';

export interface CleanupRequest {
  /** Plan and report, delete nothing. */
  dryRun?: boolean;
  /** Tiers whose newest backup attempt failed (the daemon knows): nothing is deleted in them. */
  failedTiers?: ReadonlySet<Tier>;
  /** The clock, for tests; ages are measured from it. */
  now?: number;
}

/** `done`: every object of it is gone from each of `targets` (always false in a dry run). */
export interface BackupOutcome extends BackupDecision {
  storedBytes: number;
  targets: string[];
  done: boolean;
}
export interface RecordOutcome extends RecordDecision {
  targets: string[];
  done: boolean;
}
export interface LeftoverOutcome extends LeftoverDecision {
  done: boolean;
}
export interface DeleteError {
  target: string;
  key: string;
  message: string;
}

export interface CleanupSummary {
  dryRun: boolean;
  now: string;
  backups: BackupOutcome[];
  restoreTests: RecordOutcome[];
  leftovers: LeftoverOutcome[];
  /** What was deleted, or in a dry run what would be. */
  totals: { kept: number; deleted: number; restoreTestsDeleted: number; leftoversDeleted: number; bytesFreed: number };
  /** Deletions that failed; the objects are still there and the next run tries again. */
  errors: DeleteError[];
  /** The catalog's warnings: unreadable manifests, incomplete backups this run did not remove. */
  problems: string[];
  /** Archived WAL (PITR): what went on each target holding a `wal/` archive; absent when none does. */
  wal?: WalCleanupSummary;
}

const PARALLEL_DELETES = 8;

/**
 * The retention job: read what exists on every target, plan, and delete what the plan says.
 * A failed deletion is recorded and the job goes on with the rest; the caller decides what a
 * non-empty `errors` means (the cleanup command exits 74). It never throws half way through.
 */
/**
 * Whose backups this sidecar's retention manages: the configured databases and the globals (kept
 * even when BACKUP_GLOBALS was turned off since, so that theirs still age out); with
 * POSTGRES_DB=all, every source backed up from this host; the cluster's base backups (PITR); and the SQLite files (SQLITE_PATHS).
 * Without sources configured: the database.
 */
export function retentionSources(config: Pick<Config, 'database'> & Partial<Pick<Config, 'sources'>>): SourceSelection {
  const databases = config.sources?.databases ?? [config.database.database];
  const files = (config.sources?.sqlitePaths ?? []).map(sqliteStem);
  if (databases === 'all') return { names: 'all', host: config.database.host, files };
  // Base backups (PITR) are of the cluster: kept even after PITR was turned off, so that they age out, and their WAL with them.
  return { names: config.sources ? [...databases, GLOBALS_NAME, CLUSTER_SOURCE_NAME, ...files] : databases };
}

export async function runCleanup({ config, storages, log }: Deps<Pick<Config, 'retention' | 'database'> & Partial<Pick<Config, 'targets' | 'sources'>>>, request: CleanupRequest = {}): Promise<CleanupSummary> {
  const now = request.now ?? Date.now();
  const dryRun = Boolean(request.dryRun);
  const facts = await gatherFacts(storages, retentionSources(config));
  const plan = planRetention({ ...facts, backups: [], policy: config.retention, now, failedTiers: request.failedTiers });
  const entries = new Map(facts.catalog.backups.map((entry) => [`${entry.manifest.tier}/${entry.manifest.id}`, entry]));
  // Each target by its own rules (TARGET_<NAME>_KEEP_*), defaulting to BACKUP_KEEP_*.
  const held = facts.backups.map((backup) => ({ ...backup, targets: entries.get(`${backup.tier}/${backup.id}`)!.copies.map((copy) => copy.storage.name) }));
  const rules = storages.map((storage) => ({ name: storage.name, policy: config.targets?.find((target) => target.name === storage.name)?.retention ?? config.retention }));
  const backupPlan = planBackupsPerTarget(held, rules, { now, failedTiers: request.failedTiers });
  const errors: DeleteError[] = [];
  const remove = async (storage: Storage, key: string): Promise<boolean> => {
    try {
      await storage.delete(key);
      return true;
    } catch (error) {
      errors.push({ target: storage.name, key, message: coerceError(error).message });
      log.warn({ target: storage.name, key, err: error }, 'retention could not delete an object');
      return false;
    }
  };

  const backups = await mapLimit(backupPlan, PARALLEL_DELETES, async (decision): Promise<BackupOutcome & { freed: number }> => {
    const whole = entries.get(`${decision.tier}/${decision.id}`)!;
    // Only the copies on the targets this decision is for.
    const entry = { ...whole, copies: whole.copies.filter((copy) => decision.targets.includes(copy.storage.name)) };
    const outcome = { ...decision, storedBytes: entry.manifest.storedBytes, done: false, freed: 0 };
    if (decision.action === 'keep' || dryRun) return { ...outcome, freed: decision.action === 'delete' ? totalSize(entry) : 0 };
    const deleted = await deleteBackup(entry, remove);
    if (deleted.done) log.info({ backup: `${decision.tier}/${decision.id}`, targets: decision.targets, reason: decision.reason }, 'retention deleted a backup');
    return { ...outcome, ...deleted };
  });

  const recordHolders = new Map(facts.restoreTests.map((record) => [record.key, record.storages]));
  const restoreTests = await mapLimit(plan.restoreTests, PARALLEL_DELETES, async (decision): Promise<RecordOutcome> => {
    const holders = recordHolders.get(decision.key)!;
    const outcome = { ...decision, targets: holders.map((storage) => storage.name), done: false };
    if (decision.action === 'keep' || dryRun) return outcome;
    const results = await Promise.all(holders.map((storage) => remove(storage, decision.key)));
    return { ...outcome, done: results.every(Boolean) };
  });

  const byName = new Map(storages.map((storage) => [storage.name as string, storage]));
  const leftovers = await mapLimit(plan.leftovers, PARALLEL_DELETES, async (decision): Promise<LeftoverOutcome> => {
    if (decision.action === 'keep' || dryRun) return { ...decision, done: false };
    const storage = byName.get(decision.target)!;
    // An incomplete backup: manifest first, as for any backup, then its data object.
    const done = (await remove(storage, decision.key)) && (!decision.dataKey || (await remove(storage, decision.dataKey)));
    if (done) log.info({ target: decision.target, key: decision.key, reason: decision.reason }, 'retention removed an incomplete leftover');
    return { ...decision, done };
  });

  // After the backup plan: the base backups it kept on each target decide which WAL they still need.
  // One whose deletion failed is still there, whole, and keeps its WAL.
  const goneBackups = backups.filter((outcome) => outcome.action === 'delete' && (dryRun || outcome.done));
  const wal = await applyWalRetention({ storages, catalog: facts.catalog, backupPlan: goneBackups, baseFailed: Boolean(request.failedTiers?.has('base')), dryRun, remove, log });

  const counted = (outcome: { action: string; done: boolean }) => outcome.action === 'delete' && (dryRun || outcome.done);
  const totals = {
    kept: backups.filter((outcome) => outcome.action === 'keep').length,
    deleted: backups.filter(counted).length,
    restoreTestsDeleted: restoreTests.filter(counted).length,
    leftoversDeleted: leftovers.filter(counted).length,
    bytesFreed: backups.reduce((sum, outcome) => sum + outcome.freed, 0) + leftovers.filter(counted).reduce((sum, outcome) => sum + outcome.size, 0),
  };
  log.info({ dryRun, ...totals, errors: errors.length }, dryRun ? 'retention planned (dry run)' : 'retention finished');
  return {
    dryRun,
    now: new Date(now).toISOString(),
    backups: backups.map(({ freed: _freed, ...outcome }) => outcome),
    restoreTests,
    leftovers,
    totals,
    errors,
    ...(wal ? { wal } : {}),
    // Incomplete copies this run removed are news in the table above, no longer a warning.
    problems: catalogWarnings(facts.catalog, facts.catalog.incomplete.filter((copy) => !leftovers.some((l) => l.done && l.target === copy.storage.name && l.key === copy.manifestKey))),
  };
}

/**
 * Manifest first, then the data object, on every target that lists the backup: a listed backup
 * is always complete, so a crash between the two leaves an unlisted object (a leftover the next
 * run removes), never a listed backup without its data. When a manifest cannot be deleted, its
 * data object on that target stays too, so the copy remains whole and restorable.
 */
async function deleteBackup(entry: CatalogEntry, remove: (storage: Storage, key: string) => Promise<boolean>): Promise<{ done: boolean; freed: number }> {
  let done = true;
  let freed = 0;
  for (const copy of entry.copies) {
    const gone = (await remove(copy.storage, copy.manifestKey)) && (await remove(copy.storage, entry.manifest.key));
    if (gone) freed += copy.size;
    done &&= gone;
  }
  return { done, freed };
}

function totalSize(entry: CatalogEntry): number {
  return entry.copies.reduce((sum, copy) => sum + copy.size, 0);
}
