import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { manifestKeyFor } from '../../src/backup/keys';
import { serializeManifest } from '../../src/backup/manifest';
import type { DatabaseConfig } from '../../src/config';
import { loadConfig } from '../../src/config';
import type { HealthReport } from '../../src/health/report';
import { createMetrics } from '../../src/health/metrics';
import { healthJob } from '../../src/jobs/health';
import { silentLogger } from '../../src/log';
import { storeWalFile } from '../../src/pitr/wal-archive';
import { parseWalName } from '../../src/pitr/wal-names';
import { findPgBinaries } from '../../src/postgres/binaries';
import { writeWalStatus } from '../../src/state/wal-status';
import { createStorages } from '../../src/storage';
import { validManifest } from '../unit/manifest-fixture';
import { runCli } from '../support/cli';
import { parsePrometheusText, sampleValue } from '../support/prometheus';
import { PITR_SERVER_SETTINGS, startTestPostgres, type TestPostgres } from '../support/postgres';
import { makeWorkspace } from '../support/workspace';

const run = promisify(execFile);

/**
 * Health's WAL checks against a real server streamed from: a slot that holds WAL back, and real
 * segments received by pg_receivewal (run by the test, from a slot of its own) archived with one
 * left out.
 */
describe('keepsake health with PITR=on', () => {
  let server: TestPostgres;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let db: DatabaseConfig;
  let env: Record<string, string>;
  let missing: string;
  /** The base backup's first segment (the server's at the test's start). */
  let startSegment: string;

  beforeAll(async () => {
    [server, workspace] = await Promise.all([startTestPostgres({ settings: PITR_SERVER_SETTINGS }), makeWorkspace()]);
    db = server.admin;
    env = {
      POSTGRES_HOST: db.host,
      POSTGRES_PORT: String(db.port),
      POSTGRES_USER: db.user,
      POSTGRES_PASSWORD: db.password ?? '',
      POSTGRES_DB: db.database,
      BACKUP_GLOBALS: 'false',
      BACKUP_DIR: workspace.backupDir,
      STATE_DIR: workspace.stateDir,
      PITR: 'on',
      HEALTH_MAX_SLOT_RETAINED: '1MB',
    };
    // keepsake's slot, reserving WAL at once; and the test's own, which pg_receivewal reads from its start.
    await server.query(db, "SELECT pg_create_physical_replication_slot('keepsake', true), pg_create_physical_replication_slot('test_receiver', true)");
    const start = (await server.query<{ start: string }>(db, 'SELECT pg_walfile_name(pg_current_wal_lsn()) AS start'))[0]!.start;
    startSegment = start;
    await server.query(db, 'CREATE TABLE t (id int, note text)');
    for (let i = 0; i < 4; i += 1) await server.query(db, "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g; SELECT pg_switch_wal()");
    const end = (await server.query<{ end: string }>(db, 'SELECT pg_current_wal_lsn()::text AS end'))[0]!.end;

    const spool = join(workspace.root, 'spool');
    await mkdir(spool);
    const [pgDump] = await findPgBinaries('pg_dump');
    await run(join(dirname(pgDump!.path), 'pg_receivewal'), ['-D', spool, '--slot', 'test_receiver', '--endpos', end, '--no-loop', '-h', db.host, '-p', String(db.port), '-U', db.user, '-w'], {
      env: { PATH: process.env.PATH ?? '', PGPASSWORD: db.password ?? '' },
    });
    const received = (await readdir(spool)).filter((name) => parseWalName(name)?.kind === 'segment').sort();
    expect(received.length).toBeGreaterThanOrEqual(4);
    expect(received[0]).toBe(start);

    // Archive every received segment but the second: a gap right after the base backup's start.
    missing = received[1]!;
    const config = loadConfig(env);
    const [storage] = createStorages(config);
    for (const name of received.filter((name) => name !== missing)) await storeWalFile([storage!], { compression: config.compression, encryption: config.encryption }, parseWalName(name)!, join(spool, name));
    const key = 'base/2026/12/01/cluster_20261201_010000.tar.zst';
    await storage!.put(key, Buffer.alloc(32, 1));
    const physical = { timeline: 1, startLsn: '0/0', stopLsn: '0/0', startSegment: start, systemIdentifier: '1', segmentBytes: 16 * 1024 * 1024, pgBasebackup: { version: '15', major: 15 } };
    const manifest = validManifest({ id: 'cluster_20261201_010000', tier: 'base', source: { kind: 'postgres-cluster', name: 'cluster' }, key, archiveFormat: 'tar', pgDump: undefined, storedBytes: 32, physical, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() });
    await storage!.put(manifestKeyFor(key), serializeManifest(manifest));
    // What the daemon's receiver would say while it streams.
    const now = new Date().toISOString();
    await writeWalStatus(workspace.stateDir, { receiver: { state: 'streaming', since: now, restarts: 0 }, spool: { files: 1, bytes: 16 * 1024 * 1024 }, updatedAt: now });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await workspace?.remove();
  });

  const health = async (extra: Record<string, string> = {}) => {
    const result = await runCli(['health', '--json'], { ...env, ...extra });
    const report = JSON.parse(result.stdout) as HealthReport;
    return (name: string) => report.checks.find((check) => check.name === name);
  };

  it('warns that the slot holds back more than HEALTH_MAX_SLOT_RETAINED, names the gap, and sees the archive current', async () => {
    const check = await health();
    const slot = check('wal:slot')!;
    expect(slot).toMatchObject({ status: 'warn', message: expect.stringMatching(/slot 'keepsake' makes the server keep .* of WAL \(HEALTH_MAX_SLOT_RETAINED 1\.00 MB\) and nobody streams from it.*SELECT pg_drop_replication_slot\('keepsake'\).*max_slot_wal_keep_size/) });
    // Four switched segments at least, all held back since the slot was made.
    expect(slot.measured).toBeGreaterThan(3 * 16 * 1024 * 1024);
    expect(check('wal:gaps')).toMatchObject({ status: 'fail', measured: 1, message: expect.stringContaining(`a gap since ${startSegment} (base backup cluster_20261201_010000): ${missing} on timeline 1 missing`) });
    expect(check('wal')).toMatchObject({ status: 'ok', message: expect.stringMatching(/the WAL receiver streams .*newest archived WAL 0000000100000000000000\w\w /) });
  });

  it('gives /metrics the slot\'s retained bytes and the number of gaps from the health job\'s run', async () => {
    const config = loadConfig(env);
    await healthJob({ config, storages: createStorages(config), log: silentLogger });
    // Only keepsake's own: Node's event-loop histogram reads NaN in a registry made a moment ago.
    const text = await createMetrics(config, () => ({})).render();
    const samples = parsePrometheusText(text.split('\n').filter((line) => /^(# (TYPE|HELP) )?keepsake_/.test(line)).join('\n'));
    expect(sampleValue(samples, 'keepsake_wal_lag_bytes')).toBeGreaterThan(3 * 16 * 1024 * 1024);
    expect(sampleValue(samples, 'keepsake_wal_archive_gaps')).toBe(1);
  });

  it('fails when the slot does not exist', async () => {
    const check = await health({ PITR_SLOT: 'other' });
    expect(check('wal:slot')).toMatchObject({ status: 'fail', message: expect.stringMatching(/slot 'other' \(PITR_SLOT\) does not exist on the server/) });
  });

  it('has no WAL checks with PITR off', async () => {
    const check = await health({ PITR: 'off' });
    expect(check('wal')).toBeUndefined();
    expect(check('wal:slot')).toBeUndefined();
  });
});
