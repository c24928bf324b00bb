import { isManifestKey } from '../backup/keys';
import { parseManifest, sourceName, type Manifest } from '../backup/manifest';
import type { Tier } from '../backup/keys';
import { NotFoundError, UsageError, VerifyError } from '../errors';
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

/**
 * A copy whose manifest reads fine but whose data object is missing or not the size it records
 * (cut short): never listed, never restored, but nameable, so commands can say what is wrong with
 * it, and removed by cleanup like other leftovers once CLEANUP_INCOMPLETE_AFTER has passed.
 */
export interface IncompleteCopy {
  storage: Storage;
  manifest: Manifest;
  manifestKey: string;
  /** The data object as the target lists it, when there is one. */
  data?: StoredObject;
  /** The later of the manifest's and the data object's modification times: the copy's age. */
  modified: Date;
  /** What is wrong, e.g. "its data object is 812 bytes, its manifest says 4096 (cut short)". */
  problem: string;
}

export interface Catalog {
  /** Newest first, by the manifest's start time (names can lie; manifests are written by us). */
  backups: CatalogEntry[];
  /** Copies with a manifest but without their whole data object, on any target. */
  incomplete: IncompleteCopy[];
  /** Manifests that could not be read. */
  problems: string[];
}

/** Refuses a backup that has no complete copy anywhere, saying what is wrong with each copy. */
export class IncompleteBackupError extends VerifyError {
  constructor(readonly copies: IncompleteCopy[]) {
    const { tier, id } = copies[0]!.manifest;
    const what = copies.map((copy) => `on ${copy.storage.name}, ${copy.problem}`).join('; ');
    super(`Backup ${tier}/${id} is incomplete and cannot be used: ${what}. \`keepsake cleanup\` removes it once it is older than CLEANUP_INCOMPLETE_AFTER; \`keepsake list\` shows the complete backups`);
  }
}

const CLEANED_BY = '`keepsake cleanup` removes it once it is older than CLEANUP_INCOMPLETE_AFTER';

/** Why a data object does not match its manifest; undefined when it does. */
function dataProblem(manifest: Manifest, data: StoredObject | undefined): string | undefined {
  if (!data) return 'its data object is missing';
  if (data.size === manifest.storedBytes) return undefined;
  const why = data.size < manifest.storedBytes ? 'cut short' : 'not the object it describes';
  return `its data object is ${data.size} bytes, its manifest says ${manifest.storedBytes} (${why})`;
}

/** The warnings `list` and `cleanup` print: unreadable manifests, then every incomplete copy by name. */
export function catalogWarnings(catalog: Catalog, incomplete: IncompleteCopy[] = catalog.incomplete): string[] {
  const listed = new Set(catalog.backups.map(({ manifest }) => `${manifest.tier}/${manifest.id}`));
  const warnings = incomplete.map(({ storage, manifest, problem }) => {
    const name = `${manifest.tier}/${manifest.id}`;
    const where = storage.location(manifest.key);
    return listed.has(name)
      ? `backup ${name}: its copy on ${storage.name} is incomplete and not used: ${problem} (${where}); ${CLEANED_BY.replace('removes it', 'removes that copy')}`
      : `backup ${name} on ${storage.name} is incomplete and not listed: ${problem} (${where}). It cannot be restored; ${CLEANED_BY}`;
  });
  return [...catalog.problems, ...warnings];
}

/** The incomplete copies of a listed backup (a target where it was cut short while another has it whole). */
export function incompleteCopiesOf(catalog: Catalog, manifest: Manifest): IncompleteCopy[] {
  return catalog.incomplete.filter((copy) => copy.manifest.tier === manifest.tier && copy.manifest.id === manifest.id);
}

/**
 * Builds the list of backups from manifests on every target. A backup is listed only when its
 * manifest parses AND its data object exists with the recorded size: listed means complete.
 * Copies that fail the second test are kept aside as `incomplete`, by name, so they can be
 * explained and cleaned up rather than merely hidden.
 */
export async function readCatalog(storages: Storage[], options: { tier?: Tier } = {}): Promise<Catalog> {
  const byId = new Map<string, CatalogEntry>();
  const incomplete: IncompleteCopy[] = [];
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
      const problem = dataProblem(manifest, data);
      if (problem) {
        const written = objects.get(manifestKey)!.modified;
        const modified = data && data.modified > written ? data.modified : written;
        incomplete.push({ storage, manifest, manifestKey, data, modified, problem });
        return;
      }
      const entryKey = `${manifest.tier}/${manifest.id}`;
      const entry = byId.get(entryKey) ?? { manifest, copies: [] };
      entry.copies.push({ storage, size: manifest.storedBytes, manifestKey });
      byId.set(entryKey, entry);
    });
  }
  const backups = [...byId.values()].sort((a, b) => b.manifest.startedAt.localeCompare(a.manifest.startedAt) || b.manifest.id.localeCompare(a.manifest.id));
  return { backups, incomplete, problems };
}

/** A backup's copies, cheapest to read first (a local disk before a bucket); ties keep the targets' order. */
export function copiesByReadCost(entry: CatalogEntry): BackupCopy[] {
  return [...entry.copies].sort((a, b) => a.storage.readCost - b.storage.readCost);
}

/** The copy to read: the cheapest. */
export function preferredCopy(entry: CatalogEntry): Storage {
  return copiesByReadCost(entry)[0]!.storage;
}

/**
 * Finds one backup by what a user types: "latest", a list number ("3"), an id
 * ("app_20261122_020000") or tier/id when an id exists in two tiers. An id that names only
 * incomplete copies is refused with what is wrong with them (IncompleteBackupError, exit 65).
 */
export function selectBackup(catalog: Catalog, selector: string, options: { database?: string } = {}): CatalogEntry {
  const { backups } = catalog;
  const named = (manifest: Manifest) => manifest.id === selector || `${manifest.tier}/${manifest.id}` === selector;
  if (selector !== 'latest' && !/^\d+$/.test(selector)) {
    const matches = backups.filter((entry) => named(entry.manifest));
    if (matches.length > 1) throw new UsageError(`"${selector}" is in several tiers; say which: ${matches.map((m) => `${m.manifest.tier}/${m.manifest.id}`).join(', ')}`);
    if (matches[0]) return matches[0];
    const broken = catalog.incomplete.filter((copy) => named(copy.manifest));
    const tiers = [...new Set(broken.map((copy) => copy.manifest.tier))];
    if (tiers.length > 1) throw new UsageError(`"${selector}" is in several tiers; say which: ${tiers.map((tier) => `${tier}/${broken[0]!.manifest.id}`).join(', ')}`);
    if (broken.length) throw new IncompleteBackupError(broken);
  }
  if (!backups.length) {
    const broken = [...new Set(catalog.incomplete.map(({ manifest }) => `${manifest.tier}/${manifest.id}`))];
    if (broken.length) throw new NotFoundError(`There are no complete backups yet (${broken.join(', ')} ${broken.length === 1 ? 'is' : 'are'} incomplete: \`keepsake list\` says why); run \`keepsake backup\``);
    throw new NotFoundError('There are no backups yet; run `keepsake backup` first');
  }
  if (selector === 'latest') {
    // "latest" means the newest real backup of this source (`database`: a database's name, or globals): not a safety copy a
    // restore made, nor a base backup (those are restored to a time: restore --at).
    const newest = backups.find((entry) => entry.manifest.tier !== 'pre-restore' && entry.manifest.tier !== 'base' && (!options.database || sourceName(entry.manifest) === options.database));
    if (!newest) throw new NotFoundError(`There are no backups of ${options.database ?? 'this database'} yet (pre-restore safety copies aside); run \`keepsake backup\` first`);
    return newest;
  }
  if (/^\d+$/.test(selector)) {
    const entry = backups[Number(selector) - 1];
    if (!entry) throw new NotFoundError(`There is no backup number ${selector}; \`keepsake list\` shows ${backups.length}`);
    return entry;
  }
  throw new NotFoundError(`No backup "${selector}"; \`keepsake list\` shows the ids`);
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
