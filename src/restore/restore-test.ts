import { join } from 'node:path';
import { refuseBaseBackup } from '../pitr/base/not-a-dump';
import { backupId, restoreTestKey } from '../backup/keys';
import type { BackupContents } from '../backup/contents';
import type { Deps } from '../deps';
import { preferredCopy, readCatalog, selectBackup } from '../catalog/catalog';
import { InterruptedError, KeepsakeError, coerceError } from '../errors';
import { UsageError } from '../errors';
import { postgresFacts, sourceOf } from '../backup/manifest';
import { GLOBALS_NAME, defaultSourceName, sourceFor } from '../sources';
import { ROLES_NEED_OWN_CLUSTER, type OpenedScratch } from '../sources/source';
import { applyGlobalsNear } from '../sources/globals/with-globals';
import { statePaths } from '../state/paths';
import { primaryStorages, storagesFrom } from '../storage';
import { writeLatestRestoreTest } from '../state/restore-test-latest';
import { formatDuration } from '../format';
import type { TableCheck } from './check-restored';
import { fetchArchive } from './fetch';
import { openScratchDatabase, type ScratchDatabase } from './scratch-database';
import { withWorkDir } from './work-dir';
import { replayNewestBase, type ReplayResult } from '../pitr/recover/replay-test';

export interface RestoreTestResult {
  format: 1;
  ok: boolean;
  /** restore_test_<YYYYMMDD>_<HHMMSS> */
  id: string;
  startedAt: string;
  finishedAt: string;
  backup: { id: string; tier: string; database: string; source?: string; startedAt: string; sha256: string; storedBytes: number; rawBytes: number; location: string; contents?: BackupContents };
  restoredInto?: string;
  /** Streamed download + sha256 check + decompression, then pg_restore, then the row-count check. */
  timings: { fetchMs?: number; restoreMs?: number; verifyMs?: number; totalMs: number };
  restoredBytes?: number;
  tables: TableCheck[];
  /** PITR=on: the newest base backup replayed with all archived WAL (src/pitr/recover/replay-test.ts). */
  replay?: ReplayResult;
  problems: string[];
  notes: string[];
  error?: string;
}

export interface RestoreTestRequest {
  selector: string;
  /** --from NAME: only that target's copies are considered. */
  from?: string;
  /** --db NAME: the source whose backup `latest` means (default: the configured database). */
  db?: string;
  /** --with-globals: apply the globals backed up nearest in time first, then restore with owners and grants. */
  withGlobals?: boolean;
  signal?: AbortSignal;
}

/**
 * Proves a backup restores: fetch (size and sha256 checked), decompress, pg_restore -j into a
 * scratch database, then check every table's row count against the manifest. The scratch
 * database and the work directory are removed whatever happens. The result is recorded on every
 * target and in STATE_DIR, passed or failed: a failed restore test is news worth keeping.
 */
export async function runRestoreTest(deps: Deps, request: RestoreTestRequest): Promise<{ result: RestoreTestResult; failure?: Error }> {
  const { config, storages, log } = deps;
  const started = new Date();
  const timeout = AbortSignal.timeout(config.restore.testTimeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;

  const entry = selectBackup(await readCatalog(storagesFrom(storages, request.from)), request.selector, { database: request.db ?? defaultSourceName(config) });
  const { manifest } = entry;
  refuseBaseBackup(manifest, 'restore-test');
  const source = sourceFor(config, sourceOf(manifest), manifest.database);
  const storage = preferredCopy(entry);
  const result: RestoreTestResult = {
    format: 1,
    ok: false,
    id: backupId('restore_test', started),
    startedAt: started.toISOString(),
    finishedAt: '',
    backup: { id: manifest.id, tier: manifest.tier, database: manifest.database, source: source.name, startedAt: manifest.startedAt, sha256: manifest.sha256, storedBytes: manifest.storedBytes, rawBytes: manifest.rawBytes, location: storage.location(manifest.key), ...(manifest.contents ? { contents: manifest.contents } : {}) },
    timings: { totalMs: 0 },
    tables: [],
    problems: [],
    notes: [],
  };
  log.info({ backup: `${manifest.tier}/${manifest.id}`, from: result.backup.location }, 'restore test started');

  let failure: Error | undefined;
  const interrupted = () =>
    request.signal?.aborted
      ? new InterruptedError(`Restore test interrupted by ${String(request.signal.reason)}; scratch database removed`)
      : new KeepsakeError(`Restore test stopped: it took longer than ${formatDuration(config.restore.testTimeoutMs)} (RESTORE_TEST_TIMEOUT); scratch database removed`);
  const throwIfInterrupted = () => {
    if (signal.aborted) throw interrupted();
  };
  await withWorkDir(config, async (workDir) => {
    // The scratch server starts while the archive downloads: both take a while, neither needs the other.
    // A source with a scratch target of its own (a SQLite file's scratch copy) needs no server.
    const opening = source.openScratch?.(workDir) ?? openScratchDatabase(config, postgresFacts(manifest).server.major, result.id.replace('restore_test_', '')).then(asOpenedScratch);
    opening.catch(() => undefined);
    try {
      const fetched = await fetchArchive(storage, manifest, join(workDir, 'archive.dump'), config.encryption, signal);
      result.timings.fetchMs = fetched.durationMs;
      throwIfInterrupted();
      const scratch = await opening;
      result.restoredInto = scratch.describe;
      throwIfInterrupted();
      const { target } = scratch;
      const globalsNotes: string[] = [];
      if (request.withGlobals && source.name !== GLOBALS_NAME) {
        if (!target.admin) throw new UsageError(ROLES_NEED_OWN_CLUSTER);
        const applied = await applyGlobalsNear(deps, manifest, target.admin, { from: request.from, scratch: true, signal });
        globalsNotes.push(`globals ${applied.id} applied first; owners and grants restored as backed up`, ...applied.notes);
        throwIfInterrupted();
      }
      result.timings.restoreMs = await source.restoreScratch(fetched.path, target, manifest, { jobs: config.restore.jobs, keepOwnership: Boolean(request.withGlobals), signal });
      throwIfInterrupted();
      const verifyStarted = Date.now();
      const check = await source.verifyRestored(target, manifest);
      result.timings.verifyMs = Date.now() - verifyStarted;
      Object.assign(result, { ok: check.ok, tables: check.tables, problems: check.problems, notes: [...globalsNotes, ...check.notes], restoredBytes: check.restoredBytes });
      // PITR: the dumps' database also proves its point-in-time recovery; that failing fails the test.
      if (config.pitr.enabled && source.kind === 'postgres' && source.name === config.database.database) {
        result.replay = await replayNewestBase(deps, { from: request.from, dump: manifest, signal });
        if (!result.replay) result.notes.push('PITR is on but there is no base backup yet: point-in-time recovery was not tested (`keepsake base-backup`)');
        else if (!result.replay.ok) Object.assign(result, { ok: false, problems: [...result.problems, `point-in-time recovery of base backup ${result.replay.base.id}: ${result.replay.error ?? result.replay.problems.join('; ')}`] });
      }
    } catch (error) {
      failure = signal.aborted ? interrupted() : coerceError(error);
      result.error = failure.message;
      // A stop asked for by the operator is not a result; a timeout is one (the backup took too long to prove).
      if (request.signal?.aborted) throw failure;
    } finally {
      const scratch = await opening.catch(() => undefined);
      await scratch?.dispose().catch((error) => log.warn({ err: error }, 'could not remove the scratch database'));
      result.finishedAt = new Date().toISOString();
      result.timings.totalMs = Date.now() - started.getTime();
    }
  });
  await recordResult(deps, result);
  log[result.ok ? 'info' : 'error']({ id: result.id, ok: result.ok, problems: result.problems, error: result.error, timings: result.timings }, 'restore test finished');
  return { result, failure };
}

const asOpenedScratch = (scratch: ScratchDatabase): OpenedScratch => ({ target: { database: scratch.database, admin: scratch.admin }, describe: scratch.describe, dispose: scratch.dispose });

/**
 * On every primary target (for history and other hosts) and in STATE_DIR (for health and reports). A
 * place that cannot take it is logged, not fatal: the test's verdict stands either way.
 */
async function recordResult({ config, storages, log }: Deps, result: RestoreTestResult): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(result, null, 2)}\n`);
  const key = restoreTestKey(new Date(result.startedAt));
  for (const storage of primaryStorages(storages)) {
    await storage.put(key, body).catch((error) => log.error({ err: error, target: storage.name }, 'could not store the restore test result'));
  }
  await writeLatestRestoreTest(config.stateDir, body).catch((error) => log.error({ err: error, path: statePaths.latestRestoreTest(config.stateDir) }, 'could not write the restore test result to STATE_DIR; make it writable'));
}
