import { cpus, hostname, tmpdir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors';
import { databaseFromUrl } from './database-url';
import { databaseFromEnv, type DatabaseOrigin, type SettingSource } from './database';
import { crossVariableProblems } from './cross-checks';
import { SECRET_VARIABLES, displayValue, resolveSecretFiles, withDotenv, type DotenvSource, type Env } from './env-source';
import type { FreeSpaceLimit } from './parse';
import { REPORT_EVENTS, SUCCESS_EVENTS, envSchema, type COMPRESSIONS, type LOG_LEVELS, type STORAGE_CLASSES, type TARGETS } from './schema';

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

export const JOBS = ['daily', 'weekly', 'monthly', 'health', 'cleanup', 'restore-test', 'storage-report', 'logrotate'] as const;
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

const DEFAULT_LEVEL: Record<CompressionAlgorithm, number> = { zstd: 3, gzip: 6, none: 0 };

/** Every variable keepsake reads, secrets' <NAME>_FILE included. */
const KNOWN_VARIABLES = new Set<string>([...Object.keys(envSchema.shape), ...SECRET_VARIABLES.map((name) => `${name}_FILE`)]);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Empty strings mean "unset", as they do for most tools configured through Docker. */
function dropEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
}

/**
 * Reads, validates and freezes the configuration. Every problem is collected and reported at once
 * (ConfigError, exit 78) before anything runs. This is the only module that reads the environment.
 */
export function loadConfig(rawEnv: Env = process.env, options: { dotenvPath?: string } = {}): Config {
  const problems: string[] = [];
  const { env: withFile, dotenv: fileRead } = withDotenv(rawEnv, options.dotenvPath);
  // Only what keepsake reads: a compose .env also holds the other services' settings.
  const dotenv = fileRead && { ...fileRead, variables: fileRead.variables.filter((name) => KNOWN_VARIABLES.has(name)) };
  const env = dropEmpty(resolveSecretFiles(withFile, problems));
  const result = envSchema.safeParse(env);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0]);
      const setIn = dotenv?.variables.includes(name) ? ` (set in ${dotenv.path})` : '';
      problems.push(`${name}=${displayValue(name, env[name])}${setIn}: ${issue.message}`);
    }
  }
  problems.push(...crossVariableProblems(env));
  if (!result.success || problems.length) throw new ConfigError(problems);
  const e = result.data;

  /** A variable's source: NAME_FILE when the value was read from that file, and the .env that set it. */
  const sourceOf = (name: string): SettingSource => {
    const readFromFile = (SECRET_VARIABLES as readonly string[]).includes(name) && !withFile[name]?.trim() && Boolean(withFile[`${name}_FILE`]?.trim());
    const variable = readFromFile ? `${name}_FILE` : name;
    return dotenv?.variables.includes(variable) ? { name: variable, file: dotenv.path } : { name: variable };
  };
  const database = databaseFromEnv(e, sourceOf);

  const targets = e.BACKUP_TARGETS ?? (e.S3_BUCKET ? ['s3' as const] : ['local' as const]);
  const algorithm = e.BACKUP_COMPRESSION;
  const level = e.BACKUP_COMPRESSION_LEVEL ?? DEFAULT_LEVEL[algorithm];

  const endpoint = e.S3_ENDPOINT?.toString().replace(/\/$/, '');
  const s3: S3Config | undefined = e.S3_BUCKET
    ? {
        bucket: e.S3_BUCKET,
        prefix: e.S3_PREFIX.replace(/^\/+|\/+$/g, ''),
        region: e.S3_REGION ?? e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
        endpoint,
        // S3-compatible servers (MinIO and most self-hosted ones) need path-style addressing.
        forcePathStyle: e.S3_FORCE_PATH_STYLE ?? Boolean(endpoint),
        accessKeyId: e.S3_ACCESS_KEY_ID,
        secretAccessKey: e.S3_SECRET_ACCESS_KEY,
        storageClass: e.S3_STORAGE_CLASS,
        partSizeBytes: e.S3_PART_SIZE,
        queueSize: e.S3_UPLOAD_QUEUE_SIZE,
        // Third-party endpoints often reject the SDK's newer default checksums; AWS accepts both.
        checksums: e.S3_CHECKSUMS ?? (endpoint ? 'when_required' : 'when_supported'),
      }
    : undefined;

  return deepFreeze({
    dotenv: dotenv?.variables.length ? dotenv : undefined,
    database,
    schedule: {
      jobs: {
        daily: e.SCHEDULE_DAILY,
        weekly: e.SCHEDULE_WEEKLY,
        monthly: e.SCHEDULE_MONTHLY,
        health: e.SCHEDULE_HEALTH,
        cleanup: e.SCHEDULE_CLEANUP,
        'restore-test': e.SCHEDULE_RESTORE_TEST,
        'storage-report': e.SCHEDULE_STORAGE_REPORT,
        logrotate: e.SCHEDULE_LOGROTATE,
      },
      timeZone: e.TZ,
      catchUp: e.BACKUP_CATCH_UP,
      backupOnStart: e.BACKUP_ON_START,
      shutdownGraceMs: e.SHUTDOWN_GRACE,
    },
    retention: {
      keep: { daily: e.BACKUP_KEEP_DAILY, weekly: e.BACKUP_KEEP_WEEKLY, monthly: e.BACKUP_KEEP_MONTHLY, manual: e.BACKUP_KEEP_MANUAL, 'pre-restore': e.BACKUP_KEEP_PRE_RESTORE },
      maxAgeMs: {
        daily: e.BACKUP_MAX_AGE_DAILY,
        weekly: e.BACKUP_MAX_AGE_WEEKLY,
        monthly: e.BACKUP_MAX_AGE_MONTHLY,
        manual: e.BACKUP_MAX_AGE_MANUAL,
        'pre-restore': e.BACKUP_MAX_AGE_PRE_RESTORE,
      },
      restoreTestKeepMs: e.RESTORE_TEST_KEEP,
      incompleteAfterMs: e.CLEANUP_INCOMPLETE_AFTER,
    },
    report: {
      smtp: e.SMTP_HOST
        ? { host: e.SMTP_HOST, port: e.SMTP_PORT ?? { starttls: 587, tls: 465, none: 25 }[e.SMTP_SECURE], secure: e.SMTP_SECURE, user: e.SMTP_USER, password: e.SMTP_PASSWORD }
        : undefined,
      from: e.MAIL_FROM ?? `keepsake@${hostname()}`,
      to: e.MAIL_TO ?? [],
      subjectPrefix: e.MAIL_SUBJECT_PREFIX,
      events: (e.NOTIFY_ON ?? [...REPORT_EVENTS]).filter((event) => e.NOTIFY_ON_SUCCESS || !(SUCCESS_EVENTS as readonly string[]).includes(event)),
      outbox: { maxAgeMs: e.OUTBOX_MAX_AGE, maxReports: e.OUTBOX_MAX_REPORTS, digestAfter: e.OUTBOX_DIGEST_AFTER },
    },
    health: {
      maxAgeMs: { daily: e.HEALTH_MAX_AGE_DAILY, weekly: e.HEALTH_MAX_AGE_WEEKLY, monthly: e.HEALTH_MAX_AGE_MONTHLY },
      restoreTestMaxAgeMs: e.HEALTH_MAX_AGE_RESTORE_TEST,
      minSizeRatio: e.HEALTH_MIN_SIZE_RATIO,
      minBackupBytes: e.HEALTH_MIN_BACKUP_SIZE,
      minFreeDisk: e.HEALTH_MIN_FREE_DISK,
      maxLogBytes: e.HEALTH_MAX_LOG_SIZE,
      alertRepeatMs: e.HEALTH_ALERT_REPEAT,
      pingUrl: e.HEALTHCHECK_PING_URL?.toString(),
      http: e.HEALTHCHECK_PORT ? { port: e.HEALTHCHECK_PORT, host: e.HEALTHCHECK_HOST } : undefined,
    },
    restore: {
      testMode: e.RESTORE_TEST_MODE,
      testServer: e.RESTORE_TEST_DATABASE_URL ? databaseFromUrl(e.RESTORE_TEST_DATABASE_URL.toString(), sourceOf('RESTORE_TEST_DATABASE_URL')) : undefined,
      jobs: e.RESTORE_JOBS || cpus().length,
      workDir: absolute(e.RESTORE_WORK_DIR ?? tmpdir()),
      testTimeoutMs: e.RESTORE_TEST_TIMEOUT,
    },
    dumpExtraArgs: e.PGDUMP_EXTRA_OPTS ?? [],
    pgBinDir: e.PG_BIN_DIR,
    targets,
    backupDir: absolute(e.BACKUP_DIR),
    s3,
    compression: { algorithm, level, threads: e.BACKUP_COMPRESSION_THREADS || cpus().length },
    stateDir: absolute(e.STATE_DIR),
    logDir: e.LOG_DIR ? absolute(e.LOG_DIR) : undefined,
    logLevel: e.LOG_LEVEL,
  });
}

/** The process's own environment plus ./.env: what the CLI and the daemon run with. */
export function loadConfigFromEnvironment(dotenvPath = '.env'): Config {
  return loadConfig(process.env, { dotenvPath });
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(path);
}

export { redactedConfig } from './redact';
