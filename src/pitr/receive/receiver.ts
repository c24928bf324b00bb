import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseConfig } from '../../config';
import { coerceError } from '../../errors';
import type { Logger } from '../../log';
import { chooseBinaryFor, findPgBinaries, type PgBinary } from '../../postgres/binaries';
import { libpqEnv, serverVersion, withClient } from '../../postgres/connection';
import { describeExit, spawnChild, type ChildHandle } from '../../process/run-process';
import { DEFAULT_SEGMENT_BYTES, parseWalName } from '../wal-names';
import type { WalStatusKeeper } from './status-keeper';

export interface ReceiverOptions {
  database: DatabaseConfig;
  slot: string;
  spoolDir: string;
  pgBinDir?: string;
  log: Logger;
  status: WalStatusKeeper;
  /** First restart delay, doubled up to maxBackoffMs; back to the first after streamingResetMs of streaming. */
  backoffMs?: number;
  maxBackoffMs?: number;
  streamingResetMs?: number;
  /** Streaming shorter than this before it fails again does not end an outage (it is still news). */
  stableStreamingMs?: number;
}

export interface Receiver {
  /** The pg_receivewal streaming now, if any (tests kill it to prove the restart). */
  current(): ChildHandle | undefined;
  /** SIGTERM to pg_receivewal (it flushes what it received), no restart; resolves once it has exited. */
  stop(): Promise<void>;
}

/** How long stop() waits for pg_receivewal to flush and exit (or a connection attempt to give up). */
const STOP_WAIT_MS = 10_000;

/** pg_receivewal -v says this once it streams. */
const STREAMING = /starting log streaming at/;

/**
 * Keeps `pg_receivewal` streaming from the replication slot into the spool: creates the slot when
 * missing, restarts the child whenever it exits (server gone, connection cut, killed) after a
 * backoff, and tells the status file whether it streams and, when not, why. The password reaches
 * the child through its environment only.
 */
export function startReceiver(options: ReceiverOptions): Receiver {
  const { log, status } = options;
  const firstBackoff = options.backoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const resetAfter = options.streamingResetMs ?? 60_000;
  const stableMs = options.stableStreamingMs ?? 10_000;
  const env = { ...libpqEnv(options.database), PGAPPNAME: 'keepsake-wal' };
  let stopping = false;
  let child: ChildHandle | undefined;
  let wake: (() => void) | undefined;
  let binary: (PgBinary & { segmentBytes: number }) | undefined;

  // When it last streamed for good: a child that fails right after it starts does not end an outage.
  let downSince = status.status.receiver.since;
  const markDown = (reason: string, streamedMs: number) =>
    status.update((s) => {
      if (streamedMs >= stableMs) downSince = new Date().toISOString();
      s.receiver = { state: 'down', since: downSince, lastError: reason, restarts: s.receiver.restarts };
    });

  async function runOnce(): Promise<{ streamedMs: number }> {
    const server = (binary ??= await receivewalFor(options.database, options.pgBinDir));
    await prepareSpool(options.spoolDir);
    for (const cut of await dropCutPreallocations(options.spoolDir, server.segmentBytes)) {
      log.warn({ file: cut.name, bytes: cut.bytes }, 'removed a WAL file pg_receivewal was still preallocating when it was stopped (it holds no WAL; the slot kept the server\'s copy)');
    }
    child = spawnChild(server.path, ['--create-slot', '--if-not-exists', '--slot', options.slot], { env, stdout: 'ignore' });
    await child.succeeded().finally(() => (child = undefined));
    if (stopping) return { streamedMs: 0 };
    let streamingAt: number | undefined;
    const handle = spawnChild(server.path, ['-D', options.spoolDir, '--slot', options.slot, '--no-loop', '--status-interval', '10', '-v'], { env, stdout: 'ignore', stopSignal: 'SIGTERM' });
    child = handle;
    handle.child.stderr?.on('data', (chunk: Buffer) => {
      if (streamingAt !== undefined || !STREAMING.test(chunk.toString('utf8'))) return;
      streamingAt = Date.now();
      log.info({ slot: options.slot, spoolDir: options.spoolDir }, 'WAL streaming');
      status.update((s) => {
        s.receiver = { state: 'streaming', since: new Date(streamingAt!).toISOString(), restarts: s.receiver.restarts };
      });
    });
    const result = await handle.finished;
    child = undefined;
    const streamedMs = streamingAt === undefined ? 0 : Date.now() - streamingAt;
    if (!stopping) markDown(`pg_receivewal ${describeExit(result)}${lastWords(result.stderrTail)}`, streamedMs);
    return { streamedMs };
  }

  const loop = (async () => {
    let backoff = firstBackoff;
    while (!stopping) {
      let streamedMs = 0;
      try {
        ({ streamedMs } = await runOnce());
      } catch (error) {
        if (!stopping) markDown(coerceError(error).message, 0);
      }
      if (stopping) break;
      if (streamedMs >= resetAfter) backoff = firstBackoff;
      log.warn({ slot: options.slot, error: status.status.receiver.lastError, retryInMs: backoff }, 'WAL streaming stopped; restarting pg_receivewal');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff);
        wake = () => (clearTimeout(timer), resolve());
      });
      wake = undefined;
      backoff = Math.min(backoff * 2, maxBackoff);
      if (!stopping) status.update((s) => (s.receiver.restarts += 1));
    }
    status.update((s) => {
      s.receiver = { state: 'stopped', since: new Date().toISOString(), restarts: s.receiver.restarts };
    });
  })();

  return {
    current: () => child,
    async stop() {
      stopping = true;
      wake?.();
      child?.kill('SIGTERM');
      // A connection attempt to a server that does not answer can take minutes: the daemon does not wait for it.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([loop.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_WAIT_MS)))]);
      clearTimeout(timer);
      if (gaveUp) {
        child?.kill('SIGKILL');
        status.update((s) => (s.receiver = { state: 'stopped', since: new Date().toISOString(), restarts: s.receiver.restarts }));
      }
    },
  };
}

/** The pg_receivewal of the server's major when installed, else the newest that is newer; and the server's WAL segment size. */
async function receivewalFor(database: DatabaseConfig, pgBinDir?: string): Promise<PgBinary & { segmentBytes: number }> {
  const { major, segmentBytes } = await withClient(database, async (client) => {
    const { rows } = await client.query<{ bytes: string }>("SELECT setting AS bytes FROM pg_settings WHERE name = 'wal_segment_size'");
    return { major: (await serverVersion(client)).major, segmentBytes: Number(rows[0]?.bytes ?? DEFAULT_SEGMENT_BYTES) };
  });
  const installed = await findPgBinaries('pg_receivewal', { pgBinDir });
  return { ...(installed.find((binary) => binary.major === major) ?? chooseBinaryFor('pg_receivewal', installed, major)), segmentBytes };
}

/**
 * pg_receivewal fills a new segment file with zeros to its full size before it writes any WAL
 * into it, and refuses to start next to one cut short there (killed mid-way). Such a file holds
 * no WAL: it goes, and pg_receivewal starts that segment again from the server, whose slot kept it.
 */
async function dropCutPreallocations(dir: string, segmentBytes: number): Promise<{ name: string; bytes: number }[]> {
  const dropped: { name: string; bytes: number }[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.partial') || !parseWalName(name, segmentBytes)) continue;
    const { size } = await stat(join(dir, name));
    if (size === 0 || size === segmentBytes) continue;
    await rm(join(dir, name), { force: true });
    dropped.push({ name, bytes: size });
  }
  return dropped;
}

/** The spool is keepsake's alone: WAL holds every row written, so only its owner may read it. */
export async function prepareSpool(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** The end of pg_receivewal's stderr as a reason: its last lines, without the progress chatter. */
function lastWords(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/finished segment|switched to timeline|starting log streaming/.test(line));
  const tail = lines.slice(-3).join('; ');
  return tail ? `: ${tail}` : '';
}
