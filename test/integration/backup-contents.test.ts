import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli';
import { makeBinDir } from '../support/fake-bin';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL, allFiles } from '../support/workspace';

/**
 * A zstd (the compressing one, started with -T) that never reads and is killed half a second in,
 * while pg_dump is blocked writing to it. The killer runs detached from its pipes, so the kill is
 * what closes them.
 */
function dyingZstd(realZstd: string): string {
  return `#!/bin/bash\ncase "$*" in *-T*) (sleep 0.5; kill -9 $$) </dev/null >/dev/null 2>&1 & exec sleep 30;; esac\nexec ${realZstd} "$@"\n`;
}

describe('a backup holds every table and its data, or fails saying why', () => {
  let scenario: Scenario;
  let env: Record<string, string>;

  beforeAll(async () => {
    // About 10 MB of dump beside the sample schema, so pg_dump is still writing half a second in.
    scenario = await startScenario({ sql: `${FIXTURE_SQL}\nCREATE TABLE bulk AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload FROM generate_series(1, 150000) g;` });
    env = scenario.env;
  });
  afterAll(async () => scenario?.stop());

  async function expectNothingStored(): Promise<void> {
    expect(await allFiles(scenario.workspace.backupDir)).toEqual([]);
    expect(JSON.parse((await runCli(['list', '--json'], env)).stdout)).toEqual([]);
  }

  it.each(['--schema-on', '--sect=pre-data', '--exclude-table-dat=shop.customers', '-Os'])(
    'refuses PGDUMP_EXTRA_OPTS=%s, which pg_dump reads as leaving data out, before dumping (exit 78)',
    async (opts) => {
      const result = await runCli(['backup'], { ...env, PGDUMP_EXTRA_OPTS: opts });
      expect(result.code).toBe(78);
      expect(result.stderr).toContain('would leave tables or data out of the dump');
      await expectNothingStored();
    },
  );

  it('fails (exit 65) and stores nothing when the archive lacks a counted table\'s data, naming the table', async () => {
    // A pg_dump wrapper leaves one table's data out: pg_dump exits 0, the archive looks fine.
    const binDir = await makeBinDir({ pg_dump: 'exec "$REAL" "$@" --exclude-table-data=shop.customers' });
    try {
      for (const compression of ['zstd', 'none']) {
        const result = await runCli(['backup'], { ...env, PG_BIN_DIR: binDir, BACKUP_COMPRESSION: compression });
        expect({ compression, code: result.code }).toEqual({ compression, code: 65 });
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain('the archive pg_dump wrote has no data for 1 of 7 tables (shop.customers); nothing was stored');
        await expectNothingStored();
      }
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('reports a row count that failed with its own cause, not the snapshot pg_dump could then not import', async () => {
    const db = await scenario.pg.createDatabase('indexed');
    await scenario.pg.query(db, `
      CREATE SCHEMA app;
      SET search_path = app;
      CREATE TABLE lookup (k int PRIMARY KEY, v text);
      INSERT INTO lookup VALUES (1, 'one');
      -- Reads "lookup" without its schema: fine for the application, whose search_path has app.
      CREATE FUNCTION label(x int) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT v FROM lookup WHERE k = x';
      CREATE TABLE items (id int, label_key int);
      INSERT INTO items VALUES (1, 1);
      CREATE INDEX items_label ON items (app.label(label_key));`);
    // pg_dump starts a second late, after the failed count has aborted the exporting transaction.
    const binDir = await makeBinDir({ pg_dump: 'sleep 1\nexec "$REAL" "$@"' });
    try {
      const result = await runCli(['backup'], { ...env, POSTGRES_DB: 'indexed', PG_BIN_DIR: binDir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('cannot count the rows of app.items: relation "lookup" does not exist (SQL function "label" during inlining)');
      expect(result.stderr).not.toContain('could not import the requested snapshot');
      await expectNothingStored();
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });

  it('blames zstd, not pg_dump, when zstd is killed while pg_dump writes to it', async () => {
    const binDir = await mkdtemp(join(tmpdir(), 'keepsake-zstd-'));
    await writeFile(join(binDir, 'zstd'), dyingZstd(execFileSync('which', ['zstd'], { encoding: 'utf8' }).trim()), { mode: 0o755 });
    try {
      const result = await runCli(['backup'], { ...env, PATH: `${binDir}:${process.env.PATH}` });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('keepsake: zstd was killed by SIGKILL');
      expect(result.stderr).not.toContain('pg_dump');
      await expectNothingStored();
    } finally {
      await rm(binDir, { recursive: true, force: true });
    }
  });
});
