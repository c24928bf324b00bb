/*
 * The configuration as the rest of keepsake sees it: loadConfig (index.ts) builds it from the
 * environment once, validated and frozen; nothing else reads process.env.
 */
import type { DatabaseOrigin } from './database';
import type { DotenvSource } from './env-source';
import type { FreeSpaceLimit } from './parse';
import type { COMPRESSIONS, SCHEDULED_TIERS, ENCRYPTIONS, LOG_LEVELS, REPORT_EVENTS, STORAGE_CLASSES, TARGET_KINDS } from './schema';

export type { DatabaseOrigin, DatabaseSetting, SettingSource } from './database';
export type TargetKind = (typeof TARGET_KINDS)[number];
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

/**
 * age encryption: what new backups are encrypted to, and what reads encrypted ones. The sidecar
 * that backs up needs only the public keys; restore, restore-test and verify's deep check need the
 * identity (or, in passphrase mode, the passphrase again).
 */
export interface EncryptionConfig {
  mode: (typeof ENCRYPTIONS)[number];
  /** X25519 public keys (age1...); every one can decrypt. */
  recipients: readonly string[];
  /** Passphrase mode: encrypts new backups (when mode is 'age' and no recipients) and decrypts. */
  passphrase?: string;
  /** An age identity file (AGE-SECRET-KEY-1...), to decrypt. */
  identityFile?: string;
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

export const JOBS = ['daily', 'weekly', 'monthly', 'yearly', 'health', 'cleanup', 'restore-test', 'storage-report', 'logrotate', 'offsite', 'base-backup'] as const;
export type JobName = (typeof JOBS)[number];

export interface ScheduleConfig {
  /** Cron expression per job, in `timeZone`, or 'off'. */
  jobs: Record<JobName, string>;
  timeZone: string;
  catchUp: boolean;
  backupOnStart: boolean;
  shutdownGraceMs: number;
}

export type RetentionTier = 'daily' | 'weekly' | 'monthly' | 'yearly' | 'manual' | 'pre-restore' | 'base';

export interface RetentionConfig {
  /** Keep at least this many newest backups per tier. */
  keep: Record<RetentionTier, number>;
  /** Also keep backups younger than this, per tier, when set. */
  maxAgeMs: Partial<Record<RetentionTier, number>>;
  restoreTestKeepMs: number;
  /** Objects without a manifest older than this are removed as leftovers of failed runs. */
  incompleteAfterMs: number;
}

/**
 * One place backups are kept. Primaries (BACKUP_TARGETS) receive every backup; off-site targets
 * (OFFSITE_TARGETS) only receive copies and are read with --from. `local` and `s3` are the legacy
 * names, set by BACKUP_DIR and S3_*; other names by TARGET_<NAME>_*.
 */
export interface TargetConfig {
  name: string;
  role: 'primary' | 'offsite';
  kind: TargetKind;
  /** kind local: the folder, absolute. */
  dir?: string;
  /** kind s3. */
  s3?: S3Config;
  /** This target's own rules (TARGET_<NAME>_KEEP_*, _MAX_AGE_*), defaulting to BACKUP_KEEP_* / BACKUP_MAX_AGE_*. */
  retention: Pick<RetentionConfig, 'keep' | 'maxAgeMs'>;
}

/** Point-in-time recovery (PITR=on): WAL streamed by pg_receivewal and weekly base backups. */
export interface PitrConfig {
  enabled: boolean;
  /** The replication slot pg_receivewal streams from (created when missing). */
  slot: string;
  /** Where pg_receivewal writes segments before they are shipped (absolute). */
  spoolDir: string;
  /** The partial segment is shipped at least this often: the promised recovery point. */
  shipIntervalMs: number;
  /** Health: the newest shipped WAL must be younger than this. */
  maxWalLagMs: number;
  /** Health: warn when the slot makes the server keep more WAL than this. */
  maxSlotRetainedBytes: number;
  /** Health: the newest base backup must be younger than this. */
  maxBaseAgeMs: number;
}

export type ReportEventName = (typeof REPORT_EVENTS)[number];

export interface SmtpConfig {
  host: string;
  port: number;
  secure: 'starttls' | 'tls' | 'none';
  user?: string;
  password?: string;
}

export type ChannelFormat = 'webhook' | 'slack' | 'discord' | 'teams' | 'ntfy';

/** A notification channel besides e-mail (NOTIFY_<NAME>_*, src/config/channels.ts; src/notify/ delivers). */
export interface ChannelConfig {
  /** Lower case, as in `notify test --channel NAME` and the outbox. */
  name: string;
  format: ChannelFormat;
  /** A secret: chat webhooks carry their token in the path. Show channelHost(url) only. */
  url: string;
  /** webhook: the HMAC-SHA256 signing key; ntfy: an access token. */
  secret?: string;
  events: readonly ReportEventName[];
  /** FORMAT was not set and came from the URL's host (hooks.slack.com is slack, else webhook). */
  formatInferred: boolean;
}

export interface ReportConfig {
  /** Unset: reports go to the outbox and STATE_DIR/reports as .html files only. */
  smtp?: SmtpConfig;
  /** Webhook, chat and push channels, each with its own event filter; every one goes through the outbox. */
  channels: readonly ChannelConfig[];
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
  maxAgeMs: Record<'daily' | 'weekly' | 'monthly' | 'yearly', number>;
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

/**
 * What a run backs up (src/sources/ turns it into Sources): the databases (POSTGRES_DB, a list or
 * `all` minus POSTGRES_EXCLUDE_DB), the cluster's globals (BACKUP_GLOBALS), SQLite files
 * (SQLITE_PATHS). With SQLITE_PATHS and no PostgreSQL setting at all, only the files: no databases, no globals.
 */
export interface SourcesConfig {
  /** Named databases, in order; or 'all': every non-template database that allows connections. */
  databases: readonly string[] | 'all';
  /** With 'all': the databases left out. */
  excludeDatabases: readonly string[];
  /** pg_dumpall --globals-only as its own backup, source `globals`. */
  globals: boolean;
  /** SQLite database files (SQLITE_PATHS), absolute; each a source named by its stem. */
  sqlitePaths: readonly string[];
}

export interface DumpContentsConfig {
  /** BACKUP_SCHEMA_ONLY_TIERS: these scheduled tiers are dumped without data. */
  schemaOnlyTiers: readonly (typeof SCHEDULED_TIERS)[number][];
  /** PGDUMP_EXCLUDE_TABLE_DATA: pg_dump --exclude-table-data patterns (the tables are kept, their rows not). */
  excludeTableData: readonly string[];
}

export interface Config {
  /** The .env file that set some of these, when one did. */
  dotenv?: DotenvSource;
  /** The server and how to connect; `database` is the first one backed up (`postgres` with POSTGRES_DB=all). */
  database: DatabaseConfig;
  sources: SourcesConfig;
  health: HealthConfig;
  report: ReportConfig;
  schedule: ScheduleConfig;
  retention: RetentionConfig;
  restore: RestoreConfig;
  dumpExtraArgs: readonly string[];
  /** What a backup leaves out on purpose, said in its manifest and every report. */
  dumpContents: DumpContentsConfig;
  pgBinDir?: string;
  /** Primaries in BACKUP_TARGETS order, then the off-site ones in OFFSITE_TARGETS order. */
  targets: readonly TargetConfig[];
  compression: CompressionConfig;
  encryption: EncryptionConfig;
  pitr: PitrConfig;
  stateDir: string;
  logDir?: string;
  logLevel: (typeof LOG_LEVELS)[number];
}
