import type { DatabaseConfig } from '../config';
import { libpqEnv } from '../postgres/connection';
import type { PgBinary } from '../postgres/binaries';
import { runCapture, spawnChild, succeededUnlessAborted, type ChildHandle } from '../process/run-process';

export interface PgRestoreOptions {
  jobs: number;
  /** Keep ownership and grants from the source (needs the same roles on the target). */
  keepOwnership?: boolean;
  /** A list file (`pg_restore --use-list`): only its entries are restored (restore --table). */
  useList?: string;
  signal?: AbortSignal;
}

/**
 * Runs pg_restore from a seekable archive file into `target`, in parallel, stopping at the first
 * error: a restore that "finishes with errors ignored" is a failed restore, and says so.
 */
export async function runPgRestore(pgRestore: PgBinary, target: DatabaseConfig, file: string, options: PgRestoreOptions): Promise<number> {
  const args = ['--exit-on-error', `--jobs=${options.jobs}`, '--no-password', `--dbname=${target.database}`];
  if (!options.keepOwnership) args.push('--no-owner', '--no-privileges');
  if (options.useList) args.push(`--use-list=${options.useList}`);
  const started = Date.now();
  const child: ChildHandle = spawnChild(pgRestore.path, [...args, file], { env: libpqEnv(target), stdout: 'ignore', stderrTailBytes: 8192 });
  await succeededUnlessAborted(child, options.signal);
  return Date.now() - started;
}

/** The archive's table of contents with each entry's dependencies (`--verbose`), as a list file is written. */
export async function listArchive(pgRestore: PgBinary, file: string): Promise<string> {
  return runCapture(pgRestore.path, ['--list', '--verbose', file], { stderrTailBytes: 8192 });
}
