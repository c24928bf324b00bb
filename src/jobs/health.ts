import { notify } from '../report/notify';
import { hostname } from 'node:os';
import { sidecarOfConfig, type HealthEvent } from '../report/events';
import { noticeFor } from '../notify/notice-for';
import { renderReport } from '../report/render';
import { decideAlert } from '../health/alerts';
import { readHealthMemory, writeHealthMemory } from '../state/health-memory';
import { runHealthChecks } from '../health/run-health';
import type { Deps } from '../deps';
import { fail, type HealthReport } from '../health/report';
import { coerceError } from '../errors';
import type { JobRunner } from './job';

/**
 * The daemon's hourly health job: run every check, remember the result in STATE_DIR (for
 * --quick, /healthz and /metrics), and mail only on a change of state or as a reminder.
 */
export async function healthJob(deps: Deps, options: { now?: () => Date } = {}): Promise<{ report: HealthReport; sent?: string }> {
  const { config, log } = deps;
  const report = await runHealthChecks(deps, { inDaemon: true, now: options.now }).catch((error): HealthReport => {
    // The run itself broke: that is a failing check too, so the verdict others read does not stay "ok".
    const checkedAt = (options.now?.() ?? new Date()).toISOString();
    return { format: 1, status: 'fail', checkedAt, durationMs: 0, checks: [fail('health', `the health check itself failed: ${coerceError(error).message}`)] };
  });
  const previous = await readHealthMemory(config.stateDir);
  const { send, memory } = decideAlert(previous, report, config.health.alertRepeatMs);
  await writeHealthMemory(config.stateDir, memory);
  const failing = report.checks.filter((check) => check.status !== 'ok');
  log[report.status === 'ok' ? 'info' : 'warn']({ status: report.status, problems: failing.map((check) => `${check.name}: ${check.message}`) }, 'health checked');
  if (send) {
    const kind = send === 'recovered' ? 'health-recovered' : 'health-alert';
    const since = send === 'recovered' ? previous?.unhealthySince : memory.unhealthySince;
    const event: HealthEvent = { kind, sidecar: sidecarOfConfig(config), checks: report.checks, since, checkedAt: report.checkedAt };
    const now = new Date(report.checkedAt);
    await notify({ config, log }, kind, () => renderReport(event, { subjectPrefix: config.report.subjectPrefix, now }), () => noticeFor(event, { now, hostname: hostname() }));
  }
  return { report, sent: send };
}

export function healthSummary(report: HealthReport, sent?: string): string {
  const bad = report.checks.filter((check) => check.status !== 'ok');
  const head = report.status === 'ok' ? `healthy: all ${report.checks.length} checks ok` : `${report.status === 'fail' ? 'unhealthy' : 'warnings'}: ${bad.map((check) => check.name).join(', ')}`;
  return sent ? `${head} (${sent} sent)` : head;
}

/** The daemon's health job, beside the queue: its summary names what is not ok and what was sent. */
export const healthCheckJob: JobRunner = async (deps) => {
  const { report, sent } = await healthJob(deps);
  return healthSummary(report, sent);
};
