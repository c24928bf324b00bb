import pg from 'pg';
import type { DatabaseConfig } from '../config';
import { coerceError } from '../errors';
import { SESSIONS_TO_END, withMaintenance } from './target-database';

/**
 * How long one step may wait for a lock held elsewhere (a long transaction that touched the
 * database, say) while the application is locked out: better to undo the swap than to hang.
 */
const LOCK_TIMEOUT = '3s';
/** How long terminated sessions get to go away before the swap gives up. */
const SESSIONS_GONE_MS = 5_000;

const ident = pg.escapeIdentifier;

/** A step's SQL in front of the server's message, so a failure says which step it was. */
async function step(admin: pg.Client, sql: string): Promise<void> {
  try {
    await admin.query(sql);
  } catch (error) {
    throw new Error(`${sql}: ${coerceError(error).message}`, { cause: error });
  }
}

async function onMaintenance<T>(target: DatabaseConfig, use: (admin: pg.Client) => Promise<T>): Promise<T> {
  return withMaintenance(target, async (admin) => {
    await admin.query(`SET lock_timeout = '${LOCK_TIMEOUT}'`);
    return use(admin);
  });
}

/**
 * Ends every session in `database` and waits until they are gone; with connections refused, a
 * client that reconnects at once cannot come back. A session the role may not end (checked
 * beforehand by missingRights; one may have come since) is left: if it is still there, the rename
 * or drop fails and is undone.
 */
async function endSessions(admin: pg.Client, database: string): Promise<void> {
  const deadline = Date.now() + SESSIONS_GONE_MS;
  const mayNotEnd = new Set<number>();
  for (;;) {
    const { rows } = await admin.query<{ pid: number }>(`SELECT a.pid FROM pg_stat_activity a WHERE ${SESSIONS_TO_END}`, [database]);
    const left = rows.filter((row) => !mayNotEnd.has(row.pid));
    if (!left.length) return;
    if (Date.now() > deadline) throw new Error(`${left.length} session(s) connected to ${database} did not end within ${SESSIONS_GONE_MS / 1000} s of being terminated`);
    for (const { pid } of left) {
      try {
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      } catch (error) {
        if ((error as { code?: string }).code !== '42501') throw error;
        mayNotEnd.add(pid);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const refuse = (name: string) => `ALTER DATABASE ${ident(name)} ALLOW_CONNECTIONS false`;
const allow = (name: string) => `ALTER DATABASE ${ident(name)} ALLOW_CONNECTIONS true`;
const rename = (from: string, to: string) => `ALTER DATABASE ${ident(from)} RENAME TO ${ident(to)}`;

/** A step on the server failed: the cause, and what state it left the target in. */
export class StepFailed extends Error {
  constructor(
    readonly failure: Error,
    /** What the target is now, in a sentence for the user. */
    readonly aftermath: string,
    /** The target is as it was (untouched, or put back): the restored copy is of no further use. */
    readonly undone = true,
  ) {
    super(failure.message, { cause: failure });
  }
}

/**
 * Puts the restored copy in the target's place and keeps the target under `kept`. ALTER DATABASE
 * cannot run in a transaction block and RENAME refuses while anyone is connected, so these are
 * separate statements on one maintenance session, in this order:
 *   0. end any session in the copy             (nobody knows its name; a stray one would stop step 4)
 *   1. refuse connections to the target        (ALLOW_CONNECTIONS false: superusers too, unlike CONNECTION LIMIT)
 *   2. end the target's sessions, wait for them to go
 *   3. rename the target to `kept`             (from here until 4 the target's name is missing: clients get "does not exist")
 *   4. rename the copy to the target's name    (the swap is done: clients connect to the restored data)
 *   5. allow connections to `kept`             (so its data, the app's writes since the backup, can be read)
 * Privileges: 1, 3 and 5 need ownership of the database (or superuser), 3 and 4 CREATEDB too, 2
 * superuser, pg_signal_backend or the sessions' roles (see missingRights).
 * A failure in 0-3 re-allows the target under its own name; in 4, renames `kept` back first. Either
 * way the target is in place at every moment but the short 3-4 window, never neither. A failure in
 * 5 leaves the swap done and is returned as a warning.
 */
export async function swapIn(target: DatabaseConfig, copy: string, kept: string): Promise<{ warning?: string }> {
  const live = target.database;
  let refused = false;
  let renamed = false;
  try {
    await onMaintenance(target, async (admin) => {
      await endSessions(admin, copy);
      await step(admin, refuse(live));
      refused = true;
      await endSessions(admin, live);
      await step(admin, rename(live, kept));
      renamed = true;
      await step(admin, rename(copy, live));
    });
  } catch (error) {
    const cause = coerceError(error);
    if (!refused) throw new StepFailed(cause, `${live} was not touched.`);
    const undo = [...(renamed ? [rename(kept, live)] : []), allow(live)];
    try {
      await onMaintenance(target, async (admin) => {
        for (const sql of undo) await step(admin, sql);
      });
    } catch (undoError) {
      const state = renamed ? `${live} is now named ${kept} and refuses connections` : `${live} refuses connections`;
      throw new StepFailed(cause, `Undoing it ALSO failed (${coerceError(undoError).message}): ${state}; put it back by hand: ${undo.join('; ')};`, false);
    }
    throw new StepFailed(cause, `${live} was ${renamed ? 'renamed back and accepts' : 'not renamed and accepts'} connections again: it is as it was, with every write made meanwhile.`);
  }
  try {
    await onMaintenance(target, (admin) => step(admin, allow(kept)));
    return {};
  } catch (error) {
    return { warning: `${kept} still refuses connections (${coerceError(error).message}); to read it: ${allow(kept)};` };
  }
}

/** Renames the checked copy to the target's name, where no database of that name exists. */
export async function renameInto(target: DatabaseConfig, copy: string): Promise<void> {
  await onMaintenance(target, async (admin) => {
    await endSessions(admin, copy);
    await step(admin, rename(copy, target.database));
  });
}

/**
 * --in-place: refuses connections to the target, ends its sessions and drops it. On failure the
 * target accepts connections again, under its name, as it was.
 */
export async function dropTarget(target: DatabaseConfig, serverMajor: number): Promise<void> {
  const live = target.database;
  let refused = false;
  try {
    await onMaintenance(target, async (admin) => {
      await step(admin, refuse(live));
      refused = true;
      await endSessions(admin, live);
      await step(admin, `DROP DATABASE ${ident(live)}${serverMajor >= 13 ? ' WITH (FORCE)' : ''}`);
    });
  } catch (error) {
    const cause = coerceError(error);
    if (!refused) throw new StepFailed(cause, `${live} was not touched.`);
    try {
      await onMaintenance(target, (admin) => step(admin, allow(live)));
    } catch (undoError) {
      throw new StepFailed(cause, `${live} was not dropped, but it refuses connections (${coerceError(undoError).message}): ${allow(live)};`, false);
    }
    throw new StepFailed(cause, `${live} was not dropped and accepts connections again: it is as it was.`);
  }
}

/** Drops a copy keepsake made; says how to drop it by hand when it cannot. */
export async function dropCopy(target: DatabaseConfig, copy: string): Promise<string> {
  const sql = `DROP DATABASE ${ident(copy)}`;
  try {
    await onMaintenance(target, async (admin) => {
      await endSessions(admin, copy);
      await step(admin, `DROP DATABASE IF EXISTS ${ident(copy)}`);
    });
    return `The restored copy ${copy} was dropped.`;
  } catch (error) {
    return `The restored copy could not be dropped (${coerceError(error).message}); drop it by hand: ${sql};`;
  }
}
