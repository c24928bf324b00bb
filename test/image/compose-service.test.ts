/**
 * docker-compose.yml's backup service, run by the engine as Compose would run it (its environment,
 * volumes, stop grace and secrets: test/support/compose-container.ts), with the image's default
 * command. The stand-in services are servers on loopback: PostgreSQL for `db`, an S3 server for
 * `minio`, an SMTP server for `mailpit`.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import pg from 'pg';
import { composeService, createServiceContainer } from '../support/compose-container';
import { docker, DockerResources, dockerOk, followContainerLog, HARDENED, IMAGE, uniqueName, waitForInspect } from '../support/docker';
import { freePort } from '../support/http';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { startTestS3, type TestS3 } from '../support/s3';
import { startTestSmtp, type TestSmtp } from '../support/smtp';
import { FIXTURE_SQL } from '../support/workspace';

const service = composeService('backup');

describe("docker-compose.yml's backup service, on the image's default command", () => {
  const resources = new DockerResources();
  const name = resources.container(uniqueName('backup'));
  let pgServer: TestPostgres;
  let s3: TestS3;
  let smtp: TestSmtp;
  let healthPort: number;
  let volumes: Record<string, string>;
  let appDatabase: pg.ClientConfig;

  beforeAll(async () => {
    [pgServer, s3, smtp, healthPort] = await Promise.all([startTestPostgres(), startTestS3({ bucket: 'keepsake-backups' }), startTestSmtp(), freePort()]);
    // The user and database .env.example gives the stack, with a password only the secret carries.
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    await pgServer.query(pgServer.admin, `CREATE ROLE app LOGIN PASSWORD '${password}'`);
    await pgServer.query(pgServer.admin, 'CREATE DATABASE app OWNER app');
    appDatabase = { ...pgServer.admin, user: 'app', password, database: 'app' };
    await pgServer.query({ ...pgServer.admin, database: 'app' }, `SET ROLE app; ${FIXTURE_SQL}`);
    volumes = { backups: await resources.volume('backups'), 'keepsake-state': await resources.volume('state'), 'keepsake-logs': await resources.volume('logs') };
    await createServiceContainer(service, {
      name,
      image: IMAGE,
      // Only ports change: the host names db and mailpit resolve to loopback. The S3 endpoint is an
      // address, since s3rver takes any other host name for a bucket name (MinIO does not).
      env: { POSTGRES_PORT: String(pgServer.admin.port), S3_ENDPOINT: s3.endpoint, SMTP_PORT: String(smtp.port), HEALTHCHECK_PORT: String(healthPort) },
      loopbackHosts: ['db', 'mailpit'],
      volumes,
      secrets: { postgres_password: password, s3_access_key_id: s3.accessKeyId, s3_secret_access_key: s3.secretAccessKey },
      // The image's HEALTHCHECK command, checked more often than its 1m so the test need not wait.
      extra: ['--health-interval', '2s'],
    });
  });
  afterAll(async () => {
    await resources.remove();
    await Promise.all([pgServer?.stop(), s3?.stop(), smtp?.stop()]);
  });

  /** `docker compose exec backup keepsake list --json`: the runbook's way, with the service's settings. */
  const listInService = async () => JSON.parse(await dockerOk(['exec', name, 'keepsake', 'list', '--json'])) as { copies: { target: string; location: string }[] }[];
  /** Every object in the bucket, and every file in the backup volume (read by a one-off container). */
  const bucketKeys = async () => ((await s3.client.send(new ListObjectsV2Command({ Bucket: 'keepsake-backups', Prefix: 'db-backups/' }))).Contents ?? []).map((object) => object.Key!);
  const volumeFiles = async () => (await dockerOk(['run', '--rm', ...HARDENED, '-v', `${volumes.backups}:/backups`, '--entrypoint', 'find', IMAGE, '/backups', '-type', 'f'])).split('\n').filter(Boolean);
  /** Data objects and manifests come in pairs: no temp file, no orphan. */
  const expectOnlyPairs = (paths: string[]) => {
    // The database's archives (.dump.zst) and the globals' SQL (.sql.zst).
    const objects = paths.filter((path) => /\.(dump|sql)\.zst$/.test(path));
    expect([...paths].sort()).toEqual(objects.flatMap((path) => [path, path.replace(/\.(dump|sql)\.zst$/, '.manifest.json')]).sort());
    return objects.length;
  };
  /** Each run backs up the database and the cluster's globals (BACKUP_GLOBALS, on by default). */
  const SOURCES_PER_RUN = 2;

  it('reads secrets copied in without ownership, and makes the first backups on the volume and in the bucket, each reported', async () => {
    // Compose's copy: root-owned, mode 0444 (no uid/gid options, which engines before 28 refuse).
    const started = await docker(['start', name]);
    expect([started.code, started.stderr]).toEqual([0, '']);
    const log = followContainerLog(name);
    const modes = await dockerOk(['exec', name, 'stat', '-c', '%n %u:%g %a', '/run/secrets/postgres_password', '/run/secrets/s3_access_key_id', '/run/secrets/s3_secret_access_key']);
    expect(modes.split('\n').map((line) => line.split(' ').slice(1).join(' '))).toEqual(['0:0 444', '0:0 444', '0:0 444']);

    // BACKUP_ON_START makes today's daily; catch-up adds the weekly, monthly and yearly; health runs after them.
    await log.waitFor((line) => line.msg === 'job finished' && line.job === 'health', 120_000);
    const backups = log.lines.filter((line) => line.msg === 'job finished' && ['daily', 'weekly', 'monthly', 'yearly'].includes(line.job ?? ''));
    expect(backups.map((line) => [line.job, line.outcome])).toEqual(expect.arrayContaining([['daily', 'ok']]));
    expect(backups.every((line) => line.outcome === 'ok')).toBe(true);

    const listed = await listInService();
    expect(listed.length).toBe(backups.length * SOURCES_PER_RUN);
    expect(listed.map((backup) => backup.copies.map((copy) => copy.target).sort())).toEqual(listed.map(() => ['local', 's3']));
    const keys = await bucketKeys();
    for (const backup of listed) expect(keys).toContain(backup.copies.find((copy) => copy.target === 's3')!.location.replace('s3://keepsake-backups/', ''));
    expect(expectOnlyPairs(keys)).toBe(listed.length);

    const mails = await smtp.waitForMessages(backups.length, 30_000);
    expect(mails.map((mail) => mail.headers.get('x-keepsake-event'))).toEqual(backups.map(() => 'backup-succeeded'));
  });

  it("turns healthy under the image's HEALTHCHECK and answers /healthz", async () => {
    expect(await waitForInspect(name, '{{.State.Health.Status}}', (status) => status !== 'starting', 90_000)).toBe('healthy');
    const healthz = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
    expect(healthz.status).toBe(200);
  });

  it('stops within the grace while a backup runs: the backup completes, exit 0, nothing half-written', async () => {
    const before = (await listInService()).length;
    await dockerOk(['stop', name]);
    expect(await dockerOk(['inspect', '--format', '{{.State.ExitCode}}', name])).toBe('0');

    // Hold a lock pg_dump must wait for, start again (BACKUP_ON_START), stop while it waits.
    const blocker = new pg.Client(appDatabase);
    await blocker.connect();
    try {
      await blocker.query('BEGIN; LOCK TABLE shop.customers IN ACCESS EXCLUSIVE MODE');
      const since = new Date().toISOString();
      await dockerOk(['start', name]);
      const log = followContainerLog(name, since);
      await log.waitFor((line) => line.msg === 'backup started', 60_000);
      const stopping = docker(['stop', name]);
      await log.waitFor((line) => line.msg === 'stopping: letting the running job finish', 30_000);
      await blocker.query('ROLLBACK');
      expect((await stopping).code).toBe(0);
      expect(log.lines.find((line) => line.msg === 'job finished' && line.job === 'daily')).toMatchObject({ outcome: 'ok' });
      expect(log.lines.at(-1)?.msg).toBe('daemon stopped');
    } finally {
      await blocker.end();
    }
    expect(await dockerOk(['inspect', '--format', '{{.State.ExitCode}}', name])).toBe('0');

    // The new backup is complete on both targets, and nothing else was left behind.
    expect(expectOnlyPairs(await volumeFiles())).toBe(before + SOURCES_PER_RUN);
    expect(expectOnlyPairs(await bucketKeys())).toBe(before + SOURCES_PER_RUN);
  });
});
