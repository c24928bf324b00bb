import type { Transform, Writable } from 'node:stream';
import type { Manifest } from '../backup/manifest';
import type { ObjectFormat } from '../backup/keys';
import type { BackupContents, ContentsRequest } from '../backup/contents';
import type { DatabaseConfig } from '../config';
import type { Inventory } from '../postgres/snapshot';
import type { ChildHandle } from '../process/run-process';
import type { RestoreCheck } from '../restore/check-restored';

/**
 * A backup is of a source: one PostgreSQL database, the cluster's globals (roles, tablespaces), or
 * one SQLite file. Each kind implements this interface in src/sources/<kind>/; the pipeline,
 * storage, catalog, retention, reports, health and metrics work per source by its `name` and
 * never switch on its `kind` (docs/architecture.md "Sources").
 */
export const SOURCE_KINDS = ['postgres', 'postgres-globals', 'sqlite', 'postgres-cluster'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** How a manifest names its source. */
export interface SourceRef {
  kind: SourceKind;
  name: string;
}

/** The manifest fields a source fills itself: where it came from and what wrote the bytes (server and pgDump: PostgreSQL's; sqlite: a file's). */
export type SourceFacts = Pick<Manifest, 'database' | 'host' | 'server' | 'pgDump' | 'sqlite' | 'archiveFormat'> & Partial<Pick<Manifest, 'rolePasswords'>>;

/** What a source learns only once its dump has finished (a base backup's WAL positions), for the manifest. */
export type FinalFacts = Partial<Pick<Manifest, 'physical'>>;

/** A check on the stored bytes as they pass (postgres: the archive's table of contents has every counted table's data). */
export interface StoredCheck {
  /** Bytes pass through unchanged; put it before encryption. */
  readonly tap: Transform;
  /**
   * Rejects when the stored bytes do not hold what the inventory counted; resolves with what they
   * leave out on purpose (schema-only, excluded table data), when the source can leave anything out.
   */
  verify(inventory: Inventory): Promise<BackupContents | void>;
  stop(): Promise<void>;
}

/** A consistent snapshot of the source, held open while its dump streams. */
export interface SourceSnapshot {
  readonly facts: SourceFacts;
  /** The inventory (tables and counts, or roles), read in the same snapshot as the dump, beside it. */
  readInventory(): Promise<Inventory>;
  /** Starts the dump writing the bytes to store (before compression) to `stdout`. */
  dump(stdout: Writable | 'pipe'): ChildHandle;
  /** Optional: check the stored bytes as they pass. */
  checkStored?(): StoredCheck;
  /** Optional: manifest facts known only after the dump succeeded; awaited before anything is committed. */
  finalFacts?(): Promise<FinalFacts>;
  /** Ends the snapshot; `abandon` closes at once (the backup failed or was interrupted). */
  release(options?: { abandon?: boolean }): Promise<void>;
}

/**
 * Where a restore test puts a backup: an empty database on a throwaway cluster (or a scratch
 * database on a server) for PostgreSQL; a file in the restore's work folder for a SQLite file.
 */
export interface ScratchTarget {
  /** The empty database to restore into. */
  database?: DatabaseConfig;
  /** A throwaway cluster's superuser on its maintenance database, to apply globals; absent on a shared server. */
  admin?: DatabaseConfig;
  /** A file source's scratch copy: the path to restore to. */
  file?: string;
}

/** A scratch target a source opened itself, and how to get rid of it. */
export interface OpenedScratch {
  target: ScratchTarget;
  /** For the report: "throwaway PostgreSQL 17.2", "a scratch file". */
  describe: string;
  dispose(): Promise<void>;
}

/** The scratch database of a PostgreSQL source's target (restore-test opens one for every source without openScratch). */
export function scratchDatabase(target: ScratchTarget): DatabaseConfig {
  if (!target.database) throw new Error('A PostgreSQL backup is restored into a database, and this scratch target has none');
  return target.database;
}

/** Roles are cluster-wide: keepsake creates them only in a cluster of its own, to throw away. */
export const ROLES_NEED_OWN_CLUSTER = 'Restore tests of the globals (and --with-globals) create roles: they need RESTORE_TEST_MODE=ephemeral, not a shared server';

export interface ScratchRestoreOptions {
  jobs: number;
  /** Owners and grants as backed up (the globals were applied first); else everything belongs to the restoring role. */
  keepOwnership: boolean;
  signal?: AbortSignal;
}

export interface Source {
  readonly kind: SourceKind;
  /** What keys, ids, list and --db use: the database's name, `globals`, the SQLite file's stem. */
  readonly name: string;
  /** The data object's format, in its key: `.dump`, `.sql`, `.sqlite`. */
  readonly format: ObjectFormat;
  /** For humans: "app@db:5432", "globals of db:5432", "/data/app.db". */
  describe(): string;
  /** Can we read it (reachable, privileges, file exists)? Throws an error that says what to fix. */
  preflight(): Promise<void>;
  /**
   * A consistent snapshot and its inventory (pre-flight included: a backup calls only this).
   * `contents`: what to leave out (schema-only, some tables' data), for sources that can.
   */
  snapshot(options?: { contents?: ContentsRequest }): Promise<SourceSnapshot>;
  /**
   * Optional: the scratch target a restore test restores into, under the test's work folder. Without
   * it, the restore test opens an empty PostgreSQL database (RESTORE_TEST_MODE).
   */
  openScratch?(workDir: string): Promise<OpenedScratch>;
  /** Restores a fetched, decompressed backup into a scratch target; returns how long it took. */
  restoreScratch(file: string, target: ScratchTarget, manifest: Manifest, options: ScratchRestoreOptions): Promise<number>;
  /** Checks the restored copy against the manifest's inventory. */
  verifyRestored(target: ScratchTarget, manifest: Manifest): Promise<RestoreCheck>;
}
