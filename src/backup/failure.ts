import { coerceError } from '../errors';
import { ProcessFailedError, type ChildHandle } from '../process/run-process';

const SETTLE_MS = 1500;

/**
 * When a pipeline breaks, several errors arrive at once (a dying pg_dump makes zstd see EOF,
 * a dying zstd makes pg_dump die of SIGPIPE and the writer see EPIPE). The user needs the first
 * cause, not its echoes: a child that failed on its own explains more than a broken pipe does,
 * while a storage failure or an interruption explains itself (trustError). Every child is dead
 * when this returns.
 */
export async function blameFailure(error: Error, children: ChildHandle[], options: { trustError: boolean }): Promise<Error> {
  if (!options.trustError) {
    // Give children that are already dying a moment to report their own exit status.
    await Promise.race([Promise.all(children.map((child) => child.finished)), delay(SETTLE_MS)]);
  }
  const exitedOnTheirOwn = children.filter((child) => child.child.exitCode !== null || child.child.signalCode !== null);
  await Promise.all(children.map((child) => child.terminate()));
  if (options.trustError) return error;

  const failures = (await Promise.all(exitedOnTheirOwn.map((child) => child.succeeded().then(() => undefined, coerceError)))).filter(
    (failure): failure is Error => failure !== undefined,
  );
  // Only echoes among the children: the original error (a full disk, say) is the cause.
  return failures.find((failure) => !isEcho(failure)) ?? error;
}

/** SIGPIPE and "Broken pipe" are what a process says when the one after it died. */
function isEcho(failure: Error): boolean {
  if (!(failure instanceof ProcessFailedError)) return false;
  return failure.result.signal === 'SIGPIPE' || /broken pipe|EPIPE/i.test(failure.result.stderrTail);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
