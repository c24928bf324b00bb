import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { notify } from '../../src/report/notify';
import { flushOutbox, listOutbox } from '../../src/report/outbox';
import { smtpSender } from '../../src/report/transport';
import { startTestSmtp } from '../support/smtp';
import { makeWorkspace } from '../support/workspace';

const report = (n: number) => () => ({ subject: `[keepsake] OK test ${n}`, html: `<p>report ${n} &amp; more</p>`, text: `report ${n} & more` });

describe('the outbox never loses a report', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeEach(async () => {
    workspace = await makeWorkspace();
  });
  afterEach(async () => workspace.remove());

  it('delivers at once when SMTP is up, as multipart/alternative, and leaves the outbox empty', async () => {
    const smtp = await startTestSmtp();
    try {
      const config = loadConfig({ ...smtp.env(), STATE_DIR: workspace.stateDir });
      expect(await notify({ config, log: silentLogger }, 'test', report(1))).toBe('sent');
      const [mail] = await smtp.waitForMessages(1);
      expect(mail!.subject).toBe('[keepsake] OK test 1');
      expect(mail!.html).toContain('<p>report 1 &amp; more</p>');
      expect(mail!.text?.trim()).toBe('report 1 & more');
      expect(mail!.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
      expect(await listOutbox(workspace.stateDir)).toEqual([]);
    } finally {
      await smtp.stop();
    }
  });

  it('keeps a report while SMTP is down and delivers it when the server is back, from a fresh process state', async () => {
    const down = await startTestSmtp();
    const port = down.port;
    await down.stop();
    const config = loadConfig({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_SECURE: 'none', MAIL_TO: 'ops@test.local', STATE_DIR: workspace.stateDir });
    expect(await notify({ config, log: silentLogger }, 'test', report(2))).toBe('queued');
    const [waiting] = await listOutbox(workspace.stateDir);
    expect(waiting).toMatchObject({ attempts: 1, lastError: expect.stringContaining('connection refused: check SMTP_HOST and SMTP_PORT') });
    expect(Date.parse(waiting!.nextAttemptAt)).toBeGreaterThan(Date.now() + 30_000);

    // Not due yet: a normal flush leaves it; after the backoff it goes.
    const smtp = await startTestSmtp({ port });
    try {
      const send = smtpSender(config.report.smtp!, config.report);
      expect(await flushOutbox(workspace.stateDir, send)).toMatchObject({ sent: [], waiting: 1 });
      const later = await flushOutbox(workspace.stateDir, send, { now: new Date(Date.now() + 3 * 60_000) });
      expect(later.sent).toEqual([waiting!.id]);
      expect((await smtp.waitForMessages(1))[0]!.subject).toBe('[keepsake] OK test 2');
      expect(await listOutbox(workspace.stateDir)).toEqual([]);
    } finally {
      await smtp.stop();
    }
  });

  it('without SMTP configured keeps every report in the outbox and as an .html file', async () => {
    const config = loadConfig({ STATE_DIR: workspace.stateDir });
    expect(await notify({ config, log: silentLogger }, 'test', report(3))).toBe('queued');
    expect((await listOutbox(workspace.stateDir)).map((item) => item.subject)).toEqual(['[keepsake] OK test 3']);
    expect((await readdir(join(workspace.stateDir, 'reports'))).filter((name) => name.endsWith('.html'))).toHaveLength(1);
  });

  it('respects NOTIFY_ON_SUCCESS=false for success events and still files failures', async () => {
    const config = loadConfig({ STATE_DIR: workspace.stateDir, NOTIFY_ON_SUCCESS: 'false' });
    expect(await notify({ config, log: silentLogger }, 'backup-succeeded', report(4))).toBe('off');
    expect(await notify({ config, log: silentLogger }, 'backup-failed', report(5))).toBe('queued');
  });
});
