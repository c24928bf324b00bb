import type { Config } from '../config';
import { sourceName, type Manifest } from '../backup/manifest';
import { NotFoundError } from '../errors';
import { withClient } from '../postgres/connection';
import { GLOBALS_NAME, globalsSource } from './globals/globals-source';
import { postgresSource } from './postgres/postgres-source';
import type { Source, SourceRef } from './source';

export type { Source, SourceKind, SourceRef } from './source';
export { GLOBALS_NAME } from './globals/globals-source';

type SourcesDeps = Pick<Config, 'database' | 'sources' | 'dumpExtraArgs' | 'pgBinDir' | 'compression'>;

/**
 * The names a run backs up, in order: the databases (POSTGRES_DB's order; with `all`, every
 * non-template database that allows connections, by name, minus POSTGRES_EXCLUDE_DB), then the
 * globals. Only `all` asks the server.
 */
export async function sourceNames(config: SourcesDeps): Promise<string[]> {
  const { databases, excludeDatabases, globals } = config.sources;
  const names = databases === 'all' ? (await listDatabases(config)).filter((name) => !excludeDatabases.includes(name)) : [...databases];
  return globals ? [...names, GLOBALS_NAME] : names;
}

async function listDatabases(config: SourcesDeps): Promise<string[]> {
  return withClient(config.database, async (client) => {
    const found = await client.query<{ name: string }>('SELECT datname AS name FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY 1');
    return found.rows.map((row) => row.name);
  });
}

/** The source of that name: `globals`, else a database on the configured server. */
export function sourceNamed(config: SourcesDeps, name: string): Source {
  if (name === GLOBALS_NAME) return globalsSource({ db: config.database, pgBinDir: config.pgBinDir });
  return postgresSource({ db: { ...config.database, database: name }, dumpExtraArgs: config.dumpExtraArgs, pgBinDir: config.pgBinDir, compression: config.compression.algorithm });
}

/** The source a backup was taken of, to restore and check it with (a backup of a database no longer configured too). */
export function sourceFor(config: SourcesDeps, ref: SourceRef): Source {
  return sourceNamed(config, ref.kind === 'postgres-globals' ? GLOBALS_NAME : ref.name);
}

/** What a run backs up; with `only` (`--db NAME`), that one source, which must be configured. */
export async function configuredSources(config: SourcesDeps, only?: string): Promise<Source[]> {
  return pickSources(config, await sourceNames(config), only);
}

/** The sources of these names; with `only`, that one, which must be among them. */
export function pickSources(config: SourcesDeps, names: string[], only?: string): Source[] {
  if (only === undefined) return names.map((name) => sourceNamed(config, name));
  if (!names.includes(only)) throw new NotFoundError(`--db ${only}: not one of the sources backed up here (${names.join(', ')}); check POSTGRES_DB, POSTGRES_EXCLUDE_DB and BACKUP_GLOBALS`);
  return [sourceNamed(config, only)];
}

/**
 * Whether a backup is of one of this sidecar's sources (another sidecar may share the bucket): a
 * configured database or the globals; with POSTGRES_DB=all, any source backed up from this host.
 */
export function ownBackup(config: Pick<Config, 'database' | 'sources'>): (manifest: Pick<Manifest, 'source' | 'database' | 'host'>) => boolean {
  const { databases } = config.sources;
  if (databases === 'all') return (manifest) => manifest.host === config.database.host;
  return (manifest) => {
    const name = sourceName(manifest);
    return name === GLOBALS_NAME || databases.includes(name);
  };
}
