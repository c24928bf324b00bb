/**
 * Issue 13's acceptance, as an operator configures it: local disk and one S3 server as primaries,
 * a second S3 server as the off-site target `cold` with its own retention, backups encrypted with
 * age. Everything through the CLI: backup, offsite, list/verify/restore-test --from, cleanup, health.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { runCli } from '../support/cli';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { startScenario, type Scenario } from '../support/scenario';
import { freePort } from '../support/http';
import { startFaultyProxy, type FaultyProxy } from '../support/faulty-proxy';

jest.setTimeout(240_000);

const SQL = `CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 300) g;`;

describe('three targets: two primaries and an off-site one with its own retention', () => {
  let s: Scenario;
  let primaryS3: TestS3;
  let cold: TestS3;
  let coldDir: string;
  let coldPort: number;
  let env: Record<string, string>;
  let identityFile: string;
  /** In front of cold: records the storage class each upload asks for. */
  let proxy: FaultyProxy;
  const storageClasses: string[] = [];

  const ids = async (from: string): Promise<string[]> => {
    const run = await runCli(['list', '--from', from, '--json'], env);
    expect(run.code).toBe(0);
    return (JSON.parse(run.stdout) as { id: string }[]).map((backup) => backup.id);
  };
  const startCold = () => startTestS3({ bucket: 'cold', dir: coldDir, port: coldPort });

  beforeAll(async () => {
    coldDir = await mkdtemp(join(tmpdir(), 'keepsake-cold-'));
    coldPort = await freePort();
    [s, primaryS3, cold] = await Promise.all([startScenario({ sql: SQL }), startTestS3(), startCold()]);
    proxy = await startFaultyProxy(cold.endpoint);
    proxy.failWhen((request) => {
      const storageClass = request.headers['x-amz-storage-class'];
      if (typeof storageClass === 'string') storageClasses.push(storageClass);
      return false;
    });
    identityFile = join(s.workspace.root, 'age-key.txt');
    execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim();
    env = {
      ...s.env,
      ...primaryS3.env(),
      BACKUP_TARGETS: 'local,s3',
      OFFSITE_TARGETS: 'cold',
      ...cold.targetEnv('cold'),
      TARGET_COLD_ENDPOINT: proxy.endpoint,
      TARGET_COLD_STORAGE_CLASS: 'STANDARD_IA',
      BACKUP_KEEP_MANUAL: '10',
      TARGET_COLD_KEEP_MANUAL: '2',
      BACKUP_ENCRYPTION: 'age',
      AGE_RECIPIENTS: recipient,
      AGE_IDENTITY_FILE: identityFile,
    };
  });
  afterAll(async () => {
    await Promise.all([s?.stop(), primaryS3?.stop(), cold?.stop(), proxy?.close()]);
    await rm(coldDir, { recursive: true, force: true });
  });

  it('backs up to the primaries only; the off-site job copies what cold keeps, resumes after cold was down, and every target restores', async () => {
    for (let i = 0; i < 3; i++) expect((await runCli(['backup'], env)).code).toBe(0);
    const made = await ids('local');
    expect(made).toHaveLength(3);
    expect(await ids('s3')).toEqual(made);
    expect(await ids('cold')).toEqual([]);

    // Cold is down: the job fails, says which target and why, stores nothing; backups still work.
    await cold.stop();
    const down = await runCli(['offsite'], env);
    expect(down.code).toBe(74);
    expect(down.stderr).toMatch(/cold: cannot list cold/);
    expect((await runCli(['backup'], env)).code).toBe(0);
    const health = await runCli(['health', '--json'], env);
    expect(JSON.parse(health.stdout).checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'offsite:cold', status: 'fail', message: expect.stringMatching(/cannot list the off-site target cold/) })]));

    // Back up: the next run catches up with the newest two, which is all cold's retention keeps.
    cold = await startCold();
    const caughtUp = await runCli(['offsite'], env);
    expect(caughtUp).toMatchObject({ code: 0, stdout: expect.stringMatching(/^off-site: 2 backups copied/) });
    const newest = (await ids('local')).slice(0, 2);
    expect(await ids('cold')).toEqual(newest);
    expect((await runCli(['offsite'], env)).stdout).toMatch(/^off-site: 0 backups copied/);
    const offsiteCheck = JSON.parse((await runCli(['health', '--json'], env)).stdout).checks.find((check: { name: string }) => check.name === 'offsite:cold');
    expect(offsiteCheck).toMatchObject({ status: 'ok', message: expect.stringMatching(/^cold holds every backup of the primaries/) });

    // What landed off-site is the encrypted object, asked for in the storage class cold is set to.
    expect(storageClasses.length).toBeGreaterThanOrEqual(2);
    expect(new Set(storageClasses)).toEqual(new Set(['STANDARD_IA']));
    const keys = await listAllKeys(cold);
    expect(keys.filter((key) => key.endsWith('.dump.zst.age'))).toHaveLength(2);
    const dataKey = keys.find((key) => key.endsWith('.age'))!;
    const object = await cold.client.send(new GetObjectCommand({ Bucket: 'cold', Key: dataKey }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).subarray(0, 21).toString()).toBe('age-encryption.org/v1');

    for (const from of ['local', 's3', 'cold']) {
      const proof = await runCli(['restore-test', 'latest', '--from', from], env);
      expect({ from, code: proof.code, stderr: proof.stderr }).toEqual({ from, code: 0, stderr: expect.any(String) });
    }
    expect((await runCli(['verify', '--from', 'cold'], env)).code).toBe(0);
  });

  it("applies cold's own retention, and verify --from cold detects a corrupted copy there", async () => {
    expect((await runCli(['backup'], env)).code).toBe(0);
    expect((await runCli(['offsite'], env)).code).toBe(0);
    // cold now holds three; its cleanup keeps two, the primaries keep all.
    expect(await ids('cold')).toHaveLength(3);
    expect((await runCli(['cleanup'], env)).code).toBe(0);
    const all = await ids('local');
    expect(all).toHaveLength(5);
    expect(await ids('cold')).toEqual(all.slice(0, 2));
    // And the job does not copy back what cold's retention removed.
    expect((await runCli(['offsite'], env)).stdout).toMatch(/^off-site: 0 backups copied/);

    // Same size, one byte flipped: listed (sizes match), but verify reads and hashes it.
    const dataKey = (await listAllKeys(cold)).find((key) => key.endsWith('.age') && key.includes(all[0]!))!;
    const body = Buffer.from(await (await cold.client.send(new GetObjectCommand({ Bucket: 'cold', Key: dataKey }))).Body!.transformToByteArray());
    body[body.length - 100] = body[body.length - 100]! ^ 0xff;
    await cold.client.send(new PutObjectCommand({ Bucket: 'cold', Key: dataKey, Body: body }));
    const verify = await runCli(['verify', 'latest', '--from', 'cold'], env);
    expect(verify.code).toBe(65);
    expect(verify.stdout + verify.stderr).toMatch(/sha256/);
    expect((await runCli(['verify', 'latest', '--from', 'local'], env)).code).toBe(0);
  });
});
