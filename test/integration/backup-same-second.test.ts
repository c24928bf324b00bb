import { rm } from 'node:fs/promises';
import type { Manifest } from '../../src/backup/manifest';
import { runBackup } from '../../src/backup/run-backup';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { createStorages } from '../../src/storage';
import { runCli } from '../support/cli';
import { makeBinDir } from '../support/fake-bin';
import { startFaultyProxy, type FaultRequest, type FaultyProxy } from '../support/faulty-proxy';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL, allFiles } from '../support/workspace';

const TAKEN = 'another keepsake stored an object under this name at the same moment, so this copy was not stored';

describe('two keepsakes backing up one database to one place in the same second', () => {
  let scenario: Scenario;
  let s3: TestS3;
  let proxy: FaultyProxy;

  beforeAll(async () => {
    [scenario, s3] = await Promise.all([startScenario({ sql: FIXTURE_SQL }), startTestS3()]);
    proxy = await startFaultyProxy(s3.endpoint);
    // Over 5 MiB of incompressible data, so the stored object goes up in several parts.
    const big = await scenario.pg.createDatabase('big');
    await scenario.pg.query(big, "CREATE TABLE blobs AS SELECT g AS id, (SELECT decode(string_agg(md5(random()::text || g || i), ''), 'hex') FROM generate_series(1, 48) i) AS data FROM generate_series(1, 8000) g");
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([s3?.stop(), scenario?.stop()]);
  });

  it('local: one stores its backup, the other fails, and nothing replaces anything', async () => {
    // Two sidecars with their own STATE_DIR (so no shared lock) and one BACKUP_DIR, started in the same
    // second. pg_dump starts a second late, so both have picked the (free) name before either stores.
    const binDir = await makeBinDir({ pg_dump: 'sleep 1\nexec "$REAL" "$@"' });
    const config = loadConfig({ ...scenario.env, PG_BIN_DIR: binDir });
    const sameSecond = () => new Date('2031-02-03T04:05:06Z');
    const sidecar = () => runBackup({ config, storages: createStorages(config), log: silentLogger, clock: sameSecond }, { tier: 'daily' });
    const results = await Promise.allSettled([sidecar(), sidecar()]).finally(() => rm(binDir, { recursive: true, force: true }));

    const stored = results.filter((result): result is PromiseFulfilledResult<Manifest> => result.status === 'fulfilled').map((result) => result.value);
    const refused = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected').map((result) => String(result.reason));
    expect(stored.map((manifest) => manifest.id)).toEqual(['app_20310203_040506']);
    expect(refused).toEqual([expect.stringContaining(TAKEN)]);
    expect(await allFiles(scenario.workspace.backupDir)).toEqual([stored[0]!.key, stored[0]!.key.replace('.dump.zst', '.manifest.json')]);
    // The data object is the one its manifest describes.
    const verify = await runCli(['verify', 'daily/app_20310203_040506'], scenario.env);
    expect(verify.code).toBe(0);
  });

  describe('S3: asks for If-None-Match and stands back when the server says the name is taken', () => {
    const env = (prefix: string, database = 'app') => ({ ...scenario.env, ...s3.env(prefix), S3_ENDPOINT: proxy.endpoint, POSTGRES_DB: database, S3_PART_SIZE: '5MiB' });
    const conditional = (suffix: string, method: string) => (req: FaultRequest) => req.method === method && req.url.split('?')[0]!.endsWith(suffix) && req.headers['if-none-match'] === '*';
    beforeEach(() => proxy.clear());

    it.each([
      ['a single PutObject', 'app', 'PUT'],
      ['a multipart upload', 'big', 'POST'],
    ])('the data object, stored with %s, is taken: nothing is stored and no manifest is written', async (_how, database, method) => {
      proxy.failWhen(conditional('.dump.zst', method), 412);
      const result = await runCli(['backup'], env(`taken-data-${database}`, database));
      expect(result.code).toBe(74);
      expect(result.stderr).toContain(TAKEN);
      expect(proxy.requests.some((request) => request.url.includes('.manifest.json'))).toBe(false);
      expect(await listAllKeys(s3, `taken-data-${database}/`)).toEqual([]);
    });

    it('the manifest is taken: this run removes its own data object and leaves the other\'s manifest alone', async () => {
      proxy.failWhen(conditional('.manifest.json', 'PUT'), 412);
      const result = await runCli(['backup'], env('taken-manifest'));
      expect(result.code).toBe(74);
      expect(result.stderr).toContain(TAKEN);
      const deleted = proxy.requests.filter((request) => request.method === 'DELETE').map((request) => request.url.split('?')[0]);
      expect(deleted.length).toBeGreaterThan(0);
      expect(deleted.filter((url) => !url!.endsWith('.dump.zst'))).toEqual([]);
      expect(await listAllKeys(s3, 'taken-manifest/')).toEqual([]);
    });
  });
});
