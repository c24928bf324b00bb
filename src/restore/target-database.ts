import pg from 'pg';
import type { DatabaseConfig } from '../config';
import { connect, serverVersion, withClient } from '../postgres/connection';
import { countTables } from '../postgres/relations';

/** How a database was created, so a replacement is created the same way. */
export interface DatabaseShape {
  /** Kept only when the connecting role may create databases owned by it. */
  owner?: string;
  encoding: string;
  collate: string;
  ctype: string;
}

/** What is in a restore target now: whether it exists, how much a drop would destroy, and whether we may recreate it. */
export interface TargetState {
  exists: boolean;
  tables: number;
  bytes: number;
  serverMajor: number;
  serverVersion: string;
  /** The connecting role may CREATE DATABASE (CREATEDB or superuser). */
  canCreate: boolean;
  shape?: DatabaseShape;
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
  let canCreate;
  let shape: DatabaseShape | undefined;
  try {
    version = await serverVersion(admin);
    const role = await admin.query<{ can: boolean }>('SELECT rolcreatedb OR rolsuper AS can FROM pg_roles WHERE rolname = current_user');
    canCreate = role.rows[0]?.can ?? false;
    const found = await admin.query<DatabaseShape>(
      `SELECT CASE WHEN pg_has_role(datdba, 'MEMBER') THEN pg_get_userbyid(datdba) END AS owner,
              pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype
         FROM pg_database WHERE datname = $1`,
      [target.database],
    );
    shape = found.rows[0];
  } finally {
    await admin.end();
  }
  const base = { serverMajor: version.major, serverVersion: version.version, canCreate, shape };
  if (!shape) return { ...base, exists: false, tables: 0, bytes: 0 };
  // Tables counted as a backup's inventory counts them, so the plan and the backup agree.
  const { tables, bytes } = await withClient(target, async (client) => ({
    tables: await countTables(client),
    bytes: Number((await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes')).rows[0]!.bytes),
  }));
  return { ...base, exists: true, tables, bytes };
}

/**
 * Drops the target (disconnecting everyone) if asked, then creates it from template0, as
 * pg_restore expects, with the owner, encoding and collation it had.
 */
export async function recreateDatabase(target: DatabaseConfig, options: { drop: boolean; shape?: DatabaseShape }): Promise<void> {
  const admin = await maintenance(target);
  const name = pg.escapeIdentifier(target.database);
  try {
    if (options.drop) {
      const { major } = await serverVersion(admin);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [target.database]);
      await admin.query(`DROP DATABASE IF EXISTS ${name}${major >= 13 ? ' WITH (FORCE)' : ''}`);
    }
    const shape = options.shape;
    const like = shape
      ? `${shape.owner ? ` OWNER ${pg.escapeIdentifier(shape.owner)}` : ''} ENCODING ${pg.escapeLiteral(shape.encoding)} LC_COLLATE ${pg.escapeLiteral(shape.collate)} LC_CTYPE ${pg.escapeLiteral(shape.ctype)}`
      : '';
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0${like}`);
  } finally {
    await admin.end();
  }
}
