import { createReadStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join, parse, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { VerifyError } from '../../errors';
import type { RestoreCheck } from '../../restore/check-restored';
import type { SqliteInventory } from './inventory';
import { restoreFile, type RestoreFileOptions, type RestoreFileResult } from './restore-file';
import { preflightFile, takeSnapshot, type SqliteSnapshot } from './snapshot';
import { streamToNewFile } from './file-ops';
import { hasSqliteHeader, type SqliteToolOptions } from './sqlite-tool';
import { verifyRestoredFile } from './verify';

export type { SqliteInventory, SqliteTableCount } from './inventory';
export type { SqliteSnapshot } from './snapshot';
export type { RestoreFileOptions, RestoreFileResult } from './restore-file';

export type SqliteFileOptions = Pick<SqliteToolOptions, 'binary' | 'busyTimeoutMs'>;

/**
 * One SQLite database file, the operations on the file itself: preflight, a consistent snapshot
 * with its inventory, the snapshot's bytes, a restore into a scratch file, the restored copy
 * checked against the inventory; and `restoreFile`, the write-back over the live path.
 * sqlite-source.ts puts it behind the Source interface the backup pipeline uses.
 */
export interface SqliteFile {
  readonly kind: 'sqlite';
  /** The file's stem: `app` for /data/app.db. Keys, ids, list and --db use it. */
  readonly name: string;
  readonly path: string;
  describe(): string;
  preflight(): Promise<void>;
  snapshot(workDir: string): Promise<SqliteSnapshot>;
  /** The bytes that go into compress -> (encrypt) -> sha256 -> targets: the snapshot file. */
  dump(snapshot: SqliteSnapshot): Readable;
  /** Writes a backup's (decompressed) bytes to a new file under workDir; returns its path. */
  restoreScratch(stream: Readable, workDir: string): Promise<string>;
  verifyRestored(file: string, inventory: SqliteInventory): Promise<RestoreCheck>;
  restoreFile(stream: Readable, options: RestoreFileOptions): Promise<RestoreFileResult>;
}

export function sqliteFile(path: string, options: SqliteFileOptions = {}): SqliteFile {
  const absolute = resolve(path);
  const name = parse(absolute).name;
  return {
    kind: 'sqlite',
    name,
    path: absolute,
    describe: () => absolute,
    preflight: () => preflightFile(absolute),
    snapshot: (workDir) => takeSnapshot(absolute, workDir, options),
    dump: (snapshot) => createReadStream(snapshot.file),
    async restoreScratch(stream, workDir) {
      const folder = await mkdtemp(join(workDir, 'sqlite-restore-'));
      const file = join(folder, `${name}.sqlite`);
      await streamToNewFile(stream, file);
      if (!(await hasSqliteHeader(file))) throw new VerifyError(`The restored bytes of ${absolute} are not a SQLite 3 database`);
      return file;
    },
    // The scratch copy is keepsake's own: read-only, it is checked exactly as restored.
    verifyRestored: (file, inventory) => verifyRestoredFile(file, inventory, { ...options, readOnly: true }),
    restoreFile: (stream, restoreOptions) => restoreFile(absolute, stream, { ...options, ...restoreOptions }),
  };
}
