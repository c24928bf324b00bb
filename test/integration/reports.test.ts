import { runCli } from '../support/cli';
import { startDaemonProcess } from '../support/daemon';
import { startScenario, type Scenario } from '../support/scenario';
import { startTestSmtp } from '../support/smtp';

const DAEMON_OFF = {
  SCHEDULE_DAILY: 'off', SCHEDULE_WEEKLY: 'off', SCHEDULE_MONTHLY: 'off', SCHEDULE_HEALTH: 'off', SCHEDULE_CLEANUP: 'off',
  SCHEDULE_RESTORE_TEST: 'off', SCHEDULE_STORAGE_REPORT: 'off', SCHEDULE_LOGROTATE: 'off', BACKUP_CATCH_UP: 'false',
};

describe('e-mail reports from real jobs, over a real SMTP server', () => {
  let s: Scenario;
  beforeAll(async () => {
    // A hostile database name: every report must escape it.
    s = await startScenario({ database: `evil<script>"'😀`, sql: 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g' });
  });
  afterAll(async () => s?.stop());

  it('mails a backup success and a failure as multipart/alternative with the facts, escaped', async () => {
    const smtp = await startTestSmtp();
    try {
      const env = { ...s.env, ...smtp.env() };
      const ok = await runCli(['backup', '--json'], env);
      expect(ok.code).toBe(0);
      const manifest = JSON.parse(ok.stdout);
      const failed = await runCli(['backup'], { ...env, POSTGRES_PORT: '1' });
      expect(failed.code).toBe(69);
      const [success, failure] = await smtp.waitForMessages(2);
      expect(success!.subject).toMatch(/^\[keepsake\] OK manual backup evil<script>"'😀@127\.0\.0\.1 .* in /);
      expect(success!.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
      expect(success!.html).toContain(manifest.sha256);
      expect(success!.text).toContain(manifest.sha256);
      expect(success!.html).not.toContain('<script>');
      expect(success!.html).toContain('evil&lt;script&gt;');
      expect(failure!.subject).toMatch(/^\[keepsake\] FAILED manual backup evil<script>"'😀@127\.0\.0\.1: connection refused/);
      expect(failure!.text).toContain('connection refused');
    } finally {
      await smtp.stop();
    }
  });

  it('with SMTP down the backup still succeeds; the report waits and the daemon delivers it after a restart', async () => {
    const probe = await startTestSmtp();
    const port = probe.port;
    await probe.stop();
    const env = { ...s.env, SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_SECURE: 'none', MAIL_TO: 'ops@test.local' };
    const backup = await runCli(['backup'], env);
    expect(backup.code).toBe(0);
    const waiting = JSON.parse((await runCli(['outbox', 'list', '--json'], env)).stdout);
    expect(waiting).toEqual([expect.objectContaining({ event: 'backup-succeeded', attempts: 1 })]);

    const smtp = await startTestSmtp({ port });
    try {
      // The daemon retries on its backoff; `outbox flush` forces it, as an operator would.
      const flushed = await runCli(['outbox', 'flush'], env);
      expect(flushed.stdout).toContain('1 sent, 0 failed, 0 still waiting');
      expect((await smtp.waitForMessages(1))[0]!.subject).toMatch(/^\[keepsake\] OK manual backup/);
      // A report filed while the mail server is down is sent by a daemon started later.
      await smtp.stop();
      expect((await runCli(['backup', '--tier', 'daily'], env)).code).toBe(0);
      const back = await startTestSmtp({ port });
      try {
        const daemon = startDaemonProcess({ ...env, ...DAEMON_OFF });
        await daemon.waitFor((line) => line.msg === 'outbox flushed');
        expect((await back.waitForMessages(1))[0]!.subject).toMatch(/^\[keepsake\] OK daily backup/);
        daemon.process.kill('SIGTERM');
        expect(await daemon.exited).toBe(0);
        expect(JSON.parse((await runCli(['outbox', 'list', '--json'], env)).stdout)).toEqual([]);
      } finally {
        await back.stop();
      }
    } finally {
      await smtp.stop().catch(() => undefined);
    }
  });

  it('sends a test e-mail, and says what failed when it cannot', async () => {
    const smtp = await startTestSmtp();
    try {
      const sent = await runCli(['notify', 'test'], { ...s.env, ...smtp.env() });
      expect(sent.code).toBe(0);
      expect((await smtp.waitForMessages(1))[0]!.subject).toMatch(/^\[keepsake\] TEST/);
    } finally {
      await smtp.stop();
    }
    const failed = await runCli(['notify', 'test'], { ...s.env, SMTP_HOST: '127.0.0.1', SMTP_PORT: '1', SMTP_SECURE: 'none', MAIL_TO: 'ops@test.local' });
    expect(failed.code).toBe(69);
    expect(failed.stderr).toContain('connection refused: check SMTP_HOST and SMTP_PORT');
  });

  it('previews every report without any configuration', async () => {
    const preview = await runCli(['report', 'preview', 'backup-failed'], {});
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/^<!DOCTYPE html>/i);
  });
});
