import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backupId, manifestKeyFor } from '../../src/backup/keys';
import { serializeManifest } from '../../src/backup/manifest';
import { loadConfig } from '../../src/config';
import { listWalArchive, storeWalFile } from '../../src/pitr/wal-archive';
import { parseWalName, segmentName } from '../../src/pitr/wal-names';
import { createStorages, type Storage } from '../../src/storage';
import { validManifest } from '../unit/manifest-fixture';
import { runCli } from '../support/cli';
import { startFaultyProxy, type FaultyProxy } from '../support/faulty-proxy';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { allFiles, makeWorkspace } from '../support/workspace';

const DAY = 86_400_000;
const seg = (segno: number, timeline = 1) => segmentName(timeline, BigInt(segno));

/** A base backup as the base-backup job lists it: a small tar object, then its manifest with `physical`. */
async function putBase(storage: Storage, daysAgo: number, startSegment: string): Promise<string> {
  const at = new Date(Date.now() - daysAgo * DAY);
  const id = backupId('cluster', at);
  const day = at.toISOString().slice(0, 10).replace(/-/g, '/');
  const key = `base/${day}/${id}.tar.zst`;
  await storage.put(key, Buffer.alloc(32, 7));
  const manifest = validManifest({
    id,
    tier: 'base',
    source: { kind: 'postgres-cluster', name: 'cluster' },
    database: 'postgres',
    key,
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    archiveFormat: 'tar',
    pgDump: undefined,
    storedBytes: 32,
    physical: { timeline: 1, startLsn: '0/0', stopLsn: '0/0', startSegment, systemIdentifier: '7000000000000000001', segmentBytes: 16 * 1024 * 1024, pgBasebackup: { version: '15.8', major: 15 } },
  });
  await storage.put(manifestKeyFor(key), serializeManifest(manifest));
  return key;
}

describe.each(['local', 's3'] as const)('cleanup removes archived WAL on %s storage', (kind) => {
  let s3: TestS3 | undefined;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeAll(async () => {
    workspace = await makeWorkspace();
    if (kind === 's3') s3 = await startTestS3();
  });
  afterAll(async () => {
    await s3?.stop();
    await workspace.remove();
  });

  it('deletes exactly the WAL older than the oldest kept base backup, after the base backups, and keeps everything after it', async () => {
    const env = { POSTGRES_DB: 'app', STATE_DIR: workspace.stateDir, BACKUP_TARGETS: kind, BACKUP_DIR: workspace.backupDir, BACKUP_KEEP_BASE: '2', ...(s3?.env() ?? {}) };
    const config = loadConfig(env);
    const storage = createStorages(config)[0]!;
    const archive = { compression: config.compression, encryption: config.encryption };
    const keys = async () => (s3 ? await listAllKeys(s3) : (await allFiles(workspace.backupDir)).filter((key) => !key.startsWith('.'))).sort();

    // Three base backups starting at segments 2, 4 and 6: with BACKUP_KEEP_BASE=2 the oldest goes, and WAL before segment 4 with it.
    const oldBase = await putBase(storage, 21, seg(2));
    await putBase(storage, 14, seg(4));
    await putBase(storage, 7, seg(6));
    const names = [...[1, 2, 3, 4, 5, 6, 7].map((n) => seg(n)), `${seg(8)}.partial`, '00000002.history', seg(8, 2)];
    for (const name of names) {
      const path = join(workspace.root, name);
      await writeFile(path, randomBytes(4096));
      await storeWalFile([storage], archive, parseWalName(name)!, path);
    }
    const before = await keys();

    const dryRun = await runCli(['cleanup', '--dry-run'], env);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(new RegExp(`DELETE\\s+${kind}\\s+${seg(1)}\\.\\.${seg(3)}\\s+3\\s.*before ${seg(4)}, the first segment of the oldest kept base backup cluster_`));
    expect(dryRun.stdout).toMatch(new RegExp(`KEEP\\s+${kind}\\s+${seg(4)}\\.\\.${seg(8, 2)}\\s+7\\s.*from ${seg(4)} on`));
    expect(dryRun.stdout).toMatch(/would delete 3 WAL files/);
    expect(await keys()).toEqual(before);

    const result = await runCli(['cleanup', '--json'], env);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { wal: { totals: { deleted: number; bytesFreed: number }; targets: { keptFrom: { segment: string } }[] } };
    expect(summary.wal.totals.deleted).toBe(3);
    expect(summary.wal.totals.bytesFreed).toBeGreaterThan(3 * 4096 * 0.9);
    expect(summary.wal.targets[0]!.keptFrom.segment).toBe(seg(4));

    const after = await keys();
    const gone = before.filter((key) => !after.includes(key));
    const walGone = [1, 2, 3].flatMap((n) => [`wal/00000001/${seg(n)}.json`, `wal/00000001/${seg(n)}.zst`]);
    expect(gone.map((key) => key.replace(/^.*?(base|wal)\//, '$1/')).sort()).toEqual([oldBase, manifestKeyFor(oldBase), ...walGone].sort());
    expect((await listWalArchive(storage)).map((wal) => wal.file.name)).toEqual([seg(4), seg(5), seg(6), seg(7), `${seg(8)}.partial`, '00000002.history', seg(8, 2)].sort());

    // Run again: nothing more goes; the kept base backups still have every segment from their start on.
    const again = await runCli(['cleanup', '--json'], env);
    expect(JSON.parse(again.stdout).wal.totals.deleted).toBe(0);
    expect(await keys()).toEqual(after);
  });
});

describe('cleanup of archived WAL when S3 refuses deletions', () => {
  let s3: TestS3;
  let proxy: FaultyProxy;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeAll(async () => {
    [s3, workspace] = await Promise.all([startTestS3(), makeWorkspace()]);
    proxy = await startFaultyProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await s3?.stop();
    await workspace?.remove();
  });

  it('keeps the WAL of a base backup it could not delete, and a WAL file whose manifest it could not delete stays whole', async () => {
    const env = { POSTGRES_DB: 'app', STATE_DIR: workspace.stateDir, BACKUP_TARGETS: 's3', BACKUP_KEEP_BASE: '2', ...s3.env('faulty'), S3_ENDPOINT: proxy.endpoint };
    const config = loadConfig(env);
    const storage = createStorages(config)[0]!;
    const oldBase = await putBase(storage, 21, seg(2));
    await putBase(storage, 14, seg(4));
    await putBase(storage, 7, seg(6));
    for (const n of [1, 2, 3, 4, 5]) {
      const path = join(workspace.root, seg(n));
      await writeFile(path, randomBytes(1024));
      await storeWalFile([storage], { compression: config.compression, encryption: config.encryption }, parseWalName(seg(n))!, path);
    }
    const archived = async () => (await listWalArchive(storage)).map((wal) => wal.file.name);

    // The old base backup's manifest and segment 1's WAL manifest cannot be deleted.
    proxy.failWhen(({ method, url }) => method === 'DELETE' && (url.includes(manifestKeyFor(oldBase)) || url.includes(`${seg(1)}.json`)), 500);
    const refused = await runCli(['cleanup'], env);
    expect(refused.code).toBe(74);
    expect(refused.stderr).toContain(`could not delete wal/00000001/${seg(1)}.json on s3`);
    // Segment 1's data object was never asked for (manifest first); 2 and 3 stay for the base backup still there.
    expect(proxy.requests.some((r) => r.method === 'DELETE' && r.url.includes(`${seg(1)}.zst`))).toBe(false);
    expect(await archived()).toEqual([1, 2, 3, 4, 5].map((n) => seg(n)));

    proxy.clear();
    const result = await runCli(['cleanup'], env);
    expect(result.code).toBe(0);
    expect(await archived()).toEqual([seg(4), seg(5)]);
    expect(await listAllKeys(s3, 'faulty/wal/')).toHaveLength(4);
  });
});
