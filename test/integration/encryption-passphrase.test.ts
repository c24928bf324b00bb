import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../src/backup/manifest';
import { runCli } from '../support/cli';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL, allFiles } from '../support/workspace';

const PASSPHRASE = 'tangerine-quorum-87-velvet';

/** The pids whose parent chain reaches `root` (its children, theirs, ...), as /proc shows them now. */
function descendantsOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone already
    }
  }
  const found: number[] = [];
  for (const pid of parents.keys()) {
    for (let up = parents.get(pid); up !== undefined && up > 1; up = parents.get(up)) {
      if (up === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

/** Runs the CLI and records the command line of every child it starts, polling /proc while it runs. */
async function runWatchingChildren(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; argvs: string[] }> {
  const argvs = new Set<string>();
  let root: number | undefined;
  let done = false;
  const watching = (async () => {
    while (!done) {
      for (const pid of root ? descendantsOf(root) : []) {
        try {
          argvs.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
        } catch {
          // exited between the listing and the read
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const result = await runCli(args, env, { onSpawn: (pid) => (root = pid) });
  done = true;
  await watching;
  return { ...result, argvs: [...argvs] };
}

describe('age encryption with a passphrase', () => {
  let s: Scenario;
  let env: Record<string, string>;

  beforeAll(async () => {
    s = await startScenario({ sql: FIXTURE_SQL });
    env = { ...s.env, BACKUP_ENCRYPTION: 'age', AGE_PASSPHRASE: PASSPHRASE, LOG_DIR: join(s.workspace.root, 'logs') };
  });
  afterAll(async () => s?.stop());

  it('round trip: the backup is an age scrypt file the age tool opens with the passphrase, and restore-test passes with it', async () => {
    const backup = await runCli(['backup', '--json'], env);
    expect(backup.code).toBe(0);
    const manifest = JSON.parse(backup.stdout) as Manifest;
    expect(manifest.encryption).toEqual({ format: 'age', passphrase: true });
    const stored = join(s.workspace.backupDir, manifest.key);
    expect(readFileSync(stored).subarray(0, 40).toString('latin1')).toMatch(/^age-encryption\.org\/v1\n-> scrypt /);

    // The standard tool asks on a terminal: script(1) gives it one, fed the passphrase.
    const decrypted = join(s.workspace.root, 'by-hand.dump.zst');
    const byHand = spawnSync('script', ['-qec', `age -d -o '${decrypted}' '${stored}'`, '/dev/null'], { input: `${PASSPHRASE}\n`, encoding: 'utf8', timeout: 60_000 });
    expect(byHand.status).toBe(0);
    expect(spawnSync('zstd', ['-t', decrypted]).status).toBe(0);

    const test = await runCli(['restore-test'], env);
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(/^PASSED restore test/);
    const verify = await runCli(['verify'], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/ok {3}decryption: age decrypted it with AGE_PASSPHRASE/);
  });

  it('says a wrong passphrase is the key, not damage (exit 78)', async () => {
    expect((await runCli(['backup'], env)).code).toBe(0);
    const run = await runCli(['restore-test'], { ...env, AGE_PASSPHRASE: 'not-the-passphrase' });
    expect(run.code).toBe(78);
    expect(run.stdout + run.stderr).toContain('does not decrypt with the configured AGE_PASSPHRASE');
  });

  it('never puts the passphrase in a child\'s argv, the logs, manifests, reports or anything in STATE_DIR', async () => {
    const backup = await runWatchingChildren(['backup', '--json'], env);
    const test = await runWatchingChildren(['restore-test'], env);
    expect([backup.code, test.code]).toEqual([0, 0]);
    const argvs = [...backup.argvs, ...test.argvs];
    // The scan saw the children that handle the passphrase: it is not vacuous.
    expect(argvs.filter((argv) => argv.includes('passphrase-worker.js encrypt'))).not.toEqual([]);
    expect(argvs.filter((argv) => argv.includes('passphrase-worker.js decrypt'))).not.toEqual([]);
    expect(argvs.filter((argv) => argv.includes(PASSPHRASE))).toEqual([]);
    expect(backup.stdout + backup.stderr + test.stdout + test.stderr).not.toContain(PASSPHRASE);
    const config = await runCli(['config'], env);
    expect(config.stdout).toContain('"passphrase": "***"');
    expect(config.stdout).not.toContain(PASSPHRASE);
    for (const dir of [s.workspace.backupDir, s.workspace.stateDir, env.LOG_DIR!]) {
      const files = await allFiles(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(readFileSync(join(dir, file)).includes(PASSPHRASE)).toBe(false);
    }
  });
});
