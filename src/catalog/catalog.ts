import { isManifestKey } from '../backup/keys';
import { parseManifest, type Manifest } from '../backup/manifest';
import type { Tier } from '../backup/keys';
import { NotFoundError, UsageError } from '../errors';
import type { Storage, StoredObject } from '../storage';

export interface BackupCopy {
  storage: Storage;
  /** Size of the data object as the target reports it. */
  size: number;
  /** Where the manifest that lists this copy was found: retention deletes exactly this key first. */
  manifestKey: string;
}

/** A listed backup: its manifest and every target that holds a complete copy of it. */
export interface CatalogEntry {
  manifest: Manifest;
  copies: BackupCopy[];
}

export interface Catalog {
  /** Newest first, by the manifest's start time (names can lie; manifests are written by us). */
  backups: CatalogEntry[];
  /** Manifests that could not be read or whose data object is missing or the wrong size. */
  problems: string[];
}

/**
 * Builds the list of backups from manifests on every target. A backup is listed only when its
 * manifest parses AND its data object exists with the recorded size: listed means complete.
 */
export async function readCatalog(storages: Storage[], options: { tier?: Tier } = {}): Promise<Catalog> {
  const byId = new Map<string, CatalogEntry>();
  const problems: string[] = [];
  for (const storage of storages) {
    const objects = new Map<string, StoredObject>();
    for await (const object of storage.list(options.tier ? `${options.tier}/` : '')) objects.set(object.key, object);
    const manifestKeys = [...objects.keys()].filter(isManifestKey);
    // Manifests are small; reading several at once keeps `list` quick on S3 with many backups.
    const bodies = await mapLimit(manifestKeys, 8, (key) => storage.readAll(key).catch(() => Buffer.alloc(0)));
    manifestKeys.forEach((manifestKey, index) => {
      const manifest = parseManifest(bodies[index]!);
      if (!manifest) {
        problems.push(`${storage.location(manifestKey)}: unreadable manifest, ignored`);
        return;
      }
      const data = objects.get(manifest.key);
      if (!data || data.size !== manifest.storedBytes) {
        problems.push(`${storage.location(manifest.key)}: data object ${data ? `is ${data.size} bytes, manifest says ${manifest.storedBytes}` : 'is missing'}; backup ${manifest.id} not listed on ${storage.name}`);
        return;
      }
      const entryKey = `${manifest.tier}/${manifest.id}`;
      const entry = byId.get(entryKey) ?? { manifest, copies: [] };
      entry.copies.push({ storage, size: data.size, manifestKey });
      byId.set(entryKey, entry);
    });
  }
  const backups = [...byId.values()].sort((a, b) => b.manifest.startedAt.localeCompare(a.manifest.startedAt) || b.manifest.id.localeCompare(a.manifest.id));
  return { backups, problems };
}

/** The copy to read: local ones first, they are the quickest. */
export function preferredCopy(entry: CatalogEntry): Storage {
  return (entry.copies.find((copy) => copy.storage.name === 'local') ?? entry.copies[0]!).storage;
}

/**
 * Finds one backup by what a user types: "latest", a list number ("3"), an id
 * ("app_20261122_020000") or tier/id when an id exists in two tiers.
 */
export function selectBackup(catalog: Catalog, selector: string, options: { database?: string } = {}): CatalogEntry {
  const { backups } = catalog;
  if (!backups.length) throw new NotFoundError('There are no backups yet; run `keepsake backup` first');
  if (selector === 'latest') {
    // "latest" means the newest real backup of this database: not a safety copy a restore made.
    const newest = backups.find((entry) => entry.manifest.tier !== 'pre-restore' && (!options.database || entry.manifest.database === options.database));
    if (!newest) throw new NotFoundError(`There are no backups of ${options.database ?? 'this database'} yet (pre-restore safety copies aside); run \`keepsake backup\` first`);
    return newest;
  }
  if (/^\d+$/.test(selector)) {
    const entry = backups[Number(selector) - 1];
    if (!entry) throw new NotFoundError(`There is no backup number ${selector}; \`keepsake list\` shows ${backups.length}`);
    return entry;
  }
  const matches = backups.filter((entry) => entry.manifest.id === selector || `${entry.manifest.tier}/${entry.manifest.id}` === selector);
  if (matches.length > 1) throw new UsageError(`"${selector}" is in several tiers; say which: ${matches.map((m) => `${m.manifest.tier}/${m.manifest.id}`).join(', ')}`);
  if (!matches[0]) throw new NotFoundError(`No backup "${selector}"; \`keepsake list\` shows the ids`);
  return matches[0];
}

/** Maps with at most `limit` calls in flight, keeping the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
