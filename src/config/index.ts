import { cpus, hostname, tmpdir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors';
import { databaseFromUrl } from './database-url';
import { databaseFromEnv, type SettingSource } from './database';
import { crossVariableProblems } from './cross-checks';
import { encryptionConfig, encryptionProblems } from './encryption';
import { FILE_VARIABLES, displayValue, resolveSecretFiles, withDotenv, type Env } from './env-source';
import { REPORT_EVENTS, envSchema } from './schema';
import { readTargets } from './targets';
import { defaultChannelEvents, readChannels } from './channels';
import { sourcesFromEnv } from './sources';
import type { CompressionAlgorithm, Config } from './types';

export * from './types';

const DEFAULT_LEVEL: Record<CompressionAlgorithm, number> = { zstd: 3, gzip: 6, none: 0 };

/** Every variable keepsake reads, secrets' <NAME>_FILE included. */
const KNOWN_VARIABLES = new Set<string>([...Object.keys(envSchema.shape), ...FILE_VARIABLES.map((name) => `${name}_FILE`)]);
/** Families whose names carry a target's or a channel's name (TARGET_<NAME>_*, NOTIFY_<NAME>_*). */
const isKnownVariable = (name: string) => KNOWN_VARIABLES.has(name) || name.startsWith('TARGET_') || name.startsWith('NOTIFY_');

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
  const dotenv = fileRead && { ...fileRead, variables: fileRead.variables.filter(isKnownVariable) };
  const env = dropEmpty(resolveSecretFiles(withFile, problems));
  const result = envSchema.safeParse(env);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0]);
      const setIn = dotenv?.variables.includes(name) ? ` (set in ${dotenv.path})` : '';
      problems.push(`${name}=${displayValue(name, env[name])}${setIn}: ${issue.message}`);
    }
  }
  problems.push(...crossVariableProblems(env), ...encryptionProblems(env));
  // Read even when other variables are wrong: the user sees every problem at once.
  const named = readTargets(env, result.success ? result.data : undefined);
  problems.push(...named.problems);
  const channelDefaults = result.success ? defaultChannelEvents(result.data.NOTIFY_ON, result.data.NOTIFY_ON_SUCCESS) : [...REPORT_EVENTS];
  const { channels, problems: channelProblems } = readChannels(env, channelDefaults);
  problems.push(...channelProblems);
  if (!result.success || problems.length) throw new ConfigError(problems);
  const e = result.data;

  /** A variable's source: NAME_FILE when the value was read from that file, and the .env that set it. */
  const sourceOf = (name: string): SettingSource => {
    const readFromFile = (FILE_VARIABLES as readonly string[]).includes(name) && !withFile[name]?.trim() && Boolean(withFile[`${name}_FILE`]?.trim());
    const variable = readFromFile ? `${name}_FILE` : name;
    return dotenv?.variables.includes(variable) ? { name: variable, file: dotenv.path } : { name: variable };
  };
  const { database, sources } = sourcesFromEnv(databaseFromEnv(e, sourceOf), e);

  const algorithm = e.BACKUP_COMPRESSION;
  const level = e.BACKUP_COMPRESSION_LEVEL ?? DEFAULT_LEVEL[algorithm];
  return deepFreeze({
    dotenv: dotenv?.variables.length ? dotenv : undefined,
    database,
    sources,
    schedule: {
      jobs: {
        daily: e.SCHEDULE_DAILY,
        weekly: e.SCHEDULE_WEEKLY,
        monthly: e.SCHEDULE_MONTHLY,
        yearly: e.SCHEDULE_YEARLY,
        health: e.SCHEDULE_HEALTH,
        cleanup: e.SCHEDULE_CLEANUP,
        'restore-test': e.SCHEDULE_RESTORE_TEST,
        'storage-report': e.SCHEDULE_STORAGE_REPORT,
        logrotate: e.SCHEDULE_LOGROTATE,
        offsite: e.SCHEDULE_OFFSITE,
        'base-backup': e.SCHEDULE_BASE_BACKUP,
      },
      timeZone: e.TZ,
      catchUp: e.BACKUP_CATCH_UP,
      backupOnStart: e.BACKUP_ON_START,
      shutdownGraceMs: e.SHUTDOWN_GRACE,
    },
    retention: {
      keep: { daily: e.BACKUP_KEEP_DAILY, weekly: e.BACKUP_KEEP_WEEKLY, monthly: e.BACKUP_KEEP_MONTHLY, yearly: e.BACKUP_KEEP_YEARLY, manual: e.BACKUP_KEEP_MANUAL, 'pre-restore': e.BACKUP_KEEP_PRE_RESTORE, base: e.BACKUP_KEEP_BASE },
      maxAgeMs: {
        daily: e.BACKUP_MAX_AGE_DAILY,
        weekly: e.BACKUP_MAX_AGE_WEEKLY,
        monthly: e.BACKUP_MAX_AGE_MONTHLY,
        yearly: e.BACKUP_MAX_AGE_YEARLY,
        manual: e.BACKUP_MAX_AGE_MANUAL,
        'pre-restore': e.BACKUP_MAX_AGE_PRE_RESTORE,
        base: e.BACKUP_MAX_AGE_BASE,
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
      channels,
      events: channelDefaults,
      outbox: { maxAgeMs: e.OUTBOX_MAX_AGE, maxReports: e.OUTBOX_MAX_REPORTS, digestAfter: e.OUTBOX_DIGEST_AFTER },
    },
    health: {
      maxAgeMs: { daily: e.HEALTH_MAX_AGE_DAILY, weekly: e.HEALTH_MAX_AGE_WEEKLY, monthly: e.HEALTH_MAX_AGE_MONTHLY, yearly: e.HEALTH_MAX_AGE_YEARLY },
      restoreTestMaxAgeMs: e.HEALTH_MAX_AGE_RESTORE_TEST,
      offsiteMaxAgeMs: e.HEALTH_MAX_AGE_OFFSITE,
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
    dumpContents: { schemaOnlyTiers: e.BACKUP_SCHEMA_ONLY_TIERS ?? [], excludeTableData: e.PGDUMP_EXCLUDE_TABLE_DATA ?? [] },
    pgBinDir: e.PG_BIN_DIR,
    targets: named.targets,
    compression: { algorithm, level, threads: e.BACKUP_COMPRESSION_THREADS || cpus().length },
    encryption: encryptionConfig(e),
    pitr: {
      enabled: e.PITR,
      slot: e.PITR_SLOT,
      spoolDir: absolute(e.WAL_SPOOL_DIR ?? resolve(absolute(e.STATE_DIR), 'wal-spool')),
      shipIntervalMs: e.WAL_SHIP_INTERVAL,
      maxWalLagMs: e.HEALTH_MAX_WAL_LAG,
      maxSlotRetainedBytes: e.HEALTH_MAX_SLOT_RETAINED,
      maxBaseAgeMs: e.HEALTH_MAX_AGE_BASE,
    },
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
