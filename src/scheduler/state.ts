import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobName } from '../config';
import { writeFileAtomic } from '../state/files';

export interface JobState {
  lastStart?: string;
  lastEnd?: string;
  outcome?: 'ok' | 'failed' | 'interrupted';
  durationMs?: number;
  error?: string;
  nextRun?: string | null;
}

export interface DaemonState {
  pid?: number;
  startedAt?: string;
  /** Refreshed every minute while the daemon runs; health reads it. */
  heartbeat?: string;
  jobs: Partial<Record<JobName, JobState>>;
}

export const statePath = (stateDir: string) => join(stateDir, 'state.json');

export async function readState(stateDir: string): Promise<DaemonState> {
  try {
    return JSON.parse(await readFile(statePath(stateDir), 'utf8')) as DaemonState;
  } catch {
    return { jobs: {} };
  }
}

/** Read-modify-write of the state file; callers are serialised by the daemon's single loop. */
export async function updateState(stateDir: string, change: (state: DaemonState) => void): Promise<DaemonState> {
  const state = await readState(stateDir);
  change(state);
  await writeFileAtomic(statePath(stateDir), `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

/** Backup tiers whose latest scheduled attempt failed: retention deletes nothing in them. */
export function failedBackupTiers(state: DaemonState): Set<'daily' | 'weekly' | 'monthly'> {
  return new Set((['daily', 'weekly', 'monthly'] as const).filter((tier) => state.jobs[tier]?.outcome === 'failed'));
}
