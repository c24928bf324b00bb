import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

/** A temp folder per test file for BACKUP_DIR and STATE_DIR, removed afterwards. */
export async function makeWorkspace(): Promise<{ root: string; backupDir: string; stateDir: string; remove(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'keepsake-test-'));
  return { root, backupDir: join(root, 'backups'), stateDir: join(root, 'state'), remove: () => rm(root, { recursive: true, force: true }) };
}

/** Every file under a folder (relative paths), including temp files `list` would hide. */
export async function allFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string, prefix: string) => {
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) await walk(join(path, entry.name), `${prefix}${entry.name}/`);
      else found.push(`${prefix}${entry.name}`);
    }
  };
  await walk(dir, '');
  return found.sort();
}

export async function fileMode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The sample schema the demo uses too: enums, domains, partitions, jsonb, bytea, a large object... */
export const FIXTURE_SQL = readFileSync(join(__dirname, '..', '..', 'scripts', 'sample-schema.sql'), 'utf8');
