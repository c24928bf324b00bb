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
import { dockerfileStage, filesUnder, findProgram, read, readCompose, readImage, ROOT } from '../support/deployment-files';

const { env: imageEnv } = readImage();
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
  const dryRun = (env: Record<string, string>, args: string[] = []) => {
    const emptyPath = mkdtempSync(join(tmpdir(), 'keepsake-path-'));
    try {
      const result = spawnSync(bash, [script, ...args], { env: { PATH: emptyPath, KEEPSAKE_DRY_RUN: '1', ...env }, encoding: 'utf8' });
      const commands = result.stdout.split('\n').filter((line) => line.startsWith('+ ')).map((line) => line.slice(2));
      return { ...result, commands };
    } finally {
      rmSync(emptyPath, { recursive: true, force: true });
    }
  };
  const installed = (commands: string[]) => commands.filter((command) => command.startsWith('apt-get install')).flatMap((command) => command.split(' ').filter((word) => !word.startsWith('-')).slice(2));
  const postgresStage = dockerfileStage('postgres');

  it('stages PostgreSQL from apt.postgresql.org by default: every client from 13 to 18, the newest server, no cluster', () => {
    expect(postgresStage.args.PG_SOURCE).toBe('pgdg');
    const { status, stdout, commands } = dryRun({ KEEPSAKE_PG_SOURCE: postgresStage.args.PG_SOURCE!, KEEPSAKE_PG_MAJORS: postgresStage.args.PG_MAJORS ?? '' }, ['image-postgres', '/staged']);
    expect(status).toBe(0);
    const majors = ['13', '14', '15', '16', '17', '18'];
    expect(stdout).toContain(`clients ${majors.join(' ')}, server 18`);
    const addRepository = commands.findIndex((command) => /apt\.postgresql\.org\.sh -y$/.test(command));
    const noCluster = commands.findIndex((command) => /create_main_cluster = false/.test(command));
    const installServer = commands.findIndex((command) => command.startsWith('apt-get install') && command.split(' ').includes('postgresql-18'));
    expect(addRepository).toBeGreaterThan(-1);
    expect(noCluster).toBeGreaterThan(addRepository);
    expect(installServer).toBeGreaterThan(noCluster);
    expect(installed(commands)).toEqual(expect.arrayContaining(majors.map((major) => `postgresql-client-${major}`)));
    expect(installed(commands)).not.toContain('shellcheck');
    expect(commands.at(-1)).toBe('stage PostgreSQL in /staged');
  });

  it('with KEEPSAKE_PG_SOURCE=debian stages the distribution\'s PostgreSQL and never touches apt.postgresql.org', () => {
    const { status, stdout, commands } = dryRun({ KEEPSAKE_PG_SOURCE: 'debian' }, ['image-postgres', '/staged']);
    expect(status).toBe(0);
    expect(installed(commands)).toEqual(expect.arrayContaining(['postgresql-client', 'postgresql']));
    expect(commands.findIndex((command) => /create_main_cluster = false/.test(command))).toBeLessThan(commands.findIndex((command) => command.split(' ').includes('postgresql')));
    expect(stdout).not.toMatch(/pgdg|apt\.postgresql\.org/);
    expect(commands.at(-1)).toBe('stage PostgreSQL in /staged');
  });

  it('in the runtime installs the tools keepsake runs and removes apt\'s lists', () => {
    const { status, commands } = dryRun({}, ['image-runtime']);
    expect(status).toBe(0);
    expect(installed(commands)).toEqual(['zstd', 'gzip', 'logrotate', 'age', 'sqlite3', 'tini', 'ca-certificates']);
    expect(commands.at(-1)).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
  });

  it('elsewhere (CI) installs what is missing from the distribution, the test tools included, and never touches apt.postgresql.org', () => {
    const { status, stdout, commands } = dryRun({});
    expect(status).toBe(0);
    // The script finds tools in sbin too, which this empty PATH does not hide: those only where missing.
    const inSbin = { debootstrap: 'debootstrap', dockerd: 'docker.io', logrotate: 'logrotate' };
    const missing = Object.entries(inSbin).filter(([tool]) => !['/usr/sbin', '/sbin'].some((dir) => existsSync(join(dir, tool)))).map(([, pkg]) => pkg);
    expect(installed(commands)).toEqual(expect.arrayContaining(['zstd', 'gzip', 'postgresql-client', 'age', 'sqlite3', 'shellcheck', 'chromium', 'strace', ...missing]));
    expect(commands.every((command) => /^apt-get (update|install) /.test(command))).toBe(true);
    expect(stdout).not.toMatch(/pgdg|postgresql\.org/);
  });

  it('leaves the development tools out with KEEPSAKE_DEV_TOOLS=0', () => {
    const { status, commands } = dryRun({ KEEPSAKE_DEV_TOOLS: '0' });
    expect(status).toBe(0);
    expect(installed(commands).length).toBeGreaterThan(0);
    for (const tool of ['shellcheck', 'chromium', 'debootstrap', 'docker.io', 'strace']) expect(installed(commands)).not.toContain(tool);
  });

  it.each([
    [{ KEEPSAKE_DEV_TOOLS: 'yes' }, [], "KEEPSAKE_DEV_TOOLS must be 0 or 1, not 'yes'"],
    [{ KEEPSAKE_PG_SOURCE: 'ubuntu' }, ['image-postgres', '/staged'], "KEEPSAKE_PG_SOURCE must be pgdg or debian, not 'ubuntu'"],
    [{ KEEPSAKE_PG_MAJORS: '16 latest' }, ['image-postgres', '/staged'], "KEEPSAKE_PG_MAJORS: 'latest' is not a PostgreSQL major version"],
    [{ KEEPSAKE_PGDG: '1' }, [], 'KEEPSAKE_PGDG is gone: build the image with the Dockerfile (build argument PG_SOURCE=pgdg|debian)'],
    [{}, ['image-postgres'], 'image-postgres needs the directory to stage PostgreSQL in'],
    [{}, ['image'], "unknown mode 'image'"],
  ])('refuses %j %j', (env, args, message) => {
    const { status, stderr, commands } = dryRun(env, args);
    expect(status).not.toBe(0);
    expect(stderr).toContain(message);
    expect(commands.filter((command) => command.startsWith('apt-get install'))).toEqual([]);
  });
});
