import type { Manifest } from '../../src/backup/manifest';
import { missingTableData } from '../../src/restore/verify-archive';
import { validManifest } from './manifest-fixture';

type Table = Manifest['inventory']['tables'][number];

const table = (schema: string, name: string, kind: Table['kind'] = 'table'): Table => ({ schema, name, kind, rows: kind === 'partitioned' ? null : 1 });

function withTables(...tables: Table[]): Manifest {
  return validManifest({ inventory: { ...validManifest().inventory, tables } });
}

/** The shape of `pg_restore --list` output: a ';' comment header, then one line per TOC entry. */
const TOC = [
  ';',
  '; Archive created at 2026-11-22 02:00:00 UTC',
  ';     dbname: app',
  ';     TOC Entries: 9',
  ';     Format: CUSTOM',
  ';',
  '; Selected TOC Entries:',
  ';',
  '3370; 2615 2200 SCHEMA - public pg_database_owner',
  '3371; 1259 16390 TABLE public orders postgres',
  '3372; 1259 16500 TABLE public events postgres',
  '3373; 1259 16600 MATERIALIZED VIEW public order_totals postgres',
  '3375; 0 16390 TABLE DATA public orders postgres',
  '3376; 0 16395 TABLE DATA public café_ünïcödé postgres',
  '3377; 0 16398 TABLE DATA public line items postgres',
  '3378; 0 16399 TABLE DATA sales Orders app_owner',
  '3379; 0 16501 TABLE DATA public events_2026_11 postgres',
  '3380; 0 16600 MATERIALIZED VIEW DATA public order_totals postgres',
  '; 3381; 0 16700 TABLE DATA public disabled postgres',
  '',
].join('\n');

describe('missingTableData', () => {
  it('finds nothing missing when every table has a TABLE DATA entry', () => {
    const manifest = withTables(
      table('public', 'orders'),
      table('public', 'café_ünïcödé'),
      table('public', 'line items'),
      table('sales', 'Orders'),
      table('public', 'events_2026_11'),
    );
    expect(missingTableData(TOC, manifest)).toEqual([]);
  });

  it.each<[string, Table]>([
    ['a table absent from the listing', table('public', 'customers')],
    ['a table whose name is a prefix of a listed one', table('public', 'order')],
    ['a table whose name is a suffix of a listed one', table('public', 'items')],
    ['a listed table name in another schema', table('sales', 'orders')],
    ['a name that differs only in case', table('public', 'Orders')],
    ['a unicode name that differs in one letter', table('public', 'café_ünïcöde')],
    ['a table whose only entry is commented out with ";"', table('public', 'disabled')],
    ['a table that has a TABLE entry but no TABLE DATA', table('public', 'events', 'table')],
  ])('reports %s as schema.name', (_what, missing) => {
    expect(missingTableData(TOC, withTables(table('public', 'orders'), missing))).toEqual([`${missing.schema}.${missing.name}`]);
  });

  it.each([
    ['partitioned', 'events'],
    ['matview', 'order_totals'],
    ['matview', 'not_in_listing'],
  ] as const)('does not expect TABLE DATA for a %s relation (%s)', (kind, name) => {
    expect(missingTableData(TOC, withTables(table('public', name, kind)))).toEqual([]);
  });

  it('reports every missing table, in manifest order', () => {
    const manifest = withTables(table('public', 'zeta'), table('public', 'orders'), table('audit', 'log entries'));
    expect(missingTableData(TOC, manifest)).toEqual(['public.zeta', 'audit.log entries']);
  });

  // BUG: "public order items postgres" contains " TABLE DATA public order ", so it passes for the
  // missing table "order" too: the check only looks for "<schema> <name> " somewhere in the line.
  it('does not count the entry of "order items" as data for a missing table "order"', () => {
    const listing = '3377; 0 16398 TABLE DATA public order items postgres';
    expect(missingTableData(listing, withTables(table('public', 'order items'), table('public', 'order')))).toEqual(['public.order']);
  });

  it('accepts an entry with nothing after the table name', () => {
    expect(missingTableData('3375; 0 16390 TABLE DATA public orders', withTables(table('public', 'orders')))).toEqual([]);
  });

  it('reports every table of an empty listing and nothing for a manifest without tables', () => {
    expect(missingTableData('', withTables(table('public', 'orders')))).toEqual(['public.orders']);
    expect(missingTableData(TOC, withTables())).toEqual([]);
  });
});
