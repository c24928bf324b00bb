import type pg from 'pg';
import { OWN_RELATION } from './relations';

/**
 * What the connected role cannot read of what pg_dump dumps and keepsake counts. Without this
 * check, a role missing one grant makes the backup die mid-dump ("permission denied for large
 * object 16710"), or makes the row count fail and pg_dump report only that it "could not import
 * the requested snapshot".
 */
export interface Unreadable {
  user: string;
  /** The role is a member of pg_read_all_data (PostgreSQL 14+), which covers tables and sequences but not large objects. */
  readAllData: boolean;
  /** Schemas holding tables or sequences, without USAGE. */
  schemas: string[];
  /** Tables, partitions and materialized views without SELECT (in schemas the role may use). */
  tables: string[];
  sequences: string[];
  /** Tables row-level security applies to: pg_dump refuses to dump them partially. */
  rowSecurity: string[];
  largeObjects: { count: number; first: string[] };
  /** What was checked, for the all-clear message. */
  checked: { tables: number; matviews: number; sequences: number; largeObjects: number };
}

const LISTED = 10;

const RELATIONS = `
  SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
         has_schema_privilege(n.oid, 'USAGE') AS usable,
         CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT') ELSE has_table_privilege(c.oid, 'SELECT') END AS readable,
         c.relkind IN ('r', 'p') AND c.relrowsecurity AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))
           AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) AS row_security
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'm', 'S') AND ${OWN_RELATION}
   ORDER BY 1, 2`;

// Large objects have no has_*_privilege function before PostgreSQL 17: read their ACL the way the server does.
const LARGE_OBJECTS = `
  SELECT count(*) AS total,
         count(*) FILTER (WHERE NOT readable) AS unreadable,
         (array_agg(oid::text ORDER BY oid) FILTER (WHERE NOT readable))[1:${LISTED}] AS first
    FROM (SELECT m.oid,
                 current_setting('lo_compat_privileges')::boolean
                 OR pg_has_role(m.lomowner, 'USAGE')
                 OR EXISTS (SELECT 1 FROM aclexplode(m.lomacl) a
                             WHERE a.privilege_type = 'SELECT' AND (a.grantee = 0 OR pg_has_role(a.grantee, 'USAGE'))) AS readable
            FROM pg_largeobject_metadata m) lo`;

const READ_ALL_DATA = `
  SELECT current_user AS user,
         EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'pg_read_all_data' AND pg_has_role(r.oid, 'USAGE'))
           AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS read_all_data`;

export async function readUnreadable(client: pg.Client): Promise<Unreadable> {
  const who = await client.query<{ user: string; read_all_data: boolean }>(READ_ALL_DATA);
  const relations = await client.query<{ schema: string; name: string; kind: string; usable: boolean; readable: boolean; row_security: boolean }>(RELATIONS);
  const objects = await client.query<{ total: string; unreadable: string; first: string[] | null }>(LARGE_OBJECTS);
  const schemas = new Set<string>();
  const tables: string[] = [];
  const sequences: string[] = [];
  const rowSecurity: string[] = [];
  for (const relation of relations.rows) {
    const name = `${relation.schema}.${relation.name}`;
    if (!relation.usable) schemas.add(relation.schema);
    else if (!relation.readable) (relation.kind === 'S' ? sequences : tables).push(name);
    else if (relation.row_security) rowSecurity.push(name);
  }
  const lo = objects.rows[0]!;
  return {
    user: who.rows[0]!.user,
    readAllData: who.rows[0]!.read_all_data,
    schemas: [...schemas],
    tables,
    sequences,
    rowSecurity,
    largeObjects: { count: Number(lo.unreadable), first: lo.first ?? [] },
    checked: {
      tables: relations.rows.filter((relation) => relation.kind === 'r' || relation.kind === 'p').length,
      matviews: relations.rows.filter((relation) => relation.kind === 'm').length,
      sequences: relations.rows.filter((relation) => relation.kind === 'S').length,
      largeObjects: Number(lo.total),
    },
  };
}

/** What keeps the role from a complete backup and what to grant, or undefined when nothing does. */
export function describeUnreadable(found: Unreadable): string | undefined {
  const some = (names: string[]) => `${names.slice(0, LISTED).join(', ')}${names.length > LISTED ? ` and ${names.length - LISTED} more` : ''}`;
  const parts: string[] = [];
  if (found.schemas.length) parts.push(`no USAGE on schema${found.schemas.length === 1 ? '' : 's'} ${some(found.schemas)}`);
  if (found.tables.length) parts.push(`no SELECT on table${found.tables.length === 1 ? '' : 's'} ${some(found.tables)}`);
  if (found.sequences.length) parts.push(`no SELECT on sequence${found.sequences.length === 1 ? '' : 's'} ${some(found.sequences)}`);
  if (found.rowSecurity.length) {
    parts.push(`row-level security applies to ${some(found.rowSecurity)}, which pg_dump will not dump partially (ALTER ROLE ${found.user} BYPASSRLS, or back up as the owner)`);
  }
  const { largeObjects } = found;
  if (largeObjects.count) {
    const which = `${largeObjects.count === 1 ? '1 large object' : `${largeObjects.count} large objects`} (${largeObjects.first.join(', ')}${largeObjects.count > largeObjects.first.length ? ', ...' : ''})`;
    parts.push(`no SELECT on ${which}${found.readAllData ? ': pg_read_all_data does not cover large objects' : ''}`);
  }
  if (!parts.length) return undefined;
  return `The backup role "${found.user}" cannot read everything pg_dump must dump: ${parts.join('; ')}. Grant what is missing (README "Minimal grants for the backup role") or back up as the database owner`;
}
