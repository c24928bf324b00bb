/**
 * PostgreSQL's restore_command during a keepsake recovery: `node wal-fetch-client.js %f %p <socket>`.
 * Asks keepsake's WAL server (src/pitr/recover/wal-server.ts) on a Unix socket for one WAL file and
 * writes it to %p atomically. It holds no credentials: keepsake reads the targets.
 * Exit 0: written; 1: not archived (PostgreSQL then ends recovery or tries the next timeline);
 * 2: anything else (keepsake notes the failure and fails the recovery).
 * Standalone on purpose: node's own modules only, so it starts fast for every segment.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { request } from 'node:http';

const [name, destination, socketPath] = process.argv.slice(2);

async function fetchWal(): Promise<number> {
  if (!name || !destination || !socketPath) {
    process.stderr.write('usage: wal-fetch-client.js <wal file name> <destination path> <socket>\n');
    return 2;
  }
  const temp = `${destination}.keepsake-tmp`;
  return new Promise<number>((resolve) => {
    const req = request({ socketPath, path: `/wal/${encodeURIComponent(name)}`, method: 'GET' }, (res) => {
      if (res.statusCode === 404) {
        res.resume();
        return resolve(1);
      }
      if (res.statusCode !== 200) {
        process.stderr.write(`keepsake could not serve ${name}: HTTP ${res.statusCode}\n`);
        res.resume();
        return resolve(2);
      }
      const expected = Number(res.headers['content-length']);
      let received = 0;
      const out = createWriteStream(temp, { mode: 0o600 });
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.pipe(out);
      const fail = (why: string) => {
        process.stderr.write(`fetching ${name} from keepsake failed: ${why}\n`);
        void rm(temp, { force: true }).then(() => resolve(2));
      };
      res.on('error', (error) => fail(error.message));
      out.on('error', (error) => fail(error.message));
      out.on('finish', () => {
        if (received !== expected) return fail(`got ${received} of ${expected} bytes`);
        rename(temp, destination).then(() => resolve(0), (error: Error) => fail(error.message));
      });
    });
    req.on('error', (error) => {
      process.stderr.write(`cannot reach keepsake's WAL server at ${socketPath}: ${error.message}\n`);
      resolve(2);
    });
    req.end();
  });
}

void fetchWal().then((code) => process.exit(code));
