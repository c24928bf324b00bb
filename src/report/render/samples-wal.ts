import type { WalStreamingEvent } from '../events';
import type { Sidecar } from '../events';

/** Sample WAL streaming reports (report-preview, the render tests): a server restarted for maintenance. */
export function walSamples(sidecar: Sidecar): Record<WalStreamingEvent['kind'], WalStreamingEvent> {
  const base = { sidecar, slot: 'keepsake', since: '2026-11-22T02:00:04.000Z', spool: { files: 0, bytes: 0 } };
  return {
    'wal-streaming-failed': {
      ...base,
      kind: 'wal-streaming-failed',
      checkedAt: '2026-11-22T02:02:10.000Z',
      problems: ['pg_receivewal exited with code 1: pg_receivewal: error: connection to server at "db-prod" (10.0.3.7), port 5432 failed: Connection refused'],
      receiver: { state: 'down', lastError: 'pg_receivewal exited with code 1: connection refused', restarts: 6 },
      lastShipped: { name: '00000001000000A70000003E', at: '2026-11-22T01:58:51.000Z' },
    },
    'wal-streaming-recovered': {
      ...base,
      kind: 'wal-streaming-recovered',
      checkedAt: '2026-11-22T02:07:40.000Z',
      problems: [],
      receiver: { state: 'streaming', restarts: 8 },
      lastShipped: { name: '00000001000000A700000040', at: '2026-11-22T02:07:33.000Z' },
    },
  };
}
