import { coerceError } from '../errors';
import { reapLeftovers } from '../process/reaper';
import { acquireLock } from '../state/job-lock';
import type { CommandContext } from './context';

/**
 * Manual commands run while the daemon runs (docker compose exec): they wait for the running job
 * with a message, or with --no-wait refuse at once. Once they hold the lock, they clean up after
 * earlier runs that were killed, and say so.
 */
export async function withJobLock<T>(context: CommandContext, job: string, options: { wait: boolean; signal?: AbortSignal }, use: () => Promise<T>): Promise<T> {
  const release = await acquireLock(context.config().stateDir, job, {
    wait: options.wait,
    signal: options.signal,
    onWait: (holder) => context.err(`waiting for ${holder.job} (pid ${holder.pid}, running since ${holder.since}) to finish...`),
  });
  try {
    // Under the lock, before starting work: what an earlier killed run left behind goes first.
    const said = await reapLeftovers(context.config().stateDir).catch((error: unknown) => [`could not clean up after an earlier run: ${coerceError(error).message}`]);
    for (const line of said) context.err(`keepsake: ${line}`);
    return await use();
  } finally {
    await release();
  }
}
