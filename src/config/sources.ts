import type { ParsedEnv } from './schema';
import type { DatabaseConfig, SourcesConfig } from './types';

/** The source name of the cluster's globals (src/sources/globals), which no database or file may take. */
export const GLOBALS_SOURCE = 'globals';

/** The database keepsake connects through to list the others when POSTGRES_DB=all. */
const MAINTENANCE_DATABASE = 'postgres';

/** Any of these says there is a PostgreSQL server to back up (else, with SQLITE_PATHS, only the files). */
const POSTGRES_SETTINGS = ['DATABASE_URL', 'POSTGRES_HOST', 'POSTGRES_DB', 'POSTGRES_DATABASE', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'PGHOST', 'PGDATABASE'] as const;
type PostgresSetting = (typeof POSTGRES_SETTINGS)[number];

/**
 * POSTGRES_DB (or the URL's database) may name one database, several (`app,analytics`) or `all`.
 * The connection keeps one database: the first named, or the maintenance database for `all`, so
 * that everything reading `config.database` (health, restore's default target) sees one. A single
 * name gives exactly the configuration it always did.
 */
export function sourcesFromEnv(connection: DatabaseConfig, e: Pick<ParsedEnv, 'POSTGRES_EXCLUDE_DB' | 'BACKUP_GLOBALS' | 'SQLITE_PATHS' | PostgresSetting>): { database: DatabaseConfig; sources: SourcesConfig } {
  const sqlitePaths = e.SQLITE_PATHS ?? [];
  // A sidecar for SQLite files alone: no PostgreSQL to connect to, so no databases and no globals.
  if (sqlitePaths.length && !POSTGRES_SETTINGS.some((name) => e[name] !== undefined)) {
    return { database: connection, sources: { databases: [], excludeDatabases: [], globals: false, sqlitePaths } };
  }
  const named = connection.database.split(',').map((name) => name.trim()).filter(Boolean);
  const all = named.length === 1 && named[0]!.toLowerCase() === 'all';
  const databases = all ? ('all' as const) : [...new Set(named.length ? named : [connection.database])];
  const first = all ? MAINTENANCE_DATABASE : databases[0]!;
  return {
    database: first === connection.database ? connection : { ...connection, database: first },
    sources: { databases, excludeDatabases: e.POSTGRES_EXCLUDE_DB ?? [], globals: e.BACKUP_GLOBALS, sqlitePaths },
  };
}
