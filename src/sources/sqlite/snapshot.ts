import { constants } from 'node:fs';
import { access, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError, NotFoundError, UnavailableError } from '../../errors';
import { readInventory, type SqliteInventory } from './inventory';
import { canWriteBeside, hasSqliteHeader, runSqliteOrFail, type SqliteToolOptions } from './sqlite-tool';

/** Can keepsake back this file up: it exists, is a regular file it can read, and is a SQLite 3 database. */
export async function preflightFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`SQLite database ${path} does not exist: check SQLITE_PATHS and that its volume is mounted in keepsake's container`);
    throw new UnavailableError(`SQLite database ${path} cannot be read (${code}): make it and its folder readable by uid ${process.getuid?.() ?? '?'}, the user keepsake runs as`, { cause: error });
  }
  if (!info.isFile()) throw new KeepsakeError(`SQLite database ${path} is not a file: SQLITE_PATHS names database files, not folders`, 'dataError');
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw new UnavailableError(`SQLite database ${path} cannot be read: make it (and its -wal and -shm files) readable by uid ${process.getuid?.() ?? '?'}, the user keepsake runs as`, { cause: error });
  }
  if (!(await hasSqliteHeader(path))) {
    throw new KeepsakeError(`${path} is not a SQLite 3 database (it does not start with "SQLite format 3"): check SQLITE_PATHS`, 'dataError');
  }
}

export interface SqliteSnapshot {
  /** The consistent copy: what is compressed and stored, and what the inventory describes. */
  readonly file: string;
  readonly inventory: SqliteInventory;
  readonly bytes: number;
  /** Removes the copy's private folder. */
  release(): Promise<void>;
}

/**
 * Takes a consistent online copy of a live database with sqlite3's `.backup` (the online backup
 * API), never a file copy, into a private folder under workDir. A read transaction is held around
 * it, so every page comes from one snapshot: the backup API restarts whenever another process
 * writes between its steps, and against a busy application it might never finish otherwise. In WAL
 * mode the application keeps writing meanwhile; in rollback mode its commits wait (up to its own
 * busy timeout) while pages are copied. integrity_check and the row counts are then read from the
 * copy itself, so they describe exactly the bytes that are stored.
 */
export async function takeSnapshot(path: string, workDir: string, options: SqliteToolOptions = {}): Promise<SqliteSnapshot> {
  await preflightFile(path);
  const dir = await mkdtemp(join(workDir, 'sqlite-snapshot-'));
  const release = () => rm(dir, { recursive: true, force: true });
  try {
    const readOnly = options.readOnly ?? !(await canWriteBeside(path));
    await runSqliteOrFail(`Copying ${path} (sqlite3 .backup)`, path, ['BEGIN', 'SELECT count(*) FROM sqlite_schema', '.backup main snapshot.sqlite', 'COMMIT'], { ...options, readOnly, cwd: dir });
    const file = join(dir, 'snapshot.sqlite');
    // The copy is ours alone: read-only, so nothing (not even a checkpoint) changes its bytes.
    const inventory = await readInventory(file, { ...options, readOnly: true });
    return { file, inventory, bytes: (await stat(file)).size, release };
  } catch (error) {
    await release();
    throw error;
  }
}
