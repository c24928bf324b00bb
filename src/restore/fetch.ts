import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { startDecompressor } from '../backup/compress';
import { CountingStream, DigestStream } from '../backup/digest';
import type { Manifest } from '../backup/manifest';
import { InterruptedError, StorageError, VerifyError, coerceError } from '../errors';
import type { Storage } from '../storage';

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
export async function fetchArchive(storage: Storage, manifest: Manifest, path: string, signal?: AbortSignal): Promise<FetchedArchive> {
  const started = Date.now();
  const where = storage.location(manifest.key);
  const source = await storage.read(manifest.key);
  const stored = new DigestStream();
  const raw = new CountingStream();
  const codec = startDecompressor(manifest.compression.algorithm);
  const out = createWriteStream(path, { mode: 0o600, highWaterMark: 1024 * 1024 });
  let readError: unknown;
  let writeError: unknown;
  source.on('error', (error) => (readError ??= error));
  out.on('error', (error) => (writeError ??= error));
  const streams = await Promise.allSettled([pipeline(source, stored, codec.input, { signal }), pipeline(codec.output, raw, out, { signal })]);
  if (streams.some((result) => result.status === 'rejected')) {
    // Something broke mid-way: stop the decompressor instead of waiting on it (on success it
    // exits by itself, after checking its frame checksum).
    await codec.process?.terminate();
    out.destroy();
  }
  const codecResult = await codec.process?.finished;

  if (signal?.aborted) throw new InterruptedError(`Fetching ${where} was interrupted`);
  if (writeError) throw new StorageError(`Cannot write the decompressed archive to ${path}: ${coerceError(writeError).message}; free space or set RESTORE_WORK_DIR`, { cause: writeError });
  if (readError) throw readError instanceof StorageError ? readError : new StorageError(`Cannot read ${where}: ${coerceError(readError).message}`, { cause: readError });
  if (stored.bytes !== manifest.storedBytes) {
    throw new VerifyError(`${where} is ${stored.bytes} bytes, its manifest says ${manifest.storedBytes}: the backup is damaged or was cut short`);
  }
  if (stored.sha256 !== manifest.sha256) {
    throw new VerifyError(`checksum mismatch for ${where}: sha256 is ${stored.sha256}, its manifest says ${manifest.sha256}; the backup is damaged, use another one`);
  }
  if (codecResult && codecResult.exitCode !== 0 && codecResult.signal !== 'SIGKILL') {
    throw new VerifyError(`${where} does not decompress: ${codecResult.stderrTail.trim()}`);
  }
  if (raw.bytes !== manifest.rawBytes) {
    throw new VerifyError(`${where} decompresses to ${raw.bytes} bytes, its manifest says ${manifest.rawBytes}`);
  }
  return { path, rawBytes: raw.bytes, durationMs: Date.now() - started };
}
