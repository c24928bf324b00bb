import { chmod, chown, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { KeepsakeError, UsageError, VerifyError } from '../../errors';
import { integrityCheck } from './inventory';
import { backupFileTo, COMPANION_SUFFIXES, observeWriter, streamToNewFile, syncFolder, tempBeside } from './file-ops';
import { hasSqliteHeader, type SqliteToolOptions } from './sqlite-tool';

export interface RestoreFileOptions extends SqliteToolOptions {
  /** The operator said yes (--yes, or answered the prompt). Without it nothing is touched. */
  confirm: boolean;
  /** Go ahead although an application is writing to the file (it will see its database replaced). */
  force?: boolean;
  /** Where the current file's safety copy goes; default beside it, `<name>.before-restore-<UTC time>`. */
  safetyCopy?: string;
  /** How long to watch for a writer before replacing the file; default 2 s. */
  observeMs?: number;
  now?: Date;
}

export interface RestoreFileResult {
  path: string;
  /** The current file's copy, taken before it was replaced; absent when there was no file. */
  safetyCopy?: string;
  bytes: number;
  warnings: string[];
}

const stamp = (date: Date) => date.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);

/**
 * Puts a backup's database back at `path`: the bytes are written to a temp file in the same folder,
 * fsynced and checked (SQLite header, integrity_check), the current file is first copied aside with
 * `.backup` (its -wal content included), then the temp file is renamed over it and the folder
 * fsynced, so the path holds the old database or the new one, never a mix. The old -wal, -shm and
 * -journal are removed before the rename: left beside the new file, SQLite would replay the old
 * database's pages into it. Refuses without confirmation, and while an application writes to the
 * file unless forced; an application that merely has it open must be stopped by the operator.
 */
export async function restoreFile(target: string, snapshot: Readable, options: RestoreFileOptions): Promise<RestoreFileResult> {
  const path = resolve(target);
  if (!options.confirm) {
    snapshot.destroy();
    throw new UsageError(`Refusing to replace ${path} without confirmation: stop the application using it, then run again and confirm (--yes)`);
  }
  const warnings: string[] = [];
  const existing = await stat(path).catch(() => undefined);
  if (existing && !existing.isFile()) throw new UsageError(`${path} is not a file; name the database file to restore`);

  const watched = await observeWriter(path, options.observeMs ?? 2000);
  if (watched.changing.length > 0) {
    const message = `${path} is being written to (${watched.changing.map((file) => basename(file)).join(', ')} changed within ${options.observeMs ?? 2000} ms): an application has it open`;
    if (!options.force) {
      snapshot.destroy();
      throw new KeepsakeError(`${message}. Stop it and run the restore again (or force it, and the application loses what it writes meanwhile)`, 'busy');
    }
    warnings.push(`${message}; replaced anyway (forced)`);
  } else if (watched.present.length > 0) {
    warnings.push(`${watched.present.map((file) => basename(file)).join(', ')} present beside ${basename(path)}: an application may still have it open; restart it after the restore`);
  }

  const temp = tempBeside(path, 'restore');
  try {
    const bytes = await streamToNewFile(snapshot, temp, existing ? existing.mode & 0o7777 : 0o644);
    if (!(await hasSqliteHeader(temp))) throw new VerifyError(`The backup's bytes are not a SQLite 3 database; ${path} was left as it was`);
    // Opened normally, not read-only: SQLite then removes the -wal/-shm it creates for the temp file.
    const integrity = await integrityCheck(temp, options);
    if (integrity !== 'ok') throw new VerifyError(`The backup's database fails integrity_check (${integrity.slice(0, 3).join('; ')}); ${path} was left as it was`);

    let safetyCopy: string | undefined;
    if (existing) {
      safetyCopy = resolve(options.safetyCopy ?? join(dirname(path), `${basename(path)}.before-restore-${stamp(options.now ?? new Date())}`));
      if (await hasSqliteHeader(path)) await backupFileTo(path, safetyCopy, options);
      else throw new VerifyError(`${path} is not a SQLite 3 database, so no safety copy of it can be made with sqlite3; move it away yourself, then restore again`);
    }

    for (const suffix of COMPANION_SUFFIXES) await unlink(`${path}${suffix}`).catch(() => undefined);
    if (existing) {
      // The application's user must still own and open its database.
      await chown(temp, existing.uid, existing.gid).catch(() => undefined);
      await chmod(temp, existing.mode & 0o7777);
    }
    await rename(temp, path);
    await syncFolder(dirname(path));
    return { path, safetyCopy, bytes, warnings };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
