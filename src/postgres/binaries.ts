import { access, readdir, realpath } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UnavailableError } from '../errors';
import { runCapture } from '../process/run-process';

export type PgTool = 'pg_dump' | 'pg_dumpall' | 'pg_restore' | 'initdb' | 'postgres' | 'pg_ctl' | 'psql' | 'pg_basebackup' | 'pg_verifybackup' | 'pg_receivewal';

export interface PgBinary {
  path: string;
  major: number;
  version: string;
}

const DEBIAN_LAYOUT = '/usr/lib/postgresql';

/** "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> { major: 15, version: "15.18" } */
export function parseToolVersion(output: string): { major: number; version: string } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  return { major: Number(match[1]), version: match[2] === undefined ? match[1]! : `${match[1]}.${match[2]}` };
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function candidateDirs(pgBinDir: string | undefined, pathEnv: string): Promise<string[]> {
  // PG_BIN_DIR is an explicit choice: when set, nothing else is considered.
  if (pgBinDir) return [pgBinDir];
  const dirs: string[] = [];
  try {
    for (const entry of await readdir(DEBIAN_LAYOUT)) dirs.push(join(DEBIAN_LAYOUT, entry, 'bin'));
  } catch {
    // not a Debian-style layout
  }
  return [...dirs, ...pathEnv.split(delimiter).filter(Boolean)];
}

/** Every installed copy of a PostgreSQL tool, newest major first, each probed with --version. */
export async function findPgBinaries(tool: PgTool, options: { pgBinDir?: string; pathEnv?: string } = {}): Promise<PgBinary[]> {
  // eslint-disable-next-line no-restricted-properties -- PATH is where tools live, not configuration
  const dirs = await candidateDirs(options.pgBinDir, options.pathEnv ?? process.env.PATH ?? '');
  const seen = new Set<string>();
  const found: PgBinary[] = [];
  for (const dir of dirs) {
    const path = join(dir, tool);
    if (!(await executable(path))) continue;
    const real = await realpath(path);
    if (seen.has(real)) continue;
    seen.add(real);
    const parsed = parseToolVersion(await runCapture(path, ['--version']).catch(() => ''));
    if (parsed) found.push({ path, ...parsed });
  }
  return found.sort((a, b) => b.major - a.major);
}

/**
 * A dump or restore tool must be the server's major version or newer (older ones refuse newer
 * servers, and a silent mismatch is how the anchors' users lose backups). Pick the newest that fits.
 */
export function chooseBinaryFor(tool: PgTool, installed: PgBinary[], serverMajor: number): PgBinary {
  const fitting = installed.filter((binary) => binary.major >= serverMajor).sort((a, b) => b.major - a.major);
  if (fitting.length) return fitting[0]!;
  const have = installed.length ? `only ${installed.map((b) => `${tool} ${b.major}`).join(', ')} ${installed.length === 1 ? 'is' : 'are'} installed` : `no ${tool} is installed`;
  throw new UnavailableError(
    `${tool} ${serverMajor} or newer is needed for PostgreSQL ${serverMajor}, but ${have}; install postgresql-client-${serverMajor} or set PG_BIN_DIR to its bin directory`,
  );
}

export async function findBinaryFor(tool: PgTool, serverMajor: number, pgBinDir?: string): Promise<PgBinary> {
  return chooseBinaryFor(tool, await findPgBinaries(tool, { pgBinDir }), serverMajor);
}
