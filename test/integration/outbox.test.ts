import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { runHealthChecks } from '../../src/health/run-health';
import { silentLogger } from '../../src/log';
import { deliverWaiting, notify } from '../../src/report/notify';
import { flushOutbox } from '../../src/report/outbox';
import { listOutbox, putInOutbox } from '../../src/state/outbox';
import { createStorages } from '../../src/storage';
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

describe('the outbox stays bounded, and a long outage ends in one digest', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeEach(async () => {
    workspace = await makeWorkspace();
  });
  afterEach(async () => workspace.remove());

  /** A logger whose lines the test can read. */
  const capturingLogger = () => {
    const lines: { msg: string; [key: string]: unknown }[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
    return { log, lines };
  };
  const rendered = (subject: string, text = subject) => () => ({ subject, html: `<p>${subject}</p>`, text });

  it('without SMTP, drops what is older than OUTBOX_MAX_AGE and the oldest successes beyond OUTBOX_MAX_REPORTS, says so, and health warns', async () => {
    const config = loadConfig({ STATE_DIR: workspace.stateDir, OUTBOX_MAX_REPORTS: '3', OUTBOX_MAX_AGE: '30d', POSTGRES_PORT: '1', BACKUP_DIR: workspace.backupDir });
    const { log, lines } = capturingLogger();
    await putInOutbox(workspace.stateDir, 'backup-succeeded', rendered('[keepsake] OK 40 days ago')(), { keepHtmlCopy: true, now: new Date(Date.now() - 40 * 86_400_000) });
    expect(await notify({ config, log }, 'backup-failed', rendered('[keepsake] FAILED daily backup'))).toBe('queued');
    for (const n of [1, 2, 3]) expect(await notify({ config, log }, 'backup-succeeded', rendered(`[keepsake] OK ${n}`))).toBe('queued');

    expect((await listOutbox(workspace.stateDir)).map((item) => item.subject)).toEqual(['[keepsake] FAILED daily backup', '[keepsake] OK 2', '[keepsake] OK 3']);
    expect(await readdir(join(workspace.stateDir, 'reports'))).toHaveLength(3);
    const said = lines.filter((line) => line.msg.startsWith('outbox over its limits')).map((line) => line.msg);
    expect(said).toEqual([
      'outbox over its limits: dropped 1 undelivered report(s) (1 older than 30d00h (OUTBOX_MAX_AGE))',
      'outbox over its limits: dropped 1 undelivered report(s) (1 beyond OUTBOX_MAX_REPORTS=3)',
    ]);

    const health = await runHealthChecks({ config, storages: createStorages(config) }, { timeoutMs: 2_000 });
    expect(health.checks.find((check) => check.name === 'outbox')).toMatchObject({ status: 'warn', message: expect.stringContaining('; 2 undelivered report(s) dropped in the last 7 days') });
  });

  it('when mail comes back after an outage, the waiting reports arrive as one digest with the failures in full', async () => {
    const down = await startTestSmtp();
    const port = down.port;
    await down.stop();
    const config = loadConfig({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_SECURE: 'none', MAIL_TO: 'ops@test.local', STATE_DIR: workspace.stateDir });
    const { log } = capturingLogger();
    for (const n of [1, 2, 3, 4, 5]) await notify({ config, log }, 'backup-succeeded', rendered(`[keepsake] OK daily backup ${n}`));
    await notify({ config, log }, 'backup-failed', rendered('[keepsake] FAILED daily backup', 'pg_dump exited with code 1: pg_dump: error: connection to server lost\nWhat to do: check the database'));
    expect(await listOutbox(workspace.stateDir)).toHaveLength(6);

    const smtp = await startTestSmtp({ port });
    try {
      // The relay is back: the next report goes at once, and the six that waited follow as one mail.
      expect(await notify({ config, log }, 'restore-test-passed', rendered('[keepsake] OK restore test'))).toBe('sent');
      const [fresh, digest] = await smtp.waitForMessages(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(smtp.messages).toHaveLength(2);
      expect(fresh!.subject).toBe('[keepsake] OK restore test');
      expect(digest!.subject).toBe('[keepsake] FAILED while mail was failing: 5 backups OK, 1 backup failed');
      expect(digest!.headers.get('x-keepsake-event')).toBe('digest');
      expect(digest!.text).toContain('pg_dump exited with code 1: pg_dump: error: connection to server lost');
      expect(digest!.text).toContain('What to do: check the database');
      for (const n of [1, 2, 3, 4, 5]) expect(digest!.text).toContain(`[keepsake] OK daily backup ${n}`);
      expect(digest!.html).toContain('connection to server lost');
      expect(await listOutbox(workspace.stateDir)).toEqual([]);
    } finally {
      await smtp.stop();
    }
  });

  it('the daemon\'s flush sends a few waiting reports one by one, and many as one digest', async () => {
    const smtp = await startTestSmtp();
    try {
      const config = loadConfig({ ...smtp.env(), STATE_DIR: workspace.stateDir, OUTBOX_DIGEST_AFTER: '3' });
      const send = smtpSender(config.report.smtp!, config.report);
      const file = (n: number) => putInOutbox(workspace.stateDir, 'backup-succeeded', rendered(`[keepsake] OK ${n}`)(), { keepHtmlCopy: false });
      await file(1);
      await file(2);
      expect(await deliverWaiting({ config, log: silentLogger, send }, { force: true })).toMatchObject({ sent: [expect.any(String), expect.any(String)], digested: 0 });
      for (const n of [3, 4, 5]) await file(n);
      expect(await deliverWaiting({ config, log: silentLogger, send }, { force: true })).toMatchObject({ digested: 3 });
      const messages = await smtp.waitForMessages(3);
      expect(messages.map((mail) => mail.subject)).toEqual(['[keepsake] OK 1', '[keepsake] OK 2', '[keepsake] OK while mail was failing: 3 backups OK']);
    } finally {
      await smtp.stop();
    }
  });
});
