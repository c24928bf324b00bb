import type { ParsedEnv } from './schema';
import type { DatabaseConfig, SourcesConfig } from './types';

/** The database keepsake connects through to list the others when POSTGRES_DB=all. */
const MAINTENANCE_DATABASE = 'postgres';

/**
 * POSTGRES_DB (or the URL's database) may name one database, several (`app,analytics`) or `all`.
 * The connection keeps one database: the first named, or the maintenance database for `all`, so
 * that everything reading `config.database` (health, restore's default target) sees one. A single
 * name gives exactly the configuration it always did.
 */
export function sourcesFromEnv(connection: DatabaseConfig, e: Pick<ParsedEnv, 'POSTGRES_EXCLUDE_DB' | 'BACKUP_GLOBALS'>): { database: DatabaseConfig; sources: SourcesConfig } {
  const named = connection.database.split(',').map((name) => name.trim()).filter(Boolean);
  const all = named.length === 1 && named[0]!.toLowerCase() === 'all';
  const databases = all ? ('all' as const) : [...new Set(named.length ? named : [connection.database])];
  const first = all ? MAINTENANCE_DATABASE : databases[0]!;
  return {
    database: first === connection.database ? connection : { ...connection, database: first },
    sources: { databases, excludeDatabases: e.POSTGRES_EXCLUDE_DB ?? [], globals: e.BACKUP_GLOBALS },
  };
}
