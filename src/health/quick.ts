import { Cron } from 'croner';
import type { Config } from '../config';
import { formatDuration } from '../format';
import { readState } from '../state/daemon-state';
import { daemonLiveness } from '../state/daemon-lock';
import { HEARTBEAT_STALE_MS } from './assess';
import { readHealthMemory } from '../state/health-memory';
import type { HealthMemory } from './alerts';

export interface QuickVerdict {
  healthy: boolean;
  message: string;
}

/**
 * How old the last health run may be before its verdict no longer counts: two slots of
 * SCHEDULE_HEALTH plus the time a run may take. Undefined when health checks are off.
 */
export function healthVerdictMaxAgeMs(config: Pick<Config, 'schedule'>): number | undefined {
  const pattern = config.schedule.jobs.health;
  if (pattern === 'off') return undefined;
  const [first, second] = new Cron(pattern, { paused: true, timezone: config.schedule.timeZone }).nextRuns(2);
  const interval = first && second ? second.getTime() - first.getTime() : 3_600_000;
  return 2 * interval + 5 * 60_000;
}

/** The last full run's verdict as it stands now: failing, stale (no run for too long), or fine. */
export function judgeLastRun(last: HealthMemory | undefined, config: Pick<Config, 'schedule'>, now = Date.now()): QuickVerdict & { stale: boolean } {
  if (!last) return { healthy: true, stale: false, message: 'no full health check has run yet' };
  const age = Math.max(0, now - Date.parse(last.checkedAt));
  const ago = formatDuration(age);
  const maxAge = healthVerdictMaxAgeMs(config);
  if (maxAge !== undefined && age > maxAge) {
    return { healthy: false, stale: true, message: `the last full health check ran ${ago} ago (SCHEDULE_HEALTH=${config.schedule.jobs.health}): the daemon is not running its jobs; check its log` };
  }
  if (last.status === 'fail') {
    const failing = last.checks.filter((check) => check.status === 'fail');
    return { healthy: false, stale: false, message: `the health check ${ago} ago failed: ${failing.map((check) => `${check.name}: ${check.message}`).join('; ')}` };
  }
  return { healthy: true, stale: false, message: `the health check ${ago} ago was ${last.status === 'ok' ? 'ok' : 'ok with warnings'}` };
}

/**
 * For Docker's HEALTHCHECK: no network, only what the daemon keeps in STATE_DIR. Healthy when
 * the scheduler's heartbeat is fresh and the last full health run is recent and found nothing
 * failing. Warnings count as healthy: Docker knows only healthy (0) and unhealthy (1).
 */
export async function quickHealth(config: Pick<Config, 'stateDir' | 'schedule'>, now = Date.now()): Promise<QuickVerdict> {
  const state = await readState(config.stateDir);
  if (!state.heartbeat) return { healthy: false, message: 'the daemon has not started here (no heartbeat in STATE_DIR)' };
  // At once, not three minutes later when the heartbeat is stale: a killed daemon's lock says so.
  const live = await daemonLiveness(config.stateDir).catch(() => undefined);
  if (live?.state === 'dead') return { healthy: false, message: `the daemon (pid ${live.holder.pid} on ${live.holder.host}) ended without stopping (killed or crashed)` };
  const beat = now - Date.parse(state.heartbeat);
  if (beat > HEARTBEAT_STALE_MS) return { healthy: false, message: `the daemon's heartbeat is ${formatDuration(beat)} old: the scheduler is not running` };
  const verdict = judgeLastRun(await readHealthMemory(config.stateDir), config, now);
  const off = config.schedule.jobs.health === 'off' ? ' (health checks are off: SCHEDULE_HEALTH=off)' : '';
  return { healthy: verdict.healthy, message: verdict.healthy ? `the daemon is running; ${verdict.message}${off}` : verdict.message };
}
