import { reportEventName } from '../../src/report/events';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { notify } from '../../src/report/notify';
import { renderReport } from '../../src/report/render';
import { SAMPLE_EVENTS, sampleNow } from '../../src/report/render/samples';
import { runCli } from '../support/cli';
import { makeWorkspace } from '../support/workspace';
import { SCHEDULES_OFF, startDaemonProcess } from '../support/daemon';
import { startScenario, type Scenario } from '../support/scenario';
import { startTestSmtp } from '../support/smtp';


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
      expect(success!.subject).toMatch(/^\[keepsake\] OK manual backup evil<script>"'😀@127\.0\.0\.1:\d+: .* in /);
      expect(success!.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
      expect(success!.html).toContain(manifest.sha256);
      expect(success!.text).toContain(manifest.sha256);
      expect(success!.html).not.toContain('<script>');
      expect(success!.html).toContain('evil&lt;script&gt;');
      expect(failure!.subject).toMatch(/^\[keepsake\] FAILED manual backup evil<script>"'😀@127\.0\.0\.1:1: Cannot connect to PostgreSQL: connection refused at 127\.0\.0\.1:1$/);
      expect(failure!.text).toContain('connection refused');
      // The backup that had just succeeded is the last good one; keepsake's own message is no stderr.
      expect(failure!.text).toContain(`Last good backup: manual/${manifest.id}, taken `);
      expect(failure!.text).not.toMatch(/stderr/i);
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
        const daemon = startDaemonProcess({ ...env, ...SCHEDULES_OFF, BACKUP_CATCH_UP: 'false' });
        await daemon.waitFor((line) => line.msg === 'outbox flushed');
        expect((await back.waitForMessages(1))[0]!.subject).toMatch(/^\[keepsake\] OK daily backup/);
        daemon.process.kill('SIGTERM');
        expect(await daemon.exited).toBe(0);
        expect(daemon.lines.at(-1)?.msg).toBe('daemon stopped');
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

  it('sends the weekly storage report from the daemon', async () => {
    const smtp = await startTestSmtp();
    try {
      const env = { ...s.env, ...smtp.env() };
      const daemon = startDaemonProcess({ ...env, ...SCHEDULES_OFF, BACKUP_CATCH_UP: 'false', SCHEDULE_STORAGE_REPORT: '*/2 * * * * *' });
      await daemon.waitFor((line) => line.msg === 'job finished' && line.job === 'storage-report');
      daemon.process.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      const mail = (await smtp.waitForMessages(1)).find((m) => /storage/i.test(m.subject ?? ''));
      expect(mail?.subject).toMatch(/^\[keepsake\] REPORT/);
      expect(mail?.text).toMatch(/manual/);
    } finally {
      await smtp.stop();
    }
  });

  it('sends the storage report on demand with `keepsake report storage`', async () => {
    const smtp = await startTestSmtp();
    try {
      const result = await runCli(['report', 'storage'], { ...s.env, ...smtp.env() });
      expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^storage report: \d+ backups?, [\d.]+ k?B/) });
      const [mail] = await smtp.waitForMessages(1);
      expect(mail!.subject).toMatch(/^\[keepsake\] REPORT .*storage/i);
    } finally {
      await smtp.stop();
    }
  });

  it('previews every report without any configuration', async () => {
    const preview = await runCli(['report', 'preview', 'backup-failed'], {});
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/^<!DOCTYPE html>/i);
  });
});

describe('every report event through the outbox and a real SMTP server', () => {
  it('arrives as multipart/alternative with its subject, HTML and text', async () => {
    const smtp = await startTestSmtp();
    const workspace = await makeWorkspace();
    try {
      const config = loadConfig({ ...smtp.env(), STATE_DIR: workspace.stateDir });
      const kinds = Object.keys(SAMPLE_EVENTS) as (keyof typeof SAMPLE_EVENTS)[];
      for (const kind of kinds) {
        const rendered = renderReport(SAMPLE_EVENTS[kind], { subjectPrefix: '[keepsake]', now: sampleNow(kind) });
        expect(await notify({ config, log: silentLogger }, reportEventName(SAMPLE_EVENTS[kind]), () => rendered)).toBe('sent');
      }
      const mails = await smtp.waitForMessages(kinds.length);
      kinds.forEach((kind, index) => {
        const rendered = renderReport(SAMPLE_EVENTS[kind], { subjectPrefix: '[keepsake]', now: sampleNow(kind) });
        const mail = mails[index]!;
        expect(mail.subject).toBe(rendered.subject);
        expect(mail.headers.get('x-keepsake-event')).toBe(reportEventName(SAMPLE_EVENTS[kind]));
        expect(mail.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
        expect(mail.html && mail.html.length).toBeGreaterThan(500);
        expect(mail.text?.trim().length).toBeGreaterThan(50);
        expect(mail.html).not.toMatch(/<script/i);
      });
    } finally {
      await smtp.stop();
      await workspace.remove();
    }
  });
});
