import { join } from 'node:path';
import { KeepsakeError, UnavailableError, exitKindOf } from '../errors';
import { describeDatabase } from '../postgres/connection';
import { findBinaryFor, type PgBinary } from '../postgres/binaries';
import type { Manifest } from '../backup/manifest';
import type { RestoreCheck } from './check-restored';
import { fetchArchive } from './fetch';
import { restoreInPlace } from './in-place';
import { restoreCopy, restoreFailed, type RestoreJob } from './restore-job';
import { takenNames, type RestorePlan } from './restore-plan';
import type { Deps } from '../deps';
import { StepFailed, dropCopy, renameInto, swapIn } from './swap';
import { inspectTarget, missingRights } from './target-database';
import { withWorkDir } from './work-dir';
import { prepareTableRestore } from './restore-tables';
import type { TableSelection } from './table-selection';
import { postgresFacts } from '../backup/manifest';

export { dryRun, planRestore, type RestorePlan } from './restore-plan';

export interface RestoreOutcome {
  durationMs: number;
  check: RestoreCheck;
  /** --in-place: the pre-restore backup taken before the drop. */
  safetyBackupId?: string;
  /** A swap: the target's previous database, under this name, with the app's writes since the backup. */
  keptDatabase?: string;
  /** Done, but something needs the user's hand (a kept database that still refuses connections). */
  warnings: string[];
  /** restore --table: what came along with the tables, and what could not be restored without other tables. */
  tables?: TableSelection;
}

export type Archive = { path: string; manifest: Manifest; pgRestore: PgBinary; useList?: string };

/**
 * Replaces the target with the backup. The archive is fetched and verified before anything is
 * touched, and nothing is started that the role lacks the rights to finish. Then, by default, the
 * backup is restored beside the target under a name nobody else knows, checked, and swapped in
 * (swap.ts): the application is locked out only for the swap, never meets a half-restored
 * database, and its writes since the backup stay in the kept database. --in-place (in-place.ts)
 * drops the target first, for servers without room for both.
 */
export async function executeRestore(deps: Deps, plan: RestorePlan, signal?: AbortSignal): Promise<RestoreOutcome> {
  const started = Date.now();
  const { manifest } = plan.entry;
  return withWorkDir(deps.config, async (dir) => {
    const fetched = await fetchArchive(plan.storage, manifest, join(dir, 'backup.dump'), deps.config.encryption, signal);
    const archive = { path: fetched.path, manifest, pgRestore: await findBinaryFor('pg_restore', postgresFacts(manifest).pgDump.major, deps.config.pgBinDir) };
    return restoreArchive(deps, plan, archive, dir, signal, started);
  });
}

/**
 * The restore proper, from a verified custom-format archive in the work directory `dir`: a fetched
 * backup, or the dump of a cluster recovered to a point in time (restore --at).
 */
export async function restoreArchive(deps: Deps, plan: RestorePlan, archive: Archive, dir: string, signal?: AbortSignal, started = Date.now()): Promise<RestoreOutcome> {
  // Look again now: the confirmation prompt may have waited a while.
  const current = await inspectTarget(plan.target);
  const missing = missingRights(plan.target, current);
  if (missing.length) throw new UnavailableError(`Cannot restore into ${plan.target.database}: role ${current.rights.role} lacks ${missing.join('; and ')}. Nothing was changed.`);
  const taken = await takenNames(plan);
  if (taken.length) throw new UnavailableError(`Database ${taken.join(' and ')} exists already: drop it or run the restore again in a second. Nothing was changed.`);
  const job: RestoreJob = { ...deps, plan, current, dir, signal };
  if (plan.tables) {
    if (current.exists) throw new UnavailableError(`Database ${plan.target.database} exists now: restore --table restores into a new database only. Nothing was changed.`);
    const { useList, manifest: chosen, selection } = await prepareTableRestore(archive, plan.tables, dir);
    return { ...(await restoreFresh(job, { ...archive, manifest: chosen, useList })), durationMs: Date.now() - started, warnings: [], tables: selection };
  }

  if (!current.exists) return { ...(await restoreFresh(job, archive)), durationMs: Date.now() - started, warnings: [] };
  if (plan.mode === 'in-place') return { ...(await restoreInPlace(job, archive)), durationMs: Date.now() - started, warnings: [] };
  return { ...(await restoreAndSwap(job, archive)), durationMs: Date.now() - started };
}

/** The target does not exist: restore beside it, check, and give the copy its name. */
async function restoreFresh(job: RestoreJob, archive: Archive): Promise<{ check: RestoreCheck }> {
  const { plan } = job;
  const check = await restoreBeside(job, archive, `${plan.target.database} was not created.`);
  try {
    await renameInto(plan.target, plan.copyName);
  } catch (error) {
    throw restoreFailed(plan, error as Error, `The restored and checked copy is left as ${plan.copyName}: ALTER DATABASE "${plan.copyName}" RENAME TO "${plan.target.database}";`);
  }
  return { check };
}

async function restoreAndSwap(job: RestoreJob, archive: Archive): Promise<{ check: RestoreCheck; keptDatabase: string; warnings: string[] }> {
  const { plan } = job;
  const kept = plan.keptName!;
  const check = await restoreBeside(job, archive, `${plan.target.database} was not touched.`);
  try {
    const { warning } = await swapIn(plan.target, plan.copyName, kept);
    return { check, keptDatabase: kept, warnings: warning ? [warning] : [] };
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
    job.log.error({ err: error.failure }, 'swapping in the restored copy failed');
    const copy = error.undone ? await dropCopy(plan.target, plan.copyName) : `The restored and checked copy is ${plan.copyName}.`;
    throw new KeepsakeError(
      `Restore of ${plan.entry.manifest.id} into ${describeDatabase(plan.target)}: the backup was restored and checked as ${plan.copyName}. Swapping in the restored copy failed: ${error.failure.message}. ${error.aftermath} ${copy}`,
      exitKindOf(error.failure),
      { cause: error.failure },
    );
  }
}

/** restoreCopy, with a failure said as the restore's failure and what it left. */
async function restoreBeside(job: RestoreJob, archive: Archive, untouched: string): Promise<RestoreCheck> {
  try {
    return await restoreCopy(job, job.plan.copyName, archive, { keepOwnership: job.plan.keepOwnership, signal: job.signal });
  } catch (error) {
    if (error instanceof StepFailed) throw restoreFailed(job.plan, error.failure, `${untouched} ${error.aftermath}`);
    throw restoreFailed(job.plan, error as Error, untouched);
  }
}
