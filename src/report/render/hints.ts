/**
 * Failure explanations. An error reaches a report as one message: keepsake's own ("Cannot connect
 * to PostgreSQL: database "x" does not exist on db:5432; check POSTGRES_DB"), or a failed child's,
 * which src/process/run-process.ts words "<command> exited with code N: <its stderr tail>" (or
 * "was killed by SIGNAL"). The report names what failed in one sentence, shows a child's stderr
 * verbatim (and keepsake's own words never as if they were), and says what to check for that
 * failure only: each hint matches one kind of failure, never a word many failures share.
 */

export interface FailureText {
  /** What failed, in one sentence: 'Cannot connect to PostgreSQL: database "x" does not exist on db:5432'. */
  what: string;
  /** keepsake's own advice, the part of its message after "; " ("check POSTGRES_DB"). */
  advice?: string;
  /** The child that failed and how: "pg_dump exited with code 1". */
  process?: string;
  /** The child's name, for the stderr block's title. */
  command?: string;
  /** The child's stderr tail, verbatim (its end, when very long). */
  stderr?: string;
}

/** Enough stderr to diagnose, bounded so a chatty child cannot bloat the mail past 100 KB. */
const MAX_STDERR = 6000;

const PROCESS_FAILED = /^(?:([^\n]*?): )?(([\w.+-]+) (?:exited with code -?\d+|was killed by SIG[A-Z0-9]+))(?:: ([\s\S]*))?$/;

/** The line of a child's stderr that says why: its first error, else its first line; "pg_dump: error: " dropped. */
function whyLine(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  const error = lines.find((line) => /\b(error|fatal|FATAL|ERROR|PANIC):/.test(line)) ?? lines[0] ?? '';
  return error.replace(/^[\w.-]+: (error|fatal|FATAL|ERROR): /, '').trim();
}

export function describeFailure(error: string): FailureText {
  const text = error.trim() || 'unknown error';
  const child = PROCESS_FAILED.exec(text);
  if (child) {
    const [, context, process, command, tail] = child;
    const stderr = tail?.trim() ? (tail.length > MAX_STDERR ? `…${tail.slice(-MAX_STDERR)}` : tail.replace(/\s+$/, '')) : undefined;
    const why = stderr ? whyLine(stderr) : '';
    const what = why ? `${command}: ${why}` : process!;
    return { what: context ? `${context}: ${what}` : what, process, command, stderr };
  }
  const [first, ...more] = text.split('\n');
  const advice = first!.indexOf('; ');
  const rest = more.join('\n').trim();
  return {
    what: advice > 0 ? first!.slice(0, advice).trim() : first!.trim(),
    advice: [advice > 0 ? first!.slice(advice + 2).trim() : '', rest].filter(Boolean).join('\n') || undefined,
  };
}

const HINTS: { pattern: RegExp; checks: string[] }[] = [
  {
    // Base backups and WAL streaming (PITR) use a replication connection: its own pg_hba line, role attribute and senders.
    pattern: /pg_hba\.conf entry for replication connection|must be superuser or replication role|permission denied to start WAL sender|exceeds max_wal_senders/i,
    checks: [
      'the server needs a replication line for this role in pg_hba.conf, e.g. `host replication <user> <sidecar network> scram-sha-256`, then `SELECT pg_reload_conf()` (a line for `all` databases does not cover replication)',
      'the role needs REPLICATION (`ALTER ROLE <user> REPLICATION;`) and the server `max_wal_senders` > 0 (README "Point-in-time recovery")',
    ],
  },
  {
    pattern: /server version mismatch|aborting because of server version|unsupported (server )?version/i,
    checks: [
      "pg_dump must be of the server's major version or newer: install postgresql-client-<server major> in the image",
      'or point `PG_BIN_DIR` at the directory holding a matching pg_dump',
    ],
  },
  {
    pattern: /password authentication failed|no password supplied|\b28P01\b/i,
    checks: ['check `POSTGRES_PASSWORD` (or `POSTGRES_PASSWORD_FILE`) and `POSTGRES_USER`', "check pg_hba.conf allows this user from the backup container's address"],
  },
  {
    pattern: /role "[^"]*" does not exist/,
    checks: ['check the spelling of `POSTGRES_USER` (names are case-sensitive when quoted); `\\du` in psql lists the roles'],
  },
  {
    pattern: /database "[^"]*" does not exist|\b3D000\b/,
    checks: ['check the spelling of `POSTGRES_DB` (names are case-sensitive when quoted); `psql -l` lists the databases on the server'],
  },
  {
    pattern: /relation "[^"]*" does not exist/,
    checks: ['PostgreSQL could not find a table while reading the database: the context in brackets names the function or view that reads it'],
  },
  {
    pattern: /connection refused|ECONNREFUSED|could not connect|no route to host|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|could not translate host name/i,
    checks: [
      'is PostgreSQL running and listening on `POSTGRES_HOST`:`POSTGRES_PORT`? From the backup container: `pg_isready -h <host> -p <port>`',
      "with Docker Compose: `POSTGRES_HOST` is the database service's name and both services share a network",
      'listen_addresses in postgresql.conf includes an address the container can reach',
    ],
  },
  {
    pattern: /no space left|ENOSPC|disk full|quota exceeded/i,
    checks: [
      'free space where keepsake writes: `BACKUP_DIR`, `STATE_DIR` and the temporary directory (`df -h`)',
      '`keepsake cleanup --dry-run` shows what retention would delete; lower the `BACKUP_KEEP_*` counts if backups outgrew the disk',
    ],
  },
  {
    pattern: /permission denied for|must be owner of|\b42501\b/i,
    checks: ['the backup role needs SELECT on every table: on PostgreSQL 14+ grant pg_read_all_data (README, "Minimal grants for the backup role")'],
  },
  {
    pattern: /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|\b403\b/,
    checks: ['the S3 credentials need s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject on the bucket; check `S3_ACCESS_KEY_ID` and `S3_SECRET_ACCESS_KEY`'],
  },
  {
    pattern: /NoSuchBucket|bucket does not exist/i,
    checks: ['`S3_BUCKET` must exist in `S3_REGION` (and at `S3_ENDPOINT`, if set)'],
  },
  {
    pattern: /permission denied|EACCES|EPERM/i,
    checks: ["`BACKUP_DIR` and `STATE_DIR` must be writable by the user keepsake runs as: check the volume's owner"],
  },
  {
    pattern: /ENOENT|no such file or directory/i,
    checks: ['the directory must exist: is `BACKUP_DIR` (or `STATE_DIR`) mounted?'],
  },
  {
    pattern: /timed out|timeout|ETIMEDOUT/i,
    checks: ['a firewall or security group may drop the connection: check the route from the container to the database and storage'],
  },
];

const GENERAL_CHECKS = ['run `keepsake backup` by hand to watch it fail with the full output', '`keepsake config` prints the configuration keepsake sees, with secrets redacted'];

/**
 * What to check: keepsake's own advice from the message first, then the hint for this kind of
 * failure (the first that matches; one only, so a missing database never brings an S3 hint),
 * then the ones that always help.
 */
export function checksFor(error: string, general = GENERAL_CHECKS): string[] {
  const { advice } = describeFailure(error);
  const hint = HINTS.find(({ pattern }) => pattern.test(error));
  return [...(advice ? [advice] : []), ...(hint?.checks ?? []), ...general];
}
