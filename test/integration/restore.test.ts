import { rm } from 'node:fs/promises';
import pg from 'pg';
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
  const databasesLike = async (pattern: string) => (await s.pg.query<{ datname: string }>(s.pg.admin, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [pattern])).map((row) => row.datname);

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
    expect(run.stderr).toMatch(/Effect: {2}restore the backup beside app \(\d+ tables, .*\) as app_restoring_\d{8}_\d{6}, check it, then swap/);
    expect(run.stderr).toContain('Refusing to restore without confirmation: no terminal to ask on');
    expect(await contentOf(s.pg, s.db)).toEqual(before);
    await s.pg.query(s.db, 'DELETE FROM public.empty_table');
  });

  it('checks everything in a dry run and changes nothing', async () => {
    const run = await runCli(['restore', '1', '--target-db', 'never_created', '--dry-run'], s.env);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter(Boolean).map((line) => line.split(':')[0])).toEqual(['ok   space', 'ok   privileges', 'ok   mode', 'ok   pg_restore', 'ok   server version', 'ok   backup integrity', 'Dry run passed; nothing was changed.']);
    expect(await s.pg.query(s.pg.admin, "SELECT 1 FROM pg_database WHERE datname = 'never_created'")).toEqual([]);
    // Sizes in units a person reads, not raw byte counts.
    expect(run.stdout).toMatch(/^ok {3}space: [\d.]+ [kMGT]B free in .*, the archive needs [\d.]+ [kMG]?B$/m);
  });

  it('says in a dry run which mode a restore over the database uses and the room a swap needs on the server', async () => {
    const swap = await runCli(['restore', 'latest', '--dry-run'], s.env);
    expect(swap.code).toBe(0);
    expect(swap.stdout).toMatch(/^ok {3}mode: swap: the restored copy needs room beside app on the server, about [\d.]+ MB \(app's size now; .*\); without that room, use --in-place$/m);
    const inPlace = await runCli(['restore', 'latest', '--dry-run', '--in-place'], s.env);
    expect(inPlace.code).toBe(0);
    expect(inPlace.stdout).toMatch(/^ok {3}mode: in place \(--in-place\): app is dropped after a safety backup and refuses connections until the restore is done$/m);
    expect(await databasesLike('app\\_%')).toEqual([]);
  });

  it('names what the role lacks, in the dry run and before the restore changes anything', async () => {
    await s.pg.query(s.pg.admin, "CREATE ROLE restorer LOGIN PASSWORD 'restorer' CREATEDB");
    // An application session of the superuser, which only a superuser may end.
    const app = new pg.Client({ ...s.db });
    await app.connect();
    const asRestorer = { ...s.env, POSTGRES_USER: 'restorer', POSTGRES_PASSWORD: 'restorer' };
    try {
      const before = await contentOf(s.pg, s.db);
      const dry = await runCli(['restore', 'latest', '--dry-run'], asRestorer);
      expect(dry.code).toBe(65);
      expect(dry.stdout).toContain(`FAIL privileges: role restorer lacks ownership of app (owned by ${s.db.user}), to refuse connections to it, rename or drop it: restore as ${s.db.user} or a superuser`);
      expect(dry.stdout).toContain(`; and the right to end the superuser sessions connected to app now (1 of ${s.db.user}): only a superuser may; restore as one, or close them first`);
      const run = await runCli(['restore', 'latest', '--yes'], asRestorer);
      expect(run.code).toBe(69);
      expect(run.stderr).toMatch(/Cannot restore into app: role restorer lacks ownership of app .*\. Nothing was changed\./);
      expect(await contentOf(s.pg, s.db)).toEqual(before);
      expect(await databasesLike('app\\_%')).toEqual([]);
    } finally {
      await app.end();
      await s.pg.query(s.pg.admin, 'DROP ROLE restorer');
    }
  });

  it('replaces a database by a swap, keeping the previous one under another name instead of a safety backup', async () => {
    await s.pg.query(s.db, "UPDATE shop.customers SET email = 'changed-' || id || '@x.io' WHERE id <= 10");
    const changed = await contentOf(s.pg, s.db);
    const run = await runCli(['restore', manifest.id, '--yes'], s.env);
    expect(run.code).toBe(0);
    const kept = /the previous database is kept as (app_pre_restore_\d{8}_\d{6}), with every write made before the swap; drop it when no longer needed: DROP DATABASE "\1";/.exec(run.stdout)?.[1];
    expect(kept).toBeDefined();
    expect(await contentOf(s.pg, s.db)).toEqual(original);
    expect(await contentOf(s.pg, { ...s.db, database: kept! })).toEqual(changed);
    expect(JSON.parse((await runCli(['list', '--json', '--tier', 'pre-restore'], s.env)).stdout)).toEqual([]);
    await s.pg.query(s.pg.admin, `DROP DATABASE "${kept}"`);
  });

  it('leaves the database untouched when the restore beside it fails, and drops the copy', async () => {
    await s.pg.query(s.db, "INSERT INTO public.empty_table VALUES (6)");
    const before = await contentOf(s.pg, s.db);
    const binDir = await makeBinDir({ pg_restore: 'case "$*" in *backup.dump*) "$REAL" --section=pre-data "$@"; echo "pg_restore: error: simulated failure" >&2; exit 1;; esac\nexec "$REAL" "$@"' });
    try {
      const run = await runCli(['restore', manifest.id, '--yes'], { ...s.env, PG_BIN_DIR: binDir });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/Restore of app_\d{8}_\d{6} into app@127\.0\.0\.1:\d+ failed: pg_restore exited with code 1: .*simulated failure.*\. app was not touched\. The restored copy app_restoring_\d{8}_\d{6} was dropped\./s);
      expect(await contentOf(s.pg, s.db)).toEqual(before);
      expect(await databasesLike('app\\_%')).toEqual([]);
    } finally {
      await rm(binDir, { recursive: true, force: true });
      await s.pg.query(s.db, 'DELETE FROM public.empty_table');
    }
  });

  it('--in-place says that nothing was changed when the safety backup fails', async () => {
    await s.pg.query(s.db, "INSERT INTO public.empty_table VALUES (8)");
    const before = await contentOf(s.pg, s.db);
    const binDir = await makeBinDir({ pg_dump: 'echo "pg_dump: error: simulated failure" >&2; exit 1' });
    try {
      const run = await runCli(['restore', manifest.id, '--yes', '--in-place'], { ...s.env, PG_BIN_DIR: binDir });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/The safety backup of app@127\.0\.0\.1:\d+ failed: pg_dump exited with code 1: .*simulated failure.*\. Nothing was changed: the database was not touched\./s);
      expect(await contentOf(s.pg, s.db)).toEqual(before);
    } finally {
      await rm(binDir, { recursive: true, force: true });
      await s.pg.query(s.db, 'DELETE FROM public.empty_table');
    }
  });

  it('--in-place replaces a database after a safety backup, which it keeps', async () => {
    await s.pg.query(s.db, "UPDATE shop.customers SET email = 'changed-' || id || '@x.io' WHERE id <= 10");
    const run = await runCli(['restore', manifest.id, '--yes', '--in-place'], s.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/the previous contents are kept as pre-restore\/app_\d{8}_\d{6}/);
    expect(await contentOf(s.pg, s.db)).toEqual(original);
    const list = JSON.parse((await runCli(['list', '--json', '--tier', 'pre-restore'], s.env)).stdout);
    expect(list).toHaveLength(1);
  });

  it('--in-place puts the safety backup back when the restore fails after the drop', async () => {
    await s.pg.query(s.db, "INSERT INTO public.empty_table VALUES (7)");
    const before = await contentOf(s.pg, s.db);
    // The restore of the chosen backup creates the schema, then dies; the safety backup restores normally.
    const binDir = await makeBinDir({ pg_restore: 'case "$*" in *backup.dump*) "$REAL" --section=pre-data "$@"; echo "pg_restore: error: simulated failure" >&2; exit 1;; esac\nexec "$REAL" "$@"' });
    try {
      const run = await runCli(['restore', manifest.id, '--yes', '--in-place'], { ...s.env, PG_BIN_DIR: binDir });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/Restore of app_\d{8}_\d{6} into app@127\.0\.0\.1:\d+ failed: pg_restore exited with code 1: .*simulated failure.*\. The database was put back as it was, from safety backup pre-restore\/app_\d{8}_\d{6}\./s);
      expect(await contentOf(s.pg, s.db)).toEqual(before);
      expect(await databasesLike('app\\_%')).toEqual([]);
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });
});
