import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { manifestKeyFor } from '../../src/backup/keys';
import type { Manifest } from '../../src/backup/manifest';
import type { CleanupSummary } from '../../src/retention/apply';
import { runCli } from '../support/cli';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { startScenario, type Scenario } from '../support/scenario';
import { allFiles } from '../support/workspace';

/**
 * Backups whose manifest is there but whose data object is not what it says: cut short, or gone.
 * They are never listed (listed means complete), but they must be nameable: every command that is
 * given one says what is wrong with it, and cleanup removes it like any other leftover.
 */
describe('an incomplete backup: a data object cut short or missing under its manifest', () => {
  let s: Scenario;
  let s3: TestS3;
  let env: Record<string, string>;
  /** good: intact everywhere; cut: its data object is half as long on both targets; gone: its data object was deleted on both. */
  let good: Manifest;
  let cut: Manifest;
  let gone: Manifest;

  const s3Key = (key: string) => `db-backups/${key}`;
  const localPath = (key: string) => join(s.workspace.backupDir, key);
  const backup = async (): Promise<Manifest> => {
    const run = await runCli(['backup', '--json'], env);
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as Manifest;
  };
  const s3Object = async (key: string) => Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3Key(key) }))).Body!.transformToByteArray());

  beforeAll(async () => {
    [s, s3] = await Promise.all([startScenario({ sql: 'CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g' }), startTestS3()]);
    env = { ...s.env, ...s3.env(), BACKUP_TARGETS: 'local,s3', BACKUP_KEEP_MANUAL: '1' };
    good = await backup();
    cut = await backup();
    gone = await backup();
    const half = readFileSync(localPath(cut.key)).subarray(0, Math.floor(cut.storedBytes / 2));
    writeFileSync(localPath(cut.key), half);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: s3Key(cut.key), Body: half }));
    rmSync(localPath(gone.key));
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: s3Key(gone.key) }));
  });
  afterAll(async () => Promise.all([s?.stop(), s3?.stop()]));

  const cutShort = (_target?: string) => `its data object is ${Math.floor(cut.storedBytes / 2)} bytes, its manifest says ${cut.storedBytes} (cut short)`;

  it('`list` leaves them out, and its warnings name each one, what is wrong, and the command that removes it', async () => {
    const run = await runCli(['list', '--json'], env);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { id: string }[]).map((row) => row.id)).toEqual([good.id]);
    for (const target of ['local', 's3']) {
      expect(run.stderr).toContain(`warning: backup manual/${cut.id} on ${target} is incomplete and not listed: ${cutShort(target)}`);
      expect(run.stderr).toContain(`warning: backup manual/${gone.id} on ${target} is incomplete and not listed: its data object is missing`);
    }
    expect(run.stderr.match(/`keepsake cleanup` removes it once it is older than CLEANUP_INCOMPLETE_AFTER/g)).toHaveLength(4);
  });

  it('`verify <id>` fails each copy, saying what is wrong (exit 65)', async () => {
    const run = await runCli(['verify', cut.id], env);
    expect(run.code).toBe(65);
    for (const target of ['local', 's3']) {
      expect(run.stdout).toMatch(new RegExp(`FAILED manual/${cut.id} on ${target} \\(\\S+\\)`));
      expect(run.stdout).toContain(`  FAIL complete: ${cutShort(target)}; it cannot be restored`);
    }
    expect(run.stderr).toContain(`keepsake: Backup manual/${cut.id} is incomplete and cannot be used: on local, ${cutShort('local')}; on s3, ${cutShort('s3')}.`);
    expect(run.stderr).not.toContain('There are no backups');

    const json = await runCli(['verify', gone.id, '--json'], env);
    expect(json.code).toBe(65);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, id: gone.id, copies: [{ target: 'local', ok: false, checks: [{ name: 'complete', ok: false }] }, { target: 's3', ok: false }] });
    expect(json.stderr).toContain(`keepsake: Backup manual/${gone.id} is incomplete and cannot be used: on local, its data object is missing; on s3, its data object is missing.`);
  });

  it('`restore`, `restore --dry-run` and `restore-test` refuse it with the reason (exit 65), changing nothing', async () => {
    const before = await s.pg.query(s.pg.admin, 'SELECT datname FROM pg_database ORDER BY 1');
    for (const args of [['restore', cut.id, '--yes'], ['restore', gone.id, '--dry-run'], ['restore-test', `manual/${cut.id}`]]) {
      const run = await runCli(args, env);
      expect(run.code).toBe(65);
      expect(run.stderr).toMatch(new RegExp(`keepsake: Backup manual/(${cut.id}|${gone.id}) is incomplete and cannot be used: on local, its data object (is missing|is \\d+ bytes)`));
    }
    expect(await s.pg.query(s.pg.admin, 'SELECT datname FROM pg_database ORDER BY 1')).toEqual(before);
    expect(await allFiles(s.tmpDir)).toEqual([]);
  });

  it('`verify latest` passes over them to the newest complete backup', async () => {
    const run = await runCli(['verify'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`OK manual/${good.id} on local`);
  });

  it('`cleanup` keeps them within CLEANUP_INCOMPLETE_AFTER, then removes them, counting them, and never the last good backup', async () => {
    const early = await runCli(['cleanup', '--json'], env);
    expect(early.code).toBe(0);
    const kept = JSON.parse(early.stdout) as CleanupSummary;
    expect(kept.leftovers.map((leftover) => [leftover.target, leftover.key, leftover.action])).toEqual(
      ['local', 's3'].flatMap((target) => [cut, gone].map((m) => [target, manifestKeyFor(m.key), 'keep'])),
    );
    expect(kept.leftovers[0]!.reason).toMatch(new RegExp(`^incomplete backup manual/${cut.id} \\(its data object is \\d+ bytes, its manifest says \\d+ \\(cut short\\)\\), 0m old: removed once past the 24h grace$`));

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const run = await runCli(['cleanup'], { ...env, CLEANUP_INCOMPLETE_AFTER: '1s' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`KEEP\\s+manual\\s+${good.id}\\s+.*among the 1 newest manual`));
    expect(run.stdout).toMatch(new RegExp(`DELETE\\s+local\\s+${manifestKeyFor(cut.key)}\\s+.*incomplete backup manual/${cut.id} \\(its data object is \\d+ bytes`));
    expect(run.stdout).toMatch(new RegExp(`DELETE\\s+s3\\s+${manifestKeyFor(gone.key)}\\s+.*incomplete backup manual/${gone.id} \\(its data object is missing\\)`));
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^Deleted 0 of 1 backup, 4 incomplete leftovers, 0 recovery-test records \(.+ freed\); kept 1\.$/);
    expect(run.stderr).toBe('');

    const objects = [good.key, manifestKeyFor(good.key)].sort();
    expect((await allFiles(s.workspace.backupDir)).filter((key) => !key.startsWith('recovery-tests/'))).toEqual(objects);
    expect((await listAllKeys(s3, 'db-backups/manual/')).sort()).toEqual(objects.map(s3Key));
    const list = await runCli(['list', '--json'], env);
    expect(list.stderr).toBe('');
    expect((JSON.parse(list.stdout) as { id: string }[]).map((row) => row.id)).toEqual([good.id]);
  });

  it('a copy cut short on one target only: listed with its good copy, `verify` fails the bad one, `cleanup` removes that copy alone', async () => {
    const newest = await backup();
    const half = (await s3Object(newest.key)).subarray(0, 1000);
    writeFileSync(localPath(newest.key), half);

    const list = await runCli(['list', '--json'], env);
    expect((JSON.parse(list.stdout) as { id: string; copies: { target: string }[] }[]).map((row) => [row.id, row.copies.map((copy) => copy.target)])).toEqual([
      [newest.id, ['s3']],
      [good.id, ['local', 's3']],
    ]);
    expect(list.stderr).toContain(`warning: backup manual/${newest.id}: its copy on local is incomplete and not used: its data object is 1000 bytes, its manifest says ${newest.storedBytes} (cut short)`);

    const verify = await runCli(['verify', newest.id], env);
    expect(verify.code).toBe(65);
    expect(verify.stdout).toMatch(new RegExp(`^FAILED manual/${newest.id} on local .*\n  FAIL complete: its data object is 1000 bytes`));
    expect(verify.stdout).toContain(`OK manual/${newest.id} on s3`);
    expect(verify.stderr).toContain(`keepsake: Backup ${newest.id} failed verification on local`);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const cleanup = await runCli(['cleanup', '--json'], { ...env, CLEANUP_INCOMPLETE_AFTER: '1s' });
    expect(cleanup.code).toBe(0);
    const summary = JSON.parse(cleanup.stdout) as CleanupSummary;
    expect(summary.leftovers.map((leftover) => [leftover.target, leftover.key, leftover.action, leftover.done])).toEqual([['local', manifestKeyFor(newest.key), 'delete', true]]);
    // Each target keeps its own newest complete backup: on local that is `good`, its only whole copy there.
    expect(summary.backups.map((b) => [b.id, b.action, b.targets])).toEqual([
      [newest.id, 'keep', ['s3']],
      [good.id, 'keep', ['local']],
      [good.id, 'delete', ['s3']],
    ]);
    expect((await allFiles(s.workspace.backupDir)).filter((key) => !key.startsWith('recovery-tests/'))).toEqual([good.key, manifestKeyFor(good.key)].sort());
    expect((await listAllKeys(s3, 'db-backups/manual/')).sort()).toEqual([newest.key, manifestKeyFor(newest.key)].sort().map(s3Key));
    expect((await s3Object(newest.key)).length).toBe(newest.storedBytes);
  });
});
