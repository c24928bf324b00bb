import { tablesWithoutData } from '../../src/backup/toc';
import type { TableCount } from '../../src/postgres/snapshot';

const table = (schema: string, name: string, kind: TableCount['kind'] = 'table'): TableCount => ({ schema, name, kind, rows: kind === 'partitioned' ? null : 1 });

/** `pg_restore --list` as pg_dump's archive of these tables prints it: a ';' header, then one line per entry. */
const LISTING = [
  ';',
  '; Archive created at 2026-11-22 02:00:00 UTC',
  '; Selected TOC Entries:',
  ';',
  '217; 1259 16505 TABLE shop customers postgres',
  '219; 1259 16517 TABLE shop orders postgres',
  '3490; 0 16505 TABLE DATA shop customers postgres',
  '3491; 0 16527 TABLE DATA shop orders_2025 postgres',
  '3492; 0 16537 TABLE DATA shop orders_2026 app owner',
  '3493; 0 16553 TABLE DATA public order items postgres',
  '3494; 0 16600 MATERIALIZED VIEW DATA shop revenue postgres',
  '; 3495; 0 16700 TABLE DATA public commented_out postgres',
  '',
].join('\n');

describe('tablesWithoutData', () => {
  it('needs a data entry for plain tables and partitions only, not for partitioned parents or materialized views', () => {
    const tables = [table('shop', 'customers'), table('shop', 'orders', 'partitioned'), table('shop', 'orders_2025'), table('shop', 'orders_2026'), table('shop', 'revenue', 'matview'), table('public', 'order items')];
    expect(tablesWithoutData(LISTING, tables)).toEqual([]);
  });

  it('names every counted table without one, including one whose entry is commented out', () => {
    const tables = [table('shop', 'customers'), table('public', 'commented_out'), table('public', 'audit_log')];
    expect(tablesWithoutData(LISTING, tables)).toEqual(['public.commented_out', 'public.audit_log']);
  });

  it('gives an entry to the longest table name it can belong to ("order items", not "order")', () => {
    expect(tablesWithoutData(LISTING, [table('public', 'order'), table('public', 'order items')])).toEqual(['public.order']);
  });

  it('finds no data at all in the listing of a schema-only archive', () => {
    const schemaOnly = LISTING.split('\n').filter((line) => !line.includes(' DATA ')).join('\n');
    expect(tablesWithoutData(schemaOnly, [table('shop', 'customers'), table('shop', 'orders_2025')])).toEqual(['shop.customers', 'shop.orders_2025']);
  });
});
