import type { DatabaseConfig } from './types';
import { partsOfDatabaseUrl } from './database-url';
import type { ParsedEnv } from './schema';

export type DatabaseSetting = 'host' | 'port' | 'user' | 'password' | 'database';
export type DatabaseOrigin = Partial<Record<DatabaseSetting, SettingSource>>;

/** Where a setting came from, so that a message can say what to fix. */
export interface SettingSource {
  /** The variable (POSTGRES_PASSWORD, its _FILE, DATABASE_URL) or command-line option (--target-url). */
  name: string;
  /** The value is one part of that URL. */
  inUrl?: boolean;
  /** The .env file that set the variable. */
  file?: string;
}

/**
 * The database to back up: each setting from DATABASE_URL, else the first variable set, else a
 * default. Where each one came from is kept (`origin`), so a failed login names what to fix; a
 * default is sourced to the variable that would set it.
 */
export function databaseFromEnv(e: ParsedEnv, sourceOf: (name: string) => SettingSource): DatabaseConfig {
  const url = e.DATABASE_URL ? partsOfDatabaseUrl(e.DATABASE_URL) : {};
  const urlSource: SettingSource = { ...sourceOf('DATABASE_URL'), inUrl: true };
  const origin: DatabaseOrigin = {};
  const choose = <T>(setting: DatabaseSetting, fromUrl: T | undefined, variables: [string, T | undefined][], fallback: T): T => {
    if (fromUrl !== undefined) {
      origin[setting] = urlSource;
      return fromUrl;
    }
    const found = variables.find(([, value]) => value !== undefined);
    origin[setting] = sourceOf(found?.[0] ?? variables[0]![0]);
    return found ? found[1]! : fallback;
  };
  const user = choose('user', url.user, [['POSTGRES_USER', e.POSTGRES_USER], ['PGUSER', e.PGUSER]], 'postgres');
  return {
    host: choose('host', url.host, [['POSTGRES_HOST', e.POSTGRES_HOST], ['PGHOST', e.PGHOST]], 'localhost'),
    port: choose('port', url.port, [['POSTGRES_PORT', e.POSTGRES_PORT], ['PGPORT', e.PGPORT]], 5432),
    user,
    password: choose<string | undefined>('password', url.password, [['POSTGRES_PASSWORD', e.POSTGRES_PASSWORD], ['PGPASSWORD', e.PGPASSWORD]], undefined),
    database: choose('database', url.database, [['POSTGRES_DB', e.POSTGRES_DB], ['POSTGRES_DATABASE', e.POSTGRES_DATABASE], ['PGDATABASE', e.PGDATABASE]], user),
    sslMode: url.sslMode ?? e.PGSSLMODE,
    origin,
  };
}
