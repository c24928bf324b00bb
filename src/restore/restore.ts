import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../backup/manifest';
import { runBackup } from '../backup/run-backup';
import { preferredCopy, readCatalog, selectBackup, type CatalogEntry } from '../catalog/catalog';
import type { Config, DatabaseConfig } from '../config';
import { InterruptedError, KeepsakeError, UnavailableError, coerceError, exitKindOf } from '../errors';
import type { Logger } from '../log';
import { findBinaryFor } from '../postgres/binaries';
import { describeDatabase } from '../postgres/connection';
import type { Storage } from '../storage';
import { checkRestored, type RestoreCheck } from './check-restored';
import { fetchArchive } from './fetch';
import { runPgRestore } from './pg-restore';
import { inspectTarget, recreateDatabase, type TargetState } from './target-database';
import { withWorkDir } from './work-dir';

export interface RestoreDeps {
  config: Config;
  storages: Storage[];
  log: Logger;
}

export interface RestorePlan {
  entry: CatalogEntry;
  storage: Storage;
  target: DatabaseConfig;
  state: TargetState;
  /** The target exists and will be dropped and recreated. */
  willDrop: boolean;
  /** A pre-restore backup of an existing target is taken first, unless declined. */
  safetyBackup: boolean;
  /** Restore owners and grants too (the roles must exist on the target). */
  keepOwnership: boolean;
  /**
   * The database the backup was made from, when it is neither the target nor the configured
   * database: `keepsake list` shows every database's backups (a pre-restore copy of a copy, say),
   * and restoring one of them over the target needs its name typed or --allow-other-database.
   */
  otherOrigin?: string;
}

export interface RestoreOutcome {
  durationMs: number;
  safetyBackupId?: string;
  check: RestoreCheck;
}

export async function planRestore(deps: RestoreDeps, request: { selector: string; target: DatabaseConfig; safetyBackup: boolean; keepOwnership?: boolean }): Promise<RestorePlan> {
  const entry = selectBackup(await readCatalog(deps.storages), request.selector, { database: deps.config.database.database });
  const state = await inspectTarget(request.target);
  const origin = entry.manifest.database;
  const otherOrigin = origin !== request.target.database && origin !== deps.config.database.database ? origin : undefined;
  return { entry, storage: preferredCopy(entry), target: request.target, state, willDrop: state.exists, safetyBackup: request.safetyBackup && state.exists, keepOwnership: request.keepOwnership ?? false, otherOrigin };
}

/** Every check a restore would make, changing nothing: integrity, tools, versions, space. */
export async function dryRun(deps: RestoreDeps, plan: RestorePlan): Promise<{ name: string; ok: boolean; detail: string }[]> {
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
    if (free < manifest.rawBytes) throw new Error(`${deps.config.restore.workDir} has ${free} bytes free, the archive needs ${manifest.rawBytes}; set RESTORE_WORK_DIR`);
    return `${free} bytes free in ${deps.config.restore.workDir}, archive needs ${manifest.rawBytes}`;
  });
  await attempt('privileges', async () => {
    if (!plan.state.canCreate) throw new Error(cannotCreate(plan.target));
    return `${plan.target.user} may create databases`;
  });
  await attempt('pg_restore', async () => (await findBinaryFor('pg_restore', manifest.pgDump.major, deps.config.pgBinDir)).path);
  await attempt('server version', async () => {
    if (plan.state.serverMajor < manifest.server.major) throw new Error(`the target runs PostgreSQL ${plan.state.serverVersion}, older than the backup's ${manifest.server.version}; restore into ${manifest.server.major} or newer`);
    return `target PostgreSQL ${plan.state.serverVersion}, backup from ${manifest.server.version}`;
  });
  await attempt('backup integrity', () =>
    withWorkDir(deps.config, async (dir) => {
      const fetched = await fetchArchive(plan.storage, manifest, join(dir, 'backup.dump'));
      return `size and sha256 match, ${fetched.rawBytes} bytes after decompression`;
    }),
  );
  return checks;
}

/**
 * Replaces the target with the backup. Order matters: the archive is fetched and verified before
 * anything is touched; a safety backup of a target holding data is taken before it is dropped;
 * and any failure after the drop puts the safety backup back before reporting.
 */
export async function executeRestore(deps: RestoreDeps, plan: RestorePlan, signal?: AbortSignal): Promise<RestoreOutcome> {
  const started = Date.now();
  const { manifest } = plan.entry;
  const { config, log } = deps;
  return withWorkDir(config, async (dir) => {
    const archive = await fetchArchive(plan.storage, manifest, join(dir, 'backup.dump'), signal);
    const pgRestore = await findBinaryFor('pg_restore', manifest.pgDump.major, config.pgBinDir);
    // Look again now: the confirmation prompt may have waited a while.
    const current = await inspectTarget(plan.target);
    if (!current.canCreate) throw new UnavailableError(cannotCreate(plan.target));
    const safety = plan.safetyBackup && current.exists ? await takeSafetyBackup(deps, plan.target, signal) : undefined;
    if (safety) log.info({ id: safety.id }, 'safety backup taken');

    let dropped = false;
    try {
      await recreateDatabase(plan.target, { drop: current.exists, shape: current.shape });
      dropped = current.exists;
      await runPgRestore(pgRestore, plan.target, archive.path, { jobs: config.restore.jobs, keepOwnership: plan.keepOwnership, signal });
      const check = await checkRestored(plan.target, manifest);
      if (!check.ok) throw new KeepsakeError(`the restored data does not match the backup: ${check.problems.join('; ')}`, 'dataError');
      return { durationMs: Date.now() - started, safetyBackupId: safety?.id, check };
    } catch (error) {
      const cause = signal?.aborted ? new InterruptedError(`interrupted by ${String(signal.reason)}`) : coerceError(error);
      if (!current.exists) throw restoreFailed(plan, cause, 'The new database was left as it is for inspection.');
      if (!dropped) throw restoreFailed(plan, cause, 'The existing database was not dropped and is unchanged.');
      if (!safety) throw restoreFailed(plan, cause, 'No safety backup was taken (--no-safety-backup), so its previous contents are gone.');
      log.error({ err: cause }, 'restore failed after the drop; putting the safety backup back');
      try {
        await putBack(deps, plan.target, safety, current, dir);
      } catch (rollbackError) {
        throw restoreFailed(plan, cause, `Putting the safety backup back ALSO failed (${coerceError(rollbackError).message}); restore it by hand: keepsake restore pre-restore/${safety.id} --target-db ${plan.target.database}`);
      }
      throw restoreFailed(plan, cause, `The database was put back as it was, from safety backup pre-restore/${safety.id}.`);
    }
  });
}

/** The target's pre-restore backup; its failure stops the restore before anything was touched. */
async function takeSafetyBackup(deps: RestoreDeps, target: DatabaseConfig, signal?: AbortSignal): Promise<Manifest> {
  try {
    return await runBackup({ ...deps, config: { ...deps.config, database: target } }, { tier: 'pre-restore', signal });
  } catch (error) {
    const cause = signal?.aborted ? new InterruptedError(`interrupted by ${String(signal.reason)}`) : coerceError(error);
    throw new KeepsakeError(`The safety backup of ${describeDatabase(target)} failed: ${cause.message.trim()}. Nothing was changed: the database was not touched.`, exitKindOf(cause), { cause });
  }
}

async function putBack(deps: RestoreDeps, target: DatabaseConfig, safety: Manifest, before: TargetState, dir: string): Promise<void> {
  const entry = selectBackup(await readCatalog(deps.storages, { tier: 'pre-restore' }), `pre-restore/${safety.id}`);
  const archive = await fetchArchive(preferredCopy(entry), safety, join(dir, 'safety.dump'));
  const pgRestore = await findBinaryFor('pg_restore', safety.pgDump.major, deps.config.pgBinDir);
  await recreateDatabase(target, { drop: true, shape: before.shape });
  await runPgRestore(pgRestore, target, archive.path, { jobs: deps.config.restore.jobs, keepOwnership: true });
  const check = await checkRestored(target, safety);
  if (!check.ok) throw new Error(check.problems.join('; '));
}

function cannotCreate(target: DatabaseConfig): string {
  return `role ${target.user} may not create databases (CREATEDB), so ${target.database} could not be recreated after a drop; grant CREATEDB or restore with a role that has it`;
}

function restoreFailed(plan: RestorePlan, cause: Error, aftermath: string): KeepsakeError {
  return new KeepsakeError(`Restore of ${plan.entry.manifest.id} into ${describeDatabase(plan.target)} failed: ${cause.message}. ${aftermath}`, exitKindOf(cause), { cause });
}
