import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { runHealthChecks } from '../../src/health/run-health';
import { silentLogger } from '../../src/log';
import { flushChannel } from '../../src/notify/channel-flush';
import { deliverAllChannels } from '../../src/notify/deliver';
import { noticeFor } from '../../src/notify/notice-for';
import { notify } from '../../src/report/notify';
import type { ReportEvent } from '../../src/report/events';
import { listChannelOutbox } from '../../src/state/channel-outbox';
import { createStorages } from '../../src/storage';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver';
import { startTestSmtp } from '../support/smtp';
import { makeWorkspace } from '../support/workspace';

const failed = (n: number): ReportEvent => ({ kind: 'backup-failed', tier: 'daily', database: 'app', host: 'db', startedAt: new Date().toISOString(), error: `pg_dump exited with code 1: failure ${n}` });
const testEvent: ReportEvent = { kind: 'test' };
const mail = (subject: string) => () => ({ subject, html: `<p>${subject}</p>`, text: subject });
const noticeOf = (event: ReportEvent) => () => noticeFor(event, { now: new Date(), hostname: hostname() });

/** A logger whose lines the test can read. */
const capturingLogger = () => {
  const lines: { msg: string; [key: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString())), done()) }));
  return { log, lines };
};

describe('a channel that cannot take a message now gets it later', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  const receivers: HttpReceiver[] = [];
  const receiver = async (options?: Parameters<typeof startHttpReceiver>[0]) => {
    const started = await startHttpReceiver(options);
    receivers.push(started);
    return started;
  };
  beforeEach(async () => {
    workspace = await makeWorkspace();
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
    await workspace.remove();
  });

  it('a receiver answering 500: the message waits, health says so, and it arrives with the same delivery id once the receiver works', async () => {
    const hook = await receiver();
    hook.script({ status: 500 });
    const config = loadConfig({ STATE_DIR: workspace.stateDir, BACKUP_DIR: workspace.backupDir, POSTGRES_PORT: '1', NOTIFY_OPS_URL: hook.url('/hook'), NOTIFY_OPS_FORMAT: 'webhook' });
    expect(await notify({ config, log: silentLogger }, 'backup-failed', mail('FAILED'), noticeOf(failed(1)))).toBe('queued');
    expect(hook.requests).toHaveLength(1);
    const [waiting] = await listChannelOutbox(workspace.stateDir, 'ops');
    expect(waiting).toMatchObject({ channel: 'ops', event: 'backup-failed', attempts: 1, lastError: expect.stringMatching(/^127\.0\.0\.1:\d+ answered HTTP 500 Internal Server Error \("no"\): the service has a problem on its side; keepsake tries again later$/) });
    expect(hook.requests[0]!.headers['x-keepsake-delivery']).toBe(waiting!.id);

    const health = await runHealthChecks({ config, storages: createStorages(config) }, { timeoutMs: 2_000 });
    expect(health.checks.find((check) => check.name === 'notify:ops')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^1 message\(s\) waiting to be retried, the oldest for .*HTTP 500/) });

    // Not due yet: a flush leaves it; after the backoff it goes, once.
    expect(await flushChannel(workspace.stateDir, config.report.channels[0]!)).toMatchObject({ sent: [], waiting: 1 });
    expect(hook.requests).toHaveLength(1);
    const later = await flushChannel(workspace.stateDir, config.report.channels[0]!, { now: new Date(Date.now() + 3 * 60_000) });
    expect(later.sent).toEqual([waiting!.id]);
    expect(hook.delivered().map((request) => request.headers['x-keepsake-delivery'])).toEqual([waiting!.id]);
    expect(hook.delivered()[0]!.body).toBe(hook.requests[0]!.body);
    expect(await listChannelOutbox(workspace.stateDir, 'ops')).toEqual([]);
    const after = await runHealthChecks({ config, storages: createStorages(config) }, { timeoutMs: 2_000 });
    expect(after.checks.find((check) => check.name === 'notify:ops')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^no messages waiting for 127\.0\.0\.1:\d+; last delivery /) });
  });

  it('a receiver that never answers: the attempt ends at the timeout, the message waits and is delivered by the next flush', async () => {
    const hook = await receiver();
    hook.script('hang');
    const config = loadConfig({ STATE_DIR: workspace.stateDir, NOTIFY_OPS_URL: hook.url('/hook'), NOTIFY_OPS_FORMAT: 'webhook' });
    expect(await notify({ config, log: silentLogger, httpTimeoutMs: 300 }, 'test', mail('TEST'), noticeOf(testEvent))).toBe('queued');
    const [waiting] = await listChannelOutbox(workspace.stateDir, 'ops');
    expect(waiting!.lastError).toMatch(/^127\.0\.0\.1:\d+ did not answer within 300ms: /);

    const [result] = await deliverAllChannels({ config, log: silentLogger }, { force: true });
    expect(result).toMatchObject({ channel: 'ops', sent: [waiting!.id], waiting: 0 });
    expect(hook.delivered().map((request) => request.headers['x-keepsake-delivery'])).toEqual([waiting!.id]);
  });

  it('a channel that hangs delays neither the e-mail nor another channel', async () => {
    const stuck = await receiver({ reply: 'hang' });
    const fine = await receiver();
    const smtp = await startTestSmtp();
    try {
      const config = loadConfig({ ...smtp.env(), STATE_DIR: workspace.stateDir, NOTIFY_STUCK_URL: stuck.url('/hook'), NOTIFY_STUCK_FORMAT: 'webhook', NOTIFY_FINE_URL: fine.url('/hook'), NOTIFY_FINE_FORMAT: 'webhook' });
      let settled = false;
      const filing = notify({ config, log: silentLogger, httpTimeoutMs: 4_000 }, 'backup-failed', mail('[keepsake] FAILED daily backup'), noticeOf(failed(2))).finally(() => (settled = true));
      await smtp.waitForMessages(1);
      await fine.waitForDeliveries(1);
      await stuck.waitForRequests(1);
      // Both arrived while the stuck channel's request still hangs.
      expect(settled).toBe(false);
      expect(await filing).toBe('sent');
      expect(await listChannelOutbox(workspace.stateDir, 'fine')).toEqual([]);
      expect(await listChannelOutbox(workspace.stateDir, 'stuck')).toHaveLength(1);
    } finally {
      await smtp.stop();
    }
  });

  it('when a chat channel comes back, what waited goes as one digest; the webhook gets each message on its own', async () => {
    const chat = await receiver({ reply: { status: 503 } });
    const hook = await receiver({ reply: { status: 503 } });
    const config = loadConfig({ STATE_DIR: workspace.stateDir, OUTBOX_DIGEST_AFTER: '3', NOTIFY_CHAT_URL: chat.url('/chat'), NOTIFY_CHAT_FORMAT: 'slack', NOTIFY_HOOK_URL: hook.url('/hook'), NOTIFY_HOOK_FORMAT: 'webhook' });
    const events: ReportEvent[] = [testEvent, testEvent, failed(3), testEvent];
    for (const event of events) await notify({ config, log: silentLogger }, event.kind === 'test' ? 'test' : 'backup-failed', mail('x'), noticeOf(event));
    expect(await listChannelOutbox(workspace.stateDir, 'chat')).toHaveLength(4);

    chat.setDefault({ status: 200 });
    hook.setDefault({ status: 200 });
    await notify({ config, log: silentLogger }, 'test', mail('x'), noticeOf(testEvent));
    // The chat: the fresh message, then one digest of the four that waited.
    expect(chat.delivered()).toHaveLength(2);
    const digest = chat.delivered()[1]!;
    expect(digest.headers['x-keepsake-delivery']).toMatch(/-digest-/);
    expect(digest.body).toContain('While chat was failing: 1 backup failed, 3 test mails');
    // The failure is named by its title.
    expect(digest.body).toContain(noticeOf(events[2]!)().title);
    // The webhook: all five, each with its own id.
    const ids = hook.delivered().map((request) => request.headers['x-keepsake-delivery']);
    expect(new Set(ids).size).toBe(5);
    expect(await listChannelOutbox(workspace.stateDir, 'chat')).toEqual([]);
    expect(await listChannelOutbox(workspace.stateDir, 'hook')).toEqual([]);
  });

  it('userinfo in the URL goes as Basic auth; a 429 waits as long as Retry-After says; a redirect is not followed and is a setting to fix', async () => {
    const hook = await receiver();
    const other = await receiver();
    const url = hook.url('/hook').replace('http://', 'http://bot:pa%40ss@');
    const config = loadConfig({ STATE_DIR: workspace.stateDir, NOTIFY_OPS_URL: url, NOTIFY_OPS_FORMAT: 'webhook' });
    const channel = config.report.channels[0]!;
    hook.script({ status: 429, retryAfter: '600' });
    const before = Date.now();
    await notify({ config, log: silentLogger }, 'test', mail('x'), noticeOf(testEvent));
    expect(hook.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('bot:pa@ss').toString('base64')}`);
    const [waiting] = await listChannelOutbox(workspace.stateDir, 'ops');
    expect(waiting!.lastError).toMatch(/answered HTTP 429 Too Many Requests.*\(it asked to wait 10m00s\)$/);
    const wait = Date.parse(waiting!.nextAttemptAt) - before;
    expect(wait).toBeGreaterThanOrEqual(600_000);
    expect(wait).toBeLessThan(610_000);

    hook.script({ status: 308, body: '', headers: { location: other.url('/moved') } });
    const moved = await flushChannel(workspace.stateDir, channel, { force: true });
    expect(moved.failed[0]!.error).toBe(`127.0.0.1:${hook.port} answered HTTP 308 Permanent Redirect: it redirects to 127.0.0.1:${other.port}; set NOTIFY_OPS_URL to the address the service gives you now (keepsake does not follow redirects with the message)`);
    expect(other.requests).toHaveLength(0);
    expect((await listChannelOutbox(workspace.stateDir, 'ops'))[0]).toMatchObject({ attempts: 2, refusals: 1 });
  });

  it('a channel down for long stays within OUTBOX_MAX_REPORTS, says so in the log, and health warns', async () => {
    const hook = await receiver({ reply: { status: 502 } });
    const config = loadConfig({ STATE_DIR: workspace.stateDir, BACKUP_DIR: workspace.backupDir, POSTGRES_PORT: '1', OUTBOX_MAX_REPORTS: '2', NOTIFY_OPS_URL: hook.url('/hook'), NOTIFY_OPS_FORMAT: 'webhook' });
    const { log, lines } = capturingLogger();
    for (let n = 0; n < 3; n++) await notify({ config, log }, 'test', mail('x'), noticeOf(testEvent));
    expect(await listChannelOutbox(workspace.stateDir, 'ops')).toHaveLength(2);
    expect(lines.filter((line) => line.msg.startsWith('the outbox of channel ops over its limits')).map((line) => line.msg)).toEqual(['the outbox of channel ops over its limits: dropped 1 undelivered report(s) (1 beyond OUTBOX_MAX_REPORTS=2)']);
    const health = await runHealthChecks({ config, storages: createStorages(config) }, { timeoutMs: 2_000 });
    expect(health.checks.find((check) => check.name === 'notify:ops')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^1 undelivered message\(s\) dropped in the last 7 days/) });
  });
});
