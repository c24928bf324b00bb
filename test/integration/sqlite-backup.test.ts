/**
 * SQLite sources end to end through the built CLI: SQLITE_PATHS, a file written continuously while
 * `keepsake backup` runs, the restore test, verify, the write-back, list, health and retention; and
 * a PostgreSQL database and a SQLite file backed up in one run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../../src/backup/manifest';
import type { RestoreTestResult } from '../../src/restore/restore-test';
import { runCli } from '../support/cli';
import { startScenario, type Scenario } from '../support/scenario';
import { count, createShop, sqlite, startShopWriter } from '../support/sqlite';
import { allFiles, makeWorkspace } from '../support/workspace';

const FIRST_ORDERS = 3000;
const rowsOf = (manifest: Manifest, table: string) => manifest.inventory.tables.find((t) => t.name === table)?.rows;

describe('a sidecar of SQLite files alone (no PostgreSQL settings)', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let db: string;
  let env: Record<string, string>;
  let manifest: Manifest;
  let ackedBefore: number;
  let ackedAfter: number;

  beforeAll(async () => {
    workspace = await makeWorkspace();
    db = join(workspace.root, 'app.db');
    createShop(db, 'wal', FIRST_ORDERS);
    env = { SQLITE_PATHS: db, BACKUP_DIR: workspace.backupDir, STATE_DIR: workspace.stateDir, RESTORE_WORK_DIR: workspace.root };
  });
  afterAll(async () => workspace?.remove());

  it('backs up a file written continuously during the backup: whole transactions, integrity_check and counts in the manifest', async () => {
    const writer = startShopWriter(db, FIRST_ORDERS + 1);
    try {
      await writer.moreAcks(20);
      ackedBefore = writer.acked();
      const run = await runCli(['backup', '--tier', 'daily', '--json'], env);
      ackedAfter = writer.acked();
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      // One source: one manifest, as for a single database.
      manifest = JSON.parse(run.stdout) as Manifest;
      // The application kept writing after the copy too: it was never locked out.
      await writer.moreAcks(20);
    } finally {
      await writer.stop();
    }
    expect(manifest).toMatchObject({ source: { kind: 'sqlite', name: 'app' }, database: db, archiveFormat: 'sqlite', inventory: { integrity: 'ok' } });
    expect(manifest.key).toMatch(/^daily\/\d{4}\/\d{2}\/\d{2}\/app_\d{8}_\d{6}\.sqlite\.zst$/);
    expect(manifest.server).toBeUndefined();
    expect(manifest.sqlite?.version).toMatch(/^3\.\d+/);
    const orders = rowsOf(manifest, 'orders')!;
    // Each transaction adds one order and two lines: a torn copy would break the ratio.
    expect(rowsOf(manifest, 'order_lines')).toBe(2 * orders);
    expect(orders - FIRST_ORDERS).toBeGreaterThanOrEqual(ackedBefore);
    expect(orders - FIRST_ORDERS).toBeLessThanOrEqual(ackedAfter);
    expect(count(db, 'orders')).toBeGreaterThan(orders);
  });

  it('its report names the file and this host, not a PostgreSQL server the sidecar does not have', async () => {
    const reports = readdirSync(join(workspace.stateDir, 'reports')).filter((name) => name.includes('backup-succeeded'));
    expect(reports).toHaveLength(1);
    const text = readFileSync(join(workspace.stateDir, 'reports', reports[0]!), 'utf8');
    expect(text).toContain(`OK daily backup app@${hostname()}`);
    expect(text).not.toContain('postgres@localhost');
    expect(text).toContain(`${db}, copied online by sqlite3 ${manifest.sqlite!.version}; integrity_check ok`);
    expect(text).toContain(`zstd -dc ${manifest.id}.sqlite.zst &gt; app.db`);
  });

  it('restore-test: the restored copy passes integrity_check with the snapshot’s counts, in the same report as PostgreSQL’s', async () => {
    const run = await runCli(['restore-test', 'latest', '--json'], env);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as RestoreTestResult;
    expect(result).toMatchObject({ ok: true, problems: [], restoredInto: 'a scratch copy of the file', backup: { id: manifest.id, source: 'app' } });
    expect(result.tables).toEqual([
      { schema: 'main', name: 'order_lines', kind: 'table', expected: rowsOf(manifest, 'order_lines'), actual: rowsOf(manifest, 'order_lines'), ok: true },
      { schema: 'main', name: 'orders', kind: 'table', expected: rowsOf(manifest, 'orders'), actual: rowsOf(manifest, 'orders'), ok: true },
    ]);
    const human = await runCli(['restore-test', 'latest', '--db', 'app'], env);
    expect(human.stdout).toMatch(/^PASSED restore test of daily\/app_\d{8}_\d{6} .* into a scratch copy of the file\n/);
    expect(human.stdout).toContain('2 of 2 tables match the row counts recorded at backup time');
  });

  it('verify reads it back and runs integrity_check on the decompressed file', async () => {
    const run = await runCli(['verify', 'latest'], env);
    expect(run.stdout).toMatch(/ok\s+sha256: .*\n(.*\n)*\s+ok\s+database: SQLite 3 database, integrity_check ok/);
    expect(run.code).toBe(0);
  });

  it('list shows it by its name; health judges its freshness without asking for a PostgreSQL server', async () => {
    const list = await runCli(['list', '--json'], env);
    expect((JSON.parse(list.stdout) as { id: string; source: unknown }[]).map((row) => [row.id, row.source])).toEqual([[manifest.id, { kind: 'sqlite', name: 'app' }]]);
    const health = await runCli(['health', '--json'], env);
    const checks = (JSON.parse(health.stdout) as { checks: { name: string; status: string }[] }).checks;
    expect(checks.find((check) => check.name === 'freshness:daily')?.status).toBe('ok');
    expect(checks.map((check) => check.name)).not.toContain('database');
  });

  it('restore refuses PostgreSQL-only options, and without --yes, changing nothing', async () => {
    const before = readFileSync(db);
    const targetDb = await runCli(['restore', 'latest', '--target-db', 'other', '--yes'], env);
    expect(targetDb.stderr).toContain(`--target-db: not for ${manifest.id}, a backup of the SQLite file ${db}`);
    expect(targetDb.code).toBe(64);
    const inPlace = await runCli(['restore', 'latest', '--in-place', '--yes'], env);
    expect(inPlace.stderr).toContain('--in-place: not for');
    expect(inPlace.code).toBe(64);
    const unconfirmed = await runCli(['restore', 'latest', '--db', 'app'], env);
    expect(unconfirmed.stderr).toContain(`Refusing to replace ${db} without confirmation`);
    expect(unconfirmed.code).toBe(64);
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('restore --db app --yes writes the file back: a safety copy of the current one, then the snapshot’s contents', async () => {
    const current = count(db, 'orders');
    const run = await runCli(['restore', 'latest', '--db', 'app', '--yes'], env);
    expect(run.stderr).toContain(`Target:  ${db} (SQLite file`);
    expect(run.code).toBe(0);
    const safety = /the previous file is kept as (\S+);/.exec(run.stdout)?.[1];
    expect(safety).toMatch(new RegExp(`^${db.replace(/[.]/g, '\\.')}\\.before-restore-\\d{8}_\\d{6}$`));
    expect(existsSync(safety!)).toBe(true);
    expect(count(safety!, 'orders')).toBe(current);
    expect(count(db, 'orders')).toBe(rowsOf(manifest, 'orders'));
    expect(count(db, 'order_lines')).toBe(rowsOf(manifest, 'order_lines'));
    expect(sqlite(db, 'PRAGMA integrity_check').trim()).toBe('ok');
    expect(readdirSync(workspace.root).filter((name) => name.includes('keepsake-'))).toEqual([]);
  });

  it('retention applies to the SQLite source: its newest backup and the newest restore-tested one stay, the one between goes', async () => {
    const ids: string[] = [manifest.id];
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['backup', '--tier', 'daily', '--json'], env);
      expect(run.code).toBe(0);
      ids.push((JSON.parse(run.stdout) as Manifest).id);
    }
    const dailies = async () => (await allFiles(workspace.backupDir)).filter((file) => file.startsWith('daily/') && file.endsWith('.sqlite.zst')).map((file) => file.split('/').pop()!.replace('.sqlite.zst', ''));
    expect(await dailies()).toEqual(ids);
    const cleanup = await runCli(['cleanup'], { ...env, BACKUP_KEEP_DAILY: '1' });
    expect(cleanup.code).toBe(0);
    expect(await dailies()).toEqual([ids[0], ids[2]]);
  });
});

describe('a PostgreSQL database and a SQLite file in one sidecar', () => {
  let s: Scenario;
  let env: Record<string, string>;
  let db: string;

  beforeAll(async () => {
    s = await startScenario({ database: 'shop', sql: 'CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 12);' });
    db = join(s.workspace.root, 'jobs.sqlite3');
    createShop(db, 'delete', 50);
    env = { ...s.env, SQLITE_PATHS: db };
  });
  afterAll(async () => s?.stop());

  it('backs up both in one run, each its own object and manifest; list, restore-test and health see both', async () => {
    const run = await runCli(['backup', '--tier', 'daily', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const manifests = JSON.parse(run.stdout) as Manifest[];
    expect(manifests.map((m) => [m.source, m.archiveFormat, m.inventory.tables.map((t) => [t.name, t.rows])])).toEqual([
      [{ kind: 'postgres', name: 'shop' }, 'custom', [['items', 12]]],
      [{ kind: 'sqlite', name: 'jobs' }, 'sqlite', [['order_lines', 100], ['orders', 50]]],
    ]);
    const list = await runCli(['list'], env);
    expect(list.stdout).toMatch(/^#\s+SOURCE\s+ID/);
    expect(list.stdout).toMatch(/\n\d\s+shop\s+shop_\d{8}_\d{6}\s+daily/);
    expect(list.stdout).toMatch(/\n\d\s+jobs\s+jobs_\d{8}_\d{6}\s+daily/);
    const tested = await runCli(['restore-test', 'latest', '--db', 'jobs'], env);
    expect(tested.stdout).toContain('2 of 2 tables match');
    expect(tested.code).toBe(0);
    // verify's `latest` is the first database's; --db picks the file's.
    expect((await runCli(['verify', 'latest'], env)).stdout).toMatch(/^OK daily\/shop_/);
    const verified = await runCli(['verify', 'latest', '--db', 'jobs'], env);
    expect(verified.stdout).toMatch(/^OK daily\/jobs_\d{8}_\d{6} /);
    expect(verified.stdout).toContain('integrity_check ok');
    expect(verified.code).toBe(0);
    const health = await runCli(['health', '--json'], env);
    const checks = (JSON.parse(health.stdout) as { checks: { name: string; status: string }[] }).checks;
    expect(checks.filter((check) => check.name.startsWith('freshness:daily')).map((check) => [check.name, check.status])).toEqual([
      ['freshness:daily:shop', 'ok'],
      ['freshness:daily:jobs', 'ok'],
    ]);
  });
});
