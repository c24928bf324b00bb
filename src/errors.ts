/**
 * The few error classes keepsake raises on purpose, and the one place that maps them to exit codes.
 * Codes follow sysexits(3) where one fits, so scripts and health checks can tell causes apart.
 */
export const EXIT_CODES = {
  ok: 0,
  failed: 1, // the operation ran and failed (backup, upload, child process)
  usage: 64, // bad command line
  dataError: 65, // verification found a mismatch: size, checksum, or an unreadable archive
  notFound: 66, // no backup matches the given id
  unavailable: 69, // the database or a required tool is unreachable or missing
  ioError: 74, // storage could not be written or read
  busy: 75, // another keepsake job holds the lock and --no-wait was given
  config: 78, // invalid configuration: nothing ran
  interrupted: 130, // stopped by SIGINT or SIGTERM; partial work was removed
} as const;

export type ExitCodeName = keyof typeof EXIT_CODES;

export class KeepsakeError extends Error {
  readonly exitCode: number;
  constructor(message: string, kind: ExitCodeName = 'failed', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = EXIT_CODES[kind];
  }
}

/**
 * The fix for EACCES on a folder keepsake writes to. It names the uid: in a container keepsake runs
 * as uid 10001, which the host that owns a bind-mounted folder usually has no name for.
 */
export function makeWritableHint(folder: string): string {
  const uid = process.getuid?.();
  if (uid === undefined) return `make ${folder} writable by the user keepsake runs as`;
  return `make ${folder} writable by uid ${uid}, the user keepsake runs as (a bind-mounted folder: chown -R ${uid}:${process.getgid?.() ?? uid} it on the host)`;
}

export class ConfigError extends KeepsakeError {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`, 'config');
  }
}

export class UsageError extends KeepsakeError {
  constructor(message: string) {
    super(message, 'usage');
  }
}

export class NotFoundError extends KeepsakeError {
  constructor(message: string) {
    super(message, 'notFound');
  }
}

export class UnavailableError extends KeepsakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'unavailable', options);
  }
}

export class StorageError extends KeepsakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ioError', options);
  }
}

export class VerifyError extends KeepsakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'dataError', options);
  }
}

export class InterruptedError extends KeepsakeError {
  constructor(message: string) {
    super(message, 'interrupted');
  }
}

/** Every catch turns the unknown into an Error, so messages and causes are never lost. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

export function exitCodeFor(error: unknown): number {
  return error instanceof KeepsakeError ? error.exitCode : EXIT_CODES.failed;
}

/** The exit code's name for any error, so a wrapping error can keep its cause's code. */
export function exitKindOf(error: unknown): ExitCodeName {
  const code = exitCodeFor(error);
  return (Object.keys(EXIT_CODES) as ExitCodeName[]).find((name) => EXIT_CODES[name] === code) ?? 'failed';
}

/** The first KeepsakeError in an error's cause chain decides the exit code and headline. */
export function rootKeepsakeError(error: unknown): KeepsakeError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 10; depth++) {
    if (current instanceof KeepsakeError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export const EXIT_CODES_HELP = `Exit codes:
  0   success
  1   the operation failed (dump, compression, upload, child process)
  64  bad command line
  65  verification failed: size, checksum, archive or row-count mismatch
  66  no backup matches the given id
  69  database or a required tool (pg_dump, zstd) unavailable
  74  storage could not be written or read
  75  another keepsake job is running (with --no-wait)
  78  invalid configuration (nothing ran)
  130 interrupted by SIGINT or SIGTERM (partial work removed)
  keepsake health: 0 healthy, 1 unhealthy, 2 warnings only (--quick: 0 or 1, as Docker expects)`;
