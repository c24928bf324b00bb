import { execFileSync } from 'node:child_process';
import type { DatabaseConfig } from '../../src/config';
import type { TestPostgres } from './postgres';

const TABLES = `
  SELECT n.nspname AS schema, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
   ORDER BY 1, 2`;

/**
 * A fingerprint of a database built on the sample schema: row count and md5 of every table's rows,
 * the large object's bytes and the sequence's position. Two databases with equal fingerprints
 * hold the same data.
 */
export async function contentOf(pg: TestPostgres, db: DatabaseConfig): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const { schema, name } of await pg.query<{ schema: string; name: string }>(db, TABLES)) {
    const rows = await pg.query<{ digest: string; n: string }>(db, `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM "${schema}"."${name}" t`);
    result[`${schema}.${name}`] = `${rows[0]!.n}:${rows[0]!.digest}`;
  }
  const lo = await pg.query<{ digest: string }>(db, 'SELECT md5(lo_get(blob)) AS digest FROM public.documents');
  result['large object'] = lo[0]?.digest ?? 'none';
  const seq = await pg.query<{ last_value: string }>(db, 'SELECT last_value::text FROM public.invoice_numbers');
  result['sequence'] = seq[0]?.last_value ?? 'none';
  return result;
}

/** The schema as pg_dump prints it, without comments, SET lines and the per-dump random restrict keys. */
export function schemaOf(db: DatabaseConfig): string {
  const sql = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges'], {
    env: { PATH: process.env.PATH, PGHOST: db.host, PGPORT: String(db.port), PGUSER: db.user, PGPASSWORD: db.password, PGDATABASE: db.database },
    encoding: 'utf8',
  });
  return sql.split('\n').filter((line) => line && !line.startsWith('--') && !line.startsWith('SET ') && !line.startsWith('SELECT pg_catalog.set_config') && !/^\\(un)?restrict /.test(line)).join('\n');
}
