/**
 * Restoring a SQLite backup over the live file (restoreFile) with the real sqlite3 tool: atomic
 * write-back after a safety copy, only with confirmation, and the checks for an application that
 * still has the file open or writes to it.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EXIT_CODES, KeepsakeError } from '../../src/errors';
import { sqliteFile, type SqliteSnapshot } from '../../src/sources/sqlite';
import { count, createShop, sqlite, startShopWriter } from '../support/sqlite';
import { makeWorkspace } from '../support/workspace';

let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
let dataDir: string;
let work: string;
let db: string;
let snapshot: SqliteSnapshot;
const now = new Date('2026-03-04T05:06:07Z');

/** A backup with 10 orders; the live file then gets 5 more. */
beforeEach(async () => {
  workspace = await makeWorkspace();
  dataDir = join(workspace.root, "app's data");
  work = join(workspace.root, 'work');
  await mkdir(dataDir);
  await mkdir(work);
  db = join(dataDir, 'app.db');
  createShop(db, 'wal', 10);
  snapshot = await sqliteFile(db).snapshot(work);
  sqlite(db, 'INSERT INTO orders SELECT n + 10, randomblob(10) FROM orders WHERE n <= 5');
});
afterEach(() => workspace.remove());

const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(KeepsakeError);
  return error as KeepsakeError;
};

/** sqlite3 holding the file open in WAL mode without writing: -wal and -shm stay beside it. */
async function holdOpen(file: string) {
  const holder = spawn('sqlite3', ['-batch', file], { stdio: ['pipe', 'pipe', 'pipe'] });
  holder.stdin.write("SELECT count(*) FROM orders; SELECT 'ready';\n");
  await new Promise<void>((resolve) => holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
  return { close: () => new Promise<void>((resolve) => (holder.on('close', () => resolve()), holder.stdin.end())) };
}

it('puts the backup back atomically, keeping the replaced database as a safety copy made with .backup', async () => {
  await stat(`${db}-wal`).then(() => fail('no -wal expected when no one has the file open'), () => undefined);
  const result = await sqliteFile(db).restoreFile(createReadStream(snapshot.file), { confirm: true, observeMs: 300, now });
  expect(result.warnings).toEqual([]);
  expect(result.safetyCopy).toBe(join(dataDir, 'app.db.before-restore-20260304_050607'));
  expect(count(db, 'orders')).toBe(10);
  expect(count(result.safetyCopy!, 'orders')).toBe(15);
  expect(sqlite(db, 'PRAGMA integrity_check').trim()).toBe('ok');
  // No temp file, copy folder or stale companion file is left in the application's folder.
  expect(await readdir(dataDir)).toEqual(['app.db', 'app.db.before-restore-20260304_050607']);
});

it('restores to a path where no file is yet, without a safety copy', async () => {
  const fresh = join(dataDir, 'new.db');
  const result = await sqliteFile(fresh).restoreFile(createReadStream(snapshot.file), { confirm: true, observeMs: 100 });
  expect(result.safetyCopy).toBeUndefined();
  expect(count(fresh, 'orders')).toBe(10);
});

it('refuses without confirmation and changes nothing', async () => {
  const error = await failure(sqliteFile(db).restoreFile(createReadStream(snapshot.file), { confirm: false }));
  expect(error.exitCode).toBe(EXIT_CODES.usage);
  expect(error.message).toContain('without confirmation');
  expect(count(db, 'orders')).toBe(15);
  expect(await readdir(dataDir)).toEqual(['app.db']);
});

it('warns when -wal/-shm are present (the file is open) but nothing writes', async () => {
  const holder = await holdOpen(db);
  try {
    const result = await sqliteFile(db).restoreFile(createReadStream(snapshot.file), { confirm: true, observeMs: 300, now });
    expect(result.warnings).toEqual(['app.db-wal, app.db-shm present beside app.db: an application may still have it open; restart it after the restore']);
    // The safety copy has what was only in the -wal: the 5 orders added after the backup.
    expect(count(result.safetyCopy!, 'orders')).toBe(15);
  } finally {
    await holder.close();
  }
  expect(count(db, 'orders')).toBe(10);
  expect(sqlite(db, 'PRAGMA integrity_check').trim()).toBe('ok');
});

it("removes a crashed application's -wal, which SQLite would otherwise replay into the restored file", async () => {
  const app = spawn('sqlite3', ['-batch', db], { stdio: ['pipe', 'pipe', 'pipe'] });
  app.stdin.write("INSERT INTO orders SELECT n + 100, randomblob(10) FROM orders; SELECT 'done';\n");
  await new Promise<void>((resolve) => app.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('done') && resolve()));
  const gone = new Promise<void>((resolve) => app.on('close', () => resolve()));
  app.kill('SIGKILL'); // no checkpoint: the 15 new orders are only in app.db-wal
  await gone;
  expect((await stat(`${db}-wal`)).size).toBeGreaterThan(0);

  const result = await sqliteFile(db).restoreFile(createReadStream(snapshot.file), { confirm: true, observeMs: 300, now });
  expect(result.warnings[0]).toContain('app.db-wal, app.db-shm present');
  expect(count(result.safetyCopy!, 'orders')).toBe(30);
  expect(count(db, 'orders')).toBe(10);
  expect(sqlite(db, 'PRAGMA integrity_check').trim()).toBe('ok');
});

it('refuses while an application writes to the file (75), unless forced', async () => {
  const writer = startShopWriter(db, 1000);
  try {
    await writer.moreAcks(5);
    const error = await failure(sqliteFile(db).restoreFile(createReadStream(snapshot.file), { confirm: true, observeMs: 500 }));
    expect(error.exitCode).toBe(EXIT_CODES.busy);
    expect(error.message).toMatch(/app\.db(-wal)?.* changed within 500 ms\): an application has it open\. Stop it/);
    expect((await readdir(dataDir)).filter((name) => !name.startsWith('app.db'))).toEqual([]);
    const forced = await sqliteFile(db).restoreFile(createReadStream(snapshot.file), { confirm: true, force: true, observeMs: 500 });
    expect(forced.warnings[0]).toContain('replaced anyway (forced)');
  } finally {
    await writer.stop();
  }
});

it('refuses bytes that are not a healthy SQLite database and leaves the file as it was', async () => {
  const error = await failure(sqliteFile(db).restoreFile(Readable.from([Buffer.from('not a database at all')]), { confirm: true, observeMs: 100 }));
  expect(error.exitCode).toBe(EXIT_CODES.dataError);
  expect(error.message).toContain('was left as it was');
  expect(count(db, 'orders')).toBe(15);
  expect(await readdir(dataDir)).toEqual(['app.db']);

  const notDb = join(dataDir, 'notes.db');
  await writeFile(notDb, 'text');
  const refused = await failure(sqliteFile(notDb).restoreFile(createReadStream(snapshot.file), { confirm: true, observeMs: 100 }));
  expect(refused.message).toContain('no safety copy of it can be made');
});
