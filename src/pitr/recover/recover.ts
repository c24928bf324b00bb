import { chown, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DatabaseConfig } from '../../config';
import type { Deps } from '../../deps';
import { UnavailableError, VerifyError } from '../../errors';
import { findPgBinaries } from '../../postgres/binaries';
import { removeOnExit } from '../../process/exit-cleanup';
import { clusterOwner } from '../../restore/ephemeral-postgres';
import { forgetFolder, noteFolder } from '../../state/run-record';
import { storagesFrom, type Storage } from '../../storage';
import { chooseBase, listArchivedWal, refuseGaps, walNeeded, type ChosenBase } from './choose-base';
import { extractBase } from './extract-base';
import { writeRecoverySettings } from './recovery-settings';
import { startRecoveringServer, waitForPromotion } from './recovery-server';
import { describeTarget, type RecoveryTarget } from './recovery-target';
import { startWalServer } from './wal-server';

export interface RecoveredCluster {
  base: ChosenBase;
  /** The recovered, promoted cluster: over its private socket, as the configured user. */
  database: DatabaseConfig;
  binDir: string;
  dataDir: string;
  /** The last replayed commit: the point the data stands at (null: no transaction after the base). */
  pointReached: Date | null;
  /** From starting the server to its promotion: the replay alone. */
  recoveryMs: number;
  /** Base unpacked, WAL replayed, promoted: everything. */
  totalMs: number;
  walServed: { files: number; bytes: number; lastName?: string };
  /** The newest WAL file archived. */
  archiveEnd?: string;
  stop(): Promise<void>;
}

/** The targets a recovery reads, cheapest first (--from: that one alone). */
export function recoveryStorages(storages: readonly Storage[], from?: string): Storage[] {
  return storagesFrom(storages, from).sort((a, b) => a.readCost - b.readCost);
}

/** The server binaries of exactly the base's major: physical files are read by their own major only. */
async function postgresBinDir(major: number, pgBinDir?: string): Promise<string> {
  const installed = await findPgBinaries('postgres', { pgBinDir });
  const fitting = installed.find((binary) => binary.major === major);
  if (!fitting) throw new UnavailableError(`Recovering a base backup of PostgreSQL ${major} needs the PostgreSQL ${major} server (postgres); ${installed.length ? `only ${installed.map((b) => b.major).join(', ')} installed` : 'none is installed'}: install postgresql-${major} or set PG_BIN_DIR`);
  return resolve(fitting.path, '..');
}

/**
 * Point-in-time recovery into a throwaway cluster under RESTORE_WORK_DIR: the newest base backup
 * finished by the target, its WAL checked for gaps, unpacked, and replayed by PostgreSQL itself with
 * keepsake serving the WAL, to the target, then promoted. The caller reads from it, then stop()s it
 * (which removes every file). The point reached is checked against the target.
 */
export interface RecoverRequest {
  target: RecoveryTarget;
  from?: string;
  signal?: AbortSignal;
  /** Runs on the unpacked base before any recovery setting is written (the restore test's pg_verifybackup). */
  afterExtract?: (dataDir: string, binDir: string) => Promise<void>;
}

export async function recoverToPoint(deps: Deps, request: RecoverRequest): Promise<RecoveredCluster> {
  const { config, log } = deps;
  const storages = recoveryStorages(deps.storages, request.from);
  const base = await chooseBase(storages, request.target);
  const archived = await listArchivedWal(storages);
  refuseGaps(base, walNeeded(archived, request.target, base.manifest.physical.startSegment), request.target, archived);
  const archiveEnd = archived.filter((entry) => entry.file.kind !== 'history').pop()?.file.name;
  const binDir = await postgresBinDir(base.manifest.server!.major, config.pgBinDir);
  const owner = await clusterOwner();

  const started = Date.now();
  const root = await mkdtemp(join(config.restore.workDir, 'keepsake-pitr-'));
  noteFolder(root, 'point-in-time recovery cluster');
  const unregister = removeOnExit(root);
  if (owner) await chown(root, owner.uid, owner.gid);
  const dataDir = join(root, 'data');
  const cleanups: (() => Promise<void>)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    unregister();
    forgetFolder(root);
  };
  try {
    const extracted = await extractBase(base, dataDir, config.encryption, owner, request.signal);
    log.info({ base: base.manifest.id, from: extracted.from, ms: extracted.durationMs }, 'base backup unpacked');
    await request.afterExtract?.(dataDir, binDir);
    const wal = await startWalServer({ storages, encryption: config.encryption, socketPath: join(root, 'wal.sock'), owner, log });
    cleanups.push(() => wal.close());
    const client = join(__dirname, 'wal-fetch-client.js');
    await writeRecoverySettings(dataDir, `"${process.execPath}" "${client}" "%f" "%p" "${wal.socketPath}"`, request.target, owner);
    const replayStarted = Date.now();
    const recovering = await startRecoveringServer({ binDir, root, dataDir, user: config.database.user, owner });
    cleanups.push(() => recovering.stop());
    const { pointReached } = await waitForPromotion(recovering, { signal: request.signal, archiveEnd: archiveEnd ?? 'its first segment' });
    const recoveryMs = Date.now() - replayStarted;
    if (wal.failures.length) throw new VerifyError(`WAL files could not be read from any target during recovery: ${wal.failures.join('; ')}`);
    if (request.target.kind === 'time' && pointReached && pointReached.getTime() > request.target.at.getTime()) {
      throw new VerifyError(`The recovered cluster stands at ${pointReached.toISOString()}, after the target ${describeTarget(request.target)}`);
    }
    log.info({ base: base.manifest.id, pointReached, recoveryMs, walFiles: wal.served.files }, 'point-in-time recovery done');
    return { base, database: recovering.database, binDir, dataDir, pointReached, recoveryMs, totalMs: Date.now() - started, walServed: wal.served, archiveEnd, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
