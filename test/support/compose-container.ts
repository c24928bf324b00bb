/**
 * docker-compose.yml's backup service run without Compose (the image test's engine has none):
 * `docker create` with the service's environment (interpolated with .env.example), volumes,
 * restart policy and stop grace, then its secrets copied in the way Compose v2.19 and newer deliver
 * secrets from `environment:`: one tar per secret through the engine's copy API (what `docker cp -`
 * calls), the file's mode from the compose file (Compose's default 0444), owned by root; only a
 * secret with uid or gid asks the engine to apply ownership (`docker cp -a`), which engines before
 * 28 fail on when the image's user is not in the host's user database.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { environmentOf, goDuration, interpolate, readCompose, readEnvExample, secretEntries, secretPath, type Service } from './deployment-files';
import { dockerOk, envFlags } from './docker';

export interface ComposeServiceRun {
  /** Container name. */
  name: string;
  image: string;
  /** Replaces values of the service's environment (after interpolation) and adds variables. */
  env: Record<string, string>;
  /** Host names of the stack's other services, which resolve to the host's loopback here. */
  loopbackHosts: string[];
  /** Named volume of the compose file -> the volume the test made for it. */
  volumes: Record<string, string>;
  /** Secret name -> its value. */
  secrets: Record<string, string>;
  /** Further `docker create` options (e.g. health check timing). */
  extra?: string[];
}

export const composeService = (name: string): Service => {
  const service = readCompose().services[name];
  if (!service) throw new Error(`docker-compose.yml has no service ${name}`);
  return service;
};

/** The service's environment as the container gets it: .env.example interpolated, then `env`. */
function serviceEnvironment(service: Service, env: Record<string, string>): Record<string, string> {
  const vars = readEnvExample();
  const interpolated = Object.fromEntries(Object.entries(environmentOf(service)).map(([name, value]) => [name, interpolate(value, vars)]));
  return { ...interpolated, ...env };
}

/** Creates the container (not started) and copies its secrets in. */
export async function createServiceContainer(service: Service, run: ComposeServiceRun): Promise<void> {
  const env = serviceEnvironment(service, run.env);
  const volumes = (service.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') throw new Error('long-form volumes are not supported here');
    const [source = '', target = ''] = volume.split(':');
    const made = run.volumes[source];
    if (!made) throw new Error(`no volume given for ${source}`);
    return ['-v', `${made}:${target}`];
  });
  const stopSeconds = service.stop_grace_period ? Math.ceil(goDuration(service.stop_grace_period) / 1000) : 10;
  await dockerOk(
    [
      'create', '--name', run.name, '--network', 'host',
      ...run.loopbackHosts.flatMap((host) => ['--add-host', `${host}:127.0.0.1`]),
      ...(service.restart ? ['--restart', service.restart] : []),
      '--stop-timeout', String(stopSeconds),
      ...envFlags(env),
      ...volumes.flat(),
      ...(run.extra ?? []),
      run.image,
    ],
    { env },
  );
  for (const secret of secretEntries(service)) {
    const value = run.secrets[secret.source];
    if (value === undefined) throw new Error(`no value given for secret ${secret.source}`);
    const withOwner = secret.uid !== undefined || secret.gid !== undefined;
    const tar = secretTar(secretPath(secret), value, Number(secret.mode ?? 0o444), Number(secret.uid ?? 0), Number(secret.gid ?? 0));
    await dockerOk(['cp', ...(withOwner ? ['--archive'] : []), '-', `${run.name}:/`], { input: tar });
  }
}

/** A tar of one file at an absolute path, with the given mode and numeric owner (GNU tar). */
function secretTar(path: string, value: string, mode: number, uid: number, gid: number): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-secret-'));
  try {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, value);
    chmodSync(file, mode);
    // The file alone, as Compose writes it: the engine makes the folders on the way.
    const tar = spawnSync('tar', ['-C', dir, '-c', '--numeric-owner', `--owner=${uid}`, `--group=${gid}`, path.slice(1)]);
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
    return tar.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
