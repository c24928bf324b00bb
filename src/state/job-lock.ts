import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { KeepsakeError, makeWritableHint, StorageError } from '../errors';
import { statePaths } from './paths';

export interface LockHolder {
  pid: number;
  job: string;
  since: string;
  /** Random per acquisition: a pid alone is reused (every container's daemon is pid 1). */
  token: string;
}

export class LockBusyError extends KeepsakeError {
  constructor(readonly holder: LockHolder) {
    super(`Another keepsake job is running (${holder.job}, pid ${holder.pid}, since ${holder.since}); try again later, or run without --no-wait to wait for it`, 'busy');
  }
}

/** Tokens of the locks this process holds right now. */
const heldHere = new Set<string>();
/** When this process started: a lock older than that with our pid is a previous life's. */
const processStarted = Date.now() - process.uptime() * 1000;

function unusableStateDir(stateDir: string, error: unknown): StorageError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? `permission denied; ${makeWritableHint('STATE_DIR')}`
      : code === 'ENOSPC'
        ? 'no space left on the device; free space there or move STATE_DIR'
        : (error as Error).message;
  return new StorageError(`Cannot use STATE_DIR ${stateDir} for the job lock: ${why}`, { cause: error });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder, or undefined when there is no lock file. Unreadable content is an error, not "free". */
export async function readHolder<T extends { token: string } = LockHolder>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as T; // written whole by link(), so never half-written
}

/** A holder that can no longer be running: its process is gone, or it is our pid from an earlier life. */
function isStale(holder: LockHolder): boolean {
  if (holder.pid === process.pid) return !heldHere.has(holder.token) && Date.parse(holder.since) < processStarted;
  return !alive(holder.pid);
}

/**
 * One job at a time per STATE_DIR: the daemon's scheduled jobs and manual `docker exec` commands
 * coordinate through a lock file. The file appears whole (written aside, then link()ed into place,
 * which fails if one exists); a stale lock (its process gone) is moved aside with rename() and
 * re-checked, so two processes cannot both take it over.
 */
export async function acquireLock(
  stateDir: string,
  job: string,
  options: { wait: boolean; onWait?: (holder: LockHolder) => void; signal?: AbortSignal; pollMs?: number; path?: string },
): Promise<() => Promise<void>> {
  // Another lock by the same rules (a channel's delivery lock); its draft sits beside it.
  const path = options.path ?? statePaths.jobLock(stateDir);
  const holder: LockHolder = { pid: process.pid, job, since: new Date().toISOString(), token: randomBytes(12).toString('hex') };
  const draft = options.path ? `${dirname(path)}/.${basename(path)}.${holder.token}` : statePaths.jobLockDraft(stateDir, holder.token);
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unusableStateDir(stateDir, error);
  }
  let told = false;
  try {
    for (;;) {
      // Written anew before each attempt: "since" is when the lock was taken, not when the
      // waiting began (a job that waited an hour has not been running for an hour).
      holder.since = new Date().toISOString();
      try {
        await writeFile(draft, JSON.stringify(holder), { mode: 0o600 });
      } catch (error) {
        throw unusableStateDir(stateDir, error); // the finally below removes a half-written draft
      }
      try {
        await link(draft, path);
        heldHere.add(holder.token);
        return async () => {
          heldHere.delete(holder.token);
          const current = await readHolder(path).catch(() => undefined);
          if (current?.token === holder.token) await unlink(path).catch(() => undefined);
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unusableStateDir(stateDir, error);
      }
      const current = await readHolder(path).catch((error) => {
        if (error instanceof SyntaxError) throw new StorageError(`The lock file ${path} is damaged; if no keepsake job is running, delete it`, { cause: error });
        throw unusableStateDir(stateDir, error);
      });
      if (!current) continue; // released in between: try again at once
      if (isStale(current)) {
        await takeOverStale(path, current.token);
        continue;
      }
      if (!options.wait) throw new LockBusyError(current);
      if (!told) options.onWait?.(current);
      told = true;
      if (options.signal?.aborted) throw new KeepsakeError(`Stopped while waiting for ${current.job} to finish`, 'interrupted');
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
    }
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/** Moves a stale lock aside; if someone else replaced it meanwhile, puts theirs back untouched. */
export async function takeOverStale(path: string, staleToken: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return; // gone already: someone else took it over or released it
  }
  const moved = await readHolder(aside).catch(() => undefined);
  if (moved && moved.token !== staleToken) {
    // Not the lock we judged stale: a live one that appeared in between. Restore it if we can.
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}
