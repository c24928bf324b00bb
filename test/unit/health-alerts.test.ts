import { decideAlert, type HealthMemory } from '../../src/health/alerts';
import type { HealthReport, HealthStatus } from '../../src/health/report';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-22T00:00:00Z');

function report(status: HealthStatus, hoursAfterT0: number): HealthReport {
  return { format: 1, status, checkedAt: new Date(T0 + hoursAfterT0 * 3_600_000).toISOString(), durationMs: 5, checks: [{ name: 'database', status, message: 'x' }] };
}

/** Feeds a sequence of hourly results through decideAlert, as the daemon's health job does. */
function replay(sequence: [HealthStatus, number][], repeatMs = DAY): (string | undefined)[] {
  let memory: HealthMemory | undefined;
  return sequence.map(([status, hour]) => {
    const decision = decideAlert(memory, report(status, hour), repeatMs);
    memory = decision.memory;
    return decision.send;
  });
}

describe('health alerts', () => {
  it('sends one alert when the state turns unhealthy and nothing more within the interval', () => {
    expect(replay([['ok', 0], ['fail', 1], ['fail', 2], ['fail', 3], ['fail', 24]])).toEqual([undefined, 'alert', undefined, undefined, undefined]);
  });

  it('reminds every HEALTH_ALERT_REPEAT while unhealthy', () => {
    expect(replay([['fail', 0], ['fail', 23], ['fail', 24], ['fail', 47], ['fail', 48]])).toEqual(['alert', undefined, 'reminder', undefined, 'reminder']);
  });

  it('sends one recovery once it has been healthy for two runs in a row, then stays quiet', () => {
    expect(replay([['fail', 0], ['ok', 1], ['ok', 2], ['warn', 3], ['ok', 4]])).toEqual(['alert', undefined, 'recovered', undefined, undefined]);
  });

  it('does not storm when a check flaps: one alert, then only the reminders', () => {
    const flapping: [HealthStatus, number][] = Array.from({ length: 30 }, (_, hour) => [hour % 2 ? 'ok' : 'fail', hour]);
    expect(replay(flapping).filter(Boolean)).toEqual(['alert', 'reminder']);
  });

  it('does not mail about warnings alone', () => {
    expect(replay([['ok', 0], ['warn', 1], ['warn', 30]])).toEqual([undefined, undefined, undefined]);
  });

  it('keeps when the spell began across reminders, and forgets it on recovery', () => {
    let memory = decideAlert(undefined, report('fail', 0), DAY).memory;
    memory = decideAlert(memory, report('fail', 30), DAY).memory;
    expect(memory.unhealthySince).toBe(new Date(T0).toISOString());
    expect(memory.lastAlertAt).toBe(new Date(T0 + 30 * 3_600_000).toISOString());
    memory = decideAlert(memory, report('ok', 31), DAY).memory;
    expect(memory.unhealthySince).toBe(new Date(T0).toISOString());
    memory = decideAlert(memory, report('ok', 32), DAY).memory;
    expect(memory.unhealthySince).toBeUndefined();
  });

  it('a new failure after a recovery alerts again', () => {
    expect(replay([['fail', 0], ['ok', 1], ['ok', 2], ['fail', 3]])).toEqual(['alert', undefined, 'recovered', 'alert']);
  });
});
