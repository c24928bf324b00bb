import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../src/backup/manifest';
import type { DatabaseConfig } from '../../src/config';
import { parseLsn } from '../../src/pitr/wal-names';
import { databaseEnv, runCli } from '../support/cli';
import { makeBinDir } from '../support/fake-bin';
import { PITR_SERVER_SETTINGS, startTestPostgres, type TestPostgres } from '../support/postgres';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { allFiles, makeWorkspace } from '../support/workspace';

const BASE_KEY = /^base\/\d{4}\/\d{2}\/\d{2}\/cluster_\d{8}_\d{6}\.tar\.zst$/;

describe('keepsake base-backup (PITR)', () => {
  let pg: TestPostgres;
  let s3: TestS3;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let db: DatabaseConfig;
  let env: Record<string, string>;

  beforeAll(async () => {
    [pg, s3, workspace] = await Promise.all([startTestPostgres({ settings: PITR_SERVER_SETTINGS }), startTestS3(), makeWorkspace()]);
    db = await pg.createDatabase('app');
    await pg.query(db, 'CREATE TABLE notes (id serial PRIMARY KEY, body text); INSERT INTO notes (body) SELECT md5(i::text) FROM generate_series(1, 5000) i');
    env = { ...databaseEnv(db), ...s3.env('base'), BACKUP_TARGETS: 'local,s3', BACKUP_DIR: workspace.backupDir, STATE_DIR: workspace.stateDir, PITR: 'on' };
  });
  afterAll(async () => {
    await pg?.stop();
    await s3?.stop();
    await workspace?.remove();
  });

  const listed = async (environment = env) => JSON.parse((await runCli(['list', '--json'], environment)).stdout) as { tier: string; id: string }[];
  const filed = async (environment = env) => (JSON.parse((await runCli(['outbox', 'list', '--json'], environment)).stdout) as { event: string; subject: string }[]);

  it('refuses while PITR is off, with the setting to change', async () => {
    const result = await runCli(['base-backup'], { ...env, PITR: 'off' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('set PITR=on');
    expect(await listed()).toEqual([]);
  });

  it('stores pg_basebackup\'s tar on local disk and S3, manifest last, with the WAL positions; list and verify take it; it unpacks to a data directory pg_verifybackup accepts', async () => {
    const result = await runCli(['base-backup', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const manifest = JSON.parse(result.stdout) as Manifest;
    expect(manifest.key).toMatch(BASE_KEY);
    expect(manifest).toMatchObject({ tier: 'base', source: { kind: 'postgres-cluster', name: 'cluster' }, archiveFormat: 'tar', server: { major: pg.major } });
    expect(manifest.pgDump).toBeUndefined();
    const physical = manifest.physical!;
    expect(physical).toMatchObject({ timeline: 1, segmentBytes: 16 * 1024 * 1024, pgBasebackup: { major: pg.major } });
    expect(physical.startLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(physical.stopLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(physical.startSegment).toMatch(/^00000001[0-9A-F]{16}$/);
    const [control] = await pg.query<{ id: string }>(pg.admin, 'SELECT system_identifier::text AS id FROM pg_control_system()');
    expect(physical.systemIdentifier).toBe(control!.id);
    expect(manifest.inventory.databases).toEqual(expect.arrayContaining(['app', 'postgres']));
    const manifestKey = manifest.key.replace('.tar.zst', '.manifest.json');
    expect((await allFiles(workspace.backupDir)).sort()).toEqual([manifest.key, manifestKey].sort());
    expect((await listAllKeys(s3, 'base/')).sort()).toEqual([manifest.key, manifestKey].map((key) => `base/${key}`).sort());
    expect((await filed()).map((item) => item.event)).toEqual(['base-backup-succeeded']);

    expect(await listed()).toEqual([expect.objectContaining({ tier: 'base', id: manifest.id })]);
    const verify = await runCli(['verify', `base/${manifest.id}`, '--json'], env);
    expect(verify.code).toBe(0);
    const verdict = JSON.parse(verify.stdout) as { ok: boolean; copies: { target: string; checks: { name: string; ok: boolean }[] }[] };
    expect(verdict.ok).toBe(true);
    expect(verdict.copies.map((copy) => [copy.target, copy.checks.map((check) => check.name)])).toEqual([
      ['local', ['size', 'sha256', 'decompress', 'raw size', 'archive']],
      ['s3', ['size', 'sha256', 'decompress', 'raw size', 'archive']],
    ]);

    const dataDir = mkdtempSync(join(workspace.root, 'data-'));
    execFileSync('bash', ['-c', `zstd -dc ${join(workspace.backupDir, manifest.key)} | tar -x -C ${dataDir}`]);
    expect(existsSync(join(dataDir, 'backup_label'))).toBe(true);
    expect(readFileSync(join(dataDir, 'backup_label'), 'utf8')).toContain(`START WAL LOCATION: ${physical.startLsn} (file ${physical.startSegment})`);
    // The recorded stop is where the server's WAL stood after the backup: at or after the exact end the tar's backup_manifest gives.
    const ranges = (JSON.parse(readFileSync(join(dataDir, 'backup_manifest'), 'utf8')) as { 'WAL-Ranges': { Timeline: number; 'Start-LSN': string; 'End-LSN': string }[] })['WAL-Ranges'];
    expect(ranges).toEqual([expect.objectContaining({ Timeline: 1, 'Start-LSN': physical.startLsn })]);
    expect(parseLsn(physical.stopLsn)).toBeGreaterThanOrEqual(parseLsn(ranges[0]!['End-LSN']));
    // -n: the WAL is not in the base (-X none); replaying it is the PITR restore test's job.
    execFileSync(`/usr/lib/postgresql/${pg.major}/bin/pg_verifybackup`, ['-n', dataDir], { stdio: 'pipe' });
  });

  it('a base backup is not a dump: restore and restore-test point elsewhere, and `latest` never means it', async () => {
    const [base] = (await listed()).filter((row) => row.tier === 'base');
    const restore = await runCli(['restore', `base/${base!.id}`, '--yes'], env);
    expect(restore.code).toBe(64);
    expect(restore.stderr).toContain('keepsake restore --at');
    const test = await runCli(['restore-test', `base/${base!.id}`], env);
    expect(test.code).toBe(64);
    expect(test.stderr).toContain('is a base backup (PITR), not a dump');
    const latest = await runCli(['verify', 'latest'], env);
    expect(latest.code).toBe(66);
  });

  it('the off-site job copies base backups like any backup, and the copy verifies', async () => {
    const [base] = (await listed()).filter((row) => row.tier === 'base');
    const coldDir = mkdtempSync(join(workspace.root, 'cold-'));
    const offsiteEnv = { ...env, OFFSITE_TARGETS: 'cold', TARGET_COLD_KIND: 'local', TARGET_COLD_DIR: coldDir };
    const copied = await runCli(['offsite'], offsiteEnv);
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    const onLocal = (await allFiles(workspace.backupDir)).filter((key) => key.startsWith('base/'));
    expect(onLocal).toHaveLength(2);
    expect((await allFiles(coldDir)).filter((key) => key.startsWith('base/')).sort()).toEqual(onLocal.sort());
    const verify = await runCli(['verify', `base/${base!.id}`, '--from', 'cold'], offsiteEnv);
    expect(verify.code).toBe(0);
  });

  it('a role without REPLICATION: a clear error that says what to change, nothing listed, a base-backup-failed report', async () => {
    const plain = mkdtempSync(join(workspace.root, 'state-'));
    const backups = mkdtempSync(join(workspace.root, 'backups-'));
    await pg.query(pg.admin, "CREATE ROLE reader LOGIN PASSWORD 'reader-secret'");
    const readerEnv = { ...env, POSTGRES_USER: 'reader', POSTGRES_PASSWORD: 'reader-secret', BACKUP_TARGETS: 'local', BACKUP_DIR: backups, STATE_DIR: plain };
    const result = await runCli(['base-backup'], readerEnv);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('role "reader" may not replicate: run `ALTER ROLE reader REPLICATION;`');
    expect(result.stderr).toContain('host replication reader');
    expect(result.stderr).not.toContain('reader-secret');
    expect(await listed(readerEnv)).toEqual([]);
    expect(await allFiles(backups)).toEqual([]);
    const reports = await filed(readerEnv);
    expect(reports.map((item) => item.event)).toEqual(['base-backup-failed']);
    expect(reports[0]!.subject).toContain('FAILED base backup');
  });

  it('a role with REPLICATION that is not a superuser takes a base backup', async () => {
    await pg.query(pg.admin, "CREATE ROLE replicator LOGIN REPLICATION PASSWORD 'replicator-secret'");
    const replicatorEnv = { ...env, POSTGRES_USER: 'replicator', POSTGRES_PASSWORD: 'replicator-secret', BACKUP_TARGETS: 'local', BACKUP_DIR: mkdtempSync(join(workspace.root, 'backups-')), STATE_DIR: mkdtempSync(join(workspace.root, 'state-')) };
    const result = await runCli(['base-backup', '--json'], replicatorEnv);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Manifest).physical?.systemIdentifier).toMatch(/^\d+$/);
  });

  it('pg_basebackup killed half way: the backup fails and nothing is listed on any target', async () => {
    const binDir = await makeBinDir({ pg_basebackup: '"$REAL" "$@" | head -c 3000000\nkill -KILL $$' });
    const prefix = 'killed';
    const backups = mkdtempSync(join(workspace.root, 'backups-'));
    const killedEnv = { ...env, ...s3.env(prefix), PG_BIN_DIR: binDir, BACKUP_DIR: backups, STATE_DIR: mkdtempSync(join(workspace.root, 'state-')) };
    const result = await runCli(['base-backup'], killedEnv);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pg_basebackup was killed by SIGKILL');
    expect(await listed(killedEnv)).toEqual([]);
    expect(await allFiles(backups)).toEqual([]);
    expect(await listAllKeys(s3, `${prefix}/`)).toEqual([]);
  });
});
