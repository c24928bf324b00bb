import { Cron } from 'croner';
import type { JobName } from '../config';
import { JOBS } from '../config';
import type { Deps } from '../deps';
import { InterruptedError, coerceError } from '../errors';
import { catchUpJobs } from './catch-up';
import { baseBackupNeededAtStart } from '../pitr/base/at-start';
import type { JobRunner } from '../jobs/job';
import { idleReason } from '../jobs/registry';
import { acquireLock } from '../state/job-lock';
import { acquireDaemonLock } from '../state/daemon-lock';
import { reapLeftovers } from '../process/reaper';
import { HEARTBEAT_MS } from '../state/run-record';
import { startHealthServer } from '../health/http-server';
import { configuredSender, deliverWaiting } from '../report/notify';
import { deliverAllChannels } from '../notify/deliver';
import { recordSchedules, updateState, type DaemonState } from '../state/daemon-state';
import { JobQueue } from './queue';
import { startWalStreaming } from '../pitr/receive';

export interface DaemonDeps extends Deps {
  runners: Record<JobName, JobRunner>;
}

export interface Daemon {
  /** Resolves when the daemon has stopped (after stop()). */
  readonly stopped: Promise<void>;
  /** Stops scheduling; lets a running job finish within SHUTDOWN_GRACE, then aborts it cleanly. */
  stop(reason: string): Promise<void>;
  /** True when it stopped because another daemon took STATE_DIR over (it judged this one dead). */
  readonly lostLock: boolean;
}

/**
 * Read-only jobs run beside the queue and take no lock: a backup running for hours must not
 * freeze the health verdict that /healthz and Docker's HEALTHCHECK read.
 */
const ALONGSIDE: ReadonlySet<JobName> = new Set(['health']);

/**
 * The long-running sidecar: croner triggers jobs into a serial queue (queue.ts), each job takes the
 * STATE_DIR lock so manual commands wait for it, outcomes go to the state file, and a failing job
 * never stops the daemon.
 */
export async function startDaemon(deps: DaemonDeps): Promise<Daemon> {
  const { config, log } = deps;
  // First of all: a second daemon on this STATE_DIR refuses to start (DaemonRunningError, exit 75).
  const daemonLock = await acquireDaemonLock(config.stateDir, {
    onWatch: (holder) => log.warn({ holder }, 'daemon.lock names a daemon whose process cannot be checked from here: watching its heartbeat before taking over'),
  });
  if (daemonLock.replaced) log.warn({ previous: daemonLock.replaced }, 'the previous daemon on this STATE_DIR died without stopping; taking over');
  await reapAndSay({ knownDead: daemonLock.replaced ? [daemonLock.replaced.token] : [] });
  let lostLock = false;
  const queue = new JobQueue({ run: runJob, log, shutdownGraceMs: config.schedule.shutdownGraceMs });
  let stopping = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  // State writes go through one chain so they never interleave.
  let stateChain: Promise<unknown> = Promise.resolve();
  const saveState = (change: (state: DaemonState) => void) => {
    stateChain = stateChain.then(() => updateState(config.stateDir, change)).catch((error) => log.error({ err: error }, 'could not write the state file'));
    return stateChain;
  };

  const crons = new Map<JobName, Cron>();
  for (const job of JOBS) {
    const pattern = config.schedule.jobs[job];
    if (pattern === 'off' || idleReason(job, deps.storages, deps.config)) continue;
    crons.set(job, new Cron(pattern, { timezone: config.schedule.timeZone, protect: true }, () => (ALONGSIDE.has(job) ? queue.runAlongside(job) : queue.enqueue(job, 'schedule'))));
  }
  const nextRun = (job: JobName) => crons.get(job)?.nextRun()?.toISOString() ?? null;

  /** What earlier runs that were killed left behind (servers, temp folders) goes, in the log. */
  async function reapAndSay(options: { knownDead?: string[]; job?: JobName } = {}): Promise<void> {
    try {
      for (const said of await reapLeftovers(config.stateDir, options)) log.warn({ job: options.job }, said);
    } catch (error) {
      log.error({ err: coerceError(error) }, 'could not clean up after an earlier run');
    }
  }

  async function runJob(job: JobName, { signal, lock, onLocked }: { signal: AbortSignal; lock: boolean; onLocked: () => void }): Promise<void> {
    const started = new Date();
    await saveState((state) => (state.jobs[job] = { ...state.jobs[job], lastStart: started.toISOString(), nextRun: nextRun(job) }));
    log.info({ job }, 'job started');
    let outcome: 'ok' | 'failed' | 'interrupted' = 'ok';
    let summary = '';
    let stored: { storedBytes: number; backupId: string } | undefined;
    let error: string | undefined;
    let failure: Error | undefined;
    try {
      const release = lock
        ? await acquireLock(config.stateDir, job, { wait: true, signal, onWait: (holder) => log.info({ job, holder }, 'waiting for a manual command to finish') })
        : async () => undefined;
      onLocked();
      if (lock) await reapAndSay({ job });
      try {
        const result = await deps.runners[job]({ config, storages: deps.storages, log, nextRun: nextRun(job) }, signal);
        summary = typeof result === 'string' ? result : result.summary;
        if (typeof result !== 'string') stored = { storedBytes: result.storedBytes, backupId: result.backupId };
      } finally {
        await release();
      }
    } catch (caught) {
      failure = coerceError(caught);
      outcome = failure instanceof InterruptedError || signal.aborted ? 'interrupted' : 'failed';
      error = failure.message;
    }
    const durationMs = Date.now() - started.getTime();
    log[outcome === 'ok' ? 'info' : 'error']({ job, outcome, durationMs, summary, error, err: failure }, 'job finished');
    await saveState((state) => {
      const previous = state.jobs[job] ?? {};
      const lastEnd = new Date().toISOString();
      state.jobs[job] = {
        lastStart: started.toISOString(),
        lastEnd,
        outcome,
        durationMs,
        error,
        nextRun: nextRun(job),
        runs: (previous.runs ?? 0) + 1,
        failures: (previous.failures ?? 0) + (outcome === 'failed' ? 1 : 0),
        lastSuccess: outcome === 'ok' ? { at: lastEnd, durationMs, ...stored } : previous.lastSuccess,
      };
    });
  }

  // Not unref'd: it keeps the daemon alive even when every job is off, until stop().
  const heartbeat = setInterval(() => void saveState((state) => (state.heartbeat = new Date().toISOString())), 60_000);
  // Another daemon judged this one dead and took STATE_DIR over: two must never run, so this one goes.
  const lockWatch = setInterval(() => {
    void daemonLock.stillHeld().then((held) => {
      if (held || stopping) return;
      lostLock = true;
      log.error('another keepsake daemon took over STATE_DIR (daemon.lock names it now): stopping this one');
      void daemon.stop('lost the daemon lock');
    });
  }, HEARTBEAT_MS);
  lockWatch.unref();
  // Reports and channel messages that could not be sent are retried here, on their backoff, across restarts too.
  const send = configuredSender(config);
  let mailFlushing = false;
  const flushMail = async (force: boolean) => {
    if (!send || mailFlushing) return;
    mailFlushing = true;
    try {
      const result = await deliverWaiting({ config, log, send }, { force });
      if (result.sent.length || result.failed.length) log.info({ sent: result.sent.length, digested: result.digested, failed: result.failed.length, waiting: result.waiting }, 'outbox flushed');
    } catch (error) {
      log.error({ err: coerceError(error) }, 'could not flush the outbox');
    } finally {
      mailFlushing = false;
    }
  };
  // E-mail and each channel on its own: one that is slow or down holds up none of the others. A
  // channel still being delivered from the last round is skipped (its lock, notify/deliver.ts).
  const flush = async (force = false) => {
    await Promise.all([flushMail(force), deliverAllChannels({ config, log }, { force })]);
  };
  const outboxTimer = setInterval(() => void flush(), 60_000);
  outboxTimer.unref();
  void flush(true); // a (re)start is a good moment to try everything that waits, due or not

  // Before the state says "running": a port that is taken stops the start-up here.
  const healthServer = await startHealthServer(config, log, { nextRuns: () => Object.fromEntries([...crons.keys()].map((job) => [job, nextRun(job)])) }).catch(async (error) => {
    clearInterval(heartbeat);
    clearInterval(outboxTimer);
    clearInterval(lockWatch);
    for (const cron of crons.values()) cron.stop();
    await daemonLock.release();
    throw error;
  });

  await saveState((state) => {
    Object.assign(state, { pid: process.pid, startedAt: new Date().toISOString(), heartbeat: new Date().toISOString(), stoppedAt: undefined });
    state.firstStartedAt ??= state.startedAt;
    recordSchedules(state, new Set(crons.keys()), state.startedAt!);
    for (const job of JOBS) state.jobs[job] = { ...state.jobs[job], nextRun: nextRun(job) };
  });
  for (const [job, cron] of crons) log.info({ job, schedule: config.schedule.jobs[job], timeZone: config.schedule.timeZone, nextRun: cron.nextRun()?.toISOString() }, 'scheduled');
  for (const job of JOBS.filter((name) => !crons.has(name))) log.info({ job, reason: idleReason(job, deps.storages, deps.config) }, 'job is off');

  // PITR: pg_receivewal and the shipper run for the daemon's whole life, beside the queue.
  const walStreaming = config.pitr.enabled ? await startWalStreaming(deps) : undefined;

  if (config.schedule.backupOnStart) queue.enqueue('daily', 'BACKUP_ON_START');
  // PITR without a base backup: one now (WAL streamed before the first cannot be replayed), queued before the health run at start.
  const baseAtStart = baseBackupNeededAtStart(deps).then((why) => why && queue.enqueue('base-backup', why));
  // A health run right after start (behind any catch-up backups, so it judges their results)
  // gives /healthz and --quick a verdict at once and tells the operator whether the setup works.
  const healthAtStart = () => {
    if (!crons.has('health')) return;
    void baseAtStart.then(() => queue.runAlongsideWhenIdle('health'));
  };
  if (config.schedule.catchUp) {
    // In the background: listing a large bucket must not delay start-up or signal handling.
    void catchUpJobs(deps, crons).then((missed) => {
      for (const { job, why } of missed) {
        if (queue.running === job) continue; // BACKUP_ON_START is already making it
        queue.enqueue(job, why);
      }
      healthAtStart();
    });
  } else {
    healthAtStart();
  }

  const daemon: Daemon = {
    stopped,
    get lostLock() {
      return lostLock;
    },
    async stop(reason) {
      if (stopping) return stopped;
      stopping = true;
      for (const cron of crons.values()) cron.stop();
      clearInterval(heartbeat);
      clearInterval(outboxTimer);
      clearInterval(lockWatch);
      await Promise.all([queue.stop(reason), walStreaming?.stop(config.schedule.shutdownGraceMs)]);
      await healthServer?.close();
      if (!lostLock) await saveState((state) => (state.stoppedAt = new Date().toISOString()));
      await stateChain;
      await daemonLock.release();
      log.info({ reason }, 'daemon stopped');
      resolveStopped();
      return stopped;
    },
  };
  return daemon;
}
