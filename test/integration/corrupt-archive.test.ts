import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Manifest } from '../../src/backup/manifest';
import type { RestoreTestResult } from '../../src/restore/restore-test';
import { runCli } from '../support/cli';
import { startTestS3, type TestS3 } from '../support/s3';
import { startScenario, type Scenario } from '../support/scenario';
import { allFiles } from '../support/workspace';

/**
 * One flipped byte where zstd notices it at once ("Data corruption detected") and stops reading,
 * half a dozen megabytes before the end: the case where writing the rest into its closed stdin
 * used to fail with EPIPE and hide the real cause. Not every position is such a place (zstd
 * finds many flips only at the frame's checksum, at the end), so the first one from the middle
 * onwards where zstd quits early is taken.
 */
function damageInTheMiddle(stored: Buffer, rawBytes: number): { damaged: Buffer; offset: number } {
  for (let offset = Math.floor(stored.length / 2); offset < stored.length * 0.7; offset += 9973) {
    const damaged = Buffer.from(stored);
    damaged[offset]! ^= 0xff;
    const zstd = spawnSync('zstd', ['-d', '-q', '-c'], { input: damaged, maxBuffer: 4 * rawBytes });
    if (zstd.status !== 0 && zstd.stdout.length < rawBytes * 0.75) return { damaged, offset };
  }
  throw new Error('no position near the middle where zstd stops early');
}

describe('a backup damaged in the middle of its data object', () => {
  let s: Scenario;
  let s3: TestS3;
  let manifest: Manifest;
  let env: Record<string, string>;
  const on = (target: string) => ({ ...env, BACKUP_TARGETS: target });

  beforeAll(async () => {
    [s, s3] = await Promise.all([
      // About 25 MB of dump text, 13 MB stored: a multi-part object on S3, a long pipe to zstd.
      startScenario({ sql: 'CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b, g % 977 AS c FROM generate_series(1, 300000) g' }),
      startTestS3(),
    ]);
    env = { ...s.env, ...s3.env(), S3_PART_SIZE: '5MiB' };
    const backup = await runCli(['backup', '--json'], on('local,s3'));
    expect(backup.code).toBe(0);
    manifest = JSON.parse(backup.stdout) as Manifest;
    expect(manifest.storedBytes).toBeGreaterThan(8 * 1024 * 1024);

    const file = join(s.workspace.backupDir, manifest.key);
    const { damaged, offset } = damageInTheMiddle(readFileSync(file), manifest.rawBytes);
    expect(offset).toBeGreaterThan(manifest.storedBytes / 2 - 1);
    writeFileSync(file, damaged);
    const s3Key = `db-backups/${manifest.key}`;
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: s3Key, Body: damaged }));
    const check = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: s3Key }));
    expect(Buffer.from(await check.Body!.transformToByteArray()).equals(damaged)).toBe(true);
  });
  afterAll(async () => Promise.all([s?.stop(), s3?.stop()]));

  it('`verify` fails every copy on its sha256 and zstd error, printing the object\'s real size (exit 65)', async () => {
    const run = await runCli(['verify', manifest.id], on('local,s3'));
    expect(run.code).toBe(65);
    for (const target of ['local', 's3']) {
      const copy = run.stdout.slice(run.stdout.indexOf(`FAILED manual/${manifest.id} on ${target}`));
      expect(copy).toMatch(new RegExp(`^FAILED manual/${manifest.id} on ${target} `));
      expect(copy).toContain(`\n  ok   size: ${manifest.storedBytes} bytes stored, manifest says ${manifest.storedBytes}\n`);
      expect(copy).toMatch(new RegExp(`\n  FAIL sha256: sha256 [0-9a-f]{64}, manifest says ${manifest.sha256}\n`));
      expect(copy).toMatch(/\n {2}FAIL decompress: zstd failed: .*(Data corruption detected|Corrupted block)/);
    }
    expect(run.stdout + run.stderr).not.toMatch(/EPIPE|could not read/);
    expect(run.stderr).toContain(`keepsake: Backup ${manifest.id} failed verification on local, s3`);
  });

  it.each(['local', 's3'])('`restore-test` from %s names the checksum mismatch, not EPIPE (exit 65)', async (target) => {
    const run = await runCli(['restore-test', '--json'], on(target));
    expect(run.code).toBe(65);
    const result = JSON.parse(run.stdout) as RestoreTestResult;
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(new RegExp(`^checksum mismatch for \\S+: sha256 is [0-9a-f]{64}, its manifest says ${manifest.sha256}; the backup is damaged, use another one$`));
    expect(run.stderr).toContain('checksum mismatch');
    expect(run.stdout + run.stderr).not.toContain('EPIPE');
    expect(await allFiles(s.tmpDir)).toEqual([]);
  });

  it.each(['local', 's3'])('`restore --dry-run` from %s fails its integrity check on the checksum (exit 65)', async (target) => {
    const run = await runCli(['restore', 'latest', '--dry-run'], on(target));
    expect(run.code).toBe(65);
    expect(run.stdout).toMatch(new RegExp(`\nFAIL backup integrity: checksum mismatch for \\S+: sha256 is [0-9a-f]{64}, its manifest says ${manifest.sha256}; the backup is damaged, use another one\n`));
    expect(run.stdout + run.stderr).not.toContain('EPIPE');
  });

  it.each(['local', 's3'])('`restore` from %s refuses on the checksum before touching the database (exit 65)', async (target) => {
    const state = async () => [await s.pg.query(s.pg.admin, 'SELECT datname FROM pg_database ORDER BY 1'), await s.pg.query(s.db, 'SELECT count(*) AS n FROM bulk')];
    const before = await state();
    const run = await runCli(['restore', 'latest', '--yes'], on(target));
    expect(run.code).toBe(65);
    expect(run.stderr).toMatch(new RegExp(`keepsake: checksum mismatch for \\S+: sha256 is [0-9a-f]{64}, its manifest says ${manifest.sha256}; the backup is damaged, use another one`));
    expect(run.stderr).not.toContain('EPIPE');
    expect(await state()).toEqual(before);
    expect(await allFiles(s.tmpDir)).toEqual([]);
  });
});
