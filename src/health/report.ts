import type { HealthCheckResult, HealthStatus } from '../report/events';

export type { HealthCheckResult, HealthStatus };

/**
 * The outcome of one health run, as `keepsake health --json`, /healthz and STATE_DIR/health.json
 * show it. Stable: fields are only ever added (README, "Health checks").
 */
export interface HealthReport {
  format: 1;
  /** The worst status of any check. */
  status: HealthStatus;
  checkedAt: string;
  durationMs: number;
  checks: HealthCheckResult[];
}

const RANK: Record<HealthStatus, number> = { ok: 0, warn: 1, fail: 2 };

export function worstStatus(checks: readonly Pick<HealthCheckResult, 'status'>[]): HealthStatus {
  return checks.reduce<HealthStatus>((worst, check) => (RANK[check.status] > RANK[worst] ? check.status : worst), 'ok');
}

/** `keepsake health` exit codes: 0 healthy, 1 unhealthy, 2 warnings only. */
export const HEALTH_EXIT_CODES: Record<HealthStatus, number> = { ok: 0, fail: 1, warn: 2 };

export const ok = (name: string, message: string, value?: string, measured?: number): HealthCheckResult => ({ name, status: 'ok', message, value, measured });
export const warn = (name: string, message: string, value?: string, measured?: number): HealthCheckResult => ({ name, status: 'warn', message, value, measured });
export const fail = (name: string, message: string, value?: string, measured?: number): HealthCheckResult => ({ name, status: 'fail', message, value, measured });
