import type { Manifest } from '../backup/manifest';
import { hostname } from 'node:os';
import type { Config, DatabaseConfig, ReportEventName } from '../config';
import { sqliteStem } from '../config/sqlite-paths';
import type { RestoreTestResult } from '../restore/restore-test';
import type { CleanupSummary } from '../retention/apply';
import type { OffsiteResult } from '../offsite/copy-to-offsite';

/**
 * Every outcome keepsake reports, as data. The renderer turns one into an email; the outbox
 * stores it as JSON, so payloads hold plain values only (ISO strings, numbers), never Dates.
 */
export type ReportEvent =
  | BackupSucceededEvent
  | BackupFailedEvent
  | BackupRunEvent
  | RestoreTestEvent
  | CleanupSummaryEvent
  | HealthEvent
  | StorageReportEvent
  | OffsiteEvent
  | BaseBackupEvent
  | TestEvent
  | WalStreamingEvent;

export type ReportEventKind = ReportEvent['kind'];

/**
 * Which sidecar sent the report: several may mail one inbox, so every subject and banner names it.
 * Optional on every event: reports filed in the outbox before it existed lack it.
 */
export interface Sidecar {
  database: string;
  host: string;
  port: number;
  /** How reports name a sidecar without PostgreSQL: its SQLite files' names and this host ("app@web-1"). */
  label?: string;
}

export const sidecarOf = (db: Pick<DatabaseConfig, 'database' | 'host' | 'port'>): Sidecar => ({ database: db.database, host: db.host, port: db.port });

/** The sidecar reports name: its PostgreSQL server, or for SQLite files alone, their names on this host. */
export function sidecarOfConfig(config: Pick<Config, 'database' | 'sources'>): Sidecar {
  const { databases, globals, sqlitePaths } = config.sources;
  const postgres = databases === 'all' || databases.length > 0 || globals;
  if (postgres || sqlitePaths.length === 0) return sidecarOf(config.database);
  return { ...sidecarOf(config.database), label: `${sqlitePaths.map(sqliteStem).join(',')}@${hostname()}` };
}

/** The newest complete backup of the database when a backup failed: how much data is safe. */
export interface LastGoodBackup {
  tier: string;
  id: string;
  startedAt: string;
  /** The targets holding a complete copy ("local", "s3"). */
  targets: string[];
}

export interface BackupSucceededEvent {
  kind: 'backup-succeeded';
  sidecar?: Sidecar;
  manifest: Manifest;
  nextRun?: string | null;
  /** Recent backups of the same tier and database: the yardstick for the size anomaly check. */
  recentSizes: { startedAt: string; storedBytes: number }[];
  /** One line about what retention did after this backup, when it ran. */
  retention?: string;
}

export interface BackupFailedEvent {
  kind: 'backup-failed';
  tier: string;
  database: string;
  host: string;
  startedAt: string;
  durationMs?: number;
  /** The error message (a failed child's reads "<command> exited with code N: <its stderr tail>"). */
  error: string;
  nextRun?: string | null;
  sidecar?: Sidecar;
  /** The newest complete backup of the database; null when there is none; absent when unknown. */
  lastGood?: LastGoodBackup | null;
}

/** One source's outcome in a run of several: its manifest, or why it failed. */
export interface SourceOutcome {
  source: string;
  /** For humans: "app@db:5432", "globals of db:5432". */
  describe: string;
  manifest?: Manifest;
  error?: string;
}

/**
 * A run that backed up several sources in turn (POSTGRES_DB=app,analytics or all, the globals):
 * one report for the run, naming each source's outcome. A run of one source reports as before.
 */
export interface BackupRunEvent {
  kind: 'backup-run';
  tier: string;
  startedAt: string;
  durationMs: number;
  outcomes: SourceOutcome[];
  nextRun?: string | null;
  sidecar?: Sidecar;
}

export interface RestoreTestEvent {
  kind: 'restore-test-passed' | 'restore-test-failed';
  sidecar?: Sidecar;
  result: RestoreTestResult;
}

export interface CleanupSummaryEvent {
  kind: 'cleanup-summary';
  sidecar?: Sidecar;
  summary: CleanupSummary;
}

export type HealthStatus = 'ok' | 'warn' | 'fail';

export interface HealthCheckResult {
  name: string;
  status: HealthStatus;
  /** One line that says what is wrong and what to do. */
  message: string;
  /** The measured value for humans ("26h05m", "12 ms", "8% free"). */
  value?: string;
  /** The same in base units (ms, bytes, ratio) for metrics and scripts. */
  measured?: number;
}

export interface HealthEvent {
  kind: 'health-alert' | 'health-recovered';
  sidecar?: Sidecar;
  checks: HealthCheckResult[];
  /** When the current state began (unhealthy since, or the alert's start for a recovery). */
  since?: string;
  /** When the checks ran: the time the report's ages are measured from. */
  checkedAt?: string;
}

export interface StorageReportEvent {
  kind: 'storage-report';
  sidecar?: Sidecar;
  /** The sidecar before `sidecar` existed: reports filed in the outbox then still render. */
  database?: string;
  host?: string;
  /** When the report was made: the chart's weeks end here. */
  at?: string;
  /** Per target: the copies it holds and their size, and its free space where it can tell (local disk; null for S3). */
  targets?: { target: string; count: number; bytes: number; freeBytes: number | null }[];
  tiers: { tier: string; count: number; bytes: number }[];
  totalBytes: number;
  /** Change of totalBytes since the previous storage report. */
  growthBytes?: number;
  history: { startedAt: string; storedBytes: number; tier: string }[];
}

/** The off-site job's run: per off-site target, what was copied, what failed and why, how far behind it is. */
export interface OffsiteEvent {
  kind: 'offsite-succeeded' | 'offsite-failed';
  sidecar?: Sidecar;
  startedAt: string;
  finishedAt: string;
  targets: OffsiteResult[];
}

/** A base backup (PITR, src/pitr/base/): its manifest, or why it failed and the last good one. */
export type BaseBackupEvent =
  | { kind: 'base-backup-succeeded'; sidecar?: Sidecar; manifest: Manifest; nextRun?: string | null }
  | { kind: 'base-backup-failed'; sidecar?: Sidecar; host: string; startedAt: string; durationMs: number; error: string; nextRun?: string | null; lastGood?: LastGoodBackup | null };

/**
 * PITR's WAL streaming went wrong for longer than a short grace (pg_receivewal cannot stream, or
 * the archive cannot be written), or is fine again: the receiver's and shipper's status then.
 */
export interface WalStreamingEvent {
  kind: 'wal-streaming-failed' | 'wal-streaming-recovered';
  sidecar?: Sidecar;
  /** When the trouble began. */
  since: string;
  checkedAt: string;
  /** A reminder of an outage already reported (every HEALTH_ALERT_REPEAT). */
  reminder?: boolean;
  /** What is wrong, one line each (empty on recovery). */
  problems: string[];
  slot: string;
  receiver: { state: string; lastError?: string; restarts: number };
  lastShipped?: { name: string; at: string };
  spool: { files: number; bytes: number; oldest?: string };
}

/** `keepsake notify test`: proves the mail path end to end. */
export interface TestEvent {
  kind: 'test';
  sidecar?: Sidecar;
}

export const REPORT_EVENT_KINDS = [
  'backup-succeeded',
  'backup-failed',
  'backup-run',
  'restore-test-passed',
  'restore-test-failed',
  'cleanup-summary',
  'health-alert',
  'health-recovered',
  'storage-report',
  'offsite-succeeded',
  'offsite-failed',
  'base-backup-succeeded',
  'base-backup-failed',
  'test',
  'wal-streaming-failed',
  'wal-streaming-recovered',
] as const satisfies readonly ReportEventKind[];

/**
 * The NOTIFY_ON name an event is filed and sent under: a run of several sources is a
 * `backup-failed` when any source failed, else a `backup-succeeded`.
 */
export function reportEventName(event: ReportEvent): ReportEventName {
  if (event.kind !== 'backup-run') return event.kind;
  return event.outcomes.some((outcome) => !outcome.manifest) ? 'backup-failed' : 'backup-succeeded';
}
