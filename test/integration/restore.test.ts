import { rm } from 'node:fs/promises';
import type { Manifest } from '../../src/backup/manifest';
import { runCli } from '../support/cli';
import { contentOf, schemaOf } from '../support/content';
import { makeBinDir } from '../support/fake-bin';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL, allFiles } from '../support/workspace';

describe('keepsake restore', () => {
  let s: Scenario;
  let manifest: Manifest;
  let original: Record<string, string>;

  beforeAll(async () => {
    s = await startScenario({ sql: FIXTURE_SQL });
    const backup = await runCli(['backup', '--json'], s.env);
    expect(backup.code).toBe(0);
    manifest = JSON.parse(backup.stdout) as Manifest;
    original = await contentOf(s.pg, s.db);
  });
  afterAll(async () => s?.stop());

  it('round trip: restores into a new database identical to the source (schema, data, sequences, large objects)', async () => {
    const run = await runCli(['restore', 'latest', '--target-db', 'copy', '--yes'], s.env);
    expect(run.stderr).toContain('Effect:  the database does not exist and will be created');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^OK restored manual/${manifest.id} into copy@127\\.0\\.0\\.1:\\d+ in `));
    expect(run.stdout).toContain(`${manifest.inventory.tables.length} of ${manifest.inventory.tables.length} tables match`);
    const copy = { ...s.db, database: 'copy' };
    expect(await contentOf(s.pg, copy)).toEqual(original);
    expect(schemaOf(copy)).toEqual(schemaOf(s.db));
    expect(await allFiles(s.tmpDir)).toEqual([]);
  });

  it('refuses to replace a database holding data without confirmation, and leaves it untouched', async () => {
    await s.pg.query(s.db, "INSERT INTO public.empty_table VALUES (42)");
    const before = await contentOf(s.pg, s.db);
    const run = await runCli(['restore', 'latest'], s.env);
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(/Effect: {2}DROP the existing database \(\d+ tables, .*\) and replace it with the backup/);
    expect(run.stderr).toContain('Refusing to restore without confirmation: no terminal to ask on');
    expect(await contentOf(s.pg, s.db)).toEqual(before);
    await s.pg.query(s.db, 'DELETE FROM public.empty_table');
  });

  it('checks everything in a dry run and changes nothing', async () => {
    const run = await runCli(['restore', '1', '--target-db', 'never_created', '--dry-run'], s.env);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter(Boolean).map((line) => line.split(':')[0])).toEqual(['ok   space', 'ok   privileges', 'ok   pg_restore', 'ok   server version', 'ok   backup integrity', 'Dry run passed; nothing was changed.']);
    expect(await s.pg.query(s.pg.admin, "SELECT 1 FROM pg_database WHERE datname = 'never_created'")).toEqual([]);
  });

  it('replaces a database after a safety backup, which it keeps', async () => {
    await s.pg.query(s.db, "UPDATE shop.customers SET email = 'changed-' || id || '@x.io' WHERE id <= 10");
    const run = await runCli(['restore', manifest.id, '--yes'], s.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/the previous contents are kept as pre-restore\/app_\d{8}_\d{6}/);
    expect(await contentOf(s.pg, s.db)).toEqual(original);
    const list = JSON.parse((await runCli(['list', '--json', '--tier', 'pre-restore'], s.env)).stdout);
    expect(list).toHaveLength(1);
  });

  it('says that nothing was changed when the safety backup fails', async () => {
    await s.pg.query(s.db, "INSERT INTO public.empty_table VALUES (8)");
    const before = await contentOf(s.pg, s.db);
    const binDir = await makeBinDir({ pg_dump: 'echo "pg_dump: error: simulated failure" >&2; exit 1' });
    try {
      const run = await runCli(['restore', manifest.id, '--yes'], { ...s.env, PG_BIN_DIR: binDir });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/The safety backup of app@127\.0\.0\.1:\d+ failed: pg_dump exited with code 1: .*simulated failure.*\. Nothing was changed: the database was not touched\./s);
      expect(await contentOf(s.pg, s.db)).toEqual(before);
    } finally {
      await rm(binDir, { recursive: true, force: true });
      await s.pg.query(s.db, 'DELETE FROM public.empty_table');
    }
  });

  it('puts the safety backup back when the restore fails after the drop', async () => {
    await s.pg.query(s.db, "INSERT INTO public.empty_table VALUES (7)");
    const before = await contentOf(s.pg, s.db);
    // The restore of the chosen backup creates the schema, then dies; the safety backup restores normally.
    const binDir = await makeBinDir({ pg_restore: 'case "$*" in *backup.dump*) "$REAL" --section=pre-data "$@"; echo "pg_restore: error: simulated failure" >&2; exit 1;; esac\nexec "$REAL" "$@"' });
    try {
      const run = await runCli(['restore', manifest.id, '--yes'], { ...s.env, PG_BIN_DIR: binDir });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/Restore of app_\d{8}_\d{6} into app@127\.0\.0\.1:\d+ failed: pg_restore exited with code 1: .*simulated failure.*\. The database was put back as it was, from safety backup pre-restore\/app_\d{8}_\d{6}\./s);
      expect(await contentOf(s.pg, s.db)).toEqual(before);
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });
});
