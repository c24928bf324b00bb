/**
 * The SQLite source with the real sqlite3 tool on real files: a consistent copy of a database an
 * application writes to continuously (WAL and rollback journal), its inventory, the restore into a
 * scratch file and its check, a corrupt database, and inputs keepsake must refuse clearly.
 */
import { mkdir, open, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EXIT_CODES, KeepsakeError } from '../../src/errors';
import { sqliteFile } from '../../src/sources/sqlite';
import { count, createShop, sqlite, startShopWriter } from '../support/sqlite';
import { makeWorkspace } from '../support/workspace';

let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
let work: string;
beforeEach(async () => {
  workspace = await makeWorkspace();
  work = join(workspace.root, 'work');
  await mkdir(work);
});
afterEach(() => workspace.remove());

const rowsOf = (tables: { name: string; rows: number | null }[], name: string) => tables.find((table) => table.name === name)?.rows;

describe.each(['wal', 'delete'] as const)('a database in journal mode %s, written continuously during the snapshot', (mode) => {
  it('is copied consistently: integrity_check ok, whole transactions only, and the restored copy has the snapshot\'s counts', async () => {
    const db = join(workspace.root, 'shop data.db');
    const initial = 20_000;
    createShop(db, mode, initial);
    const writer = startShopWriter(db, initial + 1);
    try {
      await writer.moreAcks(20);
      const committedBefore = writer.acked();
      const source = sqliteFile(db);
      const snapshot = await source.snapshot(work);
      // The application went on writing after the copy was taken: those rows must not be in it.
      await writer.moreAcks(20);
      const committedLater = writer.acked();

      expect(snapshot.inventory.integrity).toBe('ok');
      const orders = rowsOf(snapshot.inventory.tables, 'orders')!;
      expect(orders).toBeGreaterThanOrEqual(initial + committedBefore);
      expect(orders).toBeLessThan(initial + committedLater);
      // Each transaction wrote an order and two lines: a torn copy would break this.
      expect(rowsOf(snapshot.inventory.tables, 'order_lines')).toBe(2 * orders);

      const restored = await source.restoreScratch(source.dump(snapshot), work);
      const check = await source.verifyRestored(restored, snapshot.inventory);
      expect(check.problems).toEqual([]);
      expect(check.ok).toBe(true);
      expect(check.tables).toEqual([
        { schema: 'main', name: 'order_lines', kind: 'table', expected: 2 * orders, actual: 2 * orders, ok: true },
        { schema: 'main', name: 'orders', kind: 'table', expected: orders, actual: orders, ok: true },
      ]);
      expect(count(restored, 'orders')).toBe(orders);
      expect(sqlite(restored, 'PRAGMA integrity_check').trim()).toBe('ok');
      await snapshot.release();
    } finally {
      await writer.stop();
    }
    expect(sqlite(db, 'PRAGMA integrity_check').trim()).toBe('ok');
  });
});

describe('inventory', () => {
  it('names the source by the file stem, counts tables whatever their names, skips SQLite\'s own and virtual tables', async () => {
    const db = join(workspace.root, `it's "odd" name.sqlite3`);
    sqlite(db, 'CREATE TABLE "a ""quoted"" table" (x)', 'INSERT INTO "a ""quoted"" table" VALUES (1), (2)', 'CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)', 'INSERT INTO t DEFAULT VALUES', 'CREATE VIRTUAL TABLE docs USING fts5(body)', "INSERT INTO docs VALUES ('hello')");
    const source = sqliteFile(db);
    expect(source.name).toBe(`it's "odd" name`);
    expect(source.describe()).toBe(db);
    const { inventory } = await source.snapshot(work);
    expect(inventory.integrity).toBe('ok');
    expect(inventory.tables.map((table) => table.name)).not.toContain('sqlite_sequence');
    expect(inventory.tables.map((table) => table.name)).not.toContain('docs');
    expect(rowsOf(inventory.tables, 'a "quoted" table')).toBe(2);
    expect(rowsOf(inventory.tables, 't')).toBe(1);
    expect(rowsOf(inventory.tables, 'docs_content')).toBe(1);
  });

  it('reports a corrupt database through integrity_check, and a restored copy that differs from the inventory', async () => {
    const db = join(workspace.root, 'broken.db');
    createShop(db, 'delete', 2000);
    // Overwrite pages in the middle of the orders table's b-tree; page 1 (the header) stays intact.
    const handle = await open(db, 'r+');
    await handle.write(Buffer.alloc(4096 * 4, 0x5a), 0, 4096 * 4, 4096 * 40);
    await handle.close();
    const source = sqliteFile(db);
    const snapshot = await source.snapshot(work);
    expect(snapshot.inventory.integrity).not.toBe('ok');
    expect((snapshot.inventory.integrity as string[]).length).toBeGreaterThan(0);

    const good = join(workspace.root, 'good.db');
    createShop(good, 'delete', 10);
    const check = await sqliteFile(good).verifyRestored(snapshot.file, { integrity: 'ok', tables: [{ name: 'orders', rows: 10 }, { name: 'gone', rows: 1 }] });
    expect(check.ok).toBe(false);
    expect(check.problems[0]).toMatch(/^integrity_check of the restored copy failed: /);
    expect(check.problems).toContain('table gone is missing');
  });
});

describe('refuses clearly', () => {
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeepsakeError);
    return error as KeepsakeError;
  };

  it('a missing file (66)', async () => {
    const error = await failure(sqliteFile(join(workspace.root, 'nope.db')).snapshot(work));
    expect(error.exitCode).toBe(EXIT_CODES.notFound);
    expect(error.message).toContain('does not exist: check SQLITE_PATHS');
  });

  it('a file that is not a SQLite database, and a folder (65)', async () => {
    const text = join(workspace.root, 'notes.db');
    await writeFile(text, 'just some text, not a database\n');
    const error = await failure(sqliteFile(text).preflight());
    expect(error.exitCode).toBe(EXIT_CODES.dataError);
    expect(error.message).toContain('is not a SQLite 3 database');
    expect((await failure(sqliteFile(workspace.root).preflight())).message).toContain('is not a file');
  });

  it('a machine without the sqlite3 tool (69), leaving no snapshot folder behind', async () => {
    const db = join(workspace.root, 'app.db');
    sqlite(db, 'CREATE TABLE t (x)');
    const error = await failure(sqliteFile(db, { binary: join(workspace.root, 'no-sqlite3') }).snapshot(work));
    expect(error.exitCode).toBe(EXIT_CODES.unavailable);
    expect(error.message).toContain('install the sqlite3 tool');
    expect(await readdir(work)).toEqual([]);
  });

  it('a database an application keeps locked longer than the busy timeout', async () => {
    const db = join(workspace.root, 'locked.db');
    createShop(db, 'delete', 10);
    // An application in the middle of a long write: it holds the EXCLUSIVE lock until it commits.
    const { spawn } = await import('node:child_process');
    const holder = spawn('sqlite3', ['-batch', db], { stdio: ['pipe', 'pipe', 'pipe'] });
    holder.stdin.write("BEGIN EXCLUSIVE; SELECT 'locked';\n");
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    try {
      const error = await failure(sqliteFile(db, { busyTimeoutMs: 200 }).snapshot(work));
      expect(error.message).toMatch(/database is locked.*busy timeout/);
    } finally {
      holder.stdin.end('ROLLBACK;\n');
    }
  });

  it('restored bytes that are not a database', async () => {
    const error = await failure(sqliteFile(join(workspace.root, 'app.db')).restoreScratch(Readable.from([Buffer.from('garbage')]), work));
    expect(error.exitCode).toBe(EXIT_CODES.dataError);
  });
});
