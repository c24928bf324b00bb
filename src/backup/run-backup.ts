import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { InterruptedError, KeepsakeError, StorageError, UnavailableError, coerceError } from '../errors';
import { chooseBinaryFor, findPgBinaries } from '../postgres/binaries';
import { connect, describeDatabase } from '../postgres/connection';
import { describeUnreadable, readUnreadable } from '../postgres/privileges';
import { exportSnapshot } from '../postgres/snapshot';
import type { ChildHandle } from '../process/run-process';
import { primaryStorages, type ObjectWriter, type Storage } from '../storage';
import type { CompressionAlgorithm, DumpContentsConfig } from '../config';
import { KEEPSAKE_VERSION } from '../version';
import type { Deps } from '../deps';
import { startCompression } from './compress';
import { DigestStream } from './digest';
import { dumpArgs, startDump } from './dump';
import { FailureWitness } from './failure';
import { FanOut } from './fan-out';
import { dataKey, idOfKey, manifestKeyFor, type Tier } from './keys';
import type { Manifest } from './manifest';
import { writeManifests } from './write-manifests';
import { readTocAsItPasses, type TocReader } from './toc';
import { inventoryAsKept, judgeArchiveContents, type BackupContents, type ContentsRequest } from './contents';
import { bufferReleaser } from '../process/memory';
import { encryptionOf, startEncryptor } from '../encryption/age-stages';

export interface BackupRequest {
  tier: Tier;
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

/**
 * One backup, start to finish:
 *   pre-flight (connect, server version, matching pg_dump)
 *   -> snapshot (REPEATABLE READ, exported) and row counts in it
 *   -> pg_dump --snapshot | compressor | sha256 | every target at once
 *   -> manifest, written last on every target.
 * Any failure kills the children, aborts every target's write and throws; nothing is listed.
 */
export async function runBackup(deps: BackupDeps, request: BackupRequest): Promise<Manifest> {
  try {
    return await backupOnce(deps, request);
  } catch (error) {
    // Every failure is logged once here, pre-flight ones included, whoever called.
    deps.log.error({ err: error, tier: request.tier, database: describeDatabase(deps.config.database) }, 'backup failed');
    throw error;
  }
}

async function backupOnce({ config, storages: targets, log, clock = () => new Date() }: BackupDeps, request: BackupRequest): Promise<Manifest> {
  // Off-site targets only receive copies, made later by the off-site job.
  const storages = primaryStorages(targets);
  const startedAt = clock();
  const startedMs = Date.now();
  const db = config.database;
  const client = await connect(db);
  let snapshot;
  try {
    await refuseUnreadable(client);
    snapshot = await exportSnapshot(client);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  const server = snapshot.server;
  const children: ChildHandle[] = [];
  const writers: ObjectWriter[] = [];
  const witness = new FailureWitness();
  let toc: TocReader | undefined;
  let failed = false;
  try {
    const [dumps, restores] = await Promise.all([findPgBinaries('pg_dump', { pgBinDir: config.pgBinDir }), findPgBinaries('pg_restore', { pgBinDir: config.pgBinDir })]);
    const pgDump = chooseBinaryFor('pg_dump', dumps, server.major);
    // Lists the archive's table of contents as it is stored: it must read what this pg_dump writes.
    const pgRestore = chooseBinaryFor('pg_restore', restores, pgDump.major);
    const encryption = encryptionOf(config.encryption);
    const key = await unusedKey(storages, request.tier, db.database, startedAt, config.compression.algorithm, Boolean(encryption));
    log.info({ database: describeDatabase(db), server: server.version, pgDump: pgDump.version, key, targets: storages.map((s) => s.name), encryption }, 'backup started');

    // Exclusive: a second keepsake that took the same name in the same second fails, never replaces this.
    for (const storage of storages) writers.push(await storage.createWriter(key, { exclusive: true }));
    const wanted = contentsWanted(config.dumpContents, request);
    const args = dumpArgs(snapshot.id, config.dumpExtraArgs, wanted);
    const compression = await startCompression(config.compression);
    children.push(...compression.processes);
    // age sits after the table-of-contents tap (which must read the plain archive) and before the hash.
    const encryptor = encryption && startEncryptor(encryption, config.encryption);
    if (encryptor) children.push(encryptor.process);
    const dump = startDump(pgDump, db, args, compression.dumpStdout);
    children.unshift(dump);
    for (const child of children) witness.watchChild(child);
    const pumped = compression.connect(dump);
    // Counting runs beside the dump, in the same snapshot, so it costs little extra time.
    const inventory = snapshot.readInventory({ countRows: !wanted.schemaOnly });
    witness.watchTask(inventory);
    const tocReader = readTocAsItPasses(config.compression.algorithm, pgRestore);
    toc = tocReader;

    const releaseBuffers = bufferReleaser();
    const stored = new DigestStream((storedBytes) => {
      releaseBuffers(storedBytes);
      request.onProgress?.({ storedBytes });
    });
    let contents: BackupContents | undefined;
    const fanOut = new FanOut(writers, async () => {
      await Promise.all([...children.map((child) => child.succeeded()), inventory]);
      contents = judgeArchiveContents(await tocReader.listing(), await inventory, wanted, describeDatabase(db));
    });
    // A count that failed fails the backup now, not after the whole dump has streamed by.
    inventory.catch((error: unknown) => fanOut.destroy(coerceError(error)));
    const onAbort = () => fanOut.destroy(new InterruptedError(`Backup interrupted by ${String(request.signal?.reason ?? 'shutdown')}; partial files removed, nothing listed`));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (request.signal?.aborted) onAbort();
      await Promise.all(
        encryptor
          ? [pumped, pipeline(compression.output, tocReader.tap, encryptor.input), pipeline(encryptor.output, stored, fanOut)]
          : [pumped, pipeline(compression.output, stored, tocReader.tap, fanOut)],
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
      database: db.database,
      host: db.host,
      key,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs,
      server: { version: server.version, major: server.major },
      pgDump: { version: pgDump.version, major: pgDump.major, args: args.filter((arg) => !arg.startsWith('--snapshot=')) },
      archiveFormat: 'custom',
      compression: { algorithm: config.compression.algorithm, level: config.compression.level },
      ...(encryption ? { encryption } : {}),
      // Only a backup that leaves something out says so: a full one reads as every older manifest.
      ...(contents!.schemaOnly || contents!.excludedTableData.length ? { contents } : {}),
      rawBytes,
      storedBytes: stored.bytes,
      sha256: stored.sha256,
      inventory: inventoryAsKept(await inventory, contents!),
      targets: storages.map((storage) => ({ target: storage.name, location: storage.location(key) })),
      keepsake: { version: KEEPSAKE_VERSION },
    };
    // Written last: from this moment on the backup is listed, and it is complete.
    await writeManifests(storages, manifest, log);
    log.info({ id: manifest.id, rawBytes: manifest.rawBytes, storedBytes: manifest.storedBytes, durationMs: manifest.durationMs }, 'backup finished');
    return manifest;
  } catch (error) {
    failed = true;
    await toc?.stop();
    const cause = await witness.blame(coerceError(error), children, { trustError: error instanceof StorageError || error instanceof InterruptedError });
    await Promise.all(writers.map((writer) => writer.abort(cause).catch((abortError) => log.warn({ err: abortError }, 'could not remove a partial copy'))));
    throw cause instanceof KeepsakeError ? cause : new KeepsakeError(`Backup of ${describeDatabase(db)} failed: ${cause.message}`, 'failed', { cause });
  } finally {
    await toc?.stop();
    await snapshot.release({ abandon: failed });
  }
}

/**
 * Pre-flight: a role that cannot read every table, sequence and large object would die mid-dump,
 * or fail a row count that pg_dump then reports as a snapshot it could not import.
 */
async function refuseUnreadable(client: pg.Client): Promise<void> {
  const problem = describeUnreadable(await readUnreadable(client));
  if (problem) throw new UnavailableError(problem);
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
async function unusedKey(storages: Storage[], tier: Tier, database: string, at: Date, compression: CompressionAlgorithm, encrypted: boolean): Promise<string> {
  for (let shift = 0; ; shift++) {
    const key = dataKey(tier, database, new Date(at.getTime() + shift * 1000), compression, encrypted);
    const names = new Set([key, manifestKeyFor(key)]);
    let taken = false;
    for (const storage of storages) {
      for await (const object of storage.list(key.slice(0, key.lastIndexOf('/') + 1) + idOfKey(key))) taken ||= names.has(object.key);
    }
    if (!taken) return key;
  }
}
