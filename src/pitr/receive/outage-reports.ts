import { decideAlert } from '../../health/alerts';
import { report } from '../../jobs/job';
import type { Deps } from '../../deps';
import type { WalStatus } from '../../state/wal-status';
import type { WalStreamingEvent } from '../../report/events';
import type { WalStatusKeeper } from './status-keeper';

/** Down for less than this is a restart, not news: pg_receivewal reconnects within seconds. */
export const OUTAGE_GRACE_MS = 2 * 60_000;
/** How often the watch judges the status (two good judgements in a row end an outage: RECOVERY_RUNS). */
export const OUTAGE_CHECK_MS = 15_000;

interface OutageVerdict {
  status: 'ok' | 'fail';
  checkedAt: string;
  problems: string[];
  troubleSince?: string;
}

/** Pure: streaming down or shipping failing for longer than the grace is an outage. */
export function judgeOutage(status: WalStatus, now: Date, graceMs: number): OutageVerdict {
  const problems: string[] = [];
  const starts: string[] = [];
  const longer = (since: string | undefined) => since !== undefined && now.getTime() - Date.parse(since) >= graceMs;
  if (status.receiver.state === 'down' && longer(status.receiver.since)) {
    problems.push(`pg_receivewal has not streamed since ${status.receiver.since}${status.receiver.lastError ? `: ${status.receiver.lastError}` : ''}`);
    starts.push(status.receiver.since);
  }
  if (status.shipError && longer(status.shipFailingSince)) {
    problems.push(`WAL cannot be archived since ${status.shipFailingSince}: ${status.shipError}`);
    starts.push(status.shipFailingSince!);
  }
  return { status: problems.length ? 'fail' : 'ok', checkedAt: now.toISOString(), problems, troubleSince: starts.sort()[0] };
}

export interface OutageWatch {
  /** Judges now (the watch also does every OUTAGE_CHECK_MS); resolves once any report is filed. */
  check(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Turns the WAL status into `wal-streaming-failed` / `-recovered` reports with the health alerts'
 * rules (health/alerts.ts): one report when an outage outlasts the grace, a reminder every
 * HEALTH_ALERT_REPEAT while it lasts, one when it is over. Filed through the outbox like every report.
 */
export function watchOutages(deps: Deps, keeper: WalStatusKeeper, options: { graceMs?: number; everyMs?: number } = {}): OutageWatch {
  const graceMs = options.graceMs ?? OUTAGE_GRACE_MS;
  let running: Promise<void> = Promise.resolve();
  const judge = async () => {
    const status = keeper.status;
    const verdict = judgeOutage(status, new Date(), graceMs);
    const previous = status.alert;
    const { send, memory } = decideAlert<OutageVerdict>(previous && { ...verdict, ...previous }, verdict, deps.config.health.alertRepeatMs);
    const troubleSince = previous?.troubleSince ?? verdict.troubleSince;
    keeper.update((s) => {
      s.alert = memory.unhealthySince ? { unhealthySince: memory.unhealthySince, lastAlertAt: memory.lastAlertAt, healthyRuns: memory.healthyRuns, troubleSince } : undefined;
    });
    if (!send) return;
    const event: WalStreamingEvent = {
      kind: send === 'recovered' ? 'wal-streaming-recovered' : 'wal-streaming-failed',
      since: troubleSince ?? verdict.checkedAt,
      checkedAt: verdict.checkedAt,
      ...(send === 'reminder' ? { reminder: true } : {}),
      problems: verdict.problems,
      slot: deps.config.pitr.slot,
      receiver: { state: status.receiver.state, ...(status.receiver.lastError ? { lastError: status.receiver.lastError } : {}), restarts: status.receiver.restarts },
      ...(status.lastShipped ? { lastShipped: { name: status.lastShipped.name, at: status.lastShipped.at } } : {}),
      spool: { ...status.spool },
    };
    deps.log[send === 'recovered' ? 'info' : 'warn']({ problems: verdict.problems, since: event.since }, send === 'recovered' ? 'WAL streaming recovered' : 'WAL streaming down');
    await report(deps, event);
  };
  const check = () => (running = running.then(judge, judge));
  const timer = setInterval(() => void check(), options.everyMs ?? OUTAGE_CHECK_MS);
  timer.unref();
  return {
    check,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
