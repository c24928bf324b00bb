import { DATA_OBJECT, TIERS, manifestKeyFor, safeName, type Tier } from '../backup/keys';
import { mapLimit, readCatalog, type Catalog } from '../catalog/catalog';
import { sourceName, type Manifest } from '../backup/manifest';
import type { Storage, StoredObject } from '../storage';
import type { BackupFacts, LeftoverFacts, RecordFacts } from './plan';

/** A recovery-test record and the targets that hold a copy of it. */
export interface StoredRecord extends RecordFacts {
  storages: Storage[];
}

/** Everything retention looks at, read from every target; the planner then decides on it. */
export interface RetentionFacts {
  catalog: Catalog;
  backups: BackupFacts[];
  restoreTests: StoredRecord[];
  leftovers: LeftoverFacts[];
}

const RECORD = /^recovery-tests\/.+\.json$/;

/** Only keys in keepsake's own layout are ever candidates: BACKUP_DIR may hold other files. */
function inOurLayout(key: string): boolean {
  const top = key.split('/')[0]!;
  return (TIERS as readonly string[]).includes(top) || top === 'recovery-tests';
}

/**
 * Reads the catalog (listed backups: complete ones only; incomplete ones by name) and the raw
 * listing of every target, which is where other leftovers and recovery-test records show up. Lists each target twice
 * (catalog, then raw); that is one extra request per 1000 objects on S3 and keeps "listed means
 * complete" in one place, the catalog.
 */
export async function gatherFacts(storages: Storage[], sources: string | SourceSelection): Promise<RetentionFacts> {
  const catalog = await readCatalog(storages);
  const selection = typeof sources === 'string' ? { names: [sources] } : sources;
  const mine = (manifest: Pick<Manifest, 'source' | 'database' | 'host'>) => selection.names === 'all' ? manifest.host === selection.host || Boolean(selection.files?.includes(sourceName(manifest))) : selection.names.includes(sourceName(manifest));
  // Leftovers have no manifest to say whose they are: their file name does. With `all`, every source's.
  const names = selection.names === 'all' ? undefined : selection.names;
  // A listed data object is never a leftover, wherever its manifest sits.
  const listed = new Set(catalog.backups.flatMap(({ manifest, copies }) => copies.map((copy) => `${copy.storage.name}:${manifest.key}`)));
  const records = new Map<string, { object: StoredObject; storages: Storage[] }>();
  // An incomplete backup of this database: its manifest (first) and whatever data object there is.
  const leftovers: LeftoverFacts[] = catalog.incomplete
    .filter(({ manifest }) => mine(manifest))
    .map(({ storage, manifest, manifestKey, data, modified, problem }) => ({
      target: storage.name,
      key: manifestKey,
      kind: 'incomplete',
      modified: modified.getTime(),
      size: data?.size ?? 0,
      dataKey: data && !listed.has(`${storage.name}:${manifest.key}`) ? manifest.key : undefined,
      backup: `${manifest.tier}/${manifest.id}`,
      problem,
    }));
  for (const storage of storages) {
    const objects = new Map<string, StoredObject>();
    for await (const object of storage.list('')) objects.set(object.key, object);
    for (const object of objects.values()) {
      if (!inOurLayout(object.key)) continue;
      if (RECORD.test(object.key)) {
        const record = records.get(object.key) ?? { object, storages: [] };
        record.storages.push(storage);
        records.set(object.key, record);
      } else if (DATA_OBJECT.test(object.key) && ownedBy(object.key, names) && !objects.has(manifestKeyFor(object.key)) && !listed.has(`${storage.name}:${object.key}`)) {
        leftovers.push({ target: storage.name, key: object.key, kind: 'no-manifest', modified: object.modified.getTime(), size: object.size });
      }
    }
    if (storage.listTemporary) {
      for await (const object of storage.listTemporary('')) {
        if (inOurLayout(object.key) && ownedBy(object.key, names)) leftovers.push({ target: storage.name, key: object.key, kind: 'temp', modified: object.modified.getTime(), size: object.size });
      }
    }
  }
  const { restoreTests, failed, passed } = await readRecords([...records.values()], (name) => !names || names.includes(name));
  // Only this sidecar's sources: another one sharing the bucket has its own policy and failures.
  // Each source is its own group in the plan, as each database always was.
  const backups = catalog.backups.filter(({ manifest }) => mine(manifest)).map(({ manifest }) => ({
    id: manifest.id,
    tier: manifest.tier,
    database: sourceName(manifest),
    startedAt: manifest.startedAt,
    failedRestoreTest: failed.has(`${manifest.tier}/${manifest.id}`),
    passedRestoreTest: passed.has(`${manifest.tier}/${manifest.id}`),
  }));
  return { catalog, backups, restoreTests, leftovers };
}

interface RecordBody {
  startedAt?: unknown;
  ok?: unknown;
  backup?: { tier?: unknown; id?: unknown; database?: unknown; source?: unknown };
}

/** Whose backups retention looks at: named sources, or (POSTGRES_DB=all) every source of this host. */
export interface SourceSelection {
  names: readonly string[] | 'all';
  host?: string;
  /** With `all`: the SQLite files' names too (their backups are of this sidecar's files, not the server's host). */
  files?: readonly string[];
}

/**
 * Reads each record once (from the first target that has it) for its time and verdict. A record
 * that cannot be read still has an age: its object's modification time.
 * `failed` holds tier/id of the backups whose latest restore test failed.
 */
async function readRecords(found: { object: StoredObject; storages: Storage[] }[], ours: (source: string) => boolean): Promise<{ restoreTests: StoredRecord[]; failed: Set<string>; passed: Set<string> }> {
  const bodies = await mapLimit(found, 8, ({ object, storages }) => storages[0]!.readAll(object.key).then(parseRecord, () => undefined));
  const latest = new Map<string, { at: number; ok: boolean }>();
  const mine = found.map((record, index) => ({ ...record, body: bodies[index] })).filter(({ body }) => {
    // A record names its backup's source (records from before sources: its database).
    const source = body?.backup?.source ?? body?.backup?.database;
    return typeof source === 'string' && ours(source);
  });
  const restoreTests = mine.map(({ object, storages, body }) => {
    const startedAt = typeof body?.startedAt === 'string' ? Date.parse(body.startedAt) : NaN;
    const at = Number.isNaN(startedAt) ? object.modified.getTime() : startedAt;
    const tier = body?.backup?.tier;
    if (typeof body?.ok === 'boolean' && typeof tier === 'string' && (TIERS as readonly string[]).includes(tier) && typeof body.backup?.id === 'string') {
      const backup = `${tier as Tier}/${body.backup.id}`;
      if (!latest.has(backup) || latest.get(backup)!.at < at) latest.set(backup, { at, ok: body.ok });
    }
    return { key: object.key, at, storages };
  });
  const failed = new Set([...latest].filter(([, verdict]) => !verdict.ok).map(([backup]) => backup));
  const passed = new Set([...latest].filter(([, verdict]) => verdict.ok).map(([backup]) => backup));
  return { restoreTests, failed, passed };
}

/** Files named after one of these sources: `<name>_<YYYYMMDD>_<HHMMSS>.dump|.sql|.sqlite|.tar...` (ids use the file-safe name); any source's when unnamed. */
function ownedBy(key: string, names: readonly string[] | undefined): boolean {
  const file = key.split('/').pop()!;
  const pattern = names ? names.map((name) => safeName(name).replace(/[.]/g, '\\.')).join('|') : '.+';
  return new RegExp(`^(${pattern})_\\d{8}_\\d{6}\\.(dump|sql|sqlite|tar)`).test(file);
}

function parseRecord(body: Buffer): RecordBody | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' ? (value as RecordBody) : undefined;
  } catch {
    return undefined;
  }
}
