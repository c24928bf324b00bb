/**
 * No secret leaks, as a test: every command and the daemon's jobs run with sentinel secrets, and
 * everything keepsake produces is searched for them: stdout, stderr, log files, state (outbox,
 * reports, run and recovery-test records), stored objects and manifests, received mails, /metrics
 * and /healthz, and the argv and environment of every program keepsake starts (traced by strace).
 * The one secret a child may hold is the database password, in PGPASSWORD of a libpq program.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { PITR_SERVER_SETTINGS } from '../support/postgres';
import { startScenario, type Scenario } from '../support/scenario';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { startTestSmtp, type TestSmtp } from '../support/smtp';
import { freePort, startRecordingServer } from '../support/http';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver';
import { SCHEDULES_OFF } from '../support/daemon';
import { readExecs, runTracedCli, startTracedDaemon, type ExecRecord } from '../support/exec-trace';
import type { CliResult } from '../support/cli';

jest.setTimeout(240_000);

/** Each secret is a value no part of keepsake could produce by accident. */
const SECRETS = {
  dbPassword: 'dbpw-Sentinel-7f3a91c2',
  wrongDbPassword: 'wrongpw-Sentinel-55e0b1d4',
  s3KeyId: 'AKIASENTINEL4F8E2A17',
  s3Secret: 's3secret-Sentinel-c0ffee9b1d',
  coldKeyId: 'AKIACOLDSENTINEL9D3B6',
  coldSecret: 'coldsecret-Sentinel-4e7a20f5',
  smtpPassword: 'smtppw-Sentinel-3b6d0e8f',
  pingToken: 'pingtoken-Sentinel-9a1c7e24',
  /** A chat webhook's token (in its URL's path), a webhook's signing key, an ntfy access token. */
  chatToken: 'chattoken-Sentinel-2d7b4e90',
  hookSecret: 'hooksecret-Sentinel-6c1f0a83',
  ntfyToken: 'tk_ntfySentinel5e9d2b71',
  agePassphrase: 'agepass-Sentinel-81d2c6aa',
  wrongPassphrase: 'wrongpass-Sentinel-0c4f9e37',
  /** The private key age-keygen writes, set once it exists. */
  ageIdentity: '',
};

/** Where each secret was found, as "what: where"; empty when nothing leaked. */
function findSecrets(what: string, text: string, allowed: string[] = []): string[] {
  return Object.entries(SECRETS)
    .filter(([name, value]) => value && !allowed.includes(name) && text.includes(value))
    .map(([name]) => `${name} in ${what}`);
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

const LIBPQ_PROGRAMS = /^(pg_dump|pg_dumpall|pg_restore|psql|pg_basebackup|pg_receivewal)$/;

/** The one secret a child may be given, in its environment: libpq's password, the passphrase worker's passphrase. */
function allowedInEnvironment(exec: ExecRecord): string[] {
  if (LIBPQ_PROGRAMS.test(basename(exec.file))) return [`PGPASSWORD=${SECRETS.dbPassword}`];
  if (exec.argv.some((arg) => arg.endsWith('passphrase-worker.js'))) return [SECRETS.agePassphrase, SECRETS.wrongPassphrase].map((passphrase) => `KEEPSAKE_AGE_PASSPHRASE=${passphrase}`);
  return [];
}

/**
 * A child's argv never holds a secret; its environment holds only the one it needs (above).
 * keepsake's own start (strace running node dist/cli.js, the lowest pid) is not a child.
 */
function childLeaks(execs: ExecRecord[]): string[] {
  const keepsake = execs.find((exec) => exec.argv[1]?.endsWith('dist/cli.js'));
  expect(keepsake).toBeDefined();
  return execs
    .filter((exec) => exec !== keepsake)
    .flatMap((exec) => {
      const program = basename(exec.file);
      const allowed = allowedInEnvironment(exec);
      const env = exec.env.filter((entry) => !allowed.includes(entry));
      return [...findSecrets(`argv of ${program}`, exec.argv.join(' ')), ...findSecrets(`environment of ${program}`, env.join('\n'))];
    });
}

describe('no secret reaches an output, a stored object or a child process', () => {
  let s: Scenario;
  let s3: TestS3;
  let cold: TestS3;
  let smtp: TestSmtp;
  let ping: Awaited<ReturnType<typeof startRecordingServer>>;
  let channels: HttpReceiver;
  let env: Record<string, string>;
  let traces: string;
  const leaks: string[] = [];
  const outputs: { what: string; text: string }[] = [];
  let traceCount = 0;
  /** Proof the trace sees children's environments: pg_dump's PGPASSWORD is found there. */
  let passwordSeenInPgDumpEnv = false;
  let passphraseWorkerSeen = false;

  beforeAll(async () => {
    [s, s3, cold, smtp, ping] = await Promise.all([
      // A server that accepts replication: the daemon's run streams WAL and takes a base backup (PITR).
      startScenario({ sql: 'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 500) g;', settings: PITR_SERVER_SETTINGS }),
      startTestS3({ key: { id: SECRETS.s3KeyId, secret: SECRETS.s3Secret } }),
      startTestS3({ bucket: 'cold', key: { id: SECRETS.coldKeyId, secret: SECRETS.coldSecret } }),
      startTestSmtp({ auth: { user: 'keepsake', pass: SECRETS.smtpPassword } }),
      startRecordingServer(),
    ]);
    channels = await startHttpReceiver();
    // A role whose password is the sentinel: TCP logins are checked (scram), so it is really used.
    await s.pg.query(s.pg.admin, `CREATE ROLE keeper LOGIN SUPERUSER PASSWORD '${SECRETS.dbPassword}'`);
    traces = await mkdtemp(join(tmpdir(), 'keepsake-traces-'));
    const identityFile = join(s.workspace.root, 'age-key.txt');
    execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
    SECRETS.ageIdentity = (await readFile(identityFile, 'utf8')).match(/AGE-SECRET-KEY-1[0-9A-Z]+/)![0];
    const recipient = execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim();
    env = {
      ...s.env,
      POSTGRES_USER: 'keeper',
      POSTGRES_PASSWORD: SECRETS.dbPassword,
      ...s3.env(),
      BACKUP_TARGETS: 'local,s3',
      OFFSITE_TARGETS: 'cold',
      ...cold.targetEnv('cold'),
      BACKUP_ENCRYPTION: 'age',
      AGE_RECIPIENTS: recipient,
      AGE_IDENTITY_FILE: identityFile,
      ...smtp.env(),
      HEALTHCHECK_PING_URL: `${ping.url}/ping/${SECRETS.pingToken}`,
      // Channels: the token in a chat URL's path, a signed webhook, ntfy with an access token.
      NOTIFY_CHAT_URL: channels.url(`/services/${SECRETS.chatToken}`),
      NOTIFY_CHAT_FORMAT: 'slack',
      NOTIFY_HOOK_URL: channels.url('/hook'),
      NOTIFY_HOOK_SECRET: SECRETS.hookSecret,
      NOTIFY_PHONE_URL: channels.url('/backups'),
      NOTIFY_PHONE_FORMAT: 'ntfy',
      NOTIFY_PHONE_SECRET: SECRETS.ntfyToken,
      LOG_DIR: join(s.workspace.root, 'logs'),
    };
  });

  afterAll(async () => {
    await Promise.all([s?.stop(), s3?.stop(), cold?.stop(), smtp?.stop(), ping?.stop(), channels?.stop()]);
    if (traces) await rm(traces, { recursive: true, force: true });
  });

  /** Runs one command under strace and files what it printed and what its children were given. */
  async function run(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    const dir = join(traces, String(++traceCount));
    await mkdir(dir);
    const result = await runTracedCli(args, { ...env, ...extraEnv }, dir);
    outputs.push({ what: `stdout of ${args.join(' ')}`, text: result.stdout }, { what: `stderr of ${args.join(' ')}`, text: result.stderr });
    const execs = await readExecs(dir);
    passphraseWorkerSeen ||= execs.some((exec) => exec.argv.some((arg) => arg.endsWith('passphrase-worker.js')));
    passwordSeenInPgDumpEnv ||= execs.some((exec) => basename(exec.file) === 'pg_dump' && exec.env.includes(`PGPASSWORD=${SECRETS.dbPassword}`));
    leaks.push(...childLeaks(execs).map((leak) => `${leak} (keepsake ${args.join(' ')})`));
    return result;
  }

  it('runs every command with the secrets set', async () => {
    expect((await run(['config'])).code).toBe(0);
    const backup = await run(['backup']);
    expect(backup).toMatchObject({ code: 0 });
    expect((await run(['list'])).code).toBe(0);
    expect((await run(['verify', 'latest'])).code).toBe(0);
    expect((await run(['restore-test', 'latest'])).code).toBe(0);
    expect((await run(['restore', 'latest', '--target-db', 'restored', '--yes'])).code).toBe(0);
    expect((await run(['offsite'])).code).toBe(0);
    expect((await run(['verify', 'latest', '--from', 'cold'])).code).toBe(0);
    expect((await run(['restore-test', 'latest', '--from', 'cold'])).code).toBe(0);
    expect((await run(['cleanup'])).code).toBe(0);
    expect((await run(['health'])).code).not.toBeNull();
    expect((await run(['status'])).code).toBe(0);
    expect((await run(['notify', 'test'])).code).toBe(0);
    // A channel that refuses: its error is explained by host, never with the URL's token.
    channels.script({ status: 404, body: 'no_service' }, { status: 404, body: 'no_service' });
    expect((await run(['notify', 'test', '--channel', 'chat'])).code).toBe(69);
    expect((await run(['outbox', 'list'])).code).toBe(0);
    // Passphrase mode: the passphrase goes to the worker's environment, nowhere else.
    const passphrase = { AGE_RECIPIENTS: '', AGE_PASSPHRASE: SECRETS.agePassphrase, AGE_IDENTITY_FILE: '' };
    expect((await run(['backup'], passphrase)).code).toBe(0);
    expect((await run(['restore-test', 'latest'], passphrase)).code).toBe(0);
    expect((await run(['verify', 'latest'], { ...passphrase, AGE_PASSPHRASE: SECRETS.wrongPassphrase })).code).not.toBe(0);
    // Failures print what went wrong: they must say it without the secret that was used.
    const badLogin = await run(['backup'], { POSTGRES_PASSWORD: SECRETS.wrongDbPassword });
    expect(badLogin.code).not.toBe(0);
    expect(badLogin.stderr).toMatch(/password/i);
    const s3Down = await run(['backup'], { S3_ENDPOINT: 'http://127.0.0.1:9', BACKUP_TARGETS: 's3' });
    expect(s3Down.code).not.toBe(0);
    const smtpRefused = await run(['notify', 'test'], { SMTP_PASSWORD: SECRETS.wrongDbPassword });
    expect(smtpRefused.code).not.toBe(0);
    // A URL with a password, the other way to give the database.
    const url = `postgresql://keeper:${SECRETS.dbPassword}@127.0.0.1:${s.db.port}/app`;
    const fromUrl = await run(['config'], { DATABASE_URL: url, POSTGRES_HOST: '', POSTGRES_PORT: '', POSTGRES_USER: '', POSTGRES_PASSWORD: '', POSTGRES_DB: '' });
    expect(fromUrl.code).toBe(0);
  });

  it("runs the daemon's jobs with the secrets set and serves /metrics without them", async () => {
    const port = await freePort();
    const dir = join(traces, 'daemon');
    await mkdir(dir);
    const daemon = startTracedDaemon(
      { ...env, ...SCHEDULES_OFF, BACKUP_ON_START: 'true', SCHEDULE_HEALTH: '*/2 * * * * *', BACKUP_CATCH_UP: 'false', HEALTHCHECK_PORT: String(port), PITR: 'on', WAL_SHIP_INTERVAL: '1s' },
      dir,
    );
    // PITR: pg_receivewal and pg_basebackup hold the password in their environment only.
    await daemon.waitFor((line) => line.job === 'base-backup' && line.outcome !== undefined, 120_000);
    await daemon.waitFor((line) => line.job === 'daily' && line.outcome !== undefined, 120_000);
    await daemon.waitFor((line) => line.job === 'health' && line.outcome !== undefined, 30_000);
    for (const path of ['/metrics', '/healthz']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      outputs.push({ what: `GET ${path}`, text: await response.text() });
    }
    expect(await daemon.stop()).toBe(0);
    outputs.push({ what: 'daemon log', text: daemon.lines.map((line) => JSON.stringify(line)).join('\n') }, { what: 'daemon stderr', text: daemon.stderr() });
    const execs = await readExecs(dir);
    expect(execs.some((exec) => basename(exec.file) === 'pg_receivewal' && exec.env.includes(`PGPASSWORD=${SECRETS.dbPassword}`))).toBe(true);
    leaks.push(...childLeaks(execs).map((leak) => `${leak} (daemon)`));
    expect(ping.paths.length).toBeGreaterThan(0);
    // The archived WAL (age-encrypted here) is served to the recovering postgres by keepsake: its restore_command holds no key.
    const restoredAt = await run(['restore', '--at', 'latest', '--target-db', 'recovered', '--yes']);
    expect([restoredAt.code, restoredAt.stderr]).toEqual([0, expect.any(String)]);
  });

  it('finds the secrets in none of it', async () => {
    // Every file keepsake wrote: state, logs, local backups; every object in the bucket; every mail.
    for (const dir of [s.workspace.stateDir, join(s.workspace.root, 'logs'), s.workspace.backupDir]) {
      const files = await filesUnder(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) if ((await stat(file)).size < 50_000_000) outputs.push({ what: file, text: (await readFile(file)).toString('latin1') });
    }
    for (const server of [s3, cold]) {
      const keys = await listAllKeys(server);
      expect(keys.some((key) => key.endsWith('.json'))).toBe(true);
      for (const key of keys) {
        const object = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }));
        outputs.push({ what: `s3://${server.bucket}/${key}`, text: Buffer.from(await object.Body!.transformToByteArray()).toString('latin1') });
      }
    }
    expect(smtp.messages.length).toBeGreaterThan(2);
    // What the channels were sent (bodies and headers but the ones that must carry a secret: the
    // path is the chat URL's own token, ntfy's Authorization its access token).
    expect(channels.delivered().length).toBeGreaterThan(10);
    for (const request of channels.requests) {
      const { authorization, ...headers } = request.headers;
      if (request.path === '/backups') expect(authorization).toBe(`Bearer ${SECRETS.ntfyToken}`);
      else expect(authorization).toBeUndefined();
      outputs.push({ what: `POST ${request.path.replace(SECRETS.chatToken, '<token>')}`, text: `${request.body}\n${JSON.stringify(headers)}` });
    }
    for (const mail of smtp.messages) {
      const attachments = mail.attachments.map((attachment) => attachment.content.toString('latin1')).join('\n');
      outputs.push({ what: `mail "${mail.subject}"`, text: [mail.subject, mail.html || '', mail.text ?? '', attachments, JSON.stringify([...mail.headers])].join('\n') });
    }
    // The checks can fail: the trace saw the password where it belongs, and a planted secret is found.
    expect(passwordSeenInPgDumpEnv).toBe(true);
    expect(passphraseWorkerSeen).toBe(true);
    expect(findSecrets('planted', `x${SECRETS.s3Secret}x`)).toEqual(['s3Secret in planted']);
    expect(outputs.length).toBeGreaterThan(30);
    expect([...leaks, ...outputs.flatMap(({ what, text }) => findSecrets(what, text))]).toEqual([]);
  });
});
