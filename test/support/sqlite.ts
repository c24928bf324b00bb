import { spawn, spawnSync } from 'node:child_process';

/** Runs statements on a SQLite file with the sqlite3 tool, as an application or an operator would; returns stdout. */
export function sqlite(file: string, ...statements: string[]): string {
  const result = spawnSync('sqlite3', ['-batch', '-bail', file, '.timeout 20000', ...statements], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sqlite3 ${file} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

export const count = (file: string, table: string): number => Number(sqlite(file, `SELECT count(*) FROM ${table}`).trim());

/**
 * An application's database: `orders` and `order_lines`, two lines per order written in one
 * transaction, so any consistent copy has exactly twice as many lines as orders. `rows` orders of
 * 1 kB each make it big enough (about 1 kB * rows) that copying it takes many backup steps.
 */
export function createShop(file: string, journalMode: 'wal' | 'delete', rows: number): void {
  sqlite(
    file,
    `PRAGMA journal_mode=${journalMode}`,
    'CREATE TABLE orders (n INTEGER PRIMARY KEY, payload BLOB NOT NULL)',
    'CREATE TABLE order_lines (order_n INTEGER NOT NULL REFERENCES orders (n), qty INTEGER NOT NULL)',
    `WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ${rows}) INSERT INTO orders SELECT n, randomblob(1000) FROM k`,
    'INSERT INTO order_lines SELECT n, 1 FROM orders UNION ALL SELECT n, 2 FROM orders',
  );
}

export interface ShopWriter {
  /** How many transactions committed so far (each acknowledged by the tool after COMMIT). */
  acked(): number;
  /** Resolves once `more` further transactions have committed. */
  moreAcks(more: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An application writing continuously: one sqlite3 process, one transaction after another (an
 * order and its two lines), the next sent as soon as the previous one is acknowledged.
 */
export function startShopWriter(file: string, firstN: number): ShopWriter {
  const child = spawn('sqlite3', ['-batch', file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let acks = 0;
  let stderr = '';
  let n = firstN;
  let stopping = false;
  const next = () => {
    if (stopping) return;
    const k = n++;
    child.stdin.write(`BEGIN IMMEDIATE; INSERT INTO orders VALUES (${k}, randomblob(1000)); INSERT INTO order_lines VALUES (${k}, 1), (${k}, 2); COMMIT; SELECT 'ack';\n`);
  };
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line !== 'ack') continue;
      acks++;
      next();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.stdin.write('.timeout 20000\n');
  next();
  return {
    acked: () => acks,
    async moreAcks(more, timeoutMs = 30_000) {
      const target = acks + more;
      const deadline = Date.now() + timeoutMs;
      while (acks < target) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the writer committed ${acks} of ${target} transactions; sqlite3 said: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (stderr) throw new Error(`the writer failed: ${stderr}`);
    },
    async stop() {
      stopping = true;
      child.stdin.end();
      await exited;
    },
  };
}
