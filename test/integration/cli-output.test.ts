import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess } from '../support/daemon';
import { startTestS3 } from '../support/s3';

/**
 * What a failing command prints: one line for a person on stderr, the JSON (with the stack) in
 * LOG_DIR/keepsake.log. Nothing listens on 127.0.0.1:1, so no server is needed.
 */
const FAILURE = 'keepsake: Cannot connect to PostgreSQL: connection refused at 127.0.0.1:1; check POSTGRES_HOST and POSTGRES_PORT and that the server is running';

describe('a failing command on the terminal', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keepsake-cli-output-'));
    // LOG_LEVEL info: the default, as an operator runs it.
    env = { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: '1', BACKUP_DIR: join(dir, 'backups'), STATE_DIR: join(dir, 'state'), LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'info' };
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const logLines = async () => (await readFile(join(dir, 'logs', 'keepsake.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { msg: string; err?: { stack: string } });

  it('prints one human line on stderr and keeps the JSON with its stack in LOG_DIR', async () => {
    const result = await runCli(['backup'], env);
    expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toEqual({ code: 69, stderr: `${FAILURE}\n`, stdout: '' });
    const failed = (await logLines()).find((line) => line.msg === 'backup failed');
    expect(failed?.err?.stack).toMatch(/^UnavailableError: Cannot connect to PostgreSQL[^]*\n {4}at /);
  });

  it('adds the stack with --verbose, the human line still last', async () => {
    for (const args of [['backup', '--verbose'], ['--verbose', 'backup']]) {
      const result = await runCli(args, env);
      expect(result.code).toBe(69);
      expect(result.stderr).toMatch(/^UnavailableError: Cannot connect to PostgreSQL.*\n {4}at /m);
      expect(result.stderr).toMatch(/^caused by: Error: connect ECONNREFUSED 127\.0\.0\.1:1$/m);
      expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(FAILURE);
      expect(result.stderr).not.toMatch(/^\{/m);
    }
  });

  it('prints a warning as one line when it happens, and no JSON', async () => {
    // The failure report cannot be mailed: a warning, not the command's failure.
    const result = await runCli(['backup'], { ...env, SMTP_HOST: '127.0.0.1', SMTP_PORT: '1', SMTP_SECURE: 'none', MAIL_TO: 'ops@test.local' });
    expect(result.code).toBe(69);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^keepsake: warning: report not sent now; it waits in the outbox and is retried: .*refused/), FAILURE]);
  });

  it('leaves the daemon printing JSON lines on stdout, stack included', async () => {
    const daemon = startDaemonProcess({ ...env, ...SCHEDULES_OFF, LOG_DIR: '', BACKUP_ON_START: 'true', BACKUP_CATCH_UP: 'false' });
    const failed = await daemon.waitFor((line) => line.msg === 'backup failed');
    expect((failed.err as { stack: string }).stack).toMatch(/^UnavailableError: Cannot connect to PostgreSQL/);
    daemon.process.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });
});

describe('an S3 command on Node 20', () => {
  it('prints no AWS SDK warning about Node versions (keepsake supports Node 20+)', async () => {
    const s3 = await startTestS3();
    const dir = await mkdtemp(join(tmpdir(), 'keepsake-sdk-warning-'));
    try {
      // runCli turns the warning off for every other test; here it is unset, as for an operator.
      const result = await runCli(['list'], { ...s3.env(), STATE_DIR: join(dir, 'state'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '' });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
