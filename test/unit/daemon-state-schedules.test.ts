import type { JobName } from '../../src/config';
import { recordSchedules, type DaemonState } from '../../src/state/daemon-state';

const NOW = '2026-11-22T12:00:00.000Z';
const FIRST_START = '2024-11-22T12:00:00.000Z';
const record = (state: DaemonState, scheduled: JobName[]) => (recordSchedules(state, new Set(scheduled), NOW), state);

describe('recordSchedules: when the daemon first scheduled each job', () => {
  it('on a fresh state, stamps every scheduled job now and marks the others off', () => {
    const state = record({ firstStartedAt: NOW, jobs: {} }, ['daily', 'yearly']);
    expect(state.jobs.daily?.firstScheduledAt).toBe(NOW);
    expect(state.jobs.yearly?.firstScheduledAt).toBe(NOW);
    expect(state.jobs.monthly?.firstScheduledAt).toBeNull();
  });

  it('keeps a recorded time across restarts', () => {
    const state = record({ firstStartedAt: FIRST_START, jobs: { yearly: { firstScheduledAt: '2026-01-01T00:00:00.000Z', runs: 1 } } }, ['yearly']);
    expect(state.jobs.yearly).toEqual({ firstScheduledAt: '2026-01-01T00:00:00.000Z', runs: 1 });
  });

  it('upgrading a state file without the field: a job that ran dates from the first start, one that never ran (the new yearly tier) from now', () => {
    const state = record({ firstStartedAt: FIRST_START, jobs: { daily: { lastStart: '2026-11-22T02:00:00.000Z', outcome: 'ok' }, yearly: { nextRun: null } } }, ['daily', 'yearly']);
    expect(state.jobs.daily).toEqual({ lastStart: '2026-11-22T02:00:00.000Z', outcome: 'ok', firstScheduledAt: FIRST_START });
    expect(state.jobs.yearly?.firstScheduledAt).toBe(NOW);
  });

  it('a job switched off forgets its time, and switched on again starts afresh, even though it ran before', () => {
    const state: DaemonState = { firstStartedAt: FIRST_START, jobs: { monthly: { firstScheduledAt: FIRST_START, lastStart: '2025-01-01T04:00:00.000Z' } } };
    record(state, []);
    expect(state.jobs.monthly?.firstScheduledAt).toBeNull();
    record(state, ['monthly']);
    expect(state.jobs.monthly?.firstScheduledAt).toBe(NOW);
  });
});
