import type { Env } from './env-source';
import { SSL_MODES } from './schema';
import { sqliteStem } from './sqlite-paths';
import { GLOBALS_SOURCE } from './sources';

/**
 * Problems that involve several variables, checked on the raw values so they are reported
 * together with any format problems: the user fixes everything in one go.
 */
export function crossVariableProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.S3_ACCESS_KEY_ID && !env.S3_SECRET_ACCESS_KEY) problems.push('S3_ACCESS_KEY_ID is set but S3_SECRET_ACCESS_KEY is not: set both, or neither to use the AWS credential chain');
  if (!env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY) problems.push('S3_SECRET_ACCESS_KEY is set but S3_ACCESS_KEY_ID is not: set both, or neither to use the AWS credential chain');
  if (env.BACKUP_COMPRESSION?.trim().toLowerCase() === 'gzip' && Number(env.BACKUP_COMPRESSION_LEVEL) > 9) {
    problems.push(`BACKUP_COMPRESSION_LEVEL=${JSON.stringify(env.BACKUP_COMPRESSION_LEVEL)}: gzip levels go from 1 to 9`);
  }
  if (env.RESTORE_TEST_MODE?.trim().toLowerCase() === 'server' && !env.RESTORE_TEST_DATABASE_URL) {
    problems.push('RESTORE_TEST_MODE="server" needs RESTORE_TEST_DATABASE_URL (a server where keepsake may create and drop a scratch database)');
  }
  if (env.SMTP_HOST && !env.MAIL_TO) problems.push('SMTP_HOST is set but MAIL_TO is not: say who receives the reports');
  if (env.SMTP_USER && !env.SMTP_PASSWORD) problems.push('SMTP_USER is set but SMTP_PASSWORD is not: set both (or SMTP_PASSWORD_FILE), or neither');
  problems.push(...sqliteNameProblems(env), ...globalsNameProblems(env));
  const sslMode = env.DATABASE_URL ? safeUrl(env.DATABASE_URL)?.searchParams.get('sslmode') : undefined;
  if (sslMode && !SSL_MODES.includes(sslMode as (typeof SSL_MODES)[number])) problems.push(`DATABASE_URL: sslmode=${sslMode} is not one of ${SSL_MODES.join(', ')}`);
  return problems;
}

/** A SQLite file's stem names its backups: it may not be a database's name, nor the globals'. */
function sqliteNameProblems(env: Env): string[] {
  const stems = (env.SQLITE_PATHS ?? '').split(',').map((path) => path.trim()).filter(Boolean).map(sqliteStem);
  const databases = new Set((env.POSTGRES_DB ?? env.POSTGRES_DATABASE ?? '').split(',').map((name) => name.trim()).filter(Boolean));
  return [...new Set(stems)]
    .filter((stem) => stem === GLOBALS_SOURCE || databases.has(stem))
    .map((stem) => `SQLITE_PATHS: a file named "${stem}" would share its backups' name with ${stem === GLOBALS_SOURCE ? 'the globals' : `database ${stem} (POSTGRES_DB)`}: rename the file (or link it under another name)`);
}

/** A database named `globals` would share its backups' names with the cluster's globals (BACKUP_GLOBALS, on unless set false). */
function globalsNameProblems(env: Env): string[] {
  const globalsOn = !/^(false|0|no|off)$/i.test(env.BACKUP_GLOBALS?.trim() ?? '');
  const databases = (env.POSTGRES_DB ?? env.POSTGRES_DATABASE ?? '').split(',').map((name) => name.trim());
  if (!globalsOn || !databases.includes(GLOBALS_SOURCE)) return [];
  return [`POSTGRES_DB names a database "${GLOBALS_SOURCE}", whose backups would share their names with the cluster's globals: set BACKUP_GLOBALS=false to back it up (the globals are then not stored)`];
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

