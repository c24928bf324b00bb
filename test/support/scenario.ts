import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseConfig } from '../../src/config';
import { databaseEnv } from './cli';
import { startTestPostgres, type TestPostgres } from './postgres';
import { makeWorkspace } from './workspace';

/** A database with data, a workspace, and the keepsake environment pointing at both. */
export interface Scenario {
  pg: TestPostgres;
  db: DatabaseConfig;
  workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  /** TMPDIR for keepsake: throwaway clusters and work files go here, so tests can see leftovers. */
  tmpDir: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startScenario(options: { database?: string; sql: string; settings?: Record<string, string> }): Promise<Scenario> {
  const [pg, workspace] = await Promise.all([startTestPostgres({ settings: options.settings }), makeWorkspace()]);
  const db = await pg.createDatabase(options.database ?? 'app');
  await pg.query(db, options.sql);
  const tmpDir = join(workspace.root, 'tmp');
  await mkdir(tmpDir);
  await chmod(workspace.root, 0o755);
  await chmod(tmpDir, 0o777); // the throwaway cluster runs as the postgres user
  const env = { ...databaseEnv(db), BACKUP_DIR: workspace.backupDir, STATE_DIR: workspace.stateDir, TMPDIR: tmpDir };
  return {
    pg,
    db,
    workspace,
    tmpDir,
    env,
    async stop() {
      await pg.stop();
      await workspace.remove();
    },
  };
}

/**
 * One scenario for a describe block, started before its tests and stopped after them, with its
 * backups and state emptied before each test. Read it through the returned getter.
 */
export function useScenario(options: { database?: string; sql: string }): () => Scenario {
  let s: Scenario | undefined;
  beforeAll(async () => {
    s = await startScenario(options);
  });
  afterAll(async () => s?.stop());
  beforeEach(async () => {
    await rm(s!.workspace.backupDir, { recursive: true, force: true });
    await rm(s!.workspace.stateDir, { recursive: true, force: true });
  });
  return () => s!;
}
