import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { KeepsakeError, UnavailableError } from '../../errors';
import { spawnChild, type ProcessResult } from '../../process/run-process';

/** The first 16 bytes of every SQLite 3 database file. */
const HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export interface SqliteToolOptions {
  /** The sqlite3 program; Debian's package (scripts/install-system-deps.sh). */
  binary?: string;
  /** How long to wait for an application's lock before giving up (`.timeout`). */
  busyTimeoutMs?: number;
  /**
   * Open with -readonly. A read-only connection cannot remove the -wal/-shm files it creates next
   * to a WAL database, so files keepsake may write to are opened normally: SQLite then tidies up
   * after its last connection, as after any other client. keepsake itself never writes to them.
   */
  readOnly?: boolean;
  /** Where relative names in dot-commands (`.backup snapshot.sqlite`) land. */
  cwd?: string;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

export interface SqliteRun {
  stdout: string;
  result: ProcessResult;
}

/**
 * Runs the sqlite3 tool on one file with statements and dot-commands as separate arguments (never a
 * shell string): the path is absolute, so a name starting with '-' is not read as an option, and
 * spaces or quotes in it need no escaping. `.timeout` comes first so every statement waits for an
 * application's lock instead of failing with SQLITE_BUSY at once. Resolves whatever the exit code:
 * integrity checks want the output of a run that failed part way.
 */
export async function runSqlite(file: string, statements: readonly string[], options: SqliteToolOptions = {}): Promise<SqliteRun> {
  const binary = options.binary ?? 'sqlite3';
  const args = ['-batch', ...(options.readOnly ? ['-readonly'] : []), resolve(file), `.timeout ${options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`, ...statements];
  const handle = spawnChild(binary, args, { cwd: options.cwd, stderrTailBytes: 8192 });
  const chunks: Buffer[] = [];
  handle.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const result = await handle.finished;
  // A program that could not start "exits" with a negative errno (ENOENT: -2).
  if (result.exitCode !== null && result.exitCode < 0) {
    throw new UnavailableError(`${binary} cannot be run (${result.stderrTail.trim()}): install the sqlite3 tool (Debian's sqlite3 package; scripts/install-system-deps.sh does)`);
  }
  return { stdout: Buffer.concat(chunks).toString('utf8'), result };
}

/** Like runSqlite, but a non-zero exit is an error that says what was being done and quotes sqlite3. */
export async function runSqliteOrFail(what: string, file: string, statements: readonly string[], options: SqliteToolOptions = {}): Promise<string> {
  const { stdout, result } = await runSqlite(file, statements, options);
  if (result.exitCode !== 0) {
    const said = result.stderrTail.trim().replace(/\s+/g, ' ');
    const busy = /database is locked|SQLITE_BUSY/i.test(said) ? ' (an application held its lock longer than the busy timeout: try again, or raise the timeout)' : '';
    throw new KeepsakeError(`${what} failed: sqlite3 ${result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`}${said ? `: ${said}` : ''}${busy}`);
  }
  return stdout;
}

/** "name" with inner quotes doubled: any table name is safe in SQL. */
export const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** 'text' with inner quotes doubled. */
export const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** True when the file starts with SQLite 3's header; false for shorter or other files. */
export async function hasSqliteHeader(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(HEADER.length);
    const { bytesRead } = await handle.read(head, 0, HEADER.length, 0);
    return bytesRead === HEADER.length && head.equals(HEADER);
  } finally {
    await handle.close();
  }
}

/** Whether keepsake may write beside the file (and to it): decides how sqlite3 opens it. */
export async function canWriteBeside(file: string): Promise<boolean> {
  try {
    await access(file, constants.R_OK | constants.W_OK);
    await access(dirname(file), constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The sqlite3 tool's version ("3.46.1"), for the manifest: what made the copy. */
export async function sqliteVersion(options: SqliteToolOptions = {}): Promise<string> {
  const binary = options.binary ?? 'sqlite3';
  const handle = spawnChild(binary, ['-version'], { stderrTailBytes: 1024 });
  const chunks: Buffer[] = [];
  handle.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const result = await handle.finished;
  if (result.exitCode !== 0) throw new UnavailableError(`${binary} -version failed (${result.stderrTail.trim() || `exit ${result.exitCode}`}): install the sqlite3 tool (Debian's sqlite3 package)`);
  return Buffer.concat(chunks).toString('utf8').trim().split(/\s+/)[0] ?? 'unknown';
}
