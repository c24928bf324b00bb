import pg from 'pg';
import type { DatabaseConfig } from '../../src/config';
import { startEphemeralPostgres } from '../../src/restore/ephemeral-postgres';

/**
 * Settings for a server keepsake streams WAL from (PITR): the replication protocol on, room for
 * slots and senders. initdb's own pg_hba already lets local and loopback replication in.
 */
export const PITR_SERVER_SETTINGS: Record<string, string> = { wal_level: 'replica', max_wal_senders: '10', max_replication_slots: '10', full_page_writes: 'on', wal_keep_size: '0' };

/** A PostgreSQL server for one test file, from the one place tests get their servers. */
export interface TestPostgres {
  readonly major: number;
  /** Superuser connection to the maintenance database. */
  readonly admin: DatabaseConfig;
  /** Creates an empty database and returns its connection settings. */
  createDatabase(name: string): Promise<DatabaseConfig>;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(database: DatabaseConfig, sql: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
  /** Throwaway clusters only: stop the server keeping its data, and start it again on the same port. */
  pause?(): Promise<void>;
  resume?(): Promise<void>;
}

/**
 * By default a throwaway cluster (initdb in a temp dir: the same module restore tests use).
 * With TEST_PG=testcontainers on a machine with Docker, a container per TEST_PG_IMAGE
 * (default postgres:16-alpine), for running the suite against other server versions.
 */
export async function startTestPostgres(options: { settings?: Record<string, string> } = {}): Promise<TestPostgres> {
  const server = process.env.TEST_PG === 'testcontainers' ? await startContainer() : await startEphemeral(options.settings);
  return {
    ...server,
    async createDatabase(name) {
      await query(server.admin, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return { ...server.admin, database: name };
    },
    query,
  };
}

async function startEphemeral(settings?: Record<string, string>) {
  const cluster = await startEphemeralPostgres({ settings });
  return { major: cluster.major, admin: cluster.database, stop: cluster.stop, pause: cluster.pause, resume: cluster.resume };
}

async function startContainer() {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer(process.env.TEST_PG_IMAGE ?? 'postgres:16-alpine').start();
  const admin: DatabaseConfig = {
    host: container.getHost(),
    port: container.getPort(),
    user: container.getUsername(),
    password: container.getPassword(),
    database: container.getDatabase(),
  };
  const version = await query<{ v: string }>(admin, "SELECT current_setting('server_version_num') AS v");
  return { major: Math.floor(Number(version[0]!.v) / 10000), admin, stop: async () => void (await container.stop()) };
}

async function query<R extends pg.QueryResultRow>(database: DatabaseConfig, sql: string, params?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ ...database });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
