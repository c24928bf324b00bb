import type { DatabaseConfig } from './index';

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

/** A complete connection from a URL alone (for --target-url and RESTORE_TEST_DATABASE_URL). */
export function databaseFromUrl(text: string): DatabaseConfig {
  const parts = partsOfDatabaseUrl(new URL(text));
  const user = parts.user ?? 'postgres';
  return { host: parts.host ?? 'localhost', port: parts.port ?? 5432, user, password: parts.password, database: parts.database ?? user, sslMode: parts.sslMode };
}
