import type { HealthReport } from './report';

/**
 * The last health run as the daemon remembers it (STATE_DIR/health.json, state/health-memory.ts): what --quick, /healthz
 * and /metrics read, and what keeps alerts to transitions instead of one mail an hour.
 */
export interface HealthMemory extends HealthReport, AlertSpell {}

/** What the alert rules remember about an unhealthy spell (health runs, and the WAL receiver's watch). */
export interface AlertSpell {
  /** When the current unhealthy spell began; unset while healthy. */
  unhealthySince?: string;
  /** When the last alert (or reminder) about this spell was sent. */
  lastAlertAt?: string;
  /** Healthy runs since the spell's last failing one; the spell ends at RECOVERY_RUNS. */
  healthyRuns?: number;
}

/** A verdict the alert rules judge: a health run, or anything else that is ok, warn or fail at a time. */
export type Verdict = Pick<HealthReport, 'status' | 'checkedAt'>;

export type AlertDecision<R extends Verdict = HealthReport> = { send: 'alert' | 'reminder' | 'recovered' | undefined; memory: R & AlertSpell };

/** Healthy runs in a row before a spell counts as over: a check that flaps does not mail every hour. */
export const RECOVERY_RUNS = 2;

/**
 * Unhealthy means a failing check; warnings alone show in `keepsake health` and /healthz but
 * send no mail. One alert when the state turns unhealthy, a reminder every `repeatMs` while it
 * stays so, one recovery mail once it has been healthy for RECOVERY_RUNS runs in a row.
 */
export function decideAlert<R extends Verdict = HealthReport>(previous: (R & AlertSpell) | undefined, report: R, repeatMs: number): AlertDecision<R> {
  const now = report.checkedAt;
  const since = previous?.unhealthySince;
  const lastAlertAt = previous?.lastAlertAt ?? since;
  if (report.status === 'fail') {
    if (since === undefined) return { send: 'alert', memory: { ...report, unhealthySince: now, lastAlertAt: now } };
    if (Date.parse(now) - Date.parse(lastAlertAt!) >= repeatMs) return { send: 'reminder', memory: { ...report, unhealthySince: since, lastAlertAt: now } };
    return { send: undefined, memory: { ...report, unhealthySince: since, lastAlertAt } };
  }
  if (since === undefined) return { send: undefined, memory: { ...report } };
  const healthyRuns = (previous?.healthyRuns ?? 0) + 1;
  if (healthyRuns >= RECOVERY_RUNS) return { send: 'recovered', memory: { ...report } };
  return { send: undefined, memory: { ...report, unhealthySince: since, lastAlertAt, healthyRuns } };
}
