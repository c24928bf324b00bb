import type { Catalog } from '../../catalog/catalog';
import { mapLimit } from '../../catalog/catalog';
import type { Logger } from '../../log';
import type { Action } from '../../retention/plan';
import type { Storage } from '../../storage';
import { listWalArchive, type ArchivedWal } from '../wal-archive';
import { walManifestKey } from '../wal-names';
import { keptBasesOn, planWalRetention, type ListedBase, type WalRule } from './retention';

/** One WAL file's decision on one target, as the cleanup summary (and --json) shows it. */
export interface WalFileOutcome {
  name: string;
  action: Action;
  rule: WalRule;
  reason: string;
  storedBytes: number;
  /** Deleted (always false in a dry run). */
  done: boolean;
}

/** WAL retention on one target that holds a `wal/` archive. */
export interface WalTargetOutcome {
  target: string;
  /** WAL from this segment on stays (the oldest kept base backup's first segment); undefined: all WAL stays. */
  keptFrom?: { segment: string; base: string };
  /** Files deleted (or in a dry run to delete), their stored bytes, and what stays. */
  deleted: number;
  bytesFreed: number;
  kept: number;
  /** Why nothing goes, when nothing may (no base backup kept, the newest one failed...). */
  keptAllReason?: string;
  files: WalFileOutcome[];
}

export interface WalCleanupSummary {
  targets: WalTargetOutcome[];
  totals: { deleted: number; bytesFreed: number };
}

export interface WalCleanupRequest {
  storages: readonly Storage[];
  catalog: Catalog;
  /** The backup plan's decisions (per target): base backups it deletes no longer hold WAL back. */
  backupPlan: readonly { tier: string; id: string; action: Action; targets: readonly string[] }[];
  baseFailed: boolean;
  dryRun: boolean;
  /** Deletes one key, recording a failure and answering false; never throws. */
  remove: (storage: Storage, key: string) => Promise<boolean>;
  log: Logger;
}

const PARALLEL_DELETES = 8;

/**
 * Applies WAL retention on every target with a `wal/` archive, after the backup plan was applied:
 * each target by the base backups that plan keeps on it. A WAL file goes manifest first, then its
 * data object, as a backup does: a crash in between leaves an object that is no longer archived,
 * never an archived file without its data. Undefined when no target holds WAL (PITR never on).
 */
export async function applyWalRetention(request: WalCleanupRequest): Promise<WalCleanupSummary | undefined> {
  const bases: ListedBase[] = request.catalog.backups
    .filter(({ manifest }) => manifest.tier === 'base')
    .map(({ manifest, copies }) => ({ id: manifest.id, targets: copies.map((copy) => copy.storage.name), physical: manifest.physical }));
  const targets: WalTargetOutcome[] = [];
  for (const storage of request.storages) {
    const archived = await listWalArchive(storage);
    if (!archived.length) continue;
    const plan = planWalRetention<ArchivedWal>({ archived, keptBases: keptBasesOn(storage.name, bases, request.backupPlan), baseFailed: request.baseFailed });
    const files = await mapLimit(plan.decisions, PARALLEL_DELETES, async ({ wal, action, rule, reason }): Promise<WalFileOutcome> => {
      const outcome = { name: wal.file.name, action, rule, reason, storedBytes: wal.storedBytes, done: false };
      if (action === 'keep' || request.dryRun) return outcome;
      const done = (await request.remove(storage, walManifestKey(wal.file))) && (await request.remove(storage, wal.dataKey));
      return { ...outcome, done };
    });
    const gone = files.filter((file) => file.action === 'delete' && (request.dryRun || file.done));
    const keptAll = plan.keptFrom ? undefined : plan.decisions.find((d) => d.rule !== 'history')?.reason;
    const outcome: WalTargetOutcome = {
      target: storage.name,
      keptFrom: plan.keptFrom,
      deleted: gone.length,
      bytesFreed: gone.reduce((sum, file) => sum + file.storedBytes, 0),
      kept: files.filter((file) => file.action === 'keep').length,
      ...(keptAll ? { keptAllReason: keptAll } : {}),
      files,
    };
    if (!request.dryRun && outcome.deleted) request.log.info({ target: storage.name, deleted: outcome.deleted, bytes: outcome.bytesFreed, keptFrom: plan.keptFrom?.segment }, 'retention deleted archived WAL');
    targets.push(outcome);
  }
  if (!targets.length) return undefined;
  return { targets, totals: { deleted: targets.reduce((sum, t) => sum + t.deleted, 0), bytesFreed: targets.reduce((sum, t) => sum + t.bytesFreed, 0) } };
}
