import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Manifest } from '../../src/backup/manifest';
import type { RestoreTestResult } from '../../src/restore/restore-test';
import { runCli } from '../support/cli';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { useScenario } from '../support/scenario';
import { FIXTURE_SQL, allFiles } from '../support/workspace';

/**
 * Three named targets on real servers: local disk and an S3 server as primaries, a second S3
 * server (another provider) as the off-site target `cold`. The off-site job is not part of this
 * test: backups are copied onto `cold` by hand, as that job would.
 */
describe('several targets: local + s3 primaries, cold off-site', () => {
  const scenario = useScenario({ sql: FIXTURE_SQL });
  let main: TestS3;
  let cold: TestS3;
  let prefixes = 0;

  beforeAll(async () => {
    [main, cold] = await Promise.all([startTestS3({ bucket: 'main-bucket' }), startTestS3({ bucket: 'cold-bucket' })]);
  });
  afterAll(async () => Promise.all([main?.stop(), cold?.stop()]));

  /** Each test its own prefix on both servers (BACKUP_DIR is emptied by useScenario). */
  function setup(extra: Record<string, string> = {}) {
    const prefix = `t${++prefixes}`;
    const env = { ...scenario().env, ...main.env(prefix), BACKUP_TARGETS: 'local,s3', OFFSITE_TARGETS: 'cold', ...cold.targetEnv('cold', prefix), ...extra };
    const backupDir = scenario().workspace.backupDir;
    return {
      env,
      prefix,
      /** What the off-site job would do: every backup object on local disk, copied to cold. */
      copyToCold: async () => {
        for (const key of (await allFiles(backupDir)).filter((file) => !file.startsWith('recovery-tests/'))) {
          await cold.client.send(new PutObjectCommand({ Bucket: cold.bucket, Key: `${prefix}/${key}`, Body: readFileSync(join(backupDir, key)) }));
        }
      },
      keysOn: async (server: TestS3, tier: string) => (await listAllKeys(server, `${prefix}/${tier}/`)).filter((key) => key.endsWith('.manifest.json')).length,
    };
  }

  async function backup(env: Record<string, string>): Promise<Manifest> {
    const run = await runCli(['backup', '--json'], env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return JSON.parse(run.stdout) as Manifest;
  }

  it('writes a backup to the primaries only; list, verify and restore-test read the off-site copy with --from cold', async () => {
    const { env, prefix, copyToCold } = setup();
    const manifest = await backup(env);
    expect(manifest.targets.map((target) => target.target)).toEqual(['local', 's3']);
    expect(await listAllKeys(cold, `${prefix}/`)).toEqual([]);

    // Before the copy, cold holds nothing; every target is listed by name.
    expect(JSON.parse((await runCli(['list', '--json', '--from', 'cold'], env)).stdout)).toEqual([]);
    await copyToCold();

    const all = JSON.parse((await runCli(['list', '--json'], env)).stdout) as { id: string; copies: { target: string; location: string }[] }[];
    expect(all.map((row) => [row.id, row.copies.map((copy) => copy.target)])).toEqual([[manifest.id, ['local', 's3', 'cold']]]);
    const text = await runCli(['list'], env);
    expect(text.stdout).toMatch(new RegExp(`${manifest.id} .*local,s3,cold`));

    const fromCold = JSON.parse((await runCli(['list', '--json', '--from', 'cold'], env)).stdout) as (typeof all);
    expect(fromCold.map((row) => row.copies)).toEqual([[{ target: 'cold', location: `s3://cold-bucket/${prefix}/${manifest.key}` }]]);

    const verify = await runCli(['verify', '--from', 'cold'], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`OK manual/${manifest.id} on cold (s3://cold-bucket/${prefix}/${manifest.key})`);
    expect(verify.stdout).not.toMatch(/ on (local|s3) /);

    const restoreTest = await runCli(['restore-test', '--json', '--from', 'cold'], env);
    expect(restoreTest.code).toBe(0);
    const result = JSON.parse(restoreTest.stdout) as RestoreTestResult;
    expect(result).toMatchObject({ ok: true, backup: { id: manifest.id, location: `s3://cold-bucket/${prefix}/${manifest.key}` } });
    // Without --from the cheapest copy is read: local disk.
    const nearest = JSON.parse((await runCli(['restore-test', '--json'], env)).stdout) as RestoreTestResult;
    expect(nearest.backup.location).toBe(join(scenario().workspace.backupDir, manifest.key));
  });

  it.each([['list'], ['verify'], ['restore-test'], ['restore', 'latest', '--dry-run']])('refuses --from with an unknown name, listing the targets (%s)', async (...command) => {
    const { env } = setup();
    const run = await runCli([...command, '--from', 'colt'], env);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('--from colt: no target of that name; the configured targets are local, s3, cold');
  });

  it('applies each target\'s own retention: the off-site target keeps more', async () => {
    const { env, copyToCold, keysOn } = setup({ BACKUP_KEEP_MANUAL: '1', TARGET_COLD_KEEP_MANUAL: '2' });
    for (let i = 0; i < 3; i++) await backup(env);
    await copyToCold();
    expect(await keysOn(cold, 'manual')).toBe(3);

    const cleanup = await runCli(['cleanup', '--json'], env);
    expect(cleanup.code).toBe(0);
    const summary = JSON.parse(cleanup.stdout) as { backups: { id: string; action: string; targets: string[]; reason: string }[] };
    const ids = [...new Set(summary.backups.map((b) => b.id))].sort().reverse();
    // The newest is kept everywhere (as the 1 newest, and as one of the 2); the second only on cold; the oldest nowhere.
    expect(summary.backups.map((b) => [ids.indexOf(b.id), b.action, b.targets, b.reason])).toEqual([
      [0, 'keep', ['local', 's3'], 'among the 1 newest manual'],
      [0, 'keep', ['cold'], 'among the 2 newest manual'],
      [1, 'delete', ['local', 's3'], expect.stringContaining('outside every rule (2nd newest manual')],
      [1, 'keep', ['cold'], 'among the 2 newest manual'],
      [2, 'delete', ['local', 's3', 'cold'], expect.stringContaining('outside every rule (3rd newest manual')],
    ]);
    expect((await allFiles(scenario().workspace.backupDir)).filter((key) => key.endsWith('.manifest.json'))).toHaveLength(1);
    expect(await keysOn(main, 'manual')).toBe(1);
    expect(await keysOn(cold, 'manual')).toBe(2);
  });
});
