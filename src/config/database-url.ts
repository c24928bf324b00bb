import type { SettingSource } from './database';
import type { DatabaseConfig } from './types';

/** The parts of a postgres:// URL that are present; absent parts fall back elsewhere. */
export function partsOfDatabaseUrl(url: URL): Partial<DatabaseConfig> {
  const decoded = (text: string) => (text ? decodeURIComponent(text) : undefined);
  return {
    host: decoded(url.hostname) ?? url.searchParams.get('host') ?? undefined,
    port: url.port ? Number(url.port) : undefined,
    user: decoded(url.username),
    password: decoded(url.password),
    database: decoded(url.pathname.replace(/^\//, '')),
    sslMode: url.searchParams.get('sslmode') ?? undefined,
  };
}

/**
 * A complete connection from a URL alone (for --target-url and RESTORE_TEST_DATABASE_URL), every
 * setting sourced from it. A URL without a password takes `passwordFrom`'s, with its source.
 */
export function databaseFromUrl(text: string, source: SettingSource, passwordFrom?: Pick<DatabaseConfig, 'password' | 'origin'>): DatabaseConfig {
  const parts = partsOfDatabaseUrl(new URL(text));
  const user = parts.user ?? 'postgres';
  const inUrl: SettingSource = { ...source, inUrl: true };
  const ownPassword = parts.password !== undefined || !passwordFrom?.password;
  return {
    host: parts.host ?? 'localhost',
    port: parts.port ?? 5432,
    user,
    password: ownPassword ? parts.password : passwordFrom.password,
    database: parts.database ?? user,
    sslMode: parts.sslMode,
    origin: { host: inUrl, port: inUrl, user: inUrl, database: inUrl, password: ownPassword ? inUrl : passwordFrom.origin?.password },
  };
}
