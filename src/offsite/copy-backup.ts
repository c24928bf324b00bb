import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { DigestStream } from '../backup/digest';
import { manifestKeyFor } from '../backup/keys';
import type { Manifest } from '../backup/manifest';
import { writeManifests } from '../backup/write-manifests';
import { InterruptedError, StorageError, coerceError } from '../errors';
import type { Logger } from '../log';
import type { Storage } from '../storage';
import { copiesByReadCost, type CatalogEntry } from '../catalog/catalog';

/** How one backup reached the destination. */
export interface CopyDone {
  method: 'server-side' | 'streamed';
  /** The target whose copy was read. */
  from: string;
  /** Source copies passed over on the way, and why ("corrupted on s3: ..."). */
  skipped: string[];
}

/**
 * The destination failed (unreachable, full, refused the write): the copy cannot succeed from any
 * source, and the next backups probably cannot either.
 */
export class DestinationError extends StorageError {}

/** No source copy could be copied intact: each one's reason, joined. */
export class NoGoodSourceError extends Error {}

const firstLine = (error: unknown) => coerceError(error).message.split('\n')[0]!;

/**
 * What an earlier, cut-short copy left on the destination under this backup's names (a data
 * object without manifest, or a manifest beside a short data object) goes first: manifest, then
 * data, the same order retention deletes in, so nothing is ever listed half-way. The destination
 * only ever receives copies from this job, which holds the STATE_DIR lock, so these are its own.
 */
async function clearLeftovers(destination: Storage, manifest: Manifest): Promise<void> {
  try {
    await destination.delete(manifestKeyFor(manifest.key));
    await destination.delete(manifest.key);
  } catch (error) {
    throw new DestinationError(firstLine(error), { cause: error });
  }
}

/** sha256 of an object as stored, read back: proof of a copy the bytes never passed keepsake on the way in. */
async function storedDigest(storage: Storage, key: string, signal: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = await storage.read(key);
  signal.addEventListener('abort', () => stream.destroy(), { once: true });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function mismatch(manifest: Manifest, got: { sha256: string; bytes: number }): string | undefined {
  if (got.bytes !== manifest.storedBytes) return `${got.bytes} bytes where the manifest says ${manifest.storedBytes}`;
  if (got.sha256 !== manifest.sha256) return `sha256 ${got.sha256} where the manifest says ${manifest.sha256}`;
  return undefined;
}

/** Server-side copy, then read back and checked. Undefined when the two are not one service. */
async function copyInsideService(source: Storage, destination: Storage, manifest: Manifest, signal: AbortSignal): Promise<string | 'done' | undefined> {
  let copied: boolean;
  try {
    copied = (await destination.copyFrom?.(source, manifest.key, manifest.storedBytes)) ?? false;
  } catch (error) {
    throw new DestinationError(firstLine(error), { cause: error });
  }
  if (!copied) return undefined;
  let problem: string | undefined;
  try {
    problem = mismatch(manifest, await storedDigest(destination, manifest.key, signal));
  } catch (error) {
    problem = `its server-side copy could not be read back: ${firstLine(error)}`;
  }
  if (!problem) return 'done';
  await destination.delete(manifest.key).catch(() => undefined);
  return `corrupted on ${source.name}: ${problem}`;
}

/**
 * Streams the data object through a sha256 check into an exclusive writer, and ends the write only
 * when the bytes match the manifest: a mismatch aborts it, leaving nothing on the destination.
 * Resolves 'done', or why this source could not be used; throws when the destination failed.
 */
async function streamCopy(source: Storage, destination: Storage, manifest: Manifest, signal: AbortSignal): Promise<string | 'done'> {
  let input;
  try {
    input = await source.read(manifest.key);
  } catch (error) {
    return `cannot be read on ${source.name}: ${firstLine(error)}`;
  }
  let writer;
  try {
    writer = await destination.createWriter(manifest.key, { exclusive: true });
  } catch (error) {
    input.destroy();
    throw new DestinationError(firstLine(error), { cause: error });
  }
  // Failures surface through pipeline() and complete(); a late 'error' event must not crash the process.
  writer.stream.on('error', () => undefined);
  const digest = new DigestStream();
  try {
    // end: false: the writer is ended (and the object made visible) only once the hash matched.
    await pipeline(input, digest, writer.stream, { end: false, signal });
  } catch (error) {
    await writer.abort();
    if (signal.aborted) throw new InterruptedError('Off-site copy interrupted by shutdown; the partial copy was removed, nothing listed');
    if (writer.stream.errored) throw new DestinationError(firstLine(writer.explain(writer.stream.errored)), { cause: error });
    return `reading it on ${source.name} failed: ${firstLine(error)}`;
  }
  const problem = mismatch(manifest, digest);
  if (problem) {
    await writer.abort();
    return `corrupted on ${source.name}: ${problem}`;
  }
  writer.stream.end();
  try {
    await writer.complete();
  } catch (error) {
    await writer.abort();
    throw new DestinationError(firstLine(writer.explain(error)), { cause: error });
  }
  return 'done';
}

/**
 * Copies one complete backup to a destination that lacks it: from each source copy in turn,
 * one in the destination's own service first, then the cheapest to read, until one arrives intact (same bytes, same sha256 as the manifest), then the
 * manifest, last. Throws NoGoodSourceError when no source copy would do, DestinationError when
 * the destination failed, InterruptedError on shutdown; in each case nothing is left listed.
 */
export async function copyBackup(entry: CatalogEntry, destination: Storage, options: { signal: AbortSignal; log: Logger }): Promise<CopyDone> {
  const { manifest } = entry;
  const { signal, log } = options;
  await clearLeftovers(destination, manifest);
  const skipped: string[] = [];
  // A copy inside the destination's own service first (the bytes never cross the sidecar's network
  // on the way there), then the cheapest to read.
  const sources = copiesByReadCost(entry).sort((a, b) => Number(destination.canCopyFrom?.(b.storage) ?? false) - Number(destination.canCopyFrom?.(a.storage) ?? false));
  for (const { storage: source } of sources) {
    if (signal.aborted) throw new InterruptedError('Off-site copy interrupted by shutdown; nothing half-written is listed');
    let method: CopyDone['method'] = 'server-side';
    let outcome = await copyInsideService(source, destination, manifest, signal);
    if (outcome === undefined) {
      method = 'streamed';
      outcome = await streamCopy(source, destination, manifest, signal);
    }
    if (outcome !== 'done') {
      log.warn({ backup: `${manifest.tier}/${manifest.id}`, from: source.name, to: destination.name, problem: outcome }, 'source copy not used for the off-site copy');
      skipped.push(outcome);
      continue;
    }
    const copyManifest: Manifest = { ...manifest, targets: [{ target: destination.name, location: destination.location(manifest.key) }] };
    try {
      await writeManifests([destination], copyManifest, log);
    } catch (error) {
      throw new DestinationError(firstLine(error), { cause: error });
    }
    return { method, from: source.name, skipped };
  }
  throw new NoGoodSourceError(skipped.join('; '));
}
