/**
 * Checks of logrotate/keepsake and the shell scripts with the tools that run on this machine, which
 * has no Docker engine: the logrotate rules are read statically and, when logrotate is installed,
 * run against a scratch directory; every shell script (and minio-init's inline script in
 * docker-compose.yml) passes shellcheck; scripts/install-system-deps.sh runs in dry-run mode
 * (KEEPSAKE_DRY_RUN=1), which prints the commands the image build would run instead of running them.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesUnder, findProgram, read, readCompose, readImage, ROOT } from '../support/deployment-files';

const { env: imageEnv, args: imageArgs } = readImage();
const compose = readCompose();

const logrotate = findProgram('logrotate');

describe('logrotate/keepsake', () => {
  const config = read('logrotate/keepsake');
  const body = config.replace(/#.*$/gm, '');
  const directives = /\{([^}]*)\}/.exec(body)?.[1]?.split('\n').map((line) => line.trim()).filter(Boolean) ?? [];

  it('rotates the log files in LOG_DIR of the image', () => {
    expect(body.trim().split(/\s*\{/)[0]).toBe(`${imageEnv.LOG_DIR}/*.log`);
  });

  it.each(['daily', 'maxsize 50M', 'rotate 14', 'missingok', 'notifempty', 'compress', 'delaycompress', 'create 0640'])('has %s', (directive) => {
    expect(directives).toContain(directive);
  });

  // keepsake reopens its log after rotation itself: truncating copies lose lines, and there is no one to signal.
  it.each(['copytruncate', 'postrotate', 'prerotate', 'sharedscripts'])('has no %s', (directive) => {
    expect(directives.map((line) => line.split(/\s+/)[0])).not.toContain(directive);
  });

  // The daemon runs logrotate itself, so it is a dependency like pg_dump: scripts/install-system-deps.sh installs it.
  it('finds logrotate', () => {
    expect(logrotate).toBeDefined();
  });

  describe('with logrotate', () => {
    let dir: string;
    const rotate = (...flags: string[]): SpawnSyncReturns<string> =>
      spawnSync(logrotate!, [...flags, '-s', join(dir, 'logrotate.status'), join(dir, 'keepsake.conf')], { encoding: 'utf8' });
    const log = (name: string) => join(dir, 'logs', name);

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'keepsake-logrotate-'));
      // The daemon's substitution when LOG_DIR differs from the image's.
      writeFileSync(join(dir, 'keepsake.conf'), config.split(imageEnv.LOG_DIR!).join(join(dir, 'logs')));
      chmodSync(join(dir, 'keepsake.conf'), 0o644); // logrotate ignores group- or world-writable configs
      mkdirSync(join(dir, 'logs'), { mode: 0o750 });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('accepts the file in debug mode (logrotate -d)', () => {
      writeFileSync(log('keepsake.log'), '{"msg":"hello"}\n');
      const result = rotate('-d');
      const output = result.stdout + result.stderr;
      expect(result.status).toBe(0);
      expect(output).toContain(`rotating pattern: ${join(dir, 'logs')}/*.log`);
      expect(output).not.toMatch(/^error:/m);
    });

    it('renames the log, creates a fresh 0640 one, and compresses a rotated file one rotation later', () => {
      writeFileSync(log('keepsake.log'), 'first\n');
      expect(rotate('-f').status).toBe(0);
      expect(readFileSync(log('keepsake.log.1'), 'utf8')).toBe('first\n');
      expect(statSync(log('keepsake.log')).mode & 0o777).toBe(0o640);
      writeFileSync(log('keepsake.log'), 'second\n');
      expect(rotate('-f').status).toBe(0);
      expect(readFileSync(log('keepsake.log.1'), 'utf8')).toBe('second\n');
      expect(existsSync(log('keepsake.log.2.gz'))).toBe(true);
    });

    it('leaves an empty log alone', () => {
      writeFileSync(log('keepsake.log'), '');
      expect(rotate('-f').status).toBe(0);
      expect(existsSync(log('keepsake.log.1'))).toBe(false);
    });
  });
});

describe('shell scripts', () => {
  const shellcheck = findProgram('shellcheck');
  // CI's own entry point is a shell script too.
  const scripts = [...['scripts', 'docker'].filter((dir) => existsSync(join(ROOT, dir))).flatMap(filesUnder).filter((path) => path.endsWith('.sh')), '.ci/run'];

  it('finds shellcheck (bash scripts/install-system-deps.sh installs it)', () => {
    expect(shellcheck).toBeDefined();
  });

  it.each(scripts)('%s passes shellcheck', (script) => {
    const result = spawnSync(shellcheck ?? 'shellcheck', ['--external-sources', script], { cwd: ROOT, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it("minio-init's inline script passes shellcheck as POSIX sh", () => {
    const command = compose.services['minio-init']!.command;
    const script = (Array.isArray(command) ? command.join('\n') : (command ?? '')).split('$$').join('$');
    expect(script).toContain('mc mb');
    const result = spawnSync(shellcheck ?? 'shellcheck', ['--shell=sh', '-'], { input: script, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('scripts/install-system-deps.sh (dry run)', () => {
  const script = join(ROOT, 'scripts', 'install-system-deps.sh');
  const bash = findProgram('bash')!;
  /** Runs the script with KEEPSAKE_DRY_RUN=1 and a PATH that holds no tool at all: a fresh machine. */
  const dryRun = (env: Record<string, string>) => {
    const emptyPath = mkdtempSync(join(tmpdir(), 'keepsake-path-'));
    try {
      const result = spawnSync(bash, [script], { env: { PATH: emptyPath, KEEPSAKE_DRY_RUN: '1', ...env }, encoding: 'utf8' });
      const commands = result.stdout.split('\n').filter((line) => line.startsWith('+ ')).map((line) => line.slice(2));
      return { ...result, commands };
    } finally {
      rmSync(emptyPath, { recursive: true, force: true });
    }
  };
  const installed = (commands: string[]) => commands.filter((command) => command.startsWith('apt-get install')).flatMap((command) => command.split(' ').filter((word) => !word.startsWith('-')).slice(2));

  it('in the image (KEEPSAKE_PGDG=1) adds apt.postgresql.org, then installs every client, the newest server and the runtime tools', () => {
    const majors = (imageArgs.PG_MAJORS ?? '').split(/\s+/).filter(Boolean);
    expect(majors.every((major) => /^[1-9][0-9]*$/.test(major))).toBe(true);
    // Every supported major from 13 up, and whatever newer ones the image adds; the newest gets the server.
    expect(majors).toEqual(expect.arrayContaining(['13', '14', '15', '16', '17', '18']));
    const newest = Math.max(...majors.map(Number));
    const server = `postgresql-${newest}`;
    const { status, commands } = dryRun({ KEEPSAKE_PGDG: '1', KEEPSAKE_PG_MAJORS: majors.join(' '), KEEPSAKE_DEV_TOOLS: '0' });
    expect(status).toBe(0);
    const addRepository = commands.findIndex((command) => /apt\.postgresql\.org\.sh -y$/.test(command));
    const noCluster = commands.findIndex((command) => /create_main_cluster = false/.test(command));
    const installServer = commands.findIndex((command) => command.startsWith('apt-get install') && command.split(' ').includes(server));
    expect(addRepository).toBeGreaterThan(-1);
    expect(noCluster).toBeGreaterThan(addRepository);
    expect(installServer).toBeGreaterThan(noCluster);
    expect(installed(commands)).toEqual(
      expect.arrayContaining([...majors.map((major) => `postgresql-client-${major}`), server, 'zstd', 'gzip', 'logrotate', 'tini', 'ca-certificates']),
    );
    expect(installed(commands)).not.toContain('shellcheck');
    expect(commands.at(-1)).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
  });

  it('elsewhere (CI) installs what is missing from the distribution, shellcheck included, and never touches apt.postgresql.org', () => {
    const { status, stdout, commands } = dryRun({});
    expect(status).toBe(0);
    expect(installed(commands)).toEqual(expect.arrayContaining(['zstd', 'gzip', 'postgresql-client', 'shellcheck']));
    expect(commands.every((command) => /^apt-get (update|install) /.test(command))).toBe(true);
    expect(stdout).not.toMatch(/pgdg|postgresql\.org/);
  });

  it.each([
    [{ KEEPSAKE_DEV_TOOLS: '0' }],
    [{ KEEPSAKE_PGDG: '1' }], // the image needs no development tools, even when not told
  ])('leaves shellcheck out with %j', (env) => {
    const { status, commands } = dryRun(env);
    expect(status).toBe(0);
    expect(installed(commands).length).toBeGreaterThan(0);
    expect(installed(commands)).not.toContain('shellcheck');
  });

  it.each([
    [{ KEEPSAKE_PGDG: 'yes' }, "KEEPSAKE_PGDG must be 0 or 1, not 'yes'"],
    [{ KEEPSAKE_PGDG: '1', KEEPSAKE_PG_MAJORS: '16 latest' }, "KEEPSAKE_PG_MAJORS: 'latest' is not a PostgreSQL major version"],
  ])('refuses %j', (env, message) => {
    const { status, stderr, commands } = dryRun(env);
    expect(status).not.toBe(0);
    expect(stderr).toContain(message);
    expect(commands).toEqual([]);
  });
});
