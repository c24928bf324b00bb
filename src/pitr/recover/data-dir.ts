import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Deps } from '../../deps';
import { NotFoundError, StorageError, UsageError, coerceError } from '../../errors';
import { formatBytes } from '../../format';
import type { Storage } from '../../storage';
import type { EncryptionConfig } from '../../config';
import { readWalFile, type ArchivedWal } from '../wal-archive';
import { parseWalName } from '../wal-names';
import { chooseBase, listArchivedWal, refuseGaps, walNeeded } from './choose-base';
import { extractBase } from './extract-base';
import { recoveryStorages } from './recover';
import { writeRecoverySettings } from './recovery-settings';
import { describeTarget, type RecoveryTarget } from './recovery-target';

async function refuseNonEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  if (entries.length) throw new UsageError(`--data-dir ${dir} is not empty (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''}): give an empty or new folder; nothing was written`);
}

/**
 * The WAL files to put in pg_wal: everything archived from the base's first segment on (PostgreSQL
 * stops at the target by itself; which segment holds a moment is not known in advance: a segment
 * shipped late after an outage was archived long after its writes); a partial goes under its
 * segment's name.
 */
function walToCopy(archived: readonly ArchivedWal[], startSegment: string): { file: ArchivedWal['file']; as: string }[] {
  const start = parseWalName(startSegment)!;
  const whole = new Set(archived.filter((entry) => entry.file.kind === 'segment').map((entry) => entry.file.name));
  return archived
    .filter((entry) => entry.file.kind === 'history' || (entry.file.timeline >= start.timeline && entry.file.segno! >= start.segno!))
    .filter((entry) => entry.file.kind !== 'partial' || !whole.has(entry.file.name.replace(/\.partial$/, '')))
    .map((entry) => ({ file: entry.file, as: entry.file.name.replace(/\.partial$/, '') }));
}

async function copyWal(storages: readonly Storage[], file: ArchivedWal['file'], path: string, encryption: EncryptionConfig): Promise<void> {
  const problems: string[] = [];
  for (const storage of storages) {
    const sink = createWriteStream(`${path}.tmp`, { mode: 0o600 });
    try {
      await readWalFile(storage, file, sink, encryption);
      await rename(`${path}.tmp`, path);
      return;
    } catch (error) {
      // This target lacks it or holds it damaged: close and drop the half-written copy before the next.
      sink.destroy();
      await rm(`${path}.tmp`, { force: true });
      problems.push(`${storage.name}: ${coerceError(error).message}`);
    }
  }
  throw new StorageError(`Cannot copy ${file.name} into ${path}: ${problems.join('; ')}`);
}

/**
 * restore --at ... --data-dir DIR: a data directory a PostgreSQL server of the base's major
 * recovers from by itself: the base backup unpacked, the WAL it needs in pg_wal/, recovery.signal,
 * and restore_command 'false' (PostgreSQL then reads pg_wal) with the target and promote.
 */
export async function writeDataDir(deps: Deps, request: { target: RecoveryTarget; from?: string; dir: string; signal?: AbortSignal }): Promise<{ lines: string[] }> {
  const dir = resolve(request.dir);
  await refuseNonEmpty(dir);
  const storages = recoveryStorages(deps.storages, request.from);
  const base = await chooseBase(storages, request.target);
  const archived = await listArchivedWal(storages);
  refuseGaps(base, walNeeded(archived, request.target, base.manifest.physical.startSegment), request.target, archived);
  const wal = walToCopy(archived, base.manifest.physical.startSegment);
  if (!wal.some((entry) => entry.file.kind !== 'history')) throw new NotFoundError(`No archived WAL after base backup ${base.manifest.id}: nothing to recover with`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await extractBase(base, dir, deps.config.encryption, undefined, request.signal);
  let bytes = 0;
  for (const entry of wal) {
    const path = join(dir, 'pg_wal', entry.as);
    await copyWal(storages, entry.file, path, deps.config.encryption);
    bytes += (await stat(path)).size;
  }
  await writeRecoverySettings(dir, 'false', request.target);
  const major = base.manifest.server!.major;
  return {
    lines: [
      `OK wrote ${dir}: base backup base/${base.manifest.id} and ${wal.length} WAL files (${formatBytes(bytes)}) up to ${wal[wal.length - 1]!.as}, recovering to ${describeTarget(request.target)}`,
      `  recovery.signal and postgresql.auto.conf: restore_command = 'false' (the WAL is in pg_wal/), ${request.target.kind === 'time' ? 'recovery_target_time, ' : ''}recovery_target_action = 'promote'`,
      'Next:',
      `  chown -R postgres:postgres ${dir}   # the user the server runs as (999:999 in the official image)`,
      `  start PostgreSQL ${major} on it (pg_ctl -D ${dir} start, or mount it as the server's data volume): it replays the WAL, promotes, and removes recovery.signal`,
      '  then remove the recovery lines keepsake appended to postgresql.auto.conf (restore_command, recovery_target_*)',
    ],
  };
}
