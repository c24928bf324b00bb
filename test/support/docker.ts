/**
 * The Docker CLI for the image tests (test/image), against the engine scripts/test-image.sh starts:
 * it sets DOCKER_HOST, KEEPSAKE_TEST_DOCKER (the client) and KEEPSAKE_TEST_IMAGE (the image it built).
 * Containers use the host's network (the engine has no bridge), so they reach servers the tests
 * start on loopback.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { followJsonLog, type RunningDaemon } from './daemon';
import { outputOf, type ChildOutput } from './child-output';

export const DOCKER = process.env.KEEPSAKE_TEST_DOCKER ?? 'docker';
export const IMAGE = process.env.KEEPSAKE_TEST_IMAGE ?? 'keepsake:image-test';

/** The options the README recommends for running keepsake locked down. */
export const HARDENED = ['--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];

export type DockerResult = ChildOutput;

/**
 * Runs the Docker CLI. `env` values reach containers through `-e NAME` (no value on the command
 * line), so passwords stay out of process arguments, as keepsake's own rule asks.
 */
export function docker(args: string[], options: { env?: Record<string, string>; input?: Buffer | string } = {}): Promise<DockerResult> {
  const child = spawn(DOCKER, args, { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const output = outputOf(child);
  child.stdin.end(options.input);
  return output;
}

/** Like docker(), but a non-zero exit is an error that shows what Docker said. */
export async function dockerOk(args: string[], options: Parameters<typeof docker>[1] = {}): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.code}: ${result.stderr || result.stdout}`);
  return result.stdout.trim();
}

/** `-e NAME` for every variable: the values travel in the CLI's environment. */
export const envFlags = (env: Record<string, string>) => Object.keys(env).flatMap((name) => ['-e', name]);

/** A name no earlier run left behind: keepsake-test-<what>-<random>. */
export const uniqueName = (what: string) => `keepsake-test-${what}-${randomBytes(4).toString('hex')}`;

/** Containers and volumes a test file made, removed in its afterAll whatever happened. */
export class DockerResources {
  private readonly containers: string[] = [];
  private readonly volumes: string[] = [];

  async volume(what: string): Promise<string> {
    const name = uniqueName(what);
    await dockerOk(['volume', 'create', name]);
    this.volumes.push(name);
    return name;
  }

  container(name: string): string {
    this.containers.push(name);
    return name;
  }

  async remove(): Promise<void> {
    if (this.containers.length) await docker(['rm', '--force', '--volumes', ...this.containers]);
    if (this.volumes.length) await docker(['volume', 'rm', '--force', ...this.volumes]);
  }
}

/** keepsake's JSON log from a container, from `since` (an RFC 3339 time) on. */
export function followContainerLog(container: string, since?: string): RunningDaemon {
  const child = spawn(DOCKER, ['logs', '--follow', ...(since ? ['--since', since] : []), container], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return followJsonLog(child);
}

/** Polls `docker inspect` until the template's value satisfies `done`, or fails after timeoutMs. */
export async function waitForInspect(container: string, template: string, done: (value: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let value = '';
  while (Date.now() < deadline) {
    value = await dockerOk(['inspect', '--format', template, container]);
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${container}: ${template} is still ${value} after ${timeoutMs} ms`);
}
