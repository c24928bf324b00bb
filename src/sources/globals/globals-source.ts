import { readFile, writeFile } from 'node:fs/promises';
import type pg from 'pg';
import { postgresFacts, type Manifest } from '../../backup/manifest';
import type { DatabaseConfig } from '../../config';
import { chooseBinaryFor, findBinaryFor, findPgBinaries, type PgBinary } from '../../postgres/binaries';
import { connect, libpqEnv, serverVersion, withClient } from '../../postgres/connection';
import type { Inventory } from '../../postgres/snapshot';
import { spawnChild, succeededUnlessAborted } from '../../process/run-process';
import type { RestoreCheck } from '../../restore/check-restored';
import { ROLES_NEED_OWN_CLUSTER, scratchDatabase, type ScratchTarget, type Source, type SourceSnapshot } from '../source';
import { UsageError } from '../../errors';
import { planGlobalsApply } from './apply-plan';
import { GLOBALS_SOURCE } from '../../config/sources';

/** The globals' source name: in keys (`globals_<ts>.sql.zst`), list and `--db globals`. */
export const GLOBALS_NAME = GLOBALS_SOURCE;

/** Roles and tablespaces a fresh cluster has anyway: not part of what the globals restore. */
const OWN_ROLES = "rolname !~ '^pg_'";
const OWN_TABLESPACES = "spcname NOT IN ('pg_default', 'pg_global')";

/**
 * The cluster's globals: `pg_dumpall --globals-only` (roles, memberships, role settings,
 * tablespaces) as plain SQL. Where the role may not read pg_authid (managed services), with
 * `--no-role-passwords`, and the manifest says so (`rolePasswords: false`).
 */
export function globalsSource(settings: { db: DatabaseConfig; pgBinDir?: string }): Source {
  const { db } = settings;
  return {
    kind: 'postgres-globals',
    name: GLOBALS_NAME,
    format: '.sql',
    describe: () => `globals of ${db.host}:${db.port}`,
    preflight: () => withClient(db, async () => undefined),
    snapshot: () => snapshotGlobals(settings),
    async restoreScratch(file, target, manifest, options) {
      if (!target.admin) throw new UsageError(ROLES_NEED_OWN_CLUSTER);
      const started = Date.now();
      const psql = await findBinaryFor('psql', postgresFacts(manifest).server.major, settings.pgBinDir);
      await applyGlobals(psql, file, target.admin, { skipTablespaces: true, signal: options.signal });
      return Date.now() - started;
    },
    verifyRestored: (target, manifest) => checkGlobals(target, manifest),
  };
}

async function snapshotGlobals({ db, pgBinDir }: { db: DatabaseConfig; pgBinDir?: string }): Promise<SourceSnapshot> {
  const client = await connect(db);
  try {
    const server = await serverVersion(client);
    // pg_authid (the password hashes) is for superusers only; managed services keep it from everyone.
    const rolePasswords = (await client.query<{ ok: boolean }>("SELECT has_table_privilege('pg_authid', 'SELECT') AS ok")).rows[0]!.ok;
    const inventory = await readGlobalsInventory(client);
    const pgDumpall = chooseBinaryFor('pg_dumpall', await findPgBinaries('pg_dumpall', { pgBinDir }), server.major);
    const args = ['--globals-only', '--no-password', ...(rolePasswords ? [] : ['--no-role-passwords'])];
    return {
      facts: {
        database: db.database,
        host: db.host,
        server: { version: server.version, major: server.major },
        pgDump: { version: pgDumpall.version, major: pgDumpall.major, args },
        archiveFormat: 'plain',
        rolePasswords,
      },
      // Globals are not transactional: read just before pg_dumpall, they match unless roles change meanwhile.
      readInventory: async () => inventory,
      dump: (stdout) => spawnChild(pgDumpall.path, [...args, `--database=${db.database}`], { env: libpqEnv(db), stdout, stderrTailBytes: 8192 }),
      release: async () => undefined,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function readGlobalsInventory(client: pg.Client): Promise<Inventory> {
  const roles = await client.query<{ name: string }>(`SELECT rolname AS name FROM pg_roles WHERE ${OWN_ROLES} ORDER BY 1`);
  const tablespaces = await client.query<{ name: string }>(`SELECT spcname AS name FROM pg_tablespace WHERE ${OWN_TABLESPACES} ORDER BY 1`);
  return { schemas: [], extensions: [], tables: [], sequences: [], roles: roles.rows.map((row) => row.name), tablespaces: tablespaces.rows.map((row) => row.name) };
}

/**
 * Applies stored globals (a plain SQL file) to a server as the `admin` role: roles that exist are
 * not created again, the admin role's own attributes are left alone (apply-plan.ts). Returns the
 * notes on what was left out.
 */
export async function applyGlobals(psql: PgBinary, file: string, admin: DatabaseConfig, options: { skipTablespaces: boolean; signal?: AbortSignal }): Promise<string[]> {
  const existingRoles = await withClient(admin, async (client) => new Set((await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((row) => row.rolname)));
  const plan = planGlobalsApply(await readFile(file, 'utf8'), { existingRoles, self: admin.user, skipTablespaces: options.skipTablespaces });
  const planned = `${file}.apply.sql`;
  await writeFile(planned, plan.sql, { mode: 0o600 });
  const child = spawnChild(psql.path, ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--no-password', `--dbname=${admin.database}`, `--file=${planned}`], { env: libpqEnv(admin), stdout: 'ignore', stderrTailBytes: 8192 });
  await succeededUnlessAborted(child, options.signal);
  return plan.skipped;
}

/** Every role the globals held exists on the target (tablespaces are noted, not created, on a scratch target). */
async function checkGlobals(target: ScratchTarget, manifest: Manifest): Promise<RestoreCheck> {
  return withClient(target.admin ?? scratchDatabase(target), async (client) => {
    const present = new Set((await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((row) => row.rolname));
    const roles = manifest.inventory.roles ?? [];
    const problems = roles.filter((role) => !present.has(role)).map((role) => `role ${role} is missing`);
    const notes = (manifest.inventory.tablespaces ?? []).map((name) => `tablespace ${name} not created here: its folder exists only on the source's host`);
    if (manifest.rolePasswords === false) notes.push('role passwords were not backed up (the backup role may not read them; --no-role-passwords): set them again after a restore');
    return { ok: problems.length === 0, tables: [], problems, notes: [`${roles.length - problems.length} of ${roles.length} roles restored`, ...notes], restoredBytes: 0 };
  });
}
