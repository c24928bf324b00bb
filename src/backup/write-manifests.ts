import type { Logger } from '../log';
import type { Storage } from '../storage';
import { manifestKeyFor } from './keys';
import { serializeManifest, type Manifest } from './manifest';

/**
 * Writes the manifest on every target. A backup exists on all configured targets or on none: if
 * one write fails, the manifests already written are removed first (so the backup is unlisted at
 * once), then the data objects, and the error is rethrown.
 */
export async function writeManifests(storages: Storage[], manifest: Manifest, log: Logger): Promise<void> {
  const manifestKey = manifestKeyFor(manifest.key);
  const body = serializeManifest(manifest);
  const results = await Promise.allSettled(storages.map((storage) => storage.put(manifestKey, body)));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (!failed) return;
  for (const storage of storages) {
    await storage.delete(manifestKey).catch((error) => log.warn({ err: error, target: storage.name }, 'could not remove manifest after a failed backup'));
    await storage.delete(manifest.key).catch((error) => log.warn({ err: error, target: storage.name }, 'could not remove data object after a failed backup'));
  }
  throw failed.reason;
}
