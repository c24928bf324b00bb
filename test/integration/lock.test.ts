import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES } from '../../src/errors';
import { acquireLock, LockBusyError } from '../../src/state/job-lock';
import { writeFileAtomic } from '../../src/state/files';

const asRoot = process.getuid?.() === 0 ? it : it.skip;

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

  it('says since when the holder has held the lock, not since when it began waiting for it', async () => {
    const first = await acquireLock(dir, 'manual backup', { wait: false });
    const waitStarted = Date.now();
    const waiting = acquireLock(dir, 'daily', { wait: true, pollMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first();
    const second = await waiting;
    const busy = (await acquireLock(dir, 'cleanup', { wait: false }).catch((error: unknown) => error)) as LockBusyError;
    await second();
    expect(busy).toBeInstanceOf(LockBusyError);
    expect(busy.holder.job).toBe('daily');
    // It waited 300 ms: its "since" is its last attempt (at most a poll before the release), not its first.
    expect(Date.parse(busy.holder.since)).toBeGreaterThanOrEqual(waitStarted + 200);
  });

  asRoot('leaves no empty draft behind when STATE_DIR is full (exit 74)', async () => {
    const full = join(dir, 'full');
    await mkdir(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
    try {
      // Fill it: creating a file still works on a full tmpfs, writing into it does not.
      await writeFile(join(full, 'filler'), Buffer.alloc(64 * 1024)).catch(() => undefined);
      const error = await acquireLock(full, 'daily', { wait: false }).catch((caught: unknown) => caught);
      expect((error as { exitCode?: number }).exitCode).toBe(EXIT_CODES.ioError);
      expect((error as Error).message).toMatch(/^Cannot use STATE_DIR .* for the job lock: no space left on the device; free space there or move STATE_DIR$/);
      expect((await readdir(full)).filter((name) => name.startsWith('.keepsake.lock'))).toEqual([]);
      // The same for the state file and every other small file keepsake keeps there.
      await expect(writeFileAtomic(join(full, 'state.json'), 'x'.repeat(10_000))).rejects.toThrow(/ENOSPC/);
      expect((await readdir(full)).filter((name) => name.startsWith('state.json'))).toEqual([]);
    } finally {
      execFileSync('umount', [full]);
    }
  });
});
