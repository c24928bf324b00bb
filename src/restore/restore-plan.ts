import { statfs } from 'node:fs/promises';
import { refuseBaseBackup } from '../pitr/base/not-a-dump';
import { join } from 'node:path';
import { preferredCopy, readCatalog, selectBackup, type CatalogEntry } from '../catalog/catalog';
import type { DatabaseConfig } from '../config';
import type { Deps } from '../deps';
import { NotFoundError, UsageError, coerceError } from '../errors';
import type { TableName } from './table-selection';
import { formatBytes } from '../format';
import { findBinaryFor } from '../postgres/binaries';
import { storagesFrom, type Storage } from '../storage';
import { keptName, restoreStamp, restoringName } from './database-names';
import { fetchArchive } from './fetch';
import { databaseExists, inspectTarget, missingRights, type TargetState } from './target-database';
import { withWorkDir } from './work-dir';
import { postgresFacts } from '../backup/manifest';

/**
 * swap (default): the backup is restored beside the target, checked, then swapped in; the target's
 * database is kept under another name. in-place (--in-place, when the server has no room for two
 * copies): the target is dropped after a safety backup and connections are refused until the end.
 */
export type RestoreMode = 'swap' | 'in-place';

export interface RestorePlan {
  entry: CatalogEntry;
  storage: Storage;
  target: DatabaseConfig;
  state: TargetState;
  mode: RestoreMode;
  /** Where the backup is restored and checked before it takes the target's name. */
  copyName: string;
  /** A swap over an existing target: the name its database keeps, with the app's writes since the backup. */
  keptName?: string;
  /** The stamp in the names above, also used for the database a failed --in-place restore puts back. */
  stamp: string;
  /** --in-place over an existing target: a pre-restore backup is taken first, unless declined. */
  safetyBackup: boolean;
  /** Restore owners and grants too (the roles must exist on the target). */
  keepOwnership: boolean;
  /**
   * The database the backup was made from, when it is neither the target nor the configured
   * database: `keepsake list` shows every database's backups (a pre-restore copy of a copy, say),
   * and restoring one of them over the target needs its name typed or --allow-other-database.
   */
  otherOrigin?: string;
  /** restore --table: only these tables (and what they need), into a database that does not exist yet. */
  tables?: TableName[];
}

export interface RestoreRequest {
  selector: string;
  /** --from NAME: only that target's copies are considered. */
  from?: string;
  target: DatabaseConfig;
  safetyBackup: boolean;
  keepOwnership?: boolean;
  inPlace?: boolean;
  /** --db NAME: the source whose backup `latest` means (default: the configured database). */
  db?: string;
  tables?: TableName[];
}

export async function planRestore(deps: Deps, request: RestoreRequest): Promise<RestorePlan> {
  const entry = selectBackup(await readCatalog(storagesFrom(deps.storages, request.from)), request.selector, { database: request.db ?? deps.config.database.database });
  refuseBaseBackup(entry.manifest, 'restore');
  return planRestoreOf(deps, entry, request);
}

/** The plan for restoring this backup (a listed one, or restore --at's dump of a recovered cluster) into the request's target. */
export async function planRestoreOf(deps: Deps, entry: CatalogEntry, request: Omit<RestoreRequest, 'selector' | 'from'>): Promise<RestorePlan> {
  if (request.tables?.length) refuseUnknownTables(entry, request.tables);
  const state = await inspectTarget(request.target);
  if (request.tables?.length && state.exists) {
    throw new UsageError(`restore --table restores into a new database, and ${request.target.database} exists; nothing was changed. Name a database that does not exist with --target-db, then copy the tables from there (pg_dump -t ... | psql)`);
  }
  const origin = entry.manifest.database;
  const otherOrigin = origin !== request.target.database && origin !== (request.db ?? deps.config.database.database) ? origin : undefined;
  const mode: RestoreMode = request.inPlace ? 'in-place' : 'swap';
  const stamp = restoreStamp(new Date());
  const name = request.target.database;
  return {
    entry,
    storage: preferredCopy(entry),
    target: request.target,
    state,
    mode,
    copyName: restoringName(name, stamp),
    keptName: mode === 'swap' && state.exists ? keptName(name, stamp) : undefined,
    stamp,
    safetyBackup: mode === 'in-place' && request.safetyBackup && state.exists,
    keepOwnership: request.keepOwnership ?? false,
    otherOrigin,
    ...(request.tables?.length ? { tables: request.tables } : {}),
  };
}

/** Every table asked for must be in the backup: else say which are, so the right name can be typed. */
function refuseUnknownTables(entry: CatalogEntry, tables: TableName[]): void {
  const known = entry.manifest.inventory.tables.filter((table) => table.kind !== 'matview');
  const name = (table: TableName) => `${table.schema}.${table.name}`;
  const unknown = tables.filter((table) => !known.some((other) => name(other) === name(table)));
  if (!unknown.length) return;
  const listed = known.map(name);
  throw new NotFoundError(
    `Backup ${entry.manifest.id} has no table ${unknown.map(name).join(', ')}; its tables: ${listed.slice(0, 30).join(', ')}${listed.length > 30 ? `, ... (${listed.length} in all)` : ''}. Nothing was changed`,
  );
}

/** The names a restore will create that exist already: a restore of the same second, or a leftover. */
export async function takenNames(plan: RestorePlan): Promise<string[]> {
  const names = [plan.copyName, ...(plan.keptName ? [plan.keptName] : [])];
  const taken: string[] = [];
  for (const name of names) if (await databaseExists(plan.target, name)) taken.push(name);
  return taken;
}

/** How the restore will go and what it needs on the server, for the dry run. */
async function describeMode(plan: RestorePlan): Promise<string> {
  const taken = await takenNames(plan);
  if (taken.length) throw new Error(`database ${taken.join(' and ')} exists already; drop it or run again in a second`);
  const name = plan.target.database;
  if (!plan.state.exists) return `${name} does not exist: the backup is restored as ${plan.copyName} and renamed to ${name} once checked`;
  if (plan.mode === 'in-place') return `in place (--in-place): ${name} is dropped after a safety backup and refuses connections until the restore is done`;
  // PostgreSQL does not say how much disk it has free, so the honest answer is the size to check for.
  return `swap: the restored copy needs room beside ${name} on the server, about ${formatBytes(plan.state.bytes)} (${name}'s size now; PostgreSQL does not report its free disk space, check it there); without that room, use --in-place`;
}

/** Every check a restore would make, changing nothing: integrity, tools, versions, privileges, space. */
export async function dryRun(deps: Deps, plan: RestorePlan): Promise<{ name: string; ok: boolean; detail: string }[]> {
  const { manifest } = plan.entry;
  const checks: { name: string; ok: boolean; detail: string }[] = [];
  const attempt = async (name: string, run: () => Promise<string>) => {
    try {
      checks.push({ name, ok: true, detail: await run() });
    } catch (error) {
      checks.push({ name, ok: false, detail: coerceError(error).message });
    }
  };
  await attempt('space', async () => {
    const fs = await statfs(deps.config.restore.workDir);
    const free = fs.bavail * fs.bsize;
    if (free < manifest.rawBytes) throw new Error(`${deps.config.restore.workDir} has ${formatBytes(free)} free, the archive needs ${formatBytes(manifest.rawBytes)}; set RESTORE_WORK_DIR to a folder with room`);
    return `${formatBytes(free)} free in ${deps.config.restore.workDir}, the archive needs ${formatBytes(manifest.rawBytes)}`;
  });
  await attempt('privileges', async () => {
    const missing = missingRights(plan.target, plan.state);
    if (missing.length) throw new Error(`role ${plan.state.rights.role} lacks ${missing.join('; and ')}`);
    return plan.state.exists ? `${plan.state.rights.role} may create databases, owns ${plan.target.database} and may end its sessions` : `${plan.state.rights.role} may create databases`;
  });
  await attempt('mode', () => describeMode(plan));
  await attempt('pg_restore', async () => (await findBinaryFor('pg_restore', postgresFacts(manifest).pgDump.major, deps.config.pgBinDir)).path);
  await attempt('server version', async () => {
    const { server } = postgresFacts(manifest);
    if (plan.state.serverMajor < server.major) throw new Error(`the target runs PostgreSQL ${plan.state.serverVersion}, older than the backup's ${server.version}; restore into ${server.major} or newer`);
    return `target PostgreSQL ${plan.state.serverVersion}, backup from ${server.version}`;
  });
  await attempt('backup integrity', () =>
    withWorkDir(deps.config, async (dir) => {
      const fetched = await fetchArchive(plan.storage, manifest, join(dir, 'backup.dump'), deps.config.encryption);
      return `size and sha256 match, ${fetched.rawBytes} bytes after decompression`;
    }),
  );
  return checks;
}
