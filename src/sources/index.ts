import type { Config } from '../config';
import { sourceName, sourceOf, type Manifest } from '../backup/manifest';
import { ConfigError, NotFoundError } from '../errors';
import { withClient } from '../postgres/connection';
import { GLOBALS_NAME, globalsSource } from './globals/globals-source';
import { postgresSource } from './postgres/postgres-source';
import { sqliteSource, type SqliteSource } from './sqlite/sqlite-source';
import { sqliteStem } from '../config/sqlite-paths';
import { clusterSource } from '../pitr/base/cluster-source';
import type { Source, SourceRef } from './source';

export type { Source, SourceKind, SourceRef } from './source';
export { GLOBALS_NAME } from './globals/globals-source';

type SourcesDeps = Pick<Config, 'database' | 'sources' | 'dumpExtraArgs' | 'pgBinDir' | 'compression' | 'restore'>;

/**
 * The names a run backs up, in order: the databases (POSTGRES_DB's order; with `all`, every
 * non-template database that allows connections, by name, minus POSTGRES_EXCLUDE_DB), then the
 * globals, then the SQLite files (SQLITE_PATHS' order, by stem). Only `all` asks the server.
 */
export async function sourceNames(config: SourcesDeps): Promise<string[]> {
  const { databases, excludeDatabases, globals, sqlitePaths } = config.sources;
  const names = databases === 'all' ? (await listDatabases(config)).filter((name) => !excludeDatabases.includes(name)) : [...databases];
  // Its backups would take the globals' names; the configuration check catches a named one, `all` finds it here.
  if (globals && names.includes(GLOBALS_NAME)) {
    throw new ConfigError([`POSTGRES_DB=all found a database named "${GLOBALS_NAME}", whose backups would share their names with the cluster's globals: add it to POSTGRES_EXCLUDE_DB, or set BACKUP_GLOBALS=false`]);
  }
  return [...names, ...(globals ? [GLOBALS_NAME] : []), ...sqlitePaths.map(sqliteStem)];
}

/** The configured SQLite file of that stem, if any. */
const sqlitePathNamed = (config: SourcesDeps, name: string): string | undefined => config.sources.sqlitePaths.find((path) => sqliteStem(path) === name);

/** A SQLite file as a source; its snapshot is copied under RESTORE_WORK_DIR before it streams. */
const sqliteAt = (config: SourcesDeps, path: string): SqliteSource => sqliteSource(path, { workDir: config.restore.workDir });

async function listDatabases(config: SourcesDeps): Promise<string[]> {
  return withClient(config.database, async (client) => {
    const found = await client.query<{ name: string }>('SELECT datname AS name FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY 1');
    return found.rows.map((row) => row.name);
  });
}

/** The source of that name: a configured SQLite file's stem, `globals`, else a database on the configured server. */
export function sourceNamed(config: SourcesDeps, name: string): Source {
  const sqlitePath = sqlitePathNamed(config, name);
  if (sqlitePath) return sqliteAt(config, sqlitePath);
  if (name === GLOBALS_NAME) return globalsSource({ db: config.database, pgBinDir: config.pgBinDir });
  return postgresSource({ db: { ...config.database, database: name }, dumpExtraArgs: config.dumpExtraArgs, pgBinDir: config.pgBinDir, compression: config.compression.algorithm });
}

/**
 * The source a backup was taken of, to restore and check it with (a backup of a database no longer
 * configured too; a SQLite file no longer configured is the path the manifest recorded).
 */
export function sourceFor(config: SourcesDeps, ref: SourceRef, recordedPath?: string): Source {
  if (ref.kind === 'postgres-cluster') return baseBackupSource(config);
  if (ref.kind === 'sqlite') return sqliteAt(config, sqlitePathNamed(config, ref.name) ?? recordedPath ?? ref.name);
  return sourceNamed(config, ref.kind === 'postgres-globals' ? GLOBALS_NAME : ref.name);
}

/**
 * The whole cluster, for base backups (PITR): the base-backup job's source only, never one of a
 * run's sources (sourceNames), so daily, weekly, monthly and yearly runs never pick it up.
 */
export function baseBackupSource(config: SourcesDeps): Source {
  return clusterSource({ db: config.database, pgBinDir: config.pgBinDir, compression: config.compression.algorithm });
}

/** The SQLite file a backup is of, to write it back: the configured path of its stem, else the path recorded at backup time. */
export function sqliteSourceFor(config: SourcesDeps, manifest: Pick<Manifest, 'source' | 'database'>): SqliteSource | undefined {
  const ref = sourceOf(manifest);
  return ref.kind === 'sqlite' ? sqliteAt(config, sqlitePathNamed(config, ref.name) ?? manifest.database) : undefined;
}

/** Whether any PostgreSQL source is configured (a sidecar of SQLite files alone has none). */
export function hasPostgres(config: Pick<Config, 'sources'>): boolean {
  const { databases, globals } = config.sources;
  return databases === 'all' || databases.length > 0 || globals;
}

/** What `latest` means without --db: the first source backed up here (the configured database, or the first SQLite file of a SQLite-only sidecar). */
export function defaultSourceName(config: Pick<Config, 'database' | 'sources'>): string {
  const { sqlitePaths } = config.sources;
  if (!hasPostgres(config) && sqlitePaths[0]) return sqliteStem(sqlitePaths[0]);
  return config.database.database;
}

/** What a run backs up; with `only` (`--db NAME`), that one source, which must be configured. */
export async function configuredSources(config: SourcesDeps, only?: string): Promise<Source[]> {
  return pickSources(config, await sourceNames(config), only);
}

/** The sources of these names; with `only`, that one, which must be among them. */
export function pickSources(config: SourcesDeps, names: string[], only?: string): Source[] {
  if (only === undefined) return names.map((name) => sourceNamed(config, name));
  if (!names.includes(only)) throw new NotFoundError(`--db ${only}: not one of the sources backed up here (${names.join(', ')}); check POSTGRES_DB, POSTGRES_EXCLUDE_DB, BACKUP_GLOBALS and SQLITE_PATHS`);
  return [sourceNamed(config, only)];
}

/**
 * Whether a backup is of one of this sidecar's sources (another sidecar may share the bucket): a
 * configured database, the globals or the cluster's base backups; with POSTGRES_DB=all, any source backed up from this host.
 */
export function ownBackup(config: Pick<Config, 'database' | 'sources'>): (manifest: Pick<Manifest, 'source' | 'database' | 'host'>) => boolean {
  const { databases, sqlitePaths } = config.sources;
  const files = new Set(sqlitePaths.map(sqliteStem));
  const ownFile = (manifest: Pick<Manifest, 'source' | 'database'>) => sourceOf(manifest).kind === 'sqlite' && files.has(sourceName(manifest));
  if (databases === 'all') return (manifest) => ownFile(manifest) || (sourceOf(manifest).kind !== 'sqlite' && manifest.host === config.database.host);
  return (manifest) => {
    if (sourceOf(manifest).kind === 'sqlite') return ownFile(manifest);
    // A base backup (PITR) is of the whole cluster this sidecar connects to.
    if (sourceOf(manifest).kind === 'postgres-cluster') return manifest.host === config.database.host;
    const name = sourceName(manifest);
    return name === GLOBALS_NAME || databases.includes(name);
  };
}
