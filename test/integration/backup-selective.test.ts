import type { Manifest } from '../../src/backup/manifest';
import type { RestoreTestResult } from '../../src/restore/restore-test';
import { runCli } from '../support/cli';
import { useScenario } from '../support/scenario';
import { SHOP_SQL } from '../support/shop-schema';

describe('selective backups: schema-only and excluded table data', () => {
  const scenario = useScenario({ sql: SHOP_SQL });

  it('backup --schema-only keeps the schema without data, says so, and its restore test checks the schema', async () => {
    const s = scenario();
    const backup = await runCli(['backup', '--schema-only', '--json'], s.env);
    expect(backup.code).toBe(0);
    const manifest = JSON.parse(backup.stdout) as Manifest;
    expect(manifest.tier).toBe('manual');
    expect(manifest.contents).toEqual({ schemaOnly: true, excludedTableData: [] });
    expect(manifest.pgDump!.args).toContain('--schema-only');
    // No row count is claimed for data the backup does not hold.
    expect(manifest.inventory.tables.map((table) => table.rows)).toEqual([null, null, null, null]);

    const list = await runCli(['list'], s.env);
    expect(list.stdout).toMatch(/CONTENTS\n.*schema only$/m);

    const test = await runCli(['restore-test', 'latest'], s.env);
    expect(test.code).toBe(0);
    expect(test.stdout).toContain('PASSED restore test of manual/');
    expect(test.stdout).toContain('  contents: schema only (no table data)');
    expect(test.stdout).toContain('  4 of 4 tables exist (schema only: no row counts to check)');
  });

  it('a tier named in BACKUP_SCHEMA_ONLY_TIERS is backed up schema-only; a full manual backup stays full', async () => {
    const s = scenario();
    const env = { ...s.env, BACKUP_SCHEMA_ONLY_TIERS: 'daily' };
    const daily = await runCli(['backup', '--tier', 'daily', '--json'], env);
    expect(daily.code).toBe(0);
    expect((JSON.parse(daily.stdout) as Manifest).contents).toEqual({ schemaOnly: true, excludedTableData: [] });
    const manual = await runCli(['backup', '--json'], env);
    const full = JSON.parse(manual.stdout) as Manifest;
    expect(full.contents).toBeUndefined();
    expect(full.inventory.tables.find((table) => table.name === 'events')!.rows).toBe(500);
  });

  it('PGDUMP_EXCLUDE_TABLE_DATA leaves those tables\' rows out, says which, and the restore test expects them empty', async () => {
    const s = scenario();
    const env = { ...s.env, PGDUMP_EXCLUDE_TABLE_DATA: 'EVENTS, shop.nothing_matches_*' };
    const backup = await runCli(['backup'], env);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain('  contents: data of 1 table excluded: public.events');
    const list = await runCli(['list', '--json'], env);
    const [row] = JSON.parse(list.stdout) as { contents: unknown }[];
    expect(row!.contents).toEqual({ schemaOnly: false, excludedTableData: ['public.events'] });

    const test = await runCli(['restore-test', 'latest', '--json'], env);
    expect(test.code).toBe(0);
    const result = JSON.parse(test.stdout) as RestoreTestResult;
    expect(result.ok).toBe(true);
    expect(result.tables.find((table) => table.name === 'events')).toEqual({ schema: 'public', name: 'events', kind: 'table', expected: 0, actual: 0, ok: true, dataExcluded: true });
    expect(result.tables.find((table) => table.name === 'orders')).toMatchObject({ expected: 3, actual: 3, ok: true });
    const text = await runCli(['restore-test', 'latest'], env);
    expect(text.stdout).toContain('  4 of 4 tables match the row counts recorded at backup time (1 with excluded data: expected empty)');
  });

  it('refuses --schema-only for a scheduled tier and a BACKUP_SCHEMA_ONLY_TIERS naming anything but a scheduled tier, saying what to do', async () => {
    const s = scenario();
    const daily = await runCli(['backup', '--schema-only', '--tier', 'daily'], s.env);
    expect(daily.code).toBe(64);
    expect(daily.stderr).toContain('--schema-only makes manual backups only, not daily ones; to make every daily backup schema-only set BACKUP_SCHEMA_ONLY_TIERS=daily');
    const config = await runCli(['backup'], { ...s.env, BACKUP_SCHEMA_ONLY_TIERS: 'daily,manual' });
    expect(config.code).toBe(78);
    expect(config.stderr).toContain('BACKUP_SCHEMA_ONLY_TIERS="daily,manual": expected a comma list of daily, weekly, monthly, yearly (not manual); a manual backup is made schema-only with keepsake backup --schema-only');
  });
});
