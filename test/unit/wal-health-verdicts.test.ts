import { gapsCheck, receiverCheck, slotCheck, walChecks, type WalHealthFacts } from '../../src/pitr/archive/health-verdicts';
import type { WalStatus } from '../../src/state/wal-status';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();
const SEG4 = '000000010000000000000004';

const streaming = (overrides: Partial<WalStatus> = {}): WalStatus => ({
  receiver: { state: 'streaming', since: minutesAgo(600), restarts: 0 },
  lastShipped: { name: '000000010000000000000009', timeline: 1, at: minutesAgo(1) },
  spool: { files: 1, bytes: 16 * 1024 * 1024 },
  updatedAt: minutesAgo(0.1),
  ...overrides,
});

const facts = (overrides: Partial<WalHealthFacts> = {}): WalHealthFacts => ({
  now: NOW,
  pitr: { slot: 'keepsake', maxWalLagMs: 5 * 60_000, maxSlotRetainedBytes: 1024 ** 3 },
  status: streaming(),
  newestArchived: { name: '000000010000000000000009', at: minutesAgo(1) },
  listErrors: [],
  continuity: { base: 'cluster_20261129_010000', startSegment: SEG4, gaps: [] },
  slot: { state: 'found', retainedBytes: 40 * 1024 * 1024, active: true },
  ...overrides,
});

describe('health wal: the receiver and the age of the newest archived WAL', () => {
  it.each<[string, Partial<WalHealthFacts>, 'ok' | 'warn' | 'fail', RegExp]>([
    ['streaming, WAL archived a minute ago', {}, 'ok', /the WAL receiver streams .*newest archived WAL 000000010000000000000009 1m00s ago/],
    ['no status file: the receiver never ran', { status: undefined }, 'fail', /has not run here .*start the daemon/],
    ['a stale status file: no daemon runs it', { status: streaming({ updatedAt: minutesAgo(3) }) }, 'fail', /no WAL receiver is running: its status was last written 3m00s ago .*start the daemon/],
    ['down, with its last error', { status: streaming({ receiver: { state: 'down', since: minutesAgo(4), restarts: 3, lastError: 'FATAL: no pg_hba.conf entry for replication connection' } }) }, 'fail', /is down since 4m00s ago: FATAL: no pg_hba\.conf entry .*REPLICATION/],
    ['stopped', { status: streaming({ receiver: { state: 'stopped', since: minutesAgo(1), restarts: 0 } }) }, 'fail', /is stopped since .*start the daemon/],
    [
      'newest archived WAL older than HEALTH_MAX_WAL_LAG with segments waiting',
      { status: streaming({ lastShipped: undefined, spool: { files: 7, bytes: 7 * 16 * 1024 * 1024 }, shipError: 's3: connect ECONNREFUSED' }), newestArchived: { name: SEG4, at: minutesAgo(20) } },
      'fail',
      /newest archived WAL 000000010000000000000004 20m00s ago \(limit 5m00s, HEALTH_MAX_WAL_LAG\): shipping fails \(s3: connect ECONNREFUSED\); 7 file\(s\) \(117\.4 MB\) wait/,
    ],
    [
      'an idle server: old newest WAL but nothing waiting',
      { status: streaming({ lastShipped: { name: SEG4, timeline: 1, at: minutesAgo(90) } }), newestArchived: { name: SEG4, at: minutesAgo(90) } },
      'ok',
      /nothing waits to be shipped/,
    ],
    [
      'an old newest WAL with one completed segment waiting',
      { status: streaming({ lastShipped: { name: SEG4, timeline: 1, at: minutesAgo(90) }, spool: { files: 1, bytes: 16 * 1024 * 1024, oldest: '000000010000000000000005' } }), newestArchived: { name: SEG4, at: minutesAgo(90) } },
      'fail',
      /1h30m ago \(limit 5m00s, HEALTH_MAX_WAL_LAG\); 1 file\(s\) \(16\.8 MB\) wait in WAL_SPOOL_DIR/,
    ],
    ['the partial shipped recently counts', { status: streaming({ lastShipped: undefined, partial: { name: '00000001000000000000000A.partial', shippedAt: minutesAgo(0.5) } }), newestArchived: { name: SEG4, at: minutesAgo(60) } }, 'ok', /00000001000000000000000A\.partial/],
    ['just started, nothing archived yet', { status: streaming({ lastShipped: undefined, receiver: { state: 'streaming', since: minutesAgo(1), restarts: 0 } }), newestArchived: undefined }, 'warn', /no WAL archived yet/],
  ])('%s', (_name, overrides, status, message) => {
    const check = receiverCheck(facts(overrides));
    expect(check).toMatchObject({ name: 'wal', status });
    expect(check.message).toMatch(message);
  });

  it('measures the age of the newest archived WAL', () => {
    expect(receiverCheck(facts()).measured).toBe(60_000);
  });
});

describe('health wal:gaps', () => {
  it('names every gap since the oldest kept base backup', () => {
    const check = gapsCheck(facts({ continuity: { base: 'cluster_b', startSegment: SEG4, gaps: [{ timeline: 1, from: '000000010000000000000006', to: '000000010000000000000007', missing: 2 }] } }));
    expect(check).toMatchObject({ status: 'fail', measured: 1 });
    expect(check.message).toMatch(/a gap since 000000010000000000000004 \(base backup cluster_b\): 000000010000000000000006\.\.000000010000000000000007 \(2 segments\) on timeline 1 missing.*keepsake base-backup/);
  });
  it('is ok without gaps, and without a base backup to start from', () => {
    expect(gapsCheck(facts())).toMatchObject({ status: 'ok', measured: 0 });
    expect(gapsCheck(facts({ continuity: undefined }))).toMatchObject({ status: 'ok', message: expect.stringMatching(/no base backup yet/) });
  });
  it('fails when no listing answered, rather than guess', () => {
    expect(gapsCheck(facts({ continuity: undefined, listErrors: ['s3: timeout'] }))).toMatchObject({ status: 'fail', message: expect.stringMatching(/cannot list the WAL archive \(s3: timeout\)/) });
  });
});

describe('health wal:slot', () => {
  it('warns when the slot holds back more than HEALTH_MAX_SLOT_RETAINED, and says how to drop it', () => {
    const check = slotCheck(facts({ slot: { state: 'found', retainedBytes: 3 * 1024 ** 3, active: false } }));
    expect(check).toMatchObject({ name: 'wal:slot', status: 'warn', measured: 3 * 1024 ** 3 });
    expect(check.message).toMatch(/keep 3\.22 GB of WAL \(HEALTH_MAX_SLOT_RETAINED 1\.07 GB\) and nobody streams from it.*SELECT pg_drop_replication_slot\('keepsake'\).*max_slot_wal_keep_size/);
  });
  it.each<[string, WalHealthFacts['slot'], 'ok' | 'warn' | 'fail', RegExp]>([
    ['within the limit', { state: 'found', retainedBytes: 40 * 1024 * 1024, active: true }, 'ok', /holds 41\.9 MB of WAL on the server \(limit 1\.07 GB\)/],
    ['missing while PITR is on', { state: 'missing' }, 'fail', /does not exist on the server.*pg_create_physical_replication_slot\('keepsake', true\)/],
    ['lost: the server dropped WAL it needed', { state: 'found', retainedBytes: null, active: false, walStatus: 'lost' }, 'fail', /max_slot_wal_keep_size reached\): the archive has a gap/],
    ['unknown: the server did not answer', { state: 'unknown', error: 'connect ECONNREFUSED' }, 'warn', /cannot check the replication slot 'keepsake': connect ECONNREFUSED/],
  ])('%s', (_name, slot, status, message) => {
    const check = slotCheck(facts({ slot }));
    expect(check.status).toBe(status);
    expect(check.message).toMatch(message);
  });
});

it('gives three checks, each with its measured value', () => {
  expect(walChecks(facts()).map((check) => [check.name, check.measured])).toEqual([['wal', 60_000], ['wal:gaps', 0], ['wal:slot', 40 * 1024 * 1024]]);
});
