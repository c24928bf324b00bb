import { pipeline } from 'node:stream/promises';
import { InterruptedError, KeepsakeError, StorageError, coerceError } from '../errors';
import type { ChildHandle } from '../process/run-process';
import { primaryStorages, type ObjectWriter, type Storage } from '../storage';
import type { CompressionAlgorithm, DumpContentsConfig } from '../config';
import { KEEPSAKE_VERSION } from '../version';
import type { Deps } from '../deps';
import { startCompression } from './compress';
import { DigestStream } from './digest';
import { FailureWitness } from './failure';
import { FanOut } from './fan-out';
import { dataKey, idOfKey, manifestKeyFor, type ObjectFormat, type Tier } from './keys';
import type { Manifest } from './manifest';
import { writeManifests } from './write-manifests';
import { inventoryAsKept, type BackupContents, type ContentsRequest } from './contents';
import { bufferReleaser } from '../process/memory';
import { encryptionOf, startEncryptor } from '../encryption/age-stages';
import type { FinalFacts, Source, SourceSnapshot, StoredCheck } from '../sources/source';
import { postgresSource } from '../sources/postgres/postgres-source';

export interface BackupRequest {
  tier: Tier;
  /** What to back up; the configured connection's database when unset. */
  source?: Source;
  /** keepsake backup --schema-only (a manual backup); scheduled tiers follow BACKUP_SCHEMA_ONLY_TIERS. */
  schemaOnly?: boolean;
  /** Aborting kills the children and removes everything written (SIGINT, SIGTERM, shutdown). */
  signal?: AbortSignal;
  onProgress?: (progress: { storedBytes: number }) => void;
}

export interface BackupDeps extends Deps {
  /** The time a backup is named after; tests and the scheduler may pass their own. */
  clock?: () => Date;
}

/** The configured connection's database as a source: what a backup without one is of. */
export function defaultSource(config: BackupDeps['config']): Source {
  return postgresSource({ db: config.database, dumpExtraArgs: config.dumpExtraArgs, pgBinDir: config.pgBinDir, compression: config.compression.algorithm });
}

/**
 * One backup of one source, start to finish:
 *   snapshot (pre-flight, a consistent snapshot, the dump tool) and its inventory beside the dump
 *   -> dump | compressor | [stored-bytes check] | [age] | sha256 | every target at once
 *   -> manifest, written last on every target.
 * Any failure kills the children, aborts every target's write and throws; nothing is listed.
 * Nothing here depends on the source's kind.
 */
export async function runBackup(deps: BackupDeps, request: BackupRequest): Promise<Manifest> {
  const source = request.source ?? defaultSource(deps.config);
  try {
    return await backupOnce(deps, request, source);
  } catch (error) {
    // Every failure is logged once here, pre-flight ones included, whoever called.
    deps.log.error({ err: error, tier: request.tier, source: source.describe() }, 'backup failed');
    throw error;
  }
}

async function backupOnce({ config, storages: targets, log, clock = () => new Date() }: BackupDeps, request: BackupRequest, source: Source): Promise<Manifest> {
  // Off-site targets only receive copies, made later by the off-site job.
  const storages = primaryStorages(targets);
  const startedAt = clock();
  const startedMs = Date.now();
  const wanted = contentsWanted(config.dumpContents, request);
  const snapshot: SourceSnapshot = await source.snapshot({ contents: wanted });
  const children: ChildHandle[] = [];
  const writers: ObjectWriter[] = [];
  const witness = new FailureWitness();
  let check: StoredCheck | undefined;
  let failed = false;
  try {
    const { facts } = snapshot;
    const encryption = encryptionOf(config.encryption);
    const key = await unusedKey(storages, request.tier, source, startedAt, config.compression.algorithm, Boolean(encryption));
    log.info({ source: source.describe(), server: facts.server?.version, dumpTool: facts.pgDump?.version ?? facts.sqlite?.version, key, targets: storages.map((s) => s.name), encryption }, 'backup started');

    // Exclusive: a second keepsake that took the same name in the same second fails, never replaces this.
    for (const storage of storages) writers.push(await storage.createWriter(key, { exclusive: true }));
    const compression = await startCompression(config.compression);
    children.push(...compression.processes);
    // age sits after the stored-bytes check (which must read the plain archive) and before the hash.
    const encryptor = encryption && startEncryptor(encryption, config.encryption);
    if (encryptor) children.push(encryptor.process);
    const dump = snapshot.dump(compression.dumpStdout);
    children.unshift(dump);
    for (const child of children) witness.watchChild(child);
    const pumped = compression.connect(dump);
    // Counting runs beside the dump, in the same snapshot, so it costs little extra time.
    const inventory = snapshot.readInventory();
    witness.watchTask(inventory);
    const storedCheck = snapshot.checkStored?.();
    check = storedCheck;

    const releaseBuffers = bufferReleaser();
    const stored = new DigestStream((storedBytes) => {
      releaseBuffers(storedBytes);
      request.onProgress?.({ storedBytes });
    });
    // What the stored bytes hold, as the check found it: what was left out on purpose, if anything.
    let contents: BackupContents | undefined;
    let finalFacts: FinalFacts = {};
    const fanOut = new FanOut(writers, async () => {
      await Promise.all([...children.map((child) => child.succeeded()), inventory]);
      contents = (await storedCheck?.verify(await inventory)) ?? undefined;
      finalFacts = (await snapshot.finalFacts?.()) ?? {};
    });
    // A count that failed fails the backup now, not after the whole dump has streamed by.
    inventory.catch((error: unknown) => fanOut.destroy(coerceError(error)));
    const onAbort = () => fanOut.destroy(new InterruptedError(`Backup interrupted by ${String(request.signal?.reason ?? 'shutdown')}; partial files removed, nothing listed`));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (request.signal?.aborted) onAbort();
      const taps = storedCheck ? [storedCheck.tap] : [];
      await Promise.all(
        encryptor
          ? [pumped, pipeline([compression.output, ...taps, encryptor.input]), pipeline(encryptor.output, stored, fanOut)]
          : [pumped, pipeline([compression.output, stored, ...taps, fanOut])],
      );
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
    const rawBytes = await compression.rawBytes();

    // Duration measured, not derived from `clock` (which names the backup and may be a test's).
    const durationMs = Date.now() - startedMs;
    const finishedAt = new Date(startedAt.getTime() + durationMs);
    const manifest: Manifest = {
      format: 1,
      id: idOfKey(key),
      tier: request.tier,
      source: { kind: source.kind, name: source.name },
      database: facts.database,
      host: facts.host,
      key,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs,
      ...(facts.server ? { server: facts.server } : {}),
      ...(facts.pgDump ? { pgDump: facts.pgDump } : {}),
      ...(facts.sqlite ? { sqlite: facts.sqlite } : {}),
      archiveFormat: facts.archiveFormat,
      ...(finalFacts.physical ? { physical: finalFacts.physical } : {}),
      ...(facts.rolePasswords === undefined ? {} : { rolePasswords: facts.rolePasswords }),
      compression: { algorithm: config.compression.algorithm, level: config.compression.level },
      ...(encryption ? { encryption } : {}),
      // Only a backup that leaves something out says so: a full one reads as every older manifest.
      ...(contents && (contents.schemaOnly || contents.excludedTableData.length) ? { contents } : {}),
      rawBytes,
      storedBytes: stored.bytes,
      sha256: stored.sha256,
      inventory: contents ? inventoryAsKept(await inventory, contents) : await inventory,
      targets: storages.map((storage) => ({ target: storage.name, location: storage.location(key) })),
      keepsake: { version: KEEPSAKE_VERSION },
    };
    // Written last: from this moment on the backup is listed, and it is complete.
    await writeManifests(storages, manifest, log);
    log.info({ id: manifest.id, rawBytes: manifest.rawBytes, storedBytes: manifest.storedBytes, durationMs: manifest.durationMs }, 'backup finished');
    return manifest;
  } catch (error) {
    failed = true;
    await check?.stop();
    const cause = await witness.blame(coerceError(error), children, { trustError: error instanceof StorageError || error instanceof InterruptedError });
    await Promise.all(writers.map((writer) => writer.abort(cause).catch((abortError) => log.warn({ err: abortError }, 'could not remove a partial copy'))));
    throw cause instanceof KeepsakeError ? cause : new KeepsakeError(`Backup of ${source.describe()} failed: ${cause.message}`, 'failed', { cause });
  } finally {
    await check?.stop();
    await snapshot.release({ abandon: failed });
  }
}

/**
 * A pre-restore safety copy is always whole: it is what puts the database back if a restore fails.
 * Manual backups are schema-only when asked; scheduled tiers as BACKUP_SCHEMA_ONLY_TIERS says.
 */
function contentsWanted(config: DumpContentsConfig, request: BackupRequest): ContentsRequest {
  if (request.tier === 'pre-restore') return { schemaOnly: false, excludeTableData: [] };
  const schemaOnly = Boolean(request.schemaOnly) || (config.schemaOnlyTiers as readonly string[]).includes(request.tier);
  return { schemaOnly, excludeTableData: config.excludeTableData };
}

/**
 * Names are per second: a second backup of the same database and tier within one second takes the
 * next free second (a data object left by a crashed run takes its name too). Two runs that check
 * at the same moment both see it free: the exclusive writes settle that.
 */
async function unusedKey(storages: Storage[], tier: Tier, source: { name: string; format: ObjectFormat }, at: Date, compression: CompressionAlgorithm, encrypted: boolean): Promise<string> {
  for (let shift = 0; ; shift++) {
    const key = dataKey(tier, source.name, new Date(at.getTime() + shift * 1000), compression, encrypted, source.format);
    const names = new Set([key, manifestKeyFor(key)]);
    let taken = false;
    for (const storage of storages) {
      for await (const object of storage.list(key.slice(0, key.lastIndexOf('/') + 1) + idOfKey(key))) taken ||= names.has(object.key);
    }
    if (!taken) return key;
  }
}
