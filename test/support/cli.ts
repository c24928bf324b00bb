import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { outputOf, type ChildOutput } from './child-output';
import type { DatabaseConfig } from '../../src/config';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export type CliResult = ChildOutput;

/** keepsake's environment for a database: what a user would put in docker-compose.yml. */
export function databaseEnv(db: DatabaseConfig): Record<string, string> {
  // The tests written for one database back up just that database; tests of several sources turn the globals on.
  return { POSTGRES_HOST: db.host, POSTGRES_PORT: String(db.port), POSTGRES_USER: db.user, POSTGRES_PASSWORD: db.password ?? '', POSTGRES_DB: db.database, BACKUP_GLOBALS: 'false' };
}

/**
 * Runs the built CLI (dist/cli.js) as a user would, in a clean environment: only PATH and what the
 * test passes, so nothing from the developer's shell leaks in.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; uid?: number; gid?: number; onSpawn?: (pid: number) => void; onStderr?: (soFar: string) => void } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    // The SDK warns on Node 20 that it will need Node 22 from 2027 (the image runs Node 22).
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = outputOf(child, options.onStderr);
  if (child.pid) options.onSpawn?.(child.pid);
  return output;
}
