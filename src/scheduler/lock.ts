import { open, readFile, unlink } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError, StorageError } from '../errors';

export interface LockHolder {
  pid: number;
  job: string;
  since: string;
}

export class LockBusyError extends KeepsakeError {
  constructor(readonly holder: LockHolder) {
    super(`Another keepsake job is running (${holder.job}, pid ${holder.pid}, since ${holder.since}); try again later, or run without --no-wait to wait for it`, 'busy');
  }
}

function unusableStateDir(stateDir: string, error: unknown): StorageError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied; make it writable by the user keepsake runs as' : (error as Error).message;
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

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/**
 * One job at a time per STATE_DIR: the daemon's scheduled jobs and manual `docker exec` commands
 * coordinate through an exclusively created lock file holding the holder's pid. A lock whose
 * process is gone (killed, container restarted) is stale and taken over.
 */
export async function acquireLock(
  stateDir: string,
  job: string,
  options: { wait: boolean; onWait?: (holder: LockHolder) => void; signal?: AbortSignal; pollMs?: number },
): Promise<() => Promise<void>> {
  const path = join(stateDir, 'keepsake.lock');
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unusableStateDir(stateDir, error);
  }
  let told = false;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, job, since: new Date().toISOString() } satisfies LockHolder));
      await handle.close();
      return async () => {
        const holder = await readHolder(path);
        if (holder?.pid === process.pid) await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unusableStateDir(stateDir, error);
    }
    const holder = await readHolder(path);
    if (!holder || !alive(holder.pid) || holder.pid === process.pid) {
      // Stale (or half-written by a process that died): remove and try again.
      if (!holder || holder.pid !== process.pid) await unlink(path).catch(() => undefined);
      else throw new Error(`lock already held by this process for ${holder.job}`);
      continue;
    }
    if (!options.wait) throw new LockBusyError(holder);
    if (!told) options.onWait?.(holder);
    told = true;
    if (options.signal?.aborted) throw new KeepsakeError(`Stopped while waiting for ${holder.job} to finish`, 'interrupted');
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
