import pg from 'pg';
import type { Config, DatabaseConfig } from '../config';
import { UnavailableError } from '../errors';
import { serverVersion, withClient } from '../postgres/connection';
import { startEphemeralPostgres } from './ephemeral-postgres';

/** An empty database to restore into, and how to get rid of it. */
export interface ScratchDatabase {
  database: DatabaseConfig;
  /** A throwaway cluster's superuser on its maintenance database, where globals are applied; none on a shared server. */
  admin?: DatabaseConfig;
  serverVersion: string;
  describe: string;
  dispose(): Promise<void>;
}

/**
 * RESTORE_TEST_MODE=ephemeral: a new cluster of the backup's major or newer, removed afterwards.
 * RESTORE_TEST_MODE=server: a database keepsake_restore_test_<timestamp> on RESTORE_TEST_DATABASE_URL,
 * dropped afterwards.
 */
export async function openScratchDatabase(config: Config, minMajor: number, stamp: string): Promise<ScratchDatabase> {
  if (config.restore.testMode === 'ephemeral') {
    const cluster = await startEphemeralPostgres({ minMajor, pgBinDir: config.pgBinDir, parentDir: config.restore.workDir });
    try {
      await withClient(cluster.database, (client) => client.query('CREATE DATABASE restore_test'));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return {
      database: { ...cluster.database, database: 'restore_test' },
      admin: cluster.database,
      serverVersion: cluster.version,
      describe: `throwaway PostgreSQL ${cluster.version}`,
      dispose: cluster.stop,
    };
  }
  const server = config.restore.testServer!;
  const name = `keepsake_restore_test_${stamp}`;
  const version = await withClient(server, async (client) => {
    const found = await serverVersion(client);
    if (found.major < minMajor) {
      throw new UnavailableError(`RESTORE_TEST_DATABASE_URL points at PostgreSQL ${found.version}, older than the backup's server (${minMajor}); use a server of version ${minMajor} or newer`);
    }
    // template0: whatever was added to template1 there must not collide with the restore.
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE template0`);
    return found;
  });
  return {
    database: { ...server, database: name },
    serverVersion: version.version,
    describe: `database ${name} on ${server.host}:${server.port}`,
    dispose: () => withClient(server, (client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)).then(() => undefined),
  };
}
