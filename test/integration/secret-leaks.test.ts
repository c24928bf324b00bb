/**
 * No secret leaks, as a test: every command and the daemon's jobs run with sentinel secrets, and
 * everything keepsake produces is searched for them: stdout, stderr, log files, state (outbox,
 * reports, run and recovery-test records), stored objects and manifests, received mails, /metrics
 * and /healthz, and the argv and environment of every program keepsake starts (traced by strace).
 * The one secret a child may hold is the database password, in PGPASSWORD of a libpq program.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startScenario, type Scenario } from '../support/scenario';
import { listAllKeys, startTestS3, type TestS3 } from '../support/s3';
import { startTestSmtp, type TestSmtp } from '../support/smtp';
import { freePort, startRecordingServer } from '../support/http';
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
  smtpPassword: 'smtppw-Sentinel-3b6d0e8f',
  pingToken: 'pingtoken-Sentinel-9a1c7e24',
};

/** Where each secret was found, as "what: where"; empty when nothing leaked. */
function findSecrets(what: string, text: string, allowed: string[] = []): string[] {
  return Object.entries(SECRETS)
    .filter(([name, value]) => !allowed.includes(name) && text.includes(value))
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

const LIBPQ_PROGRAMS = /^(pg_dump|pg_dumpall|pg_restore|psql)$/;

/**
 * A child's argv never holds a secret; its environment holds only PGPASSWORD, for a libpq program.
 * keepsake's own start (strace running node dist/cli.js, the lowest pid) is not a child.
 */
function childLeaks(execs: ExecRecord[]): string[] {
  const keepsake = execs.find((exec) => exec.argv[1]?.endsWith('dist/cli.js'));
  expect(keepsake).toBeDefined();
  return execs
    .filter((exec) => exec !== keepsake)
    .flatMap((exec) => {
      const program = basename(exec.file);
      const libpqPassword = LIBPQ_PROGRAMS.test(program) ? [`PGPASSWORD=${SECRETS.dbPassword}`] : [];
      const env = exec.env.filter((entry) => !libpqPassword.includes(entry));
      return [...findSecrets(`argv of ${program}`, exec.argv.join(' ')), ...findSecrets(`environment of ${program}`, env.join('\n'))];
    });
}

describe('no secret reaches an output, a stored object or a child process', () => {
  let s: Scenario;
  let s3: TestS3;
  let smtp: TestSmtp;
  let ping: Awaited<ReturnType<typeof startRecordingServer>>;
  let env: Record<string, string>;
  let traces: string;
  const leaks: string[] = [];
  const outputs: { what: string; text: string }[] = [];
  let traceCount = 0;
  /** Proof the trace sees children's environments: pg_dump's PGPASSWORD is found there. */
  let passwordSeenInPgDumpEnv = false;

  beforeAll(async () => {
    [s, s3, smtp, ping] = await Promise.all([
      startScenario({ sql: 'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 500) g;' }),
      startTestS3({ key: { id: SECRETS.s3KeyId, secret: SECRETS.s3Secret } }),
      startTestSmtp({ auth: { user: 'keepsake', pass: SECRETS.smtpPassword } }),
      startRecordingServer(),
    ]);
    // A role whose password is the sentinel: TCP logins are checked (scram), so it is really used.
    await s.pg.query(s.pg.admin, `CREATE ROLE keeper LOGIN SUPERUSER PASSWORD '${SECRETS.dbPassword}'`);
    traces = await mkdtemp(join(tmpdir(), 'keepsake-traces-'));
    env = {
      ...s.env,
      POSTGRES_USER: 'keeper',
      POSTGRES_PASSWORD: SECRETS.dbPassword,
      ...s3.env(),
      BACKUP_TARGETS: 'local,s3',
      ...smtp.env(),
      HEALTHCHECK_PING_URL: `${ping.url}/ping/${SECRETS.pingToken}`,
      LOG_DIR: join(s.workspace.root, 'logs'),
    };
  });

  afterAll(async () => {
    await Promise.all([s?.stop(), s3?.stop(), smtp?.stop(), ping?.stop()]);
    if (traces) await rm(traces, { recursive: true, force: true });
  });

  /** Runs one command under strace and files what it printed and what its children were given. */
  async function run(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    const dir = join(traces, String(++traceCount));
    await mkdir(dir);
    const result = await runTracedCli(args, { ...env, ...extraEnv }, dir);
    outputs.push({ what: `stdout of ${args.join(' ')}`, text: result.stdout }, { what: `stderr of ${args.join(' ')}`, text: result.stderr });
    const execs = await readExecs(dir);
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
    expect((await run(['cleanup'])).code).toBe(0);
    expect((await run(['health'])).code).not.toBeNull();
    expect((await run(['status'])).code).toBe(0);
    expect((await run(['notify', 'test'])).code).toBe(0);
    expect((await run(['outbox', 'list'])).code).toBe(0);
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
      { ...env, ...SCHEDULES_OFF, BACKUP_ON_START: 'true', SCHEDULE_HEALTH: '*/2 * * * * *', BACKUP_CATCH_UP: 'false', HEALTHCHECK_PORT: String(port) },
      dir,
    );
    await daemon.waitFor((line) => line.job === 'daily' && line.outcome !== undefined, 120_000);
    await daemon.waitFor((line) => line.job === 'health' && line.outcome !== undefined, 30_000);
    for (const path of ['/metrics', '/healthz']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      outputs.push({ what: `GET ${path}`, text: await response.text() });
    }
    expect(await daemon.stop()).toBe(0);
    outputs.push({ what: 'daemon log', text: daemon.lines.map((line) => JSON.stringify(line)).join('\n') }, { what: 'daemon stderr', text: daemon.stderr() });
    const execs = await readExecs(dir);
    leaks.push(...childLeaks(execs).map((leak) => `${leak} (daemon)`));
    expect(ping.paths.length).toBeGreaterThan(0);
  });

  it('finds the secrets in none of it', async () => {
    // Every file keepsake wrote: state, logs, local backups; every object in the bucket; every mail.
    for (const dir of [s.workspace.stateDir, join(s.workspace.root, 'logs'), s.workspace.backupDir]) {
      const files = await filesUnder(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) if ((await stat(file)).size < 50_000_000) outputs.push({ what: file, text: (await readFile(file)).toString('latin1') });
    }
    const keys = await listAllKeys(s3);
    expect(keys.some((key) => key.endsWith('.json'))).toBe(true);
    for (const key of keys) {
      const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      outputs.push({ what: `s3://${s3.bucket}/${key}`, text: Buffer.from(await object.Body!.transformToByteArray()).toString('latin1') });
    }
    expect(smtp.messages.length).toBeGreaterThan(2);
    for (const mail of smtp.messages) {
      const attachments = mail.attachments.map((attachment) => attachment.content.toString('latin1')).join('\n');
      outputs.push({ what: `mail "${mail.subject}"`, text: [mail.subject, mail.html || '', mail.text ?? '', attachments, JSON.stringify([...mail.headers])].join('\n') });
    }
    // The checks can fail: the trace saw the password where it belongs, and a planted secret is found.
    expect(passwordSeenInPgDumpEnv).toBe(true);
    expect(findSecrets('planted', `x${SECRETS.s3Secret}x`)).toEqual(['s3Secret in planted']);
    expect(outputs.length).toBeGreaterThan(30);
    expect([...leaks, ...outputs.flatMap(({ what, text }) => findSecrets(what, text))]).toEqual([]);
  });
});
