import { S3Storage } from '../../src/storage/s3';
import { LocalStorage } from '../../src/storage/local';
import { createStorages, type Storage } from '../../src/storage';
import { loadConfig } from '../../src/config';
import { TARGET_KINDS } from '../../src/config/schema';
import { StorageError } from '../../src/errors';
import { startTestS3, type TestS3 } from '../support/s3';
import { allFiles, makeWorkspace } from '../support/workspace';

/**
 * The Storage contract (src/storage/storage.ts), proved against every kind of target: as the
 * legacy target of that kind, and as a named off-site target built from TARGET_<NAME>_* through
 * loadConfig and createStorages, the way keepsake builds it.
 */
const CASES = TARGET_KINDS.flatMap((kind) => [
  { label: `${kind} (legacy)`, kind, named: false },
  { label: `${kind} (named target "vault")`, kind, named: true },
]);

describe.each(CASES)('$label storage meets the Storage contract', ({ kind, named }) => {
  let storage: Storage;
  let s3: TestS3 | undefined;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;

  beforeAll(async () => {
    workspace = await makeWorkspace();
    if (named) {
      s3 = kind === 's3' ? await startTestS3() : undefined;
      const own = s3 ? s3.targetEnv('vault', 'conformance') : { TARGET_VAULT_KIND: 'local', TARGET_VAULT_DIR: workspace.backupDir };
      const config = loadConfig({ BACKUP_DIR: `${workspace.root}/primary`, OFFSITE_TARGETS: 'vault', S3_PART_SIZE: '5MiB', ...own });
      storage = createStorages(config).find((candidate) => candidate.name === 'vault')!;
      expect({ name: storage.name, kind: storage.kind, role: storage.role }).toEqual({ name: 'vault', kind, role: 'offsite' });
    } else if (kind === 'local') {
      storage = new LocalStorage(workspace.backupDir);
    } else {
      s3 = await startTestS3();
      const env = s3.env('conformance');
      storage = new S3Storage({
        bucket: env.S3_BUCKET!, prefix: 'conformance', region: 'us-east-1', endpoint: env.S3_ENDPOINT, forcePathStyle: true,
        accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY, partSizeBytes: 5 * 1024 * 1024, queueSize: 2, checksums: 'when_required',
      });
    }
  });
  afterAll(async () => {
    await s3?.stop();
    await workspace.remove();
  });

  async function keys(prefix = ''): Promise<string[]> {
    const found: string[] = [];
    for await (const object of storage.list(prefix)) found.push(object.key);
    return found.sort();
  }

  it('puts and reads back a small object', async () => {
    await storage.put('a/b/small.json', Buffer.from('{"x":1}'));
    expect((await storage.readAll('a/b/small.json')).toString()).toBe('{"x":1}');
  });

  it('streams a multi-part object that appears only when complete() resolves', async () => {
    const writer = await storage.createWriter('big/object.bin');
    const chunk = Buffer.alloc(1024 * 1024, 7);
    for (let i = 0; i < 12; i++) if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
    expect(await keys('big/')).toEqual([]);
    writer.stream.end();
    await writer.complete();
    const listed = [];
    for await (const object of storage.list('big/')) listed.push(object);
    expect(listed.map(({ key, size }) => ({ key, size }))).toEqual([{ key: 'big/object.bin', size: 12 * 1024 * 1024 }]);
    expect(Math.abs(Date.now() - listed[0]!.modified.getTime())).toBeLessThan(60_000);
  });

  it('leaves nothing behind when a write is aborted half way', async () => {
    const writer = await storage.createWriter('aborted/half.bin');
    writer.stream.write(Buffer.alloc(6 * 1024 * 1024, 1));
    await writer.abort(new Error('test abort'));
    expect(await keys('aborted/')).toEqual([]);
    if (kind === 'local') expect((await allFiles(workspace.backupDir)).filter((f) => f.startsWith('aborted/'))).toEqual([]);
  });

  it('removes a completed object when aborted afterwards (all-or-nothing across targets)', async () => {
    const writer = await storage.createWriter('undo/done.bin');
    writer.stream.end(Buffer.from('complete'));
    await writer.complete();
    expect(await keys('undo/')).toEqual(['undo/done.bin']);
    await writer.abort();
    expect(await keys('undo/')).toEqual([]);
  });

  it('lists only under the prefix, with keys relative to the root', async () => {
    await Promise.all(['p/1/x', 'p/2/y', 'q/z', 'pp/w'].map((key) => storage.put(key, Buffer.from(key))));
    expect(await keys('p/')).toEqual(['p/1/x', 'p/2/y']);
  });

  it('deletes idempotently and fails reads of missing keys with a StorageError', async () => {
    await storage.put('gone/soon', Buffer.from('x'));
    await storage.delete('gone/soon');
    await storage.delete('gone/soon');
    expect(await keys('gone/')).toEqual([]);
    await expect(storage.readAll('gone/soon')).rejects.toBeInstanceOf(StorageError);
  });
});
