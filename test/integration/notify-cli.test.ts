import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { createMetrics } from '../../src/health/metrics';
import { silentLogger } from '../../src/log';
import { noticeFor } from '../../src/notify/notice-for';
import { notify } from '../../src/report/notify';
import type { ReportEvent } from '../../src/report/events';
import { listChannelOutbox } from '../../src/state/channel-outbox';
import { runCli, type CliResult } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess, type RunningDaemon } from '../support/daemon';
import { freePort } from '../support/http';
import { parsePrometheusText, sampleValue } from '../support/prometheus';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver';
import { startTestSmtp } from '../support/smtp';
import { allFiles, makeWorkspace } from '../support/workspace';

/** In the URL's path, as a chat service's token would be, and the webhook's signing key: neither may ever be shown. */
const TOKEN = 'SENTINELtoken8f3a61c2';
const SECRET = 'HMACsentinel77e1b9';
const failedBackup: ReportEvent = { kind: 'backup-failed', tier: 'daily', database: 'app', host: 'db', startedAt: new Date().toISOString(), error: 'pg_dump exited with code 1: boom' };

describe('notification channels from the command line and the daemon', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  const receivers: HttpReceiver[] = [];
  const daemons: RunningDaemon[] = [];
  const outputs: string[] = [];
  const receiver = async (options?: Parameters<typeof startHttpReceiver>[0]) => {
    const started = await startHttpReceiver(options);
    receivers.push(started);
    return started;
  };
  const cli = async (args: string[], env: Record<string, string>): Promise<CliResult> => {
    const result = await runCli(args, env);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  beforeEach(async () => {
    workspace = await makeWorkspace();
    outputs.length = 0;
  });
  afterEach(async () => {
    for (const daemon of daemons.splice(0)) if (daemon.process.exitCode === null) daemon.process.kill('SIGKILL');
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
    await workspace.remove();
  });
  const base = () => ({ STATE_DIR: workspace.stateDir, BACKUP_DIR: workspace.backupDir, LOG_DIR: join(workspace.root, 'logs'), POSTGRES_PORT: '1' });

  /** Nothing keepsake printed, logged or kept in STATE_DIR holds the URL's token or the secret. */
  const expectNoSecrets = async (extra: string[] = []) => {
    const files = await allFiles(workspace.root);
    const contents = await Promise.all(files.map((file) => readFile(join(workspace.root, file), 'utf8').catch(() => '')));
    for (const text of [...outputs, ...contents, ...extra]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(SECRET);
    }
    expect(outputs.join('').length).toBeGreaterThan(0);
  };

  it('`notify test` tries the e-mail and every channel, one line each; an unknown name is a config error, one failure exit 69', async () => {
    const smtp = await startTestSmtp();
    const alpha = await receiver();
    const beta = await receiver();
    try {
      const env = { ...base(), ...smtp.env(), NOTIFY_ALPHA_URL: alpha.url(`/hooks/${TOKEN}`), NOTIFY_ALPHA_FORMAT: 'webhook', NOTIFY_ALPHA_SECRET: SECRET, NOTIFY_BETA_URL: beta.url('/beta'), NOTIFY_BETA_FORMAT: 'slack' };
      const all = await cli(['notify', 'test'], env);
      expect(all.code).toBe(0);
      const lines = all.stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^OK\s+email: sent "\[keepsake\] TEST.*" to ops@test\.local via 127\.0\.0\.1:\d+$/);
      expect(lines[1]).toBe(`OK      alpha: webhook message delivered to 127.0.0.1:${alpha.port} (HTTP 200)`);
      expect(lines[2]).toBe(`OK      beta: slack message delivered to 127.0.0.1:${beta.port} (HTTP 200)`);
      expect((await smtp.waitForMessages(1))[0]!.subject).toMatch(/TEST/);
      expect(alpha.delivered()[0]!.headers['x-keepsake-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(beta.delivered()).toHaveLength(1);

      const onlyBeta = await cli(['notify', 'test', '--channel', 'beta'], env);
      expect(onlyBeta.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^OK\s+beta: /)]);
      const onlyMail = await cli(['notify', 'test', '--channel', 'email'], env);
      expect(onlyMail.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^OK\s+email: /)]);

      const unknown = await cli(['notify', 'test', '--channel', 'gamma'], env);
      expect(unknown.code).toBe(78);
      expect(unknown.stderr).toContain('Cannot test "gamma": no channel is named "gamma" (NOTIFY_GAMMA_URL is not set); configured: email, alpha, beta');

      alpha.script({ status: 401, body: `token ${TOKEN} unknown` });
      const oneFails = await cli(['notify', 'test'], env);
      expect(oneFails.code).toBe(69);
      expect(oneFails.stdout).toMatch(new RegExp(`^FAILED  alpha: 127\\.0\\.0\\.1:${alpha.port} answered HTTP 401 Unauthorized \\("token \\*\\*\\* unknown"\\): the token is wrong or was revoked: fix NOTIFY_ALPHA_URL or NOTIFY_ALPHA_SECRET$`, 'm'));
      expect(oneFails.stdout).toMatch(/^OK\s+email: /m);
      expect(oneFails.stdout).toMatch(/^OK\s+beta: /m);
      expect(oneFails.stderr).toContain('1 of 3 destination(s) failed');

      const nothing = await cli(['notify', 'test'], base());
      expect(nothing.code).toBe(78);
      expect(nothing.stderr).toContain('Nothing to test: no SMTP server and no notification channel is configured');
      const nothingToFlush = await cli(['outbox', 'flush'], base());
      expect(nothingToFlush.code).toBe(78);
      expect(nothingToFlush.stderr).toContain('No SMTP server and no notification channel is configured');
      await expectNoSecrets();
    } finally {
      await smtp.stop();
    }
  });

  it('a 404 is given up after 3 tries and fails `keepsake health` with the fix; once fixed, notify test clears it and sends the given-up message', async () => {
    const hook = await receiver({ reply: { status: 404, body: `no hook at /hooks/${TOKEN}` } });
    const env = { ...base(), NOTIFY_OPS_URL: hook.url(`/hooks/${TOKEN}`), NOTIFY_OPS_FORMAT: 'webhook', NOTIFY_OPS_SECRET: SECRET };
    const config = loadConfig(env);
    const file = () => notify({ config, log: silentLogger }, 'backup-failed', () => ({ subject: 'FAILED', html: '', text: '' }), () => noticeFor(failedBackup, { now: new Date(), hostname: hostname() }));
    await file(); // try 1

    const listed = await cli(['outbox', 'list'], env);
    expect(listed.stdout).toMatch(/^CHANNEL\s+CREATED \(UTC\)\s+SUBJECT/m);
    expect(listed.stdout).toMatch(/^email\s+.*FAILED/m);
    expect(listed.stdout).toMatch(/^ops\s+.*Backup failed/m);
    const json = JSON.parse((await cli(['outbox', 'list', '--json'], env)).stdout) as { channel: string; event: string; attempts: number }[];
    expect(json).toEqual([expect.objectContaining({ channel: 'email', event: 'backup-failed' }), expect.objectContaining({ channel: 'ops', event: 'backup-failed', attempts: 1 })]);

    const second = await cli(['outbox', 'flush'], env); // try 2
    expect(second.code).toBe(69);
    expect(second.stdout).toContain('ops: 0 sent, 1 failed, 1 still waiting');
    expect(second.stdout).toContain('email: no SMTP server is configured (SMTP_HOST, MAIL_TO); 1 report(s) stay in STATE_DIR/outbox');
    const third = await cli(['outbox', 'flush'], env); // try 3: given up
    expect(third.stdout).toContain('ops: 0 sent, 0 failed, 1 given up (kept in STATE_DIR/outbox/ops/given-up), 0 still waiting');
    expect(hook.requests).toHaveLength(3);
    expect(await listChannelOutbox(workspace.stateDir, 'ops')).toEqual([]);
    expect((await readdir(join(workspace.stateDir, 'outbox', 'ops', 'given-up'))).filter((name) => name.endsWith('.json'))).toHaveLength(1);
    expect((await cli(['outbox', 'flush'], env)).stdout).toContain('ops: 0 sent, 0 failed, 0 still waiting');
    expect(hook.requests).toHaveLength(3);

    // Only keepsake's own: Node's event-loop histogram reads NaN in a registry made a moment ago.
    const rendered = await createMetrics(config, () => ({})).render();
    const metrics = parsePrometheusText(rendered.split('\n').filter((line) => /^(# (TYPE|HELP) )?keepsake_/.test(line)).join('\n'));
    expect(sampleValue(metrics, 'keepsake_notify_given_up', { channel: 'ops' })).toBe(1);
    expect(sampleValue(metrics, 'keepsake_notify_waiting', { channel: 'ops' })).toBe(0);
    expect(sampleValue(metrics, 'keepsake_notify_last_delivery_timestamp_seconds', { channel: 'ops' })).toBeUndefined();

    const health = await cli(['health', '--json'], env);
    expect(health.code).toBe(1);
    const check = (JSON.parse(health.stdout) as { checks: { name: string; status: string; message: string }[] }).checks.find((c) => c.name === 'notify:ops');
    expect(check).toMatchObject({ status: 'fail' });
    expect(check!.message).toMatch(/^1 message\(s\) given up since the last delivery/);
    expect(check!.message).toContain(`127.0.0.1:${hook.port} answered HTTP 404 Not Found ("no hook at /***/***"): the webhook was probably deleted (or the URL is mistyped): create a new one and set NOTIFY_OPS_URL; then check with \`keepsake notify test --channel ops\``);

    hook.setDefault({ status: 200 });
    const tested = await cli(['notify', 'test', '--channel', 'ops'], env);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toContain(`OK      ops: webhook message delivered to 127.0.0.1:${hook.port} (HTTP 200); 1 message(s) it had refused before put back: 1 delivered now, 0 waiting`);
    // The refused backup-failed message arrived after all, with its first delivery id.
    const resent = hook.delivered().filter((request) => JSON.parse(request.body).event === 'backup-failed');
    expect(resent.map((request) => request.headers['x-keepsake-delivery'])).toEqual([hook.requests[0]!.headers['x-keepsake-delivery']]);
    expect(await readdir(join(workspace.stateDir, 'outbox', 'ops', 'given-up'))).toEqual([]);
    const healed = JSON.parse((await cli(['health', '--json'], env)).stdout) as { checks: { name: string; status: string; message: string }[] };
    expect(healed.checks.find((c) => c.name === 'notify:ops')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^no messages waiting for 127\.0\.0\.1:\d+; last delivery/) });
    await expectNoSecrets();
  });

  it('nothing is lost across a daemon restart: a health alert filed while the channel is down arrives when a new daemon starts', async () => {
    const port = await freePort();
    const env = {
      ...base(),
      ...SCHEDULES_OFF,
      SCHEDULE_HEALTH: '0 * * * *',
      BACKUP_CATCH_UP: 'false',
      NOTIFY_OPS_URL: `http://127.0.0.1:${port}/hooks/${TOKEN}`,
      NOTIFY_OPS_FORMAT: 'webhook',
      NOTIFY_OPS_SECRET: SECRET,
    };
    // The database is down (port 1): the health run at start files an alert; the channel is down too.
    const first = startDaemonProcess({ ...env, HEALTHCHECK_PORT: String(await freePort()) });
    daemons.push(first);
    const warned = await first.waitFor((line) => line.msg === 'message to channel ops not delivered now; it waits in the outbox and is retried', 30_000);
    expect(warned).toMatchObject({ channel: 'ops', host: `127.0.0.1:${port}`, event: 'health-alert', error: expect.stringContaining('refused the connection') });
    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const [waiting] = await listChannelOutbox(workspace.stateDir, 'ops');
    expect(waiting).toMatchObject({ event: 'health-alert', attempts: 1 });

    const hook = await receiver({ port });
    const metricsPort = await freePort();
    const second = startDaemonProcess({ ...env, HEALTHCHECK_PORT: String(metricsPort) });
    daemons.push(second);
    await second.waitFor((line) => line.msg === 'outbox of channel ops flushed', 30_000);
    const metrics = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    expect(sampleValue(metrics, 'keepsake_notify_waiting', { channel: 'ops' })).toBe(0);
    expect(sampleValue(metrics, 'keepsake_notify_last_delivery_timestamp_seconds', { channel: 'ops' })).toBeGreaterThan(Date.now() / 1000 - 120);
    const [delivered] = await hook.waitForDeliveries(1);
    expect(delivered!.headers['x-keepsake-delivery']).toBe(waiting!.id);
    expect(delivered!.path).toBe(`/hooks/${TOKEN}`);
    expect(await listChannelOutbox(workspace.stateDir, 'ops')).toEqual([]);
    second.process.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    outputs.push(JSON.stringify(first.lines), first.stderr(), JSON.stringify(second.lines), second.stderr());
    await expectNoSecrets();
  });
});
