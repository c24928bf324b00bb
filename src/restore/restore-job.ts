import type { Manifest } from '../backup/manifest';
import { InterruptedError, KeepsakeError, coerceError, exitKindOf } from '../errors';
import type { PgBinary } from '../postgres/binaries';
import { describeDatabase } from '../postgres/connection';
import { checkRestored, type RestoreCheck } from './check-restored';
import { runPgRestore } from './pg-restore';
import type { Deps } from '../deps';
import type { RestorePlan } from './restore-plan';
import { StepFailed, dropCopy } from './swap';
import { createDatabase, type TargetState } from './target-database';

/** One restore under way: what every stage needs. */
export interface RestoreJob extends Deps {
  plan: RestorePlan;
  /** The target as it is now, looked at again after the confirmation prompt. */
  current: TargetState;
  /** The work directory, for archives. */
  dir: string;
  signal?: AbortSignal;
}

export function interruptedOr(error: unknown, signal?: AbortSignal): Error {
  return signal?.aborted ? new InterruptedError(`interrupted by ${String(signal.reason)}`) : coerceError(error);
}

/**
 * Restores an archive into a new database `copy` beside the target (same owner, encoding and
 * collation) and checks every table's row count against its manifest (for restore --table, a
 * manifest of the chosen tables, and an archive list file of their entries). Nobody else knows the
 * name, so nothing writes into it. On failure the copy is dropped and StepFailed says so.
 */
export async function restoreCopy(job: RestoreJob, copy: string, archive: { path: string; manifest: Manifest; pgRestore: PgBinary; useList?: string }, options: { keepOwnership: boolean; signal?: AbortSignal }): Promise<RestoreCheck> {
  const { target } = job.plan;
  await createDatabase(target, copy, job.current.shape);
  const database = { ...target, database: copy };
  try {
    await runPgRestore(archive.pgRestore, database, archive.path, { jobs: job.config.restore.jobs, keepOwnership: options.keepOwnership, useList: archive.useList, signal: options.signal });
    const check = await checkRestored(database, archive.manifest);
    if (!check.ok) throw new KeepsakeError(`the restored data does not match the backup: ${check.problems.join('; ')}`, 'dataError');
    if (options.signal?.aborted) throw new InterruptedError('interrupted');
    return check;
  } catch (error) {
    const cause = interruptedOr(error, options.signal);
    job.log.error({ err: cause, copy }, 'restore into the copy failed; dropping it');
    throw new StepFailed(cause, await dropCopy(target, copy));
  }
}

export function restoreFailed(plan: RestorePlan, cause: Error, aftermath: string): KeepsakeError {
  return new KeepsakeError(`Restore of ${plan.entry.manifest.id} into ${describeDatabase(plan.target)} failed: ${cause.message}. ${aftermath}`, exitKindOf(cause), { cause });
}
