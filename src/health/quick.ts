import { formatDuration } from '../format';
import { readState } from '../scheduler/state';
import { HEARTBEAT_STALE_MS } from './assess';
import { readHealthMemory } from './alerts';

export interface QuickVerdict {
  healthy: boolean;
  message: string;
}

/**
 * For Docker's HEALTHCHECK: no network, only what the daemon keeps in STATE_DIR. Healthy when
 * the scheduler's heartbeat is fresh and the last full health run found nothing failing.
 * Warnings count as healthy: Docker knows only healthy (0) and unhealthy (1).
 */
export async function quickHealth(stateDir: string, now = Date.now()): Promise<QuickVerdict> {
  const state = await readState(stateDir);
  if (!state.heartbeat) return { healthy: false, message: 'the daemon has not started here (no heartbeat in STATE_DIR)' };
  const beat = now - Date.parse(state.heartbeat);
  if (beat > HEARTBEAT_STALE_MS) return { healthy: false, message: `the daemon's heartbeat is ${formatDuration(beat)} old: the scheduler is not running` };
  const last = await readHealthMemory(stateDir);
  if (!last) return { healthy: true, message: 'the daemon is running; no full health check has run yet' };
  const ago = formatDuration(Math.max(0, now - Date.parse(last.checkedAt)));
  if (last.status === 'fail') {
    const failing = last.checks.filter((check) => check.status === 'fail');
    return { healthy: false, message: `the health check ${ago} ago failed: ${failing.map((check) => `${check.name}: ${check.message}`).join('; ')}` };
  }
  return { healthy: true, message: `the daemon is running; the health check ${ago} ago was ${last.status === 'ok' ? 'ok' : 'ok with warnings'}` };
}
