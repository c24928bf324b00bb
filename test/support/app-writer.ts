import pg from 'pg';
import type { DatabaseConfig } from '../../src/config';

export interface WriteAttempt {
  /** The value inserted: attempts are numbered in order, so a row tells when it was written. */
  n: number;
  ok: boolean;
  code?: string;
  message?: string;
}

export interface AppWriter {
  readonly attempts: WriteAttempt[];
  /** The values whose INSERT was acknowledged (committed). */
  acked(): number[];
  /** Resolves once `count` more inserts were acknowledged; rejects if the writer cannot write for `timeoutMs`. */
  moreAcks(count: number, timeoutMs?: number): Promise<number[]>;
  /** Resolves once `count` more attempts were made, whatever their outcome. */
  moreAttempts(count: number): Promise<WriteAttempt[]>;
  stop(): Promise<WriteAttempt[]>;
}

/**
 * An application as a database sees it: a fresh connection every 20 ms (a pool reconnecting after
 * its connections were terminated), each inserting one row into `table (n int)`, forever.
 */
export function startAppWriter(db: DatabaseConfig, table: string, firstN: number): AppWriter {
  const attempts: WriteAttempt[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let n = firstN; !stopped; n++) {
      const client = new pg.Client({ ...db, connectionTimeoutMillis: 5_000 });
      client.on('error', () => undefined);
      const attempt: WriteAttempt = { n, ok: false };
      try {
        await client.connect();
        await client.query(`INSERT INTO ${table} (n) VALUES ($1)`, [n]);
        attempt.ok = true;
      } catch (error) {
        attempt.code = (error as { code?: string }).code;
        attempt.message = (error as Error).message;
      } finally {
        await client.end().catch(() => undefined);
      }
      attempts.push(attempt);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const acked = () => attempts.filter((attempt) => attempt.ok).map((attempt) => attempt.n);
  const waitFor = async (done: () => boolean, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`the app writer did not get ${what} within ${timeoutMs} ms; last attempt: ${JSON.stringify(attempts.at(-1))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return {
    attempts,
    acked,
    async moreAcks(count, timeoutMs = 30_000) {
      const start = acked().length;
      await waitFor(() => acked().length >= start + count, timeoutMs, `${count} more acknowledged inserts`);
      return acked().slice(start);
    },
    async moreAttempts(count) {
      const start = attempts.length;
      await waitFor(() => attempts.length >= start + count, 30_000, `${count} more attempts`);
      return attempts.slice(start);
    },
    async stop() {
      stopped = true;
      await loop;
      return attempts;
    },
  };
}

/**
 * What a client may see while a database is swapped under it: its session terminated, the database
 * not accepting connections, or briefly missing between the two renames. Anything else (a query
 * error, a missing table) means the application ran into a half-restored database.
 */
export function isConnectionRefusal(attempt: WriteAttempt): boolean {
  return ['57P01', '55000', '3D000'].includes(attempt.code ?? '') || /Connection terminated/.test(attempt.message ?? '');
}
