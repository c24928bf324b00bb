import { readFile, rename } from 'node:fs/promises';
import type { JobName } from '../config';
import { StorageError } from '../errors';
import { writeFileAtomic } from './files';
import { statePaths } from './paths';

export interface JobState {
  lastStart?: string;
  lastEnd?: string;
  outcome?: 'ok' | 'failed' | 'interrupted';
  durationMs?: number;
  error?: string;
  nextRun?: string | null;
  /** Finished runs and failed ones since the state began (counters for /metrics). */
  runs?: number;
  failures?: number;
  /** The last successful run: when it ended, and for backups what it stored. */
  lastSuccess?: { at: string; durationMs: number; storedBytes?: number; backupId?: string };
}

export interface DaemonState {
  pid?: number;
  /** The daemon's first start on this STATE_DIR: until a result is due, a missing one is not overdue. */
  firstStartedAt?: string;
  startedAt?: string;
  /** Refreshed every minute while the daemon runs; health reads it. */
  heartbeat?: string;
  /** When the daemon last stopped cleanly (unset while it runs, and after a crash). */
  stoppedAt?: string;
  jobs: Partial<Record<JobName, JobState>>;
}

/** No file yet means a fresh state; a file that cannot be read or parsed is an error, never "all fine". */
export async function readState(stateDir: string): Promise<DaemonState> {
  let text: string;
  try {
    text = await readFile(statePaths.daemonState(stateDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { jobs: {} };
    throw new StorageError(`Cannot read ${statePaths.daemonState(stateDir)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as DaemonState;
  } catch (error) {
    throw new StorageError(`${statePaths.daemonState(stateDir)} is damaged; move it aside to start afresh`, { cause: error });
  }
}

/**
 * Read-modify-write of the state file; callers are serialised by the daemon's single loop. A
 * damaged file is kept aside (state.json.damaged-<time>) for inspection and the state starts afresh.
 */
export async function updateState(stateDir: string, change: (state: DaemonState) => void): Promise<DaemonState> {
  let state: DaemonState;
  try {
    state = await readState(stateDir);
  } catch (error) {
    if (!((error as Error).cause instanceof SyntaxError)) throw error;
    await rename(statePaths.daemonState(stateDir), statePaths.damagedDaemonState(stateDir, Date.now()));
    state = { jobs: {} };
  }
  change(state);
  await writeFileAtomic(statePaths.daemonState(stateDir), `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

/**
 * Backup tiers whose latest scheduled attempt did not succeed (failed, interrupted, or started and
 * never finished: a crash): retention deletes nothing in them. `base` is the base-backup job's
 * tier: while it fails, no base backup and no WAL is deleted either.
 */
export function failedBackupTiers(state: DaemonState): Set<'daily' | 'weekly' | 'monthly' | 'yearly' | 'base'> {
  const unsuccessful = (job: JobState | undefined) =>
    job !== undefined && ((job.outcome !== undefined && job.outcome !== 'ok') || (job.lastStart !== undefined && (!job.lastEnd || job.lastStart > job.lastEnd)));
  const tiers = new Set<'daily' | 'weekly' | 'monthly' | 'yearly' | 'base'>((['daily', 'weekly', 'monthly', 'yearly'] as const).filter((tier) => unsuccessful(state.jobs[tier])));
  // The base tier is filled by the base-backup job (PITR): while its last run failed, no base backup is deleted.
  if (unsuccessful(state.jobs['base-backup'])) tiers.add('base');
  return tiers;
}
