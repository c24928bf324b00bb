/**
 * The built image (scripts/test-image.sh builds it and runs this file), used the way the runbook
 * says: one-off keepsake commands in the container against a PostgreSQL on loopback, as the image's
 * uid 10001, on a read-only root file system with every capability dropped.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseEnv } from '../support/cli';
import { docker, DockerResources, dockerOk, envFlags, followContainerLog, HARDENED, IMAGE, uniqueName } from '../support/docker';
import { freePort } from '../support/http';
import { startHttpReceiver } from '../support/http-receiver';
import { PITR_SERVER_SETTINGS, startTestPostgres, type TestPostgres } from '../support/postgres';
import { FIXTURE_SQL } from '../support/workspace';
import type { Manifest } from '../../src/backup/manifest';
import type { DatabaseConfig } from '../../src/config';

const SIZE_GOAL_BYTES = 400 * 1000 * 1000;

describe('the image: keepsake commands as uid 10001 on a read-only root', () => {
  const resources = new DockerResources();
  let pg: TestPostgres;
  let db: DatabaseConfig;
  let volumes: string[];

  beforeAll(async () => {
    // A server that also accepts replication connections, for the base backup (PITR).
    pg = await startTestPostgres({ settings: PITR_SERVER_SETTINGS });
    db = await pg.createDatabase('app');
    await pg.query(db, FIXTURE_SQL);
    volumes = [
      '-v', `${await resources.volume('backups')}:/backups`,
      '-v', `${await resources.volume('state')}:/var/lib/keepsake`,
      '-v', `${await resources.volume('logs')}:/var/log/keepsake`,
    ];
  });
  afterAll(async () => {
    await resources.remove();
    await pg?.stop();
  });

  /** `docker run --rm` of one keepsake command, hardened, on the network of the host. */
  const keepsake = (args: string[], extra: string[] = volumes, settings: Record<string, string> = {}) => {
    const env = { ...databaseEnv(db), ...settings };
    return docker(['run', '--rm', '--network', 'host', ...HARDENED, ...envFlags(env), ...extra, IMAGE, 'keepsake', ...args], { env });
  };

  it('runs as uid 10001, and fresh named volumes come up owned by it', async () => {
    const shell = 'id -u; id -g; stat -c "%n %u:%g" /backups /var/lib/keepsake /var/log/keepsake';
    const out = await dockerOk(['run', '--rm', '--network', 'host', ...HARDENED, ...volumes, '--entrypoint', 'sh', IMAGE, '-c', shell]);
    expect(out.split('\n')).toEqual(['10001', '10001', '/backups 10001:10001', '/var/lib/keepsake 10001:10001', '/var/log/keepsake 10001:10001']);
  });

  it("carries the programs keepsake runs, and none of the PostgreSQL packages' baggage", async () => {
    const shell = [
      'for dir in /usr/lib/postgresql/*/bin; do for tool in pg_dump pg_restore pg_dumpall psql; do test -x "$dir/$tool" || echo "missing $dir/$tool"; done; done',
      'newest=$(ls /usr/lib/postgresql | sort -n | tail -n 1); for tool in initdb postgres pg_ctl; do test -x "/usr/lib/postgresql/$newest/bin/$tool" || echo "missing $tool $newest"; done',
      'for tool in pg_basebackup pg_receivewal pg_verifybackup; do test -x "/usr/lib/postgresql/$newest/bin/$tool" || echo "missing $tool $newest"; done',
      'for tool in tini zstd gzip logrotate node keepsake pg_dump psql tar; do command -v "$tool" >/dev/null || test -x "/usr/sbin/$tool" || echo "missing $tool"; done',
      // No cluster, no apt lists, no LLVM JIT, no Perl beyond Debian's essential perl-base.
      'test -e /etc/postgresql && echo "a cluster configuration"; ls /var/lib/apt/lists | grep -v -x -e lock -e partial -e auxfiles',
      'ls /usr/lib/postgresql/*/lib | grep -i llvm; ls /usr/lib/x86_64-linux-gnu | grep -i -e libLLVM -e libz3; for pkg in perl postgresql-common; do dpkg-query -W -f "\\${db:Status-Status}" "$pkg" 2>/dev/null | grep -qx installed && echo "$pkg"; done',
      'true',
    ].join('\n');
    expect(await dockerOk(['run', '--rm', '--network', 'host', ...HARDENED, '--entrypoint', 'sh', IMAGE, '-c', shell])).toBe('');
  });

  it('backs up, lists, verifies and restore-tests, every command exiting 0', async () => {
    const backup = await keepsake(['backup', '--json']);
    expect([backup.code, backup.stderr]).toEqual([0, expect.any(String)]);
    const manifest = JSON.parse(backup.stdout) as Manifest;
    expect(manifest).toMatchObject({ tier: 'manual', database: 'app', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(manifest.inventory.tables.length).toBeGreaterThan(3);

    const list = await keepsake(['list', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((entry) => entry.id)).toEqual([manifest.id]);

    const verify = await keepsake(['verify', 'latest']);
    expect([verify.code, verify.stderr]).toEqual([0, expect.any(String)]);

    // initdb and postgres of the image's newest major, in /tmp (a tmpfs): the root is read-only.
    const restoreTest = await keepsake(['restore-test', 'latest', '--json']);
    expect([restoreTest.code, restoreTest.stderr]).toEqual([0, expect.any(String)]);
    expect(JSON.parse(restoreTest.stdout)).toMatchObject({ ok: true, backup: { id: manifest.id } });
  });

  it('takes a base backup for point-in-time recovery (pg_basebackup streamed into the pipeline) and verifies it', async () => {
    const own = ['-v', `${await resources.volume('pitr-backups')}:/backups`, '-v', `${await resources.volume('pitr-state')}:/var/lib/keepsake`];
    const base = await keepsake(['base-backup', '--json'], own, { PITR: 'on' });
    expect([base.code, base.stderr]).toEqual([0, expect.any(String)]);
    const manifest = JSON.parse(base.stdout) as Manifest;
    expect(manifest).toMatchObject({ tier: 'base', archiveFormat: 'tar', physical: { timeline: 1, startSegment: expect.stringMatching(/^[0-9A-F]{24}$/) } });
    const verify = await keepsake(['verify', manifest.id], own, { PITR: 'on' });
    expect([verify.code, verify.stderr]).toEqual([0, expect.any(String)]);
  });

  it("posts a backup's notice to a signed webhook and an ntfy channel from inside the image (Node 22's fetch, as uid 10001)", async () => {
    const receiver = await startHttpReceiver();
    try {
      const own = ['-v', `${await resources.volume('notify-backups')}:/backups`, '-v', `${await resources.volume('notify-state')}:/var/lib/keepsake`];
      const channels = { NOTIFY_HOOK_URL: receiver.url('/hook'), NOTIFY_HOOK_SECRET: 'image-key', NOTIFY_PHONE_URL: receiver.url('/phone'), NOTIFY_PHONE_FORMAT: 'ntfy' };
      const backup = await keepsake(['backup'], own, channels);
      expect([backup.code, backup.stderr]).toEqual([0, expect.any(String)]);
      const test = await keepsake(['notify', 'test'], own, channels);
      expect([test.code, test.stdout]).toEqual([0, expect.stringMatching(/^OK +hook: webhook message delivered/m)]);
      expect(test.stdout).toMatch(/^OK +phone: ntfy message delivered/m);
      const requests = await receiver.waitForDeliveries(4);
      const hook = requests.filter((request) => request.path === '/hook');
      expect(hook.map((request) => JSON.parse(request.body).event)).toEqual(['backup-succeeded', 'test']);
      expect(hook[0]!.headers['x-keepsake-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(requests.filter((request) => request.path === '/phone').map((request) => request.headers.tags)).toEqual([expect.stringContaining('backup-succeeded'), expect.stringContaining('test')]);
    } finally {
      await receiver.stop();
    }
  });

  it('encrypts with age, to a public key and with a passphrase, and restore-tests both', async () => {
    const keyDir = await mkdtemp(join(tmpdir(), 'keepsake-age-key-'));
    try {
      execFileSync('age-keygen', ['-o', join(keyDir, 'key.txt')], { stdio: 'ignore' });
      await chmod(keyDir, 0o755);
      await chmod(join(keyDir, 'key.txt'), 0o644); // a test key: the container's uid 10001 reads it
      const recipient = execFileSync('age-keygen', ['-y', join(keyDir, 'key.txt')], { encoding: 'utf8' }).trim();
      const withKey = { BACKUP_ENCRYPTION: 'age', AGE_RECIPIENTS: recipient, AGE_IDENTITY_FILE: '/run/keys/key.txt' };
      const mounts = [...volumes, '-v', `${keyDir}:/run/keys:ro`];
      const backup = await keepsake(['backup', '--json'], mounts, withKey);
      expect([backup.code, backup.stderr]).toEqual([0, expect.any(String)]);
      expect(JSON.parse(backup.stdout)).toMatchObject({ key: expect.stringMatching(/\.dump\.zst\.age$/), encryption: { format: 'age', recipients: [recipient] } });
      const proof = await keepsake(['restore-test', 'latest', '--json'], mounts, withKey);
      expect([proof.code, proof.stderr]).toEqual([0, expect.any(String)]);

      // Passphrase mode runs age-encryption (an ES module) in a child of the image's Node.
      const withPassphrase = { BACKUP_ENCRYPTION: 'age', AGE_PASSPHRASE: 'image-test-passphrase' };
      const sealed = await keepsake(['backup', '--json'], volumes, withPassphrase);
      expect([sealed.code, sealed.stderr]).toEqual([0, expect.any(String)]);
      expect(JSON.parse(sealed.stdout)).toMatchObject({ encryption: { format: 'age', passphrase: true } });
      const opened = await keepsake(['restore-test', 'latest', '--json'], volumes, withPassphrase);
      expect([opened.code, opened.stderr]).toEqual([0, expect.any(String)]);
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
  });

  it('says what to do when a bind-mounted backup directory belongs to root, and writes nothing', async () => {
    const hostDir = await mkdtemp(join(tmpdir(), 'keepsake-root-owned-'));
    try {
      const state = volumes.slice(2, 4);
      const result = await keepsake(['backup'], ['-v', `${hostDir}:/backups`, ...state]);
      expect(result.code).toBe(74);
      expect(result.stderr).toMatch(/\/backups.*permission denied/);
      expect(result.stderr).toContain('uid 10001');
      expect(result.stderr).toContain('chown -R 10001:10001');
      expect(await readdir(hostDir)).toEqual([]);
    } finally {
      await rm(hostDir, { recursive: true, force: true });
    }
  });

  it('runs the daemon, its default command, on a read-only root too: first backup, log rotation, a healthy verdict, exit 0 on docker stop', async () => {
    const name = resources.container(uniqueName('daemon'));
    // Log rotation every 3 s instead of daily: logrotate's state and rules live in STATE_DIR.
    const env = { ...databaseEnv(db), BACKUP_ON_START: 'true', BACKUP_CATCH_UP: 'false', SCHEDULE_LOGROTATE: '*/3 * * * * *', HEALTHCHECK_PORT: String(await freePort()) };
    // As the README's docker run line: --stop-timeout of SHUTDOWN_GRACE (5m) plus a minute.
    await dockerOk(['run', '--detach', '--name', name, '--network', 'host', '--stop-timeout', '360', ...HARDENED, ...envFlags(env), ...volumes, IMAGE], { env });
    const log = followContainerLog(name);
    await log.waitFor((line) => line.msg === 'job finished' && line.job === 'health', 120_000);
    expect(log.lines.find((line) => line.msg === 'job finished' && line.job === 'daily')).toMatchObject({ outcome: 'ok' });
    expect(await log.waitFor((line) => line.msg === 'job finished' && line.job === 'logrotate', 30_000)).toMatchObject({ outcome: 'ok' });
    expect(await dockerOk(['exec', name, 'keepsake', 'health', '--quick'])).toMatch(/the daemon is running/);
    await dockerOk(['stop', name]);
    expect(await dockerOk(['inspect', '--format', '{{.State.ExitCode}}', name])).toBe('0');
    expect(log.lines.at(-1)?.msg).toBe('daemon stopped');
  });

  it(`weighs at most ${SIZE_GOAL_BYTES / 1e6} MB`, async () => {
    const bytes = Number(await dockerOk(['image', 'inspect', '--format', '{{.Size}}', IMAGE]));
    console.log(`${IMAGE}: ${(bytes / 1e6).toFixed(1)} MB`);
    expect(bytes).toBeLessThanOrEqual(SIZE_GOAL_BYTES);
  });
});
