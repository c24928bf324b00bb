import { judgeOutage } from '../../src/pitr/receive/outage-reports';
import type { WalStatus } from '../../src/state/wal-status';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, seconds)).toISOString();
const status = (change: Partial<WalStatus> = {}): WalStatus => ({
  receiver: { state: 'streaming', since: at(0), restarts: 0 },
  spool: { files: 0, bytes: 0 },
  updatedAt: at(0),
  ...change,
});
const GRACE = 120_000;
const now = new Date(at(0));
now.setUTCMinutes(5);

describe('judgeOutage: when WAL streaming is news', () => {
  it('is ok while streaming and shipping work', () => {
    expect(judgeOutage(status(), now, GRACE)).toMatchObject({ status: 'ok', problems: [] });
  });

  it('is ok for a receiver down for less than the grace: a restart in seconds is not news', () => {
    const since = new Date(now.getTime() - 30_000).toISOString();
    expect(judgeOutage(status({ receiver: { state: 'down', since, restarts: 3, lastError: 'pg_receivewal exited with code 1' } }), now, GRACE).status).toBe('ok');
  });

  it('fails for a receiver down longer than the grace, naming why and since when', () => {
    const since = new Date(now.getTime() - GRACE).toISOString();
    const verdict = judgeOutage(status({ receiver: { state: 'down', since, restarts: 5, lastError: 'connection refused' } }), now, GRACE);
    expect(verdict).toMatchObject({ status: 'fail', troubleSince: since });
    expect(verdict.problems).toEqual([`pg_receivewal has not streamed since ${since}: connection refused`]);
  });

  it('fails for shipping that has failed longer than the grace, and names the earliest trouble', () => {
    const shipFailingSince = new Date(now.getTime() - 200_000).toISOString();
    const downSince = new Date(now.getTime() - 150_000).toISOString();
    const verdict = judgeOutage(status({ shipError: 'Cannot upload: connection refused', shipFailingSince, receiver: { state: 'down', since: downSince, restarts: 1 } }), now, GRACE);
    expect(verdict.problems).toHaveLength(2);
    expect(verdict.problems[1]).toBe(`WAL cannot be archived since ${shipFailingSince}: Cannot upload: connection refused`);
    expect(verdict.troubleSince).toBe(shipFailingSince);
  });

  it('is not news that the receiver was stopped with the daemon', () => {
    expect(judgeOutage(status({ receiver: { state: 'stopped', since: at(0), restarts: 0 } }), now, GRACE).status).toBe('ok');
  });
});
