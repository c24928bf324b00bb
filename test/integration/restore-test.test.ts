import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../../src/backup/manifest';
import type { RestoreTestResult } from '../../src/restore/restore-test';
import { runCli } from '../support/cli';
import { makeBinDir } from '../support/fake-bin';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL, allFiles } from '../support/workspace';

/** Server processes whose command line mentions this folder (the throwaway clusters live there). */
function serversUnder(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('keepsake restore-test', () => {
  let s: Scenario;
  let manifest: Manifest;

  beforeAll(async () => {
    s = await startScenario({ sql: FIXTURE_SQL });
    const backup = await runCli(['backup', '--json'], s.env);
    expect(backup.code).toBe(0);
    manifest = JSON.parse(backup.stdout) as Manifest;
  });
  afterAll(async () => s?.stop());

  it('restores the latest backup into a throwaway cluster, checks every table, records the result, leaves nothing behind', async () => {
    const run = await runCli(['restore-test', '--json'], s.env);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as RestoreTestResult;
    expect(result).toMatchObject({ ok: true, problems: [], backup: { id: manifest.id, sha256: manifest.sha256 } });
    expect(result.restoredInto).toMatch(/^throwaway PostgreSQL \d+/);
    expect(result.tables.map((t) => [`${t.schema}.${t.name}`, t.actual])).toEqual(manifest.inventory.tables.map((t) => [`${t.schema}.${t.name}`, t.rows]));
    expect(result.timings).toEqual({ fetchMs: expect.any(Number), restoreMs: expect.any(Number), verifyMs: expect.any(Number), totalMs: expect.any(Number) });
    expect(result.restoredBytes).toBeGreaterThan(1_000_000);

    const recorded = (await allFiles(s.workspace.backupDir)).filter((file) => file.startsWith('recovery-tests/'));
    expect(recorded).toEqual([expect.stringMatching(/^recovery-tests\/\d{4}\/\d{2}\/restore_test_\d{8}_\d{6}\.json$/)]);
    expect(JSON.parse(readFileSync(join(s.workspace.backupDir, recorded[0]!), 'utf8'))).toEqual(result);
    expect(JSON.parse(readFileSync(join(s.workspace.stateDir, 'restore-test-latest.json'), 'utf8'))).toEqual(result);

    expect(await allFiles(s.tmpDir)).toEqual([]);
    expect(serversUnder(s.tmpDir)).toEqual([]);
  });

  it('prints a readable summary', async () => {
    const run = await runCli(['restore-test', manifest.id], s.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^PASSED restore test of manual/${manifest.id} \\(.+\\) into throwaway PostgreSQL`));
    expect(run.stdout).toMatch(/fetch\+decompress .*, restore .*, verify .*, total .*; restored size/);
    expect(run.stdout).toContain(`${manifest.inventory.tables.length} of ${manifest.inventory.tables.length} tables match`);
  });

  it('fails with a checksum error on a corrupted object (exit 65), and records the failure', async () => {
    const file = join(s.workspace.backupDir, manifest.key);
    const original = readFileSync(file);
    const damaged = Buffer.from(original);
    damaged[100]! ^= 0x01;
    writeFileSync(file, damaged);
    try {
      const run = await runCli(['restore-test', '--json'], s.env);
      expect(run.code).toBe(65);
      const result = JSON.parse(run.stdout) as RestoreTestResult;
      expect(result.ok).toBe(false);
      expect(result.error).toMatch(/^checksum mismatch for .*: sha256 is [0-9a-f]{64}, its manifest says [0-9a-f]{64}; the backup is damaged/);
      expect(JSON.parse(readFileSync(join(s.workspace.stateDir, 'restore-test-latest.json'), 'utf8')).ok).toBe(false);
      expect(await allFiles(s.tmpDir)).toEqual([]);
    } finally {
      writeFileSync(file, original);
    }
  });

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot('says a full RESTORE_WORK_DIR is a local write problem, not a damaged backup (exit 74)', async () => {
    const tiny = join(s.workspace.root, 'tiny-work-dir');
    await mkdir(tiny);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', tiny]);
    try {
      const run = await runCli(['restore-test', '--json'], { ...s.env, RESTORE_WORK_DIR: tiny });
      expect(run.code).toBe(74);
      const result = JSON.parse(run.stdout) as RestoreTestResult;
      expect(result.error).toMatch(new RegExp(`^Cannot write the decompressed archive to ${tiny}/keepsake-restore-\\w+/archive\\.dump: .*; free space or set RESTORE_WORK_DIR$`));
      expect(await allFiles(tiny)).toEqual([]);
    } finally {
      execFileSync('umount', [tiny]);
    }
  });

  it('names the table and both counts when the data disagrees with the manifest (exit 65)', async () => {
    const manifestFile = join(s.workspace.backupDir, manifest.key.replace('.dump.zst', '.manifest.json'));
    const original = readFileSync(manifestFile, 'utf8');
    const edited = JSON.parse(original) as Manifest;
    edited.inventory.tables.find((t) => t.name === 'customers')!.rows = 2501;
    writeFileSync(manifestFile, JSON.stringify(edited));
    try {
      const run = await runCli(['restore-test'], s.env);
      expect(run.code).toBe(65);
      expect(run.stdout).toContain('FAIL table shop.customers has 2500 rows, the backup recorded 2501');
      expect(run.stderr).toContain('Restore test of');
    } finally {
      writeFileSync(manifestFile, original);
    }
  });

  it('tears everything down when killed with SIGTERM half way (exit 130)', async () => {
    // pg_restore stalls after creating the schema, so SIGTERM lands while the cluster is up.
    const binDir = await makeBinDir({ pg_restore: '"$REAL" --section=pre-data "$@"\nsleep 20' });
    try {
      let pid = 0;
      const run = runCli(['restore-test'], { ...s.env, PG_BIN_DIR: binDir }, { onSpawn: (p) => (pid = p) });
      const deadline = Date.now() + 20_000;
      while (!serversUnder(s.tmpDir).some((line) => line.includes('pg_restore') || line.includes('sleep')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(serversUnder(s.tmpDir).length).toBeGreaterThan(0);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGTERM');
      const result = await run;
      expect(result.code).toBe(130);
      expect(result.stderr).toContain('Restore test interrupted by SIGTERM');
      expect(await allFiles(s.tmpDir)).toEqual([]);
      expect(serversUnder(s.tmpDir)).toEqual([]);
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('stops a restore test that exceeds RESTORE_TEST_TIMEOUT, records the failure, leaves nothing behind', async () => {
    const binDir = await makeBinDir({ pg_restore: '"$REAL" --section=pre-data "$@"\nsleep 20' });
    try {
      const run = await runCli(['restore-test', '--json'], { ...s.env, PG_BIN_DIR: binDir, RESTORE_TEST_TIMEOUT: '2s' });
      expect(run.code).toBe(1);
      const result = JSON.parse(run.stdout) as RestoreTestResult;
      expect(result).toMatchObject({ ok: false, error: 'Restore test stopped: it took longer than 2.0s (RESTORE_TEST_TIMEOUT); scratch database removed' });
      expect(await allFiles(s.tmpDir)).toEqual([]);
      expect(serversUnder(s.tmpDir)).toEqual([]);
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('uses a scratch database on a given server in server mode and drops it afterwards', async () => {
    const admin = s.pg.admin;
    const url = `postgres://${admin.user}:${encodeURIComponent(admin.password!)}@${admin.host}:${admin.port}/postgres`;
    const run = await runCli(['restore-test', '--json'], { ...s.env, RESTORE_TEST_MODE: 'server', RESTORE_TEST_DATABASE_URL: url });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as RestoreTestResult;
    expect(result.restoredInto).toMatch(/^database keepsake_restore_test_\d{8}_\d{6} on 127\.0\.0\.1:\d+$/);
    expect(await s.pg.query(admin, "SELECT datname FROM pg_database WHERE datname LIKE 'keepsake_restore_test_%'")).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(admin.password!);
  });
});
