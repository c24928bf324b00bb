import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../src/backup/manifest';
import { runCli } from '../support/cli';
import { contentOf, schemaOf } from '../support/content';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL, allFiles } from '../support/workspace';

/** A fresh age key pair from age-keygen: the identity file's path and its public key. */
function keyPair(dir: string, name: string): { identityFile: string; recipient: string } {
  const identityFile = join(dir, `${name}.txt`);
  execFileSync('age-keygen', ['-o', identityFile], { stdio: 'ignore' });
  return { identityFile, recipient: execFileSync('age-keygen', ['-y', identityFile], { encoding: 'utf8' }).trim() };
}

const AGE_HEADER = 'age-encryption.org/v1\n';

describe('age encryption with public keys', () => {
  let s: Scenario;
  let keys: { identityFile: string; recipient: string };
  let env: Record<string, string>;
  let manifest: Manifest;
  let stored: string;

  beforeAll(async () => {
    s = await startScenario({ sql: FIXTURE_SQL });
    keys = keyPair(s.workspace.root, 'identity');
    // The sidecar that backs up holds the public key only.
    env = { ...s.env, BACKUP_ENCRYPTION: 'age', AGE_RECIPIENTS: keys.recipient };
    const backup = await runCli(['backup', '--json'], env);
    expect(backup.code).toBe(0);
    manifest = JSON.parse(backup.stdout) as Manifest;
    stored = join(s.workspace.backupDir, manifest.key);
  });
  afterAll(async () => s?.stop());

  it('stores an age file that zstd cannot read, and a manifest that names the public key and nothing secret', async () => {
    expect(manifest.key).toMatch(/\.dump\.zst\.age$/);
    expect(manifest.encryption).toEqual({ format: 'age', recipients: [keys.recipient] });
    expect(readFileSync(stored).subarray(0, AGE_HEADER.length).toString('latin1')).toBe(AGE_HEADER);
    expect(spawnSync('zstd', ['-t', stored]).status).not.toBe(0);
    const manifestText = readFileSync(stored.replace(/\.dump\.zst\.age$/, '.manifest.json'), 'utf8');
    expect(manifestText).not.toContain('AGE-SECRET-KEY');
    // list, retention and health read manifests without any key
    const list = await runCli(['list', '--json'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(manifest.id);
  });

  it('restores by hand: age -d -i key | zstd -dc | pg_restore', async () => {
    await s.pg.query(s.pg.admin, 'CREATE DATABASE by_hand');
    const db = { ...s.db, database: 'by_hand' };
    const run = spawnSync('sh', ['-c', `age -d -i "$KEY" "$FILE" | zstd -dc | pg_restore --no-owner --no-privileges -d by_hand`], {
      env: { PATH: process.env.PATH, KEY: keys.identityFile, FILE: stored, PGHOST: db.host, PGPORT: String(db.port), PGUSER: db.user, PGPASSWORD: db.password },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await contentOf(s.pg, db)).toEqual(await contentOf(s.pg, s.db));
  });

  it('verify without an identity checks size and sha256 and says decryption was not tested (exit 0)', async () => {
    const run = await runCli(['verify'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ok {3}size: /);
    expect(run.stdout).toMatch(/ok {3}sha256: /);
    expect(run.stdout).toMatch(/skip decryption: not tested, nor decompression and the archive: .*set AGE_IDENTITY_FILE/);
  });

  it('verify with the identity decrypts, decompresses and lists the archive', async () => {
    const run = await runCli(['verify'], { ...env, AGE_IDENTITY_FILE: keys.identityFile });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ok {3}decryption: age decrypted it with AGE_IDENTITY_FILE/);
    expect(run.stdout).toMatch(/ok {3}archive: pg_restore .* read \d+ TOC entries/);
  });

  it('restore-test without an identity fails and says what to set (exit 78)', async () => {
    const run = await runCli(['restore-test'], env);
    expect(run.code).toBe(78);
    expect(run.stdout + run.stderr).toContain(`is encrypted with age to ${keys.recipient}: set AGE_IDENTITY_FILE`);
  });

  it('refuses an identity that is not one of the recipients before reading anything (exit 78)', async () => {
    const other = keyPair(s.workspace.root, 'other');
    for (const command of [['restore-test'], ['verify'], ['restore', 'latest', '--target-db', 'never_made', '--yes']]) {
      const run = await runCli(command, { ...env, AGE_IDENTITY_FILE: other.identityFile });
      expect(run.code).toBe(78);
      expect(run.stdout + run.stderr).toContain(`holds the key of ${other.recipient}, but backup manual/${manifest.id} was encrypted to ${keys.recipient}`);
    }
    expect(await s.pg.query(s.pg.admin, "SELECT 1 FROM pg_database WHERE datname = 'never_made'")).toEqual([]);
  });

  it('round trip with the identity: restore-test passes, restore makes a database identical to the source', async () => {
    const withKey = { ...env, AGE_IDENTITY_FILE: keys.identityFile };
    const test = await runCli(['restore-test'], withKey);
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(/^PASSED restore test/);
    const restore = await runCli(['restore', 'latest', '--target-db', 'copy', '--yes'], withKey);
    expect(restore.code).toBe(0);
    const copy = { ...s.db, database: 'copy' };
    expect(await contentOf(s.pg, copy)).toEqual(await contentOf(s.pg, s.db));
    expect(schemaOf(copy)).toEqual(schemaOf(s.db));
    expect(await allFiles(s.tmpDir)).toEqual([]);
  });
});

describe('age encryption configuration', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await startScenario({ sql: 'CREATE TABLE t (id int)' });
  });
  afterAll(async () => s?.stop());

  it.each([
    [{ BACKUP_ENCRYPTION: 'age' }, 'BACKUP_ENCRYPTION="age" needs AGE_RECIPIENTS'],
    [{ BACKUP_ENCRYPTION: 'age', AGE_RECIPIENTS: 'age1notakey' }, 'AGE_RECIPIENTS="age1notakey": not an age public key: "age1notakey"'],
    [{ AGE_IDENTITY_FILE: '/nonexistent/key.txt' }, 'AGE_IDENTITY_FILE="/nonexistent/key.txt": cannot read the file (ENOENT)'],
  ])('keepsake config refuses %j (exit 78)', async (extra, message) => {
    const run = await runCli(['config'], { ...s.env, ...extra });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain(message);
  });

  it('accepts public keys from AGE_RECIPIENTS_FILE, comments and all', async () => {
    const a = keyPair(s.workspace.root, 'a');
    const b = keyPair(s.workspace.root, 'b');
    const file = join(s.workspace.root, 'recipients.txt');
    writeFileSync(file, `# backups\n${a.recipient}\n${b.recipient} # laptop\n`);
    const run = await runCli(['config'], { ...s.env, BACKUP_ENCRYPTION: 'age', AGE_RECIPIENTS_FILE: file });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).encryption).toEqual({ mode: 'age', recipients: [a.recipient, b.recipient] });
  });
});
