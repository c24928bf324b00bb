import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EncryptionConfig } from '../../config';
import { checkDecryptionKeys } from '../../encryption/keys-check';
import { VerifyError, coerceError } from '../../errors';
import { spawnChild } from '../../process/run-process';
import { throwUnlessIntact } from '../../restore/fetch';
import { readArchive } from '../../restore/read-archive';
import type { ChosenBase } from './choose-base';

export interface ExtractedBase {
  dataDir: string;
  /** Which target it was read from. */
  from: string;
  durationMs: number;
}

/**
 * Unpacks a base backup into an empty `dataDir`: stored object -> [age] -> zstd -d -> `tar -x`, in
 * one streamed pass with no staging copy, checking the stored size and sha256 as it passes (a
 * damaged copy is refused, the next target is tried). tar runs as the cluster's owner, so every
 * file is the server's from the start.
 */
export async function extractBase(base: ChosenBase, dataDir: string, encryption: EncryptionConfig, owner?: { uid: number; gid: number }, signal?: AbortSignal): Promise<ExtractedBase> {
  const started = Date.now();
  await checkDecryptionKeys(base.manifest, encryption);
  const problems: string[] = [];
  for (const storage of base.storages) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (owner) await chown(dataDir, owner.uid, owner.gid);
    const tar = spawnChild('tar', ['-x', '-f', '-', '-C', dataDir], { ...owner, stdin: 'pipe', stdout: 'ignore' });
    const where = storage.location(base.manifest.key);
    try {
      const read = await readArchive(storage, base.manifest, tar.child.stdin!, { encryption, signal });
      throwUnlessIntact(read, base.manifest, where, { sink: `the base backup into ${dataDir}`, signal });
      await tar.succeeded();
      // -X none leaves pg_wal out; recovery writes the WAL it fetches there.
      await mkdir(join(dataDir, 'pg_wal'), { recursive: true, mode: 0o700 });
      if (owner) await chown(join(dataDir, 'pg_wal'), owner.uid, owner.gid);
      await chmod(dataDir, 0o700);
      return { dataDir, from: storage.name, durationMs: Date.now() - started };
    } catch (error) {
      await tar.terminate();
      if (!(error instanceof VerifyError) || signal?.aborted) throw error;
      problems.push(coerceError(error).message);
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  throw new VerifyError(`No intact copy of base backup ${base.manifest.id}: ${problems.join('; ')}`);
}
