import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Manifest } from '../../src/backup/manifest';
import { runCli, type CliResult } from '../support/cli';
import { contentOf } from '../support/content';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL } from '../support/workspace';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

/** The CLI on a real terminal (util-linux `script` gives it a pty), with `typed` as the keyboard. */
function runCliInTerminal(args: string[], env: Record<string, string>, typed: string): Promise<CliResult> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: output, stderr: output }));
    child.stdin.end(typed);
  });
}

describe('keepsake restore of a backup made from another database', () => {
  let s: Scenario;
  let other: Manifest;
  let appContent: Record<string, string>;
  const tablesOf = async (database: string) =>
    (await s.pg.query<{ name: string }>({ ...s.db, database }, "SELECT relname AS name FROM pg_class WHERE relname = 'other_only'")).map((row) => row.name);

  beforeAll(async () => {
    s = await startScenario({ sql: FIXTURE_SQL });
    expect((await runCli(['backup'], s.env)).code).toBe(0);
    // A second database backed up into the same storage: `keepsake list` shows both side by side.
    const otherDb = await s.pg.createDatabase('other');
    await s.pg.query(otherDb, 'CREATE TABLE other_only (x int); INSERT INTO other_only VALUES (1), (2)');
    const backup = await runCli(['backup', '--json'], { ...s.env, POSTGRES_DB: 'other' });
    expect(backup.code).toBe(0);
    other = JSON.parse(backup.stdout) as Manifest;
    appContent = await contentOf(s.pg, s.db);
  });
  afterAll(async () => s?.stop());

  it('warns in the plan and refuses with --yes alone; nothing is changed', async () => {
    const run = await runCli(['restore', other.id, '--yes'], s.env);
    expect(run.stderr).toContain(`Warning: this backup is of database "other", not "app": restoring it puts other's data into app`);
    expect(run.stderr).toContain('Refusing to restore a backup of database "other" into app without --allow-other-database (or typing "other" at the prompt); nothing was changed');
    expect(run.code).toBe(64);
    expect(await contentOf(s.pg, s.db)).toEqual(appContent);
  });

  it('asks for the name of the backup\'s database on a terminal; a wrong answer changes nothing', async () => {
    const run = await runCliInTerminal(['restore', other.id], s.env, 'app\napp\n');
    expect(run.stdout).toContain('Type the name of the backup\'s database "other" to restore it into app anyway:');
    expect(run.stdout).toContain('Not confirmed; nothing was changed');
    expect(run.code).toBe(64);
    expect(await contentOf(s.pg, s.db)).toEqual(appContent);
  });

  it('restores it when that name is typed', async () => {
    const run = await runCliInTerminal(['restore', other.id, '--target-db', 'typed'], s.env, 'typed\nother\n');
    expect(run.stdout).toContain(`OK restored manual/${other.id} into typed@`);
    expect(run.code).toBe(0);
    expect(await tablesOf('typed')).toEqual(['other_only']);
  });

  it('restores it with --allow-other-database --yes', async () => {
    const run = await runCli(['restore', other.id, '--target-db', 'allowed', '--yes', '--allow-other-database'], s.env);
    expect(run.stderr).toContain('Warning: this backup is of database "other", not "allowed"');
    expect(run.code).toBe(0);
    expect(await tablesOf('allowed')).toEqual(['other_only']);
  });

  it('asks nothing more when the backup is of the target itself or of the configured database', async () => {
    const own = await runCli(['restore', other.id, '--target-db', 'other', '--yes'], s.env);
    expect(own.code).toBe(0);
    expect(own.stderr).not.toContain('Warning');
    const beside = await runCli(['restore', 'latest', '--target-db', 'app_inspect', '--yes'], s.env);
    expect(beside.code).toBe(0);
    expect(beside.stderr).not.toContain('Warning');
  });
});
