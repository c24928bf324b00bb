import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { manifestKeyFor } from '../../src/backup/keys';
import type { Manifest } from '../../src/backup/manifest';
import { readCatalog } from '../../src/catalog/catalog';
import { LocalStorage } from '../../src/storage/local';
import { copyOffsite, flipped, makeBackups, s3Target, sha256Of } from '../support/offsite';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { startScenario, type Scenario } from '../support/scenario';

/**
 * Off-site copies to S3: an off-site server that goes down mid-way and comes back, and copies
 * between two prefixes of one server, which never pass through keepsake.
 */
describe('off-site copies to S3', () => {
  let s: Scenario;
  let primaryS3: TestS3;
  let backups: Manifest[];
  const primaryBucket = () => s3Target(primaryS3, 'db-backups');
  const primaryFolder = () => new LocalStorage(s.workspace.backupDir);

  beforeAll(async () => {
    [s, primaryS3] = await Promise.all([startScenario({ sql: 'CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g' }), startTestS3()]);
    backups = await makeBackups({ ...s.env, ...primaryS3.env(), BACKUP_TARGETS: 'local,s3' }, ['manual', 'daily', 'weekly']);
  });
  afterAll(async () => {
    await Promise.all([s?.stop(), primaryS3?.stop()]);
  });

  it('resumes after the off-site server was down: nothing half-written is listed, the next run catches up', async () => {
    const dir = await mkdtemp(join(s.workspace.root, 's3-offsite-'));
    let offsite = await startTestS3({ bucket: 'cold', dir });
    const port = offsite.port;
    try {
      // The server goes down right after the first (newest) backup arrived.
      const cut = await copyOffsite([primaryFolder()], s3Target(offsite, 'offsite'), { onCopied: () => offsite.stop() });
      const [manual, daily, weekly] = backups as [Manifest, Manifest, Manifest];
      expect(cut.copied.map((copy) => copy.id)).toEqual([weekly.id]);
      expect(cut.failed.map((failed) => failed.id)).toEqual([daily.id, manual.id]);
      // In jest's sandbox the SDK wraps the socket error, so the message names ECONNREFUSED itself.
      const refused = /connection refused|ECONNREFUSED/;
      expect(cut.failed[0]!.error).toMatch(refused);
      expect(cut.error).toMatch(/^s3 failed 2 times in a row \(.*\); 0 more backups wait for the next run$/);
      expect(cut.error).toMatch(refused);

      // Down from the start: the run says so and copies nothing.
      const down = await copyOffsite([primaryFolder()], s3Target(offsite, 'offsite'));
      expect([down.copied, down.error, down.lag?.missing]).toEqual([[], expect.stringMatching(/^cannot list s3: Cannot list s3:\/\/cold\/offsite\/: .*(connection refused|ECONNREFUSED)/), null]);

      offsite = await startTestS3({ bucket: 'cold', dir, port });
      const destination = s3Target(offsite, 'offsite');
      const listed = await readCatalog([destination]);
      expect([listed.backups.map((entry) => entry.manifest.id), listed.incomplete, listed.problems]).toEqual([[weekly.id], [], []]);
      expect(await listAllKeys(offsite, 'offsite/')).toEqual([`offsite/${weekly.key}`, `offsite/${manifestKeyFor(weekly.key)}`]);

      const resumed = await copyOffsite([primaryFolder()], destination);
      expect([resumed.copied.map((copy) => copy.id), resumed.failed, resumed.error, resumed.lag?.missing]).toEqual([[daily.id, manual.id], [], undefined, 0]);
      for (const manifest of backups) expect(await sha256Of(destination, manifest.key)).toBe(manifest.sha256);
    } finally {
      await offsite.stop();
    }
  });

  it('copies server-side between two prefixes of one server and checks the copy by reading it back', async () => {
    const sameService = s3Target(primaryS3, 'offsite-same');
    const result = await copyOffsite([primaryBucket()], sameService);
    expect(result.copied.map((copy) => [copy.id, copy.method, copy.from])).toEqual([...backups].reverse().map((manifest) => [manifest.id, 'server-side', 's3']));
    for (const manifest of backups) expect(await sha256Of(sameService, manifest.key)).toBe(manifest.sha256);

    // The bucket's copy of the weekly backup is corrupt (same size): its server-side copy fails the
    // read-back check, is removed, and the copy is streamed from the intact local one instead.
    const weekly = backups[2]!;
    const key = `db-backups/${weekly.key}`;
    const original = await primaryBucket().readAll(weekly.key);
    await primaryS3.client.send(new PutObjectCommand({ Bucket: primaryS3.bucket, Key: key, Body: flipped(original) }));
    try {
      const healed = await copyOffsite([primaryBucket(), primaryFolder()], s3Target(primaryS3, 'offsite-healed'), { select: (manifest) => manifest.tier === weekly.tier && manifest.id === weekly.id });
      expect(healed.copied.map((copy) => [copy.id, copy.method, copy.from, copy.notes])).toEqual([
        [weekly.id, 'streamed', 'local', [expect.stringMatching(/^corrupted on s3: sha256 [0-9a-f]{64} where the manifest says /)]],
      ]);
      expect(await sha256Of(s3Target(primaryS3, 'offsite-healed'), weekly.key)).toBe(weekly.sha256);
    } finally {
      await primaryS3.client.send(new PutObjectCommand({ Bucket: primaryS3.bucket, Key: key, Body: original }));
    }
  });
});
