import pg from 'pg';
import type { DatabaseConfig } from '../config';
import { connect, serverVersion } from '../postgres/connection';

/** What is in a restore target now: whether it exists, and how much a drop would destroy. */
export interface TargetState {
  exists: boolean;
  tables: number;
  bytes: number;
  serverMajor: number;
  serverVersion: string;
}

/** A connection to the same server's maintenance database, to create and drop the target. */
async function maintenance(target: DatabaseConfig): Promise<pg.Client> {
  try {
    return await connect({ ...target, database: 'postgres' });
  } catch {
    return connect({ ...target, database: 'template1' });
  }
}

export async function inspectTarget(target: DatabaseConfig): Promise<TargetState> {
  const admin = await maintenance(target);
  let version;
  let exists;
  try {
    version = await serverVersion(admin);
    exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database])).rowCount! > 0;
  } finally {
    await admin.end();
  }
  if (!exists) return { exists, tables: 0, bytes: 0, serverMajor: version.major, serverVersion: version.version };
  const client = await connect(target);
  try {
    const { rows } = await client.query<{ tables: string; bytes: string }>(
      `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%') AS tables,
              pg_database_size(current_database()) AS bytes`,
    );
    return { exists, tables: Number(rows[0]!.tables), bytes: Number(rows[0]!.bytes), serverMajor: version.major, serverVersion: version.version };
  } finally {
    await client.end();
  }
}

/** Drops (disconnecting everyone) and creates the target afresh from template0, as pg_restore expects. */
export async function recreateDatabase(target: DatabaseConfig, options: { drop: boolean }): Promise<void> {
  const admin = await maintenance(target);
  const name = pg.escapeIdentifier(target.database);
  try {
    if (options.drop) {
      const { major } = await serverVersion(admin);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [target.database]);
      await admin.query(`DROP DATABASE IF EXISTS ${name}${major >= 13 ? ' WITH (FORCE)' : ''}`);
    }
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
}
