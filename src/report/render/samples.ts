import type { Manifest } from '../../backup/manifest';
import type { RestoreTestResult } from '../../restore/restore-test';
import type { CleanupSummary } from '../../retention/apply';
import type { ReportEvent, ReportEventKind } from '../events';

/**
 * Realistic sample events for `keepsake report preview` and the screenshots in docs/: a mid-sized
 * app database, daily backups at 02:00 UTC, a local disk and an S3 bucket as targets.
 */
export const SAMPLE_NOW = new Date('2026-11-22T02:01:30.000Z');

const TABLES: [string, number][] = [
  ['events', 1_204_331], ['orders', 184_220], ['order_items', 512_907], ['customers', 48_113], ['products', 2_418],
  ['invoices', 171_006], ['payments', 169_874], ['sessions', 30_552], ['audit_log', 402_118], ['addresses', 51_977],
  ['coupons', 312], ['schema_migrations', 87],
];

export const sampleManifest: Manifest = {
  format: 1,
  id: 'app_20261122_020000',
  tier: 'daily',
  database: 'app',
  host: 'db-prod',
  key: 'db-backups/daily/2026/11/22/app_20261122_020000.dump.zst',
  startedAt: '2026-11-22T02:00:00.412Z',
  finishedAt: '2026-11-22T02:01:12.918Z',
  durationMs: 72_506,
  server: { version: '17.2', major: 17 },
  pgDump: { version: '17.2', major: 17, args: ['--format=custom', '--compress=0', '--no-password', '--snapshot=00000003-0000001B-1'] },
  archiveFormat: 'custom',
  compression: { algorithm: 'zstd', level: 3 },
  rawBytes: 187_402_113,
  storedBytes: 42_108_554,
  sha256: '9f2c4e7a0b1d3c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6',
  inventory: {
    schemas: ['public', 'audit'],
    extensions: ['plpgsql', 'pgcrypto'],
    tables: TABLES.map(([name, rows]) => ({ schema: name === 'audit_log' ? 'audit' : 'public', name, kind: 'table' as const, rows })),
    sequences: [{ schema: 'public', name: 'orders_id_seq', lastValue: '184220' }],
  },
  targets: [
    { target: 'local', location: '/backups/db-backups/daily/2026/11/22/app_20261122_020000.dump.zst' },
    { target: 's3', location: 's3://acme-backups/db-backups/daily/2026/11/22/app_20261122_020000.dump.zst' },
  ],
  keepsake: { version: '0.1.0' },
};

const DAY = 86_400_000;
const at = (daysAgo: number) => new Date(Date.parse('2026-11-22T02:00:00.000Z') - daysAgo * DAY).toISOString();

/** Eight weeks of daily backups growing about 0.3% a day, plus weekly ones on Sundays. */
const history = Array.from({ length: 56 }, (_, day) => ({ startedAt: at(day + 1), storedBytes: Math.round(42_000_000 / 1.003 ** (day + 1)), tier: 'daily' }));

const restoreResult: RestoreTestResult = {
  format: 1,
  ok: true,
  id: 'restore_test_20261122_040000',
  startedAt: '2026-11-22T04:00:00.120Z',
  finishedAt: '2026-11-22T04:02:31.700Z',
  backup: {
    id: sampleManifest.id,
    tier: 'daily',
    database: 'app',
    startedAt: sampleManifest.startedAt,
    sha256: sampleManifest.sha256,
    storedBytes: sampleManifest.storedBytes,
    rawBytes: sampleManifest.rawBytes,
    location: sampleManifest.targets[1]!.location,
  },
  restoredInto: 'throwaway PostgreSQL 17 on 127.0.0.1:44871',
  timings: { fetchMs: 9_840, restoreMs: 118_302, verifyMs: 23_018, totalMs: 151_580 },
  restoredBytes: 402_653_184,
  tables: sampleManifest.inventory.tables.map((table) => ({ schema: table.schema, name: table.name, kind: table.kind, expected: table.rows, actual: table.rows, ok: true })),
  problems: [],
  notes: ['sequence public.orders_id_seq is at 184231, 184220 when counted (sequences move outside snapshots)'],
};

const failedRestore: RestoreTestResult = {
  ...restoreResult,
  ok: false,
  id: 'restore_test_20261122_040000',
  tables: restoreResult.tables.map((table) => (table.name === 'order_items' ? { ...table, actual: 498_112, ok: false } : table)),
  problems: ['table public.order_items has 498,112 rows, the manifest recorded 512,907'],
  notes: [],
};

const backupOutcome = (daysAgo: number, action: 'keep' | 'delete', reason: string) => ({
  id: `app_${at(daysAgo).slice(0, 10).replace(/-/g, '')}_020000`,
  tier: 'daily' as const,
  database: 'app',
  startedAt: at(daysAgo),
  action,
  rule: action === 'keep' ? ('count' as const) : ('outside' as const),
  reason,
  storedBytes: Math.round(42_000_000 / 1.003 ** daysAgo),
  targets: ['local', 's3'],
  done: action === 'delete',
});

const cleanup: CleanupSummary = {
  dryRun: false,
  now: '2026-11-22T03:00:00.000Z',
  backups: [
    ...Array.from({ length: 7 }, (_, day) => backupOutcome(day, 'keep', `one of the 7 newest daily backups (KEEP_DAILY=7)`)),
    backupOutcome(7, 'delete', 'older than the 7 newest daily backups'),
    backupOutcome(8, 'delete', 'older than the 7 newest daily backups'),
  ],
  restoreTests: [],
  leftovers: [{ target: 'local', key: 'db-backups/daily/2026/11/20/app_20261120_020000.dump.zst', kind: 'no-manifest', modified: Date.parse(at(2)), size: 18_874_368, action: 'delete', rule: 'outside', reason: 'no manifest for 2d: an interrupted write', done: true }],
  totals: { kept: 7, deleted: 2, restoreTestsDeleted: 1, leftoversDeleted: 1, bytesFreed: 2 * 2 * 41_000_000 + 18_874_368 },
  errors: [],
  problems: [],
};

export const SAMPLE_EVENTS: Record<ReportEventKind, ReportEvent> = {
  'backup-succeeded': {
    kind: 'backup-succeeded',
    manifest: sampleManifest,
    nextRun: '2026-11-23T02:00:00.000Z',
    recentSizes: history.slice(0, 7).map(({ startedAt, storedBytes }) => ({ startedAt, storedBytes })),
    retention: 'deleted 2 daily backups older than the 7 newest (81.6 MB freed); kept 7',
  },
  'backup-failed': {
    kind: 'backup-failed',
    tier: 'daily',
    database: 'app',
    host: 'db-prod',
    startedAt: '2026-11-22T02:00:00.412Z',
    durationMs: 1_204,
    error:
      'pg_dump exited with code 1: pg_dump: error: connection to server at "db-prod" (10.0.3.7), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?',
    nextRun: '2026-11-23T02:00:00.000Z',
  },
  'restore-test-passed': { kind: 'restore-test-passed', result: restoreResult },
  'restore-test-failed': { kind: 'restore-test-failed', result: failedRestore },
  'cleanup-summary': { kind: 'cleanup-summary', summary: cleanup },
  'health-alert': {
    kind: 'health-alert',
    since: '2026-11-22T02:00:02.000Z',
    checks: [
      { name: 'last-backup', status: 'fail', message: 'the newest daily backup failed: connection refused', value: '1 failure' },
      { name: 'backup-age', status: 'warn', message: 'newest good backup is 24h old (limit 26h)', value: '24h01m' },
      { name: 'storage', status: 'ok', message: 'local and s3 writable' },
      { name: 'outbox', status: 'ok', message: 'no reports waiting', value: '0' },
    ],
  },
  'health-recovered': {
    kind: 'health-recovered',
    since: '2026-11-22T02:00:02.000Z',
    checks: [
      { name: 'last-backup', status: 'ok', message: 'the newest daily backup succeeded', value: '42.1 MB' },
      { name: 'backup-age', status: 'ok', message: 'newest good backup is 1m old', value: '1m30s' },
      { name: 'storage', status: 'ok', message: 'local and s3 writable' },
      { name: 'outbox', status: 'ok', message: 'no reports waiting', value: '0' },
    ],
  },
  'storage-report': {
    kind: 'storage-report',
    database: 'shop',
    host: 'db.internal',
    tiers: [
      { tier: 'daily', count: 7, bytes: 291_600_000 },
      { tier: 'weekly', count: 4, bytes: 162_000_000 },
      { tier: 'monthly', count: 6, bytes: 221_000_000 },
    ],
    totalBytes: 674_600_000,
    growthBytes: 6_300_000,
    history,
  },
  test: { kind: 'test' },
};

/** The clock each sample is rendered at: shortly after the event, as the email would be sent. */
export function sampleNow(kind: ReportEventKind): Date {
  if (kind === 'restore-test-passed' || kind === 'restore-test-failed') return new Date(Date.parse(restoreResult.finishedAt) + 2_000);
  if (kind === 'cleanup-summary') return new Date(Date.parse(cleanup.now) + 30_000);
  return SAMPLE_NOW;
}
