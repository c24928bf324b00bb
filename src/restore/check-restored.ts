import type { Manifest } from '../backup/manifest';
import type { DatabaseConfig } from '../config';
import { withClient } from '../postgres/connection';
import { contentsOf } from '../backup/contents';

export interface TableCheck {
  schema: string;
  name: string;
  kind: string;
  expected: number | null;
  actual: number | null;
  ok: boolean;
  /** Its rows were left out of the backup (PGDUMP_EXCLUDE_TABLE_DATA): expected empty. */
  dataExcluded?: boolean;
}

export interface RestoreCheck {
  ok: boolean;
  tables: TableCheck[];
  /** One sentence per failure, naming the object and both values. */
  problems: string[];
  /** Differences that are expected and do not fail the check (refreshed materialized views). */
  notes: string[];
  restoredBytes: number;
}

/**
 * Compares a restored database with the manifest: every schema, extension, table and sequence
 * exists, and every table has exactly the row count recorded in the dump's own snapshot. A table
 * whose data the backup left out (PGDUMP_EXCLUDE_TABLE_DATA) must exist and be empty; a schema-only
 * backup is checked for its schema alone, and nothing about data is claimed.
 */
export async function checkRestored(target: DatabaseConfig, manifest: Manifest): Promise<RestoreCheck> {
  return withClient(target, async (client) => {
    const problems: string[] = [];
    const notes: string[] = [];
    const { schemaOnly, excludedTableData } = contentsOf(manifest);
    const excluded = new Set(excludedTableData);
    const present = async (sql: string, params: unknown[]) => (await client.query(sql, params)).rowCount! > 0;

    for (const schema of manifest.inventory.schemas) {
      if (!(await present('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]))) problems.push(`schema ${schema} is missing`);
    }
    for (const extension of manifest.inventory.extensions) {
      if (!(await present('SELECT 1 FROM pg_extension WHERE extname = $1', [extension]))) problems.push(`extension ${extension} is missing`);
    }
    for (const sequence of manifest.inventory.sequences) {
      const rows = await client.query<{ last_value: string | null }>(
        'SELECT s.last_value::text FROM pg_sequences s WHERE s.schemaname = $1 AND s.sequencename = $2',
        [sequence.schema, sequence.name],
      );
      if (!rows.rowCount) problems.push(`sequence ${sequence.schema}.${sequence.name} is missing`);
      else if (!schemaOnly && sequence.lastValue !== null && rows.rows[0]!.last_value !== sequence.lastValue) {
        // Sequences are not transactional: pg_dump and the inventory read them at different moments.
        notes.push(`sequence ${sequence.schema}.${sequence.name} is at ${rows.rows[0]!.last_value}, ${sequence.lastValue} when counted (sequences move outside snapshots)`);
      }
    }

    const tables: TableCheck[] = [];
    for (const table of manifest.inventory.tables) {
      const name = `${client.escapeIdentifier(table.schema)}.${client.escapeIdentifier(table.name)}`;
      const exists = await present('SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2', [table.schema, table.name]);
      const label = `${table.schema}.${table.name}`;
      // Rows left out restore as an empty table: that, and nothing else, is what to expect.
      const expected = excluded.has(label) ? 0 : table.rows;
      let actual: number | null = null;
      if (exists && expected !== null && !schemaOnly) {
        const only = table.kind === 'table' ? 'ONLY ' : '';
        actual = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${only}${name}`)).rows[0]!.n);
      }
      const ok = exists && actual === expected;
      if (!exists) problems.push(`table ${label} is missing`);
      else if (!ok && table.kind === 'matview') {
        // pg_restore refreshes materialized views from the restored data; a stale view differs.
        notes.push(`materialized view ${label} has ${actual} rows after refresh, ${table.rows} when dumped`);
      } else if (!ok && excluded.has(label)) problems.push(`table ${label} has ${actual} rows, expected empty: its data was excluded from the backup`);
      else if (!ok) problems.push(`table ${label} has ${actual} rows, the backup recorded ${table.rows}`);
      tables.push({ schema: table.schema, name: table.name, kind: table.kind, expected, actual, ok: ok || (exists && table.kind === 'matview'), ...(excluded.has(label) ? { dataExcluded: true } : {}) });
    }
    const size = await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
    return { ok: problems.length === 0, tables, problems, notes, restoredBytes: Number(size.rows[0]!.bytes) };
  });
}
