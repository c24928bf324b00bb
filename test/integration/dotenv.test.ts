import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli';
import { startTestS3, type TestS3 } from '../support/s3';

/**
 * The compose quick start leaves a .env (a copy of .env.example) in the checkout. The host CLI
 * reads ./.env too, so in that folder it becomes an S3 client for the compose stack's bucket.
 * It must say so: in the error, and in `keepsake config`.
 */
describe('a .env file in the working directory', () => {
  let s3: TestS3;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    s3 = await startTestS3();
    dir = await mkdtemp(join(tmpdir(), 'keepsake-dotenv-'));
    await copyFile(join(__dirname, '..', '..', '.env.example'), join(dir, '.env'));
    // This S3 server has no bucket "keepsake-backups" (the name .env.example gives); the endpoint and
    // keys of the real environment win over the file's.
    env = { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, STATE_DIR: join(dir, 'state') };
  });
  afterAll(async () => {
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('is named, with the variables it set, when a command fails', async () => {
    const result = await runCli(['list'], env, { cwd: dir });
    expect(result.code).toBe(74);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('keepsake: Cannot list s3://keepsake-backups/db-backups/: the bucket does not exist; create it or fix S3_BUCKET');
    expect(lines.slice(0, -1)).toEqual([
      `keepsake: these settings came from ${join(dir, '.env')} (the environment wins over it): POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD, S3_BUCKET, MAIL_FROM, MAIL_TO, TZ`,
    ]);
  });

  it('is named by `keepsake config`', async () => {
    const result = await runCli(['config'], env, { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      dotenv: { path: join(dir, '.env'), variables: ['POSTGRES_USER', 'POSTGRES_DB', 'POSTGRES_PASSWORD', 'S3_BUCKET', 'MAIL_FROM', 'MAIL_TO', 'TZ'] },
      targets: [{ name: 's3', kind: 's3', role: 'primary', s3: { bucket: 'keepsake-backups' } }],
    });
    expect(result.stdout).not.toContain('change-me');
  });
});
