/**
 * Channel delivery when things go wrong in less common ways, over real HTTP on loopback: two
 * processes flushing one channel at once, a service that echoes the token it refused, a redirect
 * to nowhere, a chat service that refuses the digest but takes each message.
 */
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { notify } from '../../src/report/notify';
import { acquireLock } from '../../src/state/job-lock';
import { statePaths } from '../../src/state/paths';
import { runHealthChecks } from '../../src/health/run-health';
import { createStorages } from '../../src/storage';
import { deliverAllChannels } from '../../src/notify/deliver';
import { noticeFor } from '../../src/notify/notice-for';
import type { ReportEvent } from '../../src/report/events';
import { listChannelOutbox, listGivenUp, putInChannelOutbox } from '../../src/state/channel-outbox';
import { runCli } from '../support/cli';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver';
import { makeWorkspace } from '../support/workspace';

const failed = (n: number): ReportEvent => ({ kind: 'backup-failed', tier: 'daily', database: 'app', host: 'db', startedAt: new Date().toISOString(), error: `pg_dump exited with code 1: failure ${n}` });
const notice = (n: number) => noticeFor(failed(n), { now: new Date(), hostname: hostname() });

describe('channel delivery when things go wrong', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let hook: HttpReceiver;
  beforeEach(async () => {
    [workspace, hook] = await Promise.all([makeWorkspace(), startHttpReceiver()]);
  });
  afterEach(async () => {
    await Promise.all([hook.stop(), workspace.remove()]);
  });
  const env = (extra: Record<string, string>) => ({ STATE_DIR: workspace.stateDir, BACKUP_DIR: workspace.backupDir, POSTGRES_PORT: '1', ...extra });

  it('two flushes of one channel at once (the daemon and `keepsake outbox flush`) deliver each message once', async () => {
    const config = loadConfig(env({ NOTIFY_OPS_URL: hook.url('/hook'), NOTIFY_OPS_FORMAT: 'webhook' }));
    const ids = [];
    for (const n of [1, 2, 3]) ids.push((await putInChannelOutbox(workspace.stateDir, 'ops', notice(n))).id);
    hook.setDefault({ status: 200, delayMs: 300 }); // slow enough for the two to overlap
    const [inProcess, command] = await Promise.all([deliverAllChannels({ config, log: silentLogger }, { force: true }), runCli(['outbox', 'flush'], env({ NOTIFY_OPS_URL: hook.url('/hook'), NOTIFY_OPS_FORMAT: 'webhook' }))]);
    expect(command.code).toBe(0);
    const busy = [inProcess[0]!.busy, /another keepsake process \(pid \d+ has been delivering since .*\) is delivering its messages now/.test(command.stdout)];
    expect(busy.filter(Boolean)).toHaveLength(1); // exactly one of the two found the channel busy
    expect(hook.requests.map((request) => request.headers['x-keepsake-delivery'])).toEqual(ids);
    expect(await listChannelOutbox(workspace.stateDir, 'ops')).toEqual([]);
  });

  it('a refusal that echoes the token (in the path, encoded, or in the query) names only the host', async () => {
    const token = 'tk_EchoedSentinel4b8e';
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    hook.setDefault({ status: 403, body: `forbidden: /topic/my ${token}-path?auth=${token}q is not yours (my%20${token}-path)` });
    const config = loadConfig(env({ NOTIFY_PHONE_URL: hook.url(`/topic/my%20${token}-path?auth=${token}q`), NOTIFY_PHONE_FORMAT: 'ntfy' }));
    await putInChannelOutbox(workspace.stateDir, 'phone', notice(1));
    const [result] = await deliverAllChannels({ config, log }, { force: true });
    expect(result!.failed).toHaveLength(1);
    const said = [result!.failed[0]!.error, ...lines, JSON.stringify(await listChannelOutbox(workspace.stateDir, 'phone'))].join('\n');
    expect(said).toContain(`127.0.0.1:${hook.port} answered HTTP 403 Forbidden ("forbidden: /***/***?*** is not yours (***)")`);
    expect(said).not.toContain(token);
  });

  it('a redirect to a Location that is no URL is a setting to fix, not a crash, and the channel URL is not logged', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    hook.setDefault({ status: 302, headers: { location: 'http://[not-a-host' } });
    const config = loadConfig(env({ NOTIFY_OPS_URL: hook.url('/hooks/SecretPathToken77'), NOTIFY_OPS_FORMAT: 'webhook' }));
    await putInChannelOutbox(workspace.stateDir, 'ops', notice(1));
    const [result] = await deliverAllChannels({ config, log }, { force: true });
    expect(result!.failed[0]!.error).toBe(`127.0.0.1:${hook.port} answered HTTP 302 Found ("no"): it redirects; set NOTIFY_OPS_URL to the address the service gives you now (keepsake does not follow redirects with the message)`);
    const [waiting] = await listChannelOutbox(workspace.stateDir, 'ops');
    expect(waiting).toMatchObject({ attempts: 1, refusals: 1 });
    expect(lines.join('\n')).not.toContain('SecretPathToken77');
  });

  it('a chat service that refuses the digest (too large) still gets each waiting message; none is given up', async () => {
    const config = loadConfig(env({ NOTIFY_CHAT_URL: hook.url('/chat'), NOTIFY_CHAT_FORMAT: 'slack', OUTBOX_DIGEST_AFTER: '3' }));
    for (const n of [1, 2, 3, 4]) await putInChannelOutbox(workspace.stateDir, 'chat', notice(n));
    hook.script({ status: 413, body: 'payload too large' });
    for (let round = 0; round < 3; round++) await deliverAllChannels({ config, log: silentLogger }, { force: true });
    expect(hook.requests[0]!.body).toContain('While chat was failing');
    expect(hook.delivered()).toHaveLength(4);
    expect(hook.delivered().map((request) => JSON.parse(request.body).text)).toEqual([1, 2, 3, 4].map(() => expect.stringContaining('Backup failed')));
    expect([await listChannelOutbox(workspace.stateDir, 'chat'), await listGivenUp(workspace.stateDir, 'chat')]).toEqual([[], []]);
  });

  it("messages kept for a channel that is no longer configured are named by health, not forgotten", async () => {
    await putInChannelOutbox(workspace.stateDir, 'old_chat', notice(1));
    const config = loadConfig(env({ NOTIFY_NEW_URL: hook.url('/new'), NOTIFY_NEW_FORMAT: 'webhook' }));
    const health = await runHealthChecks({ config, storages: createStorages(config) }, { timeoutMs: 2_000 });
    expect(health.checks.find((check) => check.name === 'notify:old_chat')).toMatchObject({
      status: 'warn',
      message: '1 message(s) are kept for channel old_chat, which is no longer configured (NOTIFY_OLD_CHAT_URL is not set): set it again to deliver them, or delete STATE_DIR/outbox/old_chat',
    });
    expect(health.checks.find((check) => check.name === 'notify:new')).toMatchObject({ status: 'ok' });
  });

  it('an outbox file that cannot be read (e-mail or channel) is named by health, not skipped in silence', async () => {
    const config = loadConfig(env({ NOTIFY_OPS_URL: hook.url('/ops'), NOTIFY_OPS_FORMAT: 'webhook' }));
    const kept = await putInChannelOutbox(workspace.stateDir, 'ops', notice(1));
    await writeFile(join(workspace.stateDir, 'outbox', 'ops', `${kept.id}.json`), '{"id": "cut sho');
    await writeFile(join(workspace.stateDir, 'outbox', '2026-11-30T02-00-00-000Z-backup-failed-abcdef.json'), '');
    const health = await runHealthChecks({ config, storages: createStorages(config) }, { timeoutMs: 2_000 });
    expect(health.checks.find((check) => check.name === 'outbox:damaged')).toMatchObject({
      status: 'warn',
      message: `2 outbox file(s) cannot be read and will never be delivered (STATE_DIR/outbox/2026-11-30T02-00-00-000Z-backup-failed-abcdef.json, STATE_DIR/outbox/ops/${kept.id}.json): read what they say, then delete them`,
    });
  });

  it("a report's first attempt waits for a flush of the same channel to end instead of leaving the message for the next round", async () => {
    const config = loadConfig(env({ NOTIFY_OPS_URL: hook.url('/ops'), NOTIFY_OPS_FORMAT: 'webhook' }));
    // Another flush holds the channel (the daemon's minute round, say) for half a second.
    const release = await acquireLock(workspace.stateDir, 'a flush', { wait: false, path: statePaths.channelLock(workspace.stateDir, 'ops') });
    const released = new Promise<void>((resolve) => setTimeout(() => void release().then(resolve), 500));
    await notify({ config, log: silentLogger }, 'backup-failed', () => ({ subject: 'FAILED', html: '', text: '' }), () => notice(1));
    await released;
    expect(hook.delivered()).toHaveLength(1);
    expect(await listChannelOutbox(workspace.stateDir, 'ops')).toEqual([]);
  });
});
