import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { basename } from 'node:path';
import { KeepsakeError, UnavailableError } from '../errors';
import { startTicksOf } from './identity';
import { forgetChild, noteChild } from '../state/run-record';
import { unwatchGroup, watchGroup } from './watchdog';
import { childEnv } from './child-env';


/** A finished child process, as data: what ran, how it ended, and the end of what it said on stderr. */
export interface ProcessResult {
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  durationMs: number;
}

/** How a child ended, in the words every message uses: "exited with code 1", "was killed by SIGKILL". */
export const describeExit = (result: Pick<ProcessResult, 'exitCode' | 'signal'>): string =>
  result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;

export class ProcessFailedError extends KeepsakeError {
  constructor(readonly result: ProcessResult) {
    const tail = result.stderrTail.trim();
    super(`${result.command} ${describeExit(result)}${tail ? `: ${tail}` : ''}`, 'failed');
  }
}

export interface SpawnOptions {
  /** Extra variables for the child only (PGPASSWORD lives here, never in argv). */
  env?: Record<string, string | undefined>;
  stdin?: 'pipe' | 'ignore' | Readable;
  stdout?: 'pipe' | 'ignore' | Writable;
  uid?: number;
  gid?: number;
  cwd?: string;
  /** How many bytes of stderr to keep for error messages. */
  stderrTailBytes?: number;
  /** How to stop it if keepsake dies first (then SIGKILL); default SIGKILL. */
  stopSignal?: NodeJS.Signals;
}

export interface ChildHandle {
  readonly child: ChildProcess;
  readonly command: string;
  /** Resolves when the process has exited and its stderr is drained; never rejects. */
  readonly finished: Promise<ProcessResult>;
  /** Rejects with ProcessFailedError unless the process exited 0. */
  succeeded(): Promise<ProcessResult>;
  stderrTail(): string;
  kill(signal?: NodeJS.Signals): void;
  /** Signals the child's whole process group (a shell's subprocesses, pg_restore's workers); synchronous. */
  killGroup(signal: NodeJS.Signals): void;
  /**
   * SIGKILL, and stop waiting on its pipes: a grandchild that inherited them (a shell's
   * subprocess) must not keep `finished` pending. Resolves once the process is gone.
   */
  terminate(): Promise<ProcessResult>;
}

/** Keeps the last N bytes of a stream, enough to explain a failure without holding all of it. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

export function spawnChild(file: string, args: readonly string[], options: SpawnOptions = {}): ChildHandle {
  const command = basename(file);
  const started = Date.now();
  const tail = new TailBuffer(options.stderrTailBytes ?? 4096);
  const stdio: StdioOptions = [options.stdin ?? 'ignore', options.stdout ?? 'pipe', 'pipe'];
  const child = spawn(file, args, {
    stdio,
    env: childEnv(options.env),
    uid: options.uid,
    gid: options.gid,
    cwd: options.cwd,
    // Its own process group, so it and everything it starts can be stopped together: by
    // keepsake, by the watchdog if keepsake is killed, or by the next run (reaper.ts).
    detached: true,
  });
  const pgid = child.pid;
  if (pgid) {
    watchGroup(pgid, options.stopSignal ?? 'SIGKILL');
    noteChild(pgid, startTicksOf(pgid), command, options.stopSignal ?? 'SIGKILL');
  }
  const killGroup = (signal: NodeJS.Signals) => {
    if (!pgid) return;
    try {
      process.kill(-pgid, signal);
    } catch {
      // the group is gone
    }
  };
  let spawnError: Error | undefined;
  const finished = new Promise<ProcessResult>((resolve) => {
    child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (exitCode, signal) => {
      if (pgid) {
        // Nothing it started outlives it (a wrapper's `sleep`, a worker): then the group is forgotten.
        killGroup('SIGKILL');
        unwatchGroup(pgid);
        forgetChild(pgid);
      }
      const stderrTail = spawnError ? `${spawnError.message}\n${tail.toString()}` : tail.toString();
      resolve({ command, exitCode, signal, stderrTail, durationMs: Date.now() - started });
    });
  });
  const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  return {
    child,
    command,
    finished,
    async succeeded() {
      const result = await finished;
      if (spawnError) {
        const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        throw new UnavailableError(missing ? `${file} is not installed` : `cannot run ${file}: ${spawnError.message}`, { cause: spawnError });
      }
      if (result.exitCode !== 0) throw new ProcessFailedError(result);
      return result;
    },
    stderrTail: () => tail.toString(),
    kill,
    killGroup,
    terminate() {
      killGroup('SIGKILL');
      for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
      return finished;
    },
  };
}

/** Runs a short command to completion and returns its stdout; for version probes and the like. */
export async function runCapture(file: string, args: readonly string[], options: SpawnOptions = {}): Promise<string> {
  const handle = spawnChild(file, args, { ...options, stdout: 'pipe' });
  const chunks: Buffer[] = [];
  handle.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  await handle.succeeded();
  return Buffer.concat(chunks).toString('utf8');
}

/** Waits for a child to succeed; aborting the signal ends it at once (and the wait with its failure). */
export async function succeededUnlessAborted(child: ChildHandle, signal?: AbortSignal): Promise<ProcessResult> {
  const onAbort = () => void child.terminate();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await child.succeeded();
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
