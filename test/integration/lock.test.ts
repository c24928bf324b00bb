import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES } from '../../src/errors';
import { acquireLock, LockBusyError } from '../../src/scheduler/lock';

describe('the STATE_DIR job lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keepsake-lock-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const writeLock = (holder: object) => writeFile(join(dir, 'keepsake.lock'), JSON.stringify(holder));

  it('is exclusive, released on release, and leaves no draft files', async () => {
    const release = await acquireLock(dir, 'daily', { wait: false });
    const busy = await acquireLock(dir, 'cleanup', { wait: false }).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(LockBusyError);
    expect((busy as LockBusyError).exitCode).toBe(EXIT_CODES.busy);
    await release();
    const again = await acquireLock(dir, 'cleanup', { wait: false });
    await again();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock whose process is gone', async () => {
    const child = spawn('true');
    await new Promise((resolve) => child.on('close', resolve));
    await writeLock({ pid: child.pid, job: 'daily', since: new Date().toISOString(), token: 'dead' });
    const release = await acquireLock(dir, 'weekly', { wait: false });
    await release();
  });

  it('takes over a lock left with its own pid by an earlier life (a restarted container is pid 1 again)', async () => {
    await writeLock({ pid: process.pid, job: 'daily', since: new Date(Date.now() - 3_600_000 * 24 * 365).toISOString(), token: 'old-life' });
    const release = await acquireLock(dir, 'daily', { wait: false });
    await release();
  });

  it('waits for a live holder, telling the user once, and gets the lock when it is released', async () => {
    const release = await acquireLock(dir, 'daily', { wait: false });
    const told: string[] = [];
    const waiting = acquireLock(dir, 'manual backup', { wait: true, pollMs: 20, onWait: (holder) => told.push(holder.job) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await release();
    const second = await waiting;
    await second();
    expect(told).toEqual(['daily']);
  });

  it('refuses to treat an unreadable lock as free', async () => {
    await writeLock({ pid: 1 });
    await writeFile(join(dir, 'keepsake.lock'), '{not json');
    await expect(acquireLock(dir, 'daily', { wait: false })).rejects.toThrow(/keepsake\.lock is damaged; if no keepsake job is running, delete it/);
  });
});
