import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../src/backup/manifest';
import { runBackup } from '../../src/backup/run-backup';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { createStorages } from '../../src/storage';
import type { DatabaseConfig } from '../../src/config';
import { runCli } from '../support/cli';
import type { TestPostgres } from '../support/postgres';
import { startScenario, type Scenario } from '../support/scenario';
import { contentOf } from '../support/content';
import { FIXTURE_SQL, allFiles, fileMode, readJson } from '../support/workspace';

describe('keepsake backup to local disk', () => {
  let pg: TestPostgres;
  let db: DatabaseConfig;
  let workspace: Scenario['workspace'];
  let env: Record<string, string>;
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = await startScenario({ sql: FIXTURE_SQL });
    ({ pg, db, workspace, env } = scenario);
  });
  afterAll(async () => scenario?.stop());

  it('writes a complete, listed backup whose manifest counts every table in the dump snapshot', async () => {
    // Writes keep landing while the dump runs: the counts must still match what the dump holds.
    let writing = true;
    const writer = (async () => {
      while (writing) await pg.query(db, "INSERT INTO shop.customers (email) SELECT 'late' || gen_random_uuid() || '@x.io'");
    })();
    const result = await runCli(['backup', '--json'], env).finally(() => (writing = false));
    await writer;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const manifest = JSON.parse(result.stdout) as Manifest;

    const files = await allFiles(workspace.backupDir);
    expect(files).toEqual([manifest.key, manifest.key.replace('.dump.zst', '.manifest.json')]);
    expect(manifest.key).toMatch(/^manual\/\d{4}\/\d{2}\/\d{2}\/app_\d{8}_\d{6}\.dump\.zst$/);
    expect(await fileMode(join(workspace.backupDir, manifest.key))).toBe(0o600);
    expect(readFileSync(join(workspace.backupDir, manifest.key)).subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])); // zstd magic
    expect(manifest.storedBytes).toBeLessThan(manifest.rawBytes / 2);
    expect(readJson(join(workspace.backupDir, manifest.key.replace('.dump.zst', '.manifest.json')))).toEqual(manifest);

    const counted = Object.fromEntries(manifest.inventory.tables.map((t) => [`${t.schema}.${t.name}`, t.rows]));
    expect(counted).toMatchObject({
      'shop.orders': 6000,
      'shop.orders_2025': expect.any(Number),
      'public.café_ünïcödé': 3,
      'public.empty_table': 0,
      'public.documents': 1,
      'shop.revenue_by_status': 4,
    });
    expect(manifest.inventory.tables.find((t) => t.name === 'orders')?.kind).toBe('partitioned');
    expect(manifest.inventory.schemas).toEqual(expect.arrayContaining(['public', 'shop']));
    expect(manifest.inventory.extensions).toContain('citext');
    expect(manifest.inventory.sequences).toContainEqual({ schema: 'public', name: 'invoice_numbers', lastValue: '1041' });
    expect(manifest.server?.major).toBe(pg.major);
    expect(manifest.pgDump?.major).toBeGreaterThanOrEqual(pg.major);
    expect(JSON.stringify(manifest)).not.toContain(db.password!);

    // Restore by hand with standard tools: the same data, the same row counts the manifest promised.
    const restored = await pg.createDatabase('restored_by_hand');
    const file = join(workspace.backupDir, manifest.key);
    execFileSync('bash', ['-o', 'pipefail', '-c', `zstd -dc "${file}" | pg_restore --no-owner --no-privileges -d restored_by_hand`], {
      env: { PATH: process.env.PATH, PGHOST: db.host, PGPORT: String(db.port), PGUSER: db.user, PGPASSWORD: db.password },
    });
    const restoredContent = await contentOf(pg, restored);
    const customers = manifest.inventory.tables.find((t) => t.name === 'customers')!.rows;
    expect(restoredContent['shop.customers']).toMatch(new RegExp(`^${customers}:`));
    for (const table of manifest.inventory.tables.filter((t) => t.kind === 'table')) {
      expect(restoredContent[`${table.schema}.${table.name}`]).toMatch(new RegExp(`^${table.rows}:`));
    }
    // Apart from rows added during the dump, the restored database equals the source.
    await pg.query(db, "DELETE FROM shop.customers WHERE email LIKE 'late%'");
    expect({ ...restoredContent, 'shop.customers': '' }).toEqual({ ...(await contentOf(pg, db)), 'shop.customers': '' });
  });

  it('lists backups newest first from their manifests and verifies them', async () => {
    const daily = await runCli(['backup', '--tier', 'daily'], env);
    expect(daily.code).toBe(0);
    expect(daily.stdout).toMatch(/^OK daily backup app_\d{8}_\d{6} of app@127\.0\.0\.1:\d+: .* stored \(.*x\) in .*sha256 [0-9a-f]{64}/);

    const list = await runCli(['list', '--json'], env);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { number: number; tier: string; copies: { target: string }[] }[];
    expect(rows.map((row) => [row.number, row.tier])).toEqual([[1, 'daily'], [2, 'manual']]);
    expect(rows[0]!.copies.map((c) => c.target)).toEqual(['local']);

    const human = await runCli(['list', '--tier', 'daily'], env);
    expect(human.stdout.split('\n')[0]).toMatch(/^#\s+ID\s+TIER/);
    expect(human.stdout).not.toContain('manual');

    const verify = await runCli(['verify', '2', '--json'], env);
    expect(verify.code).toBe(0);
    const report = JSON.parse(verify.stdout) as { ok: boolean; tier: string; copies: { checks: { name: string; ok: boolean }[] }[] };
    expect(report).toMatchObject({ ok: true, tier: 'manual' });
    expect(report.copies[0]!.checks.map((c) => [c.name, c.ok])).toEqual([['size', true], ['sha256', true], ['decompress', true], ['raw size', true], ['archive', true]]);
  });

  it.each([
    ['gzip', '.dump.gz'],
    ['none', '.dump'],
  ])('stores and verifies %s-compressed backups', async (compression, extension) => {
    const result = await runCli(['backup', '--json'], { ...env, BACKUP_COMPRESSION: compression });
    expect(result.code).toBe(0);
    const manifest = JSON.parse(result.stdout) as Manifest;
    expect(manifest.key.endsWith(extension)).toBe(true);
    expect(manifest.compression.algorithm).toBe(compression);
    if (compression === 'none') expect(manifest.storedBytes).toBe(manifest.rawBytes);
    const verify = await runCli(['verify', `manual/${manifest.id}`], env);
    expect(verify.code).toBe(0);
  });

  it('never reuses a name: a second backup in the same second takes the next free second', async () => {
    const config = loadConfig(env);
    const frozen = () => new Date('2030-01-02T03:04:05Z');
    const deps = { config, storages: createStorages(config), log: silentLogger, clock: frozen };
    const first = await runBackup(deps, { tier: 'manual' });
    const second = await runBackup(deps, { tier: 'manual' });
    expect([first.id, second.id]).toEqual(['app_20300102_030405', 'app_20300102_030406']);
    const listed = JSON.parse((await runCli(['list', '--json', '--tier', 'manual'], env)).stdout).map((row: { id: string }) => row.id);
    expect(listed.slice(0, 2)).toEqual(['app_20300102_030406', 'app_20300102_030405']);
  });

  it('fails verification with exit 65 when a stored byte changes', async () => {
    const list = JSON.parse((await runCli(['list', '--json'], env)).stdout) as { copies: { location: string }[] }[];
    const file = list[0]!.copies[0]!.location;
    const original = execFileSync('cat', [file]);
    const damaged = Buffer.from(original);
    damaged[Math.floor(damaged.length / 2)]! ^= 0xff;
    require('node:fs').writeFileSync(file, damaged);
    try {
      const verify = await runCli(['verify', 'latest'], env);
      expect(verify.code).toBe(65);
      expect(verify.stdout).toMatch(/FAIL sha256: sha256 [0-9a-f]{64}, manifest says/);
      expect(verify.stderr).toContain('failed verification on local');
    } finally {
      require('node:fs').writeFileSync(file, original);
    }
  });

  it('writes JSON logs to LOG_DIR without the password, even for a failed run', async () => {
    const logDir = join(workspace.root, 'logs');
    const ok = await runCli(['backup'], { ...env, LOG_DIR: logDir, LOG_LEVEL: 'debug' });
    const failed = await runCli(['backup'], { ...env, LOG_DIR: logDir, POSTGRES_DB: 'missing_db' });
    expect([ok.code, failed.code]).toEqual([0, 69]);
    const lines = readFileSync(join(logDir, 'keepsake.log'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { msg: string });
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['backup started', 'backup finished', 'backup failed']));
    expect(readFileSync(join(logDir, 'keepsake.log'), 'utf8')).not.toContain(db.password!);
    expect(ok.stderr + failed.stderr).not.toContain(db.password!);
  });

  it('says plainly when a backup id does not exist (exit 66)', async () => {
    const result = await runCli(['verify', 'nope_20000101_000000'], env);
    expect(result.code).toBe(66);
    expect(result.stderr).toContain('No backup "nope_20000101_000000"');
  });
});
