import type { Logger } from '../log';
import type { Storage } from '../storage';
import { manifestKeyFor } from './keys';
import { serializeManifest, type Manifest } from './manifest';

/**
 * Writes the manifest on every target, never over another one: a second keepsake that backed up
 * the same database in the same second under the same name fails here (or earlier, at its data
 * object) instead of replacing the first. A backup exists on all configured targets or on none:
 * if one write fails, the manifests this run wrote are removed first (so the backup is unlisted
 * at once), then its data objects, and the error is rethrown. Nothing another run wrote is touched.
 */
export async function writeManifests(storages: Storage[], manifest: Manifest, log: Logger): Promise<void> {
  const manifestKey = manifestKeyFor(manifest.key);
  const body = serializeManifest(manifest);
  const results = await Promise.allSettled(storages.map((storage) => putNew(storage, manifestKey, body)));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (!failed) return;
  for (const [index, storage] of storages.entries()) {
    if (results[index]!.status === 'fulfilled') {
      await storage.delete(manifestKey).catch((error) => log.warn({ err: error, target: storage.name }, 'could not remove manifest after a failed backup'));
    }
    await storage.delete(manifest.key).catch((error) => log.warn({ err: error, target: storage.name }, 'could not remove data object after a failed backup'));
  }
  throw failed.reason;
}

/** put(), but failing with KeyTakenError rather than replacing an object already there. */
async function putNew(storage: Storage, key: string, body: Buffer): Promise<void> {
  const writer = await storage.createWriter(key, { exclusive: true });
  // A failure surfaces through complete(); the stream's own 'error' event must not crash the process.
  writer.stream.on('error', () => undefined);
  writer.stream.end(body);
  try {
    await writer.complete();
  } catch (error) {
    await writer.abort();
    throw writer.explain(error);
  }
}
