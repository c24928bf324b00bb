import { acquireLock } from '../scheduler/lock';
import type { CommandContext } from './context';

/**
 * Manual commands run while the daemon runs (docker compose exec): they wait for the running job
 * with a message, or with --no-wait refuse at once.
 */
export async function withJobLock<T>(context: CommandContext, job: string, options: { wait: boolean; signal?: AbortSignal }, use: () => Promise<T>): Promise<T> {
  const release = await acquireLock(context.config().stateDir, job, {
    wait: options.wait,
    signal: options.signal,
    onWait: (holder) => context.err(`waiting for ${holder.job} (pid ${holder.pid}, running since ${holder.since}) to finish...`),
  });
  try {
    return await use();
  } finally {
    await release();
  }
}
