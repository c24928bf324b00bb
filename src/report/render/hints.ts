/**
 * Failure explanations. keepsake's errors read "<what failed>: <stderr tail>"; the report shows
 * the first part as the cause and the rest verbatim, then says what to check for the messages
 * operators meet most. The hints name the settings to look at, not generic advice.
 */

export interface SplitError {
  /** One sentence: what failed, with the first line the failing process said about why. */
  cause: string;
  /** What the failing process said, if anything. */
  detail?: string;
}

/** Enough stderr to diagnose, bounded so a chatty child cannot bloat the mail past 100 KB. */
const MAX_DETAIL = 6000;

export function splitError(error: string): SplitError {
  const text = error.trim() || 'unknown error';
  const firstLineEnd = text.indexOf('\n');
  const colon = text.indexOf(': ');
  const at = colon >= 0 && (firstLineEnd < 0 || colon < firstLineEnd) ? colon : firstLineEnd;
  if (at < 0) return { cause: text };
  const detail = text.slice(at + (at === colon ? 2 : 1)).trim();
  // "pg_dump exited with code 1" says who, the stderr's first line says why: the sentence needs both.
  const why = detail.split('\n')[0]!.replace(/^[\w.-]+: (error|fatal|FATAL|ERROR): /, '').trim();
  return {
    cause: why ? `${text.slice(0, at).trim()}: ${why}` : text.slice(0, at).trim(),
    detail: detail.length > MAX_DETAIL ? `…${detail.slice(-MAX_DETAIL)}` : detail || undefined,
  };
}

export interface Hint {
  /** A few words for the subject line: "connection refused". */
  label: string;
  checks: string[];
}

const HINTS: { pattern: RegExp; hint: Hint }[] = [
  {
    // Before "does not exist" and friends: a version mismatch message mentions other words too.
    pattern: /server version mismatch|pg_dump[^\n]*version|cannot dump server|unsupported version/i,
    hint: {
      label: 'pg_dump version mismatch',
      checks: [
        'pg_dump must be of the server\'s major version or newer: install postgresql-client-<server major> in the image',
        'or point PG_BIN_DIR at the directory holding a matching pg_dump',
      ],
    },
  },
  {
    pattern: /password authentication failed|28P01|no password supplied|authentication failed/i,
    hint: {
      label: 'password authentication failed',
      checks: [
        'check POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) and POSTGRES_USER',
        'check pg_hba.conf allows this user from the backup container\'s address',
      ],
    },
  },
  {
    pattern: /connection refused|ECONNREFUSED|could not connect|no route to host|EHOSTUNREACH/i,
    hint: {
      label: 'connection refused',
      checks: [
        'is PostgreSQL running and listening on POSTGRES_HOST:POSTGRES_PORT? Try `pg_isready -h <host> -p <port>` from the backup container',
        'with Docker Compose: POSTGRES_HOST is the database service\'s name and both services share a network',
        'listen_addresses in postgresql.conf includes an address the container can reach',
      ],
    },
  },
  {
    pattern: /no space left|ENOSPC|disk full|quota exceeded/i,
    hint: {
      label: 'no space left on device',
      checks: [
        'free space where keepsake writes: BACKUP_DIR, STATE_DIR and the temporary directory (`df -h`)',
        '`keepsake cleanup --dry-run` shows what retention would delete; lower the KEEP_* counts if backups outgrew the disk',
      ],
    },
  },
  {
    pattern: /permission denied|EACCES|EPERM|AccessDenied|must be owner/i,
    hint: {
      label: 'permission denied',
      checks: [
        'for files: BACKUP_DIR and STATE_DIR must be writable by the user keepsake runs as (check the volume\'s owner)',
        'for the database: the user needs SELECT on every table; on PostgreSQL 14+ grant pg_read_all_data',
        'for S3: the credentials need s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject on the bucket',
      ],
    },
  },
  {
    pattern: /does not exist|NoSuchBucket|ENOENT|not found/i,
    hint: {
      label: 'does not exist',
      checks: [
        'check the spelling of POSTGRES_DB and POSTGRES_USER (names are case-sensitive when quoted)',
        'for S3: S3_BUCKET exists in S3_REGION; for local storage: BACKUP_DIR is mounted',
      ],
    },
  },
  {
    pattern: /timed out|timeout|ETIMEDOUT/i,
    hint: {
      label: 'timed out',
      checks: ['a firewall or security group may drop the connection: check the route from the container to the database and storage'],
    },
  },
];

const GENERAL_CHECKS = [
  'run `keepsake backup` by hand to watch it fail with the full output',
  '`keepsake config` prints the configuration keepsake sees, with secrets redacted',
];

/** The hint for the first known message in the error, if any. */
export function hintFor(error: string): Hint | undefined {
  return HINTS.find(({ pattern }) => pattern.test(error))?.hint;
}

/** The specific checks first, then the ones that always help. */
export function checksFor(error: string, general = GENERAL_CHECKS): string[] {
  return [...(hintFor(error)?.checks ?? []), ...general];
}
