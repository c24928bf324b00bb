import { z } from 'zod';
import { Cron } from 'croner';
import { parseAge, parseBoolean, parseDuration, parseFreeSpace, parseSchedule, parseSize, splitWords } from './parse';
import { dumpOptionProblems } from './pg-dump-options';
import { parseRecipients } from '../encryption/recipients';
import { parseSqlitePaths } from './sqlite-paths';

/** Wraps a throwing parser as a zod transform whose error message becomes the config problem. */
export function parsed<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
}

export const integer = (min: number, max: number) =>
  parsed((text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new Error(`expected a whole number from ${min} to ${max}`);
    return value;
  });

/**
 * A duration keepsake waits out with a timer. Node's timers (setTimeout, AbortSignal.timeout) hold
 * at most 2^31 - 1 ms, about 24.8 days, and fire at once for anything longer: SHUTDOWN_GRACE=30d
 * used to abort the running job milliseconds after SIGTERM. 24 days is the round limit below that.
 * Every other duration (HEALTH_MAX_AGE_*, HEALTH_ALERT_REPEAT, CLEANUP_INCOMPLETE_AFTER, the
 * retention ages) is only compared with an age, never waited out, so it needs no such limit.
 */
const LONGEST_TIMER_MS = 24 * 86_400_000;
const timerDuration = (options: { zero: 'allowed' | 'refused'; example: string }) =>
  parsed((text) => {
    const ms = parseDuration(text);
    if (ms > LONGEST_TIMER_MS) throw new Error('at most 24d (the longest wait a timer can hold); set 24d or less');
    if (ms === 0 && options.zero === 'refused') throw new Error(`must be longer than 0, like ${options.example}`);
    return ms;
  });

export const boolean = parsed(parseBoolean);
const schedule = parsed((text) => parseSchedule(text, (pattern) => new Cron(pattern, { paused: true })));
export const oneOf = <T extends string>(values: readonly T[]) =>
  parsed((text) => {
    const value = text.trim().toLowerCase() as T;
    if (!values.includes(value)) throw new Error(`expected one of ${values.join(', ')}`);
    return value;
  });

export const url = (protocols: string[]) =>
  parsed((text) => {
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(text);
    } catch {
      throw new Error(`expected a URL like ${protocols[0]}//host:port`);
    }
    if (!protocols.includes(parsedUrl.protocol)) throw new Error(`expected a ${protocols.join(' or ')} URL`);
    return parsedUrl;
  });

/** The kinds of storage a target can be; `local` and `s3` are also the legacy targets' names. */
export const TARGET_KINDS = ['local', 's3'] as const;
/** A target's name: lower case, as it appears in BACKUP_TARGETS and (upper-cased) in TARGET_<NAME>_*. */
export const TARGET_NAME = /^[a-z][a-z0-9_]{0,31}$/;
export const REPORT_EVENTS = [
  'backup-succeeded', 'backup-failed', 'restore-test-passed', 'restore-test-failed', 'cleanup-summary',
  'storage-report', 'health-alert', 'health-recovered', 'offsite-succeeded', 'offsite-failed', 'test',
  'base-backup-succeeded', 'base-backup-failed', 'wal-streaming-failed', 'wal-streaming-recovered',
] as const;
/** Events that say "all is well": NOTIFY_ON_SUCCESS=false silences these. */
export const SUCCESS_EVENTS = ['backup-succeeded', 'restore-test-passed', 'cleanup-summary', 'storage-report', 'health-recovered', 'offsite-succeeded', 'base-backup-succeeded', 'wal-streaming-recovered'] as const;
/** The bad news: every event but the good news and the test message (NOTIFY_ON=failures). */
export const BAD_NEWS_EVENTS = REPORT_EVENTS.filter((event) => event !== 'test' && !(SUCCESS_EVENTS as readonly string[]).includes(event));

/** NOTIFY_ON and NOTIFY_<NAME>_ON: `all`, `failures`, or a comma list of events (which may add to `failures`). */
export function parseEventList(text: string): (typeof REPORT_EVENTS)[number][] {
  const names = text.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((name) => name !== 'all' && name !== 'failures' && !(REPORT_EVENTS as readonly string[]).includes(name));
  if (unknown.length || !names.length) throw new Error(`expected "all", "failures" or a comma list of ${REPORT_EVENTS.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`);
  if (names.includes('all')) return [...REPORT_EVENTS];
  const wanted = new Set(names.flatMap((name) => (name === 'failures' ? BAD_NEWS_EVENTS : [name])));
  return REPORT_EVENTS.filter((event) => wanted.has(event));
}
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
/** The tiers the daemon backs up on a schedule: those BACKUP_SCHEMA_ONLY_TIERS may name. */
export const SCHEDULED_TIERS = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export const ENCRYPTIONS = ['none', 'age'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const STORAGE_CLASSES = [
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING',
  'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR',
] as const;

export const storageClass = parsed((text) => {
  const value = text.trim().toUpperCase();
  if (!(STORAGE_CLASSES as readonly string[]).includes(value)) throw new Error(`expected one of ${STORAGE_CLASSES.join(', ')}`);
  return value as (typeof STORAGE_CLASSES)[number];
});

/** BACKUP_TARGETS, OFFSITE_TARGETS: a comma list of target names, each once. */
function targetNames(options: { allowEmpty: boolean }) {
  return parsed((text) => {
    const names = text.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
    const bad = names.filter((name) => !TARGET_NAME.test(name));
    if (bad.length) throw new Error(`target names are a letter, then letters, digits or _ (at most 32), like local, s3 or offsite_b2; not ${bad.map((name) => JSON.stringify(name)).join(', ')}`);
    if (!names.length && !options.allowEmpty) throw new Error('expected a comma list of target names, like local,s3');
    return [...new Set(names)];
  });
}

const MIN_PART_SIZE = 5 * 1024 * 1024; // S3's minimum for every part but the last

/** Every environment variable keepsake reads, with its format. Empty values count as unset. */
export const envSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  POSTGRES_HOST: z.string().optional(),
  POSTGRES_PORT: integer(1, 65535).optional(),
  POSTGRES_USER: z.string().optional(),
  POSTGRES_PASSWORD: z.string().optional(),
  POSTGRES_DB: z.string().optional(),
  POSTGRES_DATABASE: z.string().optional(),
  POSTGRES_EXCLUDE_DB: parsed((text) => text.split(',').map((name) => name.trim()).filter(Boolean)).optional(),
  BACKUP_GLOBALS: boolean.default(true),
  SQLITE_PATHS: parsed(parseSqlitePaths).optional(),
  PGHOST: z.string().optional(),
  PGPORT: integer(1, 65535).optional(),
  PGUSER: z.string().optional(),
  PGPASSWORD: z.string().optional(),
  PGDATABASE: z.string().optional(),
  PGSSLMODE: oneOf(SSL_MODES).optional(),
  PGDUMP_EXTRA_OPTS: parsed((text) => {
    const words = splitWords(text);
    const problems = dumpOptionProblems(words);
    if (problems.length) throw new Error(problems.join('; '));
    return words;
  }).optional(),
  PG_BIN_DIR: z.string().optional(),
  BACKUP_SCHEMA_ONLY_TIERS: parsed((text) => {
    const tiers = text.split(',').map((tier) => tier.trim().toLowerCase()).filter(Boolean);
    const bad = tiers.filter((tier) => !(SCHEDULED_TIERS as readonly string[]).includes(tier));
    if (bad.length || !tiers.length) throw new Error(`expected a comma list of ${SCHEDULED_TIERS.join(', ')}${bad.length ? ` (not ${bad.join(', ')})` : ''}; a manual backup is made schema-only with keepsake backup --schema-only`);
    return [...new Set(tiers)] as (typeof SCHEDULED_TIERS)[number][];
  }).optional(),
  PGDUMP_EXCLUDE_TABLE_DATA: parsed((text) => {
    const patterns = text.split(',').map((pattern) => pattern.trim()).filter(Boolean);
    if (!patterns.length) throw new Error('expected a comma list of table patterns as pg_dump --exclude-table-data takes them, like public.events,audit.*');
    return patterns;
  }).optional(),

  BACKUP_TARGETS: targetNames({ allowEmpty: false }).optional(),
  OFFSITE_TARGETS: targetNames({ allowEmpty: true }).optional(),
  BACKUP_DIR: z.string().default('/backups'),
  BACKUP_COMPRESSION: oneOf(COMPRESSIONS).default('zstd'),
  BACKUP_COMPRESSION_LEVEL: integer(1, 19).optional(),
  BACKUP_COMPRESSION_THREADS: integer(0, 256).default(0),
  BACKUP_ENCRYPTION: oneOf(ENCRYPTIONS).default('none'),
  AGE_RECIPIENTS: parsed(parseRecipients).optional(),
  AGE_PASSPHRASE: z.string().optional(),
  AGE_IDENTITY_FILE: z.string().optional(),

  S3_BUCKET: z.string().optional(),
  S3_PREFIX: z.string().default('db-backups'),
  S3_REGION: z.string().optional(),
  AWS_REGION: z.string().optional(),
  AWS_DEFAULT_REGION: z.string().optional(),
  S3_ENDPOINT: url(['http:', 'https:']).optional(),
  S3_FORCE_PATH_STYLE: boolean.optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_STORAGE_CLASS: storageClass.optional(),
  S3_PART_SIZE: parsed((text) => {
    const bytes = parseSize(text);
    if (bytes < MIN_PART_SIZE) throw new Error('S3 parts must be at least 5MiB');
    return bytes;
  }).default(8 * 1024 * 1024),
  S3_UPLOAD_QUEUE_SIZE: integer(1, 64).default(3),
  S3_CHECKSUMS: oneOf(['when_supported', 'when_required'] as const).optional(),

  RESTORE_TEST_MODE: oneOf(['ephemeral', 'server'] as const).default('ephemeral'),
  RESTORE_TEST_DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  RESTORE_JOBS: integer(0, 64).default(0),
  RESTORE_WORK_DIR: z.string().optional(),
  RESTORE_TEST_TIMEOUT: timerDuration({ zero: 'refused', example: '6h' }).default(6 * 3_600_000),

  TZ: parsed((text) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: text.trim() });
    } catch {
      throw new Error('expected an IANA time zone like UTC or Europe/Berlin');
    }
    return text.trim();
  }).default('UTC'),
  SCHEDULE_DAILY: schedule.default('0 2 * * *'),
  SCHEDULE_WEEKLY: schedule.default('0 3 * * 0'),
  SCHEDULE_MONTHLY: schedule.default('0 4 1 * *'),
  SCHEDULE_YEARLY: schedule.default('0 5 1 1 *'),
  SCHEDULE_HEALTH: schedule.default('0 * * * *'),
  SCHEDULE_CLEANUP: schedule.default('30 5 * * 0'),
  SCHEDULE_RESTORE_TEST: schedule.default('0 6 1 * *'),
  SCHEDULE_STORAGE_REPORT: schedule.default('0 7 * * 1'),
  SCHEDULE_LOGROTATE: schedule.default('0 4 * * *'),
  SCHEDULE_OFFSITE: schedule.default('0 4 * * 0'),
  SCHEDULE_BASE_BACKUP: schedule.default('0 1 * * 0'),
  BACKUP_CATCH_UP: boolean.default(true),
  BACKUP_ON_START: boolean.default(false),
  // 0 is a choice: abort the running job at once on SIGTERM.
  SHUTDOWN_GRACE: timerDuration({ zero: 'allowed', example: '5m' }).default(5 * 60_000),

  BACKUP_KEEP_DAILY: integer(1, 100_000).default(7),
  BACKUP_KEEP_WEEKLY: integer(1, 100_000).default(4),
  BACKUP_KEEP_MONTHLY: integer(1, 100_000).default(12),
  BACKUP_KEEP_YEARLY: integer(1, 100_000).default(5),
  BACKUP_KEEP_MANUAL: integer(1, 100_000).default(10),
  BACKUP_KEEP_PRE_RESTORE: integer(1, 100_000).default(3),
  BACKUP_MAX_AGE_DAILY: parsed(parseAge).optional(),
  BACKUP_MAX_AGE_WEEKLY: parsed(parseAge).optional(),
  BACKUP_MAX_AGE_MONTHLY: parsed(parseAge).optional(),
  BACKUP_MAX_AGE_YEARLY: parsed(parseAge).optional(),
  BACKUP_MAX_AGE_MANUAL: parsed(parseAge).optional(),
  BACKUP_MAX_AGE_PRE_RESTORE: parsed(parseAge).optional(),
  BACKUP_KEEP_BASE: integer(1, 100_000).default(2),
  BACKUP_MAX_AGE_BASE: parsed(parseAge).optional(),
  RESTORE_TEST_KEEP: parsed(parseAge).default(3 * 30 * 86_400_000),
  CLEANUP_INCOMPLETE_AFTER: parsed(parseDuration).default(24 * 3_600_000),

  SMTP_HOST: z.string().optional(),
  SMTP_PORT: integer(1, 65535).optional(),
  SMTP_SECURE: oneOf(['starttls', 'tls', 'none'] as const).default('starttls'),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  MAIL_FROM: z.string().optional(),
  MAIL_TO: parsed((text) => {
    const addresses = text.split(',').map((address) => address.trim()).filter(Boolean);
    const bad = addresses.filter((address) => !/^[^\s@]+@[^\s@]+$/.test(address));
    if (!addresses.length || bad.length) throw new Error(`expected a comma list of e-mail addresses${bad.length ? ` (not addresses: ${bad.join(', ')})` : ''}`);
    return addresses;
  }).optional(),
  MAIL_SUBJECT_PREFIX: z.string().default('[keepsake]'),
  NOTIFY_ON: parsed(parseEventList).optional(),
  NOTIFY_ON_SUCCESS: boolean.default(true),
  OUTBOX_MAX_AGE: parsed(parseAge).default(30 * 86_400_000),
  OUTBOX_MAX_REPORTS: integer(1, 100_000).default(200),
  OUTBOX_DIGEST_AFTER: integer(2, 100_000).default(5),

  HEALTH_MAX_AGE_DAILY: parsed(parseDuration).default(26 * 3_600_000),
  HEALTH_MAX_AGE_WEEKLY: parsed(parseDuration).default(8 * 86_400_000),
  HEALTH_MAX_AGE_MONTHLY: parsed(parseDuration).default(32 * 86_400_000),
  // A leap year's 366 days between two Jan 1st runs, plus 4 days for a run delayed by a long queue,
  // a restart or a retry (the other tiers allow about a day, 1/30 of a month; a year gets a little more).
  HEALTH_MAX_AGE_YEARLY: parsed(parseDuration).default(370 * 86_400_000),
  HEALTH_MAX_AGE_RESTORE_TEST: parsed(parseDuration).default(35 * 86_400_000),
  HEALTH_MAX_AGE_OFFSITE: parsed(parseDuration).default(8 * 86_400_000),
  HEALTH_MAX_AGE_BASE: parsed(parseDuration).default(8 * 86_400_000),
  HEALTH_MAX_WAL_LAG: parsed(parseDuration).default(5 * 60_000),
  HEALTH_MAX_SLOT_RETAINED: parsed(parseSize).default(1024 ** 3),
  HEALTH_MIN_SIZE_RATIO: parsed((text) => {
    const value = Number(text.trim());
    if (!/^\d*\.?\d+$/.test(text.trim()) || value > 1) throw new Error('expected a ratio from 0 to 1, like 0.5 (0 turns the check off)');
    return value;
  }).default(0.5),
  HEALTH_MIN_BACKUP_SIZE: parsed(parseSize).optional(),
  HEALTH_MIN_FREE_DISK: parsed(parseFreeSpace).default({ percent: 10 }),
  HEALTH_MAX_LOG_SIZE: parsed(parseSize).default(1024 ** 3),
  HEALTH_ALERT_REPEAT: parsed(parseDuration).default(24 * 3_600_000),
  HEALTHCHECK_PING_URL: url(['http:', 'https:']).optional(),
  HEALTHCHECK_PORT: parsed((text) => {
    if (text.trim().toLowerCase() === 'off') return undefined;
    const value = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || value < 1 || value > 65535) throw new Error('expected a TCP port from 1 to 65535, or off');
    return value;
  }).optional(),
  HEALTHCHECK_HOST: z.string().default('127.0.0.1'),

  PITR: boolean.default(false),
  PITR_SLOT: parsed((text) => {
    const value = text.trim();
    // PostgreSQL's own rule for slot names: lower-case letters, digits and underscores, at most 63.
    if (!/^[a-z0-9_]{1,63}$/.test(value)) throw new Error('expected a replication slot name: lower-case letters, digits and underscores, at most 63, like keepsake');
    return value;
  }).default('keepsake'),
  WAL_SPOOL_DIR: z.string().optional(),
  WAL_SHIP_INTERVAL: timerDuration({ zero: 'refused', example: '60s' }).default(60_000),

  STATE_DIR: z.string().default('/var/lib/keepsake'),
  LOG_DIR: z.string().optional(),
  LOG_LEVEL: oneOf(LOG_LEVELS).default('info'),
});

export type ParsedEnv = z.infer<typeof envSchema>;
