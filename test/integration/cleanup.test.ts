import { writeFile, utimes, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { backupId, dataKey, manifestKeyFor, restoreTestKey, type Tier } from '../../src/backup/keys';
import { serializeManifest } from '../../src/backup/manifest';
import { mapLimit, readCatalog } from '../../src/catalog/catalog';
import { registerCleanup } from '../../src/cli/cleanup';
import type { CommandContext } from '../../src/cli/context';
import { loadConfig, type Config } from '../../src/config';
import { KeepsakeError } from '../../src/errors';
import { silentLogger } from '../../src/log';
import { runCleanup, type CleanupSummary } from '../../src/retention/apply';
import { createStorages, type Storage } from '../../src/storage';
import { validManifest } from '../unit/manifest-fixture';
import { runCli } from '../support/cli';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { allFiles, makeWorkspace } from '../support/workspace';

const DAY = 86_400_000;
// Objects written now are two days old by this clock: past the default 24h grace for leftovers.
const NOW = Date.now() + 2 * DAY;

interface Made {
  tier: Tier;
  database: string;
  at: number;
  key: string;
}

/** A complete backup the cheap way: a 16-byte data object, then a manifest that lists it. */
async function putBackup(storage: Storage, tier: Tier, database: string, at: number): Promise<Made> {
  const key = dataKey(tier, database, new Date(at), 'zstd');
  await storage.put(key, Buffer.alloc(16, 1));
  const manifest = validManifest({ id: backupId(database, new Date(at)), tier, database, key, startedAt: new Date(at).toISOString(), storedBytes: 16 });
  await storage.put(manifestKeyFor(key), serializeManifest(manifest));
  return { tier, database, at, key };
}

async function putRecord(storage: Storage, at: number, backup: Made, ok: boolean): Promise<string> {
  const key = restoreTestKey(new Date(at));
  const id = backupId(backup.database, new Date(backup.at));
  await storage.put(key, Buffer.from(JSON.stringify({ format: 1, ok, id: key, startedAt: new Date(at).toISOString(), backup: { database: 'app', tier: backup.tier, id } })));
  return key;
}

/** `count` backups of a tier, `every` days apart, the newest `ago` days before NOW (at 02:00-ish). */
function series(tier: Tier, count: number, every: number, database = 'app', ago = 0): [Tier, string, number][] {
  return Array.from({ length: count }, (_, i) => [tier, database, NOW - (ago + i * every) * DAY - 3_600_000] as [Tier, string, number]);
}

const byNewest = (made: Made[]) => [...made].sort((a, b) => b.at - a.at);
const objectsOf = (made: Made[]) => made.flatMap((m) => [m.key, manifestKeyFor(m.key)]);

describe.each(['local', 's3'] as const)('retention cleanup on %s storage', (kind) => {
  let s3: TestS3 | undefined;
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let baseEnv: Record<string, string>;

  beforeAll(async () => {
    workspace = await makeWorkspace();
    if (kind === 's3') s3 = await startTestS3();
    baseEnv = { POSTGRES_DB: 'app', STATE_DIR: workspace.stateDir, BACKUP_TARGETS: kind, BACKUP_DIR: workspace.backupDir, ...(s3?.env() ?? {}) };
  });
  afterAll(async () => {
    await s3?.stop();
    await workspace.remove();
  });

  /** A configuration with its own root (S3 prefix or folder), so tests do not see each other's objects. */
  function setup(root: string, env: Record<string, string> = {}): { config: Config; storage: Storage; keys(): Promise<string[]> } {
    const config = loadConfig({ ...baseEnv, BACKUP_DIR: `${workspace.backupDir}/${root}`, S3_PREFIX: root, ...env });
    const storage = createStorages(config)[0]!;
    const keys = async () => {
      const found = s3 ? (await listAllKeys(s3, `${root}/`)).map((key) => key.slice(root.length + 1)) : await allFiles(`${workspace.backupDir}/${root}`);
      return found.sort();
    };
    return { config, storage, keys };
  }

  const run = (config: Config, storage: Storage, request: Parameters<typeof runCleanup>[1] = {}) => runCleanup({ config, storages: [storage], log: silentLogger }, { now: NOW, ...request });

  it('keeps the GFS policy over 400 days and more than 1000 objects; a dry run deletes nothing; a second run is a no-op', async () => {
    const { config, storage, keys } = setup('gfs');
    const plan = [...series('daily', 400, 1), ...series('daily', 100, 1, 'billing', 30), ...series('weekly', 57, 7), ...series('monthly', 14, 30)];
    const made = await mapLimit(plan, 16, ([tier, database, at]) => putBackup(storage, tier, database, at));
    const records = await mapLimit([...Array(14).keys()], 8, (i) => putRecord(storage, NOW - i * 30 * DAY - 2 * 3_600_000, made[0]!, true));
    await storage.put('daily/2026/01/01/app_20260101_020000.dump.zst', Buffer.alloc(5)); // no manifest: a failed run's leftover
    await storage.put('notes/readme.txt', Buffer.from('not ours'));
    if (kind === 'local') {
      const temp = (key: string) => `${workspace.backupDir}/gfs/${key}`;
      await mkdir(dirname(temp('weekly/2026/week-01/x')), { recursive: true });
      await writeFile(temp('weekly/2026/week-01/app_20260104_030000.dump.zst.tmp-0ld'), 'old');
      await writeFile(temp('weekly/2026/week-01/app_20260104_030000.dump.zst.tmp-n3w'), 'new');
      const fresh = new Date(NOW - 3_600_000);
      await utimes(temp('weekly/2026/week-01/app_20260104_030000.dump.zst.tmp-n3w'), fresh, fresh);
    }
    const before = await keys();
    expect(before.length).toBeGreaterThan(1100);

    const dry = await run(config, storage, { dryRun: true });
    expect(await keys()).toEqual(before);
    // "billing" is another sidecar's database in the same bucket: its own policy decides, not ours.
    const ours = made.filter((m) => m.database === 'app');
    expect(dry.totals).toMatchObject({ kept: 23, deleted: ours.length - 23, restoreTestsDeleted: 11, leftoversDeleted: kind === 'local' ? 2 : 1 });

    const summary = await run(config, storage);
    expect(summary.errors).toEqual([]);
    expect(summary.totals).toEqual(dry.totals);
    const groups = ['app/daily', 'billing/daily', 'app/weekly', 'app/monthly'].map((g) => byNewest(made.filter((m) => `${m.database}/${m.tier}` === g)));
    const kept = [...groups[0]!.slice(0, 7), ...groups[1]!, ...groups[2]!.slice(0, 4), ...groups[3]!.slice(0, 12)];
    const expected = [...objectsOf(kept), ...records.slice(0, 3), 'notes/readme.txt', ...(kind === 'local' ? ['weekly/2026/week-01/app_20260104_030000.dump.zst.tmp-n3w'] : [])];
    expect(await keys()).toEqual(expected.sort());
    const catalog = await readCatalog([storage]);
    expect(catalog.problems).toEqual([]);
    expect(catalog.backups).toHaveLength(23 + groups[1]!.length);

    const again = await run(config, storage);
    expect(again.totals).toMatchObject({ kept: 23, deleted: 0, restoreTestsDeleted: 0, leftoversDeleted: 0 });
  });

  it('applies the safety rules end to end: a failed tier keeps everything, the newest good backup outlives its count', async () => {
    const env = { BACKUP_KEEP_DAILY: '2', BACKUP_KEEP_WEEKLY: '1', BACKUP_KEEP_MONTHLY: '1', BACKUP_MAX_AGE_MONTHLY: '65d' };
    const { config, storage, keys } = setup('safety', env);
    const made = await mapLimit([...series('daily', 10, 1), ...series('weekly', 6, 7), ...series('monthly', 5, 30)], 8, ([t, d, at]) => putBackup(storage, t, d, at));
    const weekly = byNewest(made.filter((m) => m.tier === 'weekly'));
    await putRecord(storage, NOW - 5 * DAY, weekly[0]!, false);
    await putRecord(storage, NOW - 12 * DAY, weekly[1]!, false);
    await putRecord(storage, NOW - 13 * DAY, weekly[1]!, true); // an older pass does not outweigh the newer failure

    const summary = await run(config, storage, { failedTiers: new Set<Tier>(['daily']) });
    const rules = (tier: Tier) => summary.backups.filter((b) => b.tier === tier).map((b) => `${b.action}:${b.rule}`);
    expect(rules('daily')).toEqual(['keep:count', 'keep:count', ...Array(8).fill('keep:tier-failed')]);
    expect(rules('weekly')).toEqual(['keep:count', 'delete:outside', 'keep:newest-good', 'delete:outside', 'delete:outside', 'delete:outside']);
    expect(rules('monthly')).toEqual(['keep:count', 'keep:age', 'keep:age', 'delete:outside', 'delete:outside']);
    const listed = (await readCatalog([storage])).backups.map((b) => `${b.manifest.tier}/${b.manifest.id}`);
    expect(listed).toHaveLength(10 + 2 + 3);
    expect(listed).toContain(`weekly/${backupId('app', new Date(weekly[2]!.at))}`);
    expect((await keys()).filter((key) => key.startsWith('weekly/'))).toEqual(objectsOf([weekly[0]!, weekly[2]!]).sort());
  });

  it('`keepsake cleanup --json` prints the outcome as plain data after deleting (the built CLI)', async () => {
    const { keys } = setup('json');
    const { storage } = setup('json');
    // On the real clock: 1h, 1d 1h, ... 8d 1h old; the records 2 and 200 days old.
    const made = await mapLimit(series('daily', 9, 1, 'app', 2), 8, ([t, d, at]) => putBackup(storage, t, d, at));
    const fresh = await putRecord(storage, Date.now() - 2 * DAY, made[0]!, true);
    const stale = await putRecord(storage, Date.now() - 200 * DAY, made[0]!, true);
    const run = await runCli(['cleanup', '--json'], { ...baseEnv, BACKUP_DIR: `${workspace.backupDir}/json`, S3_PREFIX: 'json' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as CleanupSummary;
    expect(summary.totals).toMatchObject({ kept: 7, deleted: 2, restoreTestsDeleted: 1 });
    expect(summary.restoreTests).toEqual([
      { key: fresh, at: expect.any(Number), action: 'keep', rule: 'newest', reason: 'newest recovery-test record: always kept', targets: [kind], done: false },
      { key: stale, at: expect.any(Number), action: 'delete', rule: 'outside', reason: expect.stringMatching(/^200d old, limit \d+d$/), targets: [kind], done: true },
    ]);
    expect(summary.backups.filter((b) => b.done).map((b) => b.targets)).toEqual([[kind], [kind]]);
    expect(await keys()).toEqual([...objectsOf(byNewest(made).slice(0, 7)), fresh].sort());
  });

  it('`keepsake cleanup` prints every backup with its rule and a summary, and exits 74 when a deletion fails', async () => {
    const { config, storage } = setup('cli');
    // The command runs on the real clock: these are 1h, 1d 1h, ... 8d 1h old.
    const made = await mapLimit(series('daily', 9, 1, 'app', 2), 8, ([t, d, at]) => putBackup(storage, t, d, at));
    const stuck = manifestKeyFor(byNewest(made)[8]!.key);
    const failing: Storage = Object.assign(Object.create(storage) as Storage, { delete: (key: string) => (key === stuck ? Promise.reject(new Error('AccessDenied')) : storage.delete(key)) });
    const cli = async (args: string[], storages: Storage[] = [storage]) => {
      const out: string[] = [];
      const err: string[] = [];
      const context: CommandContext = { config: () => config, log: () => silentLogger, storages: () => storages, out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false };
      const program = new Command().exitOverride();
      registerCleanup(program, context);
      const error = await program.parseAsync(['node', 'keepsake', 'cleanup', ...args]).then(() => undefined, (e: unknown) => e);
      return { out: out.join('\n'), err: err.join('\n'), error };
    };

    const dry = await cli(['--dry-run']);
    expect(dry.error).toBeUndefined();
    expect(dry.out.split('\n')[0]).toMatch(/^ACTION\s+TIER\s+ID\s+STARTED \(UTC\)\s+SIZE\s+RULE$/);
    expect(dry.out).toMatch(/KEEP\s+daily\s+app_\d{8}_\d{6}\s+.*among the 7 newest daily/);
    expect(dry.out).toMatch(/DELETE\s+daily\s+app_\d{8}_\d{6}\s+.*outside every rule \(9th newest daily, 8d old\)/);
    expect(dry.out.split('\n').at(-1)).toBe('Dry run, nothing deleted: would delete 2 of 9 backups, 0 incomplete leftovers, 0 recovery-test records (32 B to free); kept 7.');

    const json = await cli(['--dry-run', '--json']);
    expect((JSON.parse(json.out) as CleanupSummary).backups.map((b) => b.action)).toEqual([...Array(7).fill('keep'), 'delete', 'delete']);

    const failed = await cli([], [failing]);
    expect(failed.error).toBeInstanceOf(KeepsakeError);
    expect((failed.error as KeepsakeError).exitCode).toBe(74);
    expect(failed.err).toContain('AccessDenied');
    expect(failed.out).toMatch(/FAILED\s+daily/);
    expect(failed.out.split('\n').at(-1)).toBe('Deleted 1 of 9 backups, 0 incomplete leftovers, 0 recovery-test records (16 B freed); kept 7; 1 deletion FAILED.');
    expect((await readCatalog([storage])).backups).toHaveLength(8); // the one whose manifest stayed is still whole
  });
});
