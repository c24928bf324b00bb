import { chown, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import type { EncryptionConfig } from '../../config';
import { NotFoundError, coerceError } from '../../errors';
import type { Logger } from '../../log';
import type { Storage } from '../../storage';
import { readWalFile } from '../wal-archive';
import { nextSegmentName, parseWalName, type WalFileName } from '../wal-names';

export interface WalServer {
  readonly socketPath: string;
  /** WAL files that could not be read from any target (damaged or unreachable): the recovery must fail. */
  readonly failures: string[];
  /** How many files were served, and whether the last one was a partial segment. */
  readonly served: { files: number; bytes: number; lastName?: string };
  close(): Promise<void>;
}

/** Reads one archived WAL file whole from the first target that has it intact; undefined when none holds it. */
async function readFromTargets(storages: readonly Storage[], file: WalFileName, encryption: EncryptionConfig, failures: string[]): Promise<Buffer | undefined> {
  const problems: string[] = [];
  for (const storage of storages) {
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (chunks.push(chunk), done()) });
    try {
      await readWalFile(storage, file, sink, encryption);
      return Buffer.concat(chunks);
    } catch (error) {
      if (!(error instanceof NotFoundError)) problems.push(`${storage.name}: ${coerceError(error).message}`);
    }
  }
  if (problems.length) failures.push(`${file.name}: ${problems.join('; ')}`);
  return undefined;
}

/**
 * Serves archived WAL to a recovering PostgreSQL's restore_command (wal-fetch-client.ts) over a
 * Unix socket that only the cluster's owner can reach, for the duration of one recovery. Keepsake
 * reads the targets, cheapest first, so the postgres child and its restore_command hold no
 * credentials. A segment that is not archived whole is served from its `.partial` when that is
 * archived: the newest WAL, shipped every WAL_SHIP_INTERVAL.
 */
export async function startWalServer(options: { storages: readonly Storage[]; encryption: EncryptionConfig; socketPath: string; owner?: { uid: number; gid: number }; log: Logger }): Promise<WalServer> {
  const { storages, encryption, socketPath, log } = options;
  const failures: string[] = [];
  const served: WalServer['served'] = { files: 0, bytes: 0 };
  // While PostgreSQL replays one segment, the next is read from the target: fetching overlaps replay.
  const ahead = new Map<string, Promise<Buffer | undefined>>();
  const read = async (name: string): Promise<Buffer | undefined> => {
    const early = ahead.get(name);
    ahead.delete(name);
    // A read ahead that found nothing is done again, so a damaged file's failure is recorded.
    return (early && (await early)) || readFromTargets(storages, parseWalName(name)!, encryption, failures);
  };
  const readAhead = (name: string) => {
    const next = nextSegmentName(name);
    if (ahead.has(next)) return;
    ahead.clear();
    const reading = readFromTargets(storages, parseWalName(next)!, encryption, []);
    reading.catch(() => undefined);
    ahead.set(next, reading);
  };
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/wal\//, ''));
    const file = parseWalName(name);
    if (!file || file.kind === 'partial') {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      let bytes = await read(name);
      let sent = name;
      if (!bytes && file.kind === 'segment') {
        bytes = await readFromTargets(storages, parseWalName(`${name}.partial`)!, encryption, failures);
        sent = `${name}.partial`;
      }
      if (bytes && sent === name && file.kind === 'segment') readAhead(name);
      if (!bytes) {
        log.debug({ wal: name }, 'WAL file not archived');
        res.writeHead(failures.some((failure) => failure.startsWith(name)) ? 500 : 404).end();
        return;
      }
      served.files += 1;
      served.bytes += bytes.length;
      served.lastName = sent;
      log.debug({ wal: sent, bytes: bytes.length }, 'served WAL file to the recovering server');
      res.writeHead(200, { 'content-length': bytes.length, 'content-type': 'application/octet-stream' }).end(bytes);
    })().catch((error: unknown) => {
      failures.push(`${name}: ${coerceError(error).message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The recovering server runs as its own user (postgres when keepsake is root): the socket is its alone.
  if (options.owner) await chown(socketPath, options.owner.uid, options.owner.gid);
  return {
    socketPath,
    failures,
    served,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
}
