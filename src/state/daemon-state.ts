import { readFile, rename } from 'node:fs/promises';
import { JOBS, type JobName } from '../config';
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
  /**
   * When the daemon first scheduled this job here (schedule not off): health's "not due yet" grace
   * for a missing result counts from it, so a tier switched on, or new in an upgrade, is not
   * overdue at once. null: the job was off at the daemon's last start; missing: a state file from
   * before this field.
   */
  firstScheduledAt?: string | null;
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

/**
 * At the daemon's start: each scheduled job keeps its firstScheduledAt, or gets `now` when it is new
 * or switched on again; a job that is off forgets it (null), so switching it on starts a new grace.
 * A state file from before the field: a job that already ran was scheduled since the daemon's
 * first start (its verdicts stay as they were); one that never ran is new now (the yearly tier
 * after an upgrade, a tier switched on from off).
 */
export function recordSchedules(state: DaemonState, scheduled: ReadonlySet<JobName>, now: string): void {
  for (const job of JOBS) {
    const previous = state.jobs[job] ?? {};
    let firstScheduledAt: string | null;
    if (!scheduled.has(job)) firstScheduledAt = null;
    else if (typeof previous.firstScheduledAt === 'string') firstScheduledAt = previous.firstScheduledAt;
    else if (previous.firstScheduledAt === undefined && previous.lastStart !== undefined) firstScheduledAt = state.firstStartedAt ?? now;
    else firstScheduledAt = now;
    state.jobs[job] = { ...previous, firstScheduledAt };
  }
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
