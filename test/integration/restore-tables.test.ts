import type { Manifest } from '../../src/backup/manifest';
import { runCli } from '../support/cli';
import { startScenario, type Scenario } from '../support/scenario';
import { SHOP_SQL } from '../support/shop-schema';

describe('keepsake restore --table', () => {
  let s: Scenario;
  let manifest: Manifest;

  beforeAll(async () => {
    s = await startScenario({ sql: SHOP_SQL });
    const backup = await runCli(['backup', '--json'], s.env);
    expect(backup.code).toBe(0);
    manifest = JSON.parse(backup.stdout) as Manifest;
  });
  afterAll(async () => s?.stop());
  const into = (database: string) => ({ ...s.db, database });

  it('restores one table with a foreign key, a serial sequence and an enum column into a new database, and names the foreign key it could not create', async () => {
    const run = await runCli(['restore', 'latest', '--table', 'shop.orders', '--target-db', 'orders_only', '--yes'], s.env);
    expect(run.stderr).toContain('Tables:  shop.orders (3 rows)');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^OK restored 1 table of manual/${manifest.id} into orders_only@`));
    expect(run.stdout).toContain('  1 of 1 tables match the row counts recorded at backup time');
    expect(run.stdout).toContain('also restored: SCHEMA - shop, TYPE shop status, FUNCTION shop price_ok(numeric), SEQUENCE shop orders_id_seq');
    expect(run.stdout).toContain('not restored: FK CONSTRAINT shop orders orders_customer_id_fkey: it needs shop.customers, which was not restored (add --table shop.customers to restore it too)');

    const db = into('orders_only');
    expect(await s.pg.query(db, 'SELECT id, customer_id, status::text, total::text FROM shop.orders ORDER BY id')).toEqual([
      { id: 1, customer_id: 1, status: 'paid', total: '3' },
      { id: 2, customer_id: 2, status: 'new', total: '4' },
      { id: 4, customer_id: 2, status: 'paid', total: '7' },
    ]);
    // The sequence kept its value (4, past the deleted row 3), and the default still uses it.
    expect(await s.pg.query(db, "INSERT INTO shop.orders (customer_id, total) VALUES (9, 1) RETURNING id, status::text")).toEqual([{ id: 5, status: 'new' }]);
    expect(await s.pg.query(db, "SELECT enum_range(NULL::shop.status)::text AS labels")).toEqual([{ labels: '{new,paid,shipped}' }]);
    // The CHECK constraint and its function came along; the foreign key to the missing table did not.
    await expect(s.pg.query(db, 'INSERT INTO shop.orders (customer_id, total) VALUES (1, -1)')).rejects.toThrow(/orders_total_check/);
    expect(await s.pg.query(db, "SELECT conname FROM pg_constraint WHERE conrelid = 'shop.orders'::regclass ORDER BY 1")).toEqual([{ conname: 'orders_pkey' }, { conname: 'orders_total_check' }]);
    expect(await s.pg.query(db, "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop' AND c.relkind IN ('r', 'S', 'i') ORDER BY 1")).toEqual([
      { relname: 'orders' }, { relname: 'orders_id_seq' }, { relname: 'orders_pkey' }, { relname: 'orders_status_idx' },
    ]);
  });

  it('restores the referenced table too when both are asked for, with the foreign key and an identity column', async () => {
    const run = await runCli(['restore', 'latest', '--table', 'shop.orders', '--table', 'shop.customers', '--table', 'shop.items', '--target-db', 'three_tables', '--yes'], s.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  3 of 3 tables match the row counts recorded at backup time');
    expect(run.stdout).not.toContain('not restored');
    const db = into('three_tables');
    expect(await s.pg.query(db, "SELECT conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1")).toEqual([{ conname: 'items_order_id_fkey' }, { conname: 'orders_customer_id_fkey' }]);
    expect(await s.pg.query(db, 'INSERT INTO shop.items (order_id) VALUES (2) RETURNING id')).toEqual([{ id: 2 }]);
    expect(await s.pg.query(db, "SELECT to_regclass('public.events') AS events")).toEqual([{ events: null }]);
  });

  it('refuses an unknown table, --table without --target-db, a table without its schema and an existing target, changing nothing', async () => {
    const unknown = await runCli(['restore', 'latest', '--table', 'shop.nope', '--target-db', 'never_made', '--yes'], s.env);
    expect(unknown.code).toBe(66);
    expect(unknown.stderr).toContain(`Backup ${manifest.id} has no table shop.nope; its tables: public.events, shop.customers, shop.items, shop.orders. Nothing was changed`);
    const inPlace = await runCli(['restore', 'latest', '--table', 'shop.orders', '--yes'], s.env);
    expect(inPlace.code).toBe(64);
    expect(inPlace.stderr).toContain('restore --table restores into a new database: add --target-db NAME, a database that does not exist yet');
    const bare = await runCli(['restore', 'latest', '--table', 'orders', '--target-db', 'never_made', '--yes'], s.env);
    expect(bare.code).toBe(64);
    expect(bare.stderr).toContain('--table orders: give the table with its schema, like --table public.orders');
    const existing = await runCli(['restore', 'latest', '--table', 'shop.orders', '--target-db', 'app', '--yes'], s.env);
    expect(existing.code).toBe(64);
    expect(existing.stderr).toContain('restore --table restores into a new database, and app exists; nothing was changed');
    expect(await s.pg.query(s.pg.admin, "SELECT datname FROM pg_database WHERE datname = 'never_made'")).toEqual([]);
  });

  it('plans and checks a table restore in a dry run without creating anything', async () => {
    const run = await runCli(['restore', 'latest', '--table', 'shop.orders', '--target-db', 'dry_tables', '--dry-run'], s.env);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Effect:  restore only these tables, with the types, functions and sequences they need, into the new database dry_tables');
    expect(run.stdout).toContain('Dry run passed; nothing was changed.');
    expect(await s.pg.query(s.pg.admin, "SELECT datname FROM pg_database WHERE datname LIKE 'dry_tables%'")).toEqual([]);
  });
});
