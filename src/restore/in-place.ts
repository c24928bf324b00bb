import { join } from 'node:path';
import { postgresFacts, type Manifest } from '../backup/manifest';
import { runBackup } from '../backup/run-backup';
import { preferredCopy, readCatalog, selectBackup } from '../catalog/catalog';
import type { DatabaseConfig } from '../config';
import { KeepsakeError, exitKindOf } from '../errors';
import { findBinaryFor, type PgBinary } from '../postgres/binaries';
import { describeDatabase } from '../postgres/connection';
import type { RestoreCheck } from './check-restored';
import { puttingBackName } from './database-names';
import { fetchArchive } from './fetch';
import { checkDecryptionKeys } from '../encryption/keys-check';
import { interruptedOr, restoreCopy, restoreFailed, type RestoreJob } from './restore-job';
import { StepFailed, dropTarget, renameInto } from './swap';

/**
 * --in-place, for a server without room for a second copy. Order:
 *   1. a safety backup (tier pre-restore) while the application still runs; if it fails, nothing was changed
 *   2. refuse connections to the target, end its sessions, drop it
 *   3. restore into a copy under another name and check it; from 2 to 4 the target's name is
 *      missing, so the application is refused ("does not exist") and cannot write into a half-restored database
 *   4. rename the copy to the target's name
 * If 3 or 4 fails, the safety backup is restored the same way (beside, checked, renamed). Writes the
 * application made after the safety backup's snapshot are lost; the default swap keeps them.
 */
export async function restoreInPlace(job: RestoreJob, archive: { path: string; manifest: Manifest; pgRestore: PgBinary }): Promise<{ check: RestoreCheck; safetyBackupId?: string }> {
  const { plan, signal } = job;
  const safety = plan.safetyBackup ? await takeSafetyBackup(job, plan.target, signal) : undefined;
  if (safety) job.log.info({ id: safety.id }, 'safety backup taken');
  // The way back must be readable before the target is dropped: an encrypted safety backup needs its key here.
  if (safety) await checkDecryptionKeys(safety, job.config.encryption);
  try {
    await dropTarget(plan.target, job.current.serverMajor);
  } catch (error) {
    if (error instanceof StepFailed) throw restoreFailed(plan, error.failure, error.aftermath);
    throw error;
  }

  let restored: RestoreCheck | undefined;
  try {
    restored = await restoreCopy(job, plan.copyName, archive, { keepOwnership: plan.keepOwnership, signal });
    await renameInto(plan.target, plan.copyName);
    return { check: restored, safetyBackupId: safety?.id };
  } catch (error) {
    const cause = error instanceof StepFailed ? error.failure : interruptedOr(error, signal);
    if (restored) {
      // The backup is restored and checked; only its rename failed (a database of the target's name appeared?).
      throw restoreFailed(plan, cause, `The restored and checked copy is left as ${plan.copyName}: ALTER DATABASE "${plan.copyName}" RENAME TO "${plan.target.database}";`);
    }
    const note = error instanceof StepFailed ? ` ${error.aftermath}` : '';
    if (!safety) throw restoreFailed(plan, cause, `No safety backup was taken (--no-safety-backup), so its previous contents are gone.${note}`);
    job.log.error({ err: cause }, 'restore failed after the drop; putting the safety backup back');
    try {
      await putBack(job, safety);
    } catch (rollbackError) {
      const reason = rollbackError instanceof StepFailed ? `${rollbackError.failure.message}. ${rollbackError.aftermath}` : interruptedOr(rollbackError).message;
      throw restoreFailed(plan, cause, `Putting the safety backup back ALSO failed (${reason}); restore it by hand: keepsake restore pre-restore/${safety.id} --target-db ${plan.target.database}`);
    }
    throw restoreFailed(plan, cause, `The database was put back as it was, from safety backup pre-restore/${safety.id}.`);
  }
}

/** The target's pre-restore backup; its failure stops the restore before anything was touched. */
async function takeSafetyBackup(job: RestoreJob, target: DatabaseConfig, signal?: AbortSignal): Promise<Manifest> {
  try {
    return await runBackup({ ...job, config: { ...job.config, database: target } }, { tier: 'pre-restore', signal });
  } catch (error) {
    const cause = interruptedOr(error, signal);
    throw new KeepsakeError(`The safety backup of ${describeDatabase(target)} failed: ${cause.message.trim()}. Nothing was changed: the database was not touched.`, exitKindOf(cause), { cause });
  }
}

/** Restores the safety backup beside, checks it and renames it to the target's name. Not interruptible: it is the way back. */
async function putBack(job: RestoreJob, safety: Manifest): Promise<void> {
  const entry = selectBackup(await readCatalog(job.storages, { tier: 'pre-restore' }), `pre-restore/${safety.id}`);
  const fetched = await fetchArchive(preferredCopy(entry), safety, join(job.dir, 'safety.dump'), job.config.encryption);
  const pgRestore = await findBinaryFor('pg_restore', postgresFacts(safety).pgDump.major, job.config.pgBinDir);
  const copy = puttingBackName(job.plan.target.database, job.plan.stamp);
  await restoreCopy(job, copy, { path: fetched.path, manifest: safety, pgRestore }, { keepOwnership: true });
  await renameInto(job.plan.target, copy);
}
