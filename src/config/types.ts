/*
 * The configuration as the rest of keepsake sees it: loadConfig (index.ts) builds it from the
 * environment once, validated and frozen; nothing else reads process.env.
 */
import type { DatabaseOrigin } from './database';
import type { DotenvSource } from './env-source';
import type { FreeSpaceLimit } from './parse';
import type { COMPRESSIONS, LOG_LEVELS, REPORT_EVENTS, STORAGE_CLASSES, TARGETS } from './schema';

export type { DatabaseOrigin, DatabaseSetting, SettingSource } from './database';
export type TargetName = (typeof TARGETS)[number];
export type CompressionAlgorithm = (typeof COMPRESSIONS)[number];

export interface DatabaseConfig {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  sslMode?: string;
  /** Where each setting came from; unset for connections keepsake makes itself (throwaway clusters). */
  origin?: DatabaseOrigin;
}

export interface S3Config {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  storageClass?: (typeof STORAGE_CLASSES)[number];
  partSizeBytes: number;
  queueSize: number;
  /** 'when_required' for S3-compatible servers that reject the SDK's default request checksums. */
  checksums: 'when_supported' | 'when_required';
}

export interface CompressionConfig {
  algorithm: CompressionAlgorithm;
  level: number;
  /** zstd worker threads; 0 means one per core. */
  threads: number;
}

export interface RestoreConfig {
  /** Where restore tests run: a throwaway cluster, or a scratch database on a given server. */
  testMode: 'ephemeral' | 'server';
  testServer?: DatabaseConfig;
  /** pg_restore --jobs. */
  jobs: number;
  /** Where archives are decompressed for pg_restore (needs room for the raw dump). */
  workDir: string;
  /** A restore test running longer than this is stopped and reported as failed. */
  testTimeoutMs: number;
}

export const JOBS = ['daily', 'weekly', 'monthly', 'health', 'cleanup', 'restore-test', 'storage-report', 'logrotate', 'offsite'] as const;
export type JobName = (typeof JOBS)[number];

export interface ScheduleConfig {
  /** Cron expression per job, in `timeZone`, or 'off'. */
  jobs: Record<JobName, string>;
  timeZone: string;
  catchUp: boolean;
  backupOnStart: boolean;
  shutdownGraceMs: number;
}

export type RetentionTier = 'daily' | 'weekly' | 'monthly' | 'manual' | 'pre-restore';

export interface RetentionConfig {
  /** Keep at least this many newest backups per tier. */
  keep: Record<RetentionTier, number>;
  /** Also keep backups younger than this, per tier, when set. */
  maxAgeMs: Partial<Record<RetentionTier, number>>;
  restoreTestKeepMs: number;
  /** Objects without a manifest older than this are removed as leftovers of failed runs. */
  incompleteAfterMs: number;
}

export type ReportEventName = (typeof REPORT_EVENTS)[number];

export interface SmtpConfig {
  host: string;
  port: number;
  secure: 'starttls' | 'tls' | 'none';
  user?: string;
  password?: string;
}

export interface ReportConfig {
  /** Unset: reports go to the outbox and STATE_DIR/reports as .html files only. */
  smtp?: SmtpConfig;
  from: string;
  to: readonly string[];
  subjectPrefix: string;
  events: readonly ReportEventName[];
  outbox: OutboxLimits;
}

/** Bounds on reports kept in STATE_DIR (outbox and reports/), and when waiting ones go as one digest. */
export interface OutboxLimits {
  /** Older reports are dropped unsent (failures too: a month-old failure is history, not news). */
  maxAgeMs: number;
  /** Beyond this many, the oldest are dropped, successes before failures. */
  maxReports: number;
  /** With this many or more waiting, they are sent as one digest mail instead of one mail each. */
  digestAfter: number;
}

export interface HealthConfig {
  /** The newest backup of each scheduled tier must be younger than this. */
  maxAgeMs: Record<'daily' | 'weekly' | 'monthly', number>;
  restoreTestMaxAgeMs: number;
  /** The oldest backup an off-site target lacks must be younger than this. */
  offsiteMaxAgeMs: number;
  /** The newest backup below this fraction of its tier's recent median is suspicious; 0 = off. */
  minSizeRatio: number;
  minBackupBytes?: number;
  minFreeDisk: FreeSpaceLimit;
  maxLogBytes: number;
  /** While unhealthy, the alert is repeated this often. */
  alertRepeatMs: number;
  /** Dead man's switch: requested after each backup (with /fail appended after a failure). */
  pingUrl?: string;
  /** The daemon's /healthz and /metrics server; off when unset. */
  http?: { port: number; host: string };
}

export interface Config {
  /** The .env file that set some of these, when one did. */
  dotenv?: DotenvSource;
  database: DatabaseConfig;
  health: HealthConfig;
  report: ReportConfig;
  schedule: ScheduleConfig;
  retention: RetentionConfig;
  restore: RestoreConfig;
  dumpExtraArgs: readonly string[];
  pgBinDir?: string;
  targets: readonly TargetName[];
  backupDir: string;
  s3?: S3Config;
  compression: CompressionConfig;
  stateDir: string;
  logDir?: string;
  logLevel: (typeof LOG_LEVELS)[number];
}
