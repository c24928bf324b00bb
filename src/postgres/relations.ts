import type pg from 'pg';

/**
 * What keepsake calls the database's own relations, in one place: the backup counts them, the
 * privilege check checks them, the restore plan counts what it would drop. User schemas only,
 * no temporary tables (another session's), no members of extensions (CREATE EXTENSION makes those).
 * SQL over pg_class `c` joined to pg_namespace `n`.
 */
export const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;
export const OWN_RELATION = `${USER_SCHEMA}
  AND c.relpersistence <> 't'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

/** Tables as users count them: plain tables, partitions and partitioned tables; not materialized views. */
export const TABLE_KINDS = `c.relkind IN ('r', 'p')`;

/** How many tables a database holds, by the definition the backup's inventory uses. */
export async function countTables(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ tables: string }>(
    `SELECT count(*) AS tables FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${TABLE_KINDS} AND ${OWN_RELATION}`,
  );
  return Number(rows[0]!.tables);
}

interface CountedRelation {
  kind: 'table' | 'partitioned' | 'matview';
  rows: number | null;
}

/**
 * A backup's contents in numbers. A partitioned table's count already covers its partitions and a
 * materialized view's rows are derived from tables, so rows add up plain tables and partitions
 * only: each row once.
 */
export function tally(relations: readonly CountedRelation[]): { tables: number; matviews: number; rows: number } {
  const tables = relations.filter((relation) => relation.kind !== 'matview').length;
  const rows = relations.reduce((sum, relation) => sum + (relation.kind === 'table' ? (relation.rows ?? 0) : 0), 0);
  return { tables, matviews: relations.length - tables, rows };
}

/** "7 tables and 1 materialized view", "1 table": the words every command and report uses. */
export function describeTables(relations: readonly CountedRelation[]): string {
  const { tables, matviews } = tally(relations);
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${count(tables, 'table')}${matviews ? ` and ${count(matviews, 'materialized view')}` : ''}`;
}
