import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Manifest } from '../../src/backup/manifest';
import type { DatabaseConfig } from '../../src/config';
import { databaseEnv, runCli } from '../support/cli';
import { startFaultyProxy, uploadPartAfter, type FaultyProxy } from '../support/faulty-proxy';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { allFiles, makeWorkspace } from '../support/workspace';

describe('keepsake backup to S3 (s3rver on loopback)', () => {
  let pg: TestPostgres;
  let db: DatabaseConfig;
  let s3: TestS3;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    [pg, s3, workspace] = await Promise.all([startTestPostgres(), startTestS3(), makeWorkspace()]);
    db = await pg.createDatabase('app');
    // ~12 MB of incompressible data: the stored object needs several 5 MiB parts.
    await pg.query(db, "CREATE TABLE blobs AS SELECT g AS id, (SELECT decode(string_agg(md5(random()::text || g || i), ''), 'hex') FROM generate_series(1, 48) i) AS data FROM generate_series(1, 16000) g");
    env = { ...databaseEnv(db), ...s3.env(), S3_PART_SIZE: '5MiB', BACKUP_DIR: workspace.backupDir, STATE_DIR: workspace.stateDir };
  });
  afterAll(async () => {
    await Promise.all([pg?.stop(), s3?.stop(), workspace?.remove()]);
  });

  it('uploads with multipart, lists past 1000 objects, and verifies', async () => {
    // 1100 leftovers without manifests sort before the backup: it is only found on the second page.
    const junk = Array.from({ length: 1100 }, (_, i) => `db-backups/daily/2000/01/01/old_${String(i).padStart(4, '0')}.dump.zst`);
    for (let i = 0; i < junk.length; i += 100) {
      await Promise.all(junk.slice(i, i + 100).map((Key) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: 'x' }))));
    }
    const backup = await runCli(['backup', '--json'], env);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const manifest = JSON.parse(backup.stdout) as Manifest;
    expect(manifest.storedBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(manifest.targets).toEqual([{ target: 's3', location: `s3://${s3.bucket}/db-backups/${manifest.key}` }]);

    const keys = await listAllKeys(s3, 'db-backups/manual/');
    expect(keys).toEqual([`db-backups/${manifest.key}`, `db-backups/${manifest.key.replace('.dump.zst', '.manifest.json')}`]);

    const list = await runCli(['list', '--json'], env);
    expect(JSON.parse(list.stdout).map((row: { id: string }) => row.id)).toEqual([manifest.id]);
    const verify = await runCli(['verify', 'latest'], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`OK manual/${manifest.id} on s3`);
  });

  it('stores on local disk and S3 at once and verifies each copy', async () => {
    const result = await runCli(['backup', '--tier', 'weekly', '--json'], { ...env, BACKUP_TARGETS: 'local,s3' });
    expect(result.code).toBe(0);
    const manifest = JSON.parse(result.stdout) as Manifest;
    expect(manifest.key).toMatch(/^weekly\/\d{4}\/week-\d{2}\/app_\d{8}_\d{6}\.dump\.zst$/);
    expect(await allFiles(workspace.backupDir)).toEqual([manifest.key, manifest.key.replace('.dump.zst', '.manifest.json')]);

    const list = JSON.parse((await runCli(['list', '--json', '--tier', 'weekly'], { ...env, BACKUP_TARGETS: 'local,s3' })).stdout);
    expect(list[0].copies.map((c: { target: string }) => c.target)).toEqual(['local', 's3']);
    const verify = await runCli(['verify', `weekly/${manifest.id}`], { ...env, BACKUP_TARGETS: 'local,s3' });
    expect(verify.code).toBe(0);
    expect(verify.stdout.match(/^OK /gm)).toHaveLength(2);
  });

  describe('when S3 fails mid-upload', () => {
    let proxy: FaultyProxy;
    let proxied: Record<string, string>;
    beforeAll(async () => {
      proxy = await startFaultyProxy(s3.endpoint);
      proxied = { ...env, S3_ENDPOINT: proxy.endpoint, S3_PREFIX: 'faulty' };
    });
    afterAll(async () => proxy?.close());

    it('answers 500 on the third part: the backup fails, no manifest, nothing listed on any target', async () => {
      proxy.failWhen(uploadPartAfter(2), 500);
      const result = await runCli(['backup'], { ...proxied, BACKUP_TARGETS: 'local,s3' });
      expect(result.code).toBe(74);
      expect(result.stderr).toMatch(/keepsake: Cannot upload to s3:\/\/keepsake-test\/faulty\/manual\/.*\.dump\.zst: injected \(HTTP 500\)/);
      expect(await listAllKeys(s3, 'faulty/')).toEqual([]);
      expect(proxy.requests.some((r) => r.method === 'PUT' && r.url.includes('.manifest.json'))).toBe(false);
      expect(await allFiles(workspace.backupDir)).not.toContainEqual(expect.stringMatching(/^manual\//));
      const list = await runCli(['list', '--json'], proxied);
      expect(JSON.parse(list.stdout)).toEqual([]);
    });

    it('is stopped mid-upload: the backup fails and no manifest is written', async () => {
      proxy.clear();
      let stopped: Promise<void> | undefined;
      proxy.failWhen(({ count }) => {
        if (count === 2) stopped = s3.stop();
        return false;
      });
      const result = await runCli(['backup'], proxied);
      expect(result.code).toBe(74);
      expect(result.stderr).toContain('keepsake: Cannot upload to s3://keepsake-test/faulty/manual/');
      expect(stopped).toBeDefined();
      expect(proxy.requests.some((r) => r.method === 'PUT' && r.url.includes('.manifest.json'))).toBe(false);
      expect(proxy.requests.some((r) => r.method === 'POST' && r.url.includes('uploadId=') && r.status === 200)).toBe(false);
    });
  });
});
