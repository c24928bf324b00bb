import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manifestKeyFor } from '../../src/backup/keys';
import { parseManifest, serializeManifest, type Manifest } from '../../src/backup/manifest';
import { readCatalog } from '../../src/catalog/catalog';
import { loadConfig } from '../../src/config';
import { runHealthChecks } from '../../src/health/run-health';
import { offsiteJob } from '../../src/jobs/offsite';
import { idleReason } from '../../src/jobs/registry';
import { silentLogger } from '../../src/log';
import { listOutbox } from '../../src/state/outbox';
import type { Storage } from '../../src/storage';
import { LocalStorage } from '../../src/storage/local';
import type { RestoreTestResult } from '../../src/restore/restore-test';
import { runCli } from '../support/cli';
import { copyOffsite, flipped, makeBackups, s3Target, sha256Of } from '../support/offsite';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { startScenario, type Scenario } from '../support/scenario';
import { allFiles, FIXTURE_SQL } from '../support/workspace';

/**
 * The off-site engine against real targets: a local folder and an S3 bucket as primaries, holding
 * backups the CLI made from a real PostgreSQL, copied to a second folder and a second S3 server.
 */
describe('off-site copies (streamed, checked by sha256)', () => {
  let s: Scenario;
  let primaryS3: TestS3;
  let offsiteS3: TestS3;
  let env: Record<string, string>;
  let backups: Manifest[];
  const primaries = () => [new LocalStorage(s.workspace.backupDir), s3Target(primaryS3, 'db-backups')];
  const freshFolder = async () => new LocalStorage(await mkdtemp(join(s.workspace.root, 'offsite-')));

  beforeAll(async () => {
    [s, primaryS3, offsiteS3] = await Promise.all([startScenario({ sql: FIXTURE_SQL }), startTestS3(), startTestS3({ bucket: 'cold' })]);
    env = { ...s.env, ...primaryS3.env(), BACKUP_TARGETS: 'local,s3' };
    backups = await makeBackups(env, ['manual', 'daily']);
  });
  afterAll(async () => {
    await Promise.all([s?.stop(), primaryS3?.stop(), offsiteS3?.stop()]);
  });

  it('copies every complete backup, newest first, to a folder and a bucket; the copies verify and restore', async () => {
    const [manual, daily] = backups as [Manifest, Manifest];
    const folder = await freshFolder();
    const bucket = s3Target(offsiteS3, 'offsite');
    for (const destination of [folder, bucket]) {
      const result = await copyOffsite(primaries(), destination);
      expect(result.error).toBeUndefined();
      expect(result.failed).toEqual([]);
      expect(result.copied.map((copy) => [copy.id, copy.method, copy.from, copy.bytes])).toEqual([
        [daily.id, 'streamed', 'local', daily.storedBytes],
        [manual.id, 'streamed', 'local', manual.storedBytes],
      ]);
      expect(result.lag).toMatchObject({ missing: 0, oldestMissingAgeMs: 0, newestHeld: { id: daily.id } });
      for (const manifest of backups) {
        expect(await sha256Of(destination, manifest.key)).toBe(manifest.sha256);
        const copied = parseManifest(await destination.readAll(manifestKeyFor(manifest.key)))!;
        // The copy's manifest names where the copy is; everything else is the original's.
        expect(copied.targets).toEqual([{ target: destination.name, location: destination.location(manifest.key) }]);
        expect({ ...copied, targets: manifest.targets }).toEqual(manifest);
      }
      // Nothing is left to copy: a second run does nothing.
      const again = await copyOffsite(primaries(), destination);
      expect([again.copied, again.failed, again.lag?.missing]).toEqual([[], [], 0]);
    }
    expect(await allFiles(folder.location(''))).toEqual([daily.key, manifestKeyFor(daily.key), manual.key, manifestKeyFor(manual.key)].sort());

    // The copies are backups keepsake itself can use: verify the folder, restore-test from the bucket.
    const verify = await runCli(['verify', 'latest'], { ...s.env, BACKUP_DIR: folder.location(''), BACKUP_TARGETS: 'local' });
    expect(verify.stderr).toBe('');
    expect(verify.stdout).toContain(`OK daily/${daily.id} on local`);
    const restoreTest = await runCli(['restore-test', '--json'], { ...s.env, ...offsiteS3.env('offsite'), BACKUP_TARGETS: 's3' });
    expect(restoreTest.code).toBe(0);
    const tested = JSON.parse(restoreTest.stdout) as RestoreTestResult;
    expect([tested.ok, tested.backup.id, tested.backup.location]).toEqual([true, daily.id, bucket.location(daily.key)]);
  });

  it('never copies a data object without its manifest, nor a backup whose data object is cut short', async () => {
    const local = new LocalStorage(s.workspace.backupDir);
    const [manual] = backups as [Manifest];
    const data = await local.readAll(manual.key);
    // A run that died before its manifest, and one whose manifest describes a short data object.
    const orphanKey = 'daily/2026/01/01/app_20260101_000000.dump.zst';
    const shortKey = 'daily/2026/01/02/app_20260102_000000.dump.zst';
    await local.put(orphanKey, data);
    await local.put(shortKey, data.subarray(0, 100));
    await local.put(manifestKeyFor(shortKey), serializeManifest({ ...manual, tier: 'daily', id: 'app_20260102_000000', key: shortKey, startedAt: '2026-01-02T00:00:00.000Z' }));
    try {
      const folder = await freshFolder();
      const result = await copyOffsite(primaries(), folder);
      expect(result.copied.map((copy) => copy.id).sort()).toEqual(backups.map((manifest) => manifest.id).sort());
      expect(result.failed).toEqual([]);
      const stored = await allFiles(folder.location(''));
      expect(stored.filter((key) => key.startsWith('daily/2026/01/'))).toEqual([]);
      expect(stored).toHaveLength(4);
    } finally {
      for (const key of [manifestKeyFor(shortKey), shortKey, orphanKey]) await local.delete(key);
    }
  });

  it('detects a corrupted source copy: reads the intact one instead, or stores nothing and says why', async () => {
    const [, daily] = backups as [Manifest, Manifest];
    const path = join(s.workspace.backupDir, daily.key);
    const original = await readFile(path);
    await writeFile(path, flipped(original));
    try {
      // The local copy is corrupt, the bucket's is intact: the copy comes from the bucket.
      const folder = await freshFolder();
      const healed = await copyOffsite(primaries(), folder);
      const copy = healed.copied.find((copied) => copied.tier === daily.tier && copied.id === daily.id)!;
      expect([copy.from, copy.notes]).toEqual(['s3', [expect.stringMatching(/^corrupted on local: sha256 [0-9a-f]{64} where the manifest says /)]]);
      expect(await sha256Of(folder, daily.key)).toBe(daily.sha256);

      // With only the corrupt copy to read from, nothing is stored, on a folder or in a bucket.
      const onlyLocal = [new LocalStorage(s.workspace.backupDir)];
      for (const destination of [await freshFolder(), s3Target(offsiteS3, 'corrupt')]) {
        const result = await copyOffsite(onlyLocal, destination);
        expect(result.failed).toEqual([{ tier: 'daily', id: daily.id, startedAt: daily.startedAt, bytes: daily.storedBytes, error: expect.stringMatching(/^corrupted on local: sha256 /) }]);
        expect(result.copied.map((copied) => copied.id)).toEqual([backups[0]!.id]);
        expect(result.lag).toMatchObject({ missing: 1, oldestMissing: { id: daily.id } });
        const catalog = await readCatalog([destination]);
        expect([catalog.backups.map((entry) => entry.manifest.id), catalog.incomplete]).toEqual([[backups[0]!.id], []]);
      }
      // By tier: the manual backup made in the same second has the same id.
      expect((await listAllKeys(offsiteS3, 'corrupt/')).filter((key) => key.startsWith('corrupt/daily/'))).toEqual([]);
    } finally {
      await writeFile(path, original);
    }
  });

  it('the job copies to the off-site targets, files its report, and health says how far behind they are', async () => {
    // Until targets are configured by name, an adapter marked off-site stands for one.
    const offsite = Object.assign(await freshFolder(), { role: 'offsite' as const }) as Storage;
    const config = loadConfig({ ...env, HEALTH_MAX_AGE_OFFSITE: '1h' });
    expect(idleReason('offsite', primaries(), config)).toBe('no off-site targets');
    expect(idleReason('offsite', [...primaries(), offsite], config)).toBeUndefined();

    const health = async (at = new Date()) => (await runHealthChecks({ config, storages: [...primaries(), offsite] }, { now: () => at })).checks.find((check) => check.name === 'offsite:local');
    // The backups are minutes old: missing, but within the hour HEALTH_MAX_AGE_OFFSITE allows; two hours on, past it.
    expect(await health()).toMatchObject({ status: 'ok', message: expect.stringMatching(/^local lacks 2 backups/) });
    expect(await health(new Date(Date.now() + 2 * 3_600_000))).toMatchObject({ status: 'fail', message: expect.stringMatching(/^local lacks 2 backups.*HEALTH_MAX_AGE_OFFSITE/) });

    const summary = await offsiteJob({ config, storages: [...primaries(), offsite], log: silentLogger }, new AbortController().signal);
    expect(summary).toMatch(/^off-site: 2 backups copied \(/);
    const filed = (await listOutbox(config.stateDir)).filter((item) => item.event.startsWith('offsite-'));
    expect(filed.map((item) => [item.event, item.subject])).toEqual([['offsite-succeeded', expect.stringMatching(/^\[keepsake\] OK off-site copy app@.*: 2 backups copied \(.*\) to local$/)]]);
    expect(await health()).toMatchObject({ status: 'ok', measured: 0, message: `local holds every backup of the primaries (newest ${backups[1]!.id})` });
  });
});
