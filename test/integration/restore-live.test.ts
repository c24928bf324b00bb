import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { isConnectionRefusal, startAppWriter, type WriteAttempt } from '../support/app-writer';
import { runCli, type CliResult } from '../support/cli';
import { contentOf } from '../support/content';
import { makeBinDir } from '../support/fake-bin';
import { startScenario, type Scenario } from '../support/scenario';
import { FIXTURE_SQL } from '../support/workspace';

const WRITES = 'public.app_writes';

/** A database's fingerprint without the table the app keeps writing to. */
function withoutWrites(content: Record<string, string>): Record<string, string> {
  const { [WRITES]: _writes, ...rest } = content;
  return rest;
}

/**
 * A pg_restore that, the first time, restores for real and then waits for the test: the moment
 * when keepsake has restored the backup but not yet put it in place.
 */
async function pausingPgRestore(dir: string) {
  const paused = join(dir, 'paused');
  const resume = join(dir, 'resume');
  const binDir = await makeBinDir({
    // `pg_restore --list` (a backup's table-of-contents check, e.g. the safety backup's) passes through.
    pg_restore: `if [ "$1" = --list ]; then exec "$REAL" "$@"; fi\n"$REAL" "$@" || exit $?\nif mkdir ${dir}/once 2>/dev/null; then touch ${paused}; while [ ! -e ${resume} ]; do sleep 0.02; done; fi`,
  });
  return {
    binDir,
    /** Resolves at the pause; fails if the restore ends without reaching it. */
    async paused(run: Promise<CliResult>) {
      let ended: CliResult | undefined;
      void run.then((result) => (ended = result));
      while (!existsSync(paused)) {
        if (ended) throw new Error(`the restore ended (exit ${ended.code}) before pg_restore paused: ${ended.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    resume: () => writeFile(resume, ''),
    remove: () => rm(binDir, { recursive: true, force: true }),
  };
}

describe('keepsake restore over a database the application keeps writing to', () => {
  let s: Scenario;
  let original: Record<string, string>;
  let gateDir: string;
  let nextN = 1000;
  const databases = async (pattern: string) => (await s.pg.query<{ datname: string }>(s.pg.admin, 'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1', [pattern])).map((row) => row.datname);
  const writesIn = async (database: string) => new Set((await s.pg.query<{ n: number }>({ ...s.db, database }, `SELECT n FROM ${WRITES}`)).map((row) => row.n));
  const startWriter = () => {
    const writer = startAppWriter(s.db, WRITES, nextN);
    nextN += 100_000;
    return writer;
  };
  /** One outage at most: the failed attempts form a single run, and every one is a refused connection. */
  const expectOneOutageOfRefusals = (attempts: WriteAttempt[]) => {
    const failed = attempts.filter((attempt) => !attempt.ok);
    expect(failed.filter((attempt) => !isConnectionRefusal(attempt))).toEqual([]);
    if (failed.length) expect(attempts.indexOf(failed.at(-1)!) - attempts.indexOf(failed[0]!) + 1).toBe(failed.length);
  };

  beforeAll(async () => {
    s = await startScenario({ sql: `${FIXTURE_SQL}\nCREATE TABLE ${WRITES} (n int PRIMARY KEY); INSERT INTO ${WRITES} VALUES (1), (2), (3);` });
    expect((await runCli(['backup'], s.env)).code).toBe(0);
    original = withoutWrites(await contentOf(s.pg, s.db));
    gateDir = join(s.workspace.root, 'gate');
  });
  afterAll(async () => s?.stop());
  beforeEach(async () => {
    await rm(gateDir, { recursive: true, force: true });
    await mkdir(gateDir);
  });

  it('restores beside the live database and swaps: the app writes on, its writes since the backup are kept', async () => {
    const gate = await pausingPgRestore(gateDir);
    const writer = startWriter();
    try {
      await writer.moreAcks(3);
      const run = runCli(['restore', 'latest', '--yes'], { ...s.env, PG_BIN_DIR: gate.binDir });
      await gate.paused(run);
      // The backup is restored and checked beside the live database, which the app keeps using.
      const duringRestore = await writer.moreAcks(3);
      await gate.resume();
      const result = await run;
      const afterSwap = await writer.moreAcks(3);
      const attempts = await writer.stop();

      expect(result.stderr).toMatch(/Kept: {4}app_pre_restore_\d{8}_\d{6}/);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/of \d+ tables match the row counts recorded at backup time/);
      const kept = /kept as (app_pre_restore_\d{8}_\d{6})/.exec(result.stdout)?.[1];
      expect(result.stderr).toContain(`Kept:    ${kept}`);
      expect(result.stdout).toContain(`DROP DATABASE "${kept}"`);

      // The restored database is the backup, plus what the app wrote after the swap.
      expect(withoutWrites(await contentOf(s.pg, s.db))).toEqual(original);
      const restored = await writesIn('app');
      const before = await writesIn(kept!);
      expect([...restored].filter((n) => n < 1000)).toEqual([1, 2, 3]);
      for (const n of afterSwap) expect(restored.has(n)).toBe(true);
      // The kept database holds every write the app made before the swap, including during the restore.
      for (const n of duringRestore) expect(before.has(n)).toBe(true);
      // Every acknowledged write is in exactly one of them, and none was written to the restored copy before the swap.
      for (const n of writer.acked()) expect([n, before.has(n) !== restored.has(n)]).toEqual([n, true]);
      expect(Math.max(...before)).toBeLessThan(Math.min(...[...restored].filter((n) => n >= 1000)));
      expectOneOutageOfRefusals(attempts);
      expect(await databases('app\\_restoring\\_%')).toEqual([]);
    } finally {
      await writer.stop();
      await gate.remove();
    }
  });

  it('renames the old database back when the swap fails half way, with every write of the app in it', async () => {
    const gate = await pausingPgRestore(gateDir);
    const writer = startWriter();
    const locker = new pg.Client({ ...s.pg.admin });
    await locker.connect();
    try {
      await writer.moreAcks(3);
      const before = withoutWrites(await contentOf(s.pg, s.db));
      const keptBefore = await databases('app\\_pre\\_restore\\_%');
      const run = runCli(['restore', 'latest', '--yes'], { ...s.env, PG_BIN_DIR: gate.binDir });
      await gate.paused(run);
      // A transaction elsewhere holds a lock on the restored copy (an uncommitted COMMENT ON DATABASE):
      // renaming it into place times out after the live database was already renamed away.
      const [restoring] = await databases('app\\_restoring\\_%');
      await locker.query('BEGIN');
      await locker.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(restoring!)} IS 'held by a long transaction'`);
      await gate.resume();
      const result = await run;
      await locker.query('ROLLBACK');
      const afterRollback = await writer.moreAcks(3);
      const attempts = await writer.stop();

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Swapping in the restored copy failed: .*lock timeout.*\. app was renamed back and accepts connections again: it is as it was, with every write made meanwhile\./s);
      expect(result.stderr).toContain(`The restored copy could not be dropped`);
      expect(result.stderr).toContain(`DROP DATABASE "${restoring}"`);
      expect(withoutWrites(await contentOf(s.pg, s.db))).toEqual(before);
      const rows = await writesIn('app');
      expect(writer.acked().filter((n) => !rows.has(n))).toEqual([]);
      for (const n of afterRollback) expect(rows.has(n)).toBe(true);
      expectOneOutageOfRefusals(attempts);
      expect(await databases('app\\_pre\\_restore\\_%')).toEqual(keptBefore);
      await s.pg.query(s.pg.admin, `DROP DATABASE ${pg.escapeIdentifier(restoring!)}`);
    } finally {
      await locker.end();
      await writer.stop();
      await gate.remove();
    }
  });

  it('--in-place refuses connections for the whole restore, and the app writes to the restored database after it', async () => {
    const gate = await pausingPgRestore(gateDir);
    const writer = startWriter();
    try {
      await writer.moreAcks(3);
      const run = runCli(['restore', 'latest', '--yes', '--in-place'], { ...s.env, PG_BIN_DIR: gate.binDir });
      await gate.paused(run);
      const duringRestore = await writer.moreAttempts(5);
      await gate.resume();
      const result = await run;
      const afterRestore = await writer.moreAcks(3);
      const attempts = await writer.stop();

      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/the previous contents are kept as pre-restore\/app_\d{8}_\d{6}/);
      expect(duringRestore.filter((attempt) => attempt.ok || !isConnectionRefusal(attempt))).toEqual([]);
      expect(withoutWrites(await contentOf(s.pg, s.db))).toEqual(original);
      const rows = await writesIn('app');
      expect([...rows].filter((n) => n < 1000)).toEqual([1, 2, 3]);
      for (const n of afterRestore) expect(rows.has(n)).toBe(true);
      expect([...rows].filter((n) => n >= 1000 && n <= duringRestore.at(-1)!.n)).toEqual([]);
      expectOneOutageOfRefusals(attempts);
      expect(await databases('app\\_restoring\\_%')).toEqual([]);
    } finally {
      await writer.stop();
      await gate.remove();
    }
  });

  it('--in-place puts the safety backup back when the restore fails, while the app keeps trying to write', async () => {
    const binDir = await makeBinDir({ pg_restore: 'case "$*" in *backup.dump*) "$REAL" --section=pre-data "$@"; echo "pg_restore: error: simulated failure" >&2; exit 1;; esac\nexec "$REAL" "$@"' });
    const writer = startWriter();
    try {
      const ackedBefore = await writer.moreAcks(3);
      const before = withoutWrites(await contentOf(s.pg, s.db));
      const result = await runCli(['restore', 'latest', '--yes', '--in-place'], { ...s.env, PG_BIN_DIR: binDir });
      const afterPutBack = await writer.moreAcks(3);
      const attempts = await writer.stop();

      expect(result.stderr).toMatch(/failed: pg_restore exited with code 1: .*simulated failure.*\. The database was put back as it was, from safety backup pre-restore\/app_\d{8}_\d{6}\./s);
      expect(result.code).toBe(1);
      expect(withoutWrites(await contentOf(s.pg, s.db))).toEqual(before);
      const rows = await writesIn('app');
      for (const n of [...ackedBefore, ...afterPutBack]) expect(rows.has(n)).toBe(true);
      expectOneOutageOfRefusals(attempts);
      expect(await databases('app\\_restoring\\_%')).toEqual([]);
    } finally {
      await writer.stop();
      await rm(binDir, { recursive: true, force: true });
    }
  });
});
