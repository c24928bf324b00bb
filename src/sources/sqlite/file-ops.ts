import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { runSqliteOrFail, type SqliteToolOptions } from './sqlite-tool';

/** The files SQLite keeps beside a database while it is in use (WAL mode, rollback mode). */
export const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

export interface WriterObservation {
  /** Companion files that exist (app.db-wal, app.db-shm, app.db-journal). */
  present: string[];
  /** The files (companions or the database itself) whose size or modification time changed while watched. */
  changing: string[];
}

const fingerprint = async (file: string): Promise<string | null> => {
  try {
    const info = await stat(file, { bigint: true });
    return `${info.size}:${info.mtimeNs}`;
  } catch {
    return null;
  }
};

/**
 * Watches a database and its companion files for `ms`: an application that has the file open in
 * WAL mode keeps -wal/-shm beside it, and one that writes changes them (or, in rollback mode, the
 * database file and its -journal). What it cannot see is an application that holds the file open
 * without writing: hence a warning whenever companions are present.
 */
export async function observeWriter(path: string, ms: number): Promise<WriterObservation> {
  const files = [path, ...COMPANION_SUFFIXES.map((suffix) => `${path}${suffix}`)];
  const before = await Promise.all(files.map(fingerprint));
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await Promise.all(files.map(fingerprint));
  return {
    present: files.slice(1).filter((_, index) => after[index + 1] !== null || before[index + 1] !== null),
    changing: files.filter((_, index) => before[index] !== after[index]),
  };
}

/** fsyncs a folder, so a rename or unlink in it survives a crash. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a file's content. */
export async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a stream to a new file (never replacing one) and fsyncs it; a failed write leaves nothing. */
export async function streamToNewFile(stream: Readable, file: string, mode = 0o600): Promise<number> {
  try {
    await pipeline(stream, createWriteStream(file, { flags: 'wx', mode }));
    await syncFile(file);
    return (await stat(file)).size;
  } catch (error) {
    await unlink(file).catch(() => undefined);
    throw error;
  }
}

/** A name in the file's own folder for a temp file, so the final rename stays on one file system. */
export const tempBeside = (path: string, purpose: string): string =>
  join(dirname(path), `.${basename(path)}.keepsake-${purpose}-${randomBytes(4).toString('hex')}`);

/**
 * A consistent copy of a (possibly live) database at `dest`, made with `.backup` like a backup's
 * snapshot: through a private folder in dest's folder, since `.backup` takes a file name that
 * keepsake then need not quote, and renamed into place once complete and fsynced.
 */
export async function backupFileTo(path: string, dest: string, options: SqliteToolOptions = {}): Promise<void> {
  const folder = await mkdtemp(join(dirname(dest), `.keepsake-copy-`));
  try {
    await runSqliteOrFail(`Copying ${path} to ${dest} (sqlite3 .backup)`, path, ['BEGIN', 'SELECT count(*) FROM sqlite_schema', '.backup main copy.sqlite', 'COMMIT'], { ...options, cwd: folder });
    await syncFile(join(folder, 'copy.sqlite'));
    await rename(join(folder, 'copy.sqlite'), dest);
    await syncFolder(dirname(dest));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
