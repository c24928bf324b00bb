import { createWriteStream } from 'node:fs';
import type { Manifest } from '../backup/manifest';
import type { EncryptionConfig } from '../config';
import { checkDecryptionKeys } from '../encryption/keys-check';
import { ConfigError, InterruptedError, StorageError, VerifyError, coerceError } from '../errors';
import type { Storage } from '../storage';
import { readArchive, type ArchiveRead } from './read-archive';

export interface FetchedArchive {
  path: string;
  rawBytes: number;
  durationMs: number;
}

/**
 * Downloads a backup and decompresses it to a local file in one streamed pass, checking the
 * stored size and sha256 on the way. pg_restore -j needs a seekable file, hence the file.
 *
 * Verdicts, in order: interrupted; could not write the local file (ours, not the backup's fault);
 * could not read the stored object (storage); only then size, sha256, decompression and raw size,
 * which mean the backup itself is damaged (VerifyError). A damaged backup is never restored.
 */
export async function fetchArchive(storage: Storage, manifest: Manifest, path: string, encryption: EncryptionConfig, signal?: AbortSignal): Promise<FetchedArchive> {
  const started = Date.now();
  const where = storage.location(manifest.key);
  // An encrypted backup without the key to it is refused before anything is downloaded.
  await checkDecryptionKeys(manifest, encryption);
  const read = await readArchive(storage, manifest, createWriteStream(path, { mode: 0o600, highWaterMark: 1024 * 1024 }), { signal, encryption });
  throwUnlessIntact(read, manifest, where, { sink: `the decompressed archive to ${path}`, signal });
  return { path, rawBytes: read.rawBytes, durationMs: Date.now() - started };
}

/**
 * The verdicts on one read of a stored backup, in order: interrupted; could not write to the sink
 * (ours, not the backup's fault); could not read the stored object (storage); only then size,
 * sha256, decryption, decompression and raw size, which mean the backup itself is damaged.
 */
export function throwUnlessIntact(read: ArchiveRead, manifest: Manifest, where: string, options: { sink: string; signal?: AbortSignal }): void {
  const { readError, writeError, codec: codecResult } = read;

  if (options.signal?.aborted) throw new InterruptedError(`Fetching ${where} was interrupted`);
  if (writeError) throw new StorageError(`Cannot write ${options.sink}: ${coerceError(writeError).message}; free space or set RESTORE_WORK_DIR`, { cause: writeError });
  if (readError) throw readError instanceof StorageError ? readError : new StorageError(`Cannot read ${where}: ${coerceError(readError).message}`, { cause: readError });
  if (read.storedBytes !== manifest.storedBytes) {
    throw new VerifyError(`${where} is ${read.storedBytes} bytes, its manifest says ${manifest.storedBytes}: the backup is damaged or was cut short`);
  }
  if (read.sha256 !== manifest.sha256) {
    throw new VerifyError(`checksum mismatch for ${where}: sha256 is ${read.sha256}, its manifest says ${manifest.sha256}; the backup is damaged, use another one`);
  }
  const decrypted = read.decrypt;
  if (decrypted && decrypted.exitCode !== 0 && decrypted.signal !== 'SIGKILL') {
    const said = decrypted.stderrTail.trim();
    // The stored bytes are the ones backed up (sha256 matched): the key is wrong, not the backup.
    if (/no identity matched|incorrect passphrase|wrong passphrase/i.test(said)) {
      throw new ConfigError([`${where} does not decrypt with the configured ${'recipients' in manifest.encryption! ? 'AGE_IDENTITY_FILE' : 'AGE_PASSPHRASE'} (${said}): configure the key it was encrypted with`]);
    }
    throw new VerifyError(`${where} does not decrypt: ${said}`);
  }
  if (codecResult && codecResult.exitCode !== 0 && codecResult.signal !== 'SIGKILL') {
    throw new VerifyError(`${where} does not decompress: ${codecResult.stderrTail.trim()}`);
  }
  if (read.rawBytes !== manifest.rawBytes) {
    throw new VerifyError(`${where} decompresses to ${read.rawBytes} bytes, its manifest says ${manifest.rawBytes}`);
  }
}
