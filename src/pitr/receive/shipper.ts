import { watch, type FSWatcher } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { COMPRESSED_SUFFIX } from '../../backup/keys';
import { encryptionOf } from '../../encryption/age-stages';
import { coerceError } from '../../errors';
import type { Logger } from '../../log';
import type { Storage } from '../../storage';
import { storeWalFile, type WalArchiveConfig } from '../wal-archive';
import { parseWalName, walDataKey, walManifestKey, type WalFileName } from '../wal-names';
import { scanSpool, type SpoolFile, type SpoolScan } from './spool';
import type { WalStatusKeeper } from './status-keeper';

export interface ShipperOptions {
  /** The primary targets: every one must hold a file before it leaves the spool. */
  storages: Storage[];
  archive: WalArchiveConfig;
  spoolDir: string;
  /** WAL_SHIP_INTERVAL: the partial segment ships at least this often while it changes. */
  shipIntervalMs: number;
  log: Logger;
  status: WalStatusKeeper;
  pollMs?: number;
  /** Files stored at once (each is compressed by its own zstd). */
  concurrency?: number;
  /** After a failed store: retry after this, doubled up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface Shipper {
  /** Ships what is complete (and the partial as it is) within graceMs, then stops; what is left waits in the spool. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Moves WAL from the spool to the archive: completed files oldest first, each stored on every
 * primary (wal-archive.ts: compressed, [encrypted], hashed, manifest last) and only then removed;
 * the growing partial segment every WAL_SHIP_INTERVAL when it changed. A target that fails holds
 * the spool back: the same files are retried, in order, after a backoff; nothing is skipped.
 */
export function startShipper(options: ShipperOptions): Shipper {
  const { log, status } = options;
  const pollMs = options.pollMs ?? 1_000;
  const firstBackoff = options.backoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  let backoff = firstBackoff;
  let retryAt = 0;
  let stopping = false;
  let lastPartial: { name: string; bytes: number; mtimeMs: number; at: number } | undefined;
  let wake: (() => void) | undefined;

  let watcher: FSWatcher | undefined;
  try {
    // A hint only: the poll finds everything anyway (watch is not reliable on every file system).
    watcher = watch(options.spoolDir, () => wake?.());
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }

  const sameAsShipped = (partial: SpoolFile) => lastPartial?.name === partial.file.name && lastPartial.bytes === partial.bytes && lastPartial.mtimeMs === partial.mtimeMs;

  async function shipComplete(files: SpoolFile[]): Promise<void> {
    let next = 0;
    let shippedPrefix = 0;
    let failure: unknown;
    const done = new Set<number>();
    const worker = async () => {
      while (failure === undefined && next < files.length) {
        const index = next++;
        const entry = files[index]!;
        try {
          await storeWalFile(options.storages, options.archive, entry.file, entry.path);
          if (entry.file.kind === 'segment') await dropArchivedPartial(options.storages, options.archive, entry.file);
          await rm(entry.path, { force: true });
        } catch (error) {
          failure ??= error;
          return;
        }
        done.add(index);
        // The status names the newest file with nothing missing before it: the archive is whole up to there.
        for (; done.has(shippedPrefix); shippedPrefix++) {
          const file = files[shippedPrefix]!.file;
          if (file.kind === 'segment') status.update((s) => (s.lastShipped = { name: file.name, timeline: file.timeline, at: new Date().toISOString() }));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 2, files.length) }, worker));
    if (failure !== undefined) throw failure;
  }

  async function shipPartial(partial: SpoolFile): Promise<void> {
    try {
      const stored = await storeWalFile(options.storages, options.archive, partial.file, partial.path);
      lastPartial = { name: partial.file.name, bytes: partial.bytes, mtimeMs: partial.mtimeMs, at: Date.now() };
      status.update((s) => (s.partial = { name: partial.file.name, shippedAt: stored.manifest.shippedAt }));
    } catch (error) {
      // Completed and renamed while being read: the segment itself ships on the next pass.
      if (!(await stat(partial.path).catch(() => undefined))) return;
      throw error;
    }
  }

  async function pass(final: boolean): Promise<void> {
    const scan = await scanSpool(options.spoolDir);
    if (!final && Date.now() < retryAt) return noteSpool(scan);
    try {
      await shipComplete(scan.complete);
      const partial = scan.partial;
      const due = partial && !sameAsShipped(partial) && (final || !lastPartial || Date.now() - lastPartial.at >= options.shipIntervalMs);
      if (partial && due) await shipPartial(partial);
      if (status.status.shipError) log.info('WAL shipping works again');
      backoff = firstBackoff;
      status.update((s) => {
        s.shipError = undefined;
        s.shipFailingSince = undefined;
        // Caught up with a receiver that streams: one that is down may have WAL the archive lacks.
        if (s.receiver.state === 'streaming' && (!partial || sameAsShipped(partial))) s.caughtUpAt = new Date().toISOString();
      });
    } catch (error) {
      const message = coerceError(error).message;
      retryAt = Date.now() + backoff;
      log.warn({ error: message, retryInMs: backoff }, 'could not archive WAL; the files wait in the spool');
      backoff = Math.min(backoff * 2, maxBackoff);
      status.update((s) => {
        s.shipError = message;
        s.shipFailingSince ??= new Date().toISOString();
      });
    }
    noteSpool(await scanSpool(options.spoolDir).catch(() => scan));
  }

  function noteSpool(scan: SpoolScan): void {
    status.update((s) => (s.spool = { files: scan.files, bytes: scan.bytes, ...(scan.oldest ? { oldest: scan.oldest } : {}) }));
  }

  const loop = (async () => {
    while (!stopping) {
      await pass(false).catch((error) => log.error({ err: coerceError(error) }, 'cannot read the WAL spool'));
      if (stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => (clearTimeout(timer), resolve());
      });
      wake = undefined;
    }
  })();

  return {
    async stop(graceMs) {
      stopping = true;
      watcher?.close();
      wake?.();
      // The pass under way, then one more that ships what is complete and the partial as it is: within the grace.
      const finish = loop.then(() => pass(true)).catch((error) => log.error({ err: coerceError(error) }, 'cannot read the WAL spool'));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const outcome = await Promise.race([finish, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') log.warn({ spool: status.status.spool }, 'shutdown grace over: the WAL left in the spool ships at the next start');
    },
  };
}

/** Once a segment is archived its partial copy is not needed: its manifest goes first, so no reader takes a half-deleted one. */
async function dropArchivedPartial(storages: Storage[], archive: WalArchiveConfig, segment: WalFileName): Promise<void> {
  const partial = parseWalName(`${segment.name}.partial`)!;
  const dataKey = walDataKey(partial, COMPRESSED_SUFFIX[archive.compression.algorithm], Boolean(encryptionOf(archive.encryption)));
  await Promise.all(
    storages.map(async (storage) => {
      await storage.delete(walManifestKey(partial));
      await storage.delete(dataKey);
    }),
  );
}
