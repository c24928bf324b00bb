import type pg from 'pg';
import { serverVersion } from './connection';
import { OWN_RELATION, USER_SCHEMA } from './relations';

export type RelationKind = 'table' | 'partitioned' | 'matview';

export interface TableCount {
  schema: string;
  name: string;
  kind: RelationKind;
  /** Exact row count in the dump's snapshot; null for a materialized view that was never populated. */
  rows: number | null;
}

export interface SequenceState {
  schema: string;
  name: string;
  lastValue: string | null;
}

/** What the dump contains, read in the very snapshot pg_dump used. */
export interface Inventory {
  schemas: string[];
  extensions: string[];
  tables: TableCount[];
  sequences: SequenceState[];
  /** The globals (src/sources/globals/): the roles and tablespaces they create. */
  roles?: string[];
  tablespaces?: string[];
  /** A base backup (src/pitr/base/): the cluster's databases when it was taken. */
  databases?: string[];
}

const KIND: Record<string, RelationKind> = { r: 'table', p: 'partitioned', m: 'matview' };

export interface ExportedSnapshot {
  /** Pass to `pg_dump --snapshot` so the dump sees exactly what the counts see. */
  readonly id: string;
  readonly server: { version: string; major: number; num: number };
  /** `countRows: false` (a schema-only backup): every table's rows are null, nothing is counted. */
  readInventory(options?: { countRows?: boolean }): Promise<Inventory>;
  /**
   * Ends the transaction and the connection; the snapshot must outlive pg_dump's use of it.
   * `abandon` closes the socket at once instead of queueing ROLLBACK behind a long count(*),
   * so an interrupted backup stops promptly (the server rolls back on disconnect).
   */
  release(options?: { abandon?: boolean }): Promise<void>;
}

/**
 * Opens a REPEATABLE READ transaction and exports its snapshot. The counts below and the dump
 * that imports the snapshot then describe the same data, row for row.
 */
export async function exportSnapshot(client: pg.Client): Promise<ExportedSnapshot> {
  const server = await serverVersion(client);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
  let released = false;
  return {
    id: rows[0]!.id,
    server,
    readInventory: (options = {}) => readInventory(client, options.countRows ?? true),
    async release(options = {}) {
      if (released) return;
      released = true;
      if (options.abandon) {
        // pg has no public "close now"; its socket is the one reliable handle.
        (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
        await client.end().catch(() => undefined);
        return;
      }
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

async function readInventory(client: pg.Client, countRows: boolean): Promise<Inventory> {
  const schemas = await client.query<{ name: string }>(
    `SELECT n.nspname AS name FROM pg_namespace n WHERE ${USER_SCHEMA} ORDER BY 1`,
  );
  const extensions = await client.query<{ name: string }>('SELECT extname AS name FROM pg_extension ORDER BY 1');
  const relations = await client.query<{ schema: string; name: string; relkind: string; populated: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind, c.relispopulated AS populated
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm') AND ${OWN_RELATION}
      ORDER BY 1, 2`,
  );
  const sequences = await client.query<{ schema: string; name: string; last_value: string | null }>(
    `SELECT n.nspname AS schema, c.relname AS name, s.last_value::text AS last_value
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_sequences s ON s.schemaname = n.nspname AND s.sequencename = c.relname
      WHERE c.relkind = 'S' AND ${OWN_RELATION}
      ORDER BY 1, 2`,
  );

  const tables: TableCount[] = [];
  for (const relation of relations.rows) {
    const kind = KIND[relation.relkind]!;
    let rows: number | null = null;
    if (relation.populated && countRows) {
      // A partitioned table's count covers its partitions; a plain table counts only its own rows.
      const only = kind === 'partitioned' ? '' : 'ONLY ';
      const name = `${client.escapeIdentifier(relation.schema)}.${client.escapeIdentifier(relation.name)}`;
      const result = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${only}${name}`).catch((error: unknown) => {
        throw countFailed(`${relation.schema}.${relation.name}`, error);
      });
      rows = Number(result.rows[0]!.count);
    }
    tables.push({ schema: relation.schema, name: relation.name, kind, rows });
  }
  return {
    schemas: schemas.rows.map((row) => row.name),
    extensions: extensions.rows.map((row) => row.name),
    tables,
    sequences: sequences.rows.map((row) => ({ schema: row.schema, name: row.name, lastValue: row.last_value })),
  };
}

/**
 * Why a table could not be counted, in PostgreSQL's own words (with its context, which names the
 * function at fault) and what to do. The server's log says no more than this.
 */
function countFailed(table: string, error: unknown): Error {
  const err = error as { message?: string; where?: string; code?: string };
  const context = err.where ? ` (${err.where.split('\n')[0]})` : '';
  const hints: Record<string, string> = {
    // undefined_table while planning: a function used by an index or policy reads a table without its schema.
    '42P01': 'a function used by an index, constraint or policy on that table names a table without its schema; schema-qualify it in the function or give the function SET search_path',
    '42501': 'the backup role may not read it; see README "Minimal grants for the backup role"',
  };
  const hint = err.code && hints[err.code] ? `; ${hints[err.code]}` : '';
  return new Error(`cannot count the rows of ${table}: ${err.message ?? String(error)}${context}${hint}`, { cause: error });
}
