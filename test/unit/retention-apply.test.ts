import { Readable } from 'node:stream';
import { serializeManifest } from '../../src/backup/manifest';
import { backupId, dataKey, manifestKeyFor, type Tier } from '../../src/backup/keys';
import { silentLogger } from '../../src/log';
import { runCleanup } from '../../src/retention/apply';
import type { RetentionPolicy } from '../../src/retention/plan';
import type { ObjectWriter, Storage, StoredObject } from '../../src/storage';
import { validManifest } from './manifest-fixture';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');

/** A Storage in memory that records every delete and can be told to fail some. */
class MemoryStorage implements Storage {
  readonly objects = new Map<string, { body: Buffer; modified: Date }>();
  readonly temporary = new Map<string, Date>();
  readonly deletes: string[] = [];
  failDelete = (_key: string) => false;
  readonly kind = 'local' as const;
  readonly role = 'primary' as const;
  readonly readCost = 0;
  constructor(readonly name: string) {}
  location(key: string) {
    return `${this.name}:${key}`;
  }
  async createWriter(): Promise<ObjectWriter> {
    throw new Error('not used');
  }
  async put(key: string, body: Buffer, modified = new Date(NOW)) {
    this.objects.set(key, { body, modified });
  }
  async read(key: string) {
    return Readable.from([await this.readAll(key)]);
  }
  async readAll(key: string) {
    const object = this.objects.get(key);
    if (!object) throw new Error(`no ${key}`);
    return object.body;
  }
  async *list(prefix = ''): AsyncIterable<StoredObject> {
    for (const [key, { body, modified }] of [...this.objects].sort()) if (key.startsWith(prefix)) yield { key, size: body.length, modified };
  }
  async *listTemporary(prefix = ''): AsyncIterable<StoredObject> {
    for (const [key, modified] of this.temporary) if (key.startsWith(prefix)) yield { key, size: 3, modified };
  }
  async delete(key: string) {
    if (this.failDelete(key)) throw new Error(`injected failure deleting ${key}`);
    this.deletes.push(key);
    this.objects.delete(key);
    this.temporary.delete(key);
  }
}

/** A complete backup: data object of the recorded size, then its manifest beside it. */
async function addBackup(storages: MemoryStorage[], tier: Tier, daysAgo: number): Promise<string> {
  const at = new Date(NOW - daysAgo * DAY);
  const key = dataKey(tier, 'app', at, 'zstd');
  for (const storage of storages) {
    await storage.put(key, Buffer.alloc(100 + daysAgo));
    await storage.put(manifestKeyFor(key), serializeManifest(validManifest({ id: backupId('app', at), tier, key, startedAt: at.toISOString(), storedBytes: 100 + daysAgo })));
  }
  return key;
}

const retention: RetentionPolicy = { keep: { daily: 2, weekly: 4, monthly: 12, yearly: 5, manual: 10, 'pre-restore': 3, base: 2 }, maxAgeMs: {}, restoreTestKeepMs: 90 * DAY, incompleteAfterMs: DAY };
// The fixtures' manifests are of database "app": retention only ever plans this sidecar's own database.
const database = { host: 'db', port: 5432, user: 'app', database: 'app' };
const cleanup = (storages: Storage[], request: Parameters<typeof runCleanup>[1] = {}) => runCleanup({ config: { retention, database }, storages, log: silentLogger }, { now: NOW, ...request });

describe('runCleanup (retention job) against recording storages', () => {
  it('deletes the manifest first, then the data object, on every target that lists the backup', async () => {
    const [local, s3] = [new MemoryStorage('local'), new MemoryStorage('s3')];
    const keys: string[] = [];
    for (const daysAgo of [1, 2, 3, 4]) keys.push(await addBackup([local, s3], 'daily', daysAgo));
    const summary = await cleanup([local, s3]);
    for (const storage of [local, s3]) {
      expect(storage.deletes).toEqual(expect.arrayContaining([manifestKeyFor(keys[2]!), keys[2], manifestKeyFor(keys[3]!), keys[3]]));
      expect(storage.deletes).toHaveLength(4);
      for (const key of keys.slice(2)) expect(storage.deletes.indexOf(manifestKeyFor(key))).toBeLessThan(storage.deletes.indexOf(key));
      expect([...storage.objects.keys()].sort()).toEqual([keys[0], manifestKeyFor(keys[0]!), keys[1], manifestKeyFor(keys[1]!)].sort());
    }
    expect(summary.totals).toEqual({ kept: 2, deleted: 2, restoreTestsDeleted: 0, leftoversDeleted: 0, bytesFreed: 2 * (103 + 104) });
    expect(summary.backups.map((b) => [b.action, b.done, b.targets])).toEqual([
      ['keep', false, ['local', 's3']],
      ['keep', false, ['local', 's3']],
      ['delete', true, ['local', 's3']],
      ['delete', true, ['local', 's3']],
    ]);
  });

  it('leaves the data object when its manifest cannot be deleted, reports it, and goes on with the rest', async () => {
    const [local, s3] = [new MemoryStorage('local'), new MemoryStorage('s3')];
    const keys: string[] = [];
    for (const daysAgo of [1, 2, 3, 4]) keys.push(await addBackup([local, s3], 'daily', daysAgo));
    s3.failDelete = (key) => key === manifestKeyFor(keys[2]!);
    const summary = await cleanup([local, s3]);
    expect(s3.objects.has(keys[2]!)).toBe(true);
    expect(s3.objects.has(keys[3]!)).toBe(false);
    expect(local.objects.has(keys[2]!)).toBe(false);
    expect(summary.errors).toEqual([{ target: 's3', key: manifestKeyFor(keys[2]!), message: `injected failure deleting ${manifestKeyFor(keys[2]!)}` }]);
    expect(summary.backups[2]).toMatchObject({ action: 'delete', done: false });
    expect(summary.totals).toMatchObject({ deleted: 1, bytesFreed: 103 + 2 * 104 });
  });

  it('deletes nothing in a dry run and reports what it would delete', async () => {
    const local = new MemoryStorage('local');
    for (const daysAgo of [1, 2, 3, 4, 5]) await addBackup([local], 'daily', daysAgo);
    local.temporary.set('daily/2026/05/01/app_20260501_020000.dump.zst.tmp-ab12', new Date(NOW - 2 * DAY));
    const before = [...local.objects.keys()];
    const summary = await cleanup([local], { dryRun: true });
    expect(local.deletes).toEqual([]);
    expect([...local.objects.keys()]).toEqual(before);
    expect(summary.totals).toEqual({ kept: 2, deleted: 3, restoreTestsDeleted: 0, leftoversDeleted: 1, bytesFreed: 103 + 104 + 105 + 3 });
    expect(summary.backups.every((b) => !b.done)).toBe(true);
  });

  it('finds leftovers in keepsake’s layout only: data without manifest and temp files, never a listed backup or a stranger’s file', async () => {
    const local = new MemoryStorage('local');
    const kept = await addBackup([local], 'daily', 1);
    await local.put('daily/2026/05/20/app_20260520_020000.dump.zst', Buffer.alloc(7), new Date(NOW - 12 * DAY));
    await local.put('daily/2026/05/31/app_20260531_020000.dump.zst', Buffer.alloc(7), new Date(NOW - 3_600_000));
    await local.put('notes/old.dump', Buffer.alloc(7), new Date(NOW - 100 * DAY));
    local.temporary.set('weekly/2026/week-20/app_20260518_030000.dump.zst.tmp-1', new Date(NOW - 3 * DAY));
    local.temporary.set('other/thing.tmp-1', new Date(NOW - 3 * DAY));
    const summary = await cleanup([local]);
    expect(summary.leftovers.map((l) => [l.key, l.kind, l.action])).toEqual([
      ['daily/2026/05/20/app_20260520_020000.dump.zst', 'no-manifest', 'delete'],
      ['daily/2026/05/31/app_20260531_020000.dump.zst', 'no-manifest', 'keep'],
      ['weekly/2026/week-20/app_20260518_030000.dump.zst.tmp-1', 'temp', 'delete'],
    ]);
    expect(local.deletes.sort()).toEqual(['daily/2026/05/20/app_20260520_020000.dump.zst', 'weekly/2026/week-20/app_20260518_030000.dump.zst.tmp-1']);
    expect(local.objects.has(kept) && local.objects.has('notes/old.dump')).toBe(true);
  });

  it('counts a base backup cut short (a .tar without its manifest) as a leftover of this sidecar', async () => {
    const local = new MemoryStorage('local');
    await local.put('base/2026/05/20/cluster_20260520_010000.tar.zst', Buffer.alloc(7), new Date(NOW - 12 * DAY));
    const sources = { databases: ['app'], excludeDatabases: [], globals: true, sqlitePaths: [] };
    const summary = await runCleanup({ config: { retention, database, sources }, storages: [local], log: silentLogger }, { now: NOW });
    expect(summary.leftovers.map((l) => [l.key, l.kind, l.action])).toEqual([['base/2026/05/20/cluster_20260520_010000.tar.zst', 'no-manifest', 'delete']]);
  });

  it('reads restore-test records: the newest good backup is protected, old records are deleted on every target', async () => {
    const [local, s3] = [new MemoryStorage('local'), new MemoryStorage('s3')];
    const keys: string[] = [];
    for (const daysAgo of [30, 60, 90, 120]) keys.push(await addBackup([local, s3], 'monthly', daysAgo));
    const record = (daysAgo: number, backupKey: string, ok: boolean) => {
      const at = new Date(NOW - daysAgo * DAY);
      const key = `recovery-tests/2026/0${at.getUTCMonth() + 1}/restore_test_${daysAgo}.json`;
      const body = Buffer.from(JSON.stringify({ format: 1, ok, startedAt: at.toISOString(), backup: { database: 'app', tier: 'monthly', id: backupKey.split('/').pop()!.replace('.dump.zst', '') } }));
      return Promise.all([local.put(key, body), s3.put(key, body)]).then(() => key);
    };
    await record(29, keys[0]!, false);
    await record(59, keys[1]!, false);
    const old = await record(200, keys[2]!, true);
    const summary = await cleanup([local, s3], { now: NOW });
    // keep 12 monthly: nothing to delete by count; with keep 1 the newest good one (90d) must stay.
    expect(summary.totals.deleted).toBe(0);
    expect(summary.restoreTests.map((r) => [r.key, r.action, r.targets])).toEqual([
      [expect.stringContaining('restore_test_29'), 'keep', ['local', 's3']],
      [expect.stringContaining('restore_test_59'), 'keep', ['local', 's3']],
      [old, 'delete', ['local', 's3']],
    ]);
    expect(local.objects.has(old) || s3.objects.has(old)).toBe(false);

    const strict = await runCleanup({ config: { database, retention: { ...retention, keep: { ...retention.keep, monthly: 1 } } }, storages: [local, s3], log: silentLogger }, { now: NOW, dryRun: true });
    expect(strict.backups.map((b) => `${b.action}:${b.rule}`)).toEqual(['keep:count', 'delete:outside', 'keep:newest-good', 'delete:outside']);
  });
});
