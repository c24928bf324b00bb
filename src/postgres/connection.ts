import pg from 'pg';
import type { DatabaseConfig, DatabaseSetting } from '../config';
import { UnavailableError } from '../errors';

export function describeDatabase(db: DatabaseConfig): string {
  return `${db.database}@${db.host}:${db.port}`;
}

/** libpq's environment for child processes: the password travels here, never in argv. */
export function libpqEnv(db: DatabaseConfig): Record<string, string | undefined> {
  return {
    PGHOST: db.host,
    PGPORT: String(db.port),
    PGUSER: db.user,
    PGDATABASE: db.database,
    PGPASSWORD: db.password,
    PGSSLMODE: db.sslMode,
    PGAPPNAME: 'keepsake',
    // Keeps a stray service file or connection string from overriding what keepsake was told.
    PGSERVICE: undefined,
  };
}

function sslOption(sslMode: string | undefined): pg.ClientConfig['ssl'] {
  switch (sslMode) {
    case 'require':
    case 'verify-ca':
      return { rejectUnauthorized: sslMode === 'verify-ca' };
    case 'verify-full':
      return true;
    default:
      return false;
  }
}

/** What to name for a setting of a connection keepsake made itself (no origin): the usual variables. */
const USUAL_VARIABLE: Record<DatabaseSetting, string> = { host: 'POSTGRES_HOST', port: 'POSTGRES_PORT', user: 'POSTGRES_USER', password: 'POSTGRES_PASSWORD', database: 'POSTGRES_DB' };

/** Where a setting came from, as a message names it: "POSTGRES_PASSWORD", "the password in DATABASE_URL (set in /app/.env)". */
function settingSource(db: DatabaseConfig, setting: DatabaseSetting): string {
  const source = db.origin?.[setting] ?? { name: USUAL_VARIABLE[setting] };
  const where = source.inUrl ? `the ${setting} in ${source.name}` : source.name;
  return source.file ? `${where} (set in ${source.file})` : where;
}

/** Turns the driver's terse errors into messages that say what to check. */
export function explainConnectionError(db: DatabaseConfig, error: unknown): UnavailableError {
  const err = error as { code?: string; message?: string };
  const where = `${db.host}:${db.port}`;
  const reasons: Record<string, string> = {
    ECONNREFUSED: `connection refused at ${where}; check POSTGRES_HOST and POSTGRES_PORT and that the server is running`,
    ENOTFOUND: `host ${db.host} not found; check POSTGRES_HOST`,
    EAI_AGAIN: `host ${db.host} could not be resolved; check POSTGRES_HOST and DNS`,
    ETIMEDOUT: `connection to ${where} timed out; check the network path and firewall`,
    ENOENT: `no PostgreSQL socket in ${db.host}; check POSTGRES_HOST`,
    '3D000': `database "${db.database}" does not exist on ${where}; check POSTGRES_DB`,
    '28P01': `password authentication failed for user "${db.user}"; check ${settingSource(db, 'password')}`,
    '28000': `the server refused user "${db.user}" (${err.message}); check pg_hba.conf and ${settingSource(db, 'user')}`,
  };
  const reason = (err.code && reasons[err.code]) ?? `${err.message ?? String(error)}`;
  return new UnavailableError(`Cannot connect to PostgreSQL: ${reason}`, { cause: error });
}

/**
 * Connects as libpq would for the same settings. With sslmode unset or "prefer" (libpq's default)
 * SSL is tried first and plain TCP after, so servers that require SSL work without configuration;
 * "allow" tries the other way round.
 */
export async function connect(db: DatabaseConfig): Promise<pg.Client> {
  const attempts: pg.ClientConfig['ssl'][] =
    db.sslMode === undefined || db.sslMode === 'prefer' ? (isLocal(db.host) ? [false] : [{ rejectUnauthorized: false }, false])
    : db.sslMode === 'allow' ? [false, { rejectUnauthorized: false }]
    : [sslOption(db.sslMode)];
  let lastError: unknown;
  for (const ssl of attempts) {
    const client = new pg.Client({
      host: db.host,
      port: db.port,
      user: db.user,
      password: db.password,
      database: db.database,
      ssl,
      application_name: 'keepsake',
      connectionTimeoutMillis: 15_000,
    });
    try {
      await client.connect();
      // Without a listener an idle connection error would crash the process; the next query reports it.
      client.on('error', () => undefined);
      return client;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      if (!isSslRefusal(error)) break;
    }
  }
  throw explainConnectionError(db, lastError);
}

/** Unix sockets never use SSL; libpq skips it there too. */
function isLocal(host: string): boolean {
  return host.startsWith('/');
}

/** The errors that mean "try the other SSL choice", not "give up". */
function isSslRefusal(error: unknown): boolean {
  const message = String((error as Error)?.message ?? '');
  return /does not support SSL|SSL off|no pg_hba.conf entry .* (SSL|no encryption)|ECONNRESET/i.test(message);
}

export async function serverVersion(client: pg.Client): Promise<{ version: string; major: number; num: number }> {
  const { rows } = await client.query<{ num: string; version: string }>(
    "SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version",
  );
  const num = Number(rows[0]!.num);
  return { num, major: Math.floor(num / 10000), version: rows[0]!.version.split(' ')[0]! };
}

/** Runs `use` on a fresh connection that is always closed afterwards. */
export async function withClient<T>(database: DatabaseConfig, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(database);
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
