import { hostname } from 'node:os';
import { noticeFor } from '../../src/notify/notice-for';
import { putInChannelOutbox, updateChannelStatus } from '../../src/state/channel-outbox';
import { writeWalStatus } from '../../src/state/wal-status';
import { runCli } from '../support/cli';
import { SCHEDULES_OFF } from '../support/daemon';
import { makeWorkspace } from '../support/workspace';

/** The NEXT RUN column of `keepsake status`, by job. */
function nextRuns(stdout: string): Record<string, string> {
  const lines = stdout.split('\n');
  const header = lines.findIndex((line) => line.startsWith('JOB'));
  const column = lines[header]!.indexOf('NEXT RUN');
  return Object.fromEntries(lines.slice(header + 1).filter(Boolean).map((line) => [line.split(/\s+/)[0], line.slice(column).trim()]));
}

describe('keepsake status', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeEach(async () => {
    workspace = await makeWorkspace();
  });
  afterEach(async () => workspace.remove());

  it('shows the next run from the configured schedules when no daemon has written one', async () => {
    const run = await runCli(['status'], { STATE_DIR: workspace.stateDir, ...SCHEDULES_OFF, SCHEDULE_DAILY: '0 2 * * *', SCHEDULE_HEALTH: '*/5 * * * *' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('the daemon has not run here yet');
    const next = nextRuns(run.stdout);
    expect(next.daily).toMatch(/^in \d/);
    expect(next.health).toMatch(/^in \d/);
    expect(next.weekly).toBe('off');
  });

  it('shows a WAL line with PITR=on: the receiver, the last archived file and when, the spool', async () => {
    const env = { STATE_DIR: workspace.stateDir, ...SCHEDULES_OFF, PITR: 'on' };
    expect((await runCli(['status'], env)).stdout).toContain('WAL: the receiver has not run here yet');
    const now = Date.now();
    const ago = (s: number) => new Date(now - s * 1000).toISOString();
    await writeWalStatus(workspace.stateDir, {
      receiver: { state: 'streaming', since: ago(7200), restarts: 2 },
      lastShipped: { name: '00000001000000000000002A', timeline: 1, at: ago(90) },
      spool: { files: 3, bytes: 48 * 1024 * 1024 },
      updatedAt: ago(5),
    });
    const run = await runCli(['status'], env);
    expect(run.stdout).toMatch(/^WAL: receiver streaming since 2h0\dm ago \(2 restarts\); last archived 00000001000000000000002A 1m3\ds ago; spool 3 files \(50\.3 MB\)$/m);
    expect((await runCli(['status'], { ...env, PITR: 'off' })).stdout).not.toContain('WAL:');
    await writeWalStatus(workspace.stateDir, { receiver: { state: 'streaming', since: ago(7200), restarts: 0 }, spool: { files: 0, bytes: 0 }, updatedAt: ago(600) });
    expect((await runCli(['status'], env)).stdout).toMatch(/^WAL: receiver not running \(its status is from 10m0\ds ago\); nothing archived yet; spool 0 files/m);
  });

  it('shows where reports go and what waits for each: the e-mail, then every channel by name, format and host, never its URL', async () => {
    const env = { STATE_DIR: workspace.stateDir, ...SCHEDULES_OFF, SMTP_HOST: 'mail.example.net', MAIL_TO: 'ops@example.net', NOTIFY_CHAT_URL: 'https://hooks.slack.com/services/T0/B0/statusSentinelToken', NOTIFY_OPS_URL: 'https://ops.example.net/hook' };
    const notice = noticeFor({ kind: 'backup-failed', tier: 'daily', database: 'app', host: 'db', startedAt: new Date().toISOString(), error: 'boom' }, { now: new Date(), hostname: hostname() });
    await putInChannelOutbox(workspace.stateDir, 'chat', notice);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await updateChannelStatus(workspace.stateDir, 'ops', (status) => {
      status.lastDelivery = { at: hourAgo, id: 'x' };
      status.givenUp.push({ at: new Date().toISOString(), id: 'y', event: 'backup-failed', title: 'Backup failed', error: 'HTTP 404', httpStatus: 404 });
    });
    const run = await runCli(['status'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('notify: email via mail.example.net:587 (0 waiting); chat (slack to hooks.slack.com: 1 waiting); ops (webhook to ops.example.net: 0 waiting, 1 GIVEN UP, last delivery 1h00m ago)');
    const json = JSON.parse((await runCli(['status', '--json'], env)).stdout);
    expect(json.notify).toEqual({ email: { waiting: 0 }, channels: [{ name: 'chat', host: 'hooks.slack.com', waiting: 1, givenUp: 0, lastDelivery: null }, { name: 'ops', host: 'ops.example.net', waiting: 0, givenUp: 1, lastDelivery: hourAgo }] });
    expect(run.stdout + JSON.stringify(json)).not.toContain('statusSentinelToken');
  });
});
