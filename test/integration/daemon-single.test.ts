import { spawn } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { judgeProcess, ownIdentity } from '../../src/process/identity';
import { runCli } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess, type RunningDaemon } from '../support/daemon';
import { makeWorkspace } from '../support/workspace';

/** The exit code, or 'still running' if the process has not exited within `ms`. */
async function exitWithin(daemon: RunningDaemon, ms: number): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([daemon.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)))]);
  clearTimeout(timer);
  return result;
}

describe('one daemon per STATE_DIR', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  let env: Record<string, string>;
  const daemons: RunningDaemon[] = [];
  const start = () => {
    const daemon = startDaemonProcess(env);
    daemons.push(daemon);
    return daemon;
  };
  const ready = (daemon: RunningDaemon) => daemon.waitFor((line) => line.msg === 'job is off' && line.job === 'logrotate');
  const status = async () => (await runCli(['status'], env)).stdout.split('\n')[0];

  beforeEach(async () => {
    workspace = await makeWorkspace();
    env = { STATE_DIR: workspace.stateDir, BACKUP_DIR: workspace.backupDir, ...SCHEDULES_OFF, BACKUP_CATCH_UP: 'false' };
  });
  afterEach(async () => {
    for (const daemon of daemons.splice(0)) if (daemon.process.exitCode === null && daemon.process.signalCode === null) daemon.process.kill('SIGKILL');
    await workspace.remove();
  });

  it('a second daemon refuses to start (exit 75), naming the first one\'s pid and host; status tells running from stopped', async () => {
    const first = start();
    await ready(first);
    const second = start();
    expect(await exitWithin(second, 15_000)).toBe(75);
    expect(second.stderr()).toContain(`keepsake: Another keepsake daemon is running on STATE_DIR ${workspace.stateDir}: pid ${first.process.pid} on host ${hostname()}, since `);
    expect(second.stderr()).toContain('stop that one first, or give this one a STATE_DIR of its own');
    expect(second.lines.filter((line) => line.msg === 'scheduled' || line.msg === 'job is off')).toEqual([]);
    expect(await status()).toMatch(new RegExp(`^daemon running since .* \\(pid ${first.process.pid} on ${hostname()}\\), heartbeat `));

    first.process.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await status()).toMatch(new RegExp(`^daemon not running: it stopped (just now|.* ago) \\(pid ${first.process.pid}\\)$`));
  });

  it('after a SIGKILL, status says the daemon is not running, and the next daemon takes over at once', async () => {
    const killed = start();
    await ready(killed);
    killed.process.kill('SIGKILL');
    await killed.exited;
    expect(await status()).toMatch(new RegExp(`^daemon NOT running: pid ${killed.process.pid} on ${hostname()}, started .*, ended without stopping \\(killed or crashed\\)`));
    const quick = await runCli(['health', '--quick'], env);
    expect(quick.code).toBe(1);
    expect(quick.stdout + quick.stderr).toContain(`the daemon (pid ${killed.process.pid} on ${hostname()}) ended without stopping (killed or crashed)`);

    const next = start();
    await ready(next);
    expect(next.lines.find((line) => line.msg === 'the previous daemon on this STATE_DIR died without stopping; taking over')).toMatchObject({ previous: { pid: killed.process.pid } });
    expect(await status()).toMatch(new RegExp(`^daemon running since .* \\(pid ${next.process.pid} on `));
  });

  it('a daemon that finds another one named in daemon.lock (it was judged dead and replaced) stops with exit 75', async () => {
    const daemon = start();
    await ready(daemon);
    await writeFile(join(workspace.stateDir, 'daemon.lock'), JSON.stringify({ ...ownIdentity(), token: 'usurper', since: new Date().toISOString() }));
    expect(await exitWithin(daemon, 25_000)).toBe(75);
    expect(daemon.lines.some((line) => line.msg.startsWith('another keepsake daemon took over STATE_DIR'))).toBe(true);
    expect(daemon.stderr()).toContain('Stopped: another keepsake daemon took over STATE_DIR; run one daemon per STATE_DIR');
  });

  describe('a daemon whose pid cannot be checked from here (another container, or this container before a restart)', () => {
    /** daemon.lock and run record as a daemon in another pid namespace leaves them; same host name even. */
    const elsewhere = async (heartbeatAgoMs: number) => {
      const identity = { ...ownIdentity(), pid: 1, pidNamespace: 'pid:[4026530000]', startTicks: 42 };
      await mkdir(join(workspace.stateDir, 'processes'), { recursive: true });
      const record = join(workspace.stateDir, 'processes', 'elsewhere.json');
      await writeFile(record, JSON.stringify({ format: 1, token: 'elsewhere', command: 'daemon', startedAt: new Date().toISOString(), ...identity, children: [], folders: [] }));
      await writeFile(join(workspace.stateDir, 'daemon.lock'), JSON.stringify({ ...identity, token: 'elsewhere', since: new Date().toISOString() }));
      const beat = (ago = 0) => utimes(record, new Date(Date.now() - ago), new Date(Date.now() - ago));
      await beat(heartbeatAgoMs);
      return beat;
    };

    it('refuses while its heartbeat moves', async () => {
      const beat = await elsewhere(0);
      const heart = setInterval(() => void beat(), 1_000);
      try {
        const second = start();
        expect(await exitWithin(second, 20_000)).toBe(75);
        expect(await status()).toMatch(/^daemon running since .* \(pid 1 on .*, in another container or host: judged by its heartbeat\), heartbeat /);
      } finally {
        clearInterval(heart);
      }
    });

    it('takes over at once when its heartbeat is stale, and once a fresh-looking one stops moving', async () => {
      await elsewhere(5 * 60_000);
      expect(await status()).toMatch(/^daemon NOT running: pid 1 on /);
      const first = start();
      await ready(first);
      first.process.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      // The last heartbeat of a daemon killed 25 s ago: watched until it is stale (30 s), then taken over.
      await elsewhere(25_000);
      const second = start();
      await second.waitFor((line) => line.msg.startsWith('daemon.lock names a daemon whose process cannot be checked from here'));
      await ready(second);
      expect(second.lines.some((line) => line.msg === 'the previous daemon on this STATE_DIR died without stopping; taking over')).toBe(true);
    });
  });
});

describe('telling whether a process runs', () => {
  it('judges by pid and start time in its own pid namespace, and admits it cannot tell in another', async () => {
    const self = ownIdentity();
    expect(judgeProcess(self)).toBe('alive');
    // The same pid in a later life (a restarted container reuses it): another start time.
    expect(judgeProcess({ ...self, startTicks: (self.startTicks ?? 0) - 1 })).toBe('dead');
    // The same pid and host name in another container: nothing here can see it.
    expect(judgeProcess({ ...self, pidNamespace: 'pid:[4026530000]' })).toBe('unknown');
    const child = spawn('true');
    await new Promise((resolve) => child.on('close', resolve));
    expect(judgeProcess({ ...self, pid: child.pid!, startTicks: 1 })).toBe('dead');
  });
});

