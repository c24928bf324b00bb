import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config';
import { VerifyError } from '../../src/errors';
import { listWalArchive, readWalFile, storeWalFile } from '../../src/pitr/wal-archive';
import { parseWalName } from '../../src/pitr/wal-names';
import { createStorages } from '../../src/storage';
import { startTestS3, type TestS3 } from '../support/s3';
import { makeWorkspace } from '../support/workspace';

/** A WAL-like file: 16 MiB, mostly zeros (as a fresh segment is) with some random pages. */
function segmentBytes(seed: number): Buffer {
  const bytes = Buffer.alloc(16 * 1024 * 1024);
  for (let page = 0; page < 64; page += 1) randomBytes(8192).copy(bytes, (page * 37 + seed) * 8192);
  return bytes;
}

function collect(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  return { sink: new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk), done()) }), bytes: () => Buffer.concat(chunks) };
}

describe('the WAL archive on local disk and S3', () => {
  let s3: TestS3;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeAll(async () => {
    s3 = await startTestS3();
    workspace = await makeWorkspace();
  });
  afterAll(async () => {
    await s3.stop();
    await workspace.remove();
  });

  const setup = () => {
    const config = loadConfig({ BACKUP_DIR: join(workspace.root, 'backups'), ...s3.env('wal-test'), BACKUP_TARGETS: 'local,s3', POSTGRES_DB: 'app' });
    return { storages: createStorages(config), archive: { compression: config.compression, encryption: config.encryption }, encryption: config.encryption };
  };

  it('stores a segment on every target, lists it, and reads back the very bytes', async () => {
    const { storages, archive, encryption } = setup();
    const file = parseWalName('000000010000000000000003')!;
    const path = join(workspace.root, file.name);
    const bytes = segmentBytes(1);
    await writeFile(path, bytes);

    const stored = await storeWalFile(storages, archive, file, path);
    expect(stored.written).toEqual(['local', 's3']);
    expect(stored.manifest.storedBytes).toBeLessThan(bytes.length / 4);
    for (const storage of storages) {
      expect((await listWalArchive(storage)).map((entry) => entry.file.name)).toEqual([file.name]);
      const out = collect();
      await readWalFile(storage, file, out.sink, encryption);
      expect(out.bytes().equals(bytes)).toBe(true);
    }
  });

  it('counts the same segment shipped again as shipped, and refuses a different one under its name', async () => {
    const { storages, archive } = setup();
    const file = parseWalName('000000010000000000000003')!;
    const path = join(workspace.root, file.name);
    expect((await storeWalFile(storages, archive, file, path)).written).toEqual([]);
    await writeFile(path, segmentBytes(2));
    await expect(storeWalFile(storages, archive, file, path)).rejects.toThrow(/holds a different 000000010000000000000003.*own BACKUP_DIR/);
  });

  it('replaces a partial segment as it grows', async () => {
    const { storages, archive, encryption } = setup();
    const file = parseWalName('000000010000000000000004.partial')!;
    const path = join(workspace.root, file.name);
    await writeFile(path, segmentBytes(3));
    await storeWalFile(storages, archive, file, path);
    const grown = segmentBytes(4);
    await writeFile(path, grown);
    expect((await storeWalFile(storages, archive, file, path)).written).toEqual(['local', 's3']);
    const out = collect();
    await readWalFile(storages[1]!, file, out.sink, encryption);
    expect(out.bytes().equals(grown)).toBe(true);
  });

  it('does not list a data object whose manifest was never written, and fails a damaged one on read', async () => {
    const { storages, encryption } = setup();
    const local = storages[0]!;
    await local.put('wal/00000001/000000010000000000000009.zst', Buffer.from('cut short'));
    expect((await listWalArchive(local)).map((entry) => entry.file.name)).not.toContain('000000010000000000000009');

    const file = parseWalName('000000010000000000000003')!;
    const entry = (await listWalArchive(local)).find((archived) => archived.file.name === file.name)!;
    const body = await local.readAll(entry.dataKey);
    body.writeUInt8(body.readUInt8(body.length - 5) ^ 0xff, body.length - 5);
    await local.put(entry.dataKey, body);
    const error = await readWalFile(local, file, collect().sink, encryption).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VerifyError);
    expect((error as Error).message).toMatch(/does not match its manifest/);
  });
});
