import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { KeepsakeError, StorageError } from '../errors';
import { formatDuration } from '../format';
import { judgeProcess, ownIdentity, type ProcessIdentity } from '../process/identity';
import { HEARTBEAT_MS, judgeRun, readRunRecord, runToken, saveRunRecord } from './run-record';
import { readHolder, takeOverStale } from './job-lock';
import { statePaths } from './paths';

/**
 * One daemon per STATE_DIR: two would both take every scheduled backup. The running daemon is
 * named in STATE_DIR/daemon.lock (created whole with link(), like the job lock) by its identity and
 * the token of its run record (STATE_DIR/processes/<token>.json), whose mtime is its heartbeat.
 *
 * Whether that daemon still runs (judgeRun) is decided by the surest means at hand:
 * - Same kernel boot and same pid namespace (a `docker compose exec` beside the daemon, or one
 *   host): its pid and start time, exactly. A pid reused after a `docker restart` (the daemon has
 *   the same pid in every life of a container) has another start time; host names play no part,
 *   so two containers that share one do not confuse it.
 * - Otherwise (another container on a shared volume, another host, or the previous life of this
 *   container, which had its own pid namespace) its heartbeat: written every HEARTBEAT_MS, stale
 *   after HEARTBEAT_STALE_MS. A heartbeat that is fresh but might be a dead daemon's last one is
 *   watched until it either moves (a live daemon: refuse) or goes stale (take over). So a daemon
 *   killed and restarted in a new container starts at most HEARTBEAT_STALE_MS late, never twice.
 *   (Hosts sharing a volume compare mtimes with their own clocks: keep them in step, NTP.)
 * A clean stop removes the lock.
 */
export interface DaemonHolder extends ProcessIdentity {
  token: string;
  since: string;
}

export class DaemonRunningError extends KeepsakeError {
  constructor(stateDir: string, holder: DaemonHolder, how: string) {
    super(
      `Another keepsake daemon is running on STATE_DIR ${stateDir}: pid ${holder.pid} on host ${holder.host}, since ${holder.since} (${how}). ` +
        'Two daemons would both take every scheduled backup: stop that one first, or give this one a STATE_DIR of its own',
      'busy',
    );
  }
}

export type DaemonLiveness =
  | { state: 'none' }
  | { state: 'running' | 'dead'; holder: DaemonHolder; heartbeatAt?: number; judgedBy: 'pid' | 'heartbeat' };

/** Whether the daemon daemon.lock names is running, and how that was judged. */
export async function daemonLiveness(stateDir: string, now = Date.now()): Promise<DaemonLiveness> {
  const holder = await readHolder<DaemonHolder>(statePaths.daemonLock(stateDir)).catch(() => undefined);
  if (!holder) return { state: 'none' };
  const run = await readRunRecord(stateDir, holder.token);
  const byPid = judgeProcess(holder);
  if (!run) return { state: byPid === 'alive' ? 'running' : 'dead', holder, judgedBy: byPid === 'unknown' ? 'heartbeat' : 'pid' };
  const verdict = judgeRun({ record: holder, heartbeatAt: run.heartbeatAt }, now);
  return { state: verdict === 'dead' ? 'dead' : 'running', holder, heartbeatAt: run.heartbeatAt, judgedBy: byPid === 'unknown' ? 'heartbeat' : 'pid' };
}

export interface DaemonLock {
  /** The daemon this one replaced: it had died without stopping (its run is cleaned up after). */
  replaced?: DaemonHolder;
  /** False once daemon.lock names another daemon (one that judged this one dead). */
  stillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

export async function acquireDaemonLock(stateDir: string, options: { onWatch?: (holder: DaemonHolder) => void } = {}): Promise<DaemonLock> {
  const path = statePaths.daemonLock(stateDir);
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await saveRunRecord(); // the heartbeat exists before the lock names it
  } catch (error) {
    throw new StorageError(`Cannot use STATE_DIR ${stateDir} for the daemon lock: ${(error as Error).message}`, { cause: error });
  }
  const token = runToken();
  if (!token) throw new Error('the run record is off: recordRunsIn() was not called');
  const holder: DaemonHolder = { ...ownIdentity(), token, since: new Date().toISOString() };
  const draft = statePaths.daemonLockDraft(stateDir, token);
  let replaced: DaemonHolder | undefined;
  try {
    await writeFile(draft, JSON.stringify(holder), { mode: 0o600 });
    for (;;) {
      try {
        await link(draft, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = await readHolder<DaemonHolder>(path);
      if (!current) continue;
      await waitUntilGone(stateDir, current, options.onWatch);
      await takeOverStale(path, current.token);
      replaced = current;
    }
  } finally {
    await unlink(draft).catch(() => undefined);
  }
  const stillHeld = async () => (await readHolder<DaemonHolder>(path).catch(() => undefined))?.token === token;
  return {
    replaced,
    stillHeld,
    async release() {
      if (await stillHeld()) await unlink(path).catch(() => undefined);
    },
  };
}

/** Returns once the holder is dead; throws DaemonRunningError while it runs. Waits while only its heartbeat can tell. */
async function waitUntilGone(stateDir: string, holder: DaemonHolder, onWatch?: (holder: DaemonHolder) => void): Promise<void> {
  const first = await readRunRecord(stateDir, holder.token);
  const byPid = judgeProcess(holder);
  if (byPid === 'alive') throw new DaemonRunningError(stateDir, holder, 'its process is alive');
  if (byPid === 'dead' || !first) return;
  onWatch?.(holder);
  for (;;) {
    const now = Date.now();
    const run = await readRunRecord(stateDir, holder.token);
    if (!run) return;
    if (run.heartbeatAt !== first.heartbeatAt) throw new DaemonRunningError(stateDir, holder, `its heartbeat moved ${formatDuration(Math.max(0, now - run.heartbeatAt))} ago`);
    if (judgeRun({ record: holder, heartbeatAt: run.heartbeatAt }, now) === 'dead') return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, HEARTBEAT_MS)));
  }
}
