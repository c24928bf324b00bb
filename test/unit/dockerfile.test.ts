/**
 * Static checks of the Dockerfile and .dockerignore. There is no Docker engine on this machine, so
 * nothing is built: the Dockerfile is parsed (test/support/deployment-files.ts) and its stages,
 * user, volumes, health check and environment are checked against package.json, the CI script and
 * keepsake's configuration schema; .dockerignore is applied with Docker's matching rules to the
 * files the build copies and to the files that must stay out of the build context.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { envSchema } from '../../src/config/schema';
import { dockerfileStage, dockerignored, filesUnder, keyValues, read, readImage, ROOT, STATE_PATHS, words } from '../support/deployment-files';

const { stages: dockerfile, runtime, all, last, env: imageEnv, args: imageArgs, volumes: imageVolumes, user: imageUser } = readImage();

// Docker's classic builder (engines before 23 without BuildKit) does not know these.
const BUILDKIT_ONLY = [/^RUN\s+--mount/, /^RUN\s+--network/, /^RUN\s+--security/, /<<-?\s*["']?[A-Z]+["']?\s*$/m, /^(COPY|ADD)\s+.*--(chmod|link|parents|exclude)\b/];

describe('Dockerfile', () => {
  it('runs on Debian bookworm slim with node from the Node 22 image of the same Debian', () => {
    const images = dockerfile.map((stage) => stage.image);
    const stageNames = new Set(dockerfile.map((stage) => stage.name).filter(Boolean));
    // Every stage starts from the Node 22 image, Debian bookworm slim, or an earlier stage.
    for (const image of images) expect(image).toMatch(stageNames.has(image) ? /./ : /^(node:22(\.\d+)*-bookworm-slim|debian:bookworm-slim)(@sha256:[0-9a-f]{64})?$/);
    expect(runtime.image).toMatch(/^debian:bookworm-slim\b/);
    const nodeStage = dockerfile.find((stage) => /^node:22\b/.test(stage.image));
    expect(all('COPY').some((copy) => copy.args === `--from=${nodeStage?.name} /usr/local/bin/node /usr/local/bin/node`)).toBe(true);
    // Whatever compiles keepsake runs on that same Node.
    const build = dockerfile.find((stage) => stage.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)));
    expect([nodeStage?.name, nodeStage?.image]).toContain(build?.image);
  });

  it('compiles with dev dependencies and ships only the production ones', () => {
    const build = dockerfile.find((stage) => stage.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)));
    expect(build?.instructions.some((i) => i.keyword === 'RUN' && /npm ci(?!.*--omit=dev)/.test(i.args))).toBe(true);
    const copiedModules = all('COPY').find((copy) => /node_modules/.test(copy.args));
    const from = /--from=(\S+)/.exec(copiedModules?.args ?? '')?.[1];
    const source = dockerfile.find((stage) => stage.name === from);
    expect(source?.instructions.some((i) => i.keyword === 'RUN' && /npm (ci --omit=dev|prune --omit=dev)/.test(i.args))).toBe(true);
  });

  it('stages PostgreSQL with scripts/install-system-deps.sh, the script CI runs, and takes only the staged files', () => {
    expect(read('.ci/run')).toMatch(/scripts\/install-system-deps\.sh/);
    const { stage: postgres, args: stageArgs } = dockerfileStage('postgres');
    expect(postgres.image).toMatch(/^debian:bookworm-slim\b/);
    // pgdg by default; debian is the switch for builders that cannot reach apt.postgresql.org.
    expect(stageArgs).toEqual({ PG_SOURCE: 'pgdg', PG_MAJORS: '' });
    const stageRun = postgres.instructions.find((i) => i.keyword === 'RUN' && /install-system-deps\.sh/.test(i.args));
    expect(stageRun?.args).toMatch(/KEEPSAKE_PG_SOURCE="\$\{PG_SOURCE\}" KEEPSAKE_PG_MAJORS="\$\{PG_MAJORS\}"/);
    expect(stageRun?.args).toMatch(/install-system-deps\.sh image-postgres \/staged$/);
    expect(all('COPY').map((copy) => copy.args)).toContain('--from=postgres /staged/ /');
    const runtimeRun = all('RUN').find((instruction) => /install-system-deps\.sh/.test(instruction.args));
    expect(runtimeRun?.args).toMatch(/install-system-deps\.sh image-runtime\b/);
    for (const stage of [postgres, runtime]) {
      expect(stage.instructions.some((i) => i.keyword === 'COPY' && words(i.args)[0] === 'scripts/install-system-deps.sh')).toBe(true);
    }
  });

  it('builds with the classic builder too: no BuildKit-only syntax', () => {
    const text = dockerfile.flatMap((stage) => stage.instructions.map((i) => `${i.keyword} ${i.args}`));
    expect(text.filter((line) => BUILDKIT_ONLY.some((pattern) => pattern.test(line)))).toEqual([]);
    expect(read('Dockerfile')).not.toMatch(/^# syntax=/m);
  });

  it('runs as a non-root user, the one that owns the state directories', () => {
    expect(last('USER')).toBeDefined();
    expect(['root', '0', '']).not.toContain(imageUser);
    const owned = all('RUN').find((run) => STATE_PATHS.every((path) => run.args.includes(path)));
    expect(owned?.args).toMatch(/install -d -o \S+ -g \S+/);
    expect(owned?.args).toMatch(new RegExp(`--uid ${imageUser}\\b`));
  });

  it('puts keepsake on PATH through dist/cli.js, which keeps the node shebang of src/cli.ts', () => {
    expect(read('src/cli.ts').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(all('RUN').some((run) => /ln -s \/app\/dist\/cli\.js \/usr\/local\/bin\/keepsake/.test(run.args) && /chmod 0?755 \/app\/dist\/cli\.js/.test(run.args))).toBe(true);
  });

  it('checks health with `keepsake health --quick` every minute', () => {
    const healthcheck = last('HEALTHCHECK')?.args ?? '';
    const [options, command] = healthcheck.split(/\bCMD\b/).map((part) => part.trim());
    expect(JSON.parse(command ?? 'null')).toEqual(['keepsake', 'health', '--quick']);
    expect(keyValues(options ?? '')).toEqual({ '--interval': '1m', '--timeout': '10s', '--start-period': '2m', '--retries': '3' });
  });

  it('starts keepsake daemon under tini, stopped by SIGTERM', () => {
    expect(JSON.parse(last('ENTRYPOINT')?.args ?? 'null')).toEqual(['/usr/bin/tini', '--']);
    expect(JSON.parse(last('CMD')?.args ?? 'null')).toEqual(['keepsake', 'daemon']);
    expect(last('STOPSIGNAL')?.args).toBe('SIGTERM');
  });

  it('declares the backup, state and log directories as volumes, and points keepsake at them', () => {
    expect(imageVolumes.sort()).toEqual([...STATE_PATHS].sort());
    expect({ BACKUP_DIR: imageEnv.BACKUP_DIR, STATE_DIR: imageEnv.STATE_DIR, LOG_DIR: imageEnv.LOG_DIR }).toEqual({
      BACKUP_DIR: '/backups',
      STATE_DIR: '/var/lib/keepsake',
      LOG_DIR: '/var/log/keepsake',
    });
  });

  it('serves health on the port it exposes, bound to loopback unless the deployment opens it', () => {
    expect(imageEnv.HEALTHCHECK_HOST).toBeUndefined();
    expect(words(last('EXPOSE')?.args ?? '')).toEqual([imageEnv.HEALTHCHECK_PORT]);
  });

  it('sets only variables keepsake reads, with values it accepts', () => {
    for (const [name, value] of Object.entries(imageEnv)) {
      expect(Object.keys(envSchema.shape)).toContain(name);
      expect(envSchema.shape[name as keyof typeof envSchema.shape].safeParse(value).success).toBe(true);
    }
  });

  it('carries OCI labels, with the version from a build argument that defaults to package.json', () => {
    const labels: Record<string, string> = Object.assign({}, ...all('LABEL').map((label) => keyValues(label.args)));
    for (const key of ['title', 'description', 'version', 'source', 'licenses']) expect(labels[`org.opencontainers.image.${key}`]).toBeTruthy();
    expect(labels['org.opencontainers.image.version']).toBe('${KEEPSAKE_VERSION}');
    const pkg = JSON.parse(read('package.json')) as { version: string; license: string };
    expect(imageArgs.KEEPSAKE_VERSION).toBe(pkg.version);
    expect(labels['org.opencontainers.image.licenses']).toBe(pkg.license);
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it.each(['.env', '.env.production', 'node_modules/yaml/package.json', 'dist/cli.js', '.git/HEAD', 'demo-output/state/state.json', 'bench/results/run.json', 'coverage/lcov.info', 'docs/benchmarks.md', 'test/unit/keys.test.ts', 'keepsake.log', 'scripts/npm-debug.log', 'secrets/postgres_password'])(
    'keeps %s out of the build context',
    (path) => {
      expect(dockerignored(patterns, path)).toBe(true);
    },
  );

  it('lets every file the Dockerfile copies from the context through', () => {
    const sources = dockerfile
      .flatMap((stage) => stage.instructions)
      .filter((instruction) => instruction.keyword === 'COPY' && !/--from=/.test(instruction.args))
      .flatMap((copy) => words(copy.args).filter((word) => !word.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source))).toBe(true);
      for (const file of filesUnder(source)) expect([file, dockerignored(patterns, file)]).toEqual([file, false]);
    }
  });
});
