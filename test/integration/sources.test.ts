import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../src/backup/manifest';
import { runCli } from '../support/cli';
import { SCHEDULES_OFF, startDaemonProcess } from '../support/daemon';
import { startTestPostgres, type TestPostgres } from '../support/postgres';
import { startScenario, type Scenario } from '../support/scenario';
import { allFiles } from '../support/workspace';

/** Three databases owned by three roles, with grants between them: what a cluster with several apps looks like. */
const ROLES_SQL = `
  CREATE ROLE alice LOGIN PASSWORD 'alice-secret';
  CREATE ROLE bob LOGIN;
  CREATE ROLE readers NOLOGIN;
  GRANT readers TO bob;
`;
const ownedBy = (owner: string, reader: string) => `
  CREATE TABLE items (id serial PRIMARY KEY, name text);
  INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 25) g;
  ALTER TABLE items OWNER TO ${owner};
  ALTER SEQUENCE items_id_seq OWNER TO ${owner};
  GRANT SELECT ON items TO ${reader};
`;

describe('several sources in one run', () => {
  let s: Scenario;
  let env: Record<string, string>;

  beforeAll(async () => {
    s = await startScenario({ database: 'app', sql: ROLES_SQL + ownedBy('alice', 'readers') });
    for (const [name, owner, reader] of [['analytics', 'bob', 'alice'], ['billing', 'alice', 'bob']] as const) {
      await s.pg.query(await s.pg.createDatabase(name), ownedBy(owner, reader));
    }
    env = { ...s.env, POSTGRES_DB: 'app,analytics,billing', BACKUP_GLOBALS: 'true' };
  });
  afterAll(async () => s?.stop());

  it('backs up each database and the globals, each its own object and manifest, in one run with one report', async () => {
    const run = await runCli(['backup', '--tier', 'daily', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const manifests = JSON.parse(run.stdout) as Manifest[];
    expect(manifests.map((manifest) => manifest.source)).toEqual([
      { kind: 'postgres', name: 'app' },
      { kind: 'postgres', name: 'analytics' },
      { kind: 'postgres', name: 'billing' },
      { kind: 'postgres-globals', name: 'globals' },
    ]);
    const files = (await allFiles(s.workspace.backupDir)).filter((file) => file.startsWith('daily/'));
    expect(files.filter((file) => !file.endsWith('.manifest.json')).map((file) => file.split('/').pop()!.replace(/_\d{8}_\d{6}/, '_<ts>')).sort()).toEqual([
      'analytics_<ts>.dump.zst',
      'app_<ts>.dump.zst',
      'billing_<ts>.dump.zst',
      'globals_<ts>.sql.zst',
    ]);
    const globals = manifests[3]!;
    expect(globals).toMatchObject({ archiveFormat: 'plain', rolePasswords: true, inventory: { roles: expect.arrayContaining(['alice', 'bob', 'readers', 'postgres']) } });
    const verified = await runCli(['verify', `daily/${globals.id}`], env);
    expect(verified.stdout).toMatch(/^OK daily\/globals_\d{8}_\d{6} on local .*\n(.*\n)*\s+ok\s+archive: plain SQL, complete/);
    expect(verified.code).toBe(0);

    const list = await runCli(['list'], env);
    expect(list.stdout.split('\n')[0]).toMatch(/^#\s+SOURCE\s+ID\s+TIER/);
    expect(list.stdout).toMatch(/^4\s+app\s+app_\d{8}_\d{6}\s+daily/m);
    expect(list.stdout).toMatch(/\s+globals\s+globals_\d{8}_\d{6}\s+daily/m);
    expect((await runCli(['list', '--db', 'billing'], env)).stdout.trim().split('\n')).toHaveLength(2);

    const reports = (await allFiles(join(s.workspace.stateDir, 'reports'))).filter((file) => file.endsWith('.html'));
    expect(reports).toHaveLength(1);
    const html = readFileSync(join(s.workspace.stateDir, 'reports', reports[0]!), 'utf8');
    for (const name of ['app', 'analytics', 'billing', 'globals']) expect(html).toContain(`>${name}<`);
  });

  it('a database that cannot be reached fails alone: the others are stored, the report and the exit code name it', async () => {
    const run = await runCli(['backup', '--tier', 'daily'], { ...env, POSTGRES_DB: 'app,gone,billing' });
    expect(run.code).toBe(69);
    expect(run.stdout).toMatch(/^OK daily backup app_\d{8}_\d{6} of app@/m);
    expect(run.stdout).toMatch(/^OK daily backup billing_\d{8}_\d{6} of billing@/m);
    expect(run.stdout).toMatch(/^OK daily backup globals_\d{8}_\d{6} of globals of /m);
    expect(run.stderr).toMatch(/Backup failed for gone \(1 of 4 sources; the others were stored\).*database "gone" does not exist/);

    const reports = (await allFiles(join(s.workspace.stateDir, 'reports'))).filter((file) => file.endsWith('.html')).sort();
    const html = readFileSync(join(s.workspace.stateDir, 'reports', reports.at(-1)!), 'utf8');
    expect(html).toMatch(/FAILED daily backup .*1 of 4 sources failed \(gone\)/);
  });

  it('--db backs up one source only, and refuses one that is not configured', async () => {
    const one = await runCli(['backup', '--db', 'analytics', '--json'], env);
    expect(one.code).toBe(0);
    expect((JSON.parse(one.stdout) as Manifest).source).toEqual({ kind: 'postgres', name: 'analytics' });
    const other = await runCli(['backup', '--db', 'nope'], env);
    expect(other.code).toBe(66);
    expect(other.stderr).toContain('--db nope: not one of the sources backed up here (app, analytics, billing, globals)');
  });

  it('restored with the globals into a fresh cluster, every database has its owners and grants back', async () => {
    const run = await runCli(['backup', '--tier', 'daily', '--json'], env);
    expect(run.code).toBe(0);
    const manifests = JSON.parse(run.stdout) as Manifest[];
    const owners = `SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' ORDER BY 1`;
    const members = "SELECT r.rolname, m.rolname AS member FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE r.rolname !~ '^pg_' ORDER BY 1, 2";
    let fresh: TestPostgres | undefined;
    try {
      fresh = await startTestPostgres();
      const admin = fresh.admin;
      for (const manifest of manifests.filter((m) => m.source?.kind === 'postgres')) {
        const url = `postgresql://${admin.user}:${encodeURIComponent(admin.password!)}@${admin.host}:${admin.port}/${manifest.database}`;
        const restored = await runCli(['restore', `daily/${manifest.id}`, '--db', manifest.database, '--with-globals', '--target-url', url, '--yes'], env);
        expect(restored.stderr).not.toMatch(/error/i);
        expect(restored.code).toBe(0);
        expect(restored.stdout).toMatch(/^OK applied globals daily\/globals_\d{8}_\d{6}\n {2}note: role postgres \(the role restoring\) kept its own attributes and password/);
        const source = await s.pg.query({ ...s.db, database: manifest.database }, owners);
        expect(source.length).toBeGreaterThan(1);
        expect(await fresh.query({ ...admin, database: manifest.database }, owners)).toEqual(source);
      }
      expect(await fresh.query(admin, members)).toEqual(await s.pg.query(s.db, members));
      // alice's password came back (its hash): she can log in to the restored cluster.
      expect(await fresh.query({ ...admin, user: 'alice', password: 'alice-secret', database: 'billing' }, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 25 }]);
    } finally {
      await fresh?.stop();
    }
  });

  it('restore-test --db with --with-globals restores the database with its owners into the throwaway cluster; the globals test themselves', async () => {
    await runCli(['backup', '--tier', 'daily'], env);
    const withOwners = await runCli(['restore-test', '--db', 'analytics', '--with-globals'], env);
    expect(withOwners.stdout).toMatch(/^PASSED restore test of daily\/analytics_\d{8}_\d{6}/);
    expect(withOwners.stdout).toMatch(/note: globals daily\/globals_\d{8}_\d{6} applied first; owners and grants restored as backed up/);
    expect(withOwners.code).toBe(0);
    const globals = await runCli(['restore-test', '--db', 'globals'], env);
    expect(globals.stderr).toBe('');
    expect(globals.stdout).toMatch(/^PASSED restore test of daily\/globals_\d{8}_\d{6}/);
    expect(globals.stdout).toMatch(/note: \d+ of \d+ roles restored/);
    expect(globals.code).toBe(0);
  });

  it('retention keeps the newest backups of each source, as it did of each database', async () => {
    const keepOne = { ...env, BACKUP_KEEP_DAILY: '1', BACKUP_DIR: join(s.workspace.root, 'retention') };
    for (let run = 0; run < 2; run++) expect((await runCli(['backup', '--tier', 'daily', '--db', 'analytics'], keepOne)).code).toBe(0);
    expect((await runCli(['backup', '--tier', 'daily'], keepOne)).code).toBe(0);
    const cleanup = await runCli(['cleanup', '--json'], keepOne);
    expect(cleanup.code).toBe(0);
    const summary = JSON.parse(cleanup.stdout) as { backups: { id: string; database: string; action: string }[] };
    const kept = summary.backups.filter((backup) => backup.action === 'keep').map((backup) => backup.database).sort();
    const deleted = summary.backups.filter((backup) => backup.action === 'delete').map((backup) => backup.database);
    expect(kept).toEqual(['analytics', 'app', 'billing', 'globals']);
    expect(deleted).toEqual(['analytics', 'analytics']);
  });

  it('health judges the freshness of each source by its own backups', async () => {
    const healthEnv = { ...env, BACKUP_DIR: join(s.workspace.root, 'health') };
    expect((await runCli(['backup', '--tier', 'daily', '--db', 'app'], healthEnv)).code).toBe(0);
    const health = await runCli(['health', '--json'], healthEnv);
    const checks = (JSON.parse(health.stdout) as { checks: { name: string; status: string; message: string }[] }).checks.filter((check) => check.name.startsWith('freshness:daily'));
    expect(checks.map((check) => [check.name, check.status])).toEqual([
      ['freshness:daily:app', 'ok'],
      ['freshness:daily:analytics', 'fail'],
      ['freshness:daily:billing', 'fail'],
      ['freshness:daily:globals', 'fail'],
    ]);
    expect(checks[1]!.message).toMatch(/^analytics: there is no daily backup/);
  });

  it('POSTGRES_DB=all backs up every database that allows connections, minus POSTGRES_EXCLUDE_DB', async () => {
    const allEnv = { ...env, POSTGRES_DB: 'all', POSTGRES_EXCLUDE_DB: 'analytics, postgres', BACKUP_DIR: join(s.workspace.root, 'all') };
    const run = await runCli(['backup', '--json'], allEnv);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Manifest[]).map((manifest) => manifest.source!.name)).toEqual(['app', 'billing', 'globals']);
  });

  it('POSTGRES_DB=all refuses a database named globals while the globals are backed up, and says how to go on', async () => {
    await s.pg.query(s.pg.admin, 'CREATE DATABASE globals');
    try {
      const allEnv = { ...env, POSTGRES_DB: 'all', POSTGRES_EXCLUDE_DB: 'analytics, postgres', BACKUP_DIR: join(s.workspace.root, 'all-globals') };
      const refused = await runCli(['backup'], allEnv);
      expect(refused.code).toBe(78);
      expect(refused.stderr).toMatch(/found a database named "globals".*POSTGRES_EXCLUDE_DB, or set BACKUP_GLOBALS=false/);
      const excluded = await runCli(['backup', '--json'], { ...allEnv, POSTGRES_EXCLUDE_DB: 'analytics, postgres, globals' });
      expect(excluded.code).toBe(0);
      expect((JSON.parse(excluded.stdout) as Manifest[]).map((manifest) => manifest.source!.name)).toEqual(['app', 'billing', 'globals']);
    } finally {
      await s.pg.query(s.pg.admin, 'DROP DATABASE globals');
    }
  });

  it('a role that may not read pg_authid (managed services) backs up the globals without role passwords, and the manifest says so', async () => {
    await s.pg.query(s.db, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'limited') THEN CREATE ROLE limited LOGIN PASSWORD 'limited-pw'; END IF; END $$");
    const limited = { ...env, POSTGRES_USER: 'limited', POSTGRES_PASSWORD: 'limited-pw', BACKUP_DIR: join(s.workspace.root, 'limited') };
    const run = await runCli(['backup', '--db', 'globals', '--json'], limited);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const manifest = JSON.parse(run.stdout) as Manifest;
    expect(manifest).toMatchObject({ rolePasswords: false, pgDump: { args: expect.arrayContaining(['--no-role-passwords']) }, inventory: { roles: expect.arrayContaining(['alice', 'limited']) } });
    const restored = await runCli(['restore-test', '--db', 'globals'], limited);
    expect(restored.stdout).toContain('note: role passwords were not backed up');
    expect(restored.code).toBe(0);
  });

  it("the daemon's scheduled run backs up the others when one fails, and its state names the failed one", async () => {
    const daemonEnv = { ...env, ...SCHEDULES_OFF, SCHEDULE_DAILY: '0 2 * * *', POSTGRES_DB: 'app,gone', BACKUP_DIR: join(s.workspace.root, 'daemon') };
    const daemon = startDaemonProcess(daemonEnv);
    try {
      // The catch-up at start runs the daily backup once.
      await daemon.waitFor((line) => line.msg === 'job finished' && line.job === 'daily', 60_000);
    } finally {
      daemon.process.kill('SIGTERM');
      await daemon.exited;
    }
    const state = JSON.parse(readFileSync(join(s.workspace.stateDir, 'state.json'), 'utf8')) as { jobs: { daily: { outcome: string; error: string } } };
    expect(state.jobs.daily.outcome).toBe('failed');
    expect(state.jobs.daily.error).toMatch(/^Backup failed for gone \(1 of 3 sources; the others were stored\)/);
    const stored = (await allFiles(join(s.workspace.root, 'daemon'))).filter((file) => file.endsWith('.manifest.json')).map((file) => file.split('/').pop()!.replace(/_\d{8}_\d{6}.*/, ''));
    expect(stored.sort()).toEqual(['app', 'globals']);
  });
});
