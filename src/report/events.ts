import type { Manifest } from '../backup/manifest';
import type { RestoreTestResult } from '../restore/restore-test';
import type { CleanupSummary } from '../retention/apply';

/**
 * Every outcome keepsake reports, as data. The renderer turns one into an email; the outbox
 * stores it as JSON, so payloads hold plain values only (ISO strings, numbers), never Dates.
 */
export type ReportEvent =
  | BackupSucceededEvent
  | BackupFailedEvent
  | RestoreTestEvent
  | CleanupSummaryEvent
  | HealthEvent
  | StorageReportEvent
  | TestEvent;

export type ReportEventKind = ReportEvent['kind'];

export interface BackupSucceededEvent {
  kind: 'backup-succeeded';
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
  /** The error message; a child's stderr tail follows the first ': '. */
  error: string;
  nextRun?: string | null;
}

export interface RestoreTestEvent {
  kind: 'restore-test-passed' | 'restore-test-failed';
  result: RestoreTestResult;
}

export interface CleanupSummaryEvent {
  kind: 'cleanup-summary';
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
  checks: HealthCheckResult[];
  /** When the current state began (unhealthy since, or the alert's start for a recovery). */
  since?: string;
}

export interface StorageReportEvent {
  kind: 'storage-report';
  /** Which sidecar: several may mail one inbox. Optional for reports filed before it existed. */
  database?: string;
  host?: string;
  tiers: { tier: string; count: number; bytes: number }[];
  totalBytes: number;
  /** Change of totalBytes since the previous storage report. */
  growthBytes?: number;
  history: { startedAt: string; storedBytes: number; tier: string }[];
}

/** `keepsake notify test`: proves the mail path end to end. */
export interface TestEvent {
  kind: 'test';
}

export const REPORT_EVENT_KINDS = [
  'backup-succeeded',
  'backup-failed',
  'restore-test-passed',
  'restore-test-failed',
  'cleanup-summary',
  'health-alert',
  'health-recovered',
  'storage-report',
  'test',
] as const satisfies readonly ReportEventKind[];
