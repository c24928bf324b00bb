import { execFileSync, spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allFiles } from '../support/workspace';

// The demo starts two PostgreSQL clusters and runs eight CLI commands; it takes seconds, but a
// busy 2-core CI machine deserves room.
jest.setTimeout(120_000);

const DEMO = join(__dirname, '..', '..', 'scripts', 'demo.js');

interface DemoRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `node scripts/demo.js` (dist/ is built by `npm test` first) with its output in a temp folder. */
function runDemo(demoDir: string, options: { interruptWhen?: (stdout: string) => boolean; interruptAfterMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO], {
      // KEEPSAKE_DEMO_DIR: a developer's ./demo stays as it was.
      env: { PATH: process.env.PATH ?? '', KEEPSAKE_DEMO_DIR: demoDir, ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && options.interruptWhen?.(stdout)) {
        interrupted = true;
        setTimeout(() => child.kill('SIGINT'), options.interruptAfterMs ?? 0);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Processes whose command line mentions this folder: the throwaway clusters live under it. */
function processesUnder(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

async function expectNothingLeftRunning(demoDir: string): Promise<void> {
  expect(processesUnder(demoDir)).toEqual([]);
  // Both clusters (the demo's and restore-test's) were created under work/ and removed with their data dirs.
  expect(await readdir(join(demoDir, 'work'))).toEqual([]);
}

describe('npm run demo (scripts/demo.js)', () => {
  let demoDir: string;
  beforeEach(async () => {
    demoDir = await mkdtemp(join(tmpdir(), 'keepsake-demo-'));
    await chmod(demoDir, 0o755); // the throwaway clusters run as the postgres user
  });
  afterEach(async () => rm(demoDir, { recursive: true, force: true }));

  it('runs every job once through the CLI, mails each report to the local sink, and leaves no server behind', async () => {
    // Run where the compose quick start left its .env (S3_BUCKET and all): the demo must not read it.
    const checkout = await mkdtemp(join(tmpdir(), 'keepsake-demo-checkout-'));
    await copyFile(join(__dirname, '..', '..', '.env.example'), join(checkout, '.env'));
    const run = await runDemo(demoDir, { cwd: checkout }).finally(() => rm(checkout, { recursive: true, force: true }));
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

    // One line per step while it runs.
    for (const title of ['daily backup', 'list', 'verify latest', 'restore-test latest', 'restore into shop_copy', 'cleanup', 'health', 'storage report']) {
      expect(run.stdout).toMatch(new RegExp(`^  ok +${title} `, 'm'));
    }
    // The summary: each command with its exit code and time. Health exits 2 (warnings) without a daemon.
    const commands = ['backup --tier daily', 'list', 'verify latest', 'restore-test latest', 'restore latest --target-db shop_copy --yes', 'cleanup', 'health', 'report storage'];
    for (const command of commands) expect(run.stdout).toMatch(new RegExp(`ok +keepsake ${command} +exit +[02] +\\d+\\.\\ds`));
    expect(run.stdout).toMatch(/All steps passed/);
    for (const place of ['mail/*.html', 'backups', 'state', 'logs']) expect(run.stdout).toContain(join(demoDir, place));

    const mails = (await readdir(join(demoDir, 'mail'))).sort();
    const events = mails.map((name) => /^\d{2}-([a-z-]+)\.html$/.exec(name)?.[1]);
    expect(mails[0]).toBe('01-backup-succeeded.html');
    const expected = ['backup-succeeded', 'restore-test-passed', 'cleanup-summary', 'storage-report'];
    // In job order; health may mail an alert between cleanup and the storage report.
    expect(events.filter((event) => expected.includes(event!))).toEqual(expected);
    expect(events).not.toContain('message'); // every report's event was recognised (header or subject)
    for (const name of mails) {
      const html = await readFile(join(demoDir, 'mail', name), 'utf8');
      expect(html).toContain('<html');
      expect(html).toContain('shop');
    }

    const backups = await allFiles(join(demoDir, 'backups'));
    expect(backups.filter((file) => /^daily\/.+\/shop_\d{8}_\d{6}\.dump\.zst$/.test(file))).toHaveLength(1);
    expect(backups.filter((file) => /^daily\/.+\/shop_\d{8}_\d{6}\.manifest\.json$/.test(file))).toHaveLength(1);
    expect(await readdir(join(demoDir, 'logs'))).toEqual(expect.arrayContaining(['keepsake.log', 'demo-steps.log']));

    await expectNothingLeftRunning(demoDir);
  });

  it('on a machine without PostgreSQL or zstd, says in one line what is missing and how to install it', async () => {
    // Nothing on PATH and an empty PG_BIN_DIR: a fresh machine with only Node.
    const empty = join(demoDir, 'empty');
    await mkdir(empty);
    const run = await runDemo(demoDir, { env: { PATH: empty, PG_BIN_DIR: empty } });
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
    expect(run.stderr).toBe(
      'npm run demo needs PostgreSQL (initdb, postgres, pg_dump, pg_restore) and zstd; missing here: initdb, postgres, pg_dump, pg_restore, zstd. ' +
        'Install them with: bash scripts/install-system-deps.sh (Debian/Ubuntu), or set PG_BIN_DIR to a PostgreSQL bin directory\n',
    );
    expect(await readdir(demoDir)).toEqual(['empty']); // nothing started, nothing written
  });

  it('starts from a clean folder, and on Ctrl-C stops the running step, the cluster and the mail server', async () => {
    await mkdir(join(demoDir, 'mail'));
    await writeFile(join(demoDir, 'mail', '99-stale.html'), 'from an earlier run');
    // Half a second after verify has finished, restore-test is most likely inside its own throwaway
    // cluster; wherever the signal lands, nothing may be left behind.
    const run = await runDemo(demoDir, { interruptWhen: (stdout) => /^ {2}ok +verify latest /m.test(stdout), interruptAfterMs: 500 });
    expect(run.code).toBe(130);
    expect(run.stdout).toMatch(/Interrupted \(SIGINT\)/);
    const mails = await readdir(join(demoDir, 'mail'));
    expect(mails).toContain('01-backup-succeeded.html');
    expect(mails).not.toContain('99-stale.html');
    await expectNothingLeftRunning(demoDir);
  });
});
