import type { JobName } from '../config';
import type { Logger } from '../log';

/**
 * Runs one job to its end and records its outcome (it never rejects). `lock`: take the STATE_DIR
 * lock first; `onLocked` is called once the job holds it (or at once without a lock): from then on
 * it is working, and a stop lets it finish within the grace.
 */
export type RunJob = (job: JobName, how: { signal: AbortSignal; lock: boolean; onLocked: () => void }) => Promise<void>;

export interface JobQueueOptions {
  run: RunJob;
  log: Pick<Logger, 'info' | 'warn'>;
  /** SHUTDOWN_GRACE: how long stop() lets a working job finish before it aborts it. */
  shutdownGraceMs: number;
}

/** Read-only jobs have nothing worth finishing: at a stop they get this long, then the stop goes on. */
const ALONGSIDE_STOP_MS = 10_000;

interface Run {
  job: JobName;
  abort: AbortController;
  done: Promise<void>;
  /** It holds the lock: its work has begun. */
  working: boolean;
}

/**
 * The daemon's serial queue: one job at a time, in the order they came, and a job already waiting
 * is not queued twice (a backup that overran its next slot runs once more, not once per slot).
 * Read-only jobs run beside it, one of each at a time. Knows nothing of croner, files or locks:
 * the daemon hands it `run`.
 */
export class JobQueue {
  private readonly waiting: JobName[] = [];
  private readonly alongside = new Map<JobName, Run>();
  private current: Run | undefined;
  /** A read-only job to run once the queue is empty (the start-up health run, after the catch-up backups). */
  private whenIdle: JobName | undefined;
  private stopping = false;

  constructor(private readonly options: JobQueueOptions) {}

  /** The job the queue runs now (working, or waiting for the lock). */
  get running(): JobName | undefined {
    return this.current?.job;
  }

  enqueue(job: JobName, why: string): void {
    if (this.stopping) return;
    if (this.waiting.includes(job)) return this.options.log.info({ job, why }, 'job already waiting; not queued twice');
    this.waiting.push(job);
    this.options.log.info({ job, why, waiting: this.waiting.length }, 'job queued');
    this.drain();
  }

  /** Runs a read-only job now, beside the queue and without the lock; skipped while its last run goes on. */
  runAlongside(job: JobName): void {
    if (this.stopping) return;
    if (this.alongside.has(job)) return this.options.log.info({ job }, 'job still running from its last slot; this slot skipped');
    const abort = new AbortController();
    const run: Run = { job, abort, done: Promise.resolve(), working: true };
    run.done = this.options.run(job, { signal: abort.signal, lock: false, onLocked: () => undefined }).finally(() => this.alongside.delete(job));
    this.alongside.set(job, run);
  }

  /** Runs a read-only job alongside as soon as the queue is empty (now, if it is). */
  runAlongsideWhenIdle(job: JobName): void {
    this.whenIdle = job;
    this.drain();
  }

  private drain(): void {
    if (this.current || this.stopping) return;
    const job = this.waiting.shift();
    if (!job) {
      const idle = this.whenIdle;
      this.whenIdle = undefined;
      if (idle) this.runAlongside(idle);
      return;
    }
    const abort = new AbortController();
    const run: Run = { job, abort, done: Promise.resolve(), working: false };
    this.current = run;
    run.done = this.options.run(job, { signal: abort.signal, lock: true, onLocked: () => (run.working = true) }).finally(() => {
      this.current = undefined;
      if (this.stopping) return;
      this.drain();
    });
  }

  /**
   * Takes no more jobs and drops those waiting. Read-only jobs are aborted (their writes are atomic
   * renames, so being cut short loses nothing) and get a few seconds. A job still waiting for the
   * lock (a manual command holds it) is aborted at once: nothing started, nothing to finish. A
   * working job may finish within SHUTDOWN_GRACE, then it is aborted (it cleans up after itself).
   */
  async stop(reason: string): Promise<void> {
    this.stopping = true;
    this.waiting.length = 0;
    for (const run of this.alongside.values()) run.abort.abort(reason);
    await Promise.race([Promise.all([...this.alongside.values()].map((run) => run.done)), new Promise((resolve) => setTimeout(resolve, ALONGSIDE_STOP_MS).unref())]);
    const current = this.current;
    if (current && !current.working) {
      current.abort.abort(reason);
      await current.done;
    } else if (current) {
      const { log, shutdownGraceMs } = this.options;
      log.info({ job: current.job, reason, graceMs: shutdownGraceMs }, 'stopping: letting the running job finish');
      const timer = setTimeout(() => {
        log.warn({ job: current.job }, 'shutdown grace over: aborting the running job');
        current.abort.abort(reason);
      }, shutdownGraceMs);
      await current.done;
      clearTimeout(timer);
    }
  }
}
