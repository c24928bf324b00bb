import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config, type DatabaseConfig } from '../../src/config';
import { createStorages, type Storage } from '../../src/storage';
import { runCli } from '../support/cli';
import { databaseEnv } from '../support/cli';
import { takeBaseBackup, streamWal, type WalStream } from '../support/pitr-archive';
import { PITR_SERVER_SETTINGS, startTestPostgres, type TestPostgres } from '../support/postgres';
import { startTestS3, type TestS3 } from '../support/s3';
import { makeWorkspace } from '../support/workspace';

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
    console.log('writing', Date.now());
    baseFinishedAt = (await takeBaseBackup(server, storages, config)).finishedAt;
    console.log('base', Date.now());
    for (let round = 0; round < 4; round += 1) {
      console.log('round', Date.now());
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
});
