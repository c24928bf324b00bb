import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { startDecompressor } from '../backup/compress';
import { CountingStream, DigestStream } from '../backup/digest';
import type { Manifest } from '../backup/manifest';
import { VerifyError, coerceError } from '../errors';
import type { Storage } from '../storage';

export interface FetchedArchive {
  path: string;
  rawBytes: number;
  durationMs: number;
}

/**
 * Downloads a backup and decompresses it to a local file in one streamed pass, checking the
 * stored size and sha256 on the way. pg_restore -j needs a seekable file, hence the file.
 * Throws VerifyError on any mismatch: a damaged backup is never restored.
 */
export async function fetchArchive(storage: Storage, manifest: Manifest, path: string, signal?: AbortSignal): Promise<FetchedArchive> {
  const started = Date.now();
  const stored = new DigestStream();
  const raw = new CountingStream();
  const codec = startDecompressor(manifest.compression.algorithm);
  const out = createWriteStream(path, { mode: 0o600, highWaterMark: 1024 * 1024 });
  const where = storage.location(manifest.key);
  const source = await storage.read(manifest.key);
  const streams = await Promise.allSettled([pipeline(source, stored, codec.input, { signal }), pipeline(codec.output, raw, out, { signal })]);
  if (signal?.aborted) await codec.process?.terminate();
  const codecResult = await codec.process?.finished;
  const failed = streams.find((result): result is PromiseRejectedResult => result.status === 'rejected');

  if (stored.bytes !== manifest.storedBytes) {
    throw new VerifyError(`${where} is ${stored.bytes} bytes, its manifest says ${manifest.storedBytes}: the backup is damaged or was cut short`);
  }
  if (stored.sha256 !== manifest.sha256) {
    throw new VerifyError(`checksum mismatch for ${where}: sha256 is ${stored.sha256}, its manifest says ${manifest.sha256}; the backup is damaged, use another one`);
  }
  if (codecResult && codecResult.exitCode !== 0) {
    throw new VerifyError(`${where} does not decompress: ${codecResult.stderrTail.trim()}`);
  }
  if (failed) throw new VerifyError(`could not fetch ${where}: ${coerceError(failed.reason).message}`, { cause: failed.reason });
  if (raw.bytes !== manifest.rawBytes) {
    throw new VerifyError(`${where} decompresses to ${raw.bytes} bytes, its manifest says ${manifest.rawBytes}`);
  }
  return { path, rawBytes: raw.bytes, durationMs: Date.now() - started };
}
