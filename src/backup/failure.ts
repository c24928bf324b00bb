import { coerceError } from '../errors';
import { ProcessFailedError, type ChildHandle } from '../process/run-process';

const SETTLE_MS = 1500;

interface Failure {
  error: Error;
  at: number;
}

/**
 * When a pipeline breaks, several errors arrive at once (a dying pg_dump makes zstd see EOF, a
 * dying zstd makes pg_dump fail to write, a failed row count aborts the snapshot pg_dump was about
 * to import). The user needs the first cause, not its echoes, so the witness notes when each
 * participant failed: children by the moment they exited, tasks beside them (the row counts) by
 * the moment they rejected.
 */
export class FailureWitness {
  private readonly exits = new Map<ChildHandle, number>();
  private readonly taskFailures: Failure[] = [];

  /** Call right after spawning, so the exit time is the child's own. */
  watchChild(child: ChildHandle): void {
    child.child.once('exit', () => this.exits.set(child, Date.now()));
  }

  /** A task running beside the children; its failure competes with theirs for "first". */
  watchTask(task: Promise<unknown>): void {
    task.catch((error: unknown) => this.taskFailures.push({ error: coerceError(error), at: Date.now() }));
  }

  /**
   * The error to report for `error`, the one that stopped the backup. A storage failure or an
   * interruption explains itself (trustError). Otherwise the earliest failure of a child that
   * failed on its own (not as an echo) or of a task wins, else `error`. Every child is dead when
   * this returns.
   */
  async blame(error: Error, children: ChildHandle[], options: { trustError: boolean }): Promise<Error> {
    if (!options.trustError) {
      // Give children that are already dying a moment to report their own exit status.
      await Promise.race([Promise.all(children.map((child) => child.finished)), delay(SETTLE_MS)]);
    }
    const exitedOnTheirOwn = children.filter((child) => child.child.exitCode !== null || child.child.signalCode !== null);
    await Promise.all(children.map((child) => child.terminate()));
    if (options.trustError) return error;

    const childFailures = await Promise.all(
      exitedOnTheirOwn.map((child) =>
        child.succeeded().then(
          () => undefined,
          (failure: unknown): Failure => ({ error: coerceError(failure), at: this.exits.get(child) ?? Number.MAX_SAFE_INTEGER }),
        ),
      ),
    );
    const causes = [...childFailures.filter((failure): failure is Failure => failure !== undefined && !isEcho(failure.error)), ...this.taskFailures];
    // Only echoes among the children: the original error (a full disk, say) is the cause.
    return causes.sort((a, b) => a.at - b.at)[0]?.error ?? error;
  }
}

/**
 * What a process says when the one after it died: SIGPIPE, "Broken pipe", or (Node's stdio are
 * socket pairs, so a dead reader can also look like a reset) pg_dump's "could not write to output
 * file: Connection reset by peer".
 */
function isEcho(failure: Error): boolean {
  if (!(failure instanceof ProcessFailedError)) return false;
  return failure.result.signal === 'SIGPIPE' || /broken pipe|EPIPE|could not write to output file/i.test(failure.result.stderrTail);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
