import type { Manifest } from '../../backup/manifest';
import { walSamples } from './samples-wal';
import type { RestoreTestResult } from '../../restore/restore-test';
import type { CleanupSummary } from '../../retention/apply';
import { baseBackupSamples } from './base-backup-samples';
import type { HealthCheckResult, ReportEvent, ReportEventKind, Sidecar } from '../events';

/**
 * Realistic sample events for `keepsake report preview` and the screenshots in docs/: a mid-sized
 * app database, daily backups at 02:00 UTC, a local disk and an S3 bucket as targets.
 */
export const SAMPLE_NOW = new Date('2026-11-22T02:01:30.000Z');

export const SAMPLE_SIDECAR: Sidecar = { database: 'app', host: 'db-prod', port: 5432 };

const TABLES: [string, number][] = [
  ['events', 1_204_331], ['orders', 184_220], ['order_items', 512_907], ['customers', 48_113], ['products', 2_418],
  ['invoices', 171_006], ['payments', 169_874], ['sessions', 30_552], ['audit_log', 402_118], ['addresses', 51_977],
  ['coupons', 312], ['schema_migrations', 87],
];
/** A materialized view created WITH NO DATA: nothing to count at backup time, nothing after restore. */
const UNPOPULATED_VIEW = { schema: 'public', name: 'monthly_revenue', kind: 'matview' as const, rows: null };

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
    tables: [...TABLES.map(([name, rows]) => ({ schema: name === 'audit_log' ? 'audit' : 'public', name, kind: 'table' as const, rows })), UNPOPULATED_VIEW],
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
  problems: ['table public.order_items has 498112 rows, the backup recorded 512907'],
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
    // The reasons src/retention/plan.ts gives.
    ...Array.from({ length: 7 }, (_, day) => backupOutcome(day, 'keep', 'among the 7 newest daily')),
    backupOutcome(7, 'delete', 'outside every rule (8th newest daily, 7d old, limit 7d)'),
    backupOutcome(8, 'delete', 'outside every rule (9th newest daily, 8d old, limit 7d)'),
  ],
  restoreTests: [],
  leftovers: [{ target: 'local', key: 'db-backups/daily/2026/11/20/app_20261120_020000.dump.zst', kind: 'no-manifest', modified: Date.parse(at(2)), size: 18_874_368, action: 'delete', rule: 'outside', reason: 'data object without manifest, 2d old: past the 24h grace', done: true }],
  totals: { kept: 7, deleted: 2, restoreTestsDeleted: 1, leftoversDeleted: 1, bytesFreed: 2 * 2 * 41_000_000 + 18_874_368 },
  errors: [],
  problems: [],
};

/**
 * A health run while the database is down, with the names and messages src/health gives: two
 * checks fail, six warn, the rest pass. Times in values are raw ISO strings, as the checks store them.
 */
const healthChecks = (down: boolean): HealthCheckResult[] => [
  down
    ? { name: 'database', status: 'fail', message: 'Cannot connect to PostgreSQL: connection refused at db-prod:5432; check POSTGRES_HOST and POSTGRES_PORT and that the server is running' }
    : { name: 'database', status: 'ok', message: 'PostgreSQL 17.2 answers', value: '4 ms', measured: 4 },
  down
    ? { name: 'pg_dump', status: 'warn', message: 'not checked against the server, which did not answer (installed: 17.2)' }
    : { name: 'pg_dump', status: 'ok', message: 'pg_dump 17.2 can dump PostgreSQL 17.2', value: '17.2' },
  { name: 'storage:local', status: 'ok', message: 'write, read back and delete work at /backups/db-backups/', value: '3 ms', measured: 3 },
  { name: 'storage:s3', status: 'ok', message: 'write, read back and delete work at s3://acme-backups/db-backups/', value: '48 ms', measured: 48 },
  { name: 'freshness:daily', status: 'ok', message: 'newest daily backup app_20261121_020000 is 24h00m old (limit 26h00m)', value: '24h00m', measured: 86_400_000 },
  { name: 'freshness:weekly', status: 'warn', message: 'no weekly backup yet; the first is due 2026-11-23T03:00:00.000Z (or run `keepsake backup --tier weekly`)' },
  { name: 'freshness:monthly', status: 'warn', message: 'no monthly backup yet; the first is due 2026-12-01T04:00:00.000Z (or run `keepsake backup --tier monthly`)' },
  { name: 'freshness:yearly', status: 'warn', message: 'no yearly backup yet; the first is due 2027-01-01T05:00:00.000Z (or run `keepsake backup --tier yearly`)' },
  down
    ? { name: 'last-run:daily', status: 'fail', message: 'the last scheduled daily backup failed: Cannot connect to PostgreSQL: connection refused at db-prod:5432; fix the cause, then run `keepsake backup --tier daily`', value: '2026-11-22T02:00:01.618Z' }
    : { name: 'last-run:daily', status: 'ok', message: 'the last scheduled daily backup succeeded', value: '2026-11-22T02:01:12.918Z' },
  { name: 'last-run:weekly', status: 'warn', message: 'the last weekly backup was interrupted (shutdown); the next run makes up for it', value: '2026-11-16T03:04:40.100Z' },
  { name: 'last-run:monthly', status: 'ok', message: 'no scheduled monthly run yet' },
  { name: 'last-run:yearly', status: 'ok', message: 'no scheduled yearly run yet' },
  { name: 'size:daily', status: 'ok', message: 'newest daily backup is 42.1 MB, 101% of the recent median', value: '42.1 MB', measured: 42_108_554 },
  { name: 'restore-test', status: 'warn', message: 'no restore test yet; the first is due 2026-11-22T04:00:00.000Z (or run `keepsake restore-test` now)' },
  { name: 'outbox', status: 'ok', message: 'no reports waiting', value: '0', measured: 0 },
  { name: 'scheduler', status: 'ok', message: 'the daemon is running this check', measured: 0 },
  { name: 'disk:backups+state+work', status: 'ok', message: 'enough free space (at least 10%) on the filesystem of /backups, /var/lib/keepsake, /tmp/keepsake', value: '41.3 GB free (62%)', measured: 41_300_000_000 },
  { name: 'disk:logs', status: 'ok', message: 'enough free space (at least 10%) on the filesystem of /var/log/keepsake', value: '7.90 GB free (79%)', measured: 7_900_000_000 },
  { name: 'logs', status: 'warn', message: 'the logs in /var/log/keepsake use 61.2 MB (HEALTH_MAX_LOG_SIZE 50.0 MB); check that log rotation runs (SCHEDULE_LOGROTATE)', value: '61.2 MB', measured: 61_200_000 },
];

/** An hour later the warnings are gone too: the first weekly backup and restore test ran, the logs rotated. */
const RECOVERED: Record<string, HealthCheckResult> = {
  'freshness:weekly': { name: 'freshness:weekly', status: 'ok', message: 'newest weekly backup app_20261122_024500 is 16m old (limit 8d00h)', value: '16m', measured: 960_000 },
  'freshness:monthly': { name: 'freshness:monthly', status: 'ok', message: 'newest monthly backup app_20261122_025000 is 11m old (limit 32d00h)', value: '11m', measured: 660_000 },
  'freshness:yearly': { name: 'freshness:yearly', status: 'ok', message: 'newest yearly backup app_20261122_025500 is 6m old (limit 370d00h)', value: '6m', measured: 360_000 },
  'last-run:weekly': { name: 'last-run:weekly', status: 'ok', message: 'the last scheduled weekly backup was interrupted; the newer weekly backup app_20261122_024500 makes up for it', value: '2026-11-16T03:04:40.100Z' },
  'restore-test': { name: 'restore-test', status: 'ok', message: 'the last restore test of app_20261122_020000 passed 59m ago', value: '59m', measured: 3_540_000 },
  logs: { name: 'logs', status: 'ok', message: 'the logs in /var/log/keepsake use 4.10 MB', value: '4.10 MB', measured: 4_100_000 },
};

export const SAMPLE_EVENTS: Record<ReportEventKind, ReportEvent> = {
  'backup-succeeded': {
    kind: 'backup-succeeded',
    sidecar: SAMPLE_SIDECAR,
    manifest: sampleManifest,
    nextRun: '2026-11-23T02:00:00.000Z',
    recentSizes: history.slice(0, 7).map(({ startedAt, storedBytes }) => ({ startedAt, storedBytes })),
    retention: 'deleted 2 daily backups older than the 7 newest (81.6 MB freed); kept 7',
  },
  'backup-failed': {
    kind: 'backup-failed',
    sidecar: SAMPLE_SIDECAR,
    tier: 'daily',
    database: 'app',
    host: 'db-prod',
    startedAt: '2026-11-22T02:00:00.412Z',
    durationMs: 1_204,
    // As src/process/run-process.ts's ProcessFailedError words a failed child: command, exit, stderr tail.
    error:
      'pg_dump exited with code 1: pg_dump: error: connection to server at "db-prod" (10.0.3.7), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?',
    nextRun: '2026-11-23T02:00:00.000Z',
    lastGood: { tier: 'daily', id: 'app_20261121_020000', startedAt: '2026-11-21T02:00:00.388Z', targets: ['local', 's3'] },
  },
  'backup-run': {
    kind: 'backup-run',
    sidecar: SAMPLE_SIDECAR,
    tier: 'daily',
    startedAt: '2026-11-22T02:00:00.412Z',
    durationMs: 74_810,
    nextRun: '2026-11-23T02:00:00.000Z',
    outcomes: [
      { source: 'app', describe: 'app@db-prod:5432', manifest: sampleManifest },
      {
        source: 'analytics',
        describe: 'analytics@db-prod:5432',
        error: 'Cannot connect to PostgreSQL: database "analytics" does not exist on db-prod:5432; check POSTGRES_DB',
      },
      {
        source: 'globals',
        describe: 'globals of db-prod:5432',
        manifest: {
          ...sampleManifest,
          id: 'globals_20261122_020112',
          key: 'db-backups/daily/2026/11/22/globals_20261122_020112.sql.zst',
          source: { kind: 'postgres-globals', name: 'globals' },
          archiveFormat: 'plain',
          rawBytes: 4_210,
          storedBytes: 1_377,
          durationMs: 61,
          inventory: { schemas: [], extensions: [], tables: [], sequences: [], roles: ['app', 'app_readonly', 'postgres', 'reporting'], tablespaces: [] },
        },
      },
    ],
  },
  'restore-test-passed': { kind: 'restore-test-passed', sidecar: SAMPLE_SIDECAR, result: restoreResult },
  'restore-test-failed': { kind: 'restore-test-failed', sidecar: SAMPLE_SIDECAR, result: failedRestore },
  'cleanup-summary': { kind: 'cleanup-summary', sidecar: SAMPLE_SIDECAR, summary: cleanup },
  'health-alert': { kind: 'health-alert', sidecar: SAMPLE_SIDECAR, since: '2026-11-22T02:00:02.000Z', checkedAt: '2026-11-22T02:01:30.000Z', checks: healthChecks(true) },
  'health-recovered': {
    kind: 'health-recovered',
    sidecar: SAMPLE_SIDECAR,
    since: '2026-11-22T02:00:02.000Z',
    checkedAt: '2026-11-22T03:01:30.000Z',
    checks: healthChecks(false).map((check) => RECOVERED[check.name] ?? check),
  },
  'storage-report': {
    kind: 'storage-report',
    sidecar: SAMPLE_SIDECAR,
    at: SAMPLE_NOW.toISOString(),
    targets: [
      { target: 'local', count: 17, bytes: 674_600_000, freeBytes: 41_300_000_000 },
      { target: 's3', count: 17, bytes: 674_600_000, freeBytes: null },
    ],
    tiers: [
      { tier: 'daily', count: 7, bytes: 583_200_000 },
      { tier: 'weekly', count: 4, bytes: 324_000_000 },
      { tier: 'monthly', count: 6, bytes: 442_000_000 },
    ],
    totalBytes: 1_349_200_000,
    growthBytes: 12_600_000,
    history,
  },
  'offsite-succeeded': {
    kind: 'offsite-succeeded',
    sidecar: SAMPLE_SIDECAR,
    startedAt: '2026-11-22T04:00:00.210Z',
    finishedAt: '2026-11-22T04:00:41.730Z',
    targets: [
      {
        target: 'cold',
        location: 's3://acme-cold/db-backups/',
        startedAt: '2026-11-22T04:00:00.210Z',
        durationMs: 41_520,
        copied: [
          { tier: 'daily', id: 'app_20261122_020000', startedAt: sampleManifest.startedAt, bytes: sampleManifest.storedBytes, durationMs: 21_300, method: 'streamed', from: 'local' },
          { tier: 'daily', id: 'app_20261121_020000', startedAt: at(1), bytes: 41_980_112, durationMs: 20_110, method: 'streamed', from: 'local' },
        ],
        failed: [],
        lag: { missing: 0, oldestMissingAgeMs: 0, newestHeld: { tier: 'daily', id: 'app_20261122_020000', startedAt: sampleManifest.startedAt } },
      },
    ],
  },
  'offsite-failed': {
    kind: 'offsite-failed',
    sidecar: SAMPLE_SIDECAR,
    startedAt: '2026-11-22T04:00:00.210Z',
    finishedAt: '2026-11-22T04:01:52.004Z',
    targets: [
      {
        target: 'cold',
        location: 's3://acme-cold/db-backups/',
        startedAt: '2026-11-22T04:00:00.210Z',
        durationMs: 111_794,
        copied: [
          {
            tier: 'daily', id: 'app_20261122_020000', startedAt: sampleManifest.startedAt, bytes: sampleManifest.storedBytes, durationMs: 22_400, method: 'streamed', from: 's3',
            notes: ['corrupted on local: sha256 0b6f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b where the manifest says 9f2c4e7a0b1d3c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6'],
          },
        ],
        failed: [
          { tier: 'daily', id: 'app_20261121_020000', startedAt: at(1), bytes: 41_980_112, error: 'Cannot upload to s3://acme-cold/db-backups/daily/2026/11/21/app_20261121_020000.dump.zst: connection refused; check S3_ENDPOINT and that the server is running' },
          { tier: 'daily', id: 'app_20261120_020000', startedAt: at(2), bytes: 41_860_447, error: 'Cannot delete s3://acme-cold/db-backups/daily/2026/11/20/app_20261120_020000.manifest.json: connection refused; check S3_ENDPOINT and that the server is running' },
        ],
        error: 'cold failed 2 times in a row (connection refused; check S3_ENDPOINT and that the server is running); 3 more backups wait for the next run',
        lag: { missing: 5, oldestMissing: { tier: 'daily', id: 'app_20261117_020000', startedAt: at(5) }, oldestMissingAgeMs: 5 * DAY + 2 * 3_600_000, newestHeld: { tier: 'daily', id: 'app_20261122_020000', startedAt: sampleManifest.startedAt } },
      },
    ],
  },
  ...baseBackupSamples(SAMPLE_SIDECAR),
  test: { kind: 'test', sidecar: SAMPLE_SIDECAR },
  ...walSamples(SAMPLE_SIDECAR),
};

/** The clock each sample is rendered at: shortly after the event, as the email would be sent. */
export function sampleNow(kind: ReportEventKind): Date {
  if (kind === 'restore-test-passed' || kind === 'restore-test-failed') return new Date(Date.parse(restoreResult.finishedAt) + 2_000);
  if (kind === 'cleanup-summary') return new Date(Date.parse(cleanup.now) + 30_000);
  if (kind === 'offsite-succeeded' || kind === 'offsite-failed') return new Date(Date.parse('2026-11-22T04:02:00.000Z'));
  return SAMPLE_NOW;
}
