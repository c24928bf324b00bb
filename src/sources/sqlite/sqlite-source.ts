import { rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Manifest } from '../../backup/manifest';
import { VerifyError } from '../../errors';
import type { Inventory } from '../../postgres/snapshot';
import { spawnChild } from '../../process/run-process';
import type { OpenedScratch, ScratchTarget, Source, SourceSnapshot } from '../source';
import { sqliteFile, type RestoreFileOptions, type RestoreFileResult, type SqliteFileOptions, type SqliteInventory } from './index';
import { hasSqliteHeader, sqliteVersion } from './sqlite-tool';
import { verifyRestoredFile } from './verify';

export interface SqliteSourceSettings extends SqliteFileOptions {
  /** Where the snapshot copy is made before it streams (RESTORE_WORK_DIR): room for one copy of the file. */
  workDir: string;
}

/** A SQLite file as a backup source, plus what only a file has: its path and the write-back. */
export interface SqliteSource extends Source {
  readonly kind: 'sqlite';
  readonly path: string;
  restoreFile(stream: Readable, options: RestoreFileOptions): Promise<RestoreFileResult>;
}

/** The manifest's inventory of a SQLite file: its tables in schema `main`, and its integrity_check. */
export function manifestInventory(inventory: SqliteInventory): Inventory & { integrity: SqliteInventory['integrity'] } {
  return {
    schemas: ['main'],
    extensions: [],
    tables: inventory.tables.map((table) => ({ schema: 'main', name: table.name, kind: 'table', rows: table.rows })),
    sequences: [],
    integrity: inventory.integrity,
  };
}

/** Back from the manifest: what the restored copy must match. */
export function sqliteInventoryOf(manifest: Pick<Manifest, 'inventory'>): SqliteInventory {
  return { integrity: manifest.inventory.integrity ?? 'ok', tables: manifest.inventory.tables.map((table) => ({ name: table.name, rows: table.rows })) };
}

const scratchFile = (target: ScratchTarget): string => {
  if (!target.file) throw new Error('A SQLite backup is restored into a file, and this scratch target has none');
  return target.file;
};

/**
 * One SQLite file behind the Source interface: the snapshot is the module's online copy (sqlite3
 * .backup) under workDir, its bytes stream through the pipeline like a dump, and its inventory
 * (integrity_check, row counts) is read from the copy itself. A restore test puts the backup in a
 * scratch file in its own work folder: no PostgreSQL needed.
 */
export function sqliteSource(path: string, settings: SqliteSourceSettings): SqliteSource {
  const file = sqliteFile(path, settings);
  return {
    kind: 'sqlite',
    name: file.name,
    format: '.sqlite',
    path: file.path,
    describe: () => file.describe(),
    preflight: () => file.preflight(),
    async snapshot(): Promise<SourceSnapshot> {
      const version = await sqliteVersion(settings);
      const taken = await file.snapshot(settings.workDir);
      return {
        facts: { database: file.path, host: hostname(), sqlite: { version }, archiveFormat: 'sqlite' },
        readInventory: async () => manifestInventory(taken.inventory),
        // The pipeline takes every source's bytes from a child's stdout; cat hands it the snapshot file.
        dump: (stdout) => spawnChild('cat', ['--', taken.file], { stdout, stderrTailBytes: 4096 }),
        release: () => taken.release(),
      };
    },
    openScratch: async (workDir: string): Promise<OpenedScratch> => ({ target: { file: join(workDir, `${file.name}.restored.sqlite`) }, describe: 'a scratch copy of the file', dispose: async () => undefined }),
    async restoreScratch(fetched, target) {
      const started = Date.now();
      // The decompressed backup is the database itself: it only has to be put where the check reads it.
      const restored = scratchFile(target);
      await rename(fetched, restored);
      if (!(await hasSqliteHeader(restored))) throw new VerifyError(`The restored bytes of ${file.path} are not a SQLite 3 database`);
      return Date.now() - started;
    },
    // The scratch copy is keepsake's own: read-only, it is checked exactly as restored.
    verifyRestored: (target, manifest) => verifyRestoredFile(scratchFile(target), sqliteInventoryOf(manifest), { ...settings, readOnly: true }),
    restoreFile: (stream, options) => file.restoreFile(stream, options),
  };
}
