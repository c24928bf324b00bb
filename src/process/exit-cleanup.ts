import { rmSync } from 'node:fs';

const tasks = new Set<() => void>();
let installed = false;

/**
 * Registers a last-resort, synchronous cleanup for when the process exits before the normal
 * (async) one ran: a second Ctrl-C, process.exit() elsewhere. Returns the function that
 * unregisters it once the normal cleanup has run.
 */
export function cleanupOnExit(task: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', () => {
      for (const run of tasks) {
        try {
          run();
        } catch {
          // keep going: every registered cleanup deserves its chance
        }
      }
    });
  }
  tasks.add(task);
  return () => tasks.delete(task);
}

/** Removes a folder on exit, retrying while a just-killed process still holds files in it. */
export function removeOnExit(path: string): () => void {
  return cleanupOnExit(() => rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
}
