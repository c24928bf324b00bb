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

/** Sessions of one role in the target, and whether keepsake's role may end them. */
export interface TargetSessions {
  /** null for background workers, which only a superuser may end. */
  role: string | null;
  /** The role is a superuser, or there is none (a background worker): only a superuser may end these. */
  superuser: boolean;
  count: number;
  canEnd: boolean;
}

/** What keepsake's role may do on the target's server. */
export interface RoleRights {
  role: string;
  superuser: boolean;
  /** CREATE DATABASE, and the CREATEDB half of renaming one (CREATEDB or superuser). */
  canCreate: boolean;
  /** Owner of the target (or a member of its owner's role, or superuser): may block connections to it, rename and drop it. */
  ownsTarget: boolean;
}

/** What is in a restore target now: whether it exists, how much a drop would destroy, and whether we may replace it. */
export interface TargetState {
  exists: boolean;
  tables: number;
  bytes: number;
  serverMajor: number;
  serverVersion: string;
  rights: RoleRights;
  /** The target's owner, by name. */
  owner?: string;
  sessions: TargetSessions[];
  shape?: DatabaseShape;
}

/**
 * A connection to the same server's maintenance database, to create, rename and drop the target:
 * never the target itself (a session cannot rename or drop its own database).
 */
export async function maintenance(target: DatabaseConfig): Promise<pg.Client> {
  const [first, second] = target.database === 'postgres' ? ['template1', 'postgres'] : ['postgres', 'template1'];
  try {
    return await connect({ ...target, database: first });
  } catch (error) {
    if (second === target.database) throw error;
    return connect({ ...target, database: second });
  }
}

export async function withMaintenance<T>(target: DatabaseConfig, use: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = await maintenance(target);
  try {
    return await use(admin);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * The sessions a rename or drop of `$1` must end. Autovacuum workers are left out: PostgreSQL stops
 * them itself. Without pg_read_all_stats, other roles' rows hide backend_type, and a row with
 * neither role nor type is an autovacuum worker (it has no role; background workers have one).
 */
export const SESSIONS_TO_END = `a.datname = $1 AND a.pid <> pg_backend_pid()
  AND (a.usesysid IS NOT NULL OR (a.backend_type IS NOT NULL AND a.backend_type <> 'autovacuum worker'))`;

// pg_signal_backend's rule: superusers end any session; others never a superuser's or a background
// worker's, and otherwise those of roles whose privileges they have, or all with pg_signal_backend.
const SESSIONS_SQL = `
  SELECT a.usename AS role, coalesce(r.rolsuper, true) AS superuser, count(*)::int AS count,
         (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           OR (a.usesysid IS NOT NULL AND NOT coalesce(r.rolsuper, true)
               AND (pg_has_role('pg_signal_backend', 'USAGE') OR pg_has_role(a.usesysid, 'USAGE'))) AS "canEnd"
    FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
   WHERE ${SESSIONS_TO_END}
   GROUP BY 1, 2, 4 ORDER BY 1`;

export async function inspectTarget(target: DatabaseConfig): Promise<TargetState> {
  const facts = await withMaintenance(target, async (admin) => {
    const version = await serverVersion(admin);
    const role = await admin.query<{ role: string; superuser: boolean; canCreate: boolean }>(
      'SELECT rolname AS role, rolsuper AS superuser, rolcreatedb OR rolsuper AS "canCreate" FROM pg_roles WHERE rolname = current_user',
    );
    const found = await admin.query<DatabaseShape & { ownerName: string; owns: boolean }>(
      `SELECT CASE WHEN pg_has_role(datdba, 'MEMBER') THEN pg_get_userbyid(datdba) END AS owner,
              pg_get_userbyid(datdba) AS "ownerName", pg_has_role(datdba, 'USAGE') AS owns,
              pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype
         FROM pg_database WHERE datname = $1`,
      [target.database],
    );
    const sessions = found.rows[0] ? (await admin.query<TargetSessions>(SESSIONS_SQL, [target.database])).rows : [];
    return { version, role: role.rows[0]!, found: found.rows[0], sessions };
  });
  const { version, role, found, sessions } = facts;
  const shape = found && { owner: found.owner ?? undefined, encoding: found.encoding, collate: found.collate, ctype: found.ctype };
  const base = {
    serverMajor: version.major,
    serverVersion: version.version,
    rights: { ...role, ownsTarget: role.superuser || (found?.owns ?? false) },
    owner: found?.ownerName,
    sessions,
    shape,
  };
  if (!found) return { ...base, exists: false, tables: 0, bytes: 0 };
  // Tables counted as a backup's inventory counts them, so the plan and the backup agree.
  const { tables, bytes } = await withClient(target, async (client) => ({
    tables: await countTables(client),
    bytes: Number((await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes')).rows[0]!.bytes),
  }));
  return { ...base, exists: true, tables, bytes };
}

/**
 * What keepsake's role lacks to replace the target, one sentence each; empty when it may.
 * Creating the copy needs CREATEDB; blocking connections to the target, renaming and dropping it
 * need its ownership (renaming CREATEDB too); ending its sessions needs superuser, pg_signal_backend
 * or the privileges of the sessions' roles (a superuser's sessions: superuser only).
 */
export function missingRights(target: DatabaseConfig, state: TargetState): string[] {
  const { rights } = state;
  const missing: string[] = [];
  if (!rights.canCreate) missing.push(`CREATEDB, to create the database the backup is restored into and to rename databases (ALTER ROLE ${pg.escapeIdentifier(rights.role)} CREATEDB)`);
  if (!state.exists) return missing;
  if (!rights.ownsTarget) missing.push(`ownership of ${target.database} (owned by ${state.owner}), to refuse connections to it, rename or drop it: restore as ${state.owner} or a superuser`);
  const unending = state.sessions.filter((session) => !session.canEnd);
  const who = (sessions: TargetSessions[]) => sessions.map((session) => `${session.count} of ${session.role ?? 'a background worker'}`).join(', ');
  const ofSuperusers = unending.filter((session) => session.superuser);
  const ofOthers = unending.filter((session) => !session.superuser);
  if (ofSuperusers.length) missing.push(`the right to end the superuser sessions connected to ${target.database} now (${who(ofSuperusers)}): only a superuser may; restore as one, or close them first`);
  if (ofOthers.length) missing.push(`the right to end the sessions connected to ${target.database} now (${who(ofOthers)}): GRANT pg_signal_backend TO ${pg.escapeIdentifier(rights.role)}`);
  return missing;
}

/** Creates an empty database from template0, as pg_restore expects, with the owner, encoding and collation given. */
export async function createDatabase(target: DatabaseConfig, name: string, shape?: DatabaseShape): Promise<void> {
  const like = shape
    ? `${shape.owner ? ` OWNER ${pg.escapeIdentifier(shape.owner)}` : ''} ENCODING ${pg.escapeLiteral(shape.encoding)} LC_COLLATE ${pg.escapeLiteral(shape.collate)} LC_CTYPE ${pg.escapeLiteral(shape.ctype)}`
    : '';
  await withMaintenance(target, (admin) => admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE template0${like}`));
}

/** Whether a database of that name exists on the target's server. */
export async function databaseExists(target: DatabaseConfig, name: string): Promise<boolean> {
  return withMaintenance(target, async (admin) => ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0);
}
