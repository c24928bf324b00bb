import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseConfig } from '../../src/config';
import { runCli } from '../support/cli';
import { makeBinDir } from '../support/fake-bin';
import type { TestPostgres } from '../support/postgres';
import { startScenario, type Scenario } from '../support/scenario';
import { allFiles } from '../support/workspace';

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a backup that cannot complete fails loudly and leaves nothing listed', () => {
  let pg: TestPostgres;
  let db: DatabaseConfig;
  let workspace: Scenario['workspace'];
  let env: Record<string, string>;
  let scenario: Scenario;

  beforeAll(async () => {
    // About 10 MB of dump, so "half way" exists.
    scenario = await startScenario({ sql: "CREATE TABLE bulk AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload FROM generate_series(1, 150000) g" });
    ({ pg, db, workspace, env } = scenario);
  });
  afterAll(async () => scenario?.stop());

  async function expectNothingListed(): Promise<void> {
    expect(await allFiles(workspace.backupDir)).toEqual([]);
    const list = await runCli(['list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([]);
  }

  it('reports an unreachable database (exit 69) with what to check', async () => {
    const result = await runCli(['backup'], { ...env, POSTGRES_PORT: '1' });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('Cannot connect to PostgreSQL: connection refused at 127.0.0.1:1; check POSTGRES_HOST and POSTGRES_PORT');
    await expectNothingListed();
  });

  it('reports a database that does not exist (exit 69)', async () => {
    const result = await runCli(['backup'], { ...env, POSTGRES_DB: 'no_such_db' });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('database "no_such_db" does not exist');
    await expectNothingListed();
  });

  it('reports a wrong password without printing it', async () => {
    const result = await runCli(['backup'], { ...env, POSTGRES_PASSWORD: 'wrong-secret-123' });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('password authentication failed for user "postgres"; check POSTGRES_PASSWORD');
    expect(result.stderr).not.toContain('wrong-secret-123');
  });

  it('fails when pg_dump is killed half way, with its stderr, and removes the partial file', async () => {
    // The wrapper lets 2 MB through, prints a line on stderr, then dies by SIGKILL.
    const binDir = await makeBinDir({ pg_dump: '"$REAL" "$@" | head -c 2000000\necho "pg_dump: simulated crash" >&2\nkill -9 $$' });
    try {
      const result = await runCli(['backup'], { ...env, PG_BIN_DIR: binDir });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/keepsake: pg_dump was killed by SIGKILL: pg_dump: simulated crash/);
      await expectNothingListed();
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('fails when pg_dump exits non-zero after a plausible stream', async () => {
    const binDir = await makeBinDir({ pg_dump: '"$REAL" "$@"\necho "pg_dump: error: query failed: out of memory" >&2\nexit 1' });
    try {
      const result = await runCli(['backup'], { ...env, PG_BIN_DIR: binDir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('pg_dump exited with code 1: pg_dump: error: query failed: out of memory');
      await expectNothingListed();
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('stops cleanly on SIGTERM mid-dump: exit 130, partial file removed, nothing listed', async () => {
    // The wrapper sends 1 MB, then stalls: the backup is caught half way with a temp file open.
    const binDir = await makeBinDir({ pg_dump: '"$REAL" "$@" | { head -c 1000000; sleep 5; }' });
    try {
      let cliPid = 0;
      const run = runCli(['backup'], { ...env, PG_BIN_DIR: binDir }, { onSpawn: (pid) => (cliPid = pid) });
      await waitFor(async () => (await allFiles(workspace.backupDir)).some((file) => file.includes('.tmp-')));
      expect(cliPid).toBeGreaterThan(0); // kill(0) would signal the test runner's whole group
      process.kill(cliPid, 'SIGTERM');
      const result = await run;
      expect(result.code).toBe(130);
      expect(result.stderr).toContain('Backup interrupted by SIGTERM; partial files removed, nothing listed');
      await expectNothingListed();
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('passes the password to pg_dump through its environment, never its arguments', async () => {
    const record = join(workspace.root, 'pg_dump-call.txt');
    const binDir = await makeBinDir({ pg_dump: `{ echo "ARGS: $*"; echo "HAS_PGPASSWORD: \${PGPASSWORD:+yes}"; } > ${record}\nexec "$REAL" "$@"` });
    try {
      const result = await runCli(['backup', '--tier', 'daily'], { ...env, PG_BIN_DIR: binDir });
      expect(result.code).toBe(0);
      const call = await readFile(record, 'utf8');
      expect(call).toContain('HAS_PGPASSWORD: yes');
      expect(call).toMatch(/ARGS: --format=custom -Z0 --snapshot=\S+ --no-password/);
      expect(call).not.toContain(db.password!);
    } finally {
      await rm(binDir, { recursive: true, force: true });
      await rm(workspace.backupDir, { recursive: true, force: true });
    }
  });

  it('refuses a pg_dump older than the server, saying what to install', async () => {
    const binDir = await makeBinDir({});
    const fakeOld = join(binDir, 'old');
    await mkdir(fakeOld);
    await writeFile(join(fakeOld, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n', { mode: 0o755 });
    try {
      const result = await runCli(['backup'], { ...env, PG_BIN_DIR: fakeOld });
      expect(result.code).toBe(69);
      expect(result.stderr).toContain(`pg_dump ${pg.major} or newer is needed for PostgreSQL ${pg.major}, but only pg_dump 9 is installed; install postgresql-client-${pg.major} or set PG_BIN_DIR`);
      await expectNothingListed();
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('refuses to run without zstd rather than store an uncompressed file named .zst (exit 69)', async () => {
    const result = await runCli(['backup'], { ...env, PATH: '/nonexistent' });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('keepsake: zstd is not installed');
    await expectNothingListed();
  });

  it('reports a BACKUP_DIR that cannot be written (exit 74)', async () => {
    const blocker = join(workspace.root, 'a-file');
    await writeFile(blocker, 'not a directory');
    const result = await runCli(['backup'], { ...env, BACKUP_DIR: join(blocker, 'backups') });
    expect(result.code).toBe(74);
    expect(result.stderr).toContain(`keepsake: Cannot list ${join(blocker, 'backups')}: a part of the path is a file, not a folder; fix BACKUP_DIR`);
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('reports a BACKUP_DIR without write permission for a non-root user (exit 74)', async () => {
    const readOnly = join(workspace.root, 'read-only');
    await mkdir(readOnly, { mode: 0o555 });
    const stateDir = join(workspace.root, 'state-for-nobody');
    await mkdir(stateDir, { mode: 0o777 });
    await chmod(stateDir, 0o777);
    const result = await runCli(['backup'], { ...env, BACKUP_DIR: readOnly, STATE_DIR: stateDir }, { uid: 65534, gid: 65534 });
    expect(result.code).toBe(74);
    expect(result.stderr).toContain('permission denied; make BACKUP_DIR writable by uid 65534, the user keepsake runs as (a bind-mounted folder: chown -R 65534:65534 it on the host)');
    expect(await allFiles(readOnly)).toEqual([]);
  });

  asRoot('says a read-only BACKUP_DIR is read-only, not "no such file", when the day folder is missing (exit 74)', async () => {
    const readOnly = join(workspace.root, 'read-only-mount');
    await mkdir(readOnly);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]);
    try {
      const result = await runCli(['backup'], { ...env, BACKUP_DIR: readOnly });
      expect(result.code).toBe(74);
      expect(result.stderr).toMatch(new RegExp(`keepsake: Cannot write to ${readOnly}/manual/\\d{4}/\\d{2}/\\d{2}: BACKUP_DIR is on a read-only file system; mount it read-write \\(in Docker: drop :ro from its volume\\)`));
      expect(result.stderr).not.toContain('no such file');
    } finally {
      execFileSync('umount', [readOnly]);
    }
  });

  asRoot('reports a full disk (exit 74) and leaves no partial file', async () => {
    const tiny = join(workspace.root, 'tiny-disk');
    await mkdir(tiny);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tiny]);
    try {
      const result = await runCli(['backup'], { ...env, BACKUP_DIR: tiny });
      expect(result.code).toBe(74);
      expect(result.stderr).toMatch(/keepsake: Cannot write .*: no space left on the device; free space or move BACKUP_DIR/);
      expect(await allFiles(tiny)).toEqual([]);
    } finally {
      execFileSync('umount', [tiny]);
    }
  });

  asRoot('says which folder to fix when STATE_DIR is not writable (exit 74)', async () => {
    const readOnly = join(workspace.root, 'read-only-state');
    await mkdir(readOnly, { mode: 0o555 });
    const result = await runCli(['backup'], { ...env, STATE_DIR: readOnly }, { uid: 65534, gid: 65534 });
    expect(result.code).toBe(74);
    expect(result.stderr).toContain(`keepsake: Cannot use STATE_DIR ${readOnly} for the job lock: permission denied; make STATE_DIR writable by uid 65534, the user keepsake runs as`);
  });

  it('rejects invalid configuration before doing anything, listing every problem (exit 78)', async () => {
    const result = await runCli(['backup'], { ...env, POSTGRES_PORT: 'five', BACKUP_COMPRESSION: 'lz4', BACKUP_TARGETS: 's3', S3_SECRET_ACCESS_KEY: 'sekrit-value' });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('POSTGRES_PORT="five": expected a whole number from 1 to 65535');
    expect(result.stderr).toContain('BACKUP_COMPRESSION="lz4": expected one of zstd, gzip, none');
    expect(result.stderr).not.toContain('sekrit-value');
    await expectNothingListed();
  });
});
