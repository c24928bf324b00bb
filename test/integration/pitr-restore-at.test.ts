import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config, type DatabaseConfig } from '../../src/config';
import { createStorages, type Storage } from '../../src/storage';
import { listWalArchive } from '../../src/pitr/wal-archive';
import { walManifestKey } from '../../src/pitr/wal-names';
import { runCli } from '../support/cli';
import { databaseEnv } from '../support/cli';
import { streamWal, type WalStream } from '../support/pitr-archive';
import { readCatalog } from '../../src/catalog/catalog';
import { PITR_SERVER_SETTINGS, startTestPostgres, type TestPostgres } from '../support/postgres';
import { startTestS3, type TestS3 } from '../support/s3';
import { makeWorkspace } from '../support/workspace';
import { startPostgresOn } from '../support/pitr-archive';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Acceptance of restore --at: a writer commits one row per transaction (clock_timestamp() in a
 * column; track_commit_timestamp gives each row's exact commit time, which is what
 * recovery_target_time compares), a base backup, then several WAL segments shipped to a local and
 * an S3 target. Each restore must give exactly the rows committed at or before its time.
 */
describe('keepsake restore --at: point-in-time recovery from a base backup and archived WAL', () => {
  let server: TestPostgres;
  let s3: TestS3;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let app: DatabaseConfig;
  let env: Record<string, string>;
  let config: Config;
  let storages: Storage[];
  let wal: WalStream;
  let baseFinishedAt: string;
  let baseStartedAt: string;

  const idsIn = async (db: DatabaseConfig) => (await server.query<{ id: string }>(db, 'SELECT id FROM events ORDER BY id')).map((row) => Number(row.id));
  /** A moment between two commits, as text with microseconds, and the rows committed by then. */
  const momentAfterRow = async (index: number) => {
    const rows = await server.query<{ t: string }>(app, `
      WITH c AS (SELECT id, pg_xact_commit_timestamp(xmin) AS ct FROM events WHERE pg_xact_commit_timestamp(xmin) > $1::timestamptz ORDER BY id),
           n AS (SELECT ct, lead(ct) OVER (ORDER BY ct) AS next, row_number() OVER (ORDER BY ct) AS i FROM c)
      SELECT to_char((ct + (next - ct) / 2) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t FROM n WHERE i = $2`, [baseFinishedAt, index]);
    const t = rows[0]!.t;
    const expected = (await server.query<{ id: string }>(app, 'SELECT id FROM events WHERE pg_xact_commit_timestamp(xmin) <= $1::timestamptz ORDER BY id', [t])).map((row) => Number(row.id));
    return { t, expected };
  };

  beforeAll(async () => {
    [server, s3, workspace] = await Promise.all([startTestPostgres({ settings: { ...PITR_SERVER_SETTINGS, track_commit_timestamp: 'on' } }), startTestS3(), makeWorkspace()]);
    app = await server.createDatabase('app');
    await server.query(app, 'CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text)');
    const tmpDir = join(workspace.root, 'tmp');
    await mkdir(tmpDir);
    await chmod(workspace.root, 0o755);
    await chmod(tmpDir, 0o777); // the recovering cluster runs as the postgres user
    env = { ...databaseEnv(app), BACKUP_DIR: workspace.backupDir, ...s3.env('pitr'), BACKUP_TARGETS: 'local,s3', STATE_DIR: workspace.stateDir, TMPDIR: tmpDir, RESTORE_WORK_DIR: tmpDir, PITR: 'on' };
    config = loadConfig(env);
    storages = createStorages(config);
    wal = await streamWal(server, join(workspace.root, 'spool'));

    let writing = true;
    const client = new pg.Client({ ...app });
    await client.connect();
    const writer = (async () => {
      for (let n = 0; writing; n += 1) {
        await client.query('INSERT INTO events (note) VALUES ($1)', [`row ${n}`]);
        await sleep(5);
      }
    })();
    await sleep(300);
    // The product's own base backup, stored on both targets.
    const base = await runCli(['base-backup'], env);
    expect(base.code).toBe(0);
    const [entry] = (await readCatalog(storages, { tier: 'base' })).backups;
    expect(entry!.copies.map((copy) => copy.storage.name).sort()).toEqual(['local', 's3']);
    ({ finishedAt: baseFinishedAt, startedAt: baseStartedAt } = entry!.manifest);
    for (let round = 0; round < 4; round += 1) {
      await sleep(500);
      await wal.switchAndWait();
      await wal.ship(storages, config);
    }
    writing = false;
    await writer;
    await client.end();
    await wal.switchAndWait();
    await wal.ship(storages, config);
  }, 60_000);
  afterAll(async () => {
    await wal?.stop();
    await Promise.all([server?.stop(), s3?.stop()]);
    await workspace?.remove();
  });

  it.each([
    [20, 'local'],
    [120, 's3'],
    [220, 'local'],
  ])('restores exactly the rows committed by a moment after the %ith commit since the base backup (--from %s)', async (index, from) => {
    const { t, expected } = await momentAfterRow(index);
    expect(expected.length).toBeGreaterThan(index);
    const result = await runCli(['restore', '--at', t, '--target-db', `at_${index}`, '--from', from, '--yes'], env);
    expect(result.stderr + result.stdout).toMatch(/OK restored app as of/);
    expect(result.code).toBe(0);
    expect(await idsIn({ ...app, database: `at_${index}` })).toEqual(expected);
  }, 60_000);

  it('--at latest replays everything archived, the partial segment last', async () => {
    // Rows in a segment not finished yet: archived only as its .partial (the shipper sends it every WAL_SHIP_INTERVAL).
    await server.query(app, "INSERT INTO events (note) SELECT 'in the partial ' || n FROM generate_series(1, 3) n");
    // The insert position: the test server commits asynchronously, so the write position may not hold the commit yet.
    const lsn = (await server.query<{ lsn: string }>(server.admin, 'SELECT pg_current_wal_insert_lsn()::text AS lsn'))[0]!.lsn;
    for (let tries = 0; !(await server.query(server.admin, 'SELECT 1 FROM pg_stat_replication WHERE write_lsn >= $1::pg_lsn', [lsn])).length; tries += 1) {
      if (tries > 100) throw new Error('pg_receivewal did not receive the rows');
      await sleep(100);
    }
    expect((await wal.ship(storages, config, { partial: true })).some((name) => name.endsWith('.partial'))).toBe(true);

    const result = await runCli(['restore', '--at', 'latest', '--target-db', 'at_latest', '--yes'], env);
    expect(result.stdout).toMatch(/OK restored app as of .* \(asked: the end of the archive \(latest\)\)/);
    expect(result.stderr).toMatch(/the last one the partial 0000000100000000000000\w\w\.partial/);
    expect(result.code).toBe(0);
    const all = await idsIn(app);
    expect(await idsIn({ ...app, database: 'at_latest' })).toEqual(all);
    expect((await server.query<{ n: string }>({ ...app, database: 'at_latest' }, "SELECT count(*) AS n FROM events WHERE note LIKE 'in the partial%'"))[0]!.n).toBe('3');
  }, 60_000);

  it('--data-dir writes a data directory a PostgreSQL started on it recovers from, to the same rows', async () => {
    const { t, expected } = await momentAfterRow(150);
    const dir = join(env.TMPDIR!, 'recovered');
    const result = await runCli(['restore', '--at', t, '--data-dir', dir], env);
    expect(result.stdout).toMatch(/OK wrote .*recovered: base backup base\/cluster_/);
    expect(result.stdout).toMatch(/chown -R postgres:postgres/);
    expect(result.code).toBe(0);
    expect(await readFile(join(dir, 'postgresql.auto.conf'), 'utf8')).toMatch(/restore_command = 'false'[\s\S]*recovery_target_time = '/);

    const again = await runCli(['restore', '--at', t, '--data-dir', dir], env);
    expect(again.stderr).toMatch(/--data-dir .*recovered is not empty/);
    expect(again.code).toBe(64);

    const started = await startPostgresOn(dir);
    try {
      expect(await idsIn(started.database('app'))).toEqual(expected);
    } finally {
      await started.stop();
    }
  }, 60_000);

  it('refuses a time without a UTC offset, a time before the oldest base backup, and a time past the end of the archive', async () => {
    const noOffset = await runCli(['restore', '--at', '2026-11-30 11:59:00', '--target-db', 'never', '--yes'], env);
    expect(noOffset.stderr).toMatch(/has no UTC offset: add one, like "2026-11-30 11:59:00\+00"/);
    expect(noOffset.code).toBe(64);

    const tooOld = new Date(Date.parse(baseStartedAt) - 60_000).toISOString();
    const old = await runCli(['restore', '--at', tooOld, '--target-db', 'never', '--yes'], env);
    expect(old.stderr).toMatch(/No base backup is old enough .* the oldest point a restore can reach is .*cluster_/);
    expect(old.code).toBe(66);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const late = await runCli(['restore', '--at', future, '--target-db', 'never', '--yes'], env);
    expect(late.stderr).toMatch(/recovery ended before configured recovery target was reached.*The WAL archive ends at 0000000100000000000000/);
    expect(late.code).toBe(65);
    expect(await server.query(server.admin, "SELECT 1 FROM pg_database WHERE datname = 'never'")).toEqual([]);
  }, 60_000);

  // Last: it deletes a segment from the archive.
  it('restore-test replays the newest base backup with all archived WAL, and fails naming a segment missing from the archive', async () => {
    expect((await runCli(['backup'], env)).code).toBe(0);
    const passed = await runCli(['restore-test', 'latest'], env);
    expect(passed.stdout).toMatch(/^PASSED restore test/m);
    expect(passed.stdout).toMatch(/point-in-time: base backup cluster_\d+_\d+ replayed with every archived WAL file from 0000000100000000000000\w\w to 0000000100000000000000\w\w/);
    expect(passed.stdout).toMatch(/point-in-time: recovery time \d/);
    expect(passed.stdout).toMatch(/point-in-time: recovery point reached: 20\d\d-/);
    expect(passed.stdout).toMatch(/point-in-time: pg_verifybackup: ok/);
    expect(passed.stdout).toMatch(/point-in-time: 1 of 1 tables of the newest dump exist in the recovered cluster/);
    expect(passed.code).toBe(0);

    const segments = (await listWalArchive(storages[0]!)).filter((entry) => entry.file.kind === 'segment');
    const victim = segments[2]!;
    for (const storage of storages) {
      await storage.delete(walManifestKey(victim.file));
      await storage.delete(victim.dataKey);
    }
    const failed = await runCli(['restore-test', 'latest'], env);
    expect(failed.stdout).toMatch(/^FAILED restore test/m);
    expect(failed.stdout).toContain(`the WAL archive has a gap after base backup cluster_`);
    expect(failed.stdout).toContain(`${victim.file.name} on timeline 1 missing`);
    expect(failed.code).toBe(65);
  }, 90_000);
});

